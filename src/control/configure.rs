//! `configure-cli`: the CLI configuration tool, so provisioning scripts that run it before
//! `cloudhsm-cli` work unchanged. It records what applies to the simulation (the clusters the
//! CLI uses, the key availability check) in `$CLOUDHSM_SIM_HOME/cloudhsm-cli.cfg` and says on
//! stderr what it accepts without effect (addresses, certificates, logging).

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::hsm::{self, ClusterConfig, Entropy, HsmError};
use crate::store::{CliConfig, Home, HomeLock};

/// Configure the CloudHSM CLI (simulated by cloudhsm-sim)
#[derive(Debug, Parser)]
#[command(name = "configure-cli", version)]
pub struct ConfigureCli {
    /// The address of the HSM instance
    #[arg(short = 'a', value_name = "HSM ENI IP", num_args = 1..)]
    pub addresses: Vec<String>,
    /// The id of the cluster containing the HSM instance(s)
    #[arg(long = "cluster-id", value_name = "CLUSTER ID")]
    pub cluster_id: Option<String>,
    /// Disables key availability check during key use
    #[arg(
        long = "disable-key-availability-check",
        conflicts_with = "enable_key_availability_check"
    )]
    pub disable_key_availability_check: bool,
    /// Enables key availability check during key use
    #[arg(long = "enable-key-availability-check")]
    pub enable_key_availability_check: bool,
    /// Disables parameter validation during initialization of crypto operations
    #[arg(long = "disable-validate-key-at-init")]
    pub disable_validate_key_at_init: bool,
    /// Enables parameter validation during initialization of crypto operations
    #[arg(long = "enable-validate-key-at-init")]
    pub enable_validate_key_at_init: bool,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
    /// The log type
    #[arg(long = "log-type", value_name = "LOG TYPE")]
    pub log_type: Option<LogType>,
    /// The log file
    #[arg(long = "log-file", value_name = "LOG FILE")]
    pub log_file: Option<String>,
    /// The logging level
    #[arg(long = "log-level", value_name = "LOG LEVEL")]
    pub log_level: Option<LogLevel>,
    /// The log rotation interval
    #[arg(long = "log-rotation", value_name = "LOG ROTATION")]
    pub log_rotation: Option<LogRotation>,
    /// The default method of retry to use for certain non-terminal failures
    #[arg(long = "default-retry-mode", value_name = "RETRY MODE")]
    pub default_retry_mode: Option<RetryMode>,
    #[command(subcommand)]
    pub command: Option<ConfigureCommand>,
}

/// Options naming where and how to reach a cluster (recorded, without effect here).
#[derive(Debug, Args)]
pub struct EndpointArgs {
    /// Specify the AWS CloudHSM API Endpoint
    #[arg(long, value_name = "ENDPOINT")]
    pub endpoint: Option<String>,
    /// The region of the cluster
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The HSM CA certificate file
    #[arg(long = "hsm-ca-cert", value_name = "HSM CA CERTIFICATE FILE")]
    pub hsm_ca_cert: Option<String>,
    /// The client certificate used for TLS client-hsm mutual authentication
    #[arg(
        long = "client-cert-hsm-tls-file",
        value_name = "CLIENT CERTIFICATE HSM TLS FILE"
    )]
    pub client_cert: Option<String>,
    /// The client private key used for TLS client-hsm mutual authentication
    #[arg(
        long = "client-key-hsm-tls-file",
        value_name = "CLIENT KEY HSM TLS FILE"
    )]
    pub client_key: Option<String>,
}

/// `configure-cli add-cluster | remove-cluster`.
#[derive(Debug, Subcommand)]
pub enum ConfigureCommand {
    /// Add a cluster to the configuration
    AddCluster(AddCluster),
    /// Remove a cluster from the configuration
    RemoveCluster(RemoveCluster),
}

#[derive(Debug, Args)]
pub struct AddCluster {
    /// The id of the cluster
    #[arg(long = "cluster-id", value_name = "CLUSTER ID")]
    pub cluster_id: String,
    #[command(flatten)]
    pub endpoint: EndpointArgs,
}

