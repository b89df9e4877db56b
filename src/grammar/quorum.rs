//! `quorum token-sign …`, `user change-quorum token-sign register`, `user change-mfa
//! token-sign` and `login … mfa-token-sign` (AWS CloudHSM User Guide, quorum and MFA pages).

use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use super::{ClusterIdArg, Password, TargetRole};

/// `quorum …`
#[derive(Debug, Subcommand)]
pub enum QuorumCommand {
    /// Quorum token-sign strategy
    #[command(subcommand)]
    TokenSign(TokenSignCommand),
}

/// `quorum token-sign …`
#[derive(Debug, Subcommand)]
pub enum TokenSignCommand {
    /// Generate a token
    Generate(TokenGenerate),
    /// List the token-sign tokens in your cluster
    List(ClusterOnly),
    /// Delete one or more Quorum Tokens
    Delete(TokenDelete),
    /// List current quorum values
    ListQuorumValues(ClusterOnly),
    /// Set a quorum value
    SetQuorumValue(SetQuorumValue),
    /// List timeout durations in seconds for token validity
    ListTimeouts(ClusterOnly),
    /// Set timeout duration in seconds for token validity
    SetTimeout(SetTimeout),
}

/// Commands with no option but `--cluster-id`.
#[derive(Debug, Args)]
pub struct ClusterOnly {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
}

/// `--service` of `quorum token-sign generate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServiceArg {
    /// User management service is used for executing quorum authenticated user management operations
    User,
    /// Quorum management service is used for setting quorum values for any quorum service
    Quorum,
    /// Cluster management service is used for executing quorum for cluster wide configuration managements like mtls enforcement, mtls registration and mtls deregistration
    Cluster,
    /// Registration service is used for registering a public key for quorum authentication
    Registration,
    /// Key usage service is used for executing quorum authenticated key usage operations
    KeyUsage,
    /// Key management service is used for executing quorum authenticated key management operations
    KeyManagement,
}

/// `--service` of `quorum token-sign set-quorum-value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuorumServiceArg {
    /// User management service is used for executing quorum authenticated user management operations
    User,
    /// Quorum management service is used for setting quorum values for any quorum service
    Quorum,
    /// Cluster management service is used for executing quorum for cluster wide configuration managements like mtls enforcement, mtls registration and mtls deregistration
    Cluster,
}

/// `quorum token-sign generate`
#[derive(Debug, Args)]
pub struct TokenGenerate {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Service the token will be used for
    #[arg(long, value_name = "SERVICE")]
    pub service: ServiceArg,
    /// Filepath where the unsigned token file will be written
    #[arg(long, value_name = "TOKEN")]
    pub token: String,
    /// Key reference or key attributes (attr.NAME=VALUE) selecting the key a key-usage or key-management token is for
    #[arg(long, value_name = "FILTER", num_args = 1..)]
    pub filter: Vec<String>,
}

/// `--scope` of `quorum token-sign delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// Deletes all token(s) of currently logged in user
    User,
    /// Deletes all token(s) on the HSM
    All,
}

/// `quorum token-sign delete`
#[derive(Debug, Args)]
pub struct TokenDelete {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Scope of which token(s) will be deleted
    #[arg(long, value_name = "SCOPE")]
    pub scope: ScopeArg,
}

/// `quorum token-sign set-quorum-value`
#[derive(Debug, Args)]
pub struct SetQuorumValue {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Service the token will be used for
    #[arg(long, value_name = "SERVICE")]
    pub service: QuorumServiceArg,
    /// Value to set for service
    #[arg(long, value_name = "VALUE")]
    pub value: u64,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// `quorum token-sign set-timeout`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("timeout").required(true).multiple(true).args(["generated", "approved"])))]
pub struct SetTimeout {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Timeout period in seconds for a generated (non-approved) token to be approved
    #[arg(long, value_name = "GENERATED")]
    pub generated: Option<u64>,
    /// Timeout period in seconds for an approved token to be used to execute a quorum operation
    #[arg(long, value_name = "APPROVED")]
    pub approved: Option<u64>,
}

/// `user change-quorum …`
#[derive(Debug, Subcommand)]
pub enum ChangeQuorumCommand {
    /// Change a user's quorum token-sign strategy
    #[command(subcommand)]
    TokenSign(ChangeQuorumTokenSign),
}

/// `user change-quorum token-sign …`
#[derive(Debug, Subcommand)]
pub enum ChangeQuorumTokenSign {
    /// Register a user for quorum authentication with a public key
    Register(QuorumRegister),
}

/// `user change-quorum token-sign register`
#[derive(Debug, Args)]
pub struct QuorumRegister {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Filepath to public key PEM file
    #[arg(long = "public-key", value_name = "PUBLIC_KEY")]
    pub public_key: String,
    /// Filepath with token signed by user private key
    #[arg(long = "signed-token", value_name = "SIGNED_TOKEN")]
    pub signed_token: String,
}

/// `user change-mfa …`
#[derive(Debug, Subcommand)]
pub enum ChangeMfaCommand {
    /// Register or Deregister a public key using token-sign mfa strategy
    TokenSign(ChangeMfaTokenSign),
}

/// `user change-mfa token-sign`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("action").required(true).args(["token", "deregister"])))]
pub struct ChangeMfaTokenSign {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Username of the user that will be modified
    #[arg(long, value_name = "USERNAME")]
    pub username: String,
    /// Role the user has in the cluster
    #[arg(long, value_name = "ROLE", value_parser = super::RoleParser::<TargetRole>::new())]
    pub role: TargetRole,
    /// Optional: Plaintext user's password. If you do not include this argument you will be prompted for it
    #[arg(long = "change-password", value_name = "CHANGE_PASSWORD")]
    pub change_password: Option<Password>,
    /// Filepath where the unsigned token file will be written. Required for enabling MFA for a user
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
    /// Deregister the MFA public key, if present
    #[arg(long)]
    pub deregister: bool,
    /// Change the Quorum public key along with the MFA key
    #[arg(long = "change-quorum")]
    pub change_quorum: bool,
}

/// `login … mfa-token-sign`
#[derive(Debug, Subcommand)]
pub enum LoginCommand {
    /// Login with token-sign mfa
    MfaTokenSign(MfaTokenSign),
}

/// `login --username U --role R mfa-token-sign --token PATH`
#[derive(Debug, Args)]
pub struct MfaTokenSign {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Filepath where the unsigned token file will be written
    #[arg(long, value_name = "TOKEN")]
    pub token: String,
}
