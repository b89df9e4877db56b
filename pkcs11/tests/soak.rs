//! Load (issue 16, item 2): 16 threads on the module in this process (sessions opened and
//! closed, token and session keys made, signing, finding, destroying) while 4 other
//! processes work on the same cluster: two run `cloudhsm-cli` single commands (key
//! generate, list, sign, delete as cu1 and cu2) and two run the module (this binary's
//! ignored `soak_child`, as cu1 and cu2).
//!
//! Promised: no return code but the documented contention codes
//! (`CKR_OBJECT_HANDLE_INVALID`, `CKR_KEY_HANDLE_INVALID`: another thread destroyed a
//! session key between finding and using it), every CLI command succeeds, no deadlock (a
//! watchdog aborts the run), nothing acknowledged and then lost (every token key a
//! `C_GenerateKey`/`C_GenerateKeyPair` or the CLI returned and nobody destroyed is in `key
//! list` afterwards; every destroyed one is gone), `PRAGMA integrity_check` ok.
//!
//! `cargo test` runs a short variant (seconds); `CLOUDHSM_PKCS11_SOAK=1` multiplies every
//! worker's iterations by 25 (`=<n>`: by n).

// The tests print what they measured (docs/reliability.md takes its figures from them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cloudhsm_sim::hsm::Role;
use common::{cli_ok, session, slot, Fixture, ADMIN_PW, CU1_PW, CU2_PW, PIN1, PIN2};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};

const THREADS: usize = 16;
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The iterations of each worker are multiplied by this.
fn scale() -> usize {
    match std::env::var("CLOUDHSM_PKCS11_SOAK").ok().as_deref() {
        None | Some("" | "0") => 1,
        Some("1") => 25,
        Some(n) => n.parse().unwrap_or(25),
    }
}

/// What the workers acknowledged: token keys (by label) kept and destroyed, and anything
/// that went wrong.
#[derive(Default)]
struct Ledger {
    kept: BTreeSet<String>,
    destroyed: BTreeSet<String>,
    unexpected: Vec<String>,
    calls: usize,
    contention: usize,
}

/// One iteration of a module worker (thread or child process) `who`, numbered `i`: a
/// session opened; a token AES key and a session EC pair made; signatures with both; a
/// find; a session key of another session destroyed if one is found; the token key
/// destroyed every third time; the session closed.
fn module_iteration(pkcs11: &Pkcs11, who: &str, i: usize, ledger: &Mutex<Ledger>) {
    let slot = slot(pkcs11);
    let note = |what: &str, e: cryptoki::error::Error| {
        let rv = common::rv_of(e);
        let mut l = ledger.lock().unwrap();
        if matches!(rv, RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid) {
            l.contention += 1;
        } else {
            l.unexpected.push(format!("{who}/{i} {what}: {rv:?}"));
        }
    };
    let s = pkcs11.open_rw_session(slot).unwrap();
    let label = format!("{who}-{i}");
    let mut calls = 1;
    let token = s.generate_key(
        &Mechanism::AesKeyGen,
        &[
            Attribute::Token(true),
            Attribute::ValueLen(32.into()),
            Attribute::Label(label.clone().into()),
            Attribute::Sign(true),
        ],
    );
    let token = match token {
        Ok(key) => key,
        Err(e) => return note("C_GenerateKey", e),
    };
    ledger.lock().unwrap().kept.insert(label.clone());
    let pair = s.generate_key_pair(
        &Mechanism::EccKeyPairGen,
        &[Attribute::EcParams(P256.to_vec()), Attribute::Verify(true)],
        &[
            Attribute::Sign(true),
            Attribute::Label(format!("s-{label}").into()),
        ],
    );
    calls += 1;
    let mine = match pair {
        Ok((public, private)) => {
            calls += 2;
            match s.sign(&Mechanism::EcdsaSha256, private, label.as_bytes()) {
                Ok(sig) => {
                    if let Err(e) =
                        s.verify(&Mechanism::EcdsaSha256, public, label.as_bytes(), &sig)
                    {
                        note("C_Verify", e);
                    }
                }
                Err(e) => note("C_Sign", e),
            }
            Some(private)
        }
        Err(e) => {
            note("C_GenerateKeyPair", e);
            None
        }
    };
    calls += 1;
    if let Err(e) = s.sign(&Mechanism::Sha256Hmac, token, label.as_bytes()) {
        note("C_Sign (HMAC)", e);
    }
    calls += 1;
    match s.find_objects(&[
        Attribute::Token(false),
        Attribute::Class(ObjectClass::PRIVATE_KEY),
    ]) {
        Ok(found) => {
            if let Some(other) = found.iter().find(|h| Some(**h) != mine) {
                calls += 1;
                if let Err(e) = s.destroy_object(*other) {
                    note("C_DestroyObject (another's session key)", e);
                }
            }
        }
        Err(e) => note("C_FindObjects", e),
    }
    if i % 3 == 2 {
        calls += 1;
        match s.destroy_object(token) {
            Ok(()) => {
                let mut l = ledger.lock().unwrap();
                l.kept.remove(&label);
                l.destroyed.insert(label);
            }
            Err(e) => note("C_DestroyObject", e),
        }
    }
    calls += 1;
    s.close().unwrap();
    ledger.lock().unwrap().calls += calls;
}

