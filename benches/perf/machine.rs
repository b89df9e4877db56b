//! The machine the run happened on: its description, its load and its disk.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::procs::run_text;
use crate::stats::percentile;
use crate::Res;

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

pub(crate) fn print_machine(quick: bool, load_before: String, elapsed: Duration) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "n/a".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or("n/a".into(), |kib| {
            format!("{:.1} GiB", kib / 1024.0 / 1024.0)
        });
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let openssl = run_text("openssl", &["version"]).unwrap_or_else(|e| e);
    let commit = run_text(
        "git",
        &[
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ],
    )
    .unwrap_or_else(|_| "n/a".into());
    println!(
        "cloudhsm-sim performance benchmark{}",
        if quick {
            " (--quick: reduced counts)"
        } else {
            ""
        }
    );
    println!();
    println!(
        "- machine: {cpus} CPUs, {model}, {mem} RAM, Linux {}",
        kernel.trim()
    );
    println!(
        "- {}; commit {} (plus any uncommitted changes)",
        openssl.trim(),
        commit.trim()
    );
    println!(
        "- load average before / after: {load_before} / {}; run time {:.0} s",
        loadavg(),
        elapsed.as_secs_f64()
    );
}

/// p50 and p95 (ms) of a 4 KiB write followed by `fsync` in `dir`: the floor under every
/// committed transaction with `synchronous=FULL`.
pub(crate) fn fsync_latency(dir: &Path, n: usize) -> Res<(f64, f64)> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).map_err(|e| format!("fsync probe: {e}"))?;
    let block = [0xa5u8; 4096];
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        file.write_all(&block)
            .map_err(|e| format!("fsync probe: {e}"))?;
        file.sync_all().map_err(|e| format!("fsync probe: {e}"))?;
        samples.push(t.elapsed().as_secs_f64() * 1e3);
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok((percentile(&samples, 50.0), percentile(&samples, 95.0)))
}
