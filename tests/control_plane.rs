//! The control plane (issue 20): what surrounds the CLI is as safe as the CLI. Each test drives
//! the real binaries.
//!
//! - A login, its session keys and its quorum tokens die with the cluster database they were
//!   made on: after `cloudhsm-sim reset` or `import --replace` a live session (piped or single
//!   command) is logged in nowhere.
//! - `reset` and `import --replace` killed with SIGKILL at random moments never lose the
//!   cluster or its settings; processes reading meanwhile never see SQLite's words; temporary
//!   files of killed processes are removed under the lock.
//! - Concurrent `configure-cli add-cluster` lose no update; concurrent runs of one seed end in
//!   the state one run makes and all succeed; a seeded key of fixed material never keeps
//!   other bytes.
//! - Session keys of other processes count towards the key quota.
//! - A stray file in `clusters/` is reported, never fatal; files written to `--path` are never
//!   written through a symbolic link or into a FIFO, and key-derivable ones are private; a
//!   loose state directory is made private; a damaged database is named.
//!
//! The kill loops run `CLOUDHSM_CONTROL_ROUNDS` rounds each (default 100).

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const ADMIN_PW: &str = "admin-pw-1";
const ALICE_PW: &str = "alice-pw-1";
const NOT_LOGGED_IN: &str = "You must be logged in to run";
const REPLACED: &str = "was replaced by another process";

fn admin_env() -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDHSM_ROLE", "admin".into()),
        ("CLOUDHSM_PIN", format!("admin:{ADMIN_PW}")),
    ]
}

fn alice_env() -> Vec<(&'static str, String)> {
    vec![
        ("CLOUDHSM_ROLE", "crypto-user".into()),
        ("CLOUDHSM_PIN", format!("alice:{ALICE_PW}")),
    ]
}

