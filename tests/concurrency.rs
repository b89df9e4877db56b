//! Many `cloudhsm-cli` processes on one state directory at the same time, as parallel CI jobs
//! run them: no update is lost, no cluster is created twice, every failed login counts.
//!
//! Processes are started together and held at a password prompt (single-command mode reads a
//! password that `--password` does not give from stdin), then all released at once by writing
//! their stdin; the test then waits for every one of them, with one deadline for all.

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use common::*;

const ADMIN_PW: &str = "admin-pw-1";
const BAD_CREDENTIALS: &str =
    "Incorrect credentials are passed for this operation: Incorrect authentication credentials.";
const ALICE_LOCKED: &str = "User alice is locked after too many failed login attempts. An admin \
                            must reset its password with user change-password to unlock it";

/// Starts every command with piped stdio; none is given input yet.
fn spawn_all(commands: Vec<Command>) -> Vec<Child> {
    commands
        .into_iter()
        .map(|mut cmd| {
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn()
                .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
        })
        .collect()
}

/// Releases every child by writing `input` to its stdin, then waits for all of them.
fn release_and_wait(mut children: Vec<Child>, input: &[u8]) -> Vec<Run> {
    for child in &mut children {
        let stdin = child.stdin.as_mut().ctx("child stdin");
        stdin.write_all(input).ctx("write to child stdin");
    }
    let deadline = Instant::now() + PROCESS_TIMEOUT;
    children
        .into_iter()
        .enumerate()
        .map(|(i, mut child)| {
            // Close stdin: the input is already in the pipe.
            drop(child.stdin.take());
            finish(
                child,
                Vec::new(),
                &format!("concurrent process {i}"),
                deadline,
            )
        })
        .collect()
}

#[test]
fn twenty_concurrent_user_creates_all_land_exactly_once() {
    let sim = Sim::activated(ADMIN_PW);
    let pin = format!("admin:{ADMIN_PW}");
    let names: Vec<String> = (0..20).map(|i| format!("cu_{i:02}")).collect();
    let commands = names
        .iter()
        .map(|name| {
            let mut cmd = sim.cli_command();
            cmd.args([
                "user",
                "create",
                "--username",
                name,
                "--role",
                "crypto-user",
            ])
            .env("CLOUDHSM_ROLE", "admin")
            .env("CLOUDHSM_PIN", &pin);
            cmd
        })
        .collect();
    let children = spawn_all(commands);
    let runs = release_and_wait(children, b"shared-cu-pw-1\nshared-cu-pw-1\n");
    for (name, run) in names.iter().zip(&runs) {
        assert_eq!(
            run.code,
            0,
            "user create {name} failed under concurrency: {}\nstderr: {}",
            run.stdout_text(),
            run.stderr
        );
        assert_user_ok(&run.one(), name, "crypto-user");
    }

    let users = sim.users();
    for name in &names {
        let n = users.iter().filter(|(u, _, _)| u == name).count();
        assert_eq!(n, 1, "{name} appears {n} times in user list");
    }
    assert_eq!(users.len(), 22, "admin + 20 users + app_user: {users:?}");
    assert_eq!(users[0].0, "admin");
    assert_eq!(users[21].0, "app_user");

    // The processes' admin logins did not leak into anything that blocks a later delete.
    let run = sim.cli_env(
        &argv("user delete --username cu_07 --role crypto-user"),
        &[("CLOUDHSM_ROLE", "admin"), ("CLOUDHSM_PIN", &pin)],
    );
    assert_eq!(run.code, 0, "{}", run.stdout_text());
}

#[test]
fn twenty_concurrent_first_commands_create_exactly_one_default_cluster() {
    let sim = Sim::empty();
    assert!(!sim.home.exists());
    let commands = (0..20)
        .map(|_| {
            let mut cmd = sim.cli_command();
            cmd.args(["user", "list"]);
            cmd
        })
        .collect();
    let runs = release_and_wait(spawn_all(commands), b"");
    let mut lists = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(
            run.code,
            0,
            "process {i}: {}\nstderr: {}",
            run.stdout_text(),
            run.stderr
        );
        lists.push(run.one());
    }
    for (i, list) in lists.iter().enumerate() {
        assert_eq!(
            names_roles(&users_of(list)),
            vec![
                ("admin", "unactivated-admin"),
                ("app_user", "internal(APPLIANCE_USER)")
            ],
            "process {i} saw another user list"
        );
    }

    let run = sim.sim(&["list"]);
    assert_eq!(run.code, 0, "cloudhsm-sim list: {}", run.stderr);
    let clusters = run.one()["clusters"]
        .as_array()
        .cloned()
        .ctx("clusters array");
    assert_eq!(
        clusters.len(),
        1,
        "expected one default cluster, got {clusters:?}"
    );
    let id = clusters[0].as_str().ctx("cluster id").to_string();
    assert!(id.starts_with("cluster-"), "odd default cluster id {id}");

    // Nothing half-made is left behind (temporary databases of losing processes).
    for file in files_under(&sim.home.join("clusters")) {
        let name = file.file_name().ctx("name").to_string_lossy().into_owned();
        let ok = [".db", ".db-wal", ".db-shm"]
            .iter()
            .any(|suffix| name == format!("{id}{suffix}"));
        assert!(ok, "stray file in the clusters directory: {name}");
    }
}

