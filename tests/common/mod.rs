//! Shared helpers of the process-level tests: a private state directory per test, the two
//! real binaries with a clean environment, bounded waits, and JSON-stream parsing.

#![allow(dead_code)]

use std::fmt::Debug;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The emulated CLI.
pub const CLI: &str = env!("CARGO_BIN_EXE_cloudhsm-cli");
/// The simulator control binary.
pub const SIM: &str = env!("CARGO_BIN_EXE_cloudhsm-sim");

/// The cluster every test creates with `cloudhsm-sim init`.
pub const CLUSTER: &str = "cluster-abc";

/// The longest any one process of these tests may run before the test fails.
pub const PROCESS_TIMEOUT: Duration = Duration::from_secs(20);

/// Variables a developer's shell may hold that would change what the binaries do.
const SCRUBBED: &[&str] = &[
    "CLOUDHSM_ROLE",
    "CLOUDHSM_PIN",
    "CLOUDHSM_SIM_STRICT",
    "CLOUDHSM_SIM_SEED",
    "CLOUDHSM_SIM_HOME",
    "XDG_DATA_HOME",
];

/// `.ctx("what")`: unwraps with a message that says what failed (clippy denies bare
/// `unwrap`/`expect` in this crate).
pub trait Ctx<T> {
    fn ctx(self, what: &str) -> T;
}

impl<T, E: Debug> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{what}: {e:?}"),
        }
    }
}

impl<T> Ctx<T> for Option<T> {
    fn ctx(self, what: &str) -> T {
        match self {
            Some(v) => v,
            None => panic!("{what}: got nothing"),
        }
    }
}

/// A private state directory for one test. The directory itself (`home`) does not exist
/// until a binary creates it, so the binaries' own permissions are what the tests see.
pub struct Sim {
    pub dir: tempfile::TempDir,
    pub home: PathBuf,
}

impl Sim {
    /// A fresh, empty state directory (no cluster yet).
    pub fn empty() -> Sim {
        let dir = tempfile::tempdir().ctx("create temp dir");
        let home = dir.path().join("state");
        Sim { dir, home }
    }

    /// A state directory holding one never-activated fast-hashing cluster `cluster-abc`.
    pub fn unactivated() -> Sim {
        let sim = Sim::empty();
        let run = sim.sim(&[
            "init",
            "--cluster-id",
            CLUSTER,
            "--kdf",
            "fast",
            "--appliance-password",
            "appliance-pw",
        ]);
        assert_eq!(run.code, 0, "cloudhsm-sim init failed: {}", run.stderr);
        sim
    }

    /// A state directory whose cluster is activated with admin password `admin_pw`.
    pub fn activated(admin_pw: &str) -> Sim {
        let sim = Sim::unactivated();
        let run = sim.cli(&["cluster", "activate", "--password", admin_pw]);
        assert_eq!(
            run.code,
            0,
            "cluster activate failed: {} / {}",
            run.stdout_text(),
            run.stderr
        );
        sim
    }

    /// An activated cluster (admin password `admin_pw`) with a crypto user.
    pub fn with_crypto_user(admin_pw: &str, user: &str, user_pw: &str) -> Sim {
        let sim = Sim::activated(admin_pw);
        let pin = format!("admin:{admin_pw}");
        let run = sim.cli_env(
            &[
                "user",
                "create",
                "--username",
                user,
                "--role",
                "crypto-user",
                "--password",
                user_pw,
            ],
            &[("CLOUDHSM_ROLE", "admin"), ("CLOUDHSM_PIN", &pin)],
        );
        assert_eq!(
            run.code,
            0,
            "user create {user} failed: {} / {}",
            run.stdout_text(),
            run.stderr
        );
        sim
    }

    /// The database file of `cluster-abc`.
    pub fn db_path(&self) -> PathBuf {
        self.home.join("clusters").join(format!("{CLUSTER}.db"))
    }

    /// `cloudhsm-cli` with a clean environment pointing at this state directory.
    pub fn cli_command(&self) -> Command {
        let mut cmd = Command::new(CLI);
        scrub(&mut cmd);
        cmd.env("CLOUDHSM_SIM_HOME", &self.home);
        cmd
    }

    /// `cloudhsm-sim` with a clean environment pointing at this state directory.
    pub fn sim_command(&self) -> Command {
        let mut cmd = Command::new(SIM);
        scrub(&mut cmd);
        cmd.env("CLOUDHSM_SIM_HOME", &self.home);
        cmd
    }

    /// Runs `configure-cli ARGS` on this state directory.
    pub fn configure(&self, args: &[&str]) -> Run {
        self.run_tool(env!("CARGO_BIN_EXE_configure-cli"), args)
    }

