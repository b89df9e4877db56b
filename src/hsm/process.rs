//! Who holds a login: a process (pid and start time, so a reused pid is not mistaken for the
//! old process) and a session number inside it.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::store::records::LoginRecord;

static NEXT_SESSION: AtomicU32 = AtomicU32::new(1);

/// The identity of one login session of this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId {
    pid: i64,
    started: String,
}

impl SessionId {
    /// A new identity, distinct from every other session of this and any other process.
    pub fn new() -> SessionId {
        let pid = std::process::id();
        let start = process_start(pid).unwrap_or_default();
        let n = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
        SessionId {
            pid: i64::from(pid),
            started: format!("{start}:{n}"),
        }
    }

    /// The login record of `username` held by this session.
    pub fn record(&self, username: &str) -> LoginRecord {
        LoginRecord {
            pid: self.pid,
            started: self.started.clone(),
            username: username.to_string(),
        }
    }

    /// A string naming this session (process id, start time, session number), stored with the
    /// quorum and MFA tokens it issued.
    pub fn tag(&self) -> String {
        format!("{}/{}", self.pid, self.started)
    }

    /// Whether `record` belongs to this session.
    pub fn owns(&self, record: &LoginRecord) -> bool {
        record.pid == self.pid && record.started == self.started
    }
}

impl Default for SessionId {
    fn default() -> Self {
        SessionId::new()
    }
}

/// Whether the session named by `tag` (see [`SessionId::tag`]) may still be running.
pub fn tag_is_alive(tag: &str) -> bool {
    let Some((pid, started)) = tag.split_once('/') else {
        return false;
    };
    let Ok(pid) = pid.parse::<i64>() else {
        return false;
    };
    is_alive(&LoginRecord {
        pid,
        started: started.to_string(),
        username: String::new(),
    })
}

/// Whether the process that made `record` is still running.
pub fn is_alive(record: &LoginRecord) -> bool {
    let Ok(pid) = u32::try_from(record.pid) else {
        return false;
    };
    let recorded = record.started.split(':').next().unwrap_or_default();
    match process_start(pid) {
        Some(start) => start == recorded,
        // Without /proc (not Linux) a record cannot be checked; keep it.
        None => !std::path::Path::new("/proc/self/stat").exists(),
    }
}

/// The start time of process `pid` in clock ticks since boot (field 22 of /proc/PID/stat).
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // Field 3: a zombie (`Z`) or dead (`X`) process holds no login, though not yet reaped.
    if matches!(fields.next(), Some("Z" | "X")) {
        return None;
    }
    fields.nth(18).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_sessions_differ() {
        let a = SessionId::new();
        let b = SessionId::new();
        assert_ne!(a, b);
        let rec = a.record("alice");
        assert!(a.owns(&rec));
        assert!(!b.owns(&rec));
        assert!(is_alive(&rec));
        let dead = LoginRecord {
            pid: i64::from(u32::MAX),
            started: "1:1".into(),
            username: "x".into(),
        };
        assert!(!is_alive(&dead));
    }
}
