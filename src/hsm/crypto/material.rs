//! Key material as the HSM stores it: secret keys and the public and private halves of key
//! pairs, their versioned binary encoding (blobs) and the attribute values the CLI prints.

use super::ec::{Curve, EcPrivateKey, EcPublicKey};
use super::error::CryptoError;
use super::mldsa::{MlDsaAlgorithm, MlDsaPrivateKey, MlDsaPublicKey, SEED_LEN};
use super::rsa::{RsaPrivateKey, RsaPublicKey};
use super::symmetric::{first_three, SecretKey, SecretKind};
use super::{hex, hex_attribute};
use zeroize::Zeroizing;

/// First bytes of every blob.
const MAGIC: &[u8; 4] = b"HSMK";
/// The blob format version written by this code.
pub const BLOB_VERSION: u8 = 1;

const TAG_AES: u8 = 1;
const TAG_GENERIC_SECRET: u8 = 2;
const TAG_RSA_PUBLIC: u8 = 3;
const TAG_RSA_PRIVATE: u8 = 4;
const TAG_EC_PUBLIC: u8 = 5;
const TAG_EC_PRIVATE: u8 = 6;
const TAG_ML_DSA_PUBLIC: u8 = 7;
const TAG_ML_DSA_PRIVATE: u8 = 8;
const TAG_DES3: u8 = 9;

/// The public half of a key pair (also what `key import pem` creates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An RSA public key.
    Rsa(RsaPublicKey),
    /// An EC public key (ECDSA curves and Ed25519).
    Ec(EcPublicKey),
    /// An ML-DSA public key.
    MlDsa(MlDsaPublicKey),
}

/// The private half of a key pair; it always knows its public half.
#[derive(Debug, Clone)]
pub enum PrivateKey {
    /// An RSA private key.
    Rsa(RsaPrivateKey),
    /// An EC private key (ECDSA curves and Ed25519).
    Ec(EcPrivateKey),
    /// An ML-DSA private key.
    MlDsa(MlDsaPrivateKey),
}

/// Any key object's material: what one row of the key store holds.
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    /// A secret (symmetric) key.
    Secret(SecretKey),
    /// A public key.
    Public(PublicKey),
    /// A private key.
    Private(PrivateKey),
}

/// The attribute values a key's material determines, formatted as the CLI prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAttributes {
    /// `key-type`: `aes`, `des3`, `generic-secret`, `rsa`, `ec` or `ml-dsa`.
    pub key_type: &'static str,
    /// `class`: `secret-key`, `public-key` or `private-key`.
    pub class: &'static str,
    /// `check-value`: `0x` and 6 lowercase hex digits.
    pub check_value: String,
    /// `key-length-bytes`.
    pub key_length_bytes: usize,
    /// `mldsa-algorithm` (ML-DSA keys only).
    pub mldsa_algorithm: Option<&'static str>,
    /// The RSA-only attributes.
    pub rsa: Option<RsaAttributes>,
    /// The EC-only attributes.
    pub ec: Option<EcAttributes>,
}

/// `public-exponent`, `modulus` and `modulus-size-bits` of an RSA key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaAttributes {
    /// `public-exponent`, e.g. `0x010001`.
    pub public_exponent: String,
    /// `modulus`: `0x` and the lowercase hex of the modulus bytes.
    pub modulus: String,
    /// `modulus-size-bits`.
    pub modulus_size_bits: usize,
}

/// `ec-point` and `curve` of an EC key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcAttributes {
    /// `ec-point`: `0x04` and the lowercase hex of X and Y (Ed25519: the 32-byte key).
    pub ec_point: String,
    /// `curve`, e.g. `secp224r1`.
    pub curve: &'static str,
}

