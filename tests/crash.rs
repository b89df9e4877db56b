//! Crash test: a piped `cloudhsm-cli interactive` session runs a stream of mutating commands
//! (user creation, key generation, sharing, attribute changes, failed logins) and is killed
//! with SIGKILL at a random moment, round after round, on one state directory.
//!
//! After every kill:
//! - the cluster database passes `PRAGMA integrity_check` (and `foreign_key_check`);
//! - the store opens: `cloudhsm-cli user list` and `key list` work and print no SQLite text;
//! - every change whose success JSON was completely printed before the kill is present;
//! - no command after the one in flight left any trace, and the one in flight is all or
//!   nothing (a key pair is two keys or none);
//! - the failed-login counter of each round's victim is exact: the number of further failures
//!   it takes to lock the user is 6 minus the failures printed (minus one more if a failure
//!   was in flight).
//!
//! The kill moment comes from a xorshift generator. Its seed is printed; set
//! `CLOUDHSM_CRASH_SEED=<n>` to replay a run (the timing of the kill still varies a little).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const ROUNDS: usize = 30;
const ADMIN_PW: &str = "admin-pw-1";
const OWNER: &str = "owner";
const OWNER_PW: &str = "owner-pw-1";
const SHAREE: &str = "sharee";
const SHAREE_PW: &str = "sharee-pw-1";
const WRONG_PW: &str = "wrong-pw-99";
const BAD_CREDENTIALS: &str =
    "Incorrect credentials are passed for this operation: Incorrect authentication credentials.";

/// A tiny xorshift64* generator: reproducible from its printed seed.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    if let Some(s) = std::env::var("CLOUDHSM_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return s;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

