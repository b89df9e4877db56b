//! Key wrapping for `key wrap` / `key unwrap` (spec §W): the eight mechanisms over a payload
//! given as bytes (a secret key's raw bytes or a private key's PKCS#8 DER).
//!
//! AES key wrap (RFC 3394) and AES key wrap with padding (RFC 5649) are built here on single
//! AES blocks from AWS-LC, because AWS-LC's key-wrap API lacks AES-192 wrapping keys; the
//! known-answer tests of both RFCs and OpenSSL cross-checks pin them down.
//!
//! Wrapped key data, by mechanism (‖ is concatenation):
//! - `aes-gcm`: ciphertext ‖ tag (cut to the tag length); the 12-byte IV is returned apart.
//! - `cloudhsm-aes-gcm`: IV (12 bytes) ‖ ciphertext ‖ tag.
//! - `aes-no-pad`: RFC 3394 of the payload (a multiple of 8 bytes, at least 16).
//! - `aes-pkcs5-pad`: RFC 3394 of the payload after PKCS#5 padding (1 to 8 bytes of value n).
//! - `aes-zero-pad`: RFC 5649 (zero padding; the true length is in the integrity value), as
//!   the CloudHSM guide specifies for "AES Key Wrap with Zero Padding".
//! - `rsa-aes`: RSA-OAEP of an ephemeral AES-256 key (modulus length) ‖ RFC 5649 of the payload.
//! - `rsa-oaep`: RSA-OAEP of the payload (empty label); `rsa-pkcs`: RSA PKCS#1 v1.5 of it.

use aws_lc_rs::cipher::{
    DecryptingKey, DecryptionContext, EncryptingKey, UnboundCipherKey, AES_128, AES_192, AES_256,
};

use super::cipher::{
    aes_key, gcm_iv, gcm_open, gcm_seal, gcm_tag_len, modulus_len, oaep_decrypt, oaep_encrypt,
    oaep_max_len, pkcs1_decrypt, pkcs1_encrypt, pkcs1_max_len, rsa_private_key, rsa_public_key,
    GCM_IV_LEN,
};
use super::error::CryptoError;
use super::material::KeyMaterial;
use super::sign::HashFunction;
use crate::hsm::Entropy;

/// The RFC 3394 default initial value (§2.2.3.1), used by `aes-no-pad` and `aes-pkcs5-pad`.
const KW_IV: u64 = 0xA6A6_A6A6_A6A6_A6A6;
/// The constant half of the RFC 5649 alternative initial value (§3).
const KWP_AIV: u64 = 0xA659_59A6;
/// Length of the ephemeral AES key `rsa-aes` generates (AES-256, as AWS KMS imports use).
pub const RSA_AES_KEY_LEN: usize = 32;

/// A key wrap mechanism of `key wrap` / `key unwrap` with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrapMechanism {
    /// `aes-gcm`: tag of `tag_length_bits` (64 to 128, steps of 8), optional AAD; IV apart.
    AesGcm {
        tag_length_bits: usize,
        aad: Vec<u8>,
    },
    /// `cloudhsm-aes-gcm`: as `aes-gcm`, with the IV leading the wrapped data.
    CloudHsmAesGcm {
        tag_length_bits: usize,
        aad: Vec<u8>,
    },
    /// `aes-no-pad`: RFC 3394 AES key wrap.
    AesNoPad,
    /// `aes-pkcs5-pad`: PKCS#5 padding to a multiple of 8 bytes, then RFC 3394.
    AesPkcs5Pad,
    /// `aes-zero-pad`: RFC 5649 AES key wrap with (zero) padding.
    AesZeroPad,
    /// `rsa-aes`: CKM_RSA_AES_KEY_WRAP with OAEP hash `hash` and MGF1 hash `mgf`.
    RsaAes {
        hash: HashFunction,
        mgf: HashFunction,
    },
    /// `rsa-oaep`: RSA-OAEP with hash `hash`, MGF1 hash `mgf` and an empty label.
    RsaOaep {
        hash: HashFunction,
        mgf: HashFunction,
    },
    /// `rsa-pkcs`: RSA PKCS#1 v1.5 encryption.
    RsaPkcs,
}

