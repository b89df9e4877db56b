//! Backups and clones, as the AWS CloudHSM API makes them for the real service
//! (`cloudhsm-sim backup …`, `cloudhsm-sim init --from-backup`).
//!
//! A backup is a cluster's export document ([`super::export_cluster`]: users, keys, settings,
//! never logins, tokens or the database's instance) with the backup's own fields, kept as
//! `backups/<backup id>.json` in the state directory (0600, written atomically under the
//! state directory's lock). A cluster made from a backup holds the backup's rows, with its
//! own id and new HSMs.
//!
//! Every cluster belongs to a lineage: a cluster made by `init` (or by a first command)
//! starts its own; a backup carries its cluster's; a cluster made from a backup inherits it.
//! Clusters of the same lineage are clones of one another, as clusters restored from backups
//! of one cluster are on the real service (`user replicate` and `key replicate` need them).

use std::fs;

use serde_json::{json, Value};

use crate::store::records::{self, HsmRecord};
use crate::store::{valid_backup_id, write_private, Home, Store, StoreError};

use super::crypto::HashFunction;
use super::fixtures::{export_cluster, restore, FixtureError};
use super::{check_cluster_id, Cluster, Entropy, HsmError, HsmType};

/// The `format` field of a backup file.
pub const BACKUP_FORMAT: &str = "cloudhsm-sim-backup";
/// The version of the backup file's layout.
pub const BACKUP_VERSION: u64 = 1;
/// The `meta` row holding a cluster's lineage.
pub(super) const LINEAGE_KEY: &str = "lineage";
/// The entropy stream lineages are drawn from: drawing one leaves the main stream (HSM ids,
/// key material of seeded runs) as it was.
const LINEAGE_STREAM: u64 = u64::MAX - 17;
/// Characters of a new backup id after `backup-` (as AWS's).
const BACKUP_ID_CHARS: usize = 11;

/// A backup as `cloudhsm-sim backup` shows it (the fields of the AWS API's `Backup`, and the
/// emulator's lineage and settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub id: String,
    pub cluster_id: String,
    /// Unix seconds.
    pub created: i64,
    pub lineage: String,
    pub hsm_type: HsmType,
    pub fips: bool,
    pub hsms: usize,
}

/// A new lineage id for cluster `id`: `lineage-` and 16 lowercase hexadecimal digits. Seeded
/// runs give the same cluster id the same lineage; unseeded ones a random one.
pub(super) fn new_lineage(entropy: &Entropy, id: &str) -> String {
    let mut stream = entropy.derive(LINEAGE_STREAM);
    let mut bytes = [0u8; 16];
    stream.fill(&mut bytes);
    let mut input = bytes.to_vec();
    input.extend_from_slice(id.as_bytes());
    let digest = HashFunction::Sha256.digest(&input);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("lineage-{hex}")
}

/// The lineage of a cluster whose database has none (made before lineages existed): derived
/// from its id, so that it is stable and its own.
pub(super) fn legacy_lineage(id: &str) -> String {
    format!("lineage-{}", id.strip_prefix("cluster-").unwrap_or(id))
}

impl Cluster {
    /// The cluster's lineage: clusters of one lineage are clones of one another.
    pub fn lineage(&mut self) -> Result<String, HsmError> {
        let id = self.settings.id.clone();
        let stored = self.store.read(|tx| records::meta(tx, LINEAGE_KEY))?;
        Ok(stored.unwrap_or_else(|| legacy_lineage(&id)))
    }

    /// Whether this cluster is a clone of `other`: both descend, through backups, from one
    /// cluster made by `init`. A cluster is in its own lineage, so it is a clone of itself.
    pub fn is_clone_of(&mut self, other: &mut Cluster) -> Result<bool, HsmError> {
        Ok(self.lineage()? == other.lineage()?)
    }
}