/// What one script line changes when it succeeds.
#[derive(Debug, Clone)]
enum Effect {
    /// login, logout: nothing durable to check here.
    Session,
    User(String),
    /// A symmetric key with this label.
    Key(String),
    /// A key pair (public label, private label).
    Pair(String, String),
    /// The key with this label is shared with `SHAREE`.
    Share(String),
    /// `attributes[name] == value` on the key with this label.
    Attr(String, &'static str, bool),
    /// The key labelled `from` is relabelled `to`.
    Relabel(String, String),
    /// A failed login of this user (the response is an error, the counter moves).
    FailedLogin(String),
}

struct Step {
    line: String,
    effect: Effect,
}

fn step(line: String, effect: Effect) -> Step {
    Step { line, effect }
}

/// The script of round `r`: every name in it is unique to the round.
fn script(r: usize) -> Vec<Step> {
    let (ua, ub, victim) = (format!("r{r}_a"), format!("r{r}_b"), format!("r{r}_v"));
    let (aes, pubk, privk, gs, gs2) = (
        format!("r{r}-aes"),
        format!("r{r}-pub"),
        format!("r{r}-priv"),
        format!("r{r}-gs"),
        format!("r{r}-gs-renamed"),
    );
    let fail = |v: &str| {
        step(
            format!("login --username {v} --role crypto-user --password {WRONG_PW}"),
            Effect::FailedLogin(v.to_string()),
        )
    };
    let create = |u: &str| {
        step(
            format!("user create --username {u} --role crypto-user --password pw-of-{u}"),
            Effect::User(u.to_string()),
        )
    };
    let mut s = vec![
        step(
            format!("login --username admin --role admin --password {ADMIN_PW}"),
            Effect::Session,
        ),
        create(&ua),
        create(&victim),
        step("logout".into(), Effect::Session),
        fail(&victim),
        fail(&victim),
        fail(&victim),
        step(
            format!("login --username {OWNER} --role crypto-user --password {OWNER_PW}"),
            Effect::Session,
        ),
        step(
            format!("key generate-symmetric aes --label {aes} --key-length-bytes 32"),
            Effect::Key(aes.clone()),
        ),
        step(
            format!("key share --filter attr.label={aes} --username {SHAREE} --role crypto-user"),
            Effect::Share(aes.clone()),
        ),
        step(
            format!("key set-attribute --filter attr.label={aes} --name decrypt --value true"),
            Effect::Attr(aes.clone(), "decrypt", true),
        ),
        step(
            format!(
                "key generate-asymmetric-pair ec --curve prime256v1 --public-label {pubk} \
                 --private-label {privk} --private-attributes sign=true"
            ),
            Effect::Pair(pubk.clone(), privk.clone()),
        ),
        step(
            format!("key share --filter attr.label={privk} --username {SHAREE} --role crypto-user"),
            Effect::Share(privk.clone()),
        ),
        step(
            format!("key generate-symmetric generic-secret --label {gs} --key-length-bytes 32"),
            Effect::Key(gs.clone()),
        ),
        step(
            format!("key set-attribute --filter attr.label={gs} --name label --value {gs2}"),
            Effect::Relabel(gs.clone(), gs2.clone()),
        ),
        step(
            format!("key set-attribute --filter attr.label={pubk} --name verify --value true"),
            Effect::Attr(pubk.clone(), "verify", true),
        ),
        step("logout".into(), Effect::Session),
        fail(&victim),
        fail(&victim),
        step(
            format!("login --username admin --role admin --password {ADMIN_PW}"),
            Effect::Session,
        ),
        create(&ub),
        step("logout".into(), Effect::Session),
    ];
    s.shrink_to_fit();
    s
}

/// What the test knows about the state, accumulated over the rounds.
#[derive(Default)]
struct Model {
    users: BTreeSet<String>,
    no_users: BTreeSet<String>,
    /// Labels that must exist exactly once / must not exist.
    labels: BTreeSet<String>,
    no_labels: BTreeSet<String>,
    /// Exactly one of the two labels exists (a relabel that was in flight).
    one_of: Vec<(String, String)>,
    /// Both labels exist or neither does (a key pair that was in flight).
    both_or_neither: Vec<(String, String)>,
    shares: BTreeSet<String>,
    attrs: Vec<(String, &'static str, bool)>,
    /// Per victim: failures printed, and whether one more was in flight.
    victims: Vec<(String, usize, bool)>,
}

/// Applies round `steps` to the model: `printed` responses were complete before the kill;
/// step `printed` was in flight (its effect is unknown); later steps never ran.
fn account(model: &mut Model, steps: &[Step], responses: &[Value], round: usize) {
    let printed = responses.len();
    for (i, (s, r)) in steps.iter().zip(responses).enumerate() {
        match &s.effect {
            Effect::FailedLogin(_) => assert_eq!(
                err_text(r),
                BAD_CREDENTIALS,
                "round {round} step {i} `{}`",
                s.line
            ),
            _ => assert_eq!(
                r["error_code"], 0,
                "round {round} step {i} `{}` failed: {r:#}",
                s.line
            ),
        }
    }
    // Where a generic-secret key was relabelled, its old label is gone.
    let relabelled: BTreeMap<String, String> = steps
        .iter()
        .filter_map(|s| match &s.effect {
            Effect::Relabel(a, b) => Some((a.clone(), b.clone())),
            _ => None,
        })
        .collect();
    let mut failures: BTreeMap<String, (usize, bool)> = BTreeMap::new();
    for (i, s) in steps.iter().enumerate() {
        let done = i < printed;
        let in_flight = i == printed;
        match &s.effect {
            Effect::Session => {}
            Effect::User(u) => {
                if done {
                    model.users.insert(u.clone());
                } else if !in_flight {
                    model.no_users.insert(u.clone());
                }
            }
            Effect::Key(label) => {
                let renamed = relabelled.get(label);
                if done {
                    // Present under its first or its second label, decided by the relabel.
                    if renamed.is_none() {
                        model.labels.insert(label.clone());
                    }
                } else if !in_flight {
                    model.no_labels.insert(label.clone());
                    if let Some(r) = renamed {
                        model.no_labels.insert(r.clone());
                    }
                }
            }
            Effect::Relabel(from, to) => {
                if done {
                    model.labels.insert(to.clone());
                    model.no_labels.insert(from.clone());
                } else if in_flight {
                    model.one_of.push((from.clone(), to.clone()));
                } else if i > printed {
                    // Never ran: the key (if it was made) still has its first label.
                    let key_made = steps
                        .iter()
                        .take(printed)
                        .any(|s| matches!(&s.effect, Effect::Key(l) if l == from));
                    if key_made {
                        model.labels.insert(from.clone());
                    }
                    model.no_labels.insert(to.clone());
                }
            }
            Effect::Pair(public, private) => {
                if done {
                    model.labels.insert(public.clone());
                    model.labels.insert(private.clone());
                } else if in_flight {
                    model
                        .both_or_neither
                        .push((public.clone(), private.clone()));
                } else {
                    model.no_labels.insert(public.clone());
                    model.no_labels.insert(private.clone());
                }
            }
            Effect::Share(label) => {
                if done {
                    model.shares.insert(label.clone());
                }
            }
            Effect::Attr(label, name, value) => {
                if done {
                    model.attrs.push((label.clone(), name, *value));
                }
            }
            Effect::FailedLogin(v) => {
                let e = failures.entry(v.clone()).or_default();
                if done {
                    e.0 += 1;
                } else if in_flight {
                    e.1 = true;
                }
            }
        }
    }
    for (v, (n, maybe)) in failures {
        model.victims.push((v, n, maybe));
    }
}

/// A running session whose stdout is read as it comes.
struct Victim {
    child: std::process::Child,
    _stdin: std::process::ChildStdin,
    chunks: Receiver<Vec<u8>>,
    stderr: Receiver<Vec<u8>>,
    stdout: Vec<u8>,
}

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

/// The complete JSON values at the start of `bytes` (an incomplete last one is left out).
fn complete_prefix(bytes: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .map_while(Result::ok)
        .collect()
}

impl Victim {
    fn start(sim: &Sim, script: &[Step]) -> Victim {
        let mut cmd = sim.cli_command();
        cmd.arg("interactive")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start cloudhsm-cli interactive");
        let chunks = pump(child.stdout.take().unwrap());
        let stderr = pump(child.stderr.take().unwrap());
        let mut stdin = child.stdin.take().unwrap();
        // The whole script fits in the pipe; stdin stays open, so the session waits for more
        // input when it is done rather than exiting.
        let text: String = script.iter().map(|s| format!("{}\n", s.line)).collect();
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
        Victim {
            child,
            _stdin: stdin,
            chunks,
            stderr,
            stdout: Vec::new(),
        }
    }

