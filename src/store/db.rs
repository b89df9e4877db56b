//! One cluster database: opening it safely, creating it atomically, and transactions.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::StoreError;

/// `PRAGMA application_id` of every cluster database ("CHSM"); a SQLite file without it is
/// some other program's and is never touched.
pub const APPLICATION_ID: i64 = 0x4348_534D;

/// The schema this build writes and reads (`PRAGMA user_version`). Version 2 added the
/// session-key counts of the runtime table `logins`; a version 1 database is brought up to
/// date when it is opened. Version 3 added the table `certificates` (PKCS#11 certificate
/// storage); an older database gets it, empty, when it is opened.
pub const SCHEMA_VERSION: i64 = 3;

/// The `meta` row naming the instance of a cluster database: a random id written when the
/// database is created and replaced whenever its contents are (reset, import). Everything
/// bound to a database (a handle, a login, its session keys) is bound to this id.
pub const INSTANCE_KEY: &str = "instance";

/// The instance id of a database that was retired ([`Store::retire`]) and is being removed:
/// every handle refuses it, the first transaction of a new one included. (A real instance id
/// is 32 hexadecimal digits.)
const RETIRED: &str = "retired";

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
    session_keys            INTEGER NOT NULL DEFAULT 0,
    session_asymmetric_keys INTEGER NOT NULL DEFAULT 0,
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

/// Certificate objects (PKCS#11 certificate storage of hsm2m.medium clusters): public
/// objects whose references come from the key reference counter.
const CERTIFICATES: &str = "
CREATE TABLE IF NOT EXISTS certificates (
    reference       INTEGER PRIMARY KEY,
    creator         TEXT NOT NULL,
    label           TEXT NOT NULL,
    id              BLOB NOT NULL,
    subject         BLOB NOT NULL,
    issuer          BLOB NOT NULL,
    serial_number   BLOB NOT NULL,
    start_date      BLOB NOT NULL,
    end_date        BLOB NOT NULL,
    public_key_info BLOB NOT NULL,
    value           BLOB NOT NULL
);
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

/// An open cluster database, bound to one instance of it ([`INSTANCE_KEY`]). Its first
/// transaction takes the instance it finds; every later transaction first checks that it
/// still reads that instance. When another process has reset or imported the cluster since,
/// the transaction is refused with [`StoreError::Replaced`] and the handle is done: nothing
/// made on one instance (a cached key, a login, a session key) is ever applied to another.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// (device, inode) of the file when it was opened, to notice a file put in its place.
    identity: Option<(u64, u64)>,
    binding: Binding,
}

/// The instance a [`Store`] is bound to.
#[derive(Debug, Default)]
struct Binding {
    /// `None` until the first transaction.
    instance: Option<String>,
    /// A transaction found another instance: the handle is done.
    replaced: bool,
    /// [`Store::version`] when the instance was last confirmed.
    confirmed: Option<DbVersion>,
}

impl Binding {
    /// Checks (the first time: takes) the instance that `tx` reads.
    fn check(&mut self, tx: &Connection, path: &Path) -> Result<(), StoreError> {
        let replaced = || StoreError::Replaced {
            path: path.to_path_buf(),
        };
        if self.replaced {
            return Err(replaced());
        }
        let found = read_instance(tx).map_err(|e| e.located(path))?;
        if found == RETIRED {
            self.replaced = true;
            return Err(replaced());
        }
        match &self.instance {
            None => {
                self.instance = Some(found);
                Ok(())
            }
            Some(bound) if *bound == found => Ok(()),
            Some(_) => {
                self.replaced = true;
                Err(replaced())
            }
        }
    }
}

