//! AES block modes for PKCS#11 encryption: ECB and CBC without padding, CBC with PKCS#7
//! padding, and CTR with a PKCS#11 counter width (`CK_AES_CTR_PARAMS`), all incremental
//! (`C_EncryptUpdate`/`C_EncryptFinal`) for 16-, 24- and 32-byte keys.
//!
//! AWS-LC does every block operation; this module only keeps the state between calls: the
//! partial block not yet processed, the CBC chaining value, the CTR counter and unused
//! keystream. Buffered data is zeroed when dropped, and so are AWS-LC's key schedules.

use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128,
    AES_192, AES_256,
};
use aws_lc_rs::iv::FixedLength;
use zeroize::Zeroizing;

use super::error::CryptoError;

/// The AES block length in bytes.
pub const AES_BLOCK_LEN: usize = 16;

/// Whether an operation encrypts or decrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Encrypt,
    Decrypt,
}

/// An AES mode and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AesMode {
    /// `CKM_AES_ECB`: no padding, data a multiple of the block length.
    Ecb,
    /// `CKM_AES_CBC`: no padding, data a multiple of the block length.
    Cbc { iv: [u8; AES_BLOCK_LEN] },
    /// `CKM_AES_CBC_PAD`: PKCS#7 padding (1 to 16 bytes, always added).
    CbcPad { iv: [u8; AES_BLOCK_LEN] },
    /// `CKM_AES_CTR`: the low `counter_bits` bits (1 to 128) of `block` are a big-endian
    /// counter; the rest is a fixed nonce.
    Ctr {
        counter_bits: u32,
        block: [u8; AES_BLOCK_LEN],
    },
}

impl AesMode {
    /// The PKCS#11 name of the mechanism, as error texts show it.
    pub fn name(&self) -> &'static str {
        match self {
            AesMode::Ecb => "CKM_AES_ECB",
            AesMode::Cbc { .. } => "CKM_AES_CBC",
            AesMode::CbcPad { .. } => "CKM_AES_CBC_PAD",
            AesMode::Ctr { .. } => "CKM_AES_CTR",
        }
    }
}

/// The AWS-LC key of an AES mode.
enum Engine {
    Encrypt(EncryptingKey),
    Decrypt(DecryptingKey),
}

/// The CTR counter: the next counter block and how many blocks the counter still allows.
struct Counter {
    bits: u32,
    next: u128,
    /// Blocks left before the counter would wrap past 2^bits; `None` for all 2^128 (a
    /// 128-bit counter starting at zero).
    left: Option<u128>,
    /// Keystream of the last block not yet used (a partial block's rest).
    unused: Zeroizing<Vec<u8>>,
}

impl Counter {
    fn new(bits: u32, block: [u8; AES_BLOCK_LEN]) -> Result<Counter, CryptoError> {
        if !(1..=128).contains(&bits) {
            return Err(CryptoError::CounterBits { bits });
        }
        let next = u128::from_be_bytes(block);
        let mask = u128::MAX >> (128 - bits);
        Ok(Counter {
            bits,
            next,
            left: (mask - (next & mask)).checked_add(1),
            unused: Zeroizing::new(Vec::new()),
        })
    }

    /// Takes `n` counter blocks, refusing to wrap the counter.
    fn take(&mut self, n: u128) -> Result<u128, CryptoError> {
        let first = self.next;
        if n == 0 {
            return Ok(first);
        }
        self.left = match self.left {
            Some(left) if n > left => {
                return Err(CryptoError::CounterExhausted { bits: self.bits })
            }
            Some(left) => Some(left - n),
            None => Some(u128::MAX - (n - 1)),
        };
        self.next = self.next.wrapping_add(n);
        Ok(first)
    }
}

