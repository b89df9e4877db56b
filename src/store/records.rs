//! Rows of a cluster database and the SQL that reads and writes them. No rules live here:
//! the simulated HSM (`crate::hsm`) decides what may change.

use rusqlite::{params, OptionalExtension, Row};
use zeroize::Zeroizing;

use super::{StoreError, Tx};

/// One HSM of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmRecord {
    pub id: String,
    pub ordinal: i64,
    pub serial_number: String,
    /// `up` or `down`.
    pub state: String,
}

/// One HSM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub ordinal: i64,
    pub username: String,
    pub role: String,
    /// argon2id PHC string; `None` for a user that cannot log in yet.
    pub password_hash: Option<String>,
    pub failed_logins: i64,
    pub locked: bool,
}

/// A login held by a live process (so that other processes can see who is logged in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    pub pid: i64,
    pub started: String,
    pub username: String,
}

type Result<T> = std::result::Result<T, StoreError>;

pub fn meta(tx: &Tx<'_>, key: &str) -> Result<Option<String>> {
    Ok(tx
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// The keys of every `meta` row, sorted.
pub fn meta_keys(tx: &Tx<'_>) -> Result<Vec<String>> {
    let mut stmt = tx.prepare_cached("SELECT key FROM meta ORDER BY key")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_meta(tx: &Tx<'_>, key: &str, value: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn hsms(tx: &Tx<'_>) -> Result<Vec<HsmRecord>> {
    let mut stmt =
        tx.prepare_cached("SELECT id, ordinal, serial_number, state FROM hsms ORDER BY ordinal")?;
    let rows = stmt.query_map([], |r| {
        Ok(HsmRecord {
            id: r.get(0)?,
            ordinal: r.get(1)?,
            serial_number: r.get(2)?,
            state: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_hsm(tx: &Tx<'_>, hsm: &HsmRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO hsms (id, ordinal, serial_number, state) VALUES (?1, ?2, ?3, ?4)",
        params![hsm.id, hsm.ordinal, hsm.serial_number, hsm.state],
    )?;
    Ok(())
}

fn user_row(r: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        ordinal: r.get(0)?,
        username: r.get(1)?,
        role: r.get(2)?,
        password_hash: r.get(3)?,
        failed_logins: r.get(4)?,
        locked: r.get(5)?,
    })
}

const USER_COLUMNS: &str = "ordinal, username, role, password_hash, failed_logins, locked";

/// All users in creation order.
pub fn users(tx: &Tx<'_>) -> Result<Vec<UserRecord>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY ordinal"
    ))?;
    let rows = stmt.query_map([], user_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn user(tx: &Tx<'_>, username: &str) -> Result<Option<UserRecord>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE username = ?1"
    ))?;
    Ok(stmt.query_row([username], user_row).optional()?)
}

pub fn user_count(tx: &Tx<'_>) -> Result<i64> {
    Ok(tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?)
}

pub fn insert_user(
    tx: &Tx<'_>,
    username: &str,
    role: &str,
    password_hash: Option<&str>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO users (username, role, password_hash) VALUES (?1, ?2, ?3)",
        params![username, role, password_hash],
    )?;
    Ok(())
}

pub fn set_user_role(tx: &Tx<'_>, username: &str, role: &str) -> Result<()> {
    tx.execute(
        "UPDATE users SET role = ?2 WHERE username = ?1",
        params![username, role],
    )?;
    Ok(())
}

/// Sets a password and clears the failed-login counter and the lock.
pub fn set_password(tx: &Tx<'_>, username: &str, password_hash: &str) -> Result<()> {
    tx.execute(
        "UPDATE users SET password_hash = ?2, failed_logins = 0, locked = 0 WHERE username = ?1",
        params![username, password_hash],
    )?;
    Ok(())
}

pub fn set_login_failures(tx: &Tx<'_>, username: &str, failed: i64, locked: bool) -> Result<()> {
    tx.execute(
        "UPDATE users SET failed_logins = ?2, locked = ?3 WHERE username = ?1",
        params![username, failed, locked],
    )?;
    Ok(())
}

pub fn delete_user(tx: &Tx<'_>, username: &str) -> Result<()> {
    tx.execute("DELETE FROM users WHERE username = ?1", [username])?;
    Ok(())
}

pub fn logins(tx: &Tx<'_>) -> Result<Vec<LoginRecord>> {
    let mut stmt =
        tx.prepare_cached("SELECT pid, started, username FROM logins ORDER BY pid, username")?;
    let rows = stmt.query_map([], |r| {
        Ok(LoginRecord {
            pid: r.get(0)?,
            started: r.get(1)?,
            username: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_login(tx: &Tx<'_>, login: &LoginRecord) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO logins (pid, started, username) VALUES (?1, ?2, ?3)",
        params![login.pid, login.started, login.username],
    )?;
    Ok(())
}

/// The logins holding session keys, with their numbers of (all, asymmetric) session keys.
pub fn session_key_holders(tx: &Tx<'_>) -> Result<Vec<(LoginRecord, i64, i64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT pid, started, username, session_keys, session_asymmetric_keys
           FROM logins WHERE session_keys > 0",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            LoginRecord {
                pid: r.get(0)?,
                started: r.get(1)?,
                username: r.get(2)?,
            },
            r.get(3)?,
            r.get(4)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Records how many session keys a login holds.
pub fn set_session_key_counts(
    tx: &Tx<'_>,
    login: &LoginRecord,
    all: i64,
    asymmetric: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE logins SET session_keys = ?4, session_asymmetric_keys = ?5
          WHERE pid = ?1 AND started = ?2 AND username = ?3",
        params![login.pid, login.started, login.username, all, asymmetric],
    )?;
    Ok(())
}

pub fn delete_login(tx: &Tx<'_>, login: &LoginRecord) -> Result<()> {
    tx.execute(
        "DELETE FROM logins WHERE pid = ?1 AND started = ?2 AND username = ?3",
        params![login.pid, login.started, login.username],
    )?;
    Ok(())
}

/// One key row: indexed columns, JSON of its settable and derived attributes, and the
/// encoded key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub reference: i64,
    pub owner: String,
    pub key_type: String,
    pub class: String,
    pub label: String,
    pub settable: String,
    pub derived: String,
    pub manage_quorum: i64,
    pub use_quorum: i64,
}

const KEY_COLUMNS: &str =
    "reference, owner, key_type, class, label, settable, derived, manage_quorum, use_quorum";

fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        reference: r.get(0)?,
        owner: r.get(1)?,
        key_type: r.get(2)?,
        class: r.get(3)?,
        label: r.get(4)?,
        settable: r.get(5)?,
        derived: r.get(6)?,
        manage_quorum: r.get(7)?,
        use_quorum: r.get(8)?,
    })
}

/// Takes `count` fresh key references from the cluster's counter.
pub fn allocate_references(tx: &Tx<'_>, count: i64) -> Result<i64> {
    const FIRST: i64 = 0x30;
    let next = meta(tx, "next_key_reference")?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(FIRST);
    set_meta(tx, "next_key_reference", &(next + count).to_string())?;
    Ok(next)
}

pub fn insert_key(tx: &Tx<'_>, key: &KeyRecord, material: &[u8]) -> Result<()> {
    tx.execute(
        &format!("INSERT INTO keys ({KEY_COLUMNS}, material) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
        params![
            key.reference,
            key.owner,
            key.key_type,
            key.class,
            key.label,
            key.settable,
            key.derived,
            key.manage_quorum,
            key.use_quorum,
            material
        ],
    )?;
    Ok(())
}

/// Which keys a listing reads: those `username` may see (owned, shared with it, or public;
/// `None` means every key, an admin's view), optionally narrowed to one label or one
/// reference.
#[derive(Debug, Clone, Copy)]
pub struct Visible<'a> {
    pub username: Option<&'a str>,
    pub label: Option<&'a str>,
    pub reference: Option<i64>,
}

impl Visible<'_> {
    /// The `WHERE` clause and its arguments.
    fn clause(&self) -> (String, Vec<rusqlite::types::Value>) {
        let mut sql = String::from(" WHERE 1=1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(user) = self.username {
            sql.push_str(
                " AND (owner = ?1 OR class = 'public-key' \
                 OR reference IN (SELECT reference FROM key_shares WHERE username = ?1))",
            );
            args.push(user.to_string().into());
        }
        if let Some(label) = self.label {
            args.push(label.to_string().into());
            sql.push_str(&format!(" AND label = ?{}", args.len()));
        }
        if let Some(reference) = self.reference {
            args.push(reference.into());
            sql.push_str(&format!(" AND reference = ?{}", args.len()));
        }
        (sql, args)
    }
}

