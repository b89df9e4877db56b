//! `crypto sign` and `crypto verify`: the key rules (class, `sign`/`verify` attribute, cluster
//! mode, key quorum) around the mechanisms of `crate::hsm::crypto`.

use super::crypto::{self, KeyMaterial, Mechanism};
use super::key::{Key, KeyClass, KeyError, Term};
use super::login::Login;
use super::model::HsmType;
use super::policy::OperationClass;
use super::quorum::{ApprovalFile, Approve, Service};
use super::{Cluster, Entropy, HsmError};

impl Cluster {
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
        self.guard(login, OperationClass::SignVerify)?;
        self.check_mechanism_available(mechanism)?;
        let (actor, session) = (&login.actor, &login.keys);
        let key = self.select(actor, terms, session)?;
        if key.class != KeyClass::PublicKey {
            return Err(KeyError::WrongClass {
                needed: "a public key",
            }
            .into());
        }
        if !key.attrs.flags.verify {
            return Err(KeyError::AttributeRequired { name: "verify" }.into());
        }
        let blob = self.material_blob(&key, session)?;
        let KeyMaterial::Public(public) = KeyMaterial::from_blob(&blob)? else {
            return Err(KeyError::WrongClass {
                needed: "a public key",
            }
            .into());
        };
        crypto::verify(&public, mechanism, data, signature).map_err(HsmError::from)
    }
}
