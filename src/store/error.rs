//! Errors of the durable state layer.

use std::path::PathBuf;

/// Why the state directory or a cluster database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot use state directory {path}: {source}")]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to use state directory {path}: it is a symbolic link")]
    Symlink { path: PathBuf },
    #[error("{path} is not a cloudhsm-sim cluster database; it was left untouched")]
    NotOurs { path: PathBuf },
    #[error(
        "{path} has schema version {found}, but this cloudhsm-sim understands up to {supported}; \
         it was left untouched"
    )]
    FutureSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("cluster database {path} is damaged: {detail}")]
    Damaged { path: PathBuf, detail: String },
    #[error("state database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("state file error: {0}")]
    Io(#[from] std::io::Error),
}
