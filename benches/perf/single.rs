//! Section 3: single-command latency, process start to exit, as the cluster fills up.

use std::path::Path;
use std::time::Instant;

use crate::machine::fsync_latency;
use crate::procs::{latency, login_cu1, run_piped, setup_cluster, time_single};
use crate::report::{fmt_rate, group, ms, pass, Report};
use crate::stats::percentile;
use crate::{Res, Scale, CU_PW};

/// p50 and p95 (ms) of `runs` runs on `home` and, alternately, on `other`, after 3 warm-up
/// runs of each: both see the same machine load.
fn latency_alternating(
    home: &Path,
    other: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    runs: usize,
) -> Res<((f64, f64), (f64, f64))> {
    for _ in 0..3 {
        time_single(home, args, env)?;
        time_single(other, args, env)?;
    }
    let (mut a, mut b) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        for (h, samples) in [(home, &mut a), (other, &mut b)] {
            let (t, ok) = time_single(h, args, env)?;
            if !ok {
                return Err(format!("`cloudhsm-cli {}` failed", args.join(" ")));
            }
            samples.push(t);
        }
    }
    let p = |v: &[f64]| (percentile(v, 50.0), percentile(v, 95.0));
    Ok((p(&a), p(&b)))
}

pub(crate) fn section(report: &mut Report, root: &Path, scale: &Scale) {
    eprintln!("perf: 3. single-command latency");
    let s = "3";
    let home = root.join("fill");
    let empty = root.join("empty");
    if let Err(e) =
        setup_cluster(&home, "fast", &[]).and_then(|()| setup_cluster(&empty, "fast", &[]))
    {
        report.row(
            s,
            "single-command latency",
            format!("n/a: {e}"),
            "–".into(),
            "–".into(),
            "p50 ≤ 15 ms",
            "n/a".into(),
        );
        return;
    }
    let pin = format!("cu1:{CU_PW}");
    let env = [
        ("CLOUDHSM_ROLE", "crypto-user"),
        ("CLOUDHSM_PIN", pin.as_str()),
    ];
    let commands: [(&str, &[&str], usize, bool); 3] = [
        ("`user list`", &["user", "list"], scale.single_runs, true),
        (
            "`key list --filter attr.label=x`",
            &["key", "list", "--filter", "attr.label=x"],
            scale.single_runs,
            true,
        ),
        (
            "`key list` (no filter, first page of 10)",
            &["key", "list"],
            scale.single_runs.min(20),
            false,
        ),
    ];
    // Per command and key count: (p50, p95) on the filled cluster, and on the empty cluster
    // measured alternately with it.
    type Cell = Res<((f64, f64), (f64, f64))>;
    let mut results: Vec<Vec<(usize, Cell)>> = vec![Vec::new(); commands.len()];
    let mut have = 0usize;
    for &keys in &scale.key_steps {
        if keys > have {
            let t = Instant::now();
            let mut lines = vec![login_cu1()];
            for i in have..keys {
                lines.push(format!(
                    "key generate-symmetric aes --label fill-{i} --key-length-bytes 32"
                ));
            }
            let n = lines.len();
            eprintln!("perf:   filling to {keys} keys");
            match run_piped(&home, lines).and_then(|r| r.check(n, "fill session")) {
                Ok(()) => {
                    let secs = t.elapsed().as_secs_f64();
                    report.note(format!(
                        "filling {} → {} keys with `key generate-symmetric aes` in one piped session: {secs:.1} s ({}/s)",
                        group(have as u64),
                        group(keys as u64),
                        fmt_rate((keys - have) as f64 / secs)
                    ));
                    have = keys;
                }
                Err(e) => {
                    report.note(format!("filling to {keys} keys failed: {e}"));
                    break;
                }
            }
        }
        for (c, (_, args, runs, _)) in commands.iter().enumerate() {
            let cell = if keys == 0 {
                latency(&home, args, &env, *runs).map(|x| (x, x))
            } else {
                latency_alternating(&home, &empty, args, &env, *runs)
            };
            results[c].push((keys, cell));
        }
    }
    for (c, (name, _, runs, targeted)) in commands.iter().enumerate() {
        for (keys, cell) in &results[c] {
            let (emu, result) = match cell {
                Ok(((p50, p95), _)) => (
                    format!("p50 {} / p95 {}", ms(*p50), ms(*p95)),
                    if *targeted {
                        pass(*p50 <= 15.0)
                    } else {
                        "info".into()
                    },
                ),
                Err(e) => (format!("n/a: {e}"), "n/a".into()),
            };
            report.row(
                s,
                &format!(
                    "{name}, single command, {} keys ({runs} runs)",
                    group(*keys as u64)
                ),
                emu,
                "–".into(),
                "–".into(),
                if *targeted { "p50 ≤ 15 ms" } else { "–" },
                result,
            );
        }
        // Growth: the fullest cluster against an empty one measured alternately with it, so
        // that a change in the machine's load between the steps does not count as growth.
        if let Some((keys, Ok(((full, _), (empty_p50, _))))) = results[c].last() {
            let growth = full / empty_p50;
            let first = match results[c].first() {
                Some((_, Ok(((p50, _), _)))) => format!("; the 0-key step measured {}", ms(*p50)),
                _ => String::new(),
            };
            report.row(
                s,
                &format!("{name}: p50 growth 0 → {} keys", group(*keys as u64)),
                format!(
                    "{growth:.2}× ({} vs {} on an empty cluster, runs alternated{first})",
                    ms(*full),
                    ms(*empty_p50)
                ),
                "–".into(),
                "–".into(),
                if *targeted { "≤ 1.5×" } else { "–" },
                if *targeted {
                    pass(growth <= 1.5)
                } else {
                    "info".into()
                },
            );
        }
    }
    match fsync_latency(root, if scale.quick { 20 } else { 100 }) {
        Ok((p50, p95)) => report.note(format!(
            "after section 3, this disk: 4 KiB write + fsync p50 {p50:.2} ms / p95 {p95:.2} ms"
        )),
        Err(e) => report.note(format!("fsync probe: n/a ({e})")),
    }
}
