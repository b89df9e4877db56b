//! `crypto sign` and `crypto verify`: the key rules (class, `sign`/`verify` attribute, cluster
//! mode, key quorum) around the mechanisms of `crate::hsm::crypto`.

use super::crypto::{self, HashFunction, KeyMaterial, Mechanism};
use super::key::{Key, KeyClass, KeyError, KeyType, Term};
use super::login::Login;
use super::model::HsmType;
use super::policy::OperationClass;
use super::quorum::{ApprovalFile, Approve, Service};
use super::{Cluster, Entropy, HsmError};

/// A signature of either kind: with a private key (verified with its public key), or an HMAC
/// under a secret key (AES or generic secret), verified by computing it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    Asymmetric(Mechanism),
    Hmac(HashFunction),
}

/// Which half of a signature operation a key is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUse {
    Sign,
    Verify,
}

/// The most data an HMAC takes, by hash: it is computed inside the HSM, in one frame
/// (AWS CloudHSM PKCS #11 library, "Maximum data size for each mechanism").
pub fn hmac_max_data(hash: HashFunction) -> usize {
    match hash {
        HashFunction::Sha1 | HashFunction::Sha256 => 16_288,
        HashFunction::Sha224 => 16_256,
        HashFunction::Sha384 | HashFunction::Sha512 => 16_224,
    }
}

impl Signing {
    /// The class of key this use of the mechanism needs.
    fn class(self, usage: SignUse) -> KeyClass {
        match (self, usage) {
            (Signing::Hmac(_), _) => KeyClass::SecretKey,
            (Signing::Asymmetric(_), SignUse::Sign) => KeyClass::PrivateKey,
            (Signing::Asymmetric(_), SignUse::Verify) => KeyClass::PublicKey,
        }
    }

    /// Whether a key of `key` type (and curve) can do this mechanism at all.
    fn fits(self, key: &Key) -> bool {
        let edwards = matches!(
            &key.derived.typed,
            super::key::Typed::Ec { curve, .. } if curve == crypto::Curve::Ed25519.name()
        );
        match self {
            Signing::Hmac(_) => matches!(key.key_type, KeyType::Aes | KeyType::GenericSecret),
            Signing::Asymmetric(m) => match m {
                Mechanism::RsaPkcs { .. }
                | Mechanism::RsaPkcsUnhashed
                | Mechanism::RsaPkcsPss { .. } => key.key_type == KeyType::Rsa,
                Mechanism::Ecdsa { .. } => key.key_type == KeyType::Ec && !edwards,
                Mechanism::Ed25519 | Mechanism::Ed25519ph { .. } => {
                    key.key_type == KeyType::Ec && edwards
                }
                Mechanism::MlDsa { .. } => key.key_type == KeyType::MlDsa,
            },
        }
    }

    fn mechanism_name(self) -> &'static str {
        match self {
            Signing::Hmac(_) => "hmac",
            Signing::Asymmetric(m) => m.name(),
        }
    }
}

