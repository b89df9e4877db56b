//! `configure-cli` and `configure-pkcs11`: the configuration tools of the CLI and of the
//! PKCS#11 library, so provisioning scripts that run them work unchanged. One parser for the
//! options they share ([`SharedArgs`], [`ConfigureCommand`]) and one function applying them
//! ([`apply_shared`]) to either tool's file through [`ToolConfig`]. Each records what applies
//! to the simulation (the clusters, the key availability check; for PKCS#11 also the
//! switches the module reads) — `$CLOUDHSM_SIM_HOME/cloudhsm-cli.cfg` and
//! `$CLOUDHSM_SIM_HOME/pkcs11.json` — and says on stderr what it accepts without effect
//! (addresses, certificates, logging).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::hsm::{self, ClusterConfig, Entropy, HsmError};
use crate::store::pkcs11_config::{self, Pkcs11Config};
use crate::store::{CliConfig, Home, HomeLock};

/// Which configuration tool runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `configure-cli`: `cloudhsm-cli`'s configuration.
    Cli,
    /// `configure-pkcs11`: the PKCS#11 library's configuration.
    Pkcs11,
}

impl Tool {
    /// The program's name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Cli => "configure-cli",
            Tool::Pkcs11 => "configure-pkcs11",
        }
    }

    /// What the configuration is for, in a sentence.
    fn user(self) -> &'static str {
        match self {
            Tool::Cli => "the CLI",
            Tool::Pkcs11 => "the PKCS#11 library",
        }
    }
}

/// Configure the CloudHSM CLI (simulated by cloudhsm-sim)
#[derive(Debug, Parser)]
#[command(name = "configure-cli", version)]
pub struct ConfigureCli {
    #[command(flatten)]
    pub shared: SharedArgs,
    #[command(subcommand)]
    pub command: Option<ConfigureCommand>,
}

/// Configure the CloudHSM PKCS #11 library (simulated by cloudhsm-sim)
#[derive(Debug, Parser)]
#[command(name = "configure-pkcs11", version)]
pub struct ConfigurePkcs11 {
    /// Disables Certificate Storage
    #[arg(
        long = "disable-certificate-storage",
        conflicts_with = "enable_certificate_storage"
    )]
    pub disable_certificate_storage: bool,
    /// Enables Certificate Storage
    #[arg(long = "enable-certificate-storage")]
    pub enable_certificate_storage: bool,
    #[command(flatten)]
    pub shared: SharedArgs,
    /// Enables ECDH key derivation without a key derivation function (CKD_NULL)
    #[arg(
        long = "enable-ecdh-without-kdf",
        conflicts_with = "disable_ecdh_without_kdf"
    )]
    pub enable_ecdh_without_kdf: bool,
    /// Disables ECDH key derivation without a key derivation function (the default)
    #[arg(long = "disable-ecdh-without-kdf")]
    pub disable_ecdh_without_kdf: bool,
    #[command(subcommand)]
    pub command: Option<ConfigureCommand>,
}

