//! The `crypto sign` / `crypto verify` mechanisms (spec §C): hash functions, data types and the
//! dispatch from a mechanism and a key to the RSA, EC and ML-DSA implementations.

use aws_lc_rs::digest;

use super::error::CryptoError;
use super::material::{PrivateKey, PublicKey};
use super::mldsa::{MlDsaInput, MU_LEN};
use crate::hsm::Entropy;

/// Largest message `crypto sign ed25519` / `crypto verify ed25519` accept (spec §C.2).
pub const ED25519_MAX_DATA: usize = 16_000;

/// A hash function of `--hash-function` (and of `--mgf mgf1-<hash>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFunction {
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// Every hash function, in the CLI's order.
pub const HASH_FUNCTIONS: [HashFunction; 5] = [
    HashFunction::Sha1,
    HashFunction::Sha224,
    HashFunction::Sha256,
    HashFunction::Sha384,
    HashFunction::Sha512,
];

impl HashFunction {
    /// The hash function the CLI calls `name` (`sha256`); `mgf1-sha256` is accepted too.
    pub fn from_name(name: &str) -> Result<HashFunction, CryptoError> {
        let bare = name.strip_prefix("mgf1-").unwrap_or(name);
        HASH_FUNCTIONS
            .into_iter()
            .find(|h| h.name() == bare)
            .ok_or_else(|| CryptoError::UnknownHash {
                name: name.to_string(),
            })
    }

    /// The CLI name, e.g. `sha256`.
    pub fn name(self) -> &'static str {
        match self {
            HashFunction::Sha1 => "sha1",
            HashFunction::Sha224 => "sha224",
            HashFunction::Sha256 => "sha256",
            HashFunction::Sha384 => "sha384",
            HashFunction::Sha512 => "sha512",
        }
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashFunction::Sha1 => 20,
            HashFunction::Sha224 => 28,
            HashFunction::Sha256 => 32,
            HashFunction::Sha384 => 48,
            HashFunction::Sha512 => 64,
        }
    }

    /// The hash of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.algorithm(), data).as_ref().to_vec()
    }

    /// The AWS-LC algorithm.
    pub(crate) fn algorithm(self) -> &'static digest::Algorithm {
        match self {
            HashFunction::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashFunction::Sha224 => &digest::SHA224,
            HashFunction::Sha256 => &digest::SHA256,
            HashFunction::Sha384 => &digest::SHA384,
            HashFunction::Sha512 => &digest::SHA512,
        }
    }

    /// The DER DigestInfo header that precedes a digest of this function (RFC 8017 §9.2 note 1).
    pub fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            HashFunction::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
            HashFunction::Sha224 => &[
                0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x04, 0x05, 0x00, 0x04, 0x1c,
            ],
            HashFunction::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            HashFunction::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            HashFunction::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }
}

/// What `--data` holds (`--data-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// The message itself; the HSM hashes it.
    Raw,
    /// An already computed hash (for rsa-pkcs: a DER DigestInfo).
    Digest,
    /// ML-DSA only: the 64-byte mu computed outside the HSM.
    ExternalMu,
}

impl DataType {
    /// The data type the CLI calls `name` (`raw`, `digest`, `external-mu`).
    pub fn from_name(name: &str) -> Result<DataType, CryptoError> {
        match name {
            "raw" => Ok(DataType::Raw),
            "digest" => Ok(DataType::Digest),
            "external-mu" => Ok(DataType::ExternalMu),
            _ => Err(CryptoError::UnknownDataType {
                name: name.to_string(),
            }),
        }
    }

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Raw => "raw",
            DataType::Digest => "digest",
            DataType::ExternalMu => "external-mu",
        }
    }
}