impl Cluster {
    /// Everything that decides whether the selected key may be used with `signing` for
    /// `usage`, checked before any data is seen: the login's role, the cluster's mode, the
    /// key's class and type, its `sign`/`verify` attribute, the key availability check and
    /// the key's use quorum (a front end without approvals, as PKCS#11, cannot satisfy one).
    /// A PKCS#11 `C_SignInit`/`C_VerifyInit` runs this; every use checks it again.
    pub fn check_signing_key(
        &mut self,
        login: &Login,
        terms: &[Term],
        signing: Signing,
        usage: SignUse,
    ) -> Result<Key, HsmError> {
        let class = match signing {
            Signing::Hmac(_) => OperationClass::DigestHmac,
            Signing::Asymmetric(_) => OperationClass::SignVerify,
        };
        // The HSMs' availability is checked in the read that selects the key (none at all
        // while the database is unchanged: the hot path of key use, as `sign_data`'s).
        self.admit(login, class)?;
        if let Signing::Asymmetric(mechanism) = &signing {
            self.check_mechanism_available(mechanism)?;
        }
        let (key, fresh, copies) = self.select_for_use(&login.actor, terms, &login.keys)?;
        let needed = signing.class(usage);
        if key.class != needed {
            return Err(KeyError::WrongClass {
                needed: match needed {
                    KeyClass::PrivateKey => "a private key",
                    KeyClass::PublicKey => "a public key",
                    KeyClass::SecretKey => "a generic secret or AES key",
                },
            }
            .into());
        }
        if !signing.fits(&key) {
            return Err(crypto::CryptoError::WrongKeyType {
                mechanism: signing.mechanism_name(),
                needed: match signing {
                    Signing::Hmac(_) => "a generic secret or AES key",
                    Signing::Asymmetric(_) => "a key of the mechanism's type",
                },
            }
            .into());
        }
        let (set, name) = match usage {
            SignUse::Sign => (key.attrs.flags.sign, "sign"),
            SignUse::Verify => (key.attrs.flags.verify, "verify"),
        };
        if !set {
            return Err(KeyError::AttributeRequired { name }.into());
        }
        super::replication::availability(&key, self.availability_check, copies)?;
        if key.quorum.usage > 1 && usage == SignUse::Sign {
            return Err(KeyError::QuorumFailed.into());
        }
        // The key is about to be used: keep it decoded (`decoded` holds its current version
        // from here on, which `mac` and the signatures rely on).
        if let Some((version, blob)) = fresh {
            let material = KeyMaterial::from_blob(&blob)?;
            self.decoded.insert(key.reference, (version, material));
        }
        Ok(key)
    }

    /// A signature over `data` with the selected key: [`Cluster::sign_data`] for a private
    /// key, an HMAC (at most [`hmac_max_data`] bytes) for a secret key.
    pub fn sign_with(
        &mut self,
        login: &Login,
        terms: &[Term],
        signing: Signing,
        data: &[u8],
        entropy: &Entropy,
    ) -> Result<Vec<u8>, HsmError> {
        match signing {
            Signing::Asymmetric(mechanism) => Ok(self
                .sign_data(login, terms, &mechanism, data, entropy, None)?
                .1),
            Signing::Hmac(hash) => self.mac(login, terms, hash, data, SignUse::Sign),
        }
    }

