//! The default cluster: the one the first command on an empty state directory makes
//! (architecture §2), marked as such in the transaction that makes it.
//!
//! While nobody has used it (never activated, only `admin` and `app_user`, no keys, no
//! setting changed, nobody logged in, its HSMs as they were made, not named by the CLI
//! configuration) it only stands in for the cluster a user has not brought yet:
//! `cloudhsm-sim import` and `seed` put theirs in its place rather than beside it, so that a
//! read-only first command (`cloudhsm-cli user list`) does not leave every later command
//! needing `--cluster-id`. A cluster made by `cloudhsm-sim init`, `configure-cli`, `seed` or
//! `import`, and one that was reset, carries no mark and is never replaced this way.

use crate::store::records;
use crate::store::{Home, HomeLock, StoreError, Tx, INSTANCE_KEY};

use super::process::is_alive;
use super::user::{ADMIN, APPLIANCE_USER};
use super::{Cluster, ClusterConfig, HsmError, Role};

/// The `meta` row that marks a cluster made by a first command rather than asked for. An
/// export leaves it out and an import never restores it: an imported cluster was asked for.
pub(super) const ORIGIN_KEY: &str = "origin";
const AUTO: &str = "default";

/// The `meta` rows of a cluster as it was made. Any other (a key reference taken, a token
/// timeout set, a masking key made) means the cluster was used.
const FACTORY_META: &[&str] = &[
    "activated",
    "cluster_id",
    "fips",
    "hsm_type",
    INSTANCE_KEY,
    "kdf",
    super::backup::LINEAGE_KEY,
    ORIGIN_KEY,
    "stamp",
];

/// Marks the cluster being made in `tx` as the default one.
pub(super) fn mark(tx: &Tx<'_>) -> Result<(), StoreError> {
    records::set_meta(tx, ORIGIN_KEY, AUTO)
}

/// Whether `tx` reads a default cluster that nobody has used.
pub(super) fn untouched(tx: &Tx<'_>) -> Result<bool, HsmError> {
    if records::meta(tx, ORIGIN_KEY)?.as_deref() != Some(AUTO)
        || records::meta(tx, "activated")?.as_deref() != Some("false")
    {
        return Ok(false);
    }
    if records::meta_keys(tx)?
        .iter()
        .any(|k| !FACTORY_META.contains(&k.as_str()))
    {
        return Ok(false);
    }
    let users = records::users(tx)?;
    let factory_user = |u: &records::UserRecord| {
        (u.username == ADMIN && u.role == Role::UnactivatedAdmin.as_str())
            || (u.username == APPLIANCE_USER && u.role == Role::ApplianceUser.as_str())
    };
    if users.len() != 2 || !users.iter().all(factory_user) {
        return Ok(false);
    }
    for table in ["keys", "key_shares", "quorum_values", "tokens"] {
        if records::has_rows(tx, table)? {
            return Ok(false);
        }
    }
    // Someone logged in (the unactivated admin) is working on it.
    if records::logins(tx)?.iter().any(is_alive) {
        return Ok(false);
    }
    let hsms = records::hsms(tx)?;
    Ok(hsms.len() == ClusterConfig::default().hsms && hsms.iter().all(|h| h.state == "up"))
}

/// The only cluster of the state directory, when it is a default cluster nobody has used and
/// the CLI configuration does not name it: the one `import` and `seed` put theirs in place of.
/// A cluster that cannot be read is not one (it is never removed unseen).
pub fn untouched_default(home: &Home, _lock: &HomeLock) -> Result<Option<String>, HsmError> {
    let ids = home.cluster_ids()?;
    let [id] = ids.as_slice() else {
        return Ok(None);
    };
    if home.cli_config().clusters.contains(id) {
        return Ok(None);
    }
    let Ok(mut cluster) = Cluster::open(home, id) else {
        return Ok(None);
    };
    Ok(matches!(cluster.store.read(untouched), Ok(true)).then(|| id.clone()))
}

