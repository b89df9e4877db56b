//! `crypto sign` and `crypto verify`: the key rules (class, `sign`/`verify` attribute, cluster
//! mode, key quorum) around the mechanisms of `crate::hsm::crypto`.

use super::crypto::{self, KeyMaterial, Mechanism};
use super::key::{Key, KeyClass, KeyError, Term};
use super::keys::{Actor, SessionKeys};
use super::model::HsmType;
use super::quorum::{Approval, Service};
use super::{Cluster, Entropy, HsmError};

fn crypto_err(e: crypto::CryptoError) -> HsmError {
    KeyError::Crypto(e.to_string()).into()
}

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

    /// `crypto sign *`: the selected key must be a private key with `sign` true whose
    /// use-key quorum value does not ask for approvals.
    pub fn sign_data(
        &mut self,
        actor: &Actor,
        terms: &[Term],
        mechanism: &Mechanism,
        data: &[u8],
        entropy: &Entropy,
        approval: &Approval<'_>,
        session: &SessionKeys,
    ) -> Result<(Key, Vec<u8>), HsmError> {
        self.check_mechanism_available(mechanism)?;
        let (key, fresh, copies) = self.select_for_use(actor, terms, session)?;
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
        let token = self.approve_key(approval, Service::KeyUsage, &key)?;
        // Decoding (and the first use of) a key costs more than a signature: keep it.
        if let Some((version, blob)) = fresh {
            let material = KeyMaterial::from_blob(&blob).map_err(crypto_err)?;
            self.decoded.insert(key.reference, (version, material));
        }
        let Some((_, KeyMaterial::Private(private))) = self.decoded.get(&key.reference) else {
            return Err(KeyError::WrongClass {
                needed: "a private key",
            }
            .into());
        };
        let mut rng = entropy.derive(key.reference);
        let signature = crypto::sign(private, mechanism, data, &mut rng).map_err(crypto_err)?;
        self.consume_tokens(&[token])?;
        Ok((key, signature))
    }

    /// `crypto verify *`: the selected key must be a public key with `verify` true. Returns
    /// whether the signature is valid.
    pub fn verify_data(
        &mut self,
        actor: &Actor,
        terms: &[Term],
        mechanism: &Mechanism,
        data: &[u8],
        signature: &[u8],
        session: &SessionKeys,
    ) -> Result<bool, HsmError> {
        self.check_mechanism_available(mechanism)?;
        let key = self.select_key(actor, terms, session)?;
        if key.class != KeyClass::PublicKey {
            return Err(KeyError::WrongClass {
                needed: "a public key",
            }
            .into());
        }
        if !key.attrs.flags.verify {
            return Err(KeyError::AttributeRequired { name: "verify" }.into());
        }
        let blob = self.key_material(&key, session)?;
        let KeyMaterial::Public(public) = KeyMaterial::from_blob(&blob).map_err(crypto_err)? else {
            return Err(KeyError::WrongClass {
                needed: "a public key",
            }
            .into());
        };
        crypto::verify(&public, mechanism, data, signature).map_err(crypto_err)
    }
}
