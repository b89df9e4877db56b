//! Clusters kept open between operations by a long-lived front end (a CLI session, a PKCS#11
//! slot), each reopened when its database was reset, imported or retired since.
//!
//! Opening a database (schema parse, WAL checkpoint at close) costs more than most
//! operations, so a front end keeps its [`Cluster`]s. A kept handle must not act on a file
//! that `cloudhsm-sim reset` or `import` has replaced: [`OpenClusters::take`] checks the
//! database instance and opens the new one instead. Logins made on the old instance are void
//! there ([`Cluster::admits`]).

use std::collections::BTreeMap;

use super::{Cluster, HsmError};
use crate::store::Home;

/// The clusters one front end holds open, by cluster id, with the clock they all run on.
#[derive(Debug, Default)]
pub struct OpenClusters {
    open: BTreeMap<String, Cluster>,
    clock: Option<i64>,
}

impl OpenClusters {
    /// None open yet; every cluster taken runs on `clock` (`CLOUDHSM_SIM_NOW`,
    /// [`super::Environment::clock`]; `None`: the system clock).
    pub fn new(clock: Option<i64>) -> OpenClusters {
        OpenClusters {
            open: BTreeMap::new(),
            clock,
        }
    }

    /// The cluster `id` of `home`, taken out for one operation: the handle kept from an
    /// earlier one while its database is still the one it opened (with the CLI
    /// configuration read again, `configure-cli` may have changed it), else the cluster
    /// opened anew. Give it back with [`OpenClusters::put`].
    pub fn take(&mut self, home: &Home, id: &str) -> Result<Cluster, HsmError> {
        let kept = self
            .open
            .remove(id)
            .and_then(|mut c| c.is_current().then_some(c));
        Ok(match kept {
            Some(mut c) => {
                c.refresh_config(home);
                c
            }
            None => Cluster::open_with_clock(home, id, self.clock)?,
        })
    }

    /// Keeps `cluster` open for the next [`OpenClusters::take`] of its id.
    pub fn put(&mut self, cluster: Cluster) {
        self.open.insert(cluster.settings().id.clone(), cluster);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hsm::{create, reset, ClusterConfig, Entropy, Kdf, Role, SessionId, Username};

    fn home_with_cluster() -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::open(dir.path().join("state")).unwrap();
        let config = ClusterConfig {
            id: Some("cluster-abc".into()),
            kdf: Kdf::Fast,
            ..ClusterConfig::default()
        };
        let mut entropy = Entropy::new(Some(1));
        create(&home, &config, &mut entropy).unwrap();
        (dir, home)
    }

    #[test]
    fn a_kept_cluster_is_taken_again_until_its_database_is_replaced() {
        let (_dir, home) = home_with_cluster();
        let mut open = OpenClusters::new(Some(1_700_000_000));
        let mut cluster = open.take(&home, "cluster-abc").unwrap();
        let session = SessionId::new();
        let login = cluster
            .login(
                &Username::parse("admin").unwrap(),
                Role::UnactivatedAdmin,
                "password",
                &session,
            )
            .unwrap();
        open.put(cluster);
        // The same database: the login holds on the handle taken again.
        let cluster = open.take(&home, "cluster-abc").unwrap();
        assert!(cluster.admits(&login));
        assert_eq!(cluster.clock, Some(1_700_000_000));
        open.put(cluster);

        // `cloudhsm-sim reset` in another process: the kept handle is not handed out, a
        // new one on the new database is, and the old login is void there.
        reset(&home, "cluster-abc", &mut Entropy::new(Some(1))).unwrap();
        let mut cluster = open.take(&home, "cluster-abc").unwrap();
        assert!(cluster.is_current());
        assert!(!cluster.admits(&login));
        assert_eq!(cluster.users().unwrap().len(), 2);
        assert_eq!(cluster.clock, Some(1_700_000_000));
    }

    #[test]
    fn a_cluster_that_is_gone_is_an_error_not_a_stale_handle() {
        let (_dir, home) = home_with_cluster();
        let mut open = OpenClusters::default();
        let cluster = open.take(&home, "cluster-abc").unwrap();
        open.put(cluster);
        std::fs::remove_file(home.cluster_path("cluster-abc")).unwrap();
        assert!(open.take(&home, "cluster-abc").is_err());
        assert!(open.take(&home, "cluster-nope").is_err());
    }
}
