//! Key derivation: the ECDH shared secret, ANSI X9.63's KDF over it (RFC 8418 §2.1), and
//! NIST SP 800-108's KDF in counter mode with an HMAC or AES-CMAC PRF, in the input layouts
//! AWS's PKCS#11 library takes.

use super::ec::EcPrivateKey;
use super::error::CryptoError;
use super::sign::HashFunction;

/// The ECDH shared secret `Z` of `key` and a peer's point (SEC 1 uncompressed or compressed):
/// the x-coordinate of their product, as long as the curve's field.
pub fn ecdh(key: &EcPrivateKey, peer: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
    let ops = key.curve().ecdsa_ops().ok_or(CryptoError::WrongKeyType {
        mechanism: "ecdh",
        needed: "an EC private key on a Weierstrass curve (not ed25519)",
    })?;
    (ops.ecdh)(key.secret(), peer)
        .map(zeroize::Zeroizing::new)
        .map_err(|e| CryptoError::invalid("EC public", format!("{} ({e})", key.curve().name())))
}

/// ANSI X9.63's KDF: `H(Z || counter || SharedInfo)` for counters 1, 2, ... (32-bit
/// big-endian), concatenated and cut to `len` bytes.
pub fn x963(
    hash: HashFunction,
    z: &[u8],
    shared_info: &[u8],
    len: usize,
) -> zeroize::Zeroizing<Vec<u8>> {
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(len + hash.output_len()));
    let mut counter: u32 = 1;
    while out.len() < len {
        let block = [z, &counter.to_be_bytes(), shared_info].concat();
        out.extend_from_slice(&hash.digest(&block));
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

/// The PRF of SP 800-108.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    Hmac(HashFunction),
    /// AES-CMAC: the key is an AES key.
    AesCmac,
}

impl Prf {
    fn output_len(self) -> usize {
        match self {
            Prf::Hmac(hash) => hash.output_len(),
            Prf::AesCmac => 16,
        }
    }

    fn compute(self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Prf::Hmac(hash) => Ok(super::cipher::hmac(hash, key, data)),
            Prf::AesCmac => {
                use aws_lc_rs::cmac;
                let algorithm = match key.len() {
                    16 => cmac::AES_128,
                    24 => cmac::AES_192,
                    32 => cmac::AES_256,
                    len => return Err(CryptoError::AesKeyLength { len }),
                };
                let key = cmac::Key::new(algorithm, key)
                    .map_err(|_| CryptoError::failed("the AES-CMAC key was refused"))?;
                Ok(cmac::sign(&key, data)
                    .map_err(|_| CryptoError::failed("AES-CMAC failed"))?
                    .as_ref()
                    .to_vec())
            }
        }
    }
}

/// One part of SP 800-108's fixed input, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Bytes as given (a label, a context, a separator).
    Bytes(Vec<u8>),
    /// The iteration counter, big-endian, `bits` wide (8, 16, 24 or 32).
    Counter { bits: u32 },
    /// L, the length of the derived material in bits, big-endian, `bits` wide (8 to 64).
    Length { bits: u32 },
}

/// SP 800-108's KDF in counter mode: `PRF(key, input(i))` for i = 1, 2, ..., where `input`
/// is `layout` with the counter and L in place, concatenated and cut to `len` bytes.
pub fn counter_kdf(
    prf: Prf,
    key: &[u8],
    layout: &[Segment],
    len: usize,
) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
    let bad = |detail: &str| CryptoError::Kdf {
        detail: detail.to_string(),
    };
    let counter_bits = match layout
        .iter()
        .filter_map(|s| match s {
            Segment::Counter { bits } => Some(*bits),
            _ => None,
        })
        .collect::<Vec<_>>()[..]
    {
        [bits] if [8, 16, 24, 32].contains(&bits) => bits,
        [_] => return Err(bad("the counter is 8, 16, 24 or 32 bits wide")),
        _ => return Err(bad("the fixed input holds the counter exactly once")),
    };
    let blocks = len.div_ceil(prf.output_len());
    if blocks as u64 >= 1u64 << counter_bits {
        return Err(bad("the counter is too narrow for the length asked"));
    }
    let l_bits = (len as u64) * 8;
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(blocks * prf.output_len()));
    for i in 1..=blocks as u64 {
        let mut input = Vec::new();
        for segment in layout {
            match segment {
                Segment::Bytes(b) => input.extend_from_slice(b),
                Segment::Counter { bits } => input.extend_from_slice(&be(i, *bits)),
                Segment::Length { bits } => {
                    if !(8..=64).contains(bits) || bits % 8 != 0 {
                        return Err(bad("L is 8 to 64 bits wide, in bytes"));
                    }
                    if *bits < 64 && l_bits >= 1u64 << *bits {
                        return Err(bad("L does not fit its width"));
                    }
                    input.extend_from_slice(&be(l_bits, *bits));
                }
            }
        }
        out.extend_from_slice(&prf.compute(key, &input)?);
    }
    out.truncate(len);
    Ok(out)
}

