//! Durable state: one SQLite database per cluster under the state directory.
//!
//! Every change runs in one `BEGIN IMMEDIATE` transaction and is committed before the caller
//! reports success; reads run in a deferred transaction so that they see one consistent
//! snapshot. The store knows nothing of clap, terminals or the permission table: it keeps rows.
//!
//! Outside the crate only the state directory is public ([`Home`], its lock, the CLI
//! configuration and [`pkcs11_config`], the PKCS#11 module's) and [`StoreError`]: the rows,
//! the transactions and the database handle are `hsm`'s alone, so that no front end reads or
//! writes past its rules.
//!
//! ```
//! let _ = cloudhsm_sim::store::Home::open;
//! ```
//!
//! ```compile_fail
//! let _ = cloudhsm_sim::store::records::users;
//! ```
//!
//! ```compile_fail
//! fn raw(_: &cloudhsm_sim::store::Tx<'_>) {}
//! ```
//!
//! ```compile_fail
//! let _ = cloudhsm_sim::store::Store::open;
//! ```

pub(crate) mod certificates;
mod db;
mod error;
mod home;
pub mod pkcs11_config;
pub(crate) mod records;

pub(crate) use db::{DbVersion, Store, Tx, INSTANCE_KEY, SCHEMA_VERSION};
pub use error::StoreError;
pub use home::{
    valid_backup_id, valid_cluster_id, write_private, CliConfig, Home, HomeLock, Stray,
};