/// What `key wrap` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapOutput {
    /// The 12-byte IV (`aes-gcm` only: the output's `iv` field).
    pub iv: Option<Vec<u8>>,
    /// The wrapped key data (`wrapped_key_data`).
    pub data: Vec<u8>,
}

impl WrapMechanism {
    /// The CLI name of the mechanism, e.g. `aes-pkcs5-pad`.
    pub fn name(&self) -> &'static str {
        match self {
            WrapMechanism::AesGcm { .. } => "aes-gcm",
            WrapMechanism::CloudHsmAesGcm { .. } => "cloudhsm-aes-gcm",
            WrapMechanism::AesNoPad => "aes-no-pad",
            WrapMechanism::AesPkcs5Pad => "aes-pkcs5-pad",
            WrapMechanism::AesZeroPad => "aes-zero-pad",
            WrapMechanism::RsaAes { .. } => "rsa-aes",
            WrapMechanism::RsaOaep { .. } => "rsa-oaep",
            WrapMechanism::RsaPkcs => "rsa-pkcs",
        }
    }
}

/// Wraps `payload` under `wrapping_key` (an AES key for the AES mechanisms, an RSA public key
/// for the RSA ones). IVs, ephemeral keys and padding come from `entropy`, in that order.
pub fn wrap_key(
    mechanism: &WrapMechanism,
    wrapping_key: &KeyMaterial,
    payload: &[u8],
    entropy: &mut Entropy,
) -> Result<WrapOutput, CryptoError> {
    let name = mechanism.name();
    let len = payload.len();
    let too = |detail: String| CryptoError::PayloadLength {
        mechanism: name,
        detail,
    };
    if payload.is_empty() {
        return Err(too("the key is empty".into()));
    }
    let mut iv = None;
    let data = match mechanism {
        WrapMechanism::AesGcm {
            tag_length_bits,
            aad,
        }
        | WrapMechanism::CloudHsmAesGcm {
            tag_length_bits,
            aad,
        } => {
            let key = aes_key(wrapping_key, name)?;
            let tag_len = gcm_tag_len(*tag_length_bits)?;
            let mut nonce = [0u8; GCM_IV_LEN];
            entropy.fill(&mut nonce);
            let sealed = gcm_seal(key, nonce, aad, payload, tag_len)?;
            if matches!(mechanism, WrapMechanism::AesGcm { .. }) {
                iv = Some(nonce.to_vec());
                sealed
            } else {
                [&nonce[..], &sealed].concat()
            }
        }
        WrapMechanism::AesNoPad | WrapMechanism::AesPkcs5Pad => {
            let key = aes_key(wrapping_key, name)?;
            let mut padded = payload.to_vec();
            let mut need = "a multiple of 8 bytes, at least 16";
            if *mechanism == WrapMechanism::AesPkcs5Pad {
                let pad = 8 - len % 8;
                padded.resize(len + pad, pad as u8);
                need = "at least 8 bytes (AES key wrap takes at least 16 bytes after padding)";
            }
            if !padded.len().is_multiple_of(8) || padded.len() < 16 {
                return Err(too(format!(
                    "the key is {len} bytes long, but {name} needs {need}"
                )));
            }
            kw_wrap(&AesBlock::new(key)?, KW_IV, &padded)?
        }
        WrapMechanism::AesZeroPad => kwp_wrap(aes_key(wrapping_key, name)?, payload, name)?,
        WrapMechanism::RsaAes { hash, mgf } => {
            let key = rsa_public_key(wrapping_key, name)?;
            let mut ephemeral = [0u8; RSA_AES_KEY_LEN];
            entropy.fill(&mut ephemeral);
            let wrapped = kwp_wrap(&ephemeral, payload, name)?;
            [
                oaep_encrypt(key, *hash, *mgf, &ephemeral, entropy)?,
                wrapped,
            ]
            .concat()
        }
        WrapMechanism::RsaOaep { .. } | WrapMechanism::RsaPkcs => {
            let key = rsa_public_key(wrapping_key, name)?;
            let (max, with) = match mechanism {
                WrapMechanism::RsaOaep { hash, .. } => (oaep_max_len(key, *hash), hash.name()),
                _ => (pkcs1_max_len(key), "PKCS#1 v1.5 padding"),
            };
            if len > max {
                let bits = key.modulus_bits();
                return Err(too(format!(
                    "the key is {len} bytes long, but {name} with a {bits}-bit RSA key and \
                     {with} wraps at most {max} bytes"
                )));
            }
            match mechanism {
                WrapMechanism::RsaOaep { hash, mgf } => {
                    oaep_encrypt(key, *hash, *mgf, payload, entropy)?
                }
                _ => pkcs1_encrypt(key, payload, entropy)?,
            }
        }
    };
    Ok(WrapOutput { iv, data })
}