/// An incremental AES encryption or decryption in one of the [`AesMode`]s.
pub struct AesStream {
    mode: AesMode,
    direction: Direction,
    engine: Engine,
    /// CBC: the chaining value (the IV, then the last ciphertext block).
    chain: [u8; AES_BLOCK_LEN],
    counter: Option<Counter>,
    /// Input not processed yet: a partial block, and for CBC-PAD decryption the last block.
    pending: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for AesStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AesStream")
            .field("mechanism", &self.mode.name())
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

fn unbound(key: &[u8]) -> Result<UnboundCipherKey, CryptoError> {
    let algorithm = match key.len() {
        16 => &AES_128,
        24 => &AES_192,
        32 => &AES_256,
        len => return Err(CryptoError::AesKeyLength { len }),
    };
    UnboundCipherKey::new(algorithm, key).map_err(|_| CryptoError::failed("AES key setup failed"))
}

impl AesStream {
    /// A new operation under the raw AES key `key` (16, 24 or 32 bytes).
    pub fn new(key: &[u8], mode: AesMode, direction: Direction) -> Result<AesStream, CryptoError> {
        let setup = |_| CryptoError::failed("AES key setup failed");
        let key = unbound(key)?;
        let (engine, chain, counter) = match (&mode, direction) {
            (AesMode::Ecb, Direction::Encrypt) => (
                Engine::Encrypt(EncryptingKey::ecb(key).map_err(setup)?),
                [0; AES_BLOCK_LEN],
                None,
            ),
            (AesMode::Ecb, Direction::Decrypt) => (
                Engine::Decrypt(DecryptingKey::ecb(key).map_err(setup)?),
                [0; AES_BLOCK_LEN],
                None,
            ),
            (AesMode::Cbc { iv } | AesMode::CbcPad { iv }, Direction::Encrypt) => (
                Engine::Encrypt(EncryptingKey::cbc(key).map_err(setup)?),
                *iv,
                None,
            ),
            (AesMode::Cbc { iv } | AesMode::CbcPad { iv }, Direction::Decrypt) => (
                Engine::Decrypt(DecryptingKey::cbc(key).map_err(setup)?),
                *iv,
                None,
            ),
            // CTR is its own inverse: both directions encrypt counter blocks.
            (
                AesMode::Ctr {
                    counter_bits,
                    block,
                },
                _,
            ) => (
                Engine::Encrypt(EncryptingKey::ecb(key).map_err(setup)?),
                [0; AES_BLOCK_LEN],
                Some(Counter::new(*counter_bits, *block)?),
            ),
        };
        Ok(AesStream {
            mode,
            direction,
            engine,
            chain,
            counter,
            pending: Zeroizing::new(Vec::new()),
        })
    }

    /// The PKCS#11 name of the mechanism.
    pub fn name(&self) -> &'static str {
        self.mode.name()
    }

    /// Whether this operation encrypts or decrypts.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The most bytes [`update`](Self::update) returns for `input` more bytes.
    pub fn update_len(&self, input: usize) -> usize {
        if self.counter.is_some() {
            return input;
        }
        let total = self.pending.len().saturating_add(input);
        let whole = total - total % AES_BLOCK_LEN;
        match (&self.mode, self.direction) {
            (AesMode::CbcPad { .. }, Direction::Decrypt) if whole == total => {
                whole.saturating_sub(AES_BLOCK_LEN)
            }
            _ => whole,
        }
    }

    /// The most bytes [`finish`](Self::finish) returns.
    pub fn finish_len(&self) -> usize {
        match self.mode {
            AesMode::CbcPad { .. } => AES_BLOCK_LEN,
            _ => 0,
        }
    }

