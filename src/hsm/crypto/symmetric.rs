//! Secret keys (AES, DES3 and generic secret): validation, generation and check values.

use aws_lc_rs::cipher::{EncryptingKey, UnboundCipherKey, AES_128, AES_192, AES_256};
use aws_lc_rs::digest;

use super::error::CryptoError;
use crate::hsm::Entropy;
use zeroize::Zeroizing;

/// Valid AES key lengths in bytes.
pub const AES_KEY_LENGTHS: [usize; 3] = [16, 24, 32];
/// Smallest and largest generic secret key length in bytes.
pub const GENERIC_SECRET_LENGTHS: std::ops::RangeInclusive<usize> = 1..=800;

/// The family of a secret key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// An AES key (`key-type` `aes`).
    Aes,
    /// A generic secret, e.g. for HMAC (`key-type` `generic-secret`).
    GenericSecret,
    /// A triple DES key (`key-type` `des3`), 24 bytes.
    Des3,
}

/// A secret (symmetric) key: its family, its bytes and its check value.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    kind: SecretKind,
    /// Zeroed when dropped.
    bytes: Zeroizing<Vec<u8>>,
    check_value: [u8; 3],
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A secret key of family `kind` holding `bytes`, after checking the length.
    pub fn new(kind: SecretKind, bytes: Vec<u8>) -> Result<SecretKey, CryptoError> {
        let bytes = Zeroizing::new(bytes);
        let check_value = match kind {
            SecretKind::Aes => aes_check_value(&bytes)?,
            // Parity bits are not checked: the block function ignores them, and keys from
            // outside (unwrap, C_CreateObject) keep the bytes they came with.
            SecretKind::Des3 => super::des3::des3_check_value(&bytes)?,
            SecretKind::GenericSecret => {
                if !GENERIC_SECRET_LENGTHS.contains(&bytes.len()) {
                    return Err(CryptoError::GenericSecretLength { len: bytes.len() });
                }
                generic_secret_check_value(&bytes)
            }
        };
        Ok(SecretKey {
            kind,
            bytes,
            check_value,
        })
    }

    /// The family of this key.
    pub fn kind(&self) -> SecretKind {
        self.kind
    }

    /// The raw key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The 3-byte check value (spec §A.4; see [`generic_secret_check_value`] for HMAC keys).
    pub fn check_value(&self) -> [u8; 3] {
        self.check_value
    }
}

/// A new AES key of `len` bytes (16, 24 or 32) drawn from `entropy`.
pub fn generate_aes(entropy: &mut Entropy, len: usize) -> Result<SecretKey, CryptoError> {
    if !AES_KEY_LENGTHS.contains(&len) {
        return Err(CryptoError::AesKeyLength { len });
    }
    let mut bytes = vec![0u8; len];
    entropy.fill(&mut bytes);
    SecretKey::new(SecretKind::Aes, bytes)
}

/// A new generic secret key of `len` bytes (1 to 800) drawn from `entropy`.
pub fn generate_generic_secret(
    entropy: &mut Entropy,
    len: usize,
) -> Result<SecretKey, CryptoError> {
    if !GENERIC_SECRET_LENGTHS.contains(&len) {
        return Err(CryptoError::GenericSecretLength { len });
    }
    let mut bytes = vec![0u8; len];
    entropy.fill(&mut bytes);
    SecretKey::new(SecretKind::GenericSecret, bytes)
}

/// The AES check value: the first 3 bytes of the AES-ECB encryption of one zero block.
fn aes_check_value(key: &[u8]) -> Result<[u8; 3], CryptoError> {
    let algorithm = match key.len() {
        16 => &AES_128,
        24 => &AES_192,
        32 => &AES_256,
        len => return Err(CryptoError::AesKeyLength { len }),
    };
    let unbound = UnboundCipherKey::new(algorithm, key)
        .map_err(|_| CryptoError::failed("AES key setup failed"))?;
    let cipher =
        EncryptingKey::ecb(unbound).map_err(|_| CryptoError::failed("AES key setup failed"))?;
    let mut block = [0u8; 16];
    cipher
        .encrypt(&mut block)
        .map_err(|_| CryptoError::failed("AES encryption failed"))?;
    Ok([block[0], block[1], block[2]])
}

/// The generic-secret check value.
///
/// The CloudHSM guide says only "KCV for HMAC keys is not supported at this time" (spec §A.4),
/// yet every key object prints a `check-value`. The simulator uses the PKCS#11 (v2.40+)
/// definition for generic secret keys: the first 3 bytes of the SHA-1 hash of the key value.
pub fn generic_secret_check_value(key: &[u8]) -> [u8; 3] {
    let hash = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, key);
    first_three(hash.as_ref())
}

/// The first three bytes of `bytes` (zero-padded if shorter).
pub(crate) fn first_three(bytes: &[u8]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}
