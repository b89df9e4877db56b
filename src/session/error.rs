//! Refusals of the session layer: the state machine and the permission table. Refusals of
//! the simulated HSM are wrapped unchanged, so their texts reach the user as they are.

use crate::hsm::HsmError;

/// Why the session refused or failed a command.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("You must be logged in to run {command}")]
    NotLoggedIn { command: &'static str },
    #[error("No user is logged in")]
    NoLogin,
    #[error("User {username} is already logged in. Log out before logging in again")]
    AlreadyLoggedIn { username: String },
    #[error("User {username} with role {role} is not permitted to run {command}")]
    PermissionDenied {
        username: String,
        role: &'static str,
        command: &'static str,
    },
    #[error("The interactive command cannot be run inside an interactive session")]
    NestedInteractive,
    #[error("Passwords do not match")]
    PasswordMismatch,
    #[error("No password was given")]
    NoPassword,
    #[error("Could not read the password: {0}")]
    Prompt(std::io::Error),
    #[error("CLOUDHSM_ROLE and CLOUDHSM_PIN must be set to run {command} in single command mode")]
    MissingCredentials { command: &'static str },
    #[error("CLOUDHSM_PIN must have the form <username>:<password>")]
    MalformedPin,
    #[error("CLOUDHSM_ROLE must be one of: admin, crypto-user, appliance-user")]
    UnknownRole,
    #[error("{0}")]
    Hsm(#[from] HsmError),
}
