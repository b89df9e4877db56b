//! Triple DES (DES-EDE3, three independent 8-byte DES keys, the only DES3 AWS CloudHSM keeps):
//! key generation with odd parity, the check value, and the PKCS#11 block modes
//! `CKM_DES3_ECB`, `CKM_DES3_CBC` and `CKM_DES3_CBC_PAD`, incremental as
//! [`AesStream`](super::AesStream) is.
//!
//! AWS-LC does not expose 3DES: the block function is RustCrypto's `des` crate (`TdesEde3`,
//! key schedule zeroed when dropped); this module does the CBC chaining and the padding.

use des::cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::TdesEde3;
use zeroize::Zeroizing;

use super::error::CryptoError;
use super::modes::{pad, unpad, Direction};
use super::symmetric::{SecretKey, SecretKind};
use crate::hsm::Entropy;

/// The length of a DES3 key in bytes (192 bits, parity bits included).
pub const DES3_KEY_LEN: usize = 24;
/// The DES block length in bytes.
pub const DES3_BLOCK_LEN: usize = 8;

/// Sets the low bit of every byte so that each byte has an odd number of one bits (FIPS 46-3:
/// the parity bits of a DES key). The block function ignores them.
pub fn set_odd_parity(key: &mut [u8]) {
    for byte in key {
        let high = *byte & 0xfe;
        *byte = high | (u8::from(high.count_ones() % 2 == 0));
    }
}

/// The key schedule of a 24-byte DES3 key.
fn engine(key: &[u8]) -> Result<TdesEde3, CryptoError> {
    if key.len() != DES3_KEY_LEN {
        return Err(CryptoError::Des3KeyLength { len: key.len() });
    }
    TdesEde3::new_from_slice(key).map_err(|_| CryptoError::Des3KeyLength { len: key.len() })
}

/// The DES3 check value: the first 3 bytes of the DES3-ECB encryption of one zero block
/// (spec SPEC-KEYS §A.4).
pub(super) fn des3_check_value(key: &[u8]) -> Result<[u8; 3], CryptoError> {
    let mut block = Block::<TdesEde3>::default();
    engine(key)?.encrypt_block(&mut block);
    Ok([block[0], block[1], block[2]])
}

/// A new DES3 key drawn from `entropy`, its parity bits set as the HSM generates them.
pub fn generate_des3(entropy: &mut Entropy) -> Result<SecretKey, CryptoError> {
    let mut bytes = vec![0u8; DES3_KEY_LEN];
    entropy.fill(&mut bytes);
    set_odd_parity(&mut bytes);
    SecretKey::new(SecretKind::Des3, bytes)
}

/// A DES3 mode and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Des3Mode {
    /// `CKM_DES3_ECB`: no padding, data a multiple of 8 bytes.
    Ecb,
    /// `CKM_DES3_CBC`: no padding, data a multiple of 8 bytes.
    Cbc { iv: [u8; DES3_BLOCK_LEN] },
    /// `CKM_DES3_CBC_PAD`: PKCS#7 padding (1 to 8 bytes, always added).
    CbcPad { iv: [u8; DES3_BLOCK_LEN] },
}

impl Des3Mode {
    /// The PKCS#11 name of the mechanism, as error texts show it.
    pub fn name(&self) -> &'static str {
        match self {
            Des3Mode::Ecb => "CKM_DES3_ECB",
            Des3Mode::Cbc { .. } => "CKM_DES3_CBC",
            Des3Mode::CbcPad { .. } => "CKM_DES3_CBC_PAD",
        }
    }
}

