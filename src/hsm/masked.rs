//! Masked objects \[emulator extension\]: a key encrypted by the HSM under the cluster's
//! masking key before it leaves, so that only an HSM of the same cluster can insert it again
//! (the "Extract, insert masked objects" row of the permission table).

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::store::records::{self, KeyRecord};

use super::crypto::{self, KeyMaterial, SecretKey, SecretKind};
use super::key::{Key, KeyError, Term};
use super::keys::require_owner;
use super::login::Login;
use super::policy::OperationClass;
use super::user::Role;
use super::{Cluster, Entropy, HsmError};

const FORMAT: &str = "cloudhsm-sim masked object 1";

/// The file `key extract-masked` writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaskedFile {
    pub format: String,
    #[serde(rename = "cluster-id")]
    pub cluster_id: String,
    #[serde(rename = "key-reference")]
    pub key_reference: String,
    pub iv: String,
    pub data: String,
}

/// What a masked object holds once unmasked.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Inner {
    reference: i64,
    owner: String,
    key_type: String,
    class: String,
    label: String,
    settable: String,
    derived: String,
    manage_quorum: i64,
    use_quorum: i64,
    shares: Vec<String>,
    material: String,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn aad(cluster_id: &str, reference: &str) -> Vec<u8> {
    format!("{FORMAT}|{cluster_id}|{reference}").into_bytes()
}

impl Cluster {
    /// The cluster's masking key (made on first use).
    fn masking_key(&mut self, entropy: &mut Entropy) -> Result<KeyMaterial, HsmError> {
        let mut fresh = [0u8; 32];
        entropy.fill(&mut fresh);
        let hex_key = self.store.write(|tx| {
            if let Some(k) = records::meta(tx, "masking_key")? {
                return Ok::<_, HsmError>(k);
            }
            let k: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
            records::set_meta(tx, "masking_key", &k)?;
            Ok(k)
        })?;
        let bytes = super::key::attributes::parse_hex("masking key", &hex_key)?;
        let secret = SecretKey::new(SecretKind::Aes, bytes).map_err(KeyError::from)?;
        Ok(KeyMaterial::Secret(secret))
    }

    /// `key extract-masked`: the selected token key, masked for this cluster. A crypto user
    /// may extract only keys it owns.
    pub fn extract_masked(
        &mut self,
        login: &Login,
        terms: &[Term],
        entropy: &mut Entropy,
    ) -> Result<(Key, MaskedFile), HsmError> {
        self.guard(login, OperationClass::MaskedObjects)?;
        let actor = &login.actor;
        let key = self.select(actor, terms, &login.keys)?;
        if actor.role == Role::CryptoUser {
            require_owner(actor, &key)?;
        }
        if !key.attrs.flags.token {
            return Err(KeyError::SessionKeyNotMaskable.into());
        }
        let reference = key.reference as i64;
        let (record, material, shares) = self.store.read(|tx| {
            let (_stamp, record) = records::visible_keys(
                tx,
                records::Visible {
                    username: None,
                    label: None,
                    reference: Some(reference),
                },
                None,
            )?
            .into_iter()
            .next()
            .ok_or(KeyError::NotFound)?;
            let material = records::key_material(tx, reference)?.unwrap_or_default();
            let shares = records::key_shares(tx, reference)?;
            Ok::<_, HsmError>((record, material, shares))
        })?;
        let inner = Inner {
            reference,
            owner: record.owner,
            key_type: record.key_type,
            class: record.class,
            label: record.label,
            settable: record.settable,
            derived: record.derived,
            manage_quorum: record.manage_quorum,
            use_quorum: record.use_quorum,
            shares,
            material: b64().encode(material),
        };
        let plain = serde_json::to_vec(&inner)
            .map_err(|_| KeyError::Internal("the masked object could not be encoded"))?;
        let masking = self.masking_key(entropy)?;
        let reference_text = key.reference_string();
        let (iv, data) = crypto::aes_gcm_encrypt(
            &masking,
            &plain,
            &aad(&self.settings.id, &reference_text),
            128,
            entropy,
        )
        .map_err(KeyError::from)?;
        let file = MaskedFile {
            format: FORMAT.into(),
            cluster_id: self.settings.id.clone(),
            key_reference: reference_text,
            iv: b64().encode(iv),
            data: b64().encode(data),
        };
        Ok((key, file))
    }

    /// `key insert-masked`: puts a masked key of this cluster back — onto the HSMs that lack
    /// it, or as the same key under the same reference after it was deleted. Refuses objects
    /// of other clusters and altered ones.
    pub fn insert_masked(
        &mut self,
        login: &Login,
        file: &MaskedFile,
        entropy: &mut Entropy,
    ) -> Result<String, HsmError> {
        self.guard(login, OperationClass::MaskedObjects)?;
        let actor = &login.actor;
        if file.format != FORMAT {
            return Err(KeyError::MaskedObjectInvalid.into());
        }
        if file.cluster_id != self.settings.id {
            return Err(KeyError::MaskedObjectForeign {
                cluster: file.cluster_id.clone(),
            }
            .into());
        }
        let masking = self.masking_key(entropy)?;
        let iv = b64()
            .decode(&file.iv)
            .map_err(|_| KeyError::MaskedObjectInvalid)?;
        let data = b64()
            .decode(&file.data)
            .map_err(|_| KeyError::MaskedObjectInvalid)?;
        let plain = crypto::aes_gcm_decrypt(
            &masking,
            &iv,
            &data,
            &aad(&self.settings.id, &file.key_reference),
            128,
        )
        .map_err(|_| KeyError::MaskedObjectInvalid)?;
        let inner: Inner =
            serde_json::from_slice(&plain).map_err(|_| KeyError::MaskedObjectInvalid)?;
        if super::key::format_reference(inner.reference as u64) != file.key_reference {
            return Err(KeyError::MaskedObjectInvalid.into());
        }
        if actor.role == Role::CryptoUser && inner.owner != actor.username {
            return Err(KeyError::NotOwner.into());
        }
        let material = b64()
            .decode(&inner.material)
            .map_err(|_| KeyError::MaskedObjectInvalid)?;
        self.store.write(|tx| {
            let exists = records::key_stamp(tx, inner.reference)?.is_some();
            if exists {
                // Already in the cluster: copy the current version onto every HSM that is up.
                tx.execute(
                    "UPDATE keys SET label = label WHERE reference = ?1",
                    [inner.reference],
                )
                .map_err(crate::store::StoreError::from)?;
            } else {
                let record = KeyRecord {
                    reference: inner.reference,
                    owner: inner.owner.clone(),
                    key_type: inner.key_type.clone(),
                    class: inner.class.clone(),
                    label: inner.label.clone(),
                    settable: inner.settable.clone(),
                    derived: inner.derived.clone(),
                    manage_quorum: inner.manage_quorum,
                    use_quorum: inner.use_quorum,
                };
                records::insert_key(tx, &record, &material)?;
                for user in &inner.shares {
                    if records::user(tx, user)?.is_some() {
                        records::add_key_share(tx, inner.reference, user)?;
                    }
                }
            }
            Ok::<_, HsmError>(())
        })?;
        Ok(file.key_reference.clone())
    }
}
