//! Errors of the durable state layer.

use std::path::{Path, PathBuf};

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
    #[error(
        "cluster database {path} was replaced by another process (cloudhsm-sim reset or \
         import) during this command, which stopped there: log in again"
    )]
    Replaced { path: PathBuf },
    #[error("the CLI configuration {path} cannot be read ({detail}): fix or remove it")]
    Config { path: PathBuf, detail: String },
    #[error("the state database cannot be written ({0}): the disk is full or failing")]
    Unwritable(rusqlite::Error),
    #[error("state database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("state file error: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Names the database file in a SQLite error that means the file itself is damaged
    /// (`SQLITE_CORRUPT`, `SQLITE_NOTADB`): SQLite's own text does not say which file.
    pub fn located(self, path: &Path) -> StoreError {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        match self {
            StoreError::Sqlite(e)
                if matches!(e.sqlite_error_code(), Some(DatabaseCorrupt | NotADatabase)) =>
            {
                StoreError::Damaged {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                }
            }
            other => other,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// A full disk (`SQLITE_FULL`) or a failed read or write (`SQLITE_IOERR`) gets its own
    /// text: the usual cause is the machine, not the database.
    fn from(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode::{DiskFull, SystemIoFailure};
        match e.sqlite_error_code() {
            Some(DiskFull | SystemIoFailure) => StoreError::Unwritable(e),
            _ => StoreError::Sqlite(e),
        }
    }
}