/// The visible keys in reference order, each with its row's stamp (its version: the
/// replication triggers give a row a new stamp on every change); with `page` (offset,
/// limit), only that slice of them.
pub fn visible_keys(
    tx: &Tx<'_>,
    which: Visible<'_>,
    page: Option<(i64, i64)>,
) -> Result<Vec<(i64, KeyRecord)>> {
    let (clause, mut args) = which.clause();
    let mut sql = format!("SELECT {KEY_COLUMNS}, stamp FROM keys{clause} ORDER BY reference");
    if let Some((offset, limit)) = page {
        args.push(limit.into());
        args.push(offset.into());
        sql.push_str(&format!(
            " LIMIT ?{} OFFSET ?{}",
            args.len() - 1,
            args.len()
        ));
    }
    let mut stmt = tx.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok((r.get(9)?, key_row(r)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many keys are visible.
pub fn visible_count(tx: &Tx<'_>, which: Visible<'_>) -> Result<i64> {
    let (clause, args) = which.clause();
    let mut stmt = tx.prepare_cached(&format!("SELECT count(*) FROM keys{clause}"))?;
    Ok(stmt.query_row(rusqlite::params_from_iter(args), |r| r.get(0))?)
}

/// The users a key is shared with, in the order it was shared.
pub fn key_shares(tx: &Tx<'_>, reference: i64) -> Result<Vec<String>> {
    let mut stmt =
        tx.prepare_cached("SELECT username FROM key_shares WHERE reference = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([reference], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn add_key_share(tx: &Tx<'_>, reference: i64, username: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO key_shares (reference, username, seq)
         VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM key_shares WHERE reference = ?1))",
        params![reference, username],
    )?;
    Ok(())
}

pub fn remove_key_share(tx: &Tx<'_>, reference: i64, username: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM key_shares WHERE reference = ?1 AND username = ?2",
        params![reference, username],
    )?;
    Ok(())
}