fn refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Runs `line` as a single command with `env`; returns its one response.
fn single(sim: &Sim, line: &str, env: &[(&'static str, String)]) -> Value {
    sim.cli_env(&argv(line), &refs(env)).one()
}

fn assert_ok(v: &Value, what: &str) {
    assert_eq!(v["error_code"], 0, "{what}: {v:#}");
}

fn usernames(sim: &Sim) -> Vec<String> {
    sim.users().into_iter().map(|(u, _, _)| u).collect()
}

/// How many rounds each kill loop runs.
fn rounds() -> usize {
    std::env::var("CLOUDHSM_CONTROL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// A tiny xorshift generator, seeded from the clock (the seed is printed).
struct XorShift(u64);

impl XorShift {
    fn from_clock(what: &str) -> XorShift {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ u64::from(std::process::id()).rotate_left(32);
        println!("{what}: kill moments from seed {seed}");
        XorShift(seed.max(1))
    }

    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Starts `cmd` with its output discarded.
fn spawn_quiet(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd.spawn().ctx("spawn")
}

/// Waits for `child` (bounded); returns its exit code (128 + signal when killed).
fn reap(mut child: Child) -> i32 {
    let deadline = Instant::now() + PROCESS_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().ctx("wait") {
            return exit_code(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a process did not finish in time; it was killed");
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// `PRAGMA integrity_check` of the cluster database.
fn integrity(path: &Path) -> String {
    let conn = rusqlite::Connection::open(path).ctx("open the database");
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .ctx("integrity_check")
}

/// A cluster with several HSMs and non-default settings, activated, with a crypto user and
/// some keys (so that a reset or an import has real work to do).
fn rich_cluster() -> Sim {
    let sim = Sim::empty();
    let run = sim.sim(&argv(
        "init --cluster-id cluster-abc --hsms 3 --hsm-type hsm1.medium --fips --kdf fast \
         --appliance-password appliance-pw",
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    fill(&sim, "alice");
    sim
}

/// Activates `sim`'s cluster and gives it a crypto user `user` (password ALICE_PW) with keys.
fn fill(sim: &Sim, user: &str) {
    let run = sim.cli(&["cluster", "activate", "--password", ADMIN_PW]);
    assert_eq!(run.code, 0, "{}", run.stdout_text());
    let mut script = format!(
        "login --username admin --role admin --password {ADMIN_PW}\n\
         user create --username {user} --role crypto-user --password {ALICE_PW}\n\
         logout\n\
         login --username {user} --role crypto-user --password {ALICE_PW}\n"
    );
    for i in 0..20 {
        script.push_str(&format!(
            "key generate-symmetric aes --label k{i} --key-length-bytes 32\n"
        ));
    }
    let run = sim.piped(&script);
    for v in run.json() {
        assert_ok(&v, "filling the cluster");
    }
}

/// The settings `cloudhsm-sim status` shows, which must survive anything.
fn settings(sim: &Sim) -> Value {
    let run = sim.sim(&["status"]);
    assert_eq!(run.code, 0, "status failed: {}", run.stderr);
    let status: Value = serde_json::from_slice(&run.stdout).ctx("status JSON");
    let clusters = status["clusters"].as_array().ctx("clusters");
    assert_eq!(clusters.len(), 1, "{status:#}");
    let c = &clusters[0];
    json!({
        "cluster-id": c["cluster-id"],
        "hsm-type": c["hsm-type"],
        "fips": c["fips"],
        "kdf": c["kdf"],
        "hsms": c["hsms"].as_array().map(Vec::len),
    })
}

fn expected_settings() -> Value {
    json!({
        "cluster-id": "cluster-abc",
        "hsm-type": "hsm1.medium",
        "fips": true,
        "kdf": "fast",
        "hsms": 3,
    })
}

/// The files of `clusters/` by name.
fn cluster_files(sim: &Sim) -> Vec<String> {
    files_under(&sim.home.join("clusters"))
        .iter()
        .map(|p| p.file_name().ctx("name").to_string_lossy().into_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Item 1: a login dies with the cluster database it was made on.
// ---------------------------------------------------------------------------------------

/// The issue's reproduction: a stale admin session must not create an admin on a cluster
/// that was reset under it.
#[test]
fn a_stale_admin_session_cannot_create_an_admin_after_a_reset() {
    let sim = Sim::activated(ADMIN_PW);
    let mut live = Live::start(&sim);
    assert_user_ok(
        &live.ask(&format!(
            "login --username admin --role admin --password {ADMIN_PW}"
        )),
        "admin",
        "admin",
    );
    let run = sim.sim(&["reset", "--cluster-id", CLUSTER]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let v = live.ask("user create --username evil --role admin --password evil-pw-12");
    assert!(err_text(&v).contains(NOT_LOGGED_IN), "{v:#}");
    // The session sees the reset cluster as anybody does, logged in nowhere.
    let v = live.ask("logout");
    assert_eq!(err_text(&v), "No user is logged in");
    assert_eq!(usernames(&sim), ["admin", "app_user"]);
    // Nothing of the old login is left: the unactivated admin logs in afresh.
    assert_user_ok(
        &live.ask("login --username admin --role admin --password password"),
        "admin",
        "unactivated-admin",
    );
    assert_eq!(live.close(), 0);
}

/// A session of the old `bob` neither sees nor deletes the keys of a new `bob` made after
/// the reset, and its session keys are gone.
#[test]
fn a_stale_crypto_user_session_cannot_touch_a_new_user_of_the_same_name() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", ALICE_PW);
    let mut live = Live::start(&sim);
    assert_user_ok(
        &live.ask(&format!(
            "login --username alice --role crypto-user --password {ALICE_PW}"
        )),
        "alice",
        "crypto-user",
    );
    let v = live.ask("key generate-symmetric aes --label mine --key-length-bytes 16 --session");
    assert_ok(&v, "session key");

    assert_eq!(sim.sim(&["reset", "--cluster-id", CLUSTER]).code, 0);
    assert_eq!(
        sim.cli(&["cluster", "activate", "--password", ADMIN_PW])
            .code,
        0
    );
    let v = single(
        &sim,
        &format!("user create --username alice --role crypto-user --password {ALICE_PW}"),
        &admin_env(),
    );
    assert_ok(&v, "the new alice");
    let v = single(
        &sim,
        "key generate-symmetric aes --label theirs --key-length-bytes 16",
        &alice_env(),
    );
    assert_ok(&v, "the new alice's key");

    for line in [
        "key list",
        "key delete --filter attr.label=theirs",
        "key list --filter attr.label=mine",
        "key generate-symmetric aes --label ghost --key-length-bytes 16",
    ] {
        let v = live.ask(line);
        assert!(err_text(&v).contains(NOT_LOGGED_IN), "{line}: {v:#}");
    }
    let v = single(&sim, "key list", &alice_env());
    let labels: Vec<&str> = ok_data(&v)["matched_keys"]
        .as_array()
        .ctx("keys")
        .iter()
        .map(|k| k["attributes"]["label"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(labels, ["theirs"], "{v:#}");
    // Logged in again, the session has no session key of its old login.
    assert_user_ok(
        &live.ask(&format!(
            "login --username alice --role crypto-user --password {ALICE_PW}"
        )),
        "alice",
        "crypto-user",
    );
    let v = live.ask("key list --filter attr.label=mine");
    assert_eq!(ok_data(&v)["total_key_count"], 0, "{v:#}");
    assert_eq!(live.close(), 0);
}

/// After an import, a stale admin session neither creates a backdoor admin nor changes the
/// real admin's password, and the quorum tokens of the old database are gone.
#[test]
fn a_stale_session_can_do_nothing_after_an_import() {
    let sim = Sim::activated(ADMIN_PW);
    let export = sim.dir.path().join("export.json");
    let run = sim.sim(&["export", "--path", export.to_str().ctx("path")]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let mut live = Live::start(&sim);
    assert_user_ok(
        &live.ask(&format!(
            "login --username admin --role admin --password {ADMIN_PW}"
        )),
        "admin",
        "admin",
    );
    let token = sim.dir.path().join("token.json");
    let v = live.ask(&format!(
        "quorum token-sign generate --service user --token {}",
        token.display()
    ));
    assert_ok(&v, "a quorum token");
    let doc: Value = serde_json::from_slice(&fs::read(&export).ctx("read export")).ctx("json");
    for runtime in ["logins", "tokens"] {
        assert!(doc["tables"].get(runtime).is_none(), "{runtime} exported");
    }

    let run = sim.sim(&["import", "--path", export.to_str().ctx("path"), "--replace"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in [
        "user create --username backdoor --role admin --password backdoor-1",
        "user change-password --username admin --role admin --password hijacked-1",
        "quorum token-sign list",
    ] {
        let v = live.ask(line);
        assert!(err_text(&v).contains(NOT_LOGGED_IN), "{line}: {v:#}");
    }
    assert_eq!(usernames(&sim), ["admin", "app_user"]);
    // The real password still works; the old session's tokens did not come back.
    assert_user_ok(
        &live.ask(&format!(
            "login --username admin --role admin --password {ADMIN_PW}"
        )),
        "admin",
        "admin",
    );
    let v = live.ask("quorum token-sign list");
    assert_eq!(ok_data(&v)["tokens"], json!([]), "{v:#}");
    assert_eq!(live.close(), 0);
}

/// Single-command mode: the login is made from the environment, then the command waits for
/// its password on stdin while the cluster is reset. The command must not run as the old
/// login on the new cluster.
#[test]
fn a_single_command_whose_cluster_is_reset_midway_does_nothing() {
    let sim = Sim::activated(ADMIN_PW);
    let mut cmd = sim.cli_command();
    cmd.args(argv("user create --username evil --role admin"));
    for (k, v) in admin_env() {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().ctx("spawn cloudhsm-cli");
    let pid = child.id();
    let mut stdin = child.stdin.take().ctx("stdin");
    // Logged in: its login row is in the database.
    let logged_in = || {
        let conn = rusqlite::Connection::open(sim.db_path()).ctx("open");
        conn.query_row("SELECT count(*) FROM logins", [], |r| r.get::<_, i64>(0))
            .unwrap_or(0)
            > 0
    };
    let deadline = Instant::now() + PROCESS_TIMEOUT;
    while !logged_in() {
        assert!(Instant::now() < deadline, "the command never logged in");
        thread::sleep(Duration::from_millis(5));
    }
    // Then waiting for its password, when the kernel says so (where /proc/PID/wchan says
    // nothing, the reset may come before the command starts: refused as well).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut midway = false;
    while !midway && Instant::now() < deadline {
        midway =
            fs::read_to_string(format!("/proc/{pid}/wchan")).is_ok_and(|w| w.contains("pipe_read"));
        thread::sleep(Duration::from_millis(5));
    }
    println!("reset while the command waited for its password: {midway}");
    assert_eq!(sim.sim(&["reset", "--cluster-id", CLUSTER]).code, 0);
    {
        use std::io::Write;
        stdin.write_all(b"evil-pw-12\nevil-pw-12\n").ctx("password");
    }
    drop(stdin);
    let run = finish(
        child,
        Vec::new(),
        "user create",
        Instant::now() + PROCESS_TIMEOUT,
    );
    assert_eq!(run.code, 1, "{}", run.stdout_text());
    let text = err_text(&run.one()).to_string();
    if midway {
        assert!(text.contains(REPLACED), "{text}");
    } else {
        assert!(
            text.contains(REPLACED) || text.contains(NOT_LOGGED_IN),
            "{text}"
        );
    }
    assert_eq!(usernames(&sim), ["admin", "app_user"]);
}

// ---------------------------------------------------------------------------------------
// Item 4: reset and import --replace are atomic; readers never see SQLite's words.
// ---------------------------------------------------------------------------------------

/// How long one run of `args` takes here, unkilled (the kill moments are drawn around it).
fn duration_of(sim: &Sim, args: &[&str]) -> Duration {
    let started = Instant::now();
    let run = sim.sim(args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    started.elapsed()
}

/// Runs `args` of cloudhsm-sim and kills it with SIGKILL after a random delay of up to 1.5
/// times `typical`; returns whether it was killed before it finished.
fn run_and_kill(sim: &Sim, args: &[&str], typical: Duration, rng: &mut XorShift) -> bool {
    let mut cmd = sim.sim_command();
    cmd.args(args);
    let mut child = spawn_quiet(cmd);
    let span = typical.as_micros() as u64 * 3 / 2;
    thread::sleep(Duration::from_micros(rng.below(span + 1)));
    let _ = child.kill();
    reap(child) == 128 + 9
}

/// What must hold after every kill: the cluster is there, with its settings, whole.
fn assert_cluster_intact(sim: &Sim, round: usize) {
    assert_eq!(settings(sim), expected_settings(), "round {round}");
    assert_eq!(integrity(&sim.db_path()), "ok", "round {round}");
    let run = sim.cli(&["user", "list"]);
    assert_eq!(run.code, 0, "round {round}: {}", run.stdout_text());
}

/// The issue saw 52 of 100 random kills of `reset` lose the cluster, and the next command
/// quietly create a default one. Now every kill leaves the cluster either as it was or reset.
#[test]
fn kill_9_during_reset_never_loses_the_cluster() {
    let sim = rich_cluster();
    let mut rng = XorShift::from_clock("reset");
    let typical = duration_of(&sim, &["reset"]);
    fill(&sim, "alice");
    let before = usernames(&sim);
    let (mut killed, mut done) = (0, 0);
    for round in 0..rounds() {
        if run_and_kill(
            &sim,
            &["reset", "--cluster-id", "cluster-abc"],
            typical,
            &mut rng,
        ) {
            killed += 1;
        }
        assert_cluster_intact(&sim, round);
        let users = usernames(&sim);
        if users == ["admin", "app_user"] {
            done += 1;
            // Reset: make it different from the factory state again.
            fill(&sim, "alice");
        } else {
            assert_eq!(
                users, before,
                "round {round}: neither the old nor the reset cluster"
            );
        }
    }
    assert!(
        cluster_files(&sim).iter().all(|f| !f.contains(".tmp")),
        "{:?}",
        cluster_files(&sim)
    );
    println!(
        "reset: {} rounds, {killed} killed by SIGKILL before exiting, {done} found reset \
         afterwards (one reset takes about {typical:?} here)",
        rounds()
    );
}

/// The same for `import --replace`: the cluster is the one it was or the imported one.
#[test]
fn kill_9_during_import_replace_never_loses_the_cluster() {
    let sim = rich_cluster();
    let export = sim.dir.path().join("export.json");
    let path = export.to_str().ctx("path").to_string();
    assert_eq!(sim.sim(&["export", "--path", &path]).code, 0);
    let exported = usernames(&sim);
    let import = ["import", "--path", path.as_str(), "--replace"];
    let typical = duration_of(&sim, &import);
    let mut rng = XorShift::from_clock("import --replace");
    let (mut killed, mut done) = (0, 0);
    let mut extra = 0;
    let mut before = exported.clone();
    for round in 0..rounds() {
        if before == exported {
            // Make the cluster differ from the export, so that the two can be told apart.
            extra += 1;
            let v = single(
                &sim,
                &format!(
                    "user create --username extra{extra} --role crypto-user --password extra-pw-1"
                ),
                &admin_env(),
            );
            assert_ok(&v, "a user the export does not have");
            before = usernames(&sim);
        }
        if run_and_kill(&sim, &import, typical, &mut rng) {
            killed += 1;
        }
        assert_cluster_intact(&sim, round);
        let users = usernames(&sim);
        if users == exported {
            done += 1;
        } else {
            assert_eq!(
                users, before,
                "round {round}: neither the old nor the imported cluster"
            );
        }
        before = users;
    }
    println!(
        "import --replace: {} rounds, {killed} killed by SIGKILL before exiting, {done} found \
         imported afterwards (one import takes about {typical:?} here)",
        rounds()
    );
}

/// Copies the state directory `from` to `to` (files only, one level of subdirectories).
fn copy_state(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    for entry in files_under(from) {
        let rel = entry.strip_prefix(from).ctx("relative");
        let target = to.join(rel);
        fs::create_dir_all(target.parent().ctx("parent")).ctx("mkdir");
        fs::copy(&entry, &target).ctx("copy");
    }
}

/// Issue 19: an import into a state directory whose only cluster is the default one a first
/// command made takes its place. Killed at any moment, it leaves the default, the imported
/// cluster, or both (killed between the two steps), every one of them usable; never a
/// cluster that cannot be opened, and nothing that the next holder of the lock does not
/// clear away.
#[test]
fn kill_9_during_an_import_over_the_default_leaves_usable_clusters() {
    let source = rich_cluster();
    let export = source.dir.path().join("export.json");
    let path = export.to_str().ctx("path").to_string();
    assert_eq!(source.sim(&["export", "--path", &path]).code, 0);
    let template = Sim::empty();
    assert_eq!(template.cli(&["user", "list"]).code, 0);
    let default = template.sim(&["list"]).one()["clusters"][0]
        .as_str()
        .ctx("the default cluster")
        .to_string();
    let sim = Sim::empty();
    let import = ["import", "--path", path.as_str()];
    copy_state(&template.home, &sim.home);
    let typical = duration_of(&sim, &import);
    let mut rng = XorShift::from_clock("import over the default");
    let (mut killed, mut replaced, mut kept, mut both) = (0, 0, 0, 0);
    for round in 0..rounds() {
        copy_state(&template.home, &sim.home);
        if run_and_kill(&sim, &import, typical, &mut rng) {
            killed += 1;
        }
        // Every cluster listed opens (status reads each).
        let run = sim.sim(&["status"]);
        assert_eq!(run.code, 0, "round {round}: {}", run.stderr);
        let mut ids: Vec<String> = run.one()["clusters"]
            .as_array()
            .ctx("clusters")
            .iter()
            .map(|c| c["cluster-id"].as_str().ctx("id").to_string())
            .collect();
        ids.sort();
        match ids.len() {
            1 if ids[0] == "cluster-abc" => replaced += 1,
            1 if ids[0] == default => kept += 1,
            2 => both += 1,
            _ => panic!("round {round}: clusters {ids:?}"),
        }
        for id in &ids {
            let run = sim.cli(&["user", "list", "--cluster-id", id]);
            assert_eq!(run.code, 0, "round {round}, {id}: {}", run.stdout_text());
        }
        // The next holder of the lock (an import run to its end) clears what a kill left.
        let run = sim.sim(&import);
        assert!(
            run.code == 0 || run.stderr.contains("already exists"),
            "round {round}: {}",
            run.stderr
        );
        let files = cluster_files(&sim);
        assert!(
            files.iter().all(|f| {
                let base = f.trim_end_matches("-wal").trim_end_matches("-shm");
                !f.contains(".tmp") && files.iter().any(|g| g == base)
            }),
            "round {round}: {files:?}"
        );
    }
    println!(
        "import over the default: {} rounds, {killed} killed by SIGKILL before exiting; \
         afterwards {replaced} held the imported cluster only, {kept} the default only, {both} \
         both (one import takes about {typical:?} here)",
        rounds()
    );
}

/// Processes reading the cluster while it is reset again and again get its users, or (when
/// the reset lands inside their command) the clear message: never SQLite's words, never a
/// missing cluster.
#[test]
fn readers_during_resets_get_the_cluster_or_a_clear_message() {
    let sim = rich_cluster();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let home = sim.home.clone();
            let stop = stop.clone();
            thread::spawn(move || {
                let mut outputs = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut cmd = Command::new(CLI);
                    scrub(&mut cmd);
                    cmd.env("CLOUDHSM_SIM_HOME", &home).args(["user", "list"]);
                    outputs.push(run(cmd, b""));
                }
                outputs
            })
        })
        .collect();
    let resets = 30;
    for _ in 0..resets {
        assert_eq!(sim.sim(&["reset"]).code, 0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut fine, mut replaced) = (0, 0);
    for reader in readers {
        for run in reader.join().ctx("reader thread") {
            let v = run.one();
            let all = format!("{}{}", run.stdout_text(), run.stderr);
            for word in [
                "SQLite",
                "sqlite",
                "database disk",
                "disk is full",
                "no such table",
                "database is locked",
            ] {
                assert!(!all.contains(word), "{word:?} in {all}");
            }
            if v["error_code"] == 0 {
                fine += 1;
                assert!(ok_data(&v)["users"]
                    .as_array()
                    .is_some_and(|u| u.len() >= 2));
            } else {
                replaced += 1;
                assert!(err_text(&v).contains(REPLACED), "{v:#}");
            }
        }
    }
    assert_eq!(settings(&sim), expected_settings());
    println!("{resets} resets under 3 readers: {fine} user lists answered, {replaced} told the cluster was replaced");
}

/// Temporary files of processes killed while building a database are never clusters, never
/// strays, and are removed by whoever next takes the lock; a reset never touches them.
#[test]
fn orphaned_temporary_files_are_removed_under_the_lock() {
    let sim = rich_cluster();
    let dir = sim.home.join("clusters");
    let orphans = [
        "cluster-abc.db.tmp-4242-0123456789ab",
        "cluster-abc.db.tmp-4242-0123456789ab-wal",
        "cluster-new.db.tmp-77-ffffffffffff-shm",
        "cluster-abc.tmp4242",
        "cluster-abc.importing",
    ];
    for name in orphans {
        fs::write(dir.join(name), b"half a database").ctx("plant an orphan");
    }
    let run = sim.sim(&["status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stdout_text().contains("ignored"),
        "{}",
        run.stdout_text()
    );
    assert_eq!(sim.sim(&["reset"]).code, 0);
    assert_eq!(integrity(&sim.db_path()), "ok");
    let run = sim.sim(&argv("init --cluster-id cluster-two --kdf fast"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut left = cluster_files(&sim);
    left.sort();
    assert_eq!(
        left,
        ["cluster-abc.db", "cluster-two.db"],
        "orphans left behind"
    );
}

// ---------------------------------------------------------------------------------------
// Item 2: configure-cli loses no update.
// ---------------------------------------------------------------------------------------

/// The issue saw 12 concurrent `add-cluster` create 12 clusters while the configuration
/// recorded one, leaving 11 unreachable.
#[test]
fn twelve_concurrent_add_clusters_are_all_recorded() {
    let sim = Sim::empty();
    let ids: Vec<String> = (1..=12).map(|n| format!("cluster-c{n}")).collect();
    let children: Vec<Child> = ids
        .iter()
        .map(|id| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_configure-cli"));
            scrub(&mut cmd);
            cmd.env("CLOUDHSM_SIM_HOME", &sim.home)
                .args(["add-cluster", "--cluster-id", id]);
            spawn_quiet(cmd)
        })
        .collect();
    for child in children {
        assert_eq!(reap(child), 0);
    }
    let config: Value = serde_json::from_slice(
        &fs::read(sim.home.join("cloudhsm-cli.cfg")).ctx("read the configuration"),
    )
    .ctx("configuration JSON");
    let mut recorded: Vec<String> = config["clusters"]
        .as_array()
        .ctx("clusters")
        .iter()
        .map(|c| c.as_str().ctx("id").to_string())
        .collect();
    recorded.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(recorded, expected, "updates were lost");
    // Every one of them is reachable.
    for id in &ids {
        let run = sim.cli(&["user", "list", "--cluster-id", id]);
        assert_eq!(run.code, 0, "{id}: {}", run.stdout_text());
    }
    let mode = fs::metadata(sim.home.join("cloudhsm-cli.cfg"))
        .ctx("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let left: Vec<String> = files_under(&sim.home)
        .iter()
        .map(|p| p.file_name().ctx("name").to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// A configuration file that cannot be read is reported, never silently replaced by one
/// that forgets what it held.
#[test]
fn an_unreadable_configuration_is_not_overwritten() {
    let sim = Sim::unactivated();
    let path = sim.home.join("cloudhsm-cli.cfg");
    fs::write(&path, b"{ this is not json").ctx("write");
    let run = sim.configure(&["add-cluster", "--cluster-id", CLUSTER]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("cloudhsm-cli.cfg cannot be read"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&path).ctx("read"), b"{ this is not json");
}

// ---------------------------------------------------------------------------------------
// Items 3 and 5: seed is idempotent and exactly-once under concurrency.
// ---------------------------------------------------------------------------------------

const SEED: &str = r#"{
  "version": 1,
  "cluster": {"id": "cluster-seed", "hsms": 2, "kdf": "fast"},
  "admin_password": "admin-pw-1",
  "users": [
    {"username": "alice", "role": "crypto-user", "password": "alice-pw-1"},
    {"username": "bob", "role": "crypto-user", "password": "bob-pw-123"},
    {"username": "ops", "role": "admin", "password": "ops-pw-123"}
  ],
  "quorum": {"quorum": 2},
  "keys": [
    {"owner": "alice", "type": "rsa", "modulus_bits": 2048, "label": "rsa-pub",
     "private_label": "rsa-priv", "share_with": ["bob"]},
    {"owner": "alice", "type": "ec", "label": "ec-pub", "private_label": "ec-priv"},
    {"owner": "alice", "type": "generic-secret", "label": "mac-key",
     "material_hex": "000102030405060708090a0b0c0d0e0f"},
    {"owner": "bob", "type": "aes", "label": "data-key", "share_with": ["alice"]}
  ]
}"#;

fn seed_file(sim: &Sim, doc: &str) -> String {
    let path = sim.dir.path().join("seed.json");
    fs::write(&path, doc).ctx("write the seed");
    path.to_str().ctx("path").to_string()
}

/// (owner, label, class, shared users) of every key `user` sees.
fn keys_of(sim: &Sim, user: &str, pw: &str) -> Vec<(String, String, String, String)> {
    let env = vec![
        ("CLOUDHSM_ROLE", "crypto-user".to_string()),
        ("CLOUDHSM_PIN", format!("{user}:{pw}")),
    ];
    let run = sim.cli_env(
        &["key", "list", "--verbose", "--cluster-id", "cluster-seed"],
        &refs(&env),
    );
    let v = run.one();
    let mut keys: Vec<_> = ok_data(&v)["matched_keys"]
        .as_array()
        .ctx("keys")
        .iter()
        .map(|k| {
            (
                k["key-info"]["key-owners"][0]["username"].to_string(),
                k["attributes"]["label"].to_string(),
                k["attributes"]["class"].to_string(),
                k["key-info"]["shared-users"].to_string(),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// The issue saw six concurrent runs of one seed file make six copies of one RSA pair and
/// fail with `already exists` / `already activated`. Now all succeed, exactly one of them
/// changes anything, and the cluster is what one run makes.
#[test]
fn six_concurrent_seeds_make_one_copy_and_all_succeed() {
    let alone = Sim::empty();
    let file = seed_file(&alone, SEED);
    let run = alone.sim(&["seed", "--file", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let sim = Sim::empty();
    let file = seed_file(&sim, SEED);
    let children: Vec<_> = (0..6)
        .map(|_| {
            let mut cmd = sim.sim_command();
            cmd.args(["seed", "--file", &file])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().ctx("spawn seed")
        })
        .collect();
    let mut changed = 0;
    for child in children {
        let run = finish(child, Vec::new(), "seed", Instant::now() + PROCESS_TIMEOUT);
        assert_eq!(run.code, 0, "a seed failed: {}", run.stderr);
        if run.one()["changed"] == true {
            changed += 1;
        }
    }
    assert_eq!(changed, 1, "exactly one run makes the cluster");
    for (user, pw) in [("alice", "alice-pw-1"), ("bob", "bob-pw-123")] {
        let keys = keys_of(&sim, user, pw);
        assert_eq!(keys, keys_of(&alone, user, pw), "keys {user} sees");
    }
    // Two pairs, the fixed-material key and bob's shared key.
    assert_eq!(keys_of(&sim, "alice", "alice-pw-1").len(), 6);
    let run = sim.cli(&["user", "list", "--cluster-id", "cluster-seed"]);
    assert_eq!(
        names_roles(&users_of(&run.one())),
        [
            ("admin", "admin"),
            ("alice", "crypto-user"),
            ("bob", "crypto-user"),
            ("ops", "admin"),
            ("app_user", "internal(APPLIANCE_USER)"),
        ]
    );
}

/// A key the seed names with fixed material that exists with other bytes is refused, never
/// reported as kept (a failure between generating and setting the bytes once left such a
/// key behind); the bytes of a key the seed made are the seed's.
#[test]
fn a_seeded_key_of_fixed_material_never_keeps_other_bytes() {
    let sim = Sim::empty();
    let file = seed_file(&sim, SEED);
    assert_eq!(sim.sim(&["seed", "--file", &file]).code, 0);
    // HMAC-SHA256("hello") with the key 00..0f.
    let alice = vec![
        ("CLOUDHSM_ROLE", "crypto-user".to_string()),
        ("CLOUDHSM_PIN", "alice:alice-pw-1".to_string()),
    ];
    let mac = |sim: &Sim| {
        let v = sim
            .cli_env(
                &argv(
                    "crypto mac hmac --key-filter attr.label=mac-key --hash-function sha256 \
                     --data aGVsbG8= --cluster-id cluster-seed",
                ),
                &refs(&alice),
            )
            .one();
        ok_data(&v)["mac"].clone()
    };
    assert_eq!(mac(&sim), "kWPrDVaKKOOZTJacnV3+8YHMu7CodCswRk1NIAy8tPQ=");

    let other = Sim::empty();
    let doc = SEED.replace(
        r#"{"owner": "alice", "type": "generic-secret", "label": "mac-key",
     "material_hex": "000102030405060708090a0b0c0d0e0f"},"#,
        "",
    );
    assert_eq!(
        other
            .sim(&["seed", "--file", &seed_file(&other, &doc)])
            .code,
        0
    );
    let v = other
        .cli_env(
            &argv(
                "key generate-symmetric generic-secret --label mac-key --key-length-bytes 16 \
                 --cluster-id cluster-seed",
            ),
            &refs(&alice),
        )
        .one();
    assert_ok(&v, "a mac-key of random bytes");
    let before = mac(&other);
    let run = other.sim(&["seed", "--file", &seed_file(&other, SEED)]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("already has this key with other material than material_hex"),
        "{}",
        run.stderr
    );
    assert_eq!(mac(&other), before, "the key changed");
}

// ---------------------------------------------------------------------------------------
// Item 7: the session keys of other processes count towards the key quota.
// ---------------------------------------------------------------------------------------

/// Fills the cluster with copies of alice's EC private key until it holds `count` asymmetric
/// keys (with references far above any the cluster hands out).
fn fill_asymmetric(sim: &Sim, count: i64) {
    let conn = rusqlite::Connection::open(sim.db_path()).ctx("open");
    conn.busy_timeout(Duration::from_secs(30)).ctx("timeout");
    let have: i64 = conn
        .query_row(
            "SELECT count(*) FROM keys WHERE key_type IN ('rsa', 'ec', 'ml-dsa')",
            [],
            |r| r.get(0),
        )
        .ctx("count");
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO keys (reference, owner, key_type, class, label, settable, derived,
                           manage_quorum, use_quorum, material)
         SELECT 1000000 + i, owner, key_type, class, 'filler', settable, derived, 0, 0, material
           FROM keys, n
          WHERE keys.reference = (SELECT max(reference) FROM keys WHERE class = 'private-key')",
        [count - have],
    )
    .ctx("fill");
}

/// The issue reached 3,335 asymmetric keys against a quota of 3,333 with session keys in
/// another process. With 3,330 token keys and a process holding two session keys, a third
/// process may import one public key (3,333) and no more; when the session deletes one of
/// its keys there is room for one more, and when it is killed its keys stop counting.
#[test]
fn session_keys_of_other_processes_count_towards_the_key_quota() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", ALICE_PW);
    let v = single(
        &sim,
        "key generate-asymmetric-pair ec --curve prime256v1 --public-label pub --private-label priv",
        &alice_env(),
    );
    assert_ok(&v, "a pair");
    let pem = sim.dir.path().join("pub.pem");
    let v = single(
        &sim,
        &format!(
            "key generate-file --encoding pem --path {} --filter attr.label=pub",
            pem.display()
        ),
        &alice_env(),
    );
    assert_ok(&v, "the public key as PEM");
    fill_asymmetric(&sim, 3330);
    let import = |n: usize| {
        single(
            &sim,
            &format!(
                "key import pem --path {} --label imported{n} --key-type-class ec-public",
                pem.display()
            ),
            &alice_env(),
        )
    };
    let refused = |v: &Value| {
        assert_eq!(
            err_text(v),
            "Maximum number of asymmetric keys for this cluster reached (3333)",
            "{v:#}"
        );
    };

    let mut other = Live::start(&sim);
    assert_user_ok(
        &other.ask(&format!(
            "login --username alice --role crypto-user --password {ALICE_PW}"
        )),
        "alice",
        "crypto-user",
    );
    let v = other.ask(
        "key generate-asymmetric-pair ec --curve prime256v1 --public-label spub \
         --private-label spriv --session",
    );
    assert_ok(&v, "two session keys (3,332)");
    assert_ok(&import(1), "3,333");
    refused(&import(2));
    assert_ok(
        &other.ask("key delete --filter attr.label=spub"),
        "one session key less",
    );
    assert_ok(&import(3), "3,333 again");
    refused(&import(4));
    // A process that is gone holds no session keys.
    other.kill9();
    assert_ok(&import(5), "3,333 without the dead process's key");
    refused(&import(6));
}

// ---------------------------------------------------------------------------------------
// Items 8, 9 and 10: strays, files written to --path, the state directory, damage.
// ---------------------------------------------------------------------------------------

/// A stray file in `clusters/` used to break the state directory (`status` failed, every
/// command reported several clusters). Now only `<cluster id>.db` files are clusters; the
/// rest is reported and left alone.
#[test]
fn stray_files_in_clusters_are_reported_not_fatal() {
    let sim = Sim::activated(ADMIN_PW);
    let dir = sim.home.join("clusters");
    fs::write(dir.join("backup.db"), b"not a cluster").ctx("stray");
    fs::write(dir.join("cluster-abc.bak.db"), b"a copy").ctx("stray");
    fs::write(dir.join("notes.txt"), b"notes").ctx("stray");
    fs::create_dir(dir.join("old")).ctx("stray dir");

    let run = sim.sim(&["status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let status: Value = serde_json::from_slice(&run.stdout).ctx("status");
    assert_eq!(status["clusters"].as_array().map(Vec::len), Some(1));
    let ignored: Vec<(String, String)> = status["ignored"]
        .as_array()
        .ctx("ignored")
        .iter()
        .map(|i| {
            let path = PathBuf::from(i["path"].as_str().ctx("path"));
            (
                path.file_name().ctx("name").to_string_lossy().into_owned(),
                i["reason"].as_str().ctx("reason").to_string(),
            )
        })
        .collect();
    let names: Vec<&str> = ignored.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["backup.db", "cluster-abc.bak.db", "notes.txt", "old"]
    );
    assert!(ignored
        .iter()
        .all(|(_, r)| r == "not named <cluster id>.db"));

    let run = sim.sim(&["list"]);
    let list: Value = serde_json::from_slice(&run.stdout).ctx("list");
    assert_eq!(list["clusters"], json!([CLUSTER]));
    assert_eq!(list["ignored"].as_array().map(Vec::len), Some(4));
    // The CLI uses the one cluster as before.
    assert_eq!(usernames(&sim), ["admin", "app_user"]);
    let v = single(&sim, "user list", &admin_env());
    assert_ok(&v, "a login on the one cluster");
    assert_eq!(
        fs::read(dir.join("backup.db")).ctx("read"),
        b"not a cluster"
    );
}

/// Files written to `--path`: an existing file is overwritten (as the real CLI does); a
/// symbolic link is never followed and a FIFO never opened; a masked object is private.
#[test]
fn files_written_to_path_never_go_through_links_or_fifos() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", ALICE_PW);
    let alice = alice_env();
    assert_ok(
        &single(
            &sim,
            "key generate-asymmetric-pair ec --curve prime256v1 --public-label pub --private-label priv",
            &alice,
        ),
        "a pair",
    );
    assert_ok(
        &single(
            &sim,
            "key generate-symmetric aes --label sym --key-length-bytes 32",
            &alice,
        ),
        "a secret key",
    );
    let dir = sim.dir.path();
    let generate = |path: &Path| {
        single(
            &sim,
            &format!(
                "key generate-file --encoding pem --path {} --filter attr.label=pub",
                path.display()
            ),
            &alice,
        )
    };

    // An existing regular file is overwritten.
    let existing = dir.join("existing.pem");
    fs::write(&existing, b"old contents").ctx("write");
    assert_ok(&generate(&existing), "over an existing file");
    let text = fs::read_to_string(&existing).ctx("read");
    assert!(text.starts_with("-----BEGIN PUBLIC KEY-----"), "{text}");

    // A symbolic link is refused; what it points to is untouched.
    let target = dir.join("precious");
    fs::write(&target, b"precious").ctx("write");
    let link = dir.join("link.pem");
    std::os::unix::fs::symlink(&target, &link).ctx("symlink");
    let v = generate(&link);
    let text = err_text(&v);
    assert!(
        text.contains(&link.display().to_string()) && text.contains("symbolic link"),
        "{text}"
    );
    assert_eq!(fs::read(&target).ctx("read"), b"precious");
    assert!(fs::symlink_metadata(&link)
        .ctx("stat")
        .file_type()
        .is_symlink());

    // A FIFO is refused at once (the command would otherwise wait for a reader forever).
    let fifo = dir.join("fifo.pem");
    let made = Command::new("mkfifo").arg(&fifo).status().ctx("mkfifo");
    assert!(made.success());
    let v = generate(&fifo);
    assert!(err_text(&v).contains("not a regular file"), "{v:#}");

    // A masked object is created 0600, and an existing file others can read becomes 0600.
    let extract = |path: &Path| {
        single(
            &sim,
            &format!(
                "key extract-masked --filter attr.label=sym --path {}",
                path.display()
            ),
            &alice,
        )
    };
    let masked = dir.join("masked.json");
    assert_ok(&extract(&masked), "a masked object");
    let mode = |p: &Path| fs::metadata(p).ctx("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&masked), 0o600);
    let loose = dir.join("loose.json");
    fs::write(&loose, b"").ctx("write");
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o644)).ctx("chmod");
    assert_ok(&extract(&loose), "a masked object over a readable file");
    assert_eq!(mode(&loose), 0o600);
    assert!(fs::metadata(&loose).ctx("stat").len() > 0);
}

/// A state directory others may enter is made private before anything is written to it.
#[test]
fn a_loose_state_directory_is_made_private() {
    let sim = Sim::empty();
    fs::create_dir_all(sim.home.join("clusters")).ctx("mkdir");
    for dir in [sim.home.clone(), sim.home.join("clusters")] {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).ctx("chmod");
    }
    let run = sim.sim(&argv("init --cluster-id cluster-abc --kdf fast"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    for dir in [sim.home.clone(), sim.home.join("clusters")] {
        let mode = fs::metadata(&dir).ctx("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", dir.display());
    }
}

/// A truncated database is refused with a message that names the file, and left as it is.
#[test]
fn a_damaged_database_is_refused_by_name() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", ALICE_PW);
    let v = single(
        &sim,
        "key generate-symmetric aes --label k --key-length-bytes 32",
        &alice_env(),
    );
    assert_ok(&v, "a key");
    let path = sim.db_path();
    // Folded into the main file first, so that truncating it loses pages.
    let conn = rusqlite::Connection::open(&path).ctx("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .ctx("checkpoint");
    drop(conn);
    let file = fs::OpenOptions::new().write(true).open(&path).ctx("open");
    file.set_len(8192).ctx("truncate");
    drop(file);
    let before = fs::read(&path).ctx("read");
    let run = sim.cli(&["user", "list"]);
    assert_eq!(run.code, 1, "{}", run.stdout_text());
    let text = err_text(&run.one()).to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("is damaged"),
        "{text}"
    );
    let run = sim.sim(&["status"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&path.display().to_string()),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read(&path).ctx("read"), before, "the file was changed");
}