/// An incremental DES3 encryption or decryption in one of the [`Des3Mode`]s.
pub struct Des3Stream {
    mode: Des3Mode,
    direction: Direction,
    engine: TdesEde3,
    /// CBC: the chaining value (the IV, then the last ciphertext block).
    chain: [u8; DES3_BLOCK_LEN],
    /// Input not processed yet: a partial block, and for CBC-PAD decryption the last block.
    pending: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Des3Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Des3Stream")
            .field("mechanism", &self.mode.name())
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

impl Des3Stream {
    /// A new operation under the raw 24-byte DES3 key `key`.
    pub fn new(
        key: &[u8],
        mode: Des3Mode,
        direction: Direction,
    ) -> Result<Des3Stream, CryptoError> {
        let chain = match &mode {
            Des3Mode::Ecb => [0; DES3_BLOCK_LEN],
            Des3Mode::Cbc { iv } | Des3Mode::CbcPad { iv } => *iv,
        };
        Ok(Des3Stream {
            engine: engine(key)?,
            mode,
            direction,
            chain,
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

    fn padded(&self) -> bool {
        matches!(self.mode, Des3Mode::CbcPad { .. })
    }

    /// The most bytes [`update`](Self::update) returns for `input` more bytes.
    pub fn update_len(&self, input: usize) -> usize {
        let total = self.pending.len().saturating_add(input);
        let whole = total - total % DES3_BLOCK_LEN;
        if self.padded() && self.direction == Direction::Decrypt && whole == total {
            whole.saturating_sub(DES3_BLOCK_LEN)
        } else {
            whole
        }
    }

    /// The most bytes [`finish`](Self::finish) returns.
    pub fn finish_len(&self) -> usize {
        if self.padded() {
            DES3_BLOCK_LEN
        } else {
            0
        }
    }

    /// Processes `data`, returning the output of every block now complete (CBC-PAD
    /// decryption keeps the last whole block, which may hold the padding, until
    /// [`finish`](Self::finish)).
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.pending.extend_from_slice(data);
        let ready = self.update_len(0);
        let mut out = self.pending[..ready].to_vec();
        self.pending.drain(..ready);
        self.blocks(&mut out);
        Ok(out)
    }

    /// Ends the operation: the padded last block (CBC-PAD encryption), the unpadded
    /// plaintext of the last block (CBC-PAD decryption), or nothing. Data that does not fill
    /// a block is an error where the mode has no padding.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        match (self.padded(), self.direction) {
            (true, Direction::Encrypt) => {
                pad(&mut self.pending, DES3_BLOCK_LEN);
                let mut out = std::mem::take(&mut *self.pending);
                self.blocks(&mut out);
                Ok(out)
            }
            (true, Direction::Decrypt) => {
                if self.pending.len() != DES3_BLOCK_LEN {
                    return Err(self.not_blocks(self.pending.len()));
                }
                let mut last = Zeroizing::new(std::mem::take(&mut *self.pending));
                self.blocks(&mut last);
                unpad(&last, self.mode.name()).map(<[u8]>::to_vec)
            }
            _ if self.pending.is_empty() => Ok(Vec::new()),
            _ => Err(self.not_blocks(self.pending.len())),
        }
    }

    /// `update` and `finish` over all of `data` (`C_Encrypt`/`C_Decrypt`).
    pub fn single(mut self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        // A single-part call is refused whole, not after some of its blocks.
        let whole_blocks = !self.padded() || self.direction == Direction::Decrypt;
        if whole_blocks && !data.len().is_multiple_of(DES3_BLOCK_LEN) {
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

    /// ECB or CBC over the whole blocks of `buf`, in place, carrying the chaining value on.
    fn blocks(&mut self, buf: &mut [u8]) {
        let cbc = !matches!(self.mode, Des3Mode::Ecb);
        let (blocks, _) = Block::<TdesEde3>::slice_as_chunks_mut(buf);
        for block in blocks {
            match self.direction {
                Direction::Encrypt => {
                    if cbc {
                        xor(block, &self.chain);
                    }
                    self.engine.encrypt_block(block);
                    self.chain.copy_from_slice(block);
                }
                Direction::Decrypt => {
                    let mut ciphertext = [0u8; DES3_BLOCK_LEN];
                    ciphertext.copy_from_slice(block);
                    self.engine.decrypt_block(block);
                    if cbc {
                        xor(block, &self.chain);
                    }
                    self.chain = ciphertext;
                }
            }
        }
    }
}

fn xor(block: &mut [u8], with: &[u8; DES3_BLOCK_LEN]) {
    for (b, w) in block.iter_mut().zip(with) {
        *b ^= w;
    }
}