    /// Waits until `n` responses are complete on stdout.
    fn wait_for(&mut self, n: usize) {
        let deadline = Instant::now() + PROCESS_TIMEOUT;
        while complete_prefix(&self.stdout).len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(c) => self.stdout.extend_from_slice(&c),
                Err(e) => panic!(
                    "waiting for {n} responses ({e:?}); stdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&self.stdout),
                    drain(&self.stderr)
                ),
            }
        }
    }

    /// SIGKILL, reap, and collect everything the process wrote before it died.
    fn kill9(mut self) -> (Vec<u8>, String) {
        let _ = self.child.kill(); // SIGKILL on Unix
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(c) => self.stdout.extend_from_slice(&c),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stdout of a killed process stays open"),
            }
        }
        let err = drain(&self.stderr);
        (self.stdout, err)
    }
}

fn drain(rx: &Receiver<Vec<u8>>) -> String {
    let mut all = Vec::new();
    while let Ok(c) = rx.recv_timeout(Duration::from_millis(200)) {
        all.extend_from_slice(&c);
    }
    String::from_utf8_lossy(&all).into_owned()
}

fn assert_no_sqlite_text(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for bad in [
        "sqlite",
        "database is locked",
        "database disk image",
        "panicked",
    ] {
        assert!(!lower.contains(bad), "{what} contains {bad:?}:\n{text}");
    }
}

