//! Signing on 1, 2 and 4 threads of one process (a session each, one login), and 4 processes
//! generating and signing on one token at once: this executable run again as a worker.

use std::process::{Command, Stdio};
use std::sync::Barrier;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cryptoki::mechanism::Mechanism;
use cryptoki::object::ObjectHandle;

use crate::report::{ratio, Report, Samples, Show};
use crate::rows::order;
use crate::sides::{ec_pair_templates, open, rv, Side, Sides, Which, DATA, SOFTHSM_LABEL};
use crate::{Res, Scale};

const THREADS: [usize; 3] = [1, 2, 4];
const PROCESSES: usize = 4;
/// Signatures per generated pair in a worker's iteration.
const SIGNS_PER_PAIR: usize = 10;

/// The two signatures the threads make.
#[derive(Clone, Copy)]
enum Kind {
    Rsa,
    Ecdsa,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Rsa => "RSA-2048 `CKM_SHA256_RSA_PKCS`",
            Kind::Ecdsa => "ECDSA P-256 `CKM_ECDSA`",
        }
    }
}

pub(crate) fn measure(report: &mut Report, sides: &Sides, scale: &Scale) {
    let (with_threads, with_processes) = (scale.wants("thread"), scale.wants("processes"));
    if !with_threads && !with_processes {
        return;
    }
    let kinds = [Kind::Rsa, Kind::Ecdsa];
    let mut threads: Vec<[Samples; 3]> = kinds.iter().map(|_| Default::default()).collect();
    let mut procs = Samples::default();
    let mut proc_errors: Vec<String> = Vec::new();
    for round in 0..scale.rounds {
        eprintln!(
            "pkcs11 bench: round {} of {}: threads, then {PROCESSES} processes",
            round + 1,
            scale.rounds
        );
        for (kind, samples) in kinds.iter().zip(threads.iter_mut()) {
            if !with_threads {
                break;
            }
            for (n, s) in THREADS.iter().zip(samples.iter_mut()) {
                for which in order(round) {
                    let value = match sides.get(which) {
                        Ok(side) => sign_threads(side, *kind, *n, scale.budget),
                        Err(e) => Err(format!("not set up: {e}")),
                    };
                    s.push(which, value);
                }
            }
        }
        for which in order(round) {
            if !with_processes {
                break;
            }
            let value = match sides.get(which) {
                Ok(side) => processes(side, scale.procs_for, &mut proc_errors),
                Err(e) => Err(format!("not set up: {e}")),
            };
            procs.push(which, value);
        }
    }
    for (kind, samples) in kinds.iter().zip(&threads) {
        if !with_threads {
            break;
        }
        for (n, s) in THREADS.iter().zip(samples) {
            let what = format!(
                "sign throughput, {n} thread(s) (a session each), {}",
                kind.name()
            );
            let target = if *n == 1 { "≥ 1.0×" } else { "–" };
            report.row(&what, Show::Rate, s, target);
        }
        let scaling = |which: Which| -> Res<f64> {
            Ok(samples[1].median(which)? / samples[0].median(which)?)
        };
        let (ours, theirs) = (scaling(Which::Ours), scaling(Which::SoftHsm));
        let show = |v: &Res<f64>| match v {
            Ok(x) => format!("{x:.2}× one thread"),
            Err(e) => format!("n/a: {e}"),
        };
        report.row_text([
            format!("scaling, 2 threads ÷ 1 thread, {}", kind.name()),
            show(&ours),
            show(&theirs),
            ratio(&ours, &theirs),
            "ours ≥ 1.6× one thread".into(),
        ]);
    }
    if !with_processes {
        return;
    }
    report.row(
        &format!(
            "{PROCESSES} processes at once, each: `C_GenerateKeyPair` P-256 token pair + \
             {SIGNS_PER_PAIR} `C_Sign` `CKM_ECDSA` + 2 `C_DestroyObject` (iterations/s, all processes)"
        ),
        Show::Rate,
        &procs,
        "≥ 1.0×",
    );
    proc_errors.sort();
    proc_errors.dedup();
    for e in proc_errors {
        report.note(format!("a worker process: {e}"));
    }
}