/// The options both tools take, in the order of AWS's usage text.
#[derive(Debug, Args)]
pub struct SharedArgs {
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

/// `configure-cli|configure-pkcs11 add-cluster | remove-cluster`.
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

/// Runs `tool` with `args` (without the program name); returns the exit status.
pub fn run(
    tool: Tool,
    args: Vec<std::ffi::OsString>,
    home: Option<PathBuf>,
    seed: Option<u64>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let argv = std::iter::once(std::ffi::OsString::from(tool.name())).chain(args);
    let parsed = match tool {
        Tool::Cli => ConfigureCli::try_parse_from(argv).map(Parsed::Cli),
        Tool::Pkcs11 => ConfigurePkcs11::try_parse_from(argv).map(Parsed::Pkcs11),
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return super::usage(&e, out, err),
    };
    match configure(parsed, home, seed, err) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

/// A parsed command line of either tool.
enum Parsed {
    Cli(ConfigureCli),
    Pkcs11(ConfigurePkcs11),
}

impl Parsed {
    fn tool(&self) -> Tool {
        match self {
            Parsed::Cli(_) => Tool::Cli,
            Parsed::Pkcs11(_) => Tool::Pkcs11,
        }
    }

    fn shared(&self) -> (&SharedArgs, Option<&ConfigureCommand>) {
        match self {
            Parsed::Cli(c) => (&c.shared, c.command.as_ref()),
            Parsed::Pkcs11(c) => (&c.shared, c.command.as_ref()),
        }
    }
}

/// A tool's configuration file, as the shared options change it.
pub trait ToolConfig {
    /// The clusters the tool's client uses, in order.
    fn clusters(&mut self) -> &mut Vec<String>;
    /// Settings recorded without effect, by option name.
    fn recorded(&mut self) -> &mut BTreeMap<String, String>;
    fn set_key_availability_check(&mut self, enabled: bool);
    /// Sets validate-key-at-init; false when the tool only records it (no effect here).
    fn set_validate_key_at_init(&mut self, enabled: bool) -> bool;
}

impl ToolConfig for CliConfig {
    fn clusters(&mut self) -> &mut Vec<String> {
        &mut self.clusters
    }
    fn recorded(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.recorded
    }
    fn set_key_availability_check(&mut self, enabled: bool) {
        self.key_availability_check = enabled;
    }
    fn set_validate_key_at_init(&mut self, enabled: bool) -> bool {
        let v = if enabled { "enabled" } else { "disabled" };
        self.recorded
            .insert("validate-key-at-init".into(), v.into());
        false
    }
}

impl ToolConfig for Pkcs11Config {
    fn clusters(&mut self) -> &mut Vec<String> {
        &mut self.clusters
    }
    fn recorded(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.recorded
    }
    fn set_key_availability_check(&mut self, enabled: bool) {
        self.key_availability_check = enabled;
    }
    fn set_validate_key_at_init(&mut self, enabled: bool) -> bool {
        self.validate_key_at_init = enabled;
        true
    }
}

fn note(err: &mut dyn Write, tool: Tool, what: &str) {
    let _ = writeln!(
        err,
        "{}: recorded {what}; it has no effect on the simulated cluster",
        tool.name()
    );
}

fn record_endpoint(tool: Tool, config: &mut dyn ToolConfig, e: &EndpointArgs, err: &mut dyn Write) {
    for (name, value) in [
        ("--endpoint", &e.endpoint),
        ("--region", &e.region),
        ("--hsm-ca-cert", &e.hsm_ca_cert),
        ("--client-cert-hsm-tls-file", &e.client_cert),
        ("--client-key-hsm-tls-file", &e.client_key),
    ] {
        if let Some(v) = value {
            config.recorded().insert(name.to_string(), v.clone());
            if tool == Tool::Cli && name.starts_with("--client-") {
                // The client certificate is what a cluster enforcing mTLS checks.
                let _ = writeln!(
                    err,
                    "configure-cli: recorded {name}; a cluster that enforces mTLS admits the client certificate only if it chains to a registered trust anchor"
                );
            } else {
                note(err, tool, name);
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
    parsed: Parsed,
    home: Option<PathBuf>,
    seed: Option<u64>,
    err: &mut dyn Write,
) -> Result<(), HsmError> {
    let root = home.ok_or_else(|| HsmError::ClusterNotFound {
        id: "(no state directory: set CLOUDHSM_SIM_HOME or HOME)".into(),
    })?;
    let home = Home::open(root)?;
    let mut entropy = Entropy::new(seed);
    // One configuration tool at a time: the clusters it names are made and the configuration
    // is read, changed and written under the state directory's lock, so that no concurrent
    // change is lost.
    let lock = home.lock()?;
    let (shared, command) = parsed.shared();
    if let Some(id) = &shared.cluster_id {
        ensure_cluster(&home, &lock, id, &mut entropy)?;
    }
    if let Some(ConfigureCommand::AddCluster(add)) = command {
        ensure_cluster(&home, &lock, &add.cluster_id, &mut entropy)?;
    }
    let tool = parsed.tool();
    match &parsed {
        Parsed::Cli(_) => {
            home.update_cli_config(&lock, |config| {
                apply_shared(tool, shared, command, config, err)
            })?;
        }
        Parsed::Pkcs11(cli) => {
            pkcs11_config::update(&home, &lock, |config| {
                apply_pkcs11(cli, config);
                apply_shared(tool, shared, command, config, err);
            })?;
        }
    }
    Ok(())
}

/// The PKCS#11-only switches: settings the module reads.
fn apply_pkcs11(cli: &ConfigurePkcs11, config: &mut Pkcs11Config) {
    if cli.enable_certificate_storage {
        config.certificate_storage = true;
    }
    if cli.disable_certificate_storage {
        config.certificate_storage = false;
    }
    if cli.enable_ecdh_without_kdf {
        config.ecdh_without_kdf = true;
    }
    if cli.disable_ecdh_without_kdf {
        config.ecdh_without_kdf = false;
    }
}

/// The changes the shared options make to `tool`'s configuration; says on `err` what has no
/// effect here.
fn apply_shared(
    tool: Tool,
    cli: &SharedArgs,
    command: Option<&ConfigureCommand>,
    config: &mut dyn ToolConfig,
    err: &mut dyn Write,
) {
    if cli.disable_key_availability_check {
        config.set_key_availability_check(false);
    }
    if cli.enable_key_availability_check {
        config.set_key_availability_check(true);
    }
    if !cli.addresses.is_empty() {
        config
            .recorded()
            .insert("-a".into(), cli.addresses.join(" "));
        note(err, tool, "-a (HSM addresses)");
    }
    let validate = cli.disable_validate_key_at_init || cli.enable_validate_key_at_init;
    if validate && !config.set_validate_key_at_init(cli.enable_validate_key_at_init) {
        note(err, tool, "the validate-key-at-init setting");
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
            config.recorded().insert(name.into(), v);
            note(err, tool, name);
        }
    }
    record_endpoint(tool, config, &cli.endpoint, err);
    if let Some(id) = &cli.cluster_id {
        *config.clusters() = vec![id.clone()];
    }
    match command {
        Some(ConfigureCommand::AddCluster(add)) => {
            if !config.clusters().contains(&add.cluster_id) {
                config.clusters().push(add.cluster_id.clone());
            }
            record_endpoint(tool, config, &add.endpoint, err);
        }
        Some(ConfigureCommand::RemoveCluster(rm)) => {
            config.clusters().retain(|c| *c != rm.cluster_id);
            let _ = writeln!(
                err,
                "{}: {} no longer uses {}; its simulated data stays (cloudhsm-sim can reset it)",
                tool.name(),
                tool.user(),
                rm.cluster_id
            );
        }
        None => {}
    }
}
