//! `cloudhsm-sim`: create, inspect and reset simulated clusters in a state directory.
//!
//! Output is JSON on stdout (no envelope: these are not real CLI commands); errors are one
//! line on stderr and exit status 1; usage errors exit 2.

pub mod artefacts;
pub mod backup;
pub mod configure;
pub mod fixtures;
pub mod install;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::hsm::{self, Cluster, ClusterConfig, Entropy, HsmError, HsmType, Kdf};
use crate::store::Home;

/// Control the simulated CloudHSM clusters that `cloudhsm-cli` talks to.
#[derive(Debug, Parser)]
#[command(
    name = "cloudhsm-sim",
    version,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct SimCli {
    #[command(subcommand)]
    pub command: SimCommand,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Create a new, never-activated cluster
    Init(Init),
    /// Show every cluster: settings, HSMs and their states, user counts
    Status,
    /// List the ids of the clusters in the state directory
    List,
    /// Return a cluster to its factory state (never activated, no users but admin and app_user)
    Reset(Target),
    /// Print docs/permissions.md, generated from the permission table
    Permissions,
    /// Print docs/commands.md, generated from the grammar and the permission table
    Commands,
    /// Print shell completions for cloudhsm-cli and cloudhsm-sim
    Completions(artefacts::Completions),
    /// Print the man page of cloudhsm-cli, or write both man pages into a directory
    Man(artefacts::Man),
    /// Write a cluster to a JSON file (password hashes and key material included, never passwords)
    Export(fixtures::Export),
    /// Restore a cluster from a file written by export
    Import(fixtures::Import),
    /// Create or complete a cluster from a seed document (docs/ci.md); running it again changes nothing
    Seed(fixtures::Seed),
    /// Fail, restore, add or remove an HSM of a cluster
    #[command(subcommand)]
    Hsm(HsmCommand),
    /// Create, list or delete backups of clusters (clusters made from them are clones)
    #[command(subcommand)]
    Backup(backup::BackupCommand),
    /// Lay out the client SDK's paths (lib/libcloudhsm_pkcs11.so, the vendor header, the tools) as links to this build
    Install(install::Install),
}

/// `cloudhsm-sim hsm …`
#[derive(Debug, Subcommand)]
pub enum HsmCommand {
    /// Take an HSM down: changes miss it until it is restored
    Fail(HsmTarget),
    /// Bring an HSM back up and synchronise it from the healthy HSMs
    Restore(HsmTarget),
    /// Add an HSM to a cluster, synchronised from the healthy HSMs
    Add(Target),
    /// Remove an HSM from its cluster
    Remove(HsmTarget),
}

