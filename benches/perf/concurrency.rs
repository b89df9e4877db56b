//! Section 5: concurrent processes running piped sessions of mutating commands on one
//! cluster.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::procs::{login_cu1, run_piped_started, PipedRun};
use crate::report::{fmt_rate, ms, Report};
use crate::stats::percentile;
use crate::{Res, Scale};

pub(crate) fn section(report: &mut Report, root: &Path, scale: &Scale) {
    eprintln!("perf: 5. concurrency");
    let s = "5";
    let home: PathBuf = root.join("main");
    let barrier = std::sync::Barrier::new(scale.procs);
    let start = Instant::now();
    let runs: Vec<Res<PipedRun>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..scale.procs)
            .map(|p| {
                let home = &home;
                let barrier = &barrier;
                let rounds = scale.proc_rounds;
                scope.spawn(move || {
                    let mut lines = vec![login_cu1()];
                    for j in 0..rounds {
                        let label = format!("conc-{p}-{j}");
                        lines.push(format!("key generate-symmetric aes --label {label} --key-length-bytes 32"));
                        lines.push(format!("key set-attribute --filter attr.label={label} --name encrypt --value true"));
                        lines.push(format!("key delete --filter attr.label={label}"));
                    }
                    run_piped_started(home, lines, Some(barrier))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let _ = start;
    let mut gaps = Vec::new();
    let mut done = 0usize;
    let mut failed = 0usize;
    let mut first = None::<Instant>;
    let mut last = None::<Instant>;
    let mut problems = Vec::new();
    for run in &runs {
        match run {
            Ok(r) => {
                // Mutating commands only: skip the login response.
                let g = r.gaps();
                let login_done = r.responses.first().map(|x| x.0);
                for (i, (t, ok)) in r.responses.iter().enumerate().skip(1) {
                    if *ok {
                        done += 1;
                    } else {
                        failed += 1;
                    }
                    gaps.push(g[i].as_secs_f64() * 1e3);
                    last = Some(last.map_or(*t, |l: Instant| l.max(*t)));
                }
                if let Some(t) = login_done {
                    first = Some(first.map_or(t, |f: Instant| f.min(t)));
                }
                if r.failures() > 0 {
                    problems.push(r.first_failure.clone().unwrap_or_default());
                }
            }
            Err(e) => problems.push(e.clone()),
        }
    }
    let expected = scale.procs * scale.proc_rounds * 3;
    match (first, last) {
        (Some(f), Some(l)) if done > 0 => {
            let secs = l.duration_since(f).as_secs_f64();
            let tps = done as f64 / secs;
            report.row(
                s,
                &format!(
                    "{} processes × piped session of {} mutating commands (generate / set-attribute / delete)",
                    scale.procs,
                    scale.proc_rounds * 3
                ),
                format!(
                    "{} tx/s; per command p50 {} / p99 {}",
                    fmt_rate(tps),
                    ms(percentile(&gaps, 50.0)),
                    ms(percentile(&gaps, 99.0))
                ),
                "–".into(),
                "–".into(),
                "–",
                if failed == 0 && done == expected {
                    "info".into()
                } else {
                    format!("{done} of {expected} succeeded, {failed} failed")
                },
            );
        }
        _ => report.row(
            s,
            "concurrency",
            "n/a: no successful command".into(),
            "–".into(),
            "–".into(),
            "–",
            "n/a".into(),
        ),
    }
    for p in problems.iter().take(3) {
        report.note(format!("concurrency problem: {p}"));
    }
}