/// Signatures per second of `n` threads, each with a session of its own on `side`'s slot.
fn sign_threads(side: &Side, kind: Kind, n: usize, budget: Duration) -> Res<f64> {
    let key = match kind {
        Kind::Rsa => side.keys().rsa_private,
        Kind::Ecdsa => side.keys().ec_private,
    };
    let barrier = Barrier::new(n);
    let counts: Vec<Res<(u64, Duration)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n)
            .map(|_| {
                let (pkcs11, slot, barrier) = (side.pkcs11.clone(), side.slot, &barrier);
                scope.spawn(move || -> Res<(u64, Duration)> {
                    let session = pkcs11.open_rw_session(slot).map_err(rv);
                    barrier.wait();
                    let session = session?;
                    let mechanism = match kind {
                        Kind::Rsa => Mechanism::Sha256RsaPkcs,
                        Kind::Ecdsa => Mechanism::Ecdsa,
                    };
                    let start = Instant::now();
                    let mut count = 0u64;
                    while start.elapsed() < budget {
                        session.sign(&mechanism, key, &DATA).map_err(rv)?;
                        count += 1;
                    }
                    Ok((count, start.elapsed()))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let mut total = 0.0;
    for c in counts {
        let (count, took) = c?;
        total += count as f64 / took.as_secs_f64();
    }
    Ok(total)
}

/// Environment of a worker: the module, its token, the PIN, when to start and for how long.
const WORKER: &str = "PKCS11_BENCH_WORKER";
const WORKER_TOKEN: &str = "PKCS11_BENCH_TOKEN";
const WORKER_PIN: &str = "PKCS11_BENCH_PIN";
const WORKER_START: &str = "PKCS11_BENCH_START_MS";
const WORKER_FOR: &str = "PKCS11_BENCH_FOR_MS";

pub(crate) struct Worker {
    lib: String,
    token: Option<String>,
    pin: String,
    start_ms: u128,
    for_ms: u64,
}

/// The worker's settings when this process is one.
pub(crate) fn worker_from_env() -> Option<Worker> {
    let lib = std::env::var(WORKER).ok()?;
    let var = |n: &str| std::env::var(n).unwrap_or_default();
    Some(Worker {
        lib,
        token: std::env::var(WORKER_TOKEN).ok(),
        pin: var(WORKER_PIN),
        start_ms: var(WORKER_START).parse().unwrap_or(0),
        for_ms: var(WORKER_FOR).parse().unwrap_or(1_000),
    })
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// A worker: from the agreed start, for the agreed time, generates a P-256 token pair, signs
/// with it and destroys it; prints `ok <iterations> <seconds>` or `error <why>`; destroys its keys.
pub(crate) fn run_worker(w: &Worker) -> i32 {
    match work(w) {
        Ok((iterations, secs)) => {
            println!("ok {iterations} {secs}");
            0
        }
        Err(e) => {
            println!("error {e}");
            1
        }
    }
}

fn work(w: &Worker) -> Res<(u64, f64)> {
    // SoftHSMv2 does not list a token whose file another process is rewriting at that moment:
    // a worker starting late while the others already write tries again.
    let lib = std::path::Path::new(&w.lib);
    let mut opened = open(lib, w.token.as_deref(), &w.pin);
    for _ in 0..40 {
        if opened.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        opened = open(lib, w.token.as_deref(), &w.pin);
    }
    let (pkcs11, _slot, session) = opened?;
    let wait = w.start_ms.saturating_sub(now_ms());
    std::thread::sleep(Duration::from_millis(wait.try_into().unwrap_or(0)));
    let (public, private) = ec_pair_templates(&format!("worker-{}", std::process::id()));
    let mut made: Vec<ObjectHandle> = Vec::new();
    let start = Instant::now();
    let mut iterations = 0u64;
    let run = (|| {
        while start.elapsed() < Duration::from_millis(w.for_ms) {
            let (pu, pr) = session
                .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
                .map_err(rv)?;
            made.extend([pu, pr]);
            for _ in 0..SIGNS_PER_PAIR {
                session.sign(&Mechanism::Ecdsa, pr, &DATA).map_err(rv)?;
            }
            // The pair goes again: the token stays the same size, and under the cluster's
            // quota of asymmetric keys (3,333 on an hsm2m.medium).
            for h in made.drain(..) {
                session.destroy_object(h).map_err(rv)?;
            }
            iterations += 1;
        }
        Ok::<_, String>(())
    })();
    let secs = start.elapsed().as_secs_f64();
    let mut undestroyed = None;
    for h in made {
        if let Err(e) = session.destroy_object(h) {
            undestroyed.get_or_insert(rv(e));
        }
    }
    let _ = session.logout();
    let _ = session.close();
    let _ = pkcs11.finalize();
    run?;
    match undestroyed {
        Some(e) => Err(format!("destroying the keys made: {e}")),
        None => Ok((iterations, secs)),
    }
}

/// Iterations per second of [`PROCESSES`] workers on `side`'s token at once.
fn processes(side: &Side, run_for: Duration, errors: &mut Vec<String>) -> Res<f64> {
    let exe = std::env::current_exe().map_err(|e| format!("current executable: {e}"))?;
    // Loading the module and logging in take place before the agreed start.
    let start = now_ms() + 1_500;
    let mut children = Vec::new();
    for _ in 0..PROCESSES {
        let mut cmd = Command::new(&exe);
        cmd.env(WORKER, &side.lib)
            .env(WORKER_PIN, &side.pin)
            .env(WORKER_START, start.to_string())
            .env(WORKER_FOR, run_for.as_millis().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match side.which {
            Which::Ours => cmd.env_remove(WORKER_TOKEN),
            Which::SoftHsm => cmd.env(WORKER_TOKEN, SOFTHSM_LABEL),
        };
        children.push(cmd.spawn().map_err(|e| format!("starting a worker: {e}"))?);
    }
    let mut total = 0.0;
    let mut failed = None;
    for child in children {
        let out = child
            .wait_with_output()
            .map_err(|e| format!("waiting for a worker: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let fields: Vec<&str> = text.split_whitespace().collect();
        match fields.as_slice() {
            ["ok", n, secs] => {
                let n: f64 = n.parse().unwrap_or(0.0);
                let secs: f64 = secs.parse().unwrap_or(f64::NAN);
                total += n / secs;
            }
            _ => {
                let why = format!(
                    "{}: {} {}",
                    side.which.name(),
                    text,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                errors.push(why.clone());
                failed = Some(why);
            }
        }
    }
    match failed {
        Some(why) => Err(format!("a worker failed ({why})")),
        None => Ok(total),
    }
}
