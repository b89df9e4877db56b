//! Faults (issue 16, item 3): a process using the module killed with SIGKILL in the middle of
//! `C_GenerateKeyPair` (RSA 4096), `C_DestroyObject` and `C_Login` (argon2id at its real
//! cost). Afterwards the cluster's database passes `integrity_check`, every key is whole or
//! absent (a pair is both halves or neither), nothing the dead process was told is lost,
//! and its login record is pruned: `user delete` no longer refuses its user as logged in.
//!
//! The child is this test binary re-running the ignored `fault_child`; it says on stdout
//! when it starts and ends each call, so the parent knows which kills came inside one.
//! `CLOUDHSM_PKCS11_KILLS=<n>` runs n rounds of each kind (default 4), and
//! `CLOUDHSM_PKCS11_KILL_SEED=<n>` replays the kill delays a run printed.

// The tests print what they measured (docs/reliability.md takes its figures from them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudhsm_sim::hsm::key::KeyClass;
use cloudhsm_sim::hsm::{ClusterConfig, Entropy, Kdf, Role, SessionId};
use common::{session, text, user, Fixture, ADMIN_PW, CU1_PW, PIN1};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;

/// Says `line` on stdout at once (the parent reads it while the child runs).
fn say(line: &str) {
    let mut out = std::io::stdout();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

/// The child: `$P11_FAULT` is `pair`, `destroy` or `login`; `$P11_CHILD_PIN` logs in,
/// `$P11_ROUND` names its keys. It loops until killed.
#[test]
#[ignore = "a child process that the fault tests kill"]
fn fault_child() {
    let fault = std::env::var("P11_FAULT").expect("run only by the fault tests");
    let pin = std::env::var("P11_CHILD_PIN").unwrap();
    let round = std::env::var("P11_ROUND").unwrap();
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let s = session(&pkcs11, &pin);
    // A session key: the login row counts it until the process is gone.
    s.generate_key(
        &Mechanism::AesKeyGen,
        &[Attribute::ValueLen(32.into()), Attribute::Sign(true)],
    )
    .unwrap();
    match fault.as_str() {
        "pair" => {
            say("ready");
            for i in 0.. {
                say(&format!("start {i}"));
                s.generate_key_pair(
                    &Mechanism::RsaPkcsKeyPairGen,
                    &[
                        Attribute::Token(true),
                        Attribute::ModulusBits(4096.into()),
                        Attribute::Label(format!("r{round}-{i}-pub").into()),
                        Attribute::Verify(true),
                    ],
                    &[
                        Attribute::Token(true),
                        Attribute::Label(format!("r{round}-{i}").into()),
                        Attribute::Sign(true),
                    ],
                )
                .unwrap();
                say(&format!("done {i}"));
            }
        }
        "destroy" => {
            let mut keys = Vec::new();
            for i in 0..40 {
                let key = s
                    .generate_key(
                        &Mechanism::AesKeyGen,
                        &[
                            Attribute::Token(true),
                            Attribute::ValueLen(32.into()),
                            Attribute::Label(format!("r{round}-{i}").into()),
                        ],
                    )
                    .unwrap();
                keys.push(key);
            }
            say("ready");
            for (i, key) in keys.into_iter().enumerate() {
                say(&format!("start {i}"));
                s.destroy_object(key).unwrap();
                say(&format!("done {i}"));
            }
            say("all destroyed");
            std::thread::sleep(Duration::from_secs(60));
        }
        "login" => {
            s.logout().unwrap();
            say("ready");
            for i in 0.. {
                say(&format!("start {i}"));
                s.login(UserType::User, Some(&AuthPin::new(pin.clone().into())))
                    .unwrap();
                say(&format!("done {i}"));
                s.logout().unwrap();
            }
        }
        other => panic!("unknown fault {other}"),
    }
}

/// A small deterministic generator for the kill delays.
struct Delays(u64);

impl Delays {
    fn new() -> Delays {
        let seed = std::env::var("CLOUDHSM_PKCS11_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("kill delays: CLOUDHSM_PKCS11_KILL_SEED={seed}");
        Delays(seed | 1)
    }

    fn below(&mut self, max_ms: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(self.0 % max_ms)
    }
}

fn rounds() -> usize {
    std::env::var("CLOUDHSM_PKCS11_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4)
}

/// A running child and the lines it said.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

fn spawn(fixture: &Fixture, fault: &str, pin: &str, round: usize) -> Running {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fault_child", "--ignored", "--nocapture"])
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .env("P11_FAULT", fault)
        .env("P11_CHILD_PIN", pin)
        .env("P11_ROUND", round.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let (ready, ready_rx) = std::sync::mpsc::channel();
    let kept = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line == "ready" {
                let _ = ready.send(());
            }
            kept.lock().unwrap().push(line);
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the child never got ready");
    Running { child, lines }
}

impl Running {
    /// Kills the child: the calls it finished (`done i`) and whether one was running.
    fn kill(mut self) -> (Vec<usize>, Option<usize>) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let lines = self.lines.lock().unwrap().clone();
        let number = |prefix: &str| -> Vec<usize> {
            lines
                .iter()
                .filter_map(|l| l.strip_prefix(prefix)?.parse().ok())
                .collect()
        };
        let (started, done) = (number("start "), number("done "));
        let inside = started.last().copied().filter(|i| !done.contains(i));
        (done, inside)
    }
}

/// The labels of the token keys of the cluster (through its API, as an admin sees them),
/// by label: (private or secret, public) counts.
fn keys_by_label(fixture: &Fixture) -> HashMap<String, (usize, usize)> {
    let mut cluster = fixture.cluster();
    let admin = fixture.login(&mut cluster, "admin", Role::Admin, ADMIN_PW);
    let keys = cluster.list_keys(&admin, &[]).unwrap();
    cluster.logout(admin).unwrap();
    let mut by_label: HashMap<String, (usize, usize)> = HashMap::new();
    for key in keys {
        let label = key.attrs.label.trim_end_matches("-pub").to_string();
        let entry = by_label.entry(label).or_default();
        match key.class {
            KeyClass::PublicKey => entry.1 += 1,
            _ => entry.0 += 1,
        }
    }
    by_label
}

/// `user delete` of `name` by the admin through the CLI: its answer.
fn user_delete(fixture: &Fixture, name: &str) -> String {
    let script = format!(
        "login --username admin --role admin --password {ADMIN_PW}\n\
         user delete --username {name} --role crypto-user\n"
    );
    text(&fixture.cli_script(&script)).0
}

/// After a kill: the database is whole, and `user delete` does not refuse `name` as logged
/// in. A `user delete` that succeeds prunes the dead process's login record (a refused one,
/// here `name` owning keys, rolls its pruning back with it): for such a `name` a throwaway
/// user is deleted instead.
fn assert_recovered(fixture: &Fixture, pid: u32, name: &str, deletable: bool) {
    fixture.assert_consistent();
    let answer = user_delete(fixture, name);
    assert!(!answer.contains("currently logged in"), "{answer}");
    if deletable {
        assert!(!answer.contains("\"error_code\": 1"), "{answer}");
    } else {
        assert!(answer.contains("the user owns keys"), "{answer}");
        let throwaway = format!("gone{pid}");
        create_user(fixture, &throwaway);
        let answer = user_delete(fixture, &throwaway);
        assert!(!answer.contains("\"error_code\": 1"), "{answer}");
    }
    assert_eq!(fixture.login_records_of(pid), 0, "the dead process's login");
}

/// A key pair cu1 keeps throughout (so `user delete cu1` is always refused for its keys,
/// never carried out).
fn anchor(fixture: &Fixture) {
    common::cli_ok(
        fixture,
        "cu1",
        CU1_PW,
        &[
            "key",
            "generate-asymmetric-pair",
            "ec",
            "--curve",
            "prime256v1",
            "--public-label",
            "anchor-pub",
            "--private-label",
            "anchor",
        ],
    );
}

/// Creates crypto user `name` (password CU1_PW) with the cluster's API.
fn create_user(fixture: &Fixture, name: &str) {
    let mut cluster = fixture.cluster();
    let admin = fixture.login(&mut cluster, "admin", Role::Admin, ADMIN_PW);
    cluster
        .create_user(
            &admin,
            &user(name),
            Role::CryptoUser,
            CU1_PW,
            None,
            &mut Entropy::new(None),
        )
        .unwrap();
    cluster.logout(admin).unwrap();
}

#[test]
fn kill_9_during_generate_key_pair_leaves_whole_pairs_or_none() {
    let fixture = Fixture::new();
    anchor(&fixture);
    let _watchdog = common::watchdog(Duration::from_secs(900), "kill during C_GenerateKeyPair");
    let mut delays = Delays::new();
    let (mut inside, mut acknowledged) = (0, 0);
    for round in 0..rounds() {
        let running = spawn(&fixture, "pair", PIN1, round);
        let pid = running.child.id();
        std::thread::sleep(delays.below(2500));
        let (done, in_flight) = running.kill();
        inside += usize::from(in_flight.is_some());
        acknowledged += done.len();
        let keys = keys_by_label(&fixture);
        for i in &done {
            assert_eq!(
                keys.get(&format!("r{round}-{i}")),
                Some(&(1, 1)),
                "pair {round}-{i}"
            );
        }
        if let Some(i) = in_flight {
            let pair = keys
                .get(&format!("r{round}-{i}"))
                .copied()
                .unwrap_or_default();
            assert!(
                pair == (1, 1) || pair == (0, 0),
                "pair {round}-{i} is {pair:?}"
            );
        }
        for (label, pair) in &keys {
            assert!(*pair == (1, 1), "{label}: {pair:?}");
        }
        assert_recovered(&fixture, pid, "cu1", false);
    }
    eprintln!(
        "C_GenerateKeyPair RSA-4096: {} kills, {inside} inside the call, {acknowledged} pairs acknowledged, all whole",
        rounds()
    );
}

#[test]
fn kill_9_during_destroy_object_leaves_each_key_whole_or_gone() {
    let fixture = Fixture::new();
    anchor(&fixture);
    let _watchdog = common::watchdog(Duration::from_secs(900), "kill during C_DestroyObject");
    let mut delays = Delays::new();
    let (mut inside, mut destroyed) = (0, 0);
    for round in 0..rounds() {
        let running = spawn(&fixture, "destroy", PIN1, round);
        let pid = running.child.id();
        std::thread::sleep(delays.below(60));
        let (done, in_flight) = running.kill();
        inside += usize::from(in_flight.is_some());
        destroyed += done.len();
        let keys = keys_by_label(&fixture);
        for i in 0..40 {
            let found = keys
                .get(&format!("r{round}-{i}"))
                .copied()
                .unwrap_or_default();
            if done.contains(&i) {
                assert_eq!(found, (0, 0), "key {round}-{i} was destroyed");
            } else if in_flight != Some(i) {
                assert_eq!(found, (1, 0), "key {round}-{i} was not destroyed");
            } else {
                assert!(found == (1, 0) || found == (0, 0), "{round}-{i}: {found:?}");
            }
        }
        assert_recovered(&fixture, pid, "cu1", false);
    }
    eprintln!(
        "C_DestroyObject: {} kills, {inside} inside the call, {destroyed} destroys acknowledged and gone",
        rounds()
    );
}

#[test]
fn kill_9_during_login_leaves_no_login_behind() {
    let fixture = Fixture::with_kdf(ClusterConfig::default(), Kdf::Default);
    let _watchdog = common::watchdog(Duration::from_secs(900), "kill during C_Login");
    let mut delays = Delays::new();
    let mut inside = 0;
    for round in 0..rounds() {
        let name = format!("k{round}");
        create_user(&fixture, &name);
        let running = spawn(&fixture, "login", &format!("{name}:{CU1_PW}"), round);
        let pid = running.child.id();
        std::thread::sleep(delays.below(300));
        let (_, in_flight) = running.kill();
        inside += usize::from(in_flight.is_some());
        assert_recovered(&fixture, pid, &name, true);
    }
    // The cluster still logs users in.
    let mut cluster = fixture.cluster();
    let login = cluster
        .login(&user("cu1"), Role::CryptoUser, CU1_PW, &SessionId::new())
        .unwrap();
    cluster.logout(login).unwrap();
    assert!(
        fixture
            .sql("SELECT count(*) FROM users")
            .parse::<usize>()
            .unwrap()
            >= 3
    );
    eprintln!(
        "C_Login (argon2id): {} kills, {inside} inside the call",
        rounds()
    );
}