/// Forgets every share with `username` (when the user is deleted).
pub fn remove_shares_of(tx: &Tx<'_>, username: &str) -> Result<()> {
    tx.execute("DELETE FROM key_shares WHERE username = ?1", [username])?;
    Ok(())
}

pub fn update_key_settable(tx: &Tx<'_>, reference: i64, label: &str, settable: &str) -> Result<()> {
    tx.execute(
        "UPDATE keys SET label = ?2, settable = ?3 WHERE reference = ?1",
        params![reference, label, settable],
    )?;
    Ok(())
}

pub fn delete_key(tx: &Tx<'_>, reference: i64) -> Result<()> {
    tx.execute("DELETE FROM keys WHERE reference = ?1", [reference])?;
    Ok(())
}

pub fn key_material(tx: &Tx<'_>, reference: i64) -> Result<Option<Zeroizing<Vec<u8>>>> {
    Ok(tx
        .prepare_cached("SELECT material FROM keys WHERE reference = ?1")?
        .query_row([reference], |r| r.get(0).map(Zeroizing::new))
        .optional()?)
}

/// Number of keys, and of those the asymmetric ones.
pub fn key_counts(tx: &Tx<'_>) -> Result<(i64, i64)> {
    // Two index-only counts: a sum over every row grows with the number of keys.
    let total = tx
        .prepare_cached("SELECT count(*) FROM keys")?
        .query_row([], |r| r.get(0))?;
    let asymmetric = tx
        .prepare_cached("SELECT count(*) FROM keys WHERE key_type IN ('rsa', 'ec', 'ml-dsa')")?
        .query_row([], |r| r.get(0))?;
    Ok((total, asymmetric))
}