/// Unwraps `data` with `unwrapping_key` (an AES key, or the RSA private key) and returns the
/// payload bytes. `iv` is required for `aes-gcm` and refused for every other mechanism.
pub fn unwrap_key(
    mechanism: &WrapMechanism,
    unwrapping_key: &KeyMaterial,
    data: &[u8],
    iv: Option<&[u8]>,
) -> Result<Vec<u8>, CryptoError> {
    let name = mechanism.name();
    let fail = |detail: &str| CryptoError::Unwrap {
        mechanism: name,
        detail: detail.into(),
    };
    // Decryption errors of the shared primitives, reworded for unwrapping.
    let reword = |e: CryptoError| match e {
        CryptoError::Decrypt { detail, .. } => CryptoError::Unwrap {
            mechanism: name,
            detail,
        },
        other => other,
    };
    let is_gcm = matches!(mechanism, WrapMechanism::AesGcm { .. });
    let iv = match (iv, is_gcm) {
        (Some(iv), true) => Some(gcm_iv(iv)?),
        (None, false) => None,
        (None, true) => {
            return Err(CryptoError::Iv {
                detail: "aes-gcm needs the IV that key wrap returned".into(),
            })
        }
        (Some(_), false) => {
            return Err(CryptoError::Iv {
                detail: format!("{name} takes no IV"),
            })
        }
    };
    let payload = match mechanism {
        WrapMechanism::AesGcm {
            tag_length_bits,
            aad,
        }
        | WrapMechanism::CloudHsmAesGcm {
            tag_length_bits,
            aad,
        } => {
            let key = aes_key(unwrapping_key, name)?;
            let tag_len = gcm_tag_len(*tag_length_bits)?;
            let (iv, rest) = match iv {
                Some(iv) => (iv, data),
                None => {
                    let (iv, rest) = data.split_at_checked(GCM_IV_LEN).ok_or_else(|| {
                        fail("the data is shorter than the 12-byte IV it must start with")
                    })?;
                    (gcm_iv(iv)?, rest)
                }
            };
            gcm_open(key, iv, aad, rest, tag_len).map_err(reword)?
        }
        WrapMechanism::AesNoPad | WrapMechanism::AesPkcs5Pad => {
            let aes = AesBlock::new(aes_key(unwrapping_key, name)?)?;
            if !data.len().is_multiple_of(8) || data.len() < 24 {
                return Err(fail(
                    "AES-wrapped data is a multiple of 8 bytes long, at least 24",
                ));
            }
            let (a, plain) = kw_unwrap(&aes, data)?;
            if a != KW_IV {
                return Err(fail(INTEGRITY));
            }
            if *mechanism == WrapMechanism::AesNoPad {
                plain
            } else {
                pkcs5_unpad(&plain).ok_or_else(|| fail("the PKCS#5 padding is invalid"))?
            }
        }
        WrapMechanism::AesZeroPad => kwp_unwrap(aes_key(unwrapping_key, name)?, data, name)?,
        WrapMechanism::RsaAes { hash, mgf } => {
            let key = rsa_private_key(unwrapping_key, name)?;
            let k = modulus_len(key.public_key());
            let (encrypted_key, wrapped) = data
                .split_at_checked(k)
                .filter(|(_, wrapped)| !wrapped.is_empty())
                .ok_or_else(|| {
                    fail("the data must hold the RSA-encrypted AES key and the wrapped key")
                })?;
            let ephemeral = oaep_decrypt(key, *hash, *mgf, encrypted_key, name).map_err(reword)?;
            if ![16, 24, 32].contains(&ephemeral.len()) {
                return Err(fail("the RSA-encrypted key is not an AES key"));
            }
            kwp_unwrap(&ephemeral, wrapped, name)?
        }
        WrapMechanism::RsaOaep { hash, mgf } => {
            let key = rsa_private_key(unwrapping_key, name)?;
            oaep_decrypt(key, *hash, *mgf, data, name).map_err(reword)?
        }
        WrapMechanism::RsaPkcs => {
            pkcs1_decrypt(rsa_private_key(unwrapping_key, name)?, data, name).map_err(reword)?
        }
    };
    if payload.is_empty() {
        return Err(fail("the unwrapped key is empty"));
    }
    Ok(payload)
}

