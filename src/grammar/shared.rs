//! Arguments shared by many commands.

use clap::{Args, ValueEnum};

/// `--cluster-id`, on every command.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterIdArg {
    /// Unique Id to choose which of the clusters in the config file to run the operation against. If not provided, will fall back to the value provided when interactive mode was started, or error
    #[arg(long = "cluster-id", value_name = "CLUSTER_ID")]
    pub cluster_id: Option<String>,
}

/// `--role` of `user create` and `user delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UserRole {
    /// A CryptoUser has the ability to manage and use keys
    CryptoUser,
    /// An Admin has the ability to manage user accounts
    Admin,
}

/// `--role` of `login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoginRole {
    /// A CryptoUser has the ability to manage and use keys
    CryptoUser,
    /// An Admin has the ability to manage user accounts
    Admin,
    /// [emulator extension] The appliance user app_user, whose password `cloudhsm-sim init --appliance-password` sets
    ApplianceUser,
}

/// `--role` of `user change-password`: the documented roles, and the appliance user (hidden),
/// who may change its own password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetRole {
    /// A CryptoUser has the ability to manage and use keys
    CryptoUser,
    /// An Admin has the ability to manage user accounts
    Admin,
    /// [emulator extension] The appliance user app_user
    #[value(hide = true)]
    ApplianceUser,
}

/// A password: typed as an option (`--password`), prompted for, or taken from
/// `CLOUDHSM_PIN`. Its bytes are zeroed when it is dropped, and `Debug` never shows them.
///
/// The copies that other code keeps are out of reach: clap's raw argument values, rustyline's
/// line editor and the process environment.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(zeroize::Zeroizing<String>);

impl Password {
    /// The password's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(text: String) -> Password {
        Password(zeroize::Zeroizing::new(text))
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}
