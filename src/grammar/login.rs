//! `login` and `logout`.

use clap::Args;

use super::{ClusterIdArg, LoginCommand, LoginRole, Password};

/// `login`
#[derive(Debug, Args)]
pub struct Login {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
    /// Username to access the Cluster
    #[arg(long, value_name = "USERNAME")]
    pub username: String,
    /// Role the user has in the Cluster
    #[arg(long, value_name = "ROLE", value_parser = super::RoleParser::<LoginRole>::new())]
    pub role: LoginRole,
    /// Optional: Plaintext user's password. If you do not include this argument you will be prompted for it
    #[arg(long, value_name = "PASSWORD", allow_hyphen_values = true)]
    pub password: Option<Password>,
    #[command(subcommand)]
    pub mfa: Option<LoginCommand>,
}

/// `logout`
#[derive(Debug, Args)]
pub struct Logout {
    #[command(flatten)]
    pub cluster: ClusterIdArg,
}