#[derive(Debug, Args)]
pub struct RemoveCluster {
    /// The id of the cluster
    #[arg(long = "cluster-id", value_name = "CLUSTER ID")]
    pub cluster_id: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogType {
    Term,
    File,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogRotation {
    Never,
    Hourly,
    Daily,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RetryMode {
    Off,
    Standard,
}

/// Runs `configure-cli` with `args` (without the program name); returns the exit status.
pub fn run(
    args: Vec<std::ffi::OsString>,
    home: Option<PathBuf>,
    seed: Option<u64>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let argv = std::iter::once(std::ffi::OsString::from("configure-cli")).chain(args);
    let cli = match ConfigureCli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return super::usage(&e, out, err),
    };
    match configure(cli, home, seed, err) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

fn note(err: &mut dyn Write, what: &str) {
    let _ = writeln!(
        err,
        "configure-cli: recorded {what}; it has no effect on the simulated cluster"
    );
}

fn record_endpoint(config: &mut CliConfig, e: &EndpointArgs, err: &mut dyn Write) {
    for (name, value) in [
        ("--endpoint", &e.endpoint),
        ("--region", &e.region),
        ("--hsm-ca-cert", &e.hsm_ca_cert),
        ("--client-cert-hsm-tls-file", &e.client_cert),
        ("--client-key-hsm-tls-file", &e.client_key),
    ] {
        if let Some(v) = value {
            config.recorded.insert(name.to_string(), v.clone());
            if name.starts_with("--client-") {
                // The client certificate is what a cluster enforcing mTLS checks.
                let _ = writeln!(
                    err,
                    "configure-cli: recorded {name}; a cluster that enforces mTLS admits the client certificate only if it chains to a registered trust anchor"
                );
            } else {
                note(err, name);
            }
        }
    }
}

/// Makes sure cluster `id` exists in the simulation, creating a default one if needed.
fn ensure_cluster(
    home: &Home,
    lock: &HomeLock,
    id: &str,
    entropy: &mut Entropy,
) -> Result<(), HsmError> {
    hsm::check_cluster_id(id)?;
    if home.cluster_path(id).exists() {
        return Ok(());
    }
    let config = ClusterConfig {
        id: Some(id.to_string()),
        ..ClusterConfig::default()
    };
    hsm::create_locked(home, lock, &config, entropy).map(|_| ())
}

fn configure(
    cli: ConfigureCli,
    home: Option<PathBuf>,
    seed: Option<u64>,
    err: &mut dyn Write,
) -> Result<(), HsmError> {
    let root = home.ok_or_else(|| HsmError::ClusterNotFound {
        id: "(no state directory: set CLOUDHSM_SIM_HOME or HOME)".into(),
    })?;
    let home = Home::open(root)?;
    let mut entropy = Entropy::new(seed);
    // One configure-cli at a time: the clusters it names are made and the configuration is
    // read, changed and written under the state directory's lock, so that no concurrent
    // change is lost.
    let lock = home.lock()?;
    if let Some(id) = &cli.cluster_id {
        ensure_cluster(&home, &lock, id, &mut entropy)?;
    }
    if let Some(ConfigureCommand::AddCluster(add)) = &cli.command {
        ensure_cluster(&home, &lock, &add.cluster_id, &mut entropy)?;
    }
    home.update_cli_config(&lock, |config| apply(&cli, config, err))?;
    Ok(())
}

/// The changes `cli` makes to the configuration; says on `err` what has no effect here.
fn apply(cli: &ConfigureCli, config: &mut CliConfig, err: &mut dyn Write) {
    if cli.disable_key_availability_check {
        config.key_availability_check = false;
    }
    if cli.enable_key_availability_check {
        config.key_availability_check = true;
    }
    if !cli.addresses.is_empty() {
        config.recorded.insert("-a".into(), cli.addresses.join(" "));
        note(err, "-a (HSM addresses)");
    }
    if cli.disable_validate_key_at_init || cli.enable_validate_key_at_init {
        let v = if cli.enable_validate_key_at_init {
            "enabled"
        } else {
            "disabled"
        };
        config
            .recorded
            .insert("validate-key-at-init".into(), v.into());
        note(err, "the validate-key-at-init setting");
    }
    for (name, set) in [
        (
            "--log-type",
            cli.log_type.map(|v| format!("{v:?}").to_ascii_lowercase()),
        ),
        ("--log-file", cli.log_file.clone()),
        (
            "--log-level",
            cli.log_level.map(|v| format!("{v:?}").to_ascii_lowercase()),
        ),
        (
            "--log-rotation",
            cli.log_rotation
                .map(|v| format!("{v:?}").to_ascii_lowercase()),
        ),
        (
            "--default-retry-mode",
            cli.default_retry_mode
                .map(|v| format!("{v:?}").to_ascii_lowercase()),
        ),
    ] {
        if let Some(v) = set {
            config.recorded.insert(name.into(), v);
            note(err, name);
        }
    }
    record_endpoint(config, &cli.endpoint, err);
    if let Some(id) = &cli.cluster_id {
        config.clusters = vec![id.clone()];
    }
    match &cli.command {
        Some(ConfigureCommand::AddCluster(add)) => {
            if !config.clusters.contains(&add.cluster_id) {
                config.clusters.push(add.cluster_id.clone());
            }
            record_endpoint(config, &add.endpoint, err);
        }
        Some(ConfigureCommand::RemoveCluster(rm)) => {
            config.clusters.retain(|c| *c != rm.cluster_id);
            let _ = writeln!(
                err,
                "configure-cli: the CLI no longer uses {}; its simulated data stays (cloudhsm-sim can reset it)",
                rm.cluster_id
            );
        }
        None => {}
    }
}
