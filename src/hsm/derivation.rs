//! Deriving keys (PKCS#11's `C_DeriveKey`): an AES or generic secret key from an EC private
//! key and a peer's public point (ECDH, with CloudHSM's X9.63 KDFs or none), or from a secret
//! key (NIST SP 800-108 in counter mode). The base key's rules are checked here, for every
//! front end: the login's, `derive` set, the key's class and type, availability, no use
//! quorum; the derived key is a new key of the login with the creation rules of the caller.

use super::crypto::{self, HashFunction, KeyMaterial, Prf, Segment};
use super::key::attributes::Setting;
use super::key::{Assignment, Key, KeyClass, KeyError, KeyType, QuorumValues, Term};
use super::keys::OneKey;
use super::login::Login;
use super::policy::OperationClass;
use super::{Cluster, HsmError};

/// How the derived material comes from the base key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derivation {
    /// ECDH with the peer's point (SEC 1, uncompressed or compressed); the shared secret goes
    /// through `kdf`.
    Ecdh {
        kdf: EcdhKdf,
        peer: Vec<u8>,
        shared_info: Vec<u8>,
    },
    /// SP 800-108 in counter mode over the base secret key, with the fixed input `layout`.
    Counter { prf: Prf, layout: Vec<Segment> },
}

/// The KDF applied to an ECDH shared secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcdhKdf {
    /// The shared secret itself, cut to the key's length.
    Null,
    /// ANSI X9.63 with a hash (RFC 8418 §2.1).
    X963(HashFunction),
}

/// The key to derive.
#[derive(Debug, Clone)]
pub struct DeriveRequest {
    pub derivation: Derivation,
    /// `Aes`, `Des3` or `GenericSecret`.
    pub key_type: KeyType,
    /// Its length in bytes.
    pub len: usize,
    pub label: String,
    pub attributes: Vec<Assignment>,
    pub token: bool,
}

impl Cluster {
    /// Derives a key from the one `base` selects: see [`Derivation`]. The new key is
    /// `login`'s, `local` true (it was made in the HSM); a session key lives in the login.
    pub fn derive_key(
        &mut self,
        login: &mut Login,
        base: &[Term],
        req: &DeriveRequest,
        setting: Setting,
    ) -> Result<Key, HsmError> {
        self.guard(login, OperationClass::KeyManagement)?;
        self.require_key_type_allowed(req.key_type)?;
        let key = self.select(&login.actor, base, &login.keys)?;
        let fits = match &req.derivation {
            Derivation::Ecdh { .. } => {
                key.class == KeyClass::PrivateKey && key.key_type == KeyType::Ec
            }
            Derivation::Counter {
                prf: Prf::AesCmac, ..
            } => key.key_type == KeyType::Aes,
            Derivation::Counter { .. } => key.class == KeyClass::SecretKey,
        };
        if !fits {
            return Err(KeyError::WrongClass {
                needed: match req.derivation {
                    Derivation::Ecdh { .. } => "an EC private key",
                    Derivation::Counter {
                        prf: Prf::AesCmac, ..
                    } => "an AES key",
                    Derivation::Counter { .. } => "a generic secret or AES key",
                },
            }
            .into());
        }
        if !key.attrs.flags.derive {
            return Err(KeyError::AttributeRequired { name: "derive" }.into());
        }
        self.check_key_available(&key, self.availability_check)?;
        if key.quorum.usage > 1 {
            return Err(KeyError::QuorumFailed.into());
        }
        let blob = self.material_blob(&key, &login.keys)?;
        let bytes = match (&req.derivation, KeyMaterial::from_blob(&blob)?) {
            (
                Derivation::Ecdh {
                    kdf,
                    peer,
                    shared_info,
                },
                KeyMaterial::Private(crypto::PrivateKey::Ec(private)),
            ) => {
                let z = crypto::ecdh(&private, peer)?;
                match kdf {
                    EcdhKdf::Null if req.len <= z.len() => {
                        zeroize::Zeroizing::new(z[..req.len].to_vec())
                    }
                    EcdhKdf::Null => {
                        return Err(crypto::CryptoError::Kdf {
                            detail: format!(
                            "without a KDF the key is at most the {} bytes of the shared secret",
                            z.len()
                        ),
                        }
                        .into())
                    }
                    EcdhKdf::X963(hash) => crypto::x963(*hash, &z, shared_info, req.len),
                }
            }
            (Derivation::Counter { prf, layout }, KeyMaterial::Secret(secret)) => {
                crypto::counter_kdf(*prf, secret.bytes(), layout, req.len)?
            }
            _ => {
                return Err(KeyError::WrongClass {
                    needed: "a key of the derivation's type",
                }
                .into())
            }
        };
        let kind = match req.key_type {
            KeyType::Aes => crypto::SecretKind::Aes,
            KeyType::GenericSecret => crypto::SecretKind::GenericSecret,
            KeyType::Des3 => crypto::SecretKind::Des3,
            _ => {
                return Err(KeyError::WrongClass {
                    needed: "an AES, DES3 or generic secret key to derive",
                }
                .into())
            }
        };
        let material = KeyMaterial::Secret(crypto::SecretKey::new(kind, bytes.to_vec())?);
        let attrs = super::keygen::settable(
            req.key_type,
            KeyClass::SecretKey,
            &req.label,
            &req.attributes,
            req.token,
            true,
            self.hsm2m(),
            setting,
        )?;
        let Login {
            actor,
            keys: session,
            ..
        } = login;
        let new = OneKey {
            key_type: req.key_type,
            class: KeyClass::SecretKey,
            attrs,
            material,
            quorum: QuorumValues::default(),
            share_with: Vec::new(),
        };
        self.store_one(
            actor,
            req.token,
            session,
            new,
            |_| Ok(()),
            "the derived key was not stored",
        )
    }
}
