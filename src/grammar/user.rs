//! `user` commands.

use clap::{Args, Subcommand};

use super::{ChangeMfaCommand, ChangeQuorumCommand, ClusterIdArg, Password, TargetRole, UserRole};

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List the users in your cluster
    List(UserList),
    /// Create a new user
    Create(UserCreate),
    /// Delete a user
    Delete(UserDelete),
    /// Change a user's password
    ChangePassword(UserChangePassword),
    /// Change a user's Mfa Strategy
    #[command(subcommand)]
    ChangeMfa(ChangeMfaCommand),
    /// Change a user's quorum strategy
    #[command(subcommand)]
    ChangeQuorum(ChangeQuorumCommand),
    /// Replicate a user from a source to a destination cluster
    Replicate(UserReplicate),
}

/// `user replicate`: between clone clusters, logged in on both (no `--cluster-id`: the two
/// clusters are named by their own options).
#[derive(Debug, Args)]
pub struct UserReplicate {
    /// Username of the user to replicate
    #[arg(long, value_name = "USERNAME")]
    pub username: String,
    /// Role the user has in the cluster
    #[arg(long, value_name = "ROLE", value_parser = super::RoleParser::<UserRole>::new())]
    pub role: UserRole,
    /// Source cluster ID
    #[arg(long = "source-cluster-id", value_name = "SOURCE_CLUSTER_ID")]
    pub source_cluster_id: String,
    /// Destination cluster ID
    #[arg(long = "destination-cluster-id", value_name = "DESTINATION_CLUSTER_ID")]
    pub destination_cluster_id: String,
}

/// `user list`
#[derive(Debug, Args)]
pub struct UserList {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
}

/// `user create`
#[derive(Debug, Args)]
pub struct UserCreate {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Username to access the HSM cluster
    #[arg(long, value_name = "USERNAME")]
    pub username: String,
    /// Role the user has in the cluster
    #[arg(long, value_name = "ROLE", value_parser = super::RoleParser::<UserRole>::new())]
    pub role: UserRole,
    /// Optional: Plaintext user's password. If you do not include this argument you will be prompted for it
    #[arg(long, value_name = "PASSWORD", allow_hyphen_values = true)]
    pub password: Option<Password>,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// `user delete`
#[derive(Debug, Args)]
pub struct UserDelete {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Username to access the HSM cluster
    #[arg(long, value_name = "USERNAME")]
    pub username: String,
    /// Role the user has in the cluster
    #[arg(long, value_name = "ROLE", value_parser = super::RoleParser::<UserRole>::new())]
    pub role: UserRole,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
}

/// `user change-password`
#[derive(Debug, Args)]
pub struct UserChangePassword {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Username of the user that will be modified
    #[arg(long, value_name = "USERNAME")]
    pub username: String,
    /// Role the user has in the cluster
    #[arg(long, value_name = "ROLE", value_parser = super::RoleParser::<TargetRole>::new())]
    pub role: TargetRole,
    /// Optional: Plaintext user's password. If you do not include this argument you will be prompted for it
    #[arg(long, value_name = "PASSWORD", allow_hyphen_values = true)]
    pub password: Option<Password>,
    /// Filepath of signed quorum token file to approve operation
    #[arg(long, value_name = "APPROVAL")]
    pub approval: Option<String>,
    /// Deregister the user's mfa public key, if present
    #[arg(long = "deregister-mfa")]
    pub deregister_mfa: bool,
    /// Deregister the user's quorum public key, if present
    #[arg(long = "deregister-quorum")]
    pub deregister_quorum: bool,
}
