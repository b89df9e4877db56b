//! The simulated cluster: HSMs, users, authentication and keys, on durable state.
//!
//! Every rule about who may do what lives here, for every front end: an operation on keys,
//! users or quorum takes the caller's [`Login`] (made only by logging in), checks the class
//! of the operation against the login's role (`policy`), and checks, changes and spends a
//! quorum approval in one transaction. Nothing here knows of clap, terminals or stdout;
//! errors carry the texts users see.

mod auth;
mod backup;
mod certificates;
mod ciphering;
mod clones;
mod cluster;
pub mod crypto;
mod default_cluster;
mod derivation;
mod entropy;
mod environment;
mod error;
mod fixtures;
pub mod key;
mod keygen;
mod keys;
mod login;
mod masked;
mod model;
pub mod mtls;
mod open;
pub mod policy;
mod process;
pub mod quorum;
mod replication;
mod signing;
mod user;
mod wrapping;

pub use crate::secret::{Credentials, MalformedPin, Password};
pub use auth::Kdf;
pub use backup::{BackupInfo, DamagedBackup};
// The control plane's (`cloudhsm-sim backup`, `init --from-backup`).
pub(crate) use backup::{create_backup, delete_backup, list_backups, restore_backup};
pub use certificates::{
    Certificate, CertificateAttributes, CertificateError, CertificateField, MAX_CERTIFICATE_ID,
    MAX_CERTIFICATE_LABEL, MAX_CERTIFICATE_VALUE, MAX_PUBLIC_KEY_INFO,
};
pub use ciphering::{Cipher, CipherOperation, AES_CBC_MAX_DATA, AES_GCM_MAX_DATA};
pub use cluster::{
    check_cluster_id, create, create_locked, reset, resolve, Cluster, ClusterConfig, HsmInfo,
    Settings, UserInfo, MAX_FAILED_LOGINS,
};
pub use default_cluster::{retire_default, untouched_default};
pub use derivation::{Derivation, DeriveRequest, EcdhKdf};
pub use entropy::Entropy;
pub use environment::{Environment, EnvironmentError};
pub use error::HsmError;
pub use fixtures::FixtureError;
// The control plane's (`cloudhsm-sim export`, `import`, `seed`): no front end's.
pub(crate) use fixtures::{export_cluster, import_cluster, Seeded};
pub use keygen::{GenerateRequest, ImportMaterial, KeyKind, PublicExponent};
pub use keys::{check_quorum, Blob};
pub use login::{Login, MfaChallenge};
pub use masked::MaskedFile;
pub use model::{fips_state, HsmType, ModelInfo};
pub use open::OpenClusters;
pub use process::SessionId;
pub use quorum::{ApprovalFile, QuorumError, Service, TokenKind, TokenSetFile};
pub use replication::{HsmSync, MAX_HSMS};
pub use signing::{hmac_max_data, SignUse, Signing};
pub use user::{Role, Username, ADMIN, APPLIANCE_USER, UNACTIVATED_ADMIN_PASSWORD};
pub use wrapping::{UnwrapRequest, UnwrapTarget};
