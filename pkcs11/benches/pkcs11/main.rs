//! The PKCS#11 benchmark of issue 16: this module and SoftHSMv2 side by side, through the
//! same client (the `cryptoki` crate), interleaved in one run.
//!
//! ```console
//! $ cargo bench --bench pkcs11             # full run
//! $ cargo bench --bench pkcs11 -- --quick  # smaller counts, for trying the benchmark out
//! $ cargo bench --bench pkcs11 -- --only=C_Sign --side=ours  # some rows, one module (profiling)
//! ```
//!
//! It loads the built `libcloudhsm_pkcs11.so` (in this executable's `deps/`, else above it) on an
//! activated cluster made through the cluster's API (fast password hashing, two HSMs, a
//! crypto user), and SoftHSMv2's module on a token initialised in a temporary directory.
//! Every row is measured in rounds, each round taking one sample of each side in turn (the
//! side going first alternates), and reports each side's median and their ratio, ours ÷
//! SoftHSMv2, higher is better. `openssl speed` for the same signatures runs in the same
//! rounds, for reference. It reports and never asserts: a figure that cannot be obtained is
//! printed with the reason (`not built yet` for what the module does not implement).
//!
//! The modules, by noun: `sides` (the two modules, their tokens and keys), `rows` (what one
//! row measures), `parallel` (threads, and the worker processes this executable becomes when
//! `PKCS11_BENCH_WORKER` is set), `openssl` (the reference), `report` (statistics, the
//! machine, the table).

// A benchmark reports on stdout (the table) and stderr (progress).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod openssl;
mod parallel;
mod report;
mod rows;
mod sides;

use std::time::{Duration, Instant};

use crate::report::{loadavg, Report};

type Res<T> = Result<T, String>;

fn main() {
    if let Some(worker) = parallel::worker_from_env() {
        std::process::exit(parallel::run_worker(&worker));
    }
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let option = |name: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(name))
            .map(str::to_string)
    };
    let mut scale = Scale::new(quick);
    scale.only = option("--only=");
    scale.side = option("--side=");
    let started = Instant::now();
    let load_before = loadavg();
    let tmp = match tempfile::Builder::new().prefix("chsm-p11-bench-").tempdir() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("pkcs11 bench: cannot create a temporary directory: {e}");
            std::process::exit(1);
        }
    };
    let mut report = Report::new(quick, load_before);
    match sides::Sides::set_up(tmp.path(), &scale) {
        Ok(mut sides) => {
            rows::measure(&mut report, &mut sides, &scale);
            parallel::measure(&mut report, &sides, &scale);
            sides.finish();
        }
        Err(e) => report.note(format!("set-up failed, nothing measured: {e}")),
    }
    report.print(started.elapsed());
    if let Err(e) = tmp.close() {
        eprintln!("pkcs11 bench: could not remove the temporary directory: {e}");
    }
}

/// Counts and durations of one run.
pub(crate) struct Scale {
    /// Rounds of every row (each side's median is reported).
    pub(crate) rounds: usize,
    /// Length of one sample of one side.
    pub(crate) budget: Duration,
    /// Token keys the find row searches among.
    pub(crate) find_among: usize,
    /// SoftHSMv2's share of them: each token key it makes costs time in proportion to the
    /// keys it has (its file store reads the token directory again), so filling it is
    /// quadratic and stops here.
    pub(crate) softhsm_among: usize,
    /// How long the worker processes run.
    pub(crate) procs_for: Duration,
    /// `--only=TEXT`: only the rows whose description contains TEXT.
    pub(crate) only: Option<String>,
    /// `--side=ours` or `--side=softhsm`: set up and measure one module only.
    pub(crate) side: Option<String>,
}

impl Scale {
    /// Whether the row described by `what` is measured in this run.
    pub(crate) fn wants(&self, what: &str) -> bool {
        self.only.as_ref().is_none_or(|o| what.contains(o.as_str()))
    }

    /// Whether module `name` (`ours`, `softhsm`) is set up in this run.
    pub(crate) fn wants_side(&self, name: &str) -> bool {
        self.side.as_ref().is_none_or(|s| s == name)
    }
}

impl Scale {
    fn new(quick: bool) -> Scale {
        if quick {
            Scale {
                rounds: 1,
                budget: Duration::from_millis(300),
                find_among: 1_000,
                softhsm_among: 1_000,
                procs_for: Duration::from_secs(1),
                only: None,
                side: None,
            }
        } else {
            Scale {
                rounds: 3,
                budget: Duration::from_millis(1_000),
                find_among: 10_000,
                softhsm_among: 2_000,
                procs_for: Duration::from_secs(3),
                only: None,
                side: None,
            }
        }
    }
}
