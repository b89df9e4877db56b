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
    /// Manage mtls between the client and the HSMs of the cluster
    #[command(subcommand)]
    Mtls(MtlsCommand),
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

/// `cluster mtls …`
#[derive(Debug, Subcommand)]
pub enum MtlsCommand {
    /// Register a trust anchor for mtls
    RegisterTrustAnchor(MtlsRegisterTrustAnchor),
    /// Deregister a trust anchor for mtls
    DeregisterTrustAnchor(MtlsDeregisterTrustAnchor),
    /// List all trust anchors for mtls
    ListTrustAnchors(ClusterHsmInfo),
    /// Get the status of mtls enforcement in the cluster
    GetEnforcement(ClusterHsmInfo),
    /// Set mtls enforcement policy in the cluster
    SetEnforcement(MtlsSetEnforcement),
}

/// `cluster mtls register-trust-anchor`
#[derive(Debug, Args)]
pub struct MtlsRegisterTrustAnchor {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Filepath of the trust anchor to register
    #[arg(long, value_name = "PATH")]
    pub path: String,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// `cluster mtls deregister-trust-anchor`
#[derive(Debug, Args)]
pub struct MtlsDeregisterTrustAnchor {
    /// A hexadecimal or decimal certificate reference
    #[arg(long = "certificate-reference", value_name = "CERTIFICATE_REFERENCE")]
    pub certificate_reference: String,
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// `--level` of `cluster mtls set-enforcement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MtlsLevel {
    None,
    Cluster,
}

/// `cluster mtls set-enforcement`
#[derive(Debug, Args)]
pub struct MtlsSetEnforcement {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Level to be set for mtls in the cluster
    #[arg(long, value_name = "LEVEL")]
    pub level: MtlsLevel,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}