impl PublicKey {
    /// `key-type` of this key.
    pub fn key_type(&self) -> &'static str {
        match self {
            PublicKey::Rsa(_) => "rsa",
            PublicKey::Ec(_) => "ec",
            PublicKey::MlDsa(_) => "ml-dsa",
        }
    }

    /// The SubjectPublicKeyInfo DER encoding.
    pub fn to_spki_der(&self) -> Vec<u8> {
        match self {
            PublicKey::Rsa(k) => k.spki_der(),
            PublicKey::Ec(k) => k.spki_der(),
            PublicKey::MlDsa(k) => k.spki_der(),
        }
    }

    /// The check value of a key pair: the first 3 bytes of SHA-1 over the SubjectPublicKeyInfo
    /// DER (matches every example of the guide; see spec §A.4).
    pub fn check_value(&self) -> [u8; 3] {
        let spki = self.to_spki_der();
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &spki);
        first_three(hash.as_ref())
    }

    /// `key-length-bytes` of this public key.
    ///
    /// RSA: twice the modulus length (the guide prints 512 for RSA-2048); EC: the encoded point
    /// (57 for P-224 as in the guide; 32 for Ed25519); ML-DSA: the FIPS 204 public key size.
    pub fn key_length_bytes(&self) -> usize {
        match self {
            PublicKey::Rsa(k) => 2 * k.modulus().len(),
            PublicKey::Ec(k) => k.point().len(),
            PublicKey::MlDsa(k) => k.algorithm().public_key_len(),
        }
    }

    fn attributes(&self, class: &'static str, key_length_bytes: usize) -> KeyAttributes {
        KeyAttributes {
            key_type: self.key_type(),
            class,
            check_value: hex_attribute(&self.check_value()),
            key_length_bytes,
            mldsa_algorithm: match self {
                PublicKey::MlDsa(k) => Some(k.algorithm().name()),
                _ => None,
            },
            rsa: match self {
                PublicKey::Rsa(k) => Some(RsaAttributes {
                    public_exponent: hex_attribute(k.public_exponent()),
                    modulus: hex_attribute(k.modulus()),
                    modulus_size_bits: k.modulus_bits(),
                }),
                _ => None,
            },
            ec: match self {
                PublicKey::Ec(k) => Some(EcAttributes {
                    ec_point: hex_attribute(k.point()),
                    curve: k.curve().name(),
                }),
                _ => None,
            },
        }
    }
}

impl PrivateKey {
    /// The public half of this key pair.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::Rsa(k) => PublicKey::Rsa(k.public_key().clone()),
            PrivateKey::Ec(k) => PublicKey::Ec(k.public_key().clone()),
            PrivateKey::MlDsa(k) => PublicKey::MlDsa(k.public_key().clone()),
        }
    }

    /// `key-length-bytes` of this private key: the PKCS#8 DER length for RSA and EC (1216 to
    /// 1219 for RSA-2048 and 122 for P-224, as in the guide), the FIPS 204 size for ML-DSA.
    pub fn key_length_bytes(&self) -> usize {
        match self {
            PrivateKey::Rsa(k) => k.pkcs8_der().len(),
            PrivateKey::Ec(k) => k.pkcs8_der().len(),
            PrivateKey::MlDsa(k) => k.algorithm().private_key_len(),
        }
    }
}

impl KeyMaterial {
    /// The attribute values determined by this material (spec §A.1, §A.4).
    pub fn attributes(&self) -> KeyAttributes {
        match self {
            KeyMaterial::Secret(k) => KeyAttributes {
                key_type: match k.kind() {
                    SecretKind::Aes => "aes",
                    SecretKind::GenericSecret => "generic-secret",
                    SecretKind::Des3 => "des3",
                },
                class: "secret-key",
                check_value: hex_attribute(&k.check_value()),
                key_length_bytes: k.bytes().len(),
                mldsa_algorithm: None,
                rsa: None,
                ec: None,
            },
            KeyMaterial::Public(k) => k.attributes("public-key", k.key_length_bytes()),
            KeyMaterial::Private(k) => k
                .public_key()
                .attributes("private-key", k.key_length_bytes()),
        }
    }

    /// The versioned binary encoding stored in the key database, zeroed when dropped.
    pub fn to_blob(&self) -> Zeroizing<Vec<u8>> {
        let (tag, payload): (u8, Zeroizing<Vec<u8>>) = match self {
            KeyMaterial::Secret(k) => match k.kind() {
                SecretKind::Aes => (TAG_AES, k.bytes().to_vec().into()),
                SecretKind::GenericSecret => (TAG_GENERIC_SECRET, k.bytes().to_vec().into()),
                SecretKind::Des3 => (TAG_DES3, k.bytes().to_vec().into()),
            },
            KeyMaterial::Public(PublicKey::Rsa(k)) => (TAG_RSA_PUBLIC, k.pkcs1_der().into()),
            KeyMaterial::Public(PublicKey::Ec(k)) => (
                TAG_EC_PUBLIC,
                [&[k.curve().id()], k.point()].concat().into(),
            ),
            KeyMaterial::Public(PublicKey::MlDsa(k)) => (
                TAG_ML_DSA_PUBLIC,
                [&[k.algorithm().id()], k.bytes()].concat().into(),
            ),
            KeyMaterial::Private(PrivateKey::Rsa(k)) => {
                (TAG_RSA_PRIVATE, k.pkcs8_der().to_vec().into())
            }
            KeyMaterial::Private(PrivateKey::Ec(k)) => (
                TAG_EC_PRIVATE,
                [&[k.curve().id()], k.secret()].concat().into(),
            ),
            KeyMaterial::Private(PrivateKey::MlDsa(k)) => (
                TAG_ML_DSA_PRIVATE,
                [&[k.algorithm().id()], &k.seed()[..]].concat().into(),
            ),
        };
        let mut blob = Zeroizing::new(Vec::with_capacity(MAGIC.len() + 2 + payload.len()));
        blob.extend_from_slice(MAGIC);
        blob.push(BLOB_VERSION);
        blob.push(tag);
        blob.extend_from_slice(&payload);
        blob
    }