pub fn owns_keys(tx: &Tx<'_>, username: &str) -> Result<bool> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM keys WHERE owner = ?1 LIMIT 1",
            [username],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A user's registered token-sign public key (SubjectPublicKeyInfo DER) and what it is
/// registered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserKeyRecord {
    pub public_key: Option<Vec<u8>>,
    pub quorum: bool,
    pub mfa: bool,
}

pub fn user_key(tx: &Tx<'_>, username: &str) -> Result<Option<UserKeyRecord>> {
    Ok(tx
        .query_row(
            "SELECT public_key, quorum_key, mfa_key FROM users WHERE username = ?1",
            [username],
            |r| {
                Ok(UserKeyRecord {
                    public_key: r.get(0)?,
                    quorum: r.get(1)?,
                    mfa: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub fn set_user_key(tx: &Tx<'_>, username: &str, key: &UserKeyRecord) -> Result<()> {
    tx.execute(
        "UPDATE users SET public_key = ?2, quorum_key = ?3, mfa_key = ?4 WHERE username = ?1",
        params![username, key.public_key, key.quorum, key.mfa],
    )?;
    Ok(())
}

pub fn quorum_value(tx: &Tx<'_>, service: &str) -> Result<i64> {
    Ok(tx
        .query_row(
            "SELECT value FROM quorum_values WHERE service = ?1",
            [service],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(1))
}

pub fn set_quorum_value(tx: &Tx<'_>, service: &str, value: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO quorum_values (service, value) VALUES (?1, ?2)
         ON CONFLICT(service) DO UPDATE SET value = excluded.value",
        params![service, value],
    )?;
    Ok(())
}

/// A token the HSM issued and has not consumed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub token: String,
    /// `approval`, `registration`, `mfa-register` or `mfa-login`.
    pub kind: String,
    pub username: String,
    pub service: String,
    pub key_reference: Option<i64>,
    pub session: String,
    pub created: i64,
    pub approval_data: Vec<u8>,
}

const TOKEN_COLUMNS: &str =
    "token, kind, username, service, key_reference, session, created, approval_data";

fn token_row(r: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        token: r.get(0)?,
        kind: r.get(1)?,
        username: r.get(2)?,
        service: r.get(3)?,
        key_reference: r.get(4)?,
        session: r.get(5)?,
        created: r.get(6)?,
        approval_data: r.get(7)?,
    })
}

pub fn insert_token(tx: &Tx<'_>, t: &TokenRecord) -> Result<()> {
    tx.execute(
        &format!("INSERT INTO tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            t.token,
            t.kind,
            t.username,
            t.service,
            t.key_reference,
            t.session,
            t.created,
            t.approval_data
        ],
    )?;
    Ok(())
}

pub fn token(tx: &Tx<'_>, token: &str) -> Result<Option<TokenRecord>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens WHERE token = ?1"
    ))?;
    Ok(stmt.query_row([token], token_row).optional()?)
}

/// Every token, oldest first.
pub fn tokens(tx: &Tx<'_>) -> Result<Vec<TokenRecord>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created, token"
    ))?;
    let rows = stmt.query_map([], token_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn delete_token(tx: &Tx<'_>, token: &str) -> Result<()> {
    tx.execute("DELETE FROM tokens WHERE token = ?1", [token])?;
    Ok(())
}

/// Deletes the tokens of `username` (for `service` and `kind`, when given).
pub fn delete_user_tokens(
    tx: &Tx<'_>,
    username: &str,
    kind: Option<&str>,
    service: Option<&str>,
) -> Result<()> {
    tx.execute(
        "DELETE FROM tokens WHERE username = ?1 AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR service = ?3)",
        params![username, kind, service],
    )?;
    Ok(())
}

pub fn delete_all_tokens(tx: &Tx<'_>) -> Result<()> {
    tx.execute("DELETE FROM tokens", [])?;
    Ok(())
}

/// Voids the tokens of a session that ended: approval tokens stay, under the session tag
/// [`ENDED_SESSION`], until they would have expired (so that offering one can be answered
/// with why it is void); the others go.
pub fn end_session_tokens(tx: &Tx<'_>, session: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM tokens WHERE session = ?1 AND kind != 'approval'",
        [session],
    )?;
    tx.execute(
        "UPDATE tokens SET session = ?2 WHERE session = ?1",
        [session, ENDED_SESSION],
    )?;
    Ok(())
}