/// The module child: `$P11_SOAK_WHO` names its keys, `$P11_CHILD_PIN` logs it in; runs
/// `$P11_SOAK_ITERATIONS` iterations and reports its ledger on stdout.
#[test]
#[ignore = "a child process that the soak runs"]
fn soak_child() {
    let who = std::env::var("P11_SOAK_WHO").expect("run only by the soak");
    let pin = std::env::var("P11_CHILD_PIN").unwrap();
    let n: usize = std::env::var("P11_SOAK_ITERATIONS")
        .unwrap()
        .parse()
        .unwrap();
    let pkcs11 = Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    let main = session(&pkcs11, &pin);
    let ledger = Mutex::new(Ledger::default());
    for i in 0..n {
        module_iteration(&pkcs11, &who, i, &ledger);
    }
    drop(main);
    pkcs11.finalize().unwrap();
    let l = ledger.into_inner().unwrap();
    let mut out = std::io::stdout().lock();
    for k in &l.kept {
        writeln!(out, "kept {k}").unwrap();
    }
    for k in &l.destroyed {
        writeln!(out, "destroyed {k}").unwrap();
    }
    for u in &l.unexpected {
        writeln!(out, "unexpected {u}").unwrap();
    }
    writeln!(out, "calls {} contention {}", l.calls, l.contention).unwrap();
    writeln!(out, "soak child done").unwrap();
}

/// A CLI worker: `n` rounds of key generate / list / sign (and delete, every other round)
/// as `name`, each a single-command process.
fn cli_worker(fixture: &Fixture, name: &str, pw: &str, n: usize, ledger: &Mutex<Ledger>) {
    for i in 0..n {
        let label = format!("cli-{name}-{i}");
        let public = format!("{label}-pub");
        let filter = format!("attr.label={label}");
        cli_ok(
            fixture,
            name,
            pw,
            &[
                "key",
                "generate-asymmetric-pair",
                "ec",
                "--curve",
                "prime256v1",
                "--public-label",
                &public,
                "--private-label",
                &label,
                "--private-attributes",
                "sign=true",
            ],
        );
        ledger
            .lock()
            .unwrap()
            .kept
            .extend([label.clone(), public.clone()]);
        let listed = cli_ok(fixture, name, pw, &["key", "list", "--filter", &filter]);
        assert!(listed.contains("\"total_key_count\": 1"), "{listed}");
        cli_ok(
            fixture,
            name,
            pw,
            &[
                "crypto",
                "sign",
                "ecdsa",
                "--key-filter",
                &filter,
                "--hash-function",
                "sha256",
                "--data",
                "YWJj",
            ],
        );
        let mut calls = 3;
        if i % 2 == 1 {
            for l in [&label, &public] {
                cli_ok(
                    fixture,
                    name,
                    pw,
                    &["key", "delete", "--filter", &format!("attr.label={l}")],
                );
                let mut ledger = ledger.lock().unwrap();
                ledger.kept.remove(l);
                ledger.destroyed.insert(l.clone());
            }
            calls += 2;
        }
        ledger.lock().unwrap().calls += calls;
    }
}