fn integrity(sim: &Sim, round: usize) {
    let conn = rusqlite::Connection::open(sim.db_path()).expect("open the cluster database");
    let check: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        check,
        vec!["ok".to_string()],
        "round {round}: integrity_check"
    );
    let fk: usize = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |_| Ok(()))
        .unwrap()
        .count();
    assert_eq!(fk, 0, "round {round}: foreign_key_check found orphan rows");
    conn.close().map_err(|(_, e)| e).unwrap();
}

/// The keys `OWNER` sees, by label.
fn owner_keys(sim: &Sim) -> BTreeMap<String, Vec<Value>> {
    let pin = format!("{OWNER}:{OWNER_PW}");
    let run = sim.cli_env(
        &["key", "list", "--verbose", "--max-items", "100000"],
        &[("CLOUDHSM_ROLE", "crypto-user"), ("CLOUDHSM_PIN", &pin)],
    );
    assert_eq!(
        run.code,
        0,
        "key list after a crash: {}\n{}",
        run.stdout_text(),
        run.stderr
    );
    assert_no_sqlite_text("key list stderr", &run.stderr);
    let v = run.one();
    let data = ok_data(&v);
    assert!(data["next_token"].is_null(), "key list was cut: {data:#}");
    let mut by_label: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for k in data["matched_keys"].as_array().unwrap() {
        let label = k["attributes"]["label"].as_str().unwrap().to_string();
        by_label.entry(label).or_default().push(k.clone());
    }
    by_label
}

fn verify(sim: &Sim, model: &Model, round: usize) {
    integrity(sim, round);
    let run = sim.cli(&["user", "list"]);
    assert_eq!(run.code, 0, "round {round}: user list: {}", run.stderr);
    assert_no_sqlite_text("user list stderr", &run.stderr);
    let users: BTreeSet<String> = users_of(&run.one()).into_iter().map(|u| u.0).collect();
    for u in &model.users {
        assert!(
            users.contains(u),
            "round {round}: acknowledged user {u} is lost"
        );
    }
    for u in &model.no_users {
        assert!(
            !users.contains(u),
            "round {round}: user {u} exists though its command never ran"
        );
    }

    let keys = owner_keys(sim);
    for (label, ks) in &keys {
        assert_eq!(
            ks.len(),
            1,
            "round {round}: label {label} is on {} keys",
            ks.len()
        );
    }
    for l in &model.labels {
        assert!(
            keys.contains_key(l),
            "round {round}: acknowledged key {l} is lost"
        );
    }
    for l in &model.no_labels {
        assert!(
            !keys.contains_key(l),
            "round {round}: key {l} exists though its command never ran or was undone"
        );
    }
    for (a, b) in &model.one_of {
        assert!(
            keys.contains_key(a) ^ keys.contains_key(b),
            "round {round}: an interrupted relabel left {a}: {}, {b}: {}",
            keys.contains_key(a),
            keys.contains_key(b)
        );
    }
    for (a, b) in &model.both_or_neither {
        assert_eq!(
            keys.contains_key(a),
            keys.contains_key(b),
            "round {round}: an interrupted pair generation left half a pair ({a}, {b})"
        );
    }
    for l in &model.shares {
        let shared = &keys[l][0]["key-info"]["shared-users"];
        let names: Vec<&str> = shared
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u["username"].as_str())
            .collect();
        assert_eq!(
            names,
            vec![SHAREE],
            "round {round}: acknowledged share of {l} is lost"
        );
    }
    for (l, name, value) in &model.attrs {
        assert_eq!(
            keys[l][0]["attributes"][*name],
            Value::Bool(*value),
            "round {round}: acknowledged set-attribute {name}={value} on {l} is lost"
        );
    }
}