    /// Runs `configure-pkcs11 ARGS` on this state directory.
    pub fn configure_pkcs11(&self, args: &[&str]) -> Run {
        self.run_tool(env!("CARGO_BIN_EXE_configure-pkcs11"), args)
    }

    fn run_tool(&self, exe: &str, args: &[&str]) -> Run {
        let mut cmd = Command::new(exe);
        scrub(&mut cmd);
        cmd.env("CLOUDHSM_SIM_HOME", &self.home);
        cmd.args(args);
        run(cmd, b"")
    }

    /// Runs `cloudhsm-cli ARGS` with empty stdin.
    pub fn cli(&self, args: &[&str]) -> Run {
        self.cli_full(args, &[], b"")
    }

    /// Runs `cloudhsm-cli ARGS` with extra environment variables.
    pub fn cli_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.cli_full(args, env, b"")
    }

    /// Runs `cloudhsm-cli ARGS` with extra environment variables and `stdin` piped in.
    pub fn cli_full(&self, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
        let mut cmd = self.cli_command();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(cmd, stdin)
    }

    /// Runs `cloudhsm-cli interactive` with `script` piped to stdin.
    pub fn piped(&self, script: &str) -> Run {
        self.piped_env(script.as_bytes(), &[])
    }

    /// Runs `cloudhsm-cli interactive` with `script` piped in and extra variables.
    pub fn piped_env(&self, script: &[u8], env: &[(&str, &str)]) -> Run {
        self.cli_full(&["interactive"], env, script)
    }

    /// Runs `cloudhsm-sim ARGS`.
    pub fn sim(&self, args: &[&str]) -> Run {
        let mut cmd = self.sim_command();
        cmd.args(args);
        run(cmd, b"")
    }

    /// `user list` as a single command (no login needed): the users as (name, role, locked).
    pub fn users(&self) -> Vec<(String, String, String)> {
        let run = self.cli(&["user", "list"]);
        assert_eq!(run.code, 0, "user list failed: {}", run.stderr);
        users_of(&run.one())
    }

    /// The `locked` field of `username` in `user list`.
    pub fn locked(&self, username: &str) -> String {
        self.users()
            .into_iter()
            .find(|(u, _, _)| u == username)
            .map(|(_, _, locked)| locked)
            .unwrap_or_else(|| panic!("user {username} is not in user list"))
    }
}

/// Removes every inherited variable that steers the binaries.
pub fn scrub(cmd: &mut Command) {
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
}

/// What a finished process left.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stdout as a stream of JSON values; fails the test if anything else is on stdout.
    pub fn json(&self) -> Vec<Value> {
        json_stream(&self.stdout).unwrap_or_else(|e| panic!("{e}\nstderr:\n{}", self.stderr))
    }

    /// The one JSON value on stdout.
    pub fn one(&self) -> Value {
        let values = self.json();
        assert_eq!(
            values.len(),
            1,
            "expected exactly one JSON response on stdout, got {}:\n{}\nstderr:\n{}",
            values.len(),
            self.stdout_text(),
            self.stderr
        );
        values.into_iter().next().ctx("one JSON value")
    }
}

/// Parses `bytes` as a stream of JSON values, or says what was not JSON.
pub fn json_stream(bytes: &[u8]) -> Result<Vec<Value>, String> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            format!(
                "stdout is not a pure stream of JSON values ({e}):\n{}",
                String::from_utf8_lossy(bytes)
            )
        })
}

/// Whether `bytes` holds one or more complete JSON values and nothing else.
pub fn complete_values(bytes: &[u8]) -> Option<Vec<Value>> {
    json_stream(bytes).ok()
}

/// The parse error if `bytes` cannot be the start of a stream of JSON values (an
/// incomplete last value is fine: more may be on its way).
pub fn not_json(bytes: &[u8]) -> Option<serde_json::Error> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .find_map(Result::err)
        .filter(|e| !e.is_eof())
}

/// The `{"error_code": 0, "data": ...}` envelope's data, after checking it is a success.
#[track_caller]
pub fn ok_data(v: &Value) -> &Value {
    assert_eq!(v["error_code"], 0, "expected success, got {v:#}");
    &v["data"]
}

/// The error text of a `{"error_code": 1, "data": "..."}` envelope.
#[track_caller]
pub fn err_text(v: &Value) -> &str {
    assert_eq!(v["error_code"], 1, "expected a failure, got {v:#}");
    v["data"]
        .as_str()
        .unwrap_or_else(|| panic!("error data is not a string: {v:#}"))
}

