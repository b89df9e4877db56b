//! Rows of a cluster database and the SQL that reads and writes them. No rules live here:
//! the simulated HSM (`crate::hsm`) decides what may change.

use rusqlite::{params, OptionalExtension, Row};

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

pub fn delete_login(tx: &Tx<'_>, login: &LoginRecord) -> Result<()> {
    tx.execute(
        "DELETE FROM logins WHERE pid = ?1 AND started = ?2 AND username = ?3",
        params![login.pid, login.started, login.username],
    )?;
    Ok(())
}