/// The instance id of the database `conn` reads. A database made before instance ids
/// existed has none: it reads as the empty id until a reset or an import gives it one.
fn read_instance(conn: &Connection) -> Result<String, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([INSTANCE_KEY], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

/// A new instance id: 128 bits from the operating system. Never from `CLOUDHSM_SIM_SEED`:
/// two runs with one seed must not make databases that pass for one another.
fn new_instance() -> Result<String, StoreError> {
    use rand_core::RngCore;
    let mut bytes = [0u8; 16];
    rand_core::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StoreError::Io(std::io::Error::other(e)))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// What a temporary database being built for `path` is called: `<name>.tmp-<pid>-<random>`,
/// unique even when a process id comes round again. [`is_temporary`] recognises it.
fn temporary_path(path: &Path) -> Result<PathBuf, StoreError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let nonce = new_instance()?;
    Ok(path.with_file_name(format!(
        "{name}{TEMPORARY_MARK}{}-{}",
        std::process::id(),
        &nonce[..12]
    )))
}

const TEMPORARY_MARK: &str = ".tmp-";

/// Whether `name` is a file of a database that was being built when its process died: a
/// temporary database of [`Store::create`] (also its `-wal`, `-shm` and `-journal`), or the
/// names earlier versions used (`<id>.tmp<pid>`, `<id>.importing`).
pub fn is_temporary(name: &str) -> bool {
    let base = ["-wal", "-shm", "-journal"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    if base.contains(TEMPORARY_MARK) || base.ends_with(".importing") {
        return true;
    }
    match base.rsplit_once(".tmp") {
        Some((stem, pid)) => {
            !stem.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn drop_temporary(tmp: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = tmp.to_path_buf().into_os_string();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}

/// Writes the schema (tables, indexes, replication triggers) into an empty database.
fn create_schema(tx: &Tx<'_>) -> Result<(), StoreError> {
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(CERTIFICATES)?;
    tx.execute_batch(&replication_triggers("users", "user", "username"))?;
    tx.execute_batch(&replication_triggers("keys", "key", "reference"))?;
    Ok(())
}

/// Drops every table, index, view and trigger: the database is empty again (in `tx`).
fn drop_schema(tx: &Tx<'_>) -> Result<(), StoreError> {
    let objects: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT type, name FROM sqlite_master
              WHERE type IN ('trigger', 'view', 'table')
                AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
              ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN 'view' THEN 1 ELSE 2 END,
                       rowid DESC",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // Tables go in the reverse order of their creation: a table that refers to another
    // was created after it.
    for (kind, name) in objects {
        let kind = match kind.as_str() {
            "trigger" => "TRIGGER",
            "view" => "VIEW",
            _ => "TABLE",
        };
        tx.execute(
            &format!("DROP {kind} IF EXISTS \"{}\"", name.replace('"', "\"\"")),
            [],
        )?;
    }
    let counters: bool = tx.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'sqlite_sequence'",
        [],
        |r| r.get(0),
    )?;
    if counters {
        tx.execute("DELETE FROM sqlite_sequence", [])?;
    }
    Ok(())
}

/// Brings a database of an older schema up to [`SCHEMA_VERSION`], in one transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 2 {
        // Version 2: the session keys each login holds, so that every process counts the
        // session keys of the others towards the key quotas.
        tx.execute_batch(
            "ALTER TABLE logins ADD COLUMN session_keys INTEGER NOT NULL DEFAULT 0;
             ALTER TABLE logins ADD COLUMN session_asymmetric_keys INTEGER NOT NULL DEFAULT 0;",
        )?;
    }
    if version < 3 {
        tx.execute_batch(CERTIFICATES)?;
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()?;
    Ok(())
}

impl Store {
    /// Opens an existing cluster database. The file is checked before anything is written to
    /// it: a file that is not SQLite, a SQLite file of another program, or a schema from a
    /// newer build is refused and left byte for byte as it was. A damaged file is refused
    /// with its path. An older schema is brought up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let located = |e: rusqlite::Error| StoreError::from(e).located(path);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(located)?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(located)?;
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
            Err(e) => return Err(located(e)),
        };
        if app_id != APPLICATION_ID {
            return Err(not_ours());
        }
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(located)?;
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
        configure(&conn).map_err(|e| e.located(path))?;
        if version < SCHEMA_VERSION {
            migrate(&mut conn).map_err(|e| e.located(path))?;
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            identity: file_identity(path),
            binding: Binding::default(),
        })
    }

    /// Creates a new cluster database at `path`, atomically: the schema and the rows that
    /// `fill` writes go into a private temporary file (a unique name beside `path`) that is
    /// renamed into place only once it is complete. Fails if `path` exists. Call it with the
    /// state directory's lock held: the lock is what makes a leftover temporary file an
    /// orphan that [`Home::lock`](super::Home::lock) may remove.
    pub fn create(
        path: &Path,
        fill: impl FnOnce(&Tx<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let tmp = temporary_path(path)?;
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
            create_schema(&tx)?;
            fill(&tx)?;
            records_set_instance(&tx, &new_instance()?)?;
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
            drop_temporary(&tmp);
        }
        result
    }

    /// Replaces the whole contents of this database in one transaction, so that a crash or
    /// a kill leaves either the old contents or the new, never neither; readers meanwhile
    /// see the old contents. `keep` reads what the new contents need from the old, then
    /// every table, index and trigger is dropped, the schema made afresh and `fill` writes
    /// the new rows. The database gets a new instance id and this handle is bound to it;
    /// every other handle of the old instance is refused from its next transaction on.
    ///
    /// The file stays where it is: renaming a new file over a SQLite database that other
    /// processes hold open would mix its WAL and shared-memory files with theirs.
    pub fn rebuild<K, E: From<StoreError>>(
        &mut self,
        keep: impl FnOnce(&Tx<'_>) -> Result<K, E>,
        fill: impl FnOnce(&Tx<'_>, K) -> Result<(), E>,
    ) -> Result<(), E> {
        let Store {
            conn,
            path,
            binding,
            ..
        } = self;
        let located = |e: rusqlite::Error| StoreError::from(e).located(path);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(located)?;
        let kept = keep(&tx)?;
        drop_schema(&tx)?;
        create_schema(&tx)?;
        fill(&tx, kept)?;
        let instance = new_instance()?;
        records_set_instance(&tx, &instance)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(located)?;
        tx.commit().map_err(located)?;
        *binding = Binding {
            instance: Some(instance),
            ..Binding::default()
        };
        Ok(())
    }

    /// Ends this database for good, if `still` (run in the transaction that ends it, so that
    /// nothing changes between its verdict and the end) says it may go; returns whether it
    /// went. In that one transaction the instance id becomes one that every handle refuses
    /// ([`StoreError::Replaced`]) and the file leaves its path for a temporary name: from the
    /// commit on, no process finds the database and none that holds it open can use it. A
    /// kill before the commit leaves it as it was; one after it leaves a temporary file
    /// that whoever next takes the state directory's lock removes. Then the file and its
    /// companions (`-wal`, `-shm`) are removed.
    ///
    /// `_lock` proves that the state directory's lock is held: nobody creates a database at
    /// this path meanwhile.
    pub fn retire<E: From<StoreError>>(
        self,
        _lock: &super::HomeLock,
        still: impl FnOnce(&Tx<'_>) -> Result<bool, E>,
    ) -> Result<bool, E> {
        let Store {
            mut conn,
            path,
            mut binding,
            ..
        } = self;
        let located = |e: rusqlite::Error| StoreError::from(e).located(&path);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(located)?;
        binding.check(&tx, &path)?;
        if !still(&tx)? {
            return Ok(false);
        }
        records_set_instance(&tx, RETIRED)?;
        let hidden = temporary_path(&path)?;
        fs::rename(&path, &hidden).map_err(StoreError::from)?;
        if let Err(e) = tx.commit() {
            let _ = fs::rename(&hidden, &path);
            return Err(located(e).into());
        }
        // Into the file itself, so that a process that opened it just before it moved, and
        // reads it only now, finds the retired id whatever becomes of the WAL. TRUNCATE waits
        // (the busy timeout) for readers of older snapshots.
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        drop(conn);
        remove_database_files(&path)?;
        remove_database_files(&hidden)?;
        Ok(true)
    }

    /// Whether this handle still reads the database it was bound to: the same file at its
    /// path, holding the same instance (a reset or an import by another process replaces
    /// it). Cheap while no other connection has committed since it was last confirmed.
    pub fn is_current(&mut self) -> bool {
        if self.binding.replaced
            || self.identity.is_none()
            || file_identity(&self.path) != self.identity
        {
            return false;
        }
        let Ok(version) = self.version() else {
            return false;
        };
        if self.binding.confirmed == Some(version) {
            return true;
        }
        let current = self.read(|_| Ok::<_, StoreError>(())).is_ok();
        if current {
            self.binding.confirmed = Some(version);
        }
        current
    }

    /// The instance id this handle is bound to (`None` before its first transaction).
    pub fn instance(&self) -> Option<&str> {
        self.binding.instance.as_deref()
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
        self.transaction(TransactionBehavior::Immediate, f, true)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub fn read<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(TransactionBehavior::Deferred, f, false)
    }

    fn transaction<T, E: From<StoreError>>(
        &mut self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Tx<'_>) -> Result<T, E>,
        commit: bool,
    ) -> Result<T, E> {
        let Store {
            conn,
            path,
            binding,
            ..
        } = self;
        let located = |e: rusqlite::Error| StoreError::from(e).located(path);
        let tx = conn.transaction_with_behavior(behavior).map_err(located)?;
        binding.check(&tx, path)?;
        let value = f(&tx)?;
        if commit {
            tx.commit().map_err(located)?;
        } else {
            tx.finish().map_err(located)?;
        }
        Ok(value)
    }
}

/// Removes the database `path` and then its companions; one already gone is no error.
fn remove_database_files(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match fs::remove_file(PathBuf::from(file)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

fn records_set_instance(tx: &Tx<'_>, instance: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        rusqlite::params![INSTANCE_KEY, instance],
    )?;
    Ok(())
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

    fn count(store: &mut Store, sql: &str) -> Result<i64, StoreError> {
        store.read(|tx| Ok(tx.query_row(sql, [], |r| r.get(0))?))
    }

    #[test]
    fn a_rebuild_binds_the_new_instance_and_refuses_old_handles() {
        let dir = tempfile::tempdir().unwrap();
        let path = fresh(dir.path());
        let mut old = Store::open(&path).unwrap();
        let mut rebuilder = Store::open(&path).unwrap();
        assert_eq!(
            count(&mut old, "SELECT count(*) FROM meta WHERE key = 'k'").unwrap(),
            1
        );
        let before = old.instance().unwrap().to_string();
        assert_eq!(before.len(), 32);
        assert!(old.is_current());

        rebuilder
            .rebuild(
                |tx| records_meta(tx, "k"),
                |tx, kept| {
                    tx.execute("INSERT INTO meta VALUES ('kept', ?1)", [kept])?;
                    Ok(())
                },
            )
            .unwrap();
        assert_ne!(rebuilder.instance(), Some(before.as_str()));
        // The new contents: a fresh schema, the rows of `fill` and nothing else.
        assert_eq!(
            count(
                &mut rebuilder,
                "SELECT count(*) FROM meta WHERE key = 'kept' AND value = 'v'"
            )
            .unwrap(),
            1
        );
        assert_eq!(
            count(&mut rebuilder, "SELECT count(*) FROM meta WHERE key = 'k'").unwrap(),
            0
        );
        // The old handle is done, and says so.
        assert!(!old.is_current());
        assert!(matches!(
            count(&mut old, "SELECT 1"),
            Err(StoreError::Replaced { .. })
        ));
        let mut reopened = Store::open(&path).unwrap();
        assert_eq!(count(&mut reopened, "SELECT 1").unwrap(), 1);
        assert_eq!(reopened.instance(), rebuilder.instance());
    }

    #[test]
    fn a_failed_rebuild_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = fresh(dir.path());
        let mut handle = Store::open(&path).unwrap();
        assert_eq!(count(&mut handle, "SELECT 1").unwrap(), 1);
        let mut rebuilder = Store::open(&path).unwrap();
        let failed = rebuilder.rebuild(
            |_| Ok::<_, StoreError>(()),
            |tx, ()| {
                tx.execute("INSERT INTO meta VALUES ('half', 'done')", [])?;
                Err(StoreError::Damaged {
                    path: PathBuf::new(),
                    detail: "refused".into(),
                })
            },
        );
        assert!(failed.is_err());
        assert!(handle.is_current());
        assert_eq!(
            count(&mut handle, "SELECT count(*) FROM meta WHERE key = 'k'").unwrap(),
            1
        );
        assert_eq!(
            count(&mut handle, "SELECT count(*) FROM meta WHERE key = 'half'").unwrap(),
            0
        );
    }

    #[test]
    fn a_version_1_database_is_brought_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = fresh(dir.path());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "ALTER TABLE logins DROP COLUMN session_keys;
                 ALTER TABLE logins DROP COLUMN session_asymmetric_keys;
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            count(
                &mut store,
                "SELECT count(*) FROM pragma_table_info('logins')"
            )
            .unwrap(),
            5
        );
        assert_eq!(
            count(&mut store, "PRAGMA user_version").unwrap(),
            SCHEMA_VERSION
        );
    }

    #[test]
    fn a_version_2_database_gets_the_certificates_table() {
        let dir = tempfile::tempdir().unwrap();
        let path = fresh(dir.path());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("DROP TABLE certificates; PRAGMA user_version = 2;")
                .unwrap();
        }
        let mut store = Store::open(&path).unwrap();
        assert_eq!(
            count(&mut store, "SELECT count(*) FROM certificates").unwrap(),
            0
        );
        assert_eq!(
            count(&mut store, "PRAGMA user_version").unwrap(),
            SCHEMA_VERSION
        );
    }

    #[test]
    fn temporary_names_are_recognised() {
        let tmp = temporary_path(Path::new("/x/cluster-abc.db")).unwrap();
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("cluster-abc.db.tmp-"), "{name}");
        assert_ne!(tmp, temporary_path(Path::new("/x/cluster-abc.db")).unwrap());
        for orphan in [
            name.as_str(),
            &format!("{name}-wal"),
            &format!("{name}-shm"),
            "cluster-abc.tmp4242",
            "cluster-abc.tmp4242-journal",
            "cluster-abc.importing",
            "cluster-abc.importing-wal",
        ] {
            assert!(is_temporary(orphan), "{orphan}");
        }
        for kept in [
            "cluster-abc.db",
            "cluster-abc.db-wal",
            "cluster-tmp1.db",
            "notes.tmp",
            ".tmp12",
        ] {
            assert!(!is_temporary(kept), "{kept}");
        }
    }

    #[test]
    fn a_retired_database_is_refused_by_every_handle_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let home = super::super::Home::open(dir.path().join("state")).unwrap();
        let lock = home.lock().unwrap();
        let path = fresh(dir.path());
        let mut old = Store::open(&path).unwrap();
        assert_eq!(count(&mut old, "SELECT 1").unwrap(), 1);

        // Not when the check inside the transaction says no: nothing changes.
        let kept = Store::open(&path)
            .unwrap()
            .retire(&lock, |_| Ok::<_, StoreError>(false))
            .unwrap();
        assert!(!kept);
        assert!(old.is_current());

        // A handle opened before the end, but first used after it, is refused too.
        let mut unused = Store::open(&path).unwrap();
        let gone = Store::open(&path)
            .unwrap()
            .retire(&lock, |tx| {
                Ok::<_, StoreError>(records_meta(tx, "k")? == "v")
            })
            .unwrap();
        assert!(gone);
        assert!(!old.is_current());
        assert!(matches!(
            count(&mut old, "SELECT 1"),
            Err(StoreError::Replaced { .. })
        ));
        assert!(matches!(
            count(&mut unused, "SELECT 1"),
            Err(StoreError::Replaced { .. })
        ));
        drop((old, unused));
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            assert!(!Path::new(&file).exists(), "{suffix} left behind");
        }
    }

    fn records_meta(tx: &Tx<'_>, key: &str) -> Result<String, StoreError> {
        Ok(tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
    }
}
