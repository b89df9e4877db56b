//! The HSMs of a cluster kept in step: outage and recovery, coverage of users and keys, sync
//! status, and the key availability check.
//!
//! Every change reaches the HSMs that are up in the transaction that makes it (database
//! triggers, `src/store/db.rs`); an HSM that is down keeps the versions it had. Restoring or
//! adding an HSM brings it up to date from the healthy ones, as the appliance user does on a
//! real cluster.

use std::collections::BTreeMap;

use crate::store::records::{self, HsmRecord};

use super::crypto::HashFunction;
use super::key::{Key, KeyError};
use super::login::Login;
use super::policy::OperationClass;
use super::{Cluster, Entropy, HsmError};

/// Most HSMs a cluster may have (AWS quota).
pub const MAX_HSMS: usize = 28;

/// One HSM of `cluster sync-status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmSync {
    pub id: String,
    pub up: bool,
    /// Hex SHA-256 of each key version the HSM holds, sorted.
    pub digests: Vec<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Cluster {
    /// Fails when no HSM of the cluster is up (every command that needs an HSM).
    pub fn require_available(&mut self) -> Result<(), HsmError> {
        if self.hsms()?.iter().any(|h| h.up) {
            Ok(())
        } else {
            Err(HsmError::NoHsmAvailable {
                id: self.settings.id.clone(),
            })
        }
    }

    fn set_hsm_state(&mut self, hsm_id: &str, up: bool) -> Result<(), HsmError> {
        let id = hsm_id.to_string();
        self.store.write(|tx| {
            let state = if up { "up" } else { "down" };
            if records::set_hsm_state(tx, &id, state)? == 0 {
                return Err(HsmError::HsmNotFound { id: id.clone() });
            }
            if up {
                records::synchronise_hsm(tx, &id)?;
            }
            Ok(())
        })
    }

    /// `cloudhsm-sim hsm fail`: the HSM stops taking changes.
    pub fn fail_hsm(&mut self, hsm_id: &str) -> Result<(), HsmError> {
        self.set_hsm_state(hsm_id, false)
    }

    /// `cloudhsm-sim hsm restore`: the HSM is up again and brought up to date.
    pub fn restore_hsm(&mut self, hsm_id: &str) -> Result<(), HsmError> {
        self.set_hsm_state(hsm_id, true)
    }

    /// `cloudhsm-sim hsm add`: a new HSM, synchronised from the cluster. Returns its id.
    pub fn add_hsm(&mut self, entropy: &mut Entropy) -> Result<String, HsmError> {
        let model = self.settings.hsm_type.model();
        let id = format!("hsm-{}", entropy.id_chars(11));
        let serial = format!(
            "{}{:04}-ICM{:06}",
            model.serial_prefix,
            1900 + entropy.below(100),
            entropy.below(1_000_000)
        );
        let new_id = id.clone();
        self.store.write(|tx| {
            let hsms = records::hsms(tx)?;
            if hsms.len() >= MAX_HSMS {
                return Err(HsmError::TooManyHsms { max: MAX_HSMS });
            }
            let ordinal = hsms.iter().map(|h| h.ordinal).max().unwrap_or(-1) + 1;
            records::insert_hsm(
                tx,
                &HsmRecord {
                    id: new_id.clone(),
                    ordinal,
                    serial_number: serial,
                    state: "up".into(),
                },
            )?;
            records::synchronise_hsm(tx, &new_id)?;
            Ok(())
        })?;
        Ok(id)
    }

    /// `cloudhsm-sim hsm remove`: the HSM leaves the cluster (the last one cannot).
    pub fn remove_hsm(&mut self, hsm_id: &str) -> Result<(), HsmError> {
        let id = hsm_id.to_string();
        self.store.write(|tx| {
            let hsms = records::hsms(tx)?;
            if !hsms.iter().any(|h| h.id == id) {
                return Err(HsmError::HsmNotFound { id: id.clone() });
            }
            if hsms.len() == 1 {
                return Err(HsmError::LastHsm);
            }
            records::delete_hsm(tx, &id)?;
            Ok(())
        })
    }

    /// Whether every HSM holds the current version of each user (`cluster-coverage`).
    pub fn user_coverage(&mut self) -> Result<BTreeMap<String, bool>, HsmError> {
        let total = self.hsms()?.len() as i64;
        let copies = self.store.read(|tx| records::coverage(tx, "user"))?;
        Ok(copies.into_iter().map(|(u, n)| (u, n >= total)).collect())
    }

    /// Whether every HSM holds the current version of key `reference` (`key-coverage`,
    /// `cluster-coverage`). Session keys live on one HSM: never full on a multi-HSM cluster.
    pub fn key_full_coverage(&mut self, key: &Key) -> Result<bool, HsmError> {
        let total = self.hsms()?.len() as i64;
        let copies = self
            .store
            .read(|tx| records::key_copies(tx, key.reference as i64))?;
        Ok(copies >= total || (copies == 0 && !key.attrs.flags.token && total == 1))
    }

    /// The key availability check: on a cluster of several HSMs a key must be on at least
    /// two HSMs that are up before it is used (`configure-cli --disable-key-availability-check`
    /// turns the check off).
    pub fn check_key_available(&mut self, key: &Key, check: bool) -> Result<(), HsmError> {
        if !check || !key.attrs.flags.token {
            return Ok(());
        }
        // One read: the number of HSMs and the up HSMs holding the key's current version.
        let copies = self.store.read(|tx| {
            let reference = key.reference as i64;
            let stamp = records::key_stamp(tx, reference)?;
            Ok::<_, HsmError>(records::key_availability(tx, reference, stamp)?)
        })?;
        availability(key, check, copies)
    }

    /// `cluster sync-status` \[emulator extension\]: the key versions each HSM holds.
    pub fn sync_status(&mut self, login: &Login) -> Result<(bool, Vec<HsmSync>), HsmError> {
        self.guard(login, OperationClass::SyncStatus)?;
        let hsms = self.hsms()?;
        let mut out = Vec::new();
        for h in hsms {
            let objects = self.store.read(|tx| records::hsm_objects(tx, &h.id))?;
            let mut digests: Vec<String> = objects
                .into_iter()
                .filter(|(kind, _, _)| kind == "key")
                .map(|(_, object, stamp)| {
                    hex(&HashFunction::Sha256.digest(format!("{object}:{stamp}").as_bytes()))
                })
                .collect();
            digests.sort();
            out.push(HsmSync {
                id: h.id,
                up: h.up,
                digests,
            });
        }
        let in_sync = out.windows(2).all(|w| w[0].digests == w[1].digests)
            && self.store.read(|tx| {
                let users = records::coverage(tx, "user")?;
                let total = records::hsms(tx)?.len() as i64;
                Ok::<_, HsmError>(users.values().all(|n| *n >= total))
            })?;
        Ok((in_sync, out))
    }
}

/// The key availability check on counts already read: (HSMs of the cluster, up HSMs holding
/// the key's current version). A cluster of one HSM fails it too: "This error typically
/// occurs in clusters with only one HSM" (AWS CloudHSM User Guide, "Troubleshoot the key
/// availability check"), and AWS tells single-HSM users to disable the check.
pub(super) fn availability(
    key: &Key,
    check: bool,
    (_hsms, up): (i64, i64),
) -> Result<(), HsmError> {
    if !check || !key.attrs.flags.token || up >= 2 {
        Ok(())
    } else {
        Err(KeyError::KeyUnavailable.into())
    }
}