#[derive(Debug, clap::Args)]
pub struct HsmTarget {
    /// The HSM id (hsm- followed by 11 lowercase letters and digits; see cloudhsm-sim status)
    #[arg(value_name = "HSM_ID")]
    pub hsm_id: String,
    /// The cluster; may be left out when the state directory holds one cluster
    #[arg(long = "cluster-id", value_name = "CLUSTER_ID")]
    pub cluster_id: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct Init {
    /// The cluster id (cluster- followed by lowercase letters and digits); random if absent
    #[arg(long = "cluster-id", value_name = "CLUSTER_ID")]
    pub cluster_id: Option<String>,
    /// The number of HSMs [default: 2; with --from-backup, as many as the backed-up cluster had]
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=28))]
    pub hsms: Option<u8>,
    /// The HSM type
    #[arg(
        long = "hsm-type",
        value_enum,
        default_value = "hsm2m.medium",
        conflicts_with = "from_backup"
    )]
    pub hsm_type: HsmTypeArg,
    /// Create the cluster in FIPS mode
    #[arg(long, conflicts_with = "from_backup")]
    pub fips: bool,
    /// The password-hash cost: default (argon2id 19 MiB, t=2) or fast (for CI)
    #[arg(
        long,
        value_enum,
        default_value = "default",
        conflicts_with = "from_backup"
    )]
    pub kdf: KdfArg,
    /// The password of the appliance user app_user (when absent, a random one is generated and printed once)
    #[arg(
        long = "appliance-password",
        value_name = "PASSWORD",
        conflicts_with = "from_backup"
    )]
    pub appliance_password: Option<String>,
    /// Make the cluster from a backup: its users, keys and settings; a clone of the backed-up cluster
    #[arg(long = "from-backup", value_name = "BACKUP_ID")]
    pub from_backup: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// The cluster; may be left out when the state directory holds one cluster
    #[arg(long = "cluster-id", value_name = "CLUSTER_ID")]
    pub cluster_id: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum HsmTypeArg {
    #[value(name = "hsm1.medium")]
    Hsm1Medium,
    #[value(name = "hsm2m.medium")]
    Hsm2mMedium,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KdfArg {
    Default,
    Fast,
}

#[derive(Debug, Serialize)]
struct HsmStatus {
    id: String,
    #[serde(rename = "serial-number")]
    serial_number: String,
    state: &'static str,
}

#[derive(Debug, Serialize)]
struct ClusterStatus {
    #[serde(rename = "cluster-id")]
    cluster_id: String,
    #[serde(rename = "hsm-type")]
    hsm_type: &'static str,
    fips: bool,
    kdf: &'static str,
    state: &'static str,
    hsms: Vec<HsmStatus>,
    users: usize,
    /// Clusters of one lineage are clones (made from backups of one cluster).
    lineage: String,
}

#[derive(Debug, Serialize)]
struct Status {
    #[serde(rename = "state-directory")]
    state_directory: PathBuf,
    clusters: Vec<ClusterStatus>,
    /// Files of `clusters/` that are not clusters (never used; shown when there are any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored: Vec<Ignored>,
}

/// A file of `clusters/` that no command uses, and why.
#[derive(Debug, Serialize)]
struct Ignored {
    path: PathBuf,
    reason: &'static str,
}

fn ignored(home: &Home) -> Result<Vec<Ignored>, ControlError> {
    Ok(home
        .strays()
        .map_err(HsmError::from)?
        .into_iter()
        .map(|s| Ignored {
            path: s.path,
            reason: s.reason,
        })
        .collect())
}

/// The control commands' error: a refusal of the simulator, or no state directory.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no state directory: set CLOUDHSM_SIM_HOME (or HOME)")]
    NoHome,
    #[error("{0}")]
    Hsm(#[from] HsmError),
    #[error("{0}")]
    Output(#[from] std::io::Error),
    #[error("{0}")]
    Fixture(#[from] crate::hsm::FixtureError),
    #[error("{0}")]
    Install(#[from] install::InstallError),
}

/// Prints clap's message for a parse failure of a control binary: help and version on
/// stdout (exit 0), usage errors on stderr (exit 2).
pub(crate) fn usage(e: &clap::Error, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let text = e.render().to_string();
    if e.use_stderr() {
        let _ = write!(err, "{text}");
        2
    } else {
        let _ = write!(out, "{text}");
        0
    }
}

/// Runs `cloudhsm-sim` with `args` (without the program name); returns the exit status.
pub fn run(
    args: Vec<std::ffi::OsString>,
    home: Option<PathBuf>,
    seed: Option<u64>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let argv = std::iter::once(std::ffi::OsString::from("cloudhsm-sim")).chain(args);
    let cli = match SimCli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return usage(&e, out, err),
    };
    let mut entropy = Entropy::new(seed);
    match execute(cli.command, home, &mut entropy, out, err) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

fn execute(
    command: SimCommand,
    home: Option<PathBuf>,
    entropy: &mut Entropy,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), ControlError> {
    match &command {
        SimCommand::Commands => {
            write!(out, "{}", artefacts::render_commands_markdown())?;
            return Ok(());
        }
        SimCommand::Completions(args) => return artefacts::completions(args, out),
        SimCommand::Man(args) => return artefacts::man(args, out),
        // The SDK's layout is not the simulation's state: no state directory is needed.
        SimCommand::Install(args) => return install::run(args, out),
        _ => {}
    }
    if let SimCommand::Permissions = command {
        write!(out, "{}", crate::session::permissions::render_markdown())?;
        return Ok(());
    }
    let home = Home::open(home.ok_or(ControlError::NoHome)?).map_err(HsmError::from)?;
    match command {
        SimCommand::Init(Init {
            from_backup: Some(backup_id),
            cluster_id,
            hsms,
            ..
        }) => {
            let id = hsm::restore_backup(
                &home,
                &backup_id,
                cluster_id.as_deref(),
                hsms.map(usize::from),
                entropy,
            )?;
            print_json(out, &cluster_status(&home, &id)?)
        }
        SimCommand::Init(init) => {
            let config = ClusterConfig {
                id: init.cluster_id,
                hsms: usize::from(init.hsms.unwrap_or(2)),
                hsm_type: match init.hsm_type {
                    HsmTypeArg::Hsm1Medium => HsmType::Hsm1Medium,
                    HsmTypeArg::Hsm2mMedium => HsmType::Hsm2mMedium,
                },
                fips: init.fips,
                kdf: match init.kdf {
                    KdfArg::Default => Kdf::Default,
                    KdfArg::Fast => Kdf::Fast,
                },
                appliance_password: init.appliance_password,
            };
            // Without --appliance-password the appliance user gets a random one, shown once.
            let generated = if config.appliance_password.is_none() {
                let password = format!("app-{}", entropy.id_chars(20));
                Some(password)
            } else {
                None
            };
            let config = ClusterConfig {
                appliance_password: config.appliance_password.or_else(|| generated.clone()),
                ..config
            };
            let id = hsm::create(&home, &config, entropy)?;
            let mut status =
                serde_json::to_value(cluster_status(&home, &id)?).map_err(std::io::Error::from)?;
            if let (Some(password), Some(obj)) = (generated, status.as_object_mut()) {
                obj.insert("appliance-password".into(), password.into());
            }
            print_json(out, &status)
        }
        SimCommand::Status => {
            let clusters = home
                .cluster_ids()
                .map_err(HsmError::from)?
                .iter()
                .map(|id| cluster_status(&home, id))
                .collect::<Result<Vec<_>, _>>()?;
            print_json(
                out,
                &Status {
                    state_directory: home.root().to_path_buf(),
                    clusters,
                    ignored: ignored(&home)?,
                },
            )
        }
        SimCommand::List => {
            let ids = home.cluster_ids().map_err(HsmError::from)?;
            let mut list = serde_json::json!({ "clusters": ids });
            let strays = ignored(&home)?;
            if !strays.is_empty() {
                list["ignored"] = serde_json::to_value(strays).map_err(std::io::Error::from)?;
            }
            print_json(out, &list)
        }
        SimCommand::Reset(target) => {
            let id = only_cluster(&home, target.cluster_id)?;
            hsm::reset(&home, &id, entropy)?;
            print_json(out, &cluster_status(&home, &id)?)
        }
        SimCommand::Permissions
        | SimCommand::Commands
        | SimCommand::Completions(_)
        | SimCommand::Man(_)
        | SimCommand::Install(_) => Ok(()),
        SimCommand::Export(args) => fixtures::export(&home, args, out),
        SimCommand::Import(args) => fixtures::import(&home, args, out, err),
        SimCommand::Seed(args) => fixtures::seed(&home, args, entropy, out, err),
        SimCommand::Backup(command) => backup::run(&home, command, entropy, out),
        SimCommand::Hsm(command) => {
            let (cluster_id, hsm_id) = match &command {
                HsmCommand::Fail(t) | HsmCommand::Restore(t) | HsmCommand::Remove(t) => {
                    (t.cluster_id.clone(), Some(t.hsm_id.clone()))
                }
                HsmCommand::Add(t) => (t.cluster_id.clone(), None),
            };
            let id = only_cluster(&home, cluster_id)?;
            let mut cluster = Cluster::open(&home, &id)?;
            let hsm = hsm_id.unwrap_or_default();
            match command {
                HsmCommand::Fail(_) => cluster.fail_hsm(&hsm)?,
                HsmCommand::Restore(_) => cluster.restore_hsm(&hsm)?,
                HsmCommand::Remove(_) => cluster.remove_hsm(&hsm)?,
                HsmCommand::Add(_) => {
                    cluster.add_hsm(entropy)?;
                }
            }
            drop(cluster);
            print_json(out, &cluster_status(&home, &id)?)
        }
    }
}

/// The cluster a control command means: the one named, or the only one.
fn only_cluster(home: &Home, requested: Option<String>) -> Result<String, ControlError> {
    if let Some(id) = requested {
        return Ok(id);
    }
    let ids = home.cluster_ids().map_err(HsmError::from)?;
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(HsmError::ClusterNotFound {
            id: "(none)".into(),
        }
        .into()),
        _ => Err(HsmError::MultipleClusters.into()),
    }
}

fn cluster_status(home: &Home, id: &str) -> Result<ClusterStatus, ControlError> {
    let mut cluster = Cluster::open(home, id)?;
    let settings = cluster.settings().clone();
    Ok(ClusterStatus {
        cluster_id: settings.id,
        hsm_type: settings.hsm_type.as_str(),
        fips: settings.fips,
        kdf: settings.kdf.as_str(),
        state: if cluster.activated()? {
            "active"
        } else {
            "unactivated"
        },
        hsms: cluster
            .hsms()?
            .into_iter()
            .map(|h| HsmStatus {
                id: h.id,
                serial_number: h.serial_number,
                state: if h.up { "up" } else { "down" },
            })
            .collect(),
        users: cluster.user_count()?,
        lineage: cluster.lineage()?,
    })
}

fn print_json(out: &mut dyn Write, value: &impl Serialize) -> Result<(), ControlError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