/// The detail of a failed key-wrap integrity check.
const INTEGRITY: &str = "the integrity check failed (wrong key or damaged data)";

/// Removes PKCS#5 padding (1 to 8 bytes, each holding the pad length).
fn pkcs5_unpad(padded: &[u8]) -> Option<Vec<u8>> {
    let n = *padded.last()?;
    let (body, pad) = padded.split_at_checked(padded.len().checked_sub(n.into())?)?;
    let valid = (1..=8).contains(&n) && pad.iter().all(|b| *b == n);
    valid.then(|| body.to_vec())
}

/// One AES key in ECB form: the block cipher under RFC 3394 and RFC 5649.
struct AesBlock {
    encrypting: EncryptingKey,
    decrypting: DecryptingKey,
}

impl AesBlock {
    /// The block cipher for an AES key of 16, 24 or 32 bytes.
    fn new(key: &[u8]) -> Result<AesBlock, CryptoError> {
        let algorithm = match key.len() {
            16 => &AES_128,
            24 => &AES_192,
            32 => &AES_256,
            len => return Err(CryptoError::AesKeyLength { len }),
        };
        let setup = |_| CryptoError::failed("AES key setup failed");
        Ok(AesBlock {
            encrypting: EncryptingKey::ecb(UnboundCipherKey::new(algorithm, key).map_err(setup)?)
                .map_err(setup)?,
            decrypting: DecryptingKey::ecb(UnboundCipherKey::new(algorithm, key).map_err(setup)?)
                .map_err(setup)?,
        })
    }

    /// AES encryption of one block.
    fn encrypt(&self, block: u128) -> Result<u128, CryptoError> {
        let mut bytes = block.to_be_bytes();
        self.encrypting
            .encrypt(&mut bytes)
            .map_err(|_| CryptoError::failed("AES encryption failed"))?;
        Ok(u128::from_be_bytes(bytes))
    }

    /// AES decryption of one block.
    fn decrypt(&self, block: u128) -> Result<u128, CryptoError> {
        let mut bytes = block.to_be_bytes();
        self.decrypting
            .decrypt(&mut bytes, DecryptionContext::None)
            .map_err(|_| CryptoError::failed("AES decryption failed"))?;
        Ok(u128::from_be_bytes(bytes))
    }
}

/// `bytes` (a multiple of 8 long) as big-endian 64-bit words.
fn words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| c.iter().fold(0u64, |w, b| (w << 8) | u64::from(*b)))
        .collect()
}

/// The bytes of big-endian 64-bit words.
fn bytes(words: impl IntoIterator<Item = u64>) -> Vec<u8> {
    words.into_iter().flat_map(u64::to_be_bytes).collect()
}