/// Asserts `v` is the success `{"username": user, "role": role}`.
#[track_caller]
pub fn assert_user_ok(v: &Value, user: &str, role: &str) {
    assert_eq!(
        v,
        &serde_json::json!({"error_code": 0, "data": {"username": user, "role": role}}),
        "expected success for {user} ({role})"
    );
}

/// Asserts `v` is the success `{"error_code": 0, "data": text}`.
#[track_caller]
pub fn assert_message(v: &Value, text: &str) {
    assert_eq!(
        v,
        &serde_json::json!({"error_code": 0, "data": text}),
        "expected the message {text:?}"
    );
}

/// The users of a `user list` response as (username, role, locked).
#[track_caller]
pub fn users_of(v: &Value) -> Vec<(String, String, String)> {
    let users = ok_data(v)["users"]
        .as_array()
        .unwrap_or_else(|| panic!("user list has no users array: {v:#}"));
    users
        .iter()
        .map(|u| {
            let field = |k: &str| {
                u[k].as_str()
                    .unwrap_or_else(|| panic!("user field {k} is not a string: {u:#}"))
                    .to_string()
            };
            (field("username"), field("role"), field("locked"))
        })
        .collect()
}

/// (username, role) pairs, for comparing user lists.
pub fn names_roles(users: &[(String, String, String)]) -> Vec<(&str, &str)> {
    users
        .iter()
        .map(|(u, r, _)| (u.as_str(), r.as_str()))
        .collect()
}

/// Runs `cmd` with `stdin` piped in; fails the test if it outlives `PROCESS_TIMEOUT`.
pub fn run(mut cmd: Command, stdin: &[u8]) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    finish(
        child,
        stdin.to_vec(),
        &format!("{cmd:?}"),
        Instant::now() + PROCESS_TIMEOUT,
    )
}

