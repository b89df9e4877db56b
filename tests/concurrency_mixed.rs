//! Mixed writers on one cluster: 8 piped `cloudhsm-cli interactive` processes, each running
//! 30 mutating commands at the same time as the others:
//!
//! - two admin sessions create 30 crypto users each;
//! - four crypto-user sessions each generate 10 AES keys, share each with one user and set an
//!   attribute on each;
//! - two sessions make 30 failed crypto-user logins each, spread over 15 victims so that some
//!   reach the lockout exactly, some stop one short of it and some are far from it.
//!
//! Afterwards every acknowledged change is present, the counters are exact (users, keys per
//! owner and per sharee, the failures each victim still needs to be locked), and no output of
//! any process carries SQLite's words (`database is locked`, `SQLITE_BUSY`, ...). The test
//! prints the transactions per second and the slowest command; it asserts nothing about time.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const ADMIN_PW: &str = "admin-pw-1";
const SHAREE: &str = "sharee";
const WRONG_PW: &str = "wrong-pw-99";
const BAD_CREDENTIALS: &str =
    "Incorrect credentials are passed for this operation: Incorrect authentication credentials.";
const PER_PROCESS: usize = 30;
const CRYPTO_USERS: [&str; 4] = ["c2", "c3", "c4", "c5"];
const VICTIMS: usize = 15;

fn victim(i: usize) -> String {
    format!("v{i:02}")
}

/// How many failed logins the two failing processes make against victim `i` in total.
fn planned_failures(i: usize) -> usize {
    match i {
        0..=4 => 6, // 3 + 3: locked by the last one
        5..=9 => 5, // 3 + 2: one short
        _ => 1,     // 0 + 1
    }
}

/// The failing processes' logins: process 0 makes 3 on each of v00..v09, process 1 makes 3
/// on v00..v04, 2 on v05..v09 and 1 on v10..v14 (30 each), interleaved differently.
fn failure_script(which: usize) -> Vec<String> {
    let mut targets = Vec::new();
    if which == 0 {
        for _ in 0..3 {
            targets.extend(0..10);
        }
    } else {
        for i in (0..VICTIMS).rev() {
            let n = planned_failures(i) - if i < 10 { 3 } else { 0 };
            targets.extend(std::iter::repeat_n(i, n));
        }
    }
    assert_eq!(targets.len(), PER_PROCESS);
    targets
        .into_iter()
        .map(|i| {
            format!(
                "login --username {} --role crypto-user --password {WRONG_PW}",
                victim(i)
            )
        })
        .collect()
}

enum Kind {
    Admin(usize),
    Crypto(&'static str),
    Failing(usize),
}

fn lines_of(kind: &Kind) -> Vec<String> {
    match kind {
        Kind::Admin(p) => {
            let mut l = vec![format!(
                "login --username admin --role admin --password {ADMIN_PW}"
            )];
            for i in 0..PER_PROCESS {
                l.push(format!(
                    "user create --username m{p}_u{i:02} --role crypto-user --password pw-m{p}-u{i:02}"
                ));
            }
            l.push("logout".into());
            l
        }
        Kind::Crypto(user) => {
            let mut l = vec![format!(
                "login --username {user} --role crypto-user --password pw-of-{user}"
            )];
            for i in 0..PER_PROCESS / 3 {
                let label = format!("{user}-k{i:02}");
                l.push(format!(
                    "key generate-symmetric aes --label {label} --key-length-bytes 32"
                ));
                l.push(format!(
                    "key share --filter attr.label={label} --username {SHAREE} --role crypto-user"
                ));
                l.push(format!(
                    "key set-attribute --filter attr.label={label} --name encrypt --value true"
                ));
            }
            l.push("logout".into());
            l
        }
        Kind::Failing(w) => failure_script(*w),
    }
}

/// One finished process: its output chunks with their arrival times.
struct Timed {
    lines: Vec<String>,
    chunks: Vec<(Instant, Vec<u8>)>,
    stderr: String,
    code: i32,
}

impl Timed {
    fn stdout(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|(_, c)| c.clone()).collect()
    }