/// Removes cluster `id` when, checked again in the transaction that ends it, it is still a
/// default cluster nobody has used; returns whether it went. Every handle other processes
/// hold on it is refused from then on ([`crate::store::Store::retire`]): a shell that was
/// open on it says at its next command that the cluster does not exist.
pub fn retire_default(home: &Home, lock: &HomeLock, id: &str) -> Result<bool, HsmError> {
    if home.cli_config().clusters.iter().any(|c| c == id) {
        return Ok(false);
    }
    let Ok(cluster) = Cluster::open(home, id) else {
        return Ok(false);
    };
    match cluster.store.retire(lock, untouched) {
        // Reset (so no longer a default) or imported over meanwhile.
        Err(HsmError::Store(StoreError::Replaced { .. })) => Ok(false),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hsm::{create, resolve, Entropy, Kdf};

    fn state() -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path().join("state")).unwrap();
        (dir, home)
    }

    /// The default cluster of an empty state directory (fast hashing is not a default
    /// setting: these tests pay for the default preset once each).
    fn first_use(home: &Home) -> String {
        resolve(home, None, &mut Entropy::new(Some(3))).unwrap()
    }

    fn is_untouched(home: &Home, id: &str) -> bool {
        let mut cluster = Cluster::open(home, id).unwrap();
        cluster.store.read(untouched).unwrap()
    }

    #[test]
    fn only_the_first_commands_cluster_is_marked() {
        let (_dir, home) = state();
        let id = first_use(&home);
        let lock = home.lock().unwrap();
        assert_eq!(untouched_default(&home, &lock).unwrap(), Some(id.clone()));
        drop(lock);

        let (_dir2, other) = home_with_init();
        let lock = other.lock().unwrap();
        assert_eq!(untouched_default(&other, &lock).unwrap(), None);
        assert!(!is_untouched(&other, "cluster-made"));
    }

    fn home_with_init() -> (tempfile::TempDir, Home) {
        let (dir, home) = state();
        let config = ClusterConfig {
            id: Some("cluster-made".into()),
            kdf: Kdf::Fast,
            ..ClusterConfig::default()
        };
        create(&home, &config, &mut Entropy::new(Some(4))).unwrap();
        (dir, home)
    }

    #[test]
    fn any_use_ends_it() {
        let (_dir, home) = state();
        let id = first_use(&home);
        assert!(is_untouched(&home, &id));
        let mut cluster = Cluster::open(&home, &id).unwrap();
        let hsm = cluster.hsms().unwrap()[0].id.clone();
        cluster.fail_hsm(&hsm).unwrap();
        assert!(!is_untouched(&home, &id), "an HSM taken down");

        let (_dir, home) = state();
        let id = first_use(&home);
        let mut cluster = Cluster::open(&home, &id).unwrap();
        cluster
            .activate("admin-pw-1", &mut Entropy::new(None))
            .unwrap();
        assert!(!is_untouched(&home, &id), "activated");

        let (_dir, home) = state();
        let id = first_use(&home);
        crate::hsm::reset(&home, &id, &mut Entropy::new(None)).unwrap();
        assert!(!is_untouched(&home, &id), "reset");
    }

    #[test]
    fn retiring_removes_it_and_refuses_its_handles() {
        let (_dir, home) = state();
        let id = first_use(&home);
        let mut open = Cluster::open(&home, &id).unwrap();
        let lock = home.lock().unwrap();
        assert!(retire_default(&home, &lock, &id).unwrap());
        assert!(!home.cluster_path(&id).exists());
        assert!(home.cluster_ids().unwrap().is_empty());
        assert!(!open.is_current());
        assert!(matches!(
            open.users(),
            Err(HsmError::Store(StoreError::Replaced { .. }))
        ));
        drop(lock);

        // One that was used is kept.
        let (_dir, home) = state();
        let id = first_use(&home);
        Cluster::open(&home, &id)
            .unwrap()
            .activate("admin-pw-1", &mut Entropy::new(None))
            .unwrap();
        let lock = home.lock().unwrap();
        assert!(!retire_default(&home, &lock, &id).unwrap());
        assert!(home.cluster_path(&id).exists());
    }
}