/// A signature mechanism with its parameters, one per `crypto sign` subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// `rsa-pkcs`: PKCS#1 v1.5. With `Digest` data, the data is a DER DigestInfo of `hash`.
    RsaPkcs {
        /// `--hash-function`.
        hash: HashFunction,
        /// `--data-type` (`Raw` or `Digest`).
        data_type: DataType,
    },
    /// PKCS#1 v1.5 over the data as given, with no DigestInfo check: PKCS#11's
    /// `CKM_RSA_PKCS`, whose caller brings the DigestInfo (or any block of at most k - 11
    /// bytes). The CLI's `rsa-pkcs` always names a hash.
    RsaPkcsUnhashed,
    /// `rsa-pkcs-pss`: PSS with MGF1(`mgf`), which must equal `hash`; salt in bytes.
    RsaPkcsPss {
        /// `--hash-function`.
        hash: HashFunction,
        /// The hash of `--mgf mgf1-<hash>`.
        mgf: HashFunction,
        /// `--salt-length`, in bytes.
        salt_length: usize,
        /// `--data-type` (`Raw` or `Digest`).
        data_type: DataType,
    },
    /// `ecdsa`: the signature is raw r || s, each as wide as the curve order.
    Ecdsa {
        /// `--hash-function`.
        hash: HashFunction,
        /// `--data-type` (`Raw` or `Digest`).
        data_type: DataType,
    },
    /// `ed25519`: PureEdDSA over at most 16,000 bytes.
    Ed25519,
    /// `ed25519ph`: HashEdDSA with SHA-512 and an empty context.
    Ed25519ph {
        /// `--data-type` (`Raw`, or `Digest` for a 64-byte SHA-512 value).
        data_type: DataType,
    },
    /// `ml-dsa`: ML-DSA with an empty context over the message (`Raw`) or mu (`ExternalMu`).
    MlDsa {
        /// `--data-type` (`Raw` or `ExternalMu`).
        data_type: DataType,
    },
}

impl Mechanism {
    /// The CLI name of the mechanism, e.g. `rsa-pkcs-pss`.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::RsaPkcs { .. } | Mechanism::RsaPkcsUnhashed => "rsa-pkcs",
            Mechanism::RsaPkcsPss { .. } => "rsa-pkcs-pss",
            Mechanism::Ecdsa { .. } => "ecdsa",
            Mechanism::Ed25519 => "ed25519",
            Mechanism::Ed25519ph { .. } => "ed25519ph",
            Mechanism::MlDsa { .. } => "ml-dsa",
        }
    }

    /// What kind of key this mechanism needs (for the wrong-key error text).
    fn needed_key(&self) -> &'static str {
        match self {
            Mechanism::RsaPkcs { .. }
            | Mechanism::RsaPkcsUnhashed
            | Mechanism::RsaPkcsPss { .. } => "an RSA key",
            Mechanism::Ecdsa { .. } => "an EC key on a Weierstrass curve (not ed25519)",
            Mechanism::Ed25519 | Mechanism::Ed25519ph { .. } => "an EC key on curve ed25519",
            Mechanism::MlDsa { .. } => "an ML-DSA key",
        }
    }

    fn wrong_key(&self) -> CryptoError {
        CryptoError::WrongKeyType {
            mechanism: self.name(),
            needed: self.needed_key(),
        }
    }

    /// The hash value to sign for a hash-then-sign mechanism, from `data` of `data_type`.
    fn hash_value(
        &self,
        hash: HashFunction,
        data_type: DataType,
        data: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        match data_type {
            DataType::Raw => Ok(hash.digest(data)),
            DataType::Digest => {
                if matches!(self, Mechanism::RsaPkcs { .. }) {
                    return data
                        .strip_prefix(hash.digest_info_prefix())
                        .filter(|d| d.len() == hash.output_len())
                        .map(<[u8]>::to_vec)
                        .ok_or(CryptoError::DigestInfo { hash: hash.name() });
                }
                if data.len() != hash.output_len() {
                    return Err(CryptoError::DigestLength {
                        hash: hash.name(),
                        expected: hash.output_len(),
                        actual: data.len(),
                    });
                }
                Ok(data.to_vec())
            }
            DataType::ExternalMu => Err(CryptoError::DataTypeNotSupported {
                mechanism: self.name(),
                data_type: data_type.name(),
            }),
        }
    }

    /// The ML-DSA input for `data` of `data_type`.
    fn ml_dsa_input<'a>(
        &self,
        data_type: DataType,
        data: &'a [u8],
    ) -> Result<MlDsaInput<'a>, CryptoError> {
        match data_type {
            DataType::Raw => Ok(MlDsaInput::Message(data)),
            DataType::ExternalMu if data.len() == MU_LEN => Ok(MlDsaInput::Mu(data)),
            DataType::ExternalMu => Err(CryptoError::DigestLength {
                hash: "external-mu",
                expected: MU_LEN,
                actual: data.len(),
            }),
            DataType::Digest => Err(CryptoError::DataTypeNotSupported {
                mechanism: self.name(),
                data_type: data_type.name(),
            }),
        }
    }

    /// Checks the parameters that do not depend on the key.
    fn check(&self, data: &[u8]) -> Result<(), CryptoError> {
        match *self {
            Mechanism::RsaPkcsPss { hash, mgf, .. } if hash != mgf => Err(CryptoError::MgfMismatch),
            Mechanism::Ed25519 if data.len() > ED25519_MAX_DATA => Err(CryptoError::DataTooLong {
                mechanism: "ed25519",
                max: ED25519_MAX_DATA,
                actual: data.len(),
            }),
            _ => Ok(()),
        }
    }

    /// The SHA-512 prehash for ed25519ph.
    fn ed25519ph_prehash(&self, data_type: DataType, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.hash_value(HashFunction::Sha512, data_type, data)
    }
}