fn alice_cluster() -> Sim {
    Sim::with_crypto_user(ADMIN_PW, "alice", "alice-pw-1")
}

/// Starts `n` single-command `login`s of alice, each reading its (wrong) password from stdin.
fn failed_logins(sim: &Sim, n: usize) -> Vec<Run> {
    let commands = (0..n)
        .map(|_| {
            let mut cmd = sim.cli_command();
            cmd.args(["login", "--username", "alice", "--role", "crypto-user"]);
            cmd
        })
        .collect();
    let runs = release_and_wait(spawn_all(commands), b"not-alices-pw\n");
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(
            run.code,
            1,
            "failed login {i} must exit 1: {}",
            run.stdout_text()
        );
    }
    runs
}

fn count(runs: &[Run], text: &str) -> usize {
    runs.iter().filter(|r| err_text(&r.one()) == text).count()
}

#[test]
fn eight_concurrent_failed_logins_are_each_counted() {
    let sim = alice_cluster();
    let runs = failed_logins(&sim, 8);
    let bad = count(&runs, BAD_CREDENTIALS);
    let locked = count(&runs, ALICE_LOCKED);
    assert_eq!(
        (bad, locked),
        (6, 2),
        "of 8 concurrent failures, the first six count (the sixth locks) and two meet the lock: {:?}",
        runs.iter().map(|r| r.one()["data"].clone()).collect::<Vec<_>>()
    );
    assert_eq!(sim.locked("alice"), "true");
    let run = sim.cli(&argv(
        "login --username alice --role crypto-user --password alice-pw-1",
    ));
    assert_eq!(run.code, 1);
    assert_eq!(err_text(&run.one()), ALICE_LOCKED);
}

#[test]
fn five_concurrent_failed_logins_count_exactly_five() {
    let sim = alice_cluster();
    let runs = failed_logins(&sim, 5);
    assert_eq!(count(&runs, BAD_CREDENTIALS), 5);
    assert_eq!(sim.locked("alice"), "false", "five failures must not lock");
    // Had an update been lost the count would be below five and one more would not lock.
    let runs = failed_logins(&sim, 1);
    assert_eq!(count(&runs, BAD_CREDENTIALS), 1);
    assert_eq!(sim.locked("alice"), "true", "the sixth failure must lock");
}

#[test]
fn concurrent_activations_have_exactly_one_winner() {
    let sim = Sim::unactivated();
    let passwords: Vec<String> = (0..10).map(|i| format!("racing-pw-{i:02}")).collect();
    let commands = passwords
        .iter()
        .map(|_| {
            let mut cmd = sim.cli_command();
            cmd.args(["cluster", "activate"]);
            cmd
        })
        .collect();
    let mut children = spawn_all(commands);
    // Each process answers its prompts with its own password.
    for (child, pw) in children.iter_mut().zip(&passwords) {
        let stdin = child.stdin.as_mut().ctx("child stdin");
        stdin
            .write_all(format!("{pw}\n{pw}\n").as_bytes())
            .ctx("write password");
    }
    let runs = release_and_wait(children, b"");
    let winners: Vec<&String> = passwords
        .iter()
        .zip(&runs)
        .filter(|(_, r)| r.code == 0)
        .map(|(pw, _)| pw)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one activation must win: {runs:?}"
    );
    for run in runs.iter().filter(|r| r.code != 0) {
        assert_eq!(run.code, 1);
        assert_eq!(err_text(&run.one()), "Cluster has already been activated");
    }
    // The winner's password is the admin password, and no loser's is. A success after each
    // failure keeps the failures from adding up to a lockout of admin.
    let login = |pw: &str| {
        sim.cli(&[
            "login",
            "--username",
            "admin",
            "--role",
            "admin",
            "--password",
            pw,
        ])
    };
    for pw in passwords.iter().filter(|pw| *pw != winners[0]) {
        let run = login(pw);
        assert_eq!(run.code, 1, "a losing password works: {pw}");
        assert_eq!(err_text(&run.one()), BAD_CREDENTIALS);
        let run = login(winners[0]);
        assert_eq!(
            run.code,
            0,
            "the winning password fails: {}",
            run.stdout_text()
        );
    }
}

#[test]
fn concurrent_creates_of_one_name_have_exactly_one_winner() {
    let sim = Sim::activated(ADMIN_PW);
    let pin = format!("admin:{ADMIN_PW}");
    let commands = (0..10)
        .map(|i| {
            let mut cmd = sim.cli_command();
            cmd.args(argv(
                "user create --username dup --role crypto-user --password",
            ))
            .arg(format!("dup-pw-{i:02}"))
            .env("CLOUDHSM_ROLE", "admin")
            .env("CLOUDHSM_PIN", &pin);
            cmd
        })
        .collect();
    let runs = release_and_wait(spawn_all(commands), b"");
    let ok = runs.iter().filter(|r| r.code == 0).count();
    assert_eq!(ok, 1, "exactly one create of `dup` must win: {runs:?}");
    for run in runs.iter().filter(|r| r.code != 0) {
        assert!(
            err_text(&run.one()).contains("User already exists"),
            "{}",
            run.stdout_text()
        );
    }
    let n = sim.users().iter().filter(|(u, _, _)| u == "dup").count();
    assert_eq!(n, 1);
}