fn damaged(path: &std::path::Path, detail: impl std::fmt::Display) -> FixtureError {
    FixtureError::DamagedBackup {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

fn check_backup_id(id: &str) -> Result<(), FixtureError> {
    if valid_backup_id(id) {
        Ok(())
    } else {
        Err(FixtureError::InvalidBackupId { id: id.to_string() })
    }
}

/// Makes a backup of cluster `cluster_id` taken at `now` (Unix seconds).
pub fn create_backup(
    home: &Home,
    cluster_id: &str,
    now: i64,
    entropy: &mut Entropy,
) -> Result<BackupInfo, FixtureError> {
    let mut cluster = Cluster::open(home, cluster_id)?;
    let lineage = cluster.lineage()?;
    let hsms = cluster.hsms()?.len();
    let settings = cluster.settings().clone();
    drop(cluster);
    let doc = export_cluster(home, cluster_id)?;
    let dir = home.backups_dir()?;
    let lock = home.lock()?;
    // Seeded runs draw the same ids in every process: the next one is taken when it is used.
    let id = loop {
        let id = format!("backup-{}", entropy.id_chars(BACKUP_ID_CHARS));
        if fs::symlink_metadata(home.backup_path(&id)).is_err() {
            break id;
        }
    };
    let info = BackupInfo {
        id: id.clone(),
        cluster_id: settings.id,
        created: now,
        lineage,
        hsm_type: settings.hsm_type,
        fips: settings.fips,
        hsms,
    };
    let file = json!({
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "backup": {
            "BackupId": info.id,
            "ClusterId": info.cluster_id,
            "CreateTimestamp": info.created,
            "Lineage": info.lineage,
            "HsmType": info.hsm_type.as_str(),
            "Fips": info.fips,
            "Hsms": info.hsms,
        },
        "cluster": doc,
    });
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| StoreError::Io(e.into()))?;
    bytes.push(b'\n');
    write_private(&dir.join(format!("{id}.json")), &bytes).map_err(StoreError::Io)?;
    drop(lock);
    Ok(info)
}

/// Reads backup `id`: its fields and its cluster document.
fn read_backup(home: &Home, id: &str) -> Result<(BackupInfo, Value), FixtureError> {
    check_backup_id(id)?;
    let path = home.backup_path(id);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FixtureError::BackupNotFound { id: id.to_string() })
        }
        Err(e) => return Err(damaged(&path, e)),
    };
    let mut file: Value = serde_json::from_slice(&bytes).map_err(|e| damaged(&path, e))?;
    if file.get("format").and_then(Value::as_str) != Some(BACKUP_FORMAT) {
        return Err(damaged(&path, format!("format is not {BACKUP_FORMAT:?}")));
    }
    if file.get("version").and_then(Value::as_u64) != Some(BACKUP_VERSION) {
        return Err(damaged(&path, format!("version is not {BACKUP_VERSION}")));
    }
    let backup = file.get("backup").cloned().unwrap_or(Value::Null);
    let text = |k: &str| {
        backup
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| damaged(&path, format!("no {k}")))
    };
    if text("BackupId")? != id {
        return Err(damaged(&path, "its BackupId is not its file name"));
    }
    let info = BackupInfo {
        id: id.to_string(),
        cluster_id: text("ClusterId")?,
        created: backup
            .get("CreateTimestamp")
            .and_then(Value::as_i64)
            .ok_or_else(|| damaged(&path, "no CreateTimestamp"))?,
        lineage: text("Lineage")?,
        hsm_type: HsmType::parse(&text("HsmType")?)
            .ok_or_else(|| damaged(&path, "unknown HsmType"))?,
        fips: backup.get("Fips").and_then(Value::as_bool).unwrap_or(false),
        hsms: backup
            .get("Hsms")
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| (1..=super::MAX_HSMS).contains(n))
            .ok_or_else(|| damaged(&path, "no Hsms"))?,
    };
    let doc = file
        .get_mut("cluster")
        .map(Value::take)
        .filter(Value::is_object)
        .ok_or_else(|| damaged(&path, "no cluster"))?;
    Ok((info, doc))
}

/// A backup file that could not be read, for `backup list`.
#[derive(Debug)]
pub struct DamagedBackup {
    pub path: std::path::PathBuf,
    pub reason: String,
}