    /// When each response was complete on stdout.
    fn response_times(&self) -> Vec<Instant> {
        let mut bytes = Vec::new();
        let mut times = Vec::new();
        for (t, c) in &self.chunks {
            bytes.extend_from_slice(c);
            let n = serde_json::Deserializer::from_slice(&bytes)
                .into_iter::<Value>()
                .map_while(Result::ok)
                .count();
            while times.len() < n {
                times.push(*t);
            }
        }
        times
    }
}

fn assert_no_store_text(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for bad in [
        "database is locked",
        "sqlite",
        "busy",
        "state database error",
        "disk i/o",
        "panicked",
    ] {
        assert!(!lower.contains(bad), "{what} contains {bad:?}:\n{text}");
    }
}

#[test]
fn eight_mixed_writers_lose_nothing_and_count_exactly() {
    let sim = Sim::activated(ADMIN_PW);
    let mut setup = format!("login --username admin --role admin --password {ADMIN_PW}\n");
    for u in CRYPTO_USERS.iter().copied().chain([SHAREE]) {
        setup.push_str(&format!(
            "user create --username {u} --role crypto-user --password pw-of-{u}\n"
        ));
    }
    for i in 0..VICTIMS {
        setup.push_str(&format!(
            "user create --username {} --role crypto-user --password pw-of-victim\n",
            victim(i)
        ));
    }
    let run = sim.piped(&setup);
    for v in run.json() {
        ok_data(&v);
    }
    let users_before = sim.users().len();

    let kinds = [
        Kind::Admin(0),
        Kind::Crypto(CRYPTO_USERS[0]),
        Kind::Failing(0),
        Kind::Crypto(CRYPTO_USERS[1]),
        Kind::Admin(1),
        Kind::Crypto(CRYPTO_USERS[2]),
        Kind::Failing(1),
        Kind::Crypto(CRYPTO_USERS[3]),
    ];
    // Start all eight, then release them together by writing their scripts.
    let mut children: Vec<_> = kinds
        .iter()
        .map(|_| {
            let mut cmd = sim.cli_command();
            cmd.arg("interactive")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().expect("start cloudhsm-cli interactive")
        })
        .collect();
    let scripts: Vec<Vec<String>> = kinds.iter().map(lines_of).collect();
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    for (p, (child, lines)) in children.iter_mut().zip(&scripts).enumerate() {
        let mut out = child.stdout.take().unwrap();
        let tx = tx.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match out.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let _ = tx.send((p, Some((Instant::now(), buf[..n].to_vec()))));
                    }
                }
            }
            let _ = tx.send((p, None));
        });
        let mut stdin = child.stdin.take().unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        stdin.write_all(text.as_bytes()).unwrap();
        // Dropping stdin ends the input: each session exits after its last line.
    }
    drop(tx);
    let deadline = start + Duration::from_secs(60);
    let mut chunks: Vec<Vec<(Instant, Vec<u8>)>> = vec![Vec::new(); kinds.len()];
    let mut open = kinds.len();
    while open > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((p, Some(c))) => chunks[p].push(c),
            Ok((_, None)) => open -= 1,
            Err(e) => {
                for c in &mut children {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                panic!("the writers did not finish in 60 s ({e:?})");
            }
        }
    }
    let mut runs = Vec::new();
    for ((child, lines), chunks) in children.into_iter().zip(scripts).zip(chunks) {
        let out = child.wait_with_output().expect("wait for a writer");
        runs.push(Timed {
            lines,
            chunks,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: exit_code(out.status),
        });
    }
    let elapsed = start.elapsed();

    // Every response is the expected one, and nothing on any stream speaks SQLite.
    let mut acknowledged = 0usize;
    let mut slowest = (Duration::ZERO, String::new());
    for (p, (kind, run)) in kinds.iter().zip(&runs).enumerate() {
        let stdout = run.stdout();
        assert_eq!(run.code, 0, "writer {p} exit code; stderr: {}", run.stderr);
        assert!(run.stderr.is_empty(), "writer {p} stderr: {}", run.stderr);
        assert_no_store_text(
            &format!("writer {p} stdout"),
            &String::from_utf8_lossy(&stdout),
        );
        let values = json_stream(&stdout).unwrap();
        assert_eq!(
            values.len(),
            run.lines.len(),
            "writer {p}: one response per line"
        );
        for (line, v) in run.lines.iter().zip(&values) {
            match kind {
                Kind::Failing(_) => assert_eq!(err_text(v), BAD_CREDENTIALS, "writer {p}: {line}"),
                _ => assert_eq!(v["error_code"], 0, "writer {p}: `{line}` failed: {v:#}"),
            }
        }
        acknowledged += PER_PROCESS;
        let times = run.response_times();
        let mut prev = start;
        for (t, line) in times.iter().zip(&run.lines) {
            let took = t.saturating_duration_since(prev);
            if took > slowest.0 {
                slowest = (took, format!("writer {p}: {line}"));
            }
            prev = *t;
        }
    }
    println!(
        "{acknowledged} mutating commands (plus logins and logouts) by {} processes in {:.2} s: \
         {:.1} transactions/s; slowest command {:.1} ms ({})",
        kinds.len(),
        elapsed.as_secs_f64(),
        acknowledged as f64 / elapsed.as_secs_f64(),
        slowest.0.as_secs_f64() * 1000.0,
        slowest.1
    );

    // Users: every acknowledged creation, exactly once.
    let users = sim.users();
    assert_eq!(users.len(), users_before + 2 * PER_PROCESS, "user count");
    for p in 0..2 {
        for i in 0..PER_PROCESS {
            let name = format!("m{p}_u{i:02}");
            let n = users.iter().filter(|(u, _, _)| *u == name).count();
            assert_eq!(n, 1, "{name} appears {n} times");
        }
    }

    // Keys: each owner sees its 10 keys, shared and with encrypt set; the sharee sees all 40.
    let list = |user: &str| {
        let pin = format!("{user}:pw-of-{user}");
        let run = sim.cli_env(
            &["key", "list", "--verbose", "--max-items", "1000"],
            &[("CLOUDHSM_ROLE", "crypto-user"), ("CLOUDHSM_PIN", &pin)],
        );
        assert_eq!(run.code, 0, "key list as {user}: {}", run.stderr);
        assert_no_store_text("key list", &run.stderr);
        ok_data(&run.one()).clone()
    };
    for user in CRYPTO_USERS {
        let data = list(user);
        assert_eq!(data["total_key_count"], PER_PROCESS / 3, "keys of {user}");
        for k in data["matched_keys"].as_array().unwrap() {
            assert_eq!(k["key-info"]["key-owners"][0]["username"], user);
            assert_eq!(k["key-info"]["shared-users"][0]["username"], SHAREE);
            assert_eq!(k["key-info"]["shared-users"].as_array().unwrap().len(), 1);
            assert_eq!(k["attributes"]["encrypt"], true, "{k:#}");
        }
    }
    let data = list(SHAREE);
    assert_eq!(
        data["total_key_count"],
        CRYPTO_USERS.len() * PER_PROCESS / 3,
        "keys shared with {SHAREE}"
    );

    // Failed logins: each victim needs exactly 6 - (its failures) more to be locked.
    let mut probe = String::new();
    for i in 0..VICTIMS {
        for _ in 0..7 {
            probe.push_str(&format!(
                "login --username {} --role crypto-user --password {WRONG_PW}\n",
                victim(i)
            ));
        }
    }
    let run = sim.piped(&probe);
    assert_no_store_text("probe", &run.stderr);
    let values = run.json();
    assert_eq!(values.len(), 7 * VICTIMS);
    for (i, answers) in values.chunks(7).enumerate() {
        let bad = answers
            .iter()
            .take_while(|v| err_text(v) == BAD_CREDENTIALS)
            .count();
        assert_eq!(
            bad,
            6 - planned_failures(i),
            "{} had {} concurrent failures; failures still needed to lock it",
            victim(i),
            planned_failures(i)
        );
        for v in &answers[bad..] {
            assert!(err_text(v).contains("is locked"), "{v:#}");
        }
    }
}