/// Counts the failures it takes to lock `victim` now (the 6th failure locks).
fn failures_to_lock(sim: &Sim, victim: &str) -> usize {
    let line = format!("login --username {victim} --role crypto-user --password {WRONG_PW}\n");
    let run = sim.piped(&line.repeat(7));
    assert_eq!(run.code, 0, "probe session: {}", run.stderr);
    assert_no_sqlite_text("probe stderr", &run.stderr);
    let values = run.json();
    assert_eq!(values.len(), 7);
    let bad = values
        .iter()
        .take_while(|v| err_text(v) == BAD_CREDENTIALS)
        .count();
    for v in &values[bad..] {
        assert!(
            err_text(v).contains("is locked"),
            "expected the lock after {bad} failures: {v:#}"
        );
    }
    bad
}

#[test]
fn kill_9_at_random_moments_loses_no_acknowledged_change() {
    let seed = seed();
    println!("crash test seed: {seed} (CLOUDHSM_CRASH_SEED={seed} replays it)");
    let mut rng = XorShift::new(seed);
    let sim = Sim::activated(ADMIN_PW);
    let setup = sim.piped(&format!(
        "login --username admin --role admin --password {ADMIN_PW}\n\
         user create --username {OWNER} --role crypto-user --password {OWNER_PW}\n\
         user create --username {SHAREE} --role crypto-user --password {SHAREE_PW}\n"
    ));
    for v in setup.json() {
        ok_data(&v);
    }

    let mut model = Model::default();
    let mut kills_mid_command = 0;
    let mut acknowledged = 0;
    for round in 0..ROUNDS {
        let steps = script(round);
        let wait = rng.below(steps.len() as u64 + 1) as usize;
        let delay = Duration::from_micros(rng.below(8000));
        let mut victim = Victim::start(&sim, &steps);
        victim.wait_for(wait);
        thread::sleep(delay);
        let (stdout, stderr) = victim.kill9();
        assert_no_sqlite_text("the killed session's stderr", &stderr);
        assert_no_sqlite_text(
            "the killed session's stdout",
            &String::from_utf8_lossy(&stdout),
        );
        let responses = complete_prefix(&stdout);
        assert!(responses.len() >= wait && responses.len() <= steps.len());
        if responses.len() < steps.len() {
            kills_mid_command += 1;
        }
        acknowledged += responses.len();
        println!(
            "round {round}: waited for {wait}, slept {delay:?}, killed after {} of {} responses",
            responses.len(),
            steps.len()
        );
        account(&mut model, &steps, &responses, round);
        verify(&sim, &model, round);
        // The round's victim: its failure counter is exact.
        for (v, printed, maybe) in std::mem::take(&mut model.victims) {
            let exists = sim.users().iter().any(|(u, _, _)| *u == v);
            if !exists {
                assert_eq!(printed, 0, "failures of {v} were printed but {v} is gone");
                continue;
            }
            let n = failures_to_lock(&sim, &v);
            let low = 6usize.saturating_sub(printed + usize::from(maybe));
            let high = 6usize.saturating_sub(printed);
            assert!(
                (low..=high).contains(&n),
                "round {round}: {v} had {printed} failures printed (one more in flight: \
                 {maybe}) but locked after {n} more"
            );
        }
    }
    println!(
        "{ROUNDS} kills, {kills_mid_command} before the end of the script, \
         {acknowledged} acknowledged responses checked; {} users, {} keys in the model",
        model.users.len(),
        model.labels.len()
    );
    assert!(
        kills_mid_command >= ROUNDS / 3,
        "the kills should mostly land inside the script (seed {seed})"
    );
}

#[test]
fn the_generator_is_reproducible() {
    let mut a = XorShift::new(42);
    let mut b = XorShift::new(42);
    let xs: Vec<u64> = (0..5).map(|_| a.next()).collect();
    let ys: Vec<u64> = (0..5).map(|_| b.next()).collect();
    assert_eq!(xs, ys);
    assert!(xs.windows(2).all(|w| w[0] != w[1]));
}