#[test]
fn sixteen_threads_and_four_processes_lose_nothing_and_never_deadlock() {
    let fixture = Fixture::new();
    let scale = scale();
    let _watchdog = common::watchdog(Duration::from_secs(600 * scale as u64), "the soak");
    let started = Instant::now();
    let pkcs11 = fixture.pkcs11();
    // Holds the login while the threads' sessions come and go.
    let main = session(&pkcs11, PIN1);
    let ledger = Mutex::new(Ledger::default());
    let children: Vec<_> = [("child-cu1", PIN1), ("child-cu2", PIN2)]
        .into_iter()
        .map(|(who, pin)| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "soak_child", "--ignored", "--nocapture"])
                .env("CLOUDHSM_SIM_HOME", &fixture.root)
                .env("P11_SOAK_WHO", who)
                .env("P11_CHILD_PIN", pin)
                .env("P11_SOAK_ITERATIONS", (8 * scale).to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::scope(|scope| {
        for (name, pw) in [("cu1", CU1_PW), ("cu2", CU2_PW)] {
            let (fixture, ledger) = (&fixture, &ledger);
            scope.spawn(move || cli_worker(fixture, name, pw, 4 * scale, ledger));
        }
        for t in 0..THREADS {
            let (pkcs11, ledger) = (&pkcs11, &ledger);
            scope.spawn(move || {
                for i in 0..3 * scale {
                    module_iteration(pkcs11, &format!("t{t}"), i, ledger);
                }
            });
        }
    });
    let mut ledger = ledger.into_inner().unwrap();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = common::text(&out);
        assert!(
            out.status.success() && stdout.contains("soak child done"),
            "{stdout}\n{stderr}"
        );
        for line in BufReader::new(stdout.as_bytes())
            .lines()
            .map_while(Result::ok)
        {
            if let Some(k) = line.strip_prefix("kept ") {
                ledger.kept.insert(k.to_string());
            } else if let Some(k) = line.strip_prefix("destroyed ") {
                ledger.destroyed.insert(k.to_string());
            } else if let Some(u) = line.strip_prefix("unexpected ") {
                ledger.unexpected.push(u.to_string());
            } else if let Some(rest) = line.strip_prefix("calls ") {
                let (calls, contention) = rest.split_once(" contention ").unwrap();
                ledger.calls += calls.parse::<usize>().unwrap();
                ledger.contention += contention.parse::<usize>().unwrap();
            }
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(ledger.unexpected, Vec::<String>::new());

    // Every token key acknowledged and not destroyed is there; no destroyed one is.
    let mut cluster = fixture.cluster();
    let admin = fixture.login(&mut cluster, "admin", Role::Admin, ADMIN_PW);
    let listed: BTreeSet<String> = cluster
        .list_keys(&admin, &[])
        .unwrap()
        .into_iter()
        .map(|k| k.attrs.label)
        .collect();
    cluster.logout(admin).unwrap();
    let missing: Vec<_> = ledger.kept.difference(&listed).collect();
    assert!(missing.is_empty(), "acknowledged and lost: {missing:?}");
    let back: Vec<_> = ledger.destroyed.intersection(&listed).collect();
    assert!(back.is_empty(), "destroyed and still there: {back:?}");
    assert_eq!(
        listed.len(),
        ledger.kept.len(),
        "keys nobody acknowledged: {:?}",
        listed.difference(&ledger.kept).collect::<Vec<_>>()
    );
    // The CLI sees the same: `key list` of each user counts its own token keys.
    for (name, pw) in [("cu1", CU1_PW), ("cu2", CU2_PW)] {
        let own = cli_ok(
            &fixture,
            name,
            pw,
            &[
                "key",
                "list",
                "--filter",
                &format!("attr.label=cli-{name}-0"),
            ],
        );
        assert!(own.contains("\"total_key_count\": 1"), "{own}");
    }
    fixture.assert_consistent();
    // The module still works after it all.
    let (_, private) = main
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[Attribute::EcParams(P256.to_vec())],
            &[Attribute::Sign(true)],
        )
        .unwrap();
    main.sign(&Mechanism::EcdsaSha256, private, b"after")
        .unwrap();
    eprintln!(
        "soak (x{scale}): {THREADS} threads + 2 module processes + 2 CLI processes, {} operations, \
         {} token keys kept and {} destroyed, {} contention codes, {:.1} s",
        ledger.calls,
        ledger.kept.len(),
        ledger.destroyed.len(),
        ledger.contention,
        elapsed.as_secs_f64()
    );
}
