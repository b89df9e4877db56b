//! The performance benchmark of issue 8: one table, measured in one run on this machine.
//!
//! ```console
//! $ cargo bench --bench perf             # full run, a few minutes
//! $ cargo bench --bench perf -- --quick  # smaller counts, for trying the benchmark out
//! ```
//!
//! 1. Crypto in process, through the functions the commands use (`cloudhsm_sim::hsm::crypto`)
//!    and through the `Cluster` methods the handlers call (key lookup, material decoding,
//!    signing), next to `openssl speed` run by this program.
//! 2. Through the CLI: a piped `cloudhsm-cli interactive` session of 2,000 mixed commands, and
//!    RSA-2048 signing through a piped session.
//! 3. Single-command latency (process start to exit) with 0, 1,000 and 16,666 keys.
//! 4. Login cost under the `default` and `fast` password-hash presets.
//! 5. Concurrency: 8 processes running piped sessions of mutating commands on one cluster.
//!
//! It reports and never asserts: a figure that cannot be obtained is printed as `n/a` with
//! the reason. State lives in a temporary directory removed at the end. Progress goes to
//! stderr; the table (Markdown) and the diagnostics go to stdout.
//!
//! The modules, by noun: `report` (the table and how figures are written), `stats`
//! (medians, percentiles, throughput), `openssl` (the reference), `procs` (the product's
//! binaries as processes), `machine` (CPU, load, disk), `probe` (in-process throughput
//! probes), and one module per section: `crypto`, `piped`, `single`, `login`, `concurrency`.

mod concurrency;
mod crypto;
mod login;
mod machine;
mod openssl;
mod piped;
mod probe;
mod procs;
mod report;
mod single;
mod stats;

use std::time::{Duration, Instant};

use crate::machine::{loadavg, print_machine};
use crate::report::Report;

const CLI: &str = env!("CARGO_BIN_EXE_cloudhsm-cli");
const SIM: &str = env!("CARGO_BIN_EXE_cloudhsm-sim");

const CLUSTER: &str = "cluster-bench";
const ADMIN_PW: &str = "admin-pw-1";
const CU_PW: &str = "cu1-pw-123";
/// 32 bytes (0..=31), base64: the data every `crypto sign` of the benchmark signs.
const DATA_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The AWS quota of keys per hsm2m.medium cluster.
const MAX_KEYS: usize = 16_666;

type Res<T> = Result<T, String>;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = Scale::new(quick);
    let started = Instant::now();
    let load_before = loadavg();
    let mut report = Report::default();
    let tmp = match tempfile::Builder::new().prefix("chsm-perf-").tempdir() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("perf: cannot create a temporary directory: {e}");
            std::process::exit(1);
        }
    };
    let root = tmp.path().to_path_buf();
    let openssl = crypto::section(&mut report, &root, &scale);
    piped::section(&mut report, &root, &scale, &openssl);
    single::section(&mut report, &root, &scale);
    login::section(&mut report, &root, &scale);
    concurrency::section(&mut report, &root, &scale);
    let elapsed = started.elapsed();
    print_machine(quick, load_before, elapsed);
    report.print();
    // Remove the state explicitly to report a failure (the guard would ignore it).
    if let Err(e) = tmp.close() {
        eprintln!("perf: could not remove the temporary directory: {e}");
    }
}

/// Counts and durations of one run.
struct Scale {
    quick: bool,
    /// Repetitions of each in-process throughput measurement (the median is reported).
    rounds: usize,
    /// Length of one in-process throughput measurement.
    budget: Duration,
    /// Commands in the mixed piped session (a multiple of 4).
    mixed: usize,
    /// Signatures in the piped RSA session.
    piped_rsa: usize,
    /// Key counts for the single-command latencies.
    key_steps: [usize; 3],
    /// Runs per single-command latency cell.
    single_runs: usize,
    /// Logins per preset.
    logins: usize,
    /// Concurrent processes and the rounds (3 commands each) every one of them runs.
    procs: usize,
    proc_rounds: usize,
}

impl Scale {
    fn new(quick: bool) -> Scale {
        if quick {
            Scale {
                quick,
                rounds: 1,
                budget: Duration::from_millis(300),
                mixed: 400,
                piped_rsa: 100,
                key_steps: [0, 200, 1_000],
                single_runs: 10,
                logins: 5,
                procs: 8,
                proc_rounds: 10,
            }
        } else {
            Scale {
                quick,
                rounds: 3,
                budget: Duration::from_millis(800),
                mixed: 2_000,
                piped_rsa: 500,
                key_steps: [0, 1_000, MAX_KEYS],
                single_runs: 50,
                logins: 15,
                procs: 8,
                proc_rounds: 50,
            }
        }
    }
}
