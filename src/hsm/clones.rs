//! `user replicate` and `key replicate`: copying a user or a key from a cluster to a clone
//! of it (a cluster of the same lineage, made from a backup of it or of one of its clones).
//!
//! Both operations take a login on each cluster: the caller must be logged in on the source
//! and on the destination, with a role that may run the operation on both. The copy keeps
//! what makes the user or the key the same one on the clone: a user's password hash, role
//! and registered token-sign key (MFA and quorum); a key's reference, attributes, owner,
//! shares, quorum values and material.

use crate::store::records::{self, KeyRecord, Visible};
use crate::store::Tx;

use super::cluster::{existing_user, UserInfo};
use super::key::{Key, KeyError, Term};
use super::keys::require_owner;
use super::login::Login;
use super::policy::OperationClass;
use super::user::{Role, Username};
use super::{Cluster, HsmError};

/// The next key reference a cluster hands out (`records::allocate_references`).
const NEXT_KEY_REFERENCE: &str = "next_key_reference";

impl Cluster {
    /// Refuses a copy from this cluster to `destination` unless they are clones, and unless
    /// `login` holds here and `destination_login` there, each with a role that may run
    /// `class`.
    fn check_replication(
        &mut self,
        login: &Login,
        destination: &mut Cluster,
        destination_login: &Login,
        class: OperationClass,
    ) -> Result<(), HsmError> {
        self.guard(login, class)?;
        destination.guard(destination_login, class)?;
        if self.is_clone_of(destination)? {
            Ok(())
        } else {
            Err(HsmError::NotClones {
                from: self.settings.id.clone(),
                to: destination.settings.id.clone(),
            })
        }
    }

    /// `user replicate`: copies `username` (of `role`) from this cluster to its clone
    /// `destination`, with its password hash, role and registered token-sign key. A user the
    /// destination already has with that role is brought in line with the source's (its
    /// password and registrations); one it has with another role is refused.
    pub fn replicate_user(
        &mut self,
        login: &Login,
        destination: &mut Cluster,
        destination_login: &Login,
        username: &Username,
        role: Role,
    ) -> Result<UserInfo, HsmError> {
        self.check_replication(
            login,
            destination,
            destination_login,
            OperationClass::AddRemoveUsers,
        )?;
        let source_id = self.settings.id.clone();
        let (record, user_key) = self.store.read(|tx| {
            existing_user(tx, &source_id, username.as_str(), role)?;
            let record =
                records::user(tx, username.as_str())?.ok_or_else(|| HsmError::UserNotFound {
                    username: username.to_string(),
                    role: role.as_str().to_string(),
                })?;
            Ok::<_, HsmError>((record, records::user_key(tx, username.as_str())?))
        })?;
        let max = destination.settings.hsm_type.max_users();
        let destination_id = destination.settings.id.clone();
        destination.store.write(|tx| {
            match records::user(tx, username.as_str())? {
                Some(existing) if existing.role != record.role => return Err(HsmError::UserExists),
                Some(_) => {
                    if let Some(hash) = record.password_hash.as_deref() {
                        records::set_password(tx, username.as_str(), hash)?;
                    }
                }
                None => {
                    if usize::try_from(records::user_count(tx)?).unwrap_or(usize::MAX) >= max {
                        return Err(HsmError::UserQuota { max });
                    }
                    records::insert_user(
                        tx,
                        username.as_str(),
                        &record.role,
                        record.password_hash.as_deref(),
                    )?;
                }
            }
            if let Some(key) = &user_key {
                records::set_user_key(tx, username.as_str(), key)?;
            }
            existing_user(tx, &destination_id, username.as_str(), role)
        })
    }

    /// `key replicate`: copies the one key the filter selects on this cluster to its clone
    /// `destination`, under the same reference, with its attributes, owner, shares, quorum
    /// values and material. A crypto user replicates only keys it owns; the owner and every
    /// user the key is shared with must exist on the destination. The same key again (same
    /// material) brings the destination's copy in line; another key at that reference there
    /// is refused. Session keys live only in their login and are not replicated.
    pub fn replicate_key(
        &mut self,
        login: &Login,
        terms: &[Term],
        destination: &mut Cluster,
        destination_login: &Login,
    ) -> Result<Key, HsmError> {
        self.check_replication(
            login,
            destination,
            destination_login,
            OperationClass::ReplicateKeys,
        )?;
        let key = self.select(&login.actor, terms, &login.keys)?;
        if login.role() != Role::Admin {
            require_owner(&login.actor, &key)?;
        }
        if login.keys.holds(key.reference) {
            return Err(HsmError::SessionKeyNotReplicable);
        }
        let reference = key.reference as i64;
        let (row, material, shares) = self.store.read(|tx| {
            let row = key_row(tx, reference)?;
            let material = records::key_material(tx, reference)?.ok_or(KeyError::NotFound)?;
            Ok::<_, HsmError>((row, material, records::key_shares(tx, reference)?))
        })?;
        let destination_id = destination.settings.id.clone();
        destination.store.write(|tx| {
            for user in std::iter::once(&row.owner).chain(&shares) {
                if existing_user(tx, &destination_id, user, Role::CryptoUser).is_err() {
                    return Err(HsmError::ReplicaUserMissing {
                        username: user.clone(),
                        cluster: destination_id.clone(),
                    });
                }
            }
            let held = records::visible_keys(tx, one(reference), None)?;
            // A certificate (PKCS#11 certificate storage) made on the destination holds it.
            if crate::store::certificates::certificate(tx, reference)?.is_some() {
                return Err(HsmError::ReferenceTaken {
                    reference: key.reference_string(),
                    cluster: destination_id.clone(),
                });
            }
            if held.is_empty() {
                records::insert_key(tx, &row, &material)?;
            } else {
                let same = records::key_material(tx, reference)?
                    .is_some_and(|m| m.as_slice() == material.as_slice());
                if !same {
                    return Err(HsmError::ReferenceTaken {
                        reference: key.reference_string(),
                        cluster: destination_id.clone(),
                    });
                }
                // The destination's copy becomes the source's: attributes, shares, quorum.
                records::delete_key(tx, reference)?;
                records::insert_key(tx, &row, &material)?;
            }
            for user in &shares {
                records::add_key_share(tx, reference, user)?;
            }
            // Keys made on the destination later must not take the replicated reference.
            let next = records::meta(tx, NEXT_KEY_REFERENCE)?.and_then(|v| v.parse::<i64>().ok());
            if next.is_none_or(|n| n <= reference) {
                records::set_meta(tx, NEXT_KEY_REFERENCE, &(reference + 1).to_string())?;
            }
            Ok(())
        })?;
        Ok(key)
    }
}

/// Every key at `reference`, whoever may see it.
fn one(reference: i64) -> Visible<'static> {
    Visible {
        username: None,
        label: None,
        reference: Some(reference),
    }
}

/// The stored row of the key at `reference`.
fn key_row(tx: &Tx<'_>, reference: i64) -> Result<KeyRecord, HsmError> {
    records::visible_keys(tx, one(reference), None)?
        .into_iter()
        .next()
        .map(|(_, row)| row)
        .ok_or_else(|| KeyError::NotFound.into())
}
