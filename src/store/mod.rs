//! Durable state: one SQLite database per cluster under the state directory.
//!
//! Every change runs in one `BEGIN IMMEDIATE` transaction and is committed before the caller
//! reports success; reads run in a deferred transaction so that they see one consistent
//! snapshot. The store knows nothing of clap, terminals or the permission table: it keeps rows.

mod db;
mod error;
mod home;
pub mod records;

pub use db::{is_temporary, DbVersion, Store, Tx, APPLICATION_ID, INSTANCE_KEY, SCHEMA_VERSION};
pub use error::StoreError;
pub use home::{valid_cluster_id, CliConfig, Home, HomeLock, Stray};
