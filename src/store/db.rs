//! One cluster database: opening it safely, creating it atomically, and transactions.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::StoreError;

/// `PRAGMA application_id` of every cluster database ("CHSM"); a SQLite file without it is
/// some other program's and is never touched.
pub const APPLICATION_ID: i64 = 0x4348_534D;

/// The schema this build writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// A transaction on a cluster database.
pub type Tx<'a> = rusqlite::Transaction<'a>;

const SCHEMA: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE hsms (
    id            TEXT PRIMARY KEY,
    ordinal       INTEGER NOT NULL UNIQUE,
    serial_number TEXT NOT NULL UNIQUE,
    state         TEXT NOT NULL
);
CREATE TABLE users (
    ordinal       INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked        INTEGER NOT NULL DEFAULT 0,
    public_key    BLOB,
    quorum_key    INTEGER NOT NULL DEFAULT 0,
    mfa_key       INTEGER NOT NULL DEFAULT 0,
    stamp         INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE quorum_values (
    service TEXT PRIMARY KEY,
    value   INTEGER NOT NULL
);
CREATE TABLE tokens (
    token         TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    username      TEXT NOT NULL,
    service       TEXT NOT NULL,
    key_reference INTEGER,
    session       TEXT NOT NULL,
    created       INTEGER NOT NULL,
    approval_data BLOB NOT NULL
);
CREATE INDEX tokens_user ON tokens (username, service);
CREATE TABLE logins (
    pid        INTEGER NOT NULL,
    started    TEXT NOT NULL,
    username   TEXT NOT NULL,
    PRIMARY KEY (pid, started, username)
);
CREATE TABLE keys (
    reference     INTEGER PRIMARY KEY,
    owner         TEXT NOT NULL,
    key_type      TEXT NOT NULL,
    class         TEXT NOT NULL,
    label         TEXT NOT NULL,
    settable      TEXT NOT NULL,
    derived       TEXT NOT NULL,
    manage_quorum INTEGER NOT NULL DEFAULT 0,
    use_quorum    INTEGER NOT NULL DEFAULT 0,
    material      BLOB NOT NULL,
    stamp         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX keys_owner ON keys (owner);
CREATE INDEX keys_label ON keys (label);
CREATE INDEX keys_class ON keys (class);
CREATE INDEX keys_type ON keys (key_type);
CREATE TABLE key_shares (
    reference INTEGER NOT NULL REFERENCES keys (reference) ON DELETE CASCADE,
    username  TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (reference, username)
);
CREATE INDEX key_shares_user ON key_shares (username);

-- Replication: which HSM holds which version (stamp) of each user and key. Every change is
-- applied to the HSMs that are up, in the transaction that makes it; an HSM that is down
-- keeps what it had until it is restored and brought up to date.
CREATE TABLE object_hsms (
    kind    TEXT NOT NULL,
    object  TEXT NOT NULL,
    hsm_id  TEXT NOT NULL,
    stamp   INTEGER NOT NULL,
    PRIMARY KEY (kind, object, hsm_id)
);
INSERT INTO meta (key, value) VALUES ('stamp', '0');
CREATE TRIGGER shares_inserted AFTER INSERT ON key_shares BEGIN
    UPDATE keys SET label = label WHERE reference = NEW.reference;
END;
CREATE TRIGGER shares_deleted AFTER DELETE ON key_shares BEGIN
    UPDATE keys SET label = label WHERE reference = OLD.reference;
END;
";

/// The triggers that apply every change of `table` (whose key column is `id`) to the HSMs
/// that are up: each change takes a new stamp from the cluster's counter, and each up HSM
/// records that it holds that version.
fn replication_triggers(table: &str, kind: &str, id: &str) -> String {
    let stamp = "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'stamp')";
    let mut sql = String::new();
    for event in ["INSERT", "UPDATE"] {
        sql.push_str(&format!(
            "CREATE TRIGGER {table}_{event}_replicated AFTER {event} ON {table} BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'stamp';
    UPDATE {table} SET stamp = {stamp} WHERE {id} = NEW.{id};
    INSERT OR REPLACE INTO object_hsms
        SELECT '{kind}', NEW.{id}, id, {stamp} FROM hsms WHERE state = 'up';
END;
"
        ));
    }
    sql.push_str(&format!(
        "CREATE TRIGGER {table}_DELETE_replicated AFTER DELETE ON {table} BEGIN
    DELETE FROM object_hsms WHERE kind = '{kind}' AND object = OLD.{id}
        AND hsm_id IN (SELECT id FROM hsms WHERE state = 'up');
END;
"
    ));
    sql
}

/// See [`Store::version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbVersion(i64, u64);

/// An open cluster database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// (device, inode) of the file when it was opened, to notice a replaced database.
    identity: Option<(u64, u64)>,
}

fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl Store {
    /// Opens an existing cluster database. The file is checked before anything is written to
    /// it: a file that is not SQLite, a SQLite file of another program, or a schema from a
    /// newer build is refused and left byte for byte as it was.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        let not_ours = || StoreError::NotOurs {
            path: path.to_path_buf(),
        };
        // Reading the header is the first access; SQLITE_NOTADB means garbage.
        let app_id: i64 = match conn.query_row("PRAGMA application_id", [], |r| r.get(0)) {
            Ok(id) => id,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(not_ours())
            }
            Err(e) => return Err(e.into()),
        };
        if app_id != APPLICATION_ID {
            return Err(not_ours());
        }
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::FutureSchema {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < 1 {
            return Err(StoreError::Damaged {
                path: path.to_path_buf(),
                detail: format!("unknown schema version {version}"),
            });
        }
        configure(&conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            identity: file_identity(path),
        })
    }

    /// Creates a new cluster database at `path`, atomically: the schema and the rows that
    /// `fill` writes go into a private temporary file that is renamed into place only once it
    /// is complete. Fails if `path` exists.
    pub fn create(
        path: &Path,
        fill: impl FnOnce(&Tx<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let result = (|| {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            let mut conn = Connection::open(&tmp)?;
            conn.pragma_update(None, "application_id", APPLICATION_ID)?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            let tx = conn.transaction()?;
            tx.execute_batch(SCHEMA)?;
            tx.execute_batch(&replication_triggers("users", "user", "username"))?;
            tx.execute_batch(&replication_triggers("keys", "key", "reference"))?;
            fill(&tx)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            tx.commit()?;
            conn.close().map_err(|(_, e)| e)?;
            if path.exists() {
                return Err(StoreError::Io(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    format!("{} already exists", path.display()),
                )));
            }
            fs::rename(&tmp, path)?;
            Ok(())
        })();
        if result.is_err() {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = tmp.clone().into_os_string();
                p.push(suffix);
                let _ = fs::remove_file(PathBuf::from(p));
            }
        }
        result
    }

    /// Whether the file at this store's path is still the one it opened (a reset or an
    /// import replaces it).
    pub fn is_current(&self) -> bool {
        self.identity.is_some() && file_identity(&self.path) == self.identity
    }

    /// Where this database lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A value that differs whenever the database may have changed since it was last taken:
    /// a commit of another connection (`PRAGMA data_version`) or a row changed through this
    /// one (`sqlite3_total_changes`, which also counts changes rolled back).
    pub fn version(&mut self) -> Result<DbVersion, StoreError> {
        let data_version = self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        Ok(DbVersion(data_version, self.conn.total_changes()))
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits only when it returns `Ok`.
    /// A caller whose outcome is a refusal that must still be recorded (a failed login)
    /// returns `Ok(Err(refusal))`.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let value = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub fn read<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(StoreError::from)?;
        let value = f(&tx)?;
        tx.finish().map_err(StoreError::from)?;
        Ok(value)
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(dir: &Path) -> PathBuf {
        let path = dir.join("c.db");
        Store::create(&path, |tx| {
            tx.execute("INSERT INTO meta VALUES ('k', 'v')", [])?;
            Ok(())
        })
        .unwrap();
        path
    }

    #[test]
    fn created_database_opens_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = fresh(dir.path());
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let mut store = Store::open(&path).unwrap();
        let v: String = store
            .read(|tx| {
                tx.query_row("SELECT value FROM meta WHERE key='k'", [], |r| r.get(0))
                    .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(v, "v");
    }

    #[test]
    fn garbage_is_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let garbage = b"this is not a database, it is a grocery list\n".repeat(200);
        fs::write(&path, &garbage).unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::NotOurs { .. })
        ));
        assert_eq!(fs::read(&path).unwrap(), garbage);
    }

    #[test]
    fn future_schema_is_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = fresh(dir.path());
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let before = fs::read(&path).unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::FutureSchema { found, .. }) if found == SCHEMA_VERSION + 1
        ));
        assert_eq!(fs::read(&path).unwrap(), before);
    }

    #[test]
    fn other_programs_sqlite_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
                .unwrap();
        }
        let before = fs::read(&path).unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::NotOurs { .. })
        ));
        assert_eq!(fs::read(&path).unwrap(), before);
    }

    #[test]
    fn failed_write_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = fresh(dir.path());
        let mut store = Store::open(&path).unwrap();
        let r: Result<(), StoreError> = store.write(|tx| {
            tx.execute("INSERT INTO meta VALUES ('x', 'y')", [])?;
            Err(StoreError::Damaged {
                path: PathBuf::new(),
                detail: "boom".into(),
            })
        });
        assert!(r.is_err());
        let n: i64 = store
            .read(|tx| {
                tx.query_row("SELECT count(*) FROM meta WHERE key = 'x'", [], |r| {
                    r.get(0)
                })
                .map_err(StoreError::from)
            })
            .unwrap();
        assert_eq!(n, 0);
    }
}
