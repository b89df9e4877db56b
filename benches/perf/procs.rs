//! Running the product's binaries: cluster setup, piped `cloudhsm-cli interactive` sessions
//! and timed single commands.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::stats::percentile;
use crate::{Res, ADMIN_PW, CLI, CLUSTER, CU_PW, SIM};

pub(crate) fn cli(home: &Path) -> Command {
    let mut c = Command::new(CLI);
    for var in [
        "CLOUDHSM_ROLE",
        "CLOUDHSM_PIN",
        "CLOUDHSM_SIM_SEED",
        "CLOUDHSM_SIM_STRICT",
    ] {
        c.env_remove(var);
    }
    c.env("CLOUDHSM_SIM_HOME", home);
    c
}

/// `cloudhsm-sim init` of a cluster with `kdf` in a new state directory `home`.
fn init_cluster(home: &Path, kdf: &str) -> Res<()> {
    let out = Command::new(SIM)
        .env("CLOUDHSM_SIM_HOME", home)
        .env_remove("CLOUDHSM_SIM_SEED")
        .args([
            "init",
            "--cluster-id",
            CLUSTER,
            "--kdf",
            kdf,
            "--appliance-password",
            "app-pw-123",
        ])
        .output()
        .map_err(|e| format!("cloudhsm-sim init: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cloudhsm-sim init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A cluster with an activated admin and crypto user `cu1`.
pub(crate) fn setup_cluster(home: &Path, kdf: &str, extra: &[String]) -> Res<()> {
    init_cluster(home, kdf)?;
    let mut lines = vec![
        format!("cluster activate --password {ADMIN_PW}"),
        format!("login --username admin --role admin --password {ADMIN_PW}"),
        format!("user create --username cu1 --role crypto-user --password {CU_PW}"),
        "logout".to_string(),
    ];
    if !extra.is_empty() {
        lines.push(login_cu1());
        lines.extend_from_slice(extra);
    }
    let n = lines.len();
    let run = run_piped(home, lines)?;
    run.check(n, "cluster setup")
}

pub(crate) fn login_cu1() -> String {
    format!("login --username cu1 --role crypto-user --password {CU_PW}")
}

/// One piped `cloudhsm-cli interactive` session: when each response ended.
pub(crate) struct PipedRun {
    pub(crate) spawned: Instant,
    /// Completion time of each response, and whether its `error_code` was 0.
    pub(crate) responses: Vec<(Instant, bool)>,
    pub(crate) exited: Instant,
    stderr: String,
    success: bool,
    /// The first failed response, for the report.
    pub(crate) first_failure: Option<String>,
}

impl PipedRun {
    pub(crate) fn failures(&self) -> usize {
        self.responses.iter().filter(|r| !r.1).count()
    }

    pub(crate) fn check(&self, expected: usize, what: &str) -> Res<()> {
        if self.success && self.responses.len() == expected && self.failures() == 0 {
            Ok(())
        } else {
            Err(format!(
                "{what}: {} of {expected} responses, {} failed ({}); stderr: {}",
                self.responses.len(),
                self.failures(),
                self.first_failure.as_deref().unwrap_or("-"),
                self.stderr.lines().next().unwrap_or("")
            ))
        }
    }

    /// Time each command took: the gap between its response and the previous one (the
    /// session reads commands as fast as it answers them, so the gap is its service time).
    pub(crate) fn gaps(&self) -> Vec<Duration> {
        let mut prev = self.spawned;
        self.responses
            .iter()
            .map(|(t, _)| {
                let d = t.duration_since(prev);
                prev = *t;
                d
            })
            .collect()
    }
}

pub(crate) fn run_piped(home: &Path, lines: Vec<String>) -> Res<PipedRun> {
    run_piped_started(home, lines, None)
}

/// Runs a piped session; with `barrier`, waits on it just before spawning.
pub(crate) fn run_piped_started(
    home: &Path,
    lines: Vec<String>,
    barrier: Option<&std::sync::Barrier>,
) -> Res<PipedRun> {
    let mut cmd = cli(home);
    cmd.arg("interactive")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(b) = barrier {
        b.wait();
    }
    let spawned = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("spawn cloudhsm-cli: {e}"))?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr_pipe = child.stderr.take().ok_or("no stderr")?;
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut w = BufWriter::new(stdin);
        for line in lines {
            writeln!(w, "{line}")?;
        }
        w.flush()
        // Dropping the writer closes stdin: end of input ends the session.
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let mut responses = Vec::new();
    let mut ok = true;
    let mut current = String::new();
    let mut first_failure = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cloudhsm-cli output: {e}"))?;
        if let Some(code) = line.strip_prefix("  \"error_code\": ") {
            ok = code.trim_end_matches(',') == "0";
        }
        if !ok && first_failure.is_none() {
            current.push_str(line.trim());
            current.push(' ');
        }
        if line == "}" {
            responses.push((Instant::now(), ok));
            if !ok && first_failure.is_none() {
                first_failure = Some(std::mem::take(&mut current));
            }
            current.clear();
            ok = true;
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cloudhsm-cli: {e}"))?;
    let exited = Instant::now();
    let _ = writer.join();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(PipedRun {
        spawned,
        responses,
        exited,
        stderr,
        success: status.success(),
        first_failure,
    })
}

/// Process start to exit of one single-command `cloudhsm-cli` run, and whether it succeeded.
pub(crate) fn time_single(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Res<(f64, bool)> {
    let mut cmd = cli(home);
    cmd.args(args).stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let out = cmd.output().map_err(|e| format!("cloudhsm-cli: {e}"))?;
    let elapsed = start.elapsed().as_secs_f64() * 1e3;
    Ok((elapsed, out.status.success()))
}

/// p50 and p95 (ms) of `runs` single-command runs, after 3 warm-up runs.
pub(crate) fn latency(
    home: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    runs: usize,
) -> Res<(f64, f64)> {
    for _ in 0..3 {
        time_single(home, args, env)?;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let (t, ok) = time_single(home, args, env)?;
        if !ok {
            return Err(format!("`cloudhsm-cli {}` failed", args.join(" ")));
        }
        samples.push(t);
    }
    Ok((percentile(&samples, 50.0), percentile(&samples, 95.0)))
}

pub(crate) fn run_text(program: &str, args: &[&str]) -> Res<String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{program} exited with {}", out.status))
    }
}