    /// Processes `data`, returning the output of every block now complete. ECB and CBC keep a
    /// partial block for the next call; CBC-PAD decryption also keeps the last whole block,
    /// which may hold the padding, until [`finish`](Self::finish).
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if self.counter.is_some() {
            return self.ctr(data);
        }
        self.pending.extend_from_slice(data);
        let ready = self.update_len(0);
        let mut out = self.pending[..ready].to_vec();
        self.pending.drain(..ready);
        self.blocks(&mut out)?;
        Ok(out)
    }

    /// Ends the operation: the padded last block (CBC-PAD encryption), the unpadded plaintext
    /// of the last block (CBC-PAD decryption), or nothing. Data that does not fill a block is
    /// an error where the mode has no padding.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        match (&self.mode, self.direction) {
            (AesMode::Ctr { .. }, _) => Ok(Vec::new()),
            (AesMode::CbcPad { .. }, Direction::Encrypt) => {
                pad(&mut self.pending, AES_BLOCK_LEN);
                let mut out = std::mem::take(&mut *self.pending);
                self.blocks(&mut out)?;
                Ok(out)
            }
            (AesMode::CbcPad { .. }, Direction::Decrypt) => {
                if self.pending.len() != AES_BLOCK_LEN {
                    return Err(self.not_blocks(self.pending.len()));
                }
                let mut last = Zeroizing::new(std::mem::take(&mut *self.pending));
                self.blocks(&mut last)?;
                unpad(&last, self.mode.name()).map(<[u8]>::to_vec)
            }
            _ if self.pending.is_empty() => Ok(Vec::new()),
            _ => Err(self.not_blocks(self.pending.len())),
        }
    }

    /// `update` and `finish` over all of `data` (`C_Encrypt`/`C_Decrypt`).
    pub fn single(mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        // A single-part call is refused whole, not after some of its blocks.
        let whole_blocks = match self.mode {
            AesMode::Ecb | AesMode::Cbc { .. } => true,
            AesMode::CbcPad { .. } => self.direction == Direction::Decrypt,
            AesMode::Ctr { .. } => false,
        };
        if whole_blocks && !data.len().is_multiple_of(AES_BLOCK_LEN) {
            return Err(self.not_blocks(data.len()));
        }
        let mut out = self.update(data)?;
        out.extend(self.finish()?);
        Ok(out)
    }

    fn not_blocks(&self, len: usize) -> CryptoError {
        CryptoError::BlockMultiple {
            mechanism: self.mode.name(),
            what: match self.direction {
                Direction::Encrypt => "data",
                Direction::Decrypt => "ciphertext",
            },
            len,
        }
    }

    /// ECB or CBC over whole blocks, in place, carrying the CBC chaining value on.
    fn blocks(&mut self, buf: &mut [u8]) -> Result<(), CryptoError> {
        if buf.is_empty() {
            return Ok(());
        }
        let failed = |_| CryptoError::failed("AES operation failed");
        let cbc = matches!(self.mode, AesMode::Cbc { .. } | AesMode::CbcPad { .. });
        let last_block = |b: &[u8]| -> [u8; AES_BLOCK_LEN] {
            let mut block = [0; AES_BLOCK_LEN];
            block.copy_from_slice(&b[b.len() - AES_BLOCK_LEN..]);
            block
        };
        match &self.engine {
            Engine::Encrypt(key) => {
                let context = if cbc {
                    EncryptionContext::Iv128(FixedLength::from(self.chain))
                } else {
                    EncryptionContext::None
                };
                key.less_safe_encrypt(buf, context).map_err(failed)?;
                if cbc {
                    self.chain = last_block(buf);
                }
            }
            Engine::Decrypt(key) => {
                let next_chain = last_block(buf);
                let context = if cbc {
                    DecryptionContext::Iv128(FixedLength::from(self.chain))
                } else {
                    DecryptionContext::None
                };
                key.decrypt(buf, context).map_err(failed)?;
                self.chain = next_chain;
            }
        }
        Ok(())
    }

    /// CTR over `data`: the unused keystream first, then fresh counter blocks.
    fn ctr(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let Some(counter) = self.counter.as_mut() else {
            return Err(CryptoError::failed("not a CTR operation"));
        };
        let Engine::Encrypt(key) = &self.engine else {
            return Err(CryptoError::failed("not a CTR operation"));
        };
        let mut out = data.to_vec();
        let reuse = counter.unused.len().min(out.len());
        for (byte, k) in out.iter_mut().zip(counter.unused.drain(..reuse)) {
            *byte ^= k;
        }
        let rest = &mut out[reuse..];
        if rest.is_empty() {
            return Ok(out);
        }
        let blocks = rest.len().div_ceil(AES_BLOCK_LEN);
        let first = counter.take(blocks as u128)?;
        let mut stream = Zeroizing::new(Vec::with_capacity(blocks * AES_BLOCK_LEN));
        for i in 0..blocks {
            stream.extend_from_slice(&first.wrapping_add(i as u128).to_be_bytes());
        }
        key.less_safe_encrypt(&mut stream, EncryptionContext::None)
            .map_err(|_| CryptoError::failed("AES operation failed"))?;
        for (byte, k) in rest.iter_mut().zip(stream.iter()) {
            *byte ^= k;
        }
        counter.unused.extend_from_slice(&stream[rest.len()..]);
        Ok(out)
    }
}

/// PKCS#7 padding of `data` to a multiple of `block_len` (8 or 16): 1 to `block_len` bytes,
/// each the count, always added.
pub(super) fn pad(data: &mut Vec<u8>, block_len: usize) {
    let pad = block_len - data.len() % block_len;
    // `pad` is 1 to 16: it fits a byte.
    data.resize(data.len() + pad, pad as u8);
}

/// The plaintext of the decrypted last block `last` without its PKCS#7 padding, which must
/// be valid for the block length (`last.len()`).
pub(super) fn unpad<'a>(last: &'a [u8], mechanism: &'static str) -> Result<&'a [u8], CryptoError> {
    let block_len = last.len();
    let pad = last.last().map_or(0, |&b| usize::from(b));
    let valid = (1..=block_len).contains(&pad)
        && last[block_len - pad..]
            .iter()
            .all(|&b| usize::from(b) == pad);
    if !valid {
        return Err(CryptoError::Decrypt {
            mechanism,
            detail: "the padding is invalid (wrong key or IV, or damaged data)".into(),
        });
    }
    Ok(&last[..block_len - pad])
}