/// The low `bits` bits of `n`, big-endian.
fn be(n: u64, bits: u32) -> Vec<u8> {
    let bytes = (bits / 8) as usize;
    n.to_be_bytes()[8 - bytes..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_default())
            .collect()
    }

    /// The counter goes where the layout puts it, 8 bits wide, before each PRF block.
    #[test]
    fn the_counter_is_placed_as_the_layout_says() {
        let key = [3u8; 32];
        let hmac = Prf::Hmac(HashFunction::Sha256);
        let layout = [
            Segment::Bytes(b"pre".to_vec()),
            Segment::Counter { bits: 16 },
            Segment::Length { bits: 32 },
        ];
        let out = counter_kdf(hmac, &key, &layout, 40)
            .map(|o| o.to_vec())
            .ok();
        let block = |i: u8| {
            super::super::cipher::hmac(
                HashFunction::Sha256,
                &key,
                &[b"pre".as_slice(), &[0, i], &[0, 0, 1, 64]].concat(),
            )
        };
        let expected = [block(1), block(2)[..8].to_vec()].concat();
        assert_eq!(out, Some(expected));
    }

    /// RFC 4493 §4's AES-CMAC example 2 is the PRF of one block: the KDF with a layout that is
    /// the message after an 8-bit counter of 1 gives CMAC(K, 0x01 || M).
    #[test]
    fn aes_cmac_prf_matches_aws_lc() {
        let key = unhex("2b7e151628aed2a6abf7158809cf4f3c");
        let out = counter_kdf(
            Prf::AesCmac,
            &key,
            &[
                Segment::Counter { bits: 8 },
                Segment::Bytes(b"label".to_vec()),
            ],
            16,
        )
        .map(|o| o.to_vec());
        let direct = Prf::AesCmac.compute(&key, b"\x01label");
        assert_eq!(out.ok(), direct.ok());
    }

    /// RFC 8418-style X9.63: one block of SHA-256 over Z || 00000001 || info.
    #[test]
    fn x963_is_hash_of_z_counter_info() {
        let z = [7u8; 32];
        let out = x963(HashFunction::Sha256, &z, b"info", 40);
        let first = HashFunction::Sha256.digest(&[&z[..], &[0, 0, 0, 1], b"info"].concat());
        let second = HashFunction::Sha256.digest(&[&z[..], &[0, 0, 0, 2], b"info"].concat());
        assert_eq!(&out[..32], &first[..]);
        assert_eq!(&out[32..], &second[..8]);
    }

    #[test]
    fn layouts_that_cannot_work_are_refused() {
        let key = [1u8; 32];
        let hmac = Prf::Hmac(HashFunction::Sha256);
        assert!(counter_kdf(hmac, &key, &[Segment::Bytes(vec![1])], 32).is_err());
        assert!(counter_kdf(hmac, &key, &[Segment::Counter { bits: 12 }], 32).is_err());
        // An 8-bit counter covers 255 blocks of 32 bytes, no more.
        assert!(counter_kdf(hmac, &key, &[Segment::Counter { bits: 8 }], 255 * 32).is_ok());
        assert!(counter_kdf(hmac, &key, &[Segment::Counter { bits: 8 }], 256 * 32).is_err());
        let l8 = [Segment::Counter { bits: 8 }, Segment::Length { bits: 8 }];
        assert!(counter_kdf(hmac, &key, &l8, 31).is_ok());
        assert!(counter_kdf(hmac, &key, &l8, 32).is_err());
    }
}