/// The RFC 3394 wrapping process W (§2.2.1, index form) with initial value `iv` over
/// `plaintext` (a multiple of 8 bytes, at least 16).
fn kw_wrap(aes: &AesBlock, iv: u64, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut r = words(plaintext);
    let n = r.len() as u64;
    let mut a = iv;
    for j in 0..6u64 {
        for (i, ri) in (1u64..).zip(r.iter_mut()) {
            let b = aes.encrypt((u128::from(a) << 64) | u128::from(*ri))?;
            a = ((b >> 64) as u64) ^ (n * j + i);
            *ri = b as u64;
        }
    }
    Ok(bytes(std::iter::once(a).chain(r)))
}

/// The RFC 3394 unwrapping process W⁻¹ (§2.2.2): the recovered initial value and plaintext.
fn kw_unwrap(aes: &AesBlock, data: &[u8]) -> Result<(u64, Vec<u8>), CryptoError> {
    let mut w = words(data);
    let Some((first, r)) = w.split_first_mut() else {
        return Err(CryptoError::failed("AES key unwrap of empty data"));
    };
    let n = r.len() as u64;
    let mut a = *first;
    for j in (0..6u64).rev() {
        for (i, ri) in (1..=n).rev().zip(r.iter_mut().rev()) {
            let b = aes.decrypt((u128::from(a ^ (n * j + i)) << 64) | u128::from(*ri))?;
            a = (b >> 64) as u64;
            *ri = b as u64;
        }
    }
    Ok((a, bytes(r.iter().copied())))
}

/// RFC 5649 key wrap with padding of `plaintext` (1 byte to 4 GiB) under `kek`.
fn kwp_wrap(kek: &[u8], plaintext: &[u8], mechanism: &'static str) -> Result<Vec<u8>, CryptoError> {
    let mli = u32::try_from(plaintext.len()).map_err(|_| CryptoError::PayloadLength {
        mechanism,
        detail: "the key is longer than 4 GiB".into(),
    })?;
    let aes = AesBlock::new(kek)?;
    let aiv = (KWP_AIV << 32) | u64::from(mli);
    let mut padded = plaintext.to_vec();
    padded.resize(plaintext.len().div_ceil(8) * 8, 0);
    match words(&padded)[..] {
        [p] => Ok(aes
            .encrypt((u128::from(aiv) << 64) | u128::from(p))?
            .to_be_bytes()
            .to_vec()),
        _ => kw_wrap(&aes, aiv, &padded),
    }
}

/// RFC 5649 key unwrap with padding: checks the integrity value, length and zero padding.
fn kwp_unwrap(kek: &[u8], data: &[u8], mechanism: &'static str) -> Result<Vec<u8>, CryptoError> {
    let fail = |detail: &str| CryptoError::Unwrap {
        mechanism,
        detail: detail.into(),
    };
    if !data.len().is_multiple_of(8) || data.len() < 16 {
        return Err(fail(
            "AES-wrapped data with padding is a multiple of 8 bytes long, at least 16",
        ));
    }
    let aes = AesBlock::new(kek)?;
    let (a, padded) = match words(data)[..] {
        [hi, lo] => {
            let b = aes.decrypt((u128::from(hi) << 64) | u128::from(lo))?;
            ((b >> 64) as u64, bytes([b as u64]))
        }
        _ => kw_unwrap(&aes, data)?,
    };
    let mli = (a & 0xFFFF_FFFF) as usize;
    let fits = mli <= padded.len() && mli + 8 > padded.len();
    if a >> 32 != KWP_AIV || !fits {
        return Err(fail(INTEGRITY));
    }
    let (payload, padding) = padded.split_at(mli);
    if padding.iter().any(|b| *b != 0) {
        return Err(fail(INTEGRITY));
    }
    Ok(payload.to_vec())
}

#[cfg(test)]
#[path = "tests/wrap.rs"]
mod tests;