/// Every backup of the state directory, oldest first; damaged files apart.
pub fn list_backups(home: &Home) -> Result<(Vec<BackupInfo>, Vec<DamagedBackup>), FixtureError> {
    let mut backups = Vec::new();
    let mut damaged = Vec::new();
    for id in home.backup_ids()? {
        match read_backup(home, &id) {
            Ok((info, _)) => backups.push(info),
            // Deleted by another process since the directory was read.
            Err(FixtureError::BackupNotFound { .. }) => {}
            Err(e) => damaged.push(DamagedBackup {
                path: home.backup_path(&id),
                reason: e.to_string(),
            }),
        }
    }
    backups.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    Ok((backups, damaged))
}

/// Deletes backup `id` and returns what it was (a damaged backup is deleted too).
pub fn delete_backup(home: &Home, id: &str) -> Result<Option<BackupInfo>, FixtureError> {
    check_backup_id(id)?;
    let _lock = home.lock()?;
    let info = match read_backup(home, id) {
        Ok((info, _)) => Some(info),
        Err(FixtureError::DamagedBackup { .. }) => None,
        Err(e) => return Err(e),
    };
    match fs::remove_file(home.backup_path(id)) {
        Ok(()) => Ok(info),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(FixtureError::BackupNotFound { id: id.to_string() })
        }
        Err(e) => Err(StoreError::Io(e).into()),
    }
}

/// Makes a new cluster from backup `backup_id`: the backup's users, keys, settings and
/// lineage, its own id (`cluster_id`, or a random one) and `hsms` new HSMs (as many as the
/// backed-up cluster had when `None`), each holding every user and key. Returns its id.
pub fn restore_backup(
    home: &Home,
    backup_id: &str,
    cluster_id: Option<&str>,
    hsms: Option<usize>,
    entropy: &mut Entropy,
) -> Result<String, FixtureError> {
    let (info, mut doc) = read_backup(home, backup_id)?;
    let path_of_backup = home.backup_path(backup_id);
    let id = match cluster_id {
        Some(id) => {
            check_cluster_id(id)?;
            id.to_string()
        }
        None => format!("cluster-{}", entropy.id_chars(11)),
    };
    let hsms = hsms.unwrap_or(info.hsms);
    let model = info.hsm_type.model();
    let new_hsms: Vec<HsmRecord> = (0..hsms)
        .map(|ordinal| HsmRecord {
            id: format!("hsm-{}", entropy.id_chars(11)),
            ordinal: ordinal as i64,
            serial_number: format!(
                "{}{:04}-ICM{:06}",
                model.serial_prefix,
                1900 + entropy.below(100),
                entropy.below(1_000_000)
            ),
            state: "up".to_string(),
        })
        .collect();
    let tables = doc
        .get_mut("tables")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| damaged(&path_of_backup, "its cluster has no tables"))?;
    // The clone's HSMs are its own: they take every object when they are added below.
    tables.insert("hsms".into(), Value::Array(Vec::new()));
    tables.insert("object_hsms".into(), Value::Array(Vec::new()));
    let lock = home.lock()?;
    let path = home.cluster_path(&id);
    if fs::symlink_metadata(&path).is_ok() {
        return Err(HsmError::ClusterExists { id }.into());
    }
    let mut refusal = None;
    let created = Store::create(&path, |tx| {
        let built = (|| {
            restore(tx, tables)?;
            records::set_meta(tx, "cluster_id", &id)?;
            records::set_meta(tx, LINEAGE_KEY, &info.lineage)?;
            for hsm in &new_hsms {
                records::insert_hsm(tx, hsm)?;
                records::synchronise_hsm(tx, &hsm.id)?;
            }
            Ok::<_, FixtureError>(())
        })();
        built.map_err(|e| {
            let e = match e {
                FixtureError::NotAnExport(detail) => damaged(&path_of_backup, detail),
                other => other,
            };
            refusal = Some(e);
            StoreError::Io(std::io::Error::other("restore refused"))
        })
    });
    drop(lock);
    match (created, refusal) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(e.into()),
        (Ok(()), None) => Ok(id),
    }
}
