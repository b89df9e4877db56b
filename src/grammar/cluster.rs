//! `cluster` commands.

use clap::{Args, Subcommand};

use super::{ClusterIdArg, Password};

/// `cluster …`
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Activate a cluster
    Activate(ClusterActivate),
    /// List info about each HSM in the cluster
    HsmInfo(ClusterHsmInfo),
    /// [emulator extension] Show the digests of the keys each HSM holds, to compare sync status
    SyncStatus(ClusterHsmInfo),
}

/// `cluster activate`
#[derive(Debug, Args)]
#[command(
    long_about = "Activate a cluster\n\nThis command will set the initial Admin password. This process will cause your CloudHSM cluster to move into the ACTIVE state."
)]
pub struct ClusterActivate {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Optional: Plaintext activation password If you do not include this argument you will be prompted for it
    #[arg(long, value_name = "PASSWORD", allow_hyphen_values = true)]
    pub password: Option<Password>,
}

/// `cluster hsm-info`
#[derive(Debug, Args)]
pub struct ClusterHsmInfo {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
}