/// Signs `data` with `key` under `mechanism`. Randomness (PSS salts, ML-DSA's hedge) comes
/// from `entropy`; ECDSA (RFC 6979), RSA-PKCS and Ed25519 signatures are deterministic.
pub fn sign(
    key: &PrivateKey,
    mechanism: &Mechanism,
    data: &[u8],
    entropy: &mut Entropy,
) -> Result<Vec<u8>, CryptoError> {
    mechanism.check(data)?;
    match (mechanism, key) {
        (&Mechanism::RsaPkcs { hash, data_type }, PrivateKey::Rsa(k)) => {
            k.sign_pkcs1(hash, &mechanism.hash_value(hash, data_type, data)?)
        }
        (Mechanism::RsaPkcsUnhashed, PrivateKey::Rsa(k)) => k.sign_pkcs1_unhashed(data),
        (
            &Mechanism::RsaPkcsPss {
                hash,
                salt_length,
                data_type,
                ..
            },
            PrivateKey::Rsa(k),
        ) => {
            let hash_value = mechanism.hash_value(hash, data_type, data)?;
            k.sign_pss(hash, salt_length, &hash_value, entropy)
        }
        (&Mechanism::Ecdsa { hash, data_type }, PrivateKey::Ec(k)) if !k.curve().is_edwards() => k
            .sign_ecdsa(
                &mechanism.hash_value(hash, data_type, data)?,
                entropy.is_seeded(),
            ),
        (Mechanism::Ed25519, PrivateKey::Ec(k)) if k.curve().is_edwards() => k.sign_ed25519(data),
        (&Mechanism::Ed25519ph { data_type }, PrivateKey::Ec(k)) if k.curve().is_edwards() => {
            k.sign_ed25519ph(&mechanism.ed25519ph_prehash(data_type, data)?)
        }
        (&Mechanism::MlDsa { data_type }, PrivateKey::MlDsa(k)) => {
            k.sign(mechanism.ml_dsa_input(data_type, data)?, entropy)
        }
        _ => Err(mechanism.wrong_key()),
    }
}

/// Whether `signature` is a valid signature of `data` under `key` and `mechanism`.
///
/// A malformed or wrong signature gives `Ok(false)`; errors are reserved for requests the HSM
/// refuses (wrong key type, bad digest length, mismatched MGF, oversized Ed25519 data).
pub fn verify(
    key: &PublicKey,
    mechanism: &Mechanism,
    data: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    mechanism.check(data)?;
    match (mechanism, key) {
        (&Mechanism::RsaPkcs { hash, data_type }, PublicKey::Rsa(k)) => {
            let hash_value = mechanism.hash_value(hash, data_type, data)?;
            Ok(k.verify_pkcs1(hash, &hash_value, signature))
        }
        (Mechanism::RsaPkcsUnhashed, PublicKey::Rsa(k)) => {
            Ok(k.verify_pkcs1_unhashed(data, signature))
        }
        (
            &Mechanism::RsaPkcsPss {
                hash,
                salt_length,
                data_type,
                ..
            },
            PublicKey::Rsa(k),
        ) => {
            let hash_value = mechanism.hash_value(hash, data_type, data)?;
            Ok(k.verify_pss(hash, salt_length, &hash_value, signature))
        }
        (&Mechanism::Ecdsa { hash, data_type }, PublicKey::Ec(k)) if !k.curve().is_edwards() => {
            let hash_value = mechanism.hash_value(hash, data_type, data)?;
            Ok(k.verify_ecdsa(&hash_value, signature))
        }
        (Mechanism::Ed25519, PublicKey::Ec(k)) if k.curve().is_edwards() => {
            Ok(k.verify_ed25519(data, signature))
        }
        (&Mechanism::Ed25519ph { data_type }, PublicKey::Ec(k)) if k.curve().is_edwards() => {
            let prehash = mechanism.ed25519ph_prehash(data_type, data)?;
            Ok(k.verify_ed25519ph(&prehash, signature))
        }
        (&Mechanism::MlDsa { data_type }, PublicKey::MlDsa(k)) => {
            Ok(k.verify(mechanism.ml_dsa_input(data_type, data)?, signature))
        }
        _ => Err(mechanism.wrong_key()),
    }
}