/// The session tag of tokens whose login session has ended (no live session has it).
pub const ENDED_SESSION: &str = "ended";

/// How many HSMs hold the current version of each object of `kind` (`user` or `key`).
pub fn coverage(tx: &Tx<'_>, kind: &str) -> Result<std::collections::BTreeMap<String, i64>> {
    let table = if kind == "user" { "users" } else { "keys" };
    let column = if kind == "user" {
        "username"
    } else {
        "CAST(reference AS TEXT)"
    };
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {column}, (SELECT count(*) FROM object_hsms o
             WHERE o.kind = ?1 AND o.object = {column} AND o.stamp = t.stamp)
         FROM {table} t"
    ))?;
    let rows = stmt.query_map([kind], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The (kind, object, stamp) entries an HSM holds, sorted.
pub fn hsm_objects(tx: &Tx<'_>, hsm_id: &str) -> Result<Vec<(String, String, i64)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT kind, object, stamp FROM object_hsms WHERE hsm_id = ?1 ORDER BY kind, object",
    )?;
    let rows = stmt.query_map([hsm_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_hsm_state(tx: &Tx<'_>, hsm_id: &str, state: &str) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE hsms SET state = ?2 WHERE id = ?1",
        params![hsm_id, state],
    )?)
}

pub fn delete_hsm(tx: &Tx<'_>, hsm_id: &str) -> Result<()> {
    tx.execute("DELETE FROM object_hsms WHERE hsm_id = ?1", [hsm_id])?;
    tx.execute("DELETE FROM hsms WHERE id = ?1", [hsm_id])?;
    Ok(())
}

/// Brings an HSM up to date: it drops what no longer exists and takes the current version of
/// every user and key (the appliance user's masked-object copy from a healthy HSM).
pub fn synchronise_hsm(tx: &Tx<'_>, hsm_id: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM object_hsms WHERE hsm_id = ?1 AND (
             (kind = 'user' AND object NOT IN (SELECT username FROM users)) OR
             (kind = 'key' AND object NOT IN (SELECT CAST(reference AS TEXT) FROM keys)))",
        [hsm_id],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO object_hsms SELECT 'user', username, ?1, stamp FROM users",
        [hsm_id],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO object_hsms SELECT 'key', CAST(reference AS TEXT), ?1, stamp FROM keys",
        [hsm_id],
    )?;
    Ok(())
}

/// The (reference, stamp) and material of one key, for masked-object digests and export.
pub fn key_stamp(tx: &Tx<'_>, reference: i64) -> Result<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT stamp FROM keys WHERE reference = ?1",
            [reference],
            |r| r.get(0),
        )
        .optional()?)
}

/// How many HSMs hold the current version of key `reference`.
pub fn key_copies(tx: &Tx<'_>, reference: i64) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT count(*) FROM object_hsms o JOIN keys k
             ON o.kind = 'key' AND o.object = CAST(k.reference AS TEXT) AND o.stamp = k.stamp
         WHERE k.reference = ?1",
        [reference],
        |r| r.get(0),
    )?)
}

