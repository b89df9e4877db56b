//! The simulated cluster: HSMs, users, authentication and (later) keys, on durable state.
//!
//! Nothing here knows of clap, terminals or stdout; errors carry the texts users see.

mod auth;
mod cluster;
pub mod crypto;
mod default_cluster;
mod entropy;
mod error;
mod fixtures;
pub mod key;
mod keygen;
mod keys;
mod masked;
mod model;
mod process;
pub mod quorum;
mod replication;
mod signing;
mod user;
mod wrapping;

pub use auth::Kdf;
pub use cluster::{
    check_cluster_id, create, create_locked, reset, resolve, Cluster, ClusterConfig, HsmInfo,
    Login, Settings, UserInfo, MAX_FAILED_LOGINS,
};
pub use default_cluster::{retire_default, untouched_default};
pub use entropy::Entropy;
pub use error::HsmError;
pub use fixtures::{
    export_cluster, import_cluster, FixtureError, Imported, Seeded, SeededKey, EXPORT_FORMAT,
    EXPORT_VERSION, RUNTIME_TABLES,
};
pub use keygen::{GenerateRequest, KeyKind};
pub use keys::{check_quorum, Actor, NewKey, SessionKeys, StoredKey};
pub use masked::MaskedFile;
pub use model::{fips_state, HsmType, ModelInfo};
pub use process::SessionId;
pub use quorum::{Approval, ApprovalFile, QuorumError, Service, TokenSetFile};
pub use replication::{HsmSync, MAX_HSMS};
pub use user::{Role, ADMIN, APPLIANCE_USER, UNACTIVATED_ADMIN_PASSWORD};
pub use wrapping::{UnwrapRequest, UnwrapTarget};