    /// Material from a blob made by [`KeyMaterial::to_blob`]; garbage is an error, never a panic.
    pub fn from_blob(blob: &[u8]) -> Result<KeyMaterial, CryptoError> {
        let rest = blob
            .strip_prefix(MAGIC)
            .ok_or_else(|| CryptoError::corrupt("it is not a key blob"))?;
        let (version, tag, payload) = match rest {
            [version, tag, payload @ ..] => (*version, *tag, payload),
            _ => return Err(CryptoError::corrupt("the blob is truncated")),
        };
        if version != BLOB_VERSION {
            return Err(CryptoError::BlobVersion { version });
        }
        let damaged = |e: CryptoError| CryptoError::corrupt(e.to_string());
        let material = match tag {
            TAG_AES => KeyMaterial::Secret(
                SecretKey::new(SecretKind::Aes, payload.to_vec()).map_err(damaged)?,
            ),
            TAG_GENERIC_SECRET => KeyMaterial::Secret(
                SecretKey::new(SecretKind::GenericSecret, payload.to_vec()).map_err(damaged)?,
            ),
            TAG_DES3 => KeyMaterial::Secret(
                SecretKey::new(SecretKind::Des3, payload.to_vec()).map_err(damaged)?,
            ),
            TAG_RSA_PUBLIC => KeyMaterial::Public(PublicKey::Rsa(
                super::pem::rsa_public_from_pkcs1(payload).map_err(damaged)?,
            )),
            TAG_RSA_PRIVATE => KeyMaterial::Private(PrivateKey::Rsa(
                RsaPrivateKey::from_pkcs8_der(payload).map_err(damaged)?,
            )),
            TAG_EC_PUBLIC | TAG_EC_PRIVATE => {
                let (curve, body) = match payload {
                    [id, body @ ..] => (Curve::from_id(*id), body),
                    [] => (None, payload),
                };
                let curve = curve.ok_or_else(|| CryptoError::corrupt("unknown curve"))?;
                if tag == TAG_EC_PUBLIC {
                    KeyMaterial::Public(PublicKey::Ec(
                        EcPublicKey::from_point(curve, body).map_err(damaged)?,
                    ))
                } else {
                    KeyMaterial::Private(PrivateKey::Ec(
                        EcPrivateKey::from_secret(curve, body).map_err(damaged)?,
                    ))
                }
            }
            TAG_ML_DSA_PUBLIC | TAG_ML_DSA_PRIVATE => {
                let (algorithm, body) = match payload {
                    [id, body @ ..] => (MlDsaAlgorithm::from_id(*id), body),
                    [] => (None, payload),
                };
                let algorithm =
                    algorithm.ok_or_else(|| CryptoError::corrupt("unknown ML-DSA algorithm"))?;
                if tag == TAG_ML_DSA_PUBLIC {
                    KeyMaterial::Public(PublicKey::MlDsa(
                        MlDsaPublicKey::from_bytes(algorithm, body).map_err(damaged)?,
                    ))
                } else {
                    let seed = <[u8; SEED_LEN]>::try_from(body)
                        .map_err(|_| CryptoError::corrupt("bad ML-DSA seed length"))?;
                    KeyMaterial::Private(PrivateKey::MlDsa(MlDsaPrivateKey::from_seed(
                        algorithm, seed,
                    )))
                }
            }
            other => {
                return Err(CryptoError::corrupt(format!(
                    "unknown key kind {other} (0x{})",
                    hex(&[other])
                )))
            }
        };
        Ok(material)
    }
}

impl From<SecretKey> for KeyMaterial {
    fn from(key: SecretKey) -> Self {
        KeyMaterial::Secret(key)
    }
}

impl From<PublicKey> for KeyMaterial {
    fn from(key: PublicKey) -> Self {
        KeyMaterial::Public(key)
    }
}

impl From<PrivateKey> for KeyMaterial {
    fn from(key: PrivateKey) -> Self {
        KeyMaterial::Private(key)
    }
}

impl From<RsaPrivateKey> for PrivateKey {
    fn from(key: RsaPrivateKey) -> Self {
        PrivateKey::Rsa(key)
    }
}

impl From<EcPrivateKey> for PrivateKey {
    fn from(key: EcPrivateKey) -> Self {
        PrivateKey::Ec(key)
    }
}

impl From<MlDsaPrivateKey> for PrivateKey {
    fn from(key: MlDsaPrivateKey) -> Self {
        PrivateKey::MlDsa(key)
    }
}