/// The number of HSMs of the cluster, and how many of those that are up hold version `stamp`
/// of key `reference` (none when `stamp` is `None`: a session key is on no HSM).
pub fn key_availability(tx: &Tx<'_>, reference: i64, stamp: Option<i64>) -> Result<(i64, i64)> {
    Ok(tx
        .prepare_cached(
            "SELECT (SELECT count(*) FROM hsms),
                    (SELECT count(*) FROM object_hsms o JOIN hsms h
                         ON h.id = o.hsm_id AND h.state = 'up'
                     WHERE o.kind = 'key' AND o.object = CAST(?1 AS TEXT) AND o.stamp = ?2)",
        )?
        .query_row(params![reference, stamp], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

// ---- Generic access to every table, for `cloudhsm-sim export` / `import` and `seed`. ----

/// A value of any column, as SQLite holds it.
pub type AnyValue = rusqlite::types::Value;

/// `name` as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `PRAGMA user_version`: the schema version of this database.
pub fn schema_version(tx: &Tx<'_>) -> Result<i64> {
    Ok(tx.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// The tables of the database in creation order: every table of the schema, and
/// `sqlite_sequence` (the AUTOINCREMENT counters), but none of SQLite's other internal ones.
pub fn table_names(tx: &Tx<'_>) -> Result<Vec<String>> {
    let mut stmt = tx.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table'
           AND (name NOT LIKE 'sqlite\\_%' ESCAPE '\\' OR name = 'sqlite_sequence')
         ORDER BY rowid",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The columns of `table` in order: (name, declared type).
pub fn table_columns(tx: &Tx<'_>, table: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = tx.prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid")?;
    let rows = stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The values of `columns` in every row of `table`, in rowid (insertion) order.
pub fn table_rows(tx: &Tx<'_>, table: &str, columns: &[String]) -> Result<Vec<Vec<AnyValue>>> {
    let list = columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = tx.prepare(&format!(
        "SELECT {list} FROM {} ORDER BY rowid",
        quoted(table)
    ))?;
    let rows = stmt.query_map([], |r| {
        (0..columns.len())
            .map(|i| r.get::<_, AnyValue>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether `table` holds at least one row.
pub fn has_rows(tx: &Tx<'_>, table: &str) -> Result<bool> {
    Ok(tx
        .query_row(
            &format!("SELECT 1 FROM {} LIMIT 1", quoted(table)),
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Deletes every row of `table`.
pub fn clear_table(tx: &Tx<'_>, table: &str) -> Result<()> {
    tx.execute(&format!("DELETE FROM {}", quoted(table)), [])?;
    Ok(())
}

/// Inserts one row into `table`: `values[i]` into `columns[i]`.
pub fn insert_row(
    tx: &Tx<'_>,
    table: &str,
    columns: &[String],
    values: Vec<AnyValue>,
) -> Result<()> {
    let names = columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let marks = (1..=columns.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    tx.execute(
        &format!("INSERT INTO {} ({names}) VALUES ({marks})", quoted(table)),
        rusqlite::params_from_iter(values),
    )?;
    Ok(())
}

/// The triggers of the database: (name, CREATE TRIGGER statement).
pub fn triggers(tx: &Tx<'_>) -> Result<Vec<(String, String)>> {
    let mut stmt =
        tx.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Drops trigger `name` (an import writes rows exactly as exported, then recreates it).
pub fn drop_trigger(tx: &Tx<'_>, name: &str) -> Result<()> {
    tx.execute(&format!("DROP TRIGGER {}", quoted(name)), [])?;
    Ok(())
}

/// Runs a `CREATE TRIGGER` statement read by [`triggers`].
pub fn create_trigger(tx: &Tx<'_>, sql: &str) -> Result<()> {
    tx.execute_batch(sql)?;
    Ok(())
}