/// Feeds `stdin` to a spawned child (with piped stdio), collects its output and waits for it,
/// failing the test (after killing the child) if it is still running at `deadline`.
pub fn finish(mut child: Child, stdin: Vec<u8>, what: &str, deadline: Instant) -> Run {
    let pid = child.id();
    if let Some(mut input) = child.stdin.take() {
        // A child that exits without reading all its input closes the pipe: not an error.
        thread::spawn(move || {
            let _ = input.write_all(&stdin);
        });
    }
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let timeout = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(timeout) {
        Ok(Ok(out)) => Run {
            code: exit_code(out.status),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        Ok(Err(e)) => panic!("waiting for {what}: {e}"),
        Err(_) => {
            kill_pid(pid);
            panic!("{what} (pid {pid}) did not finish in time; it was killed");
        }
    }
}

/// The exit code, or 128 + signal for a process killed by a signal.
pub fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Sends SIGKILL to one process this test started.
pub fn kill_pid(pid: u32) {
    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
}

/// A running `cloudhsm-cli interactive` fed through a pipe that the test keeps open, with its
/// stdout read as it comes.
pub struct Live {
    pub child: Option<Child>,
    stdin: Option<ChildStdin>,
    chunks: Receiver<Vec<u8>>,
    stderr: Receiver<Vec<u8>>,
    pub stdout: Vec<u8>,
    /// How many JSON values of `stdout` have been handed out by `next_values`.
    taken: usize,
}

impl Live {
    /// Starts `cloudhsm-cli interactive` in `sim`'s state directory.
    pub fn start(sim: &Sim) -> Live {
        let mut cmd = sim.cli_command();
        cmd.arg("interactive")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().ctx("start cloudhsm-cli interactive");
        let chunks = pump(child.stdout.take().ctx("child stdout"));
        let stderr = pump(child.stderr.take().ctx("child stderr"));
        let stdin = child.stdin.take();
        Live {
            child: Some(child),
            stdin,
            chunks,
            stderr,
            stdout: Vec::new(),
            taken: 0,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().ctx("live child").id()
    }

    /// Sends one line.
    pub fn send(&mut self, line: &str) {
        let stdin = self
            .stdin
            .as_mut()
            .ctx("stdin of the live session is closed");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .ctx("write to the live session");
    }

    /// Waits until `n` more JSON responses have arrived and returns them.
    pub fn responses(&mut self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            if let Some(values) = complete_values(&self.stdout) {
                if values.len() >= self.taken + n {
                    let out = values[self.taken..self.taken + n].to_vec();
                    self.taken += n;
                    return out;
                }
            }
            if let Some(e) = not_json(&self.stdout) {
                panic!(
                    "the live session wrote something other than JSON to stdout ({e}):\n{}",
                    String::from_utf8_lossy(&self.stdout)
                );
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.stdout.extend_from_slice(&chunk),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no response from the live session in time; stdout so far:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&self.stdout),
                    self.stderr_so_far()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the live session closed stdout early; stdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&self.stdout),
                    self.stderr_so_far()
                ),
            }
        }
    }

    /// Sends `line` and waits for its one response.
    pub fn ask(&mut self, line: &str) -> Value {
        self.send(line);
        self.responses(1).remove(0)
    }

    /// Everything the process wrote to stderr so far (drained).
    pub fn take_stderr(&self) -> String {
        self.stderr_so_far()
    }

    fn stderr_so_far(&self) -> String {
        let mut all = Vec::new();
        while let Ok(chunk) = self.stderr.try_recv() {
            all.extend_from_slice(&chunk);
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    /// Closes stdin (end of input) and waits for the process; returns its exit code.
    pub fn close(&mut self) -> i32 {
        drop(self.stdin.take());
        self.wait()
    }

    /// Kills the process with SIGKILL and reaps it (so its pid is really gone).
    pub fn kill9(&mut self) -> i32 {
        kill_pid(self.pid());
        self.wait()
    }

    fn wait(&mut self) -> i32 {
        let mut child = self.child.take().ctx("live child already waited for");
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        loop {
            match child.try_wait().ctx("wait for the live session") {
                Some(status) => return exit_code(status),
                None if Instant::now() >= deadline => {
                    kill_pid(child.id());
                    let _ = child.wait();
                    panic!("the live session did not exit in time; it was killed");
                }
                None => thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads `r` on a thread and sends what arrives, chunk by chunk.
fn pump(mut r: impl Read + Send + 'static) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Every regular file under `root`, recursively.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read dir {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.ctx("dir entry").path();
            let meta = std::fs::symlink_metadata(&path).ctx("stat");
            if meta.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The words of a command line: `argv("key list --filter attr.label=k")`, split at
/// whitespace; write an array where a word holds a space.
pub fn argv(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The first ```` ```bash ```` block under `heading` (a whole heading line) in `docs/FILE`:
/// recipes the docs give are run as tests, so they cannot rot.
pub fn doc_block(file: &str, heading: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(file);
    let text = std::fs::read_to_string(&path).ctx("read the doc");
    let at = text
        .lines()
        .position(|l| l == heading)
        .unwrap_or_else(|| panic!("{heading:?} is not a heading of docs/{file}"));
    let mut lines = text.lines().skip(at + 1);
    lines
        .by_ref()
        .find(|l| *l == "```bash")
        .unwrap_or_else(|| panic!("no bash block under {heading:?}"));
    let block: Vec<&str> = lines.take_while(|l| *l != "```").collect();
    block.join("\n") + "\n"
}

/// Runs `script` with `bash -euo pipefail` in `dir`, on `sim`'s state directory, with the
/// binaries under test first on PATH and `env` set.
pub fn run_bash(sim: &Sim, dir: &Path, script: &str, env: &[(&str, &str)]) -> Run {
    let bin = Path::new(CLI).parent().ctx("the binaries' directory");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    scrub(&mut cmd);
    cmd.current_dir(dir)
        .env("CLOUDHSM_SIM_HOME", &sim.home)
        .env("PATH", path)
        .args(["-euo", "pipefail", "-c", script]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd, b"")
}

/// The PKCS#11 module beside the binaries under test (`target/<profile>/`), where a user's
/// `cargo build` puts it and `cloudhsm-sim install` looks for it.
///
/// `cargo test` compiles the module (the workspace's second package) into `deps/` but, unlike
/// `cargo build`, does not copy it up beside the binaries; this does, when that copy is
/// missing or older, renaming it into place so that concurrent tests never see half a file.
#[allow(clippy::expect_used)] // a test helper: its failure is the calling test's
pub fn module_beside_binaries() -> PathBuf {
    const MODULE: &str = "libcloudhsm_pkcs11.so";
    let dir = Path::new(CLI)
        .parent()
        .ctx("the CLI's directory")
        .to_path_buf();
    let beside = dir.join(MODULE);
    let built = dir.join("deps").join(MODULE);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let Some(fresh) = modified(&built) {
        if modified(&beside).is_none_or(|old| old < fresh) {
            let partial = dir.join(format!(".{MODULE}.{}", std::process::id()));
            std::fs::copy(&built, &partial).ctx("copy the module beside the binaries");
            std::fs::rename(&partial, &beside).ctx("rename the module into place");
        }
    }
    assert!(
        beside.is_file(),
        "{} is not built: run the workspace's tests (`cargo test` at the root)",
        beside.display()
    );
    beside
}