    /// Whether `signature` is valid for `data` under the selected key: [`Cluster::verify_data`]
    /// for a public key, an HMAC computed again (compared in constant time) for a secret key.
    pub fn verify_with(
        &mut self,
        login: &Login,
        terms: &[Term],
        signing: Signing,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool, HsmError> {
        match signing {
            Signing::Asymmetric(mechanism) => {
                self.verify_data(login, terms, &mechanism, data, signature)
            }
            Signing::Hmac(hash) => {
                let expected = self.mac(login, terms, hash, data, SignUse::Verify)?;
                Ok(aws_lc_rs::constant_time::verify_slices_are_equal(&expected, signature).is_ok())
            }
        }
    }

    /// The HMAC of `data` under the selected secret key, checked for `usage`.
    fn mac(
        &mut self,
        login: &Login,
        terms: &[Term],
        hash: HashFunction,
        data: &[u8],
        usage: SignUse,
    ) -> Result<Vec<u8>, HsmError> {
        let max = hmac_max_data(hash);
        if data.len() > max {
            return Err(crypto::CryptoError::DataTooLong {
                mechanism: "hmac",
                max,
                actual: data.len(),
            }
            .into());
        }
        let key = self.check_signing_key(login, terms, Signing::Hmac(hash), usage)?;
        match self.decoded.get(&key.reference) {
            Some((_, KeyMaterial::Secret(secret))) => Ok(crypto::hmac(hash, secret.bytes(), data)),
            _ => Err(KeyError::WrongClass {
                needed: "a generic secret or AES key",
            }
            .into()),
        }
    }

    fn check_mechanism_available(&self, mechanism: &Mechanism) -> Result<(), HsmError> {
        let hsm2m = self.settings.hsm_type == HsmType::Hsm2mMedium;
        match mechanism {
            Mechanism::Ed25519 | Mechanism::Ed25519ph { .. } if !hsm2m || self.settings.fips => {
                Err(KeyError::NeedsHsm2mNonFips {
                    what: "Ed25519 signing",
                }
                .into())
            }
            Mechanism::MlDsa { .. } if !hsm2m => {
                Err(KeyError::NeedsHsm2m { what: "ML-DSA" }.into())
            }
            _ => Ok(()),
        }
    }

    /// `crypto sign *`: the selected key must be a private key with `sign` true. When its
    /// use-key quorum value asks for approvals, `approval` is checked and spent in one write
    /// transaction with the signature (a failed signature spends nothing).
    pub fn sign_data(
        &mut self,
        login: &Login,
        terms: &[Term],
        mechanism: &Mechanism,
        data: &[u8],
        entropy: &Entropy,
        approval: Option<&ApprovalFile>,
    ) -> Result<(Key, Vec<u8>), HsmError> {
        // The availability of an HSM is checked in the read that selects the key.
        self.admit(login, OperationClass::SignVerify)?;
        self.check_mechanism_available(mechanism)?;
        let (key, fresh, copies) = self.select_for_use(&login.actor, terms, &login.keys)?;
        if key.class != KeyClass::PrivateKey {
            return Err(KeyError::WrongClass {
                needed: "a private key",
            }
            .into());
        }
        if !key.attrs.flags.sign {
            return Err(KeyError::AttributeRequired { name: "sign" }.into());
        }
        super::replication::availability(&key, self.availability_check, copies)?;
        let wanted = Approve::key(Service::KeyUsage, &key);
        if wanted.required > 1 {
            // Refused before the key is decoded, as without the write below.
            self.check_key_approval(login, Service::KeyUsage, &key, approval)?;
        }
        // Decoding (and the first use of) a key costs more than a signature: keep it.
        if let Some((version, blob)) = fresh {
            let material = KeyMaterial::from_blob(&blob)?;
            self.decoded.insert(key.reference, (version, material));
        }
        let Some((_, KeyMaterial::Private(private))) = self.decoded.get(&key.reference) else {
            return Err(KeyError::WrongClass {
                needed: "a private key",
            }
            .into());
        };
        let mut rng = entropy.derive(key.reference);
        let signature = if wanted.required > 1 {
            let now = self.now();
            self.store.write(|tx| {
                wanted.spend(tx, login, approval, now)?;
                crypto::sign(private, mechanism, data, &mut rng).map_err(HsmError::from)
            })?
        } else {
            crypto::sign(private, mechanism, data, &mut rng)?
        };
        Ok((key, signature))
    }

    /// `crypto verify *`: the selected key must be a public key with `verify` true. Returns
    /// whether the signature is valid.
    pub fn verify_data(
        &mut self,
        login: &Login,
        terms: &[Term],
        mechanism: &Mechanism,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool, HsmError> {
        // As `sign_data`: the HSMs' availability is checked in the read that selects the key,
        // and a key decoded once is kept.
        self.admit(login, OperationClass::SignVerify)?;
        self.check_mechanism_available(mechanism)?;
        let (key, fresh, _) = self.select_for_use(&login.actor, terms, &login.keys)?;
        if key.class != KeyClass::PublicKey {
            return Err(KeyError::WrongClass {
                needed: "a public key",
            }
            .into());
        }
        if !key.attrs.flags.verify {
            return Err(KeyError::AttributeRequired { name: "verify" }.into());
        }
        if let Some((version, blob)) = fresh {
            let material = KeyMaterial::from_blob(&blob)?;
            self.decoded.insert(key.reference, (version, material));
        }
        let Some((_, KeyMaterial::Public(public))) = self.decoded.get(&key.reference) else {
            return Err(KeyError::WrongClass {
                needed: "a public key",
            }
            .into());
        };
        crypto::verify(public, mechanism, data, signature).map_err(HsmError::from)
    }
}
