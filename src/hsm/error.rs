//! Refusals and failures of the simulated cluster. Each `Display` text is what the user sees
//! in the `data` field of the error envelope; where the AWS guide or real scripts document a
//! text, it is reproduced verbatim (see docs/errors.md).

use crate::store::StoreError;

/// Why the simulated cluster refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    #[error("Incorrect credentials are passed for this operation: Incorrect authentication credentials.")]
    BadCredentials,
    #[error(
        "User {username} is locked after too many failed login attempts. An admin must reset \
         its password with user change-password to unlock it"
    )]
    UserLocked { username: String },
    #[error("Cluster has already been activated")]
    AlreadyActivated,
    #[error("User already exists")]
    UserExists,
    #[error("User {username} with role {role} does not exist")]
    UserNotFound { username: String, role: String },
    #[error("Cannot delete user {username}: the user is currently logged in")]
    DeleteLoggedIn { username: String },
    #[error("Cannot change the password of user {username}: the user is currently logged in")]
    PasswordChangeLoggedIn { username: String },
    #[error(
        "Invalid username: a username is 1 to 31 characters long and may contain only letters, \
         digits and '_'"
    )]
    InvalidUsername,
    #[error("Invalid password: a password is 8 to 32 characters long and must not contain ':'")]
    InvalidPassword,
    #[error("Cannot create a user with role {role}")]
    ReservedRole { role: String },
    #[error("Maximum number of users for this cluster reached ({max})")]
    UserQuota { max: usize },
    #[error(
        "Invalid cluster id {id}: expected 'cluster-' followed by lowercase letters and digits"
    )]
    InvalidClusterId { id: String },
    #[error("Cluster {id} does not exist in this state directory")]
    ClusterNotFound { id: String },
    #[error("Cluster {id} already exists in this state directory")]
    ClusterExists { id: String },
    #[error("Cluster {id} is not in the CLI configuration: add it with configure-cli add-cluster --cluster-id {id}")]
    ClusterNotConfigured { id: String },
    #[error("multiple clusters provided in configuration file. Please specify `cluster-id`")]
    MultipleClusters,
    #[error("Cluster {id} is damaged: {detail}")]
    Corrupt { id: String, detail: String },
    #[error("Password hashing failed: {0}")]
    Kdf(String),
    #[error("No HSM of cluster {id} is available: restore one with cloudhsm-sim hsm restore")]
    NoHsmAvailable { id: String },
    #[error("HSM {id} is not in this cluster")]
    HsmNotFound { id: String },
    #[error("A cluster keeps at least one HSM")]
    LastHsm,
    #[error("A cluster has at most {max} HSMs")]
    TooManyHsms { max: usize },
    #[error("Cannot delete user {username}: the user owns keys")]
    OwnsKeys { username: String },
    #[error("User {username} with role {role} is not permitted to {operation}")]
    NotPermitted {
        username: String,
        role: &'static str,
        operation: &'static str,
    },
    #[error(
        "User {username} with role {role} is not permitted to set the {attribute} attribute: {why}"
    )]
    AttributeNotPermitted {
        username: String,
        role: &'static str,
        attribute: String,
        why: &'static str,
    },
    #[error("The login is not valid on this cluster: it was made on another cluster, or before this one was reset or imported; log in again")]
    LoginVoid,
    #[error("Cluster {to} is not a clone of cluster {from}: users and keys are replicated only between clusters made from backups of one cluster")]
    NotClones { from: String, to: String },
    #[error("User {username} does not exist as a crypto user on cluster {cluster}: replicate the key's owner and the users it is shared with first")]
    ReplicaUserMissing { username: String, cluster: String },
    #[error("Cluster {cluster} holds another key with reference {reference}")]
    ReferenceTaken { reference: String, cluster: String },
    #[error("A session key cannot be replicated: it exists only in the session that made it")]
    SessionKeyNotReplicable,
    #[error("{0}")]
    Key(#[from] crate::hsm::key::KeyError),
    #[error("{0}")]
    Certificate(#[from] crate::hsm::certificates::CertificateError),
    #[error("{0}")]
    Quorum(#[from] crate::hsm::quorum::QuorumError),
    #[error("{0}")]
    Mtls(#[from] crate::hsm::mtls::MtlsError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A refused cryptographic operation is a refused key operation (`KeyError::Crypto`), its
/// type kept for every front end (a PKCS#11 return code is chosen from it).
impl From<crate::hsm::crypto::CryptoError> for HsmError {
    fn from(e: crate::hsm::crypto::CryptoError) -> Self {
        HsmError::Key(e.into())
    }
}
