//! `cloudhsm-sim backup create|list|delete`: backups of clusters, shaped like the AWS
//! CloudHSM API's `Backup` objects (the backups themselves are `hsm`'s).

use std::io::Write;

use serde_json::{json, Value};

use crate::hsm::{self, BackupInfo, Entropy};
use crate::store::Home;

use super::{only_cluster, print_json, ControlError};

/// `cloudhsm-sim backup …`
#[derive(Debug, clap::Subcommand)]
pub enum BackupCommand {
    /// Back a cluster up (users, keys and settings; never logins or tokens); prints the backup
    Create(Create),
    /// List the backups of the state directory, oldest first
    List,
    /// Delete a backup
    Delete(Delete),
}

#[derive(Debug, clap::Args)]
pub struct Create {
    /// The cluster; may be left out when the state directory holds one cluster
    #[arg(long = "cluster-id", value_name = "CLUSTER_ID")]
    pub cluster_id: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct Delete {
    /// The backup id (backup- followed by lowercase letters and digits; see backup list)
    #[arg(long = "backup-id", value_name = "BACKUP_ID")]
    pub backup_id: String,
}

/// A backup in the AWS API's shape, with the emulator's lineage and settings.
fn backup_json(info: &BackupInfo, state: &str) -> Value {
    json!({
        "BackupId": info.id,
        "BackupState": state,
        "ClusterId": info.cluster_id,
        "CreateTimestamp": info.created,
        "HsmType": info.hsm_type.as_str(),
        "Fips": info.fips,
        "Hsms": info.hsms,
        "Lineage": info.lineage,
    })
}

/// The time of a new backup: `CLOUDHSM_SIM_NOW` when set (tests), else the system clock.
fn now() -> i64 {
    hsm::Environment::from_process().clock().unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    })
}

/// Runs one `cloudhsm-sim backup` command.
pub fn run(
    home: &Home,
    command: BackupCommand,
    entropy: &mut Entropy,
    out: &mut dyn Write,
) -> Result<(), ControlError> {
    match command {
        BackupCommand::Create(args) => {
            let id = only_cluster(home, args.cluster_id)?;
            let info = hsm::create_backup(home, &id, now(), entropy)?;
            print_json(out, &json!({ "Backup": backup_json(&info, "READY") }))
        }
        BackupCommand::List => {
            let (backups, damaged) = hsm::list_backups(home)?;
            let mut list = json!({
                "Backups": backups.iter().map(|b| backup_json(b, "READY")).collect::<Vec<_>>(),
            });
            if !damaged.is_empty() {
                list["ignored"] = damaged
                    .into_iter()
                    .map(|d| json!({ "path": d.path, "reason": d.reason }))
                    .collect();
            }
            print_json(out, &list)
        }
        BackupCommand::Delete(args) => {
            let deleted = hsm::delete_backup(home, &args.backup_id)?;
            let backup = match deleted {
                Some(info) => backup_json(&info, "DELETED"),
                None => json!({ "BackupId": args.backup_id, "BackupState": "DELETED" }),
            };
            print_json(out, &json!({ "Backup": backup }))
        }
    }
}
