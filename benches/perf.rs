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

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cloudhsm_sim::hsm::crypto::{self, Curve, DataType, HashFunction, KeyMaterial, Mechanism};
use cloudhsm_sim::hsm::key::{Attribute, Term, Value};
use cloudhsm_sim::hsm::{self, Cluster, Entropy, Login, Role, SessionId};
use cloudhsm_sim::store::Home;

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
    let openssl = section_crypto(&mut report, &root, &scale);
    section_cli(&mut report, &root, &scale, &openssl);
    section_single(&mut report, &root, &scale);
    section_login(&mut report, &root, &scale);
    section_concurrency(&mut report, &root, &scale);
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

// ---------------------------------------------------------------------------------------------
// The report

#[derive(Default)]
struct Report {
    rows: Vec<[String; 7]>,
    notes: Vec<String>,
}

impl Report {
    fn row(
        &mut self,
        section: &str,
        what: &str,
        emulator: String,
        reference: String,
        ratio: String,
        target: &str,
        result: String,
    ) {
        self.rows.push([
            section.to_string(),
            what.to_string(),
            emulator,
            reference,
            ratio,
            target.to_string(),
            result,
        ]);
    }

    fn note(&mut self, text: String) {
        eprintln!("  {text}");
        self.notes.push(text);
    }

    fn print(&self) {
        println!();
        println!("| # | measurement | emulator | reference | ratio | target | result |");
        println!("|---|---|---|---|---|---|---|");
        for r in &self.rows {
            println!("| {} |", r.join(" | "));
        }
        if !self.notes.is_empty() {
            println!();
            println!("Diagnostics:");
            println!();
            for n in &self.notes {
                println!("- {n}");
            }
        }
    }
}

fn pass(ok: bool) -> String {
    if ok { "PASS" } else { "MISS" }.to_string()
}

fn fmt_rate(v: f64) -> String {
    if v >= 100.0 {
        group(v.round() as u64)
    } else {
        format!("{v:.1}")
    }
}

/// 12345 → "12,345".
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: f64) -> String {
    format!("{d:.1} ms")
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples.
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// Operations per second of `f`: after one warm-up call, the median of `rounds` runs of
/// `budget` each.
fn throughput(rounds: usize, budget: Duration, mut f: impl FnMut() -> Res<()>) -> Res<f64> {
    f()?;
    let mut rates = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < budget {
            f()?;
            n += 1;
        }
        rates.push(n as f64 / start.elapsed().as_secs_f64());
    }
    Ok(median(&rates))
}

/// Mean duration of `f` over `n` calls.
fn mean_time<T>(n: usize, mut f: impl FnMut() -> Res<T>) -> Res<Duration> {
    let start = Instant::now();
    for _ in 0..n {
        f()?;
    }
    Ok(start.elapsed() / n.max(1) as u32)
}

// ---------------------------------------------------------------------------------------------
// OpenSSL

/// `openssl speed` figures (medians of the rounds), or why each is missing.
struct OpenSsl {
    rsa_sign: Res<f64>,
    rsa_verify: Res<f64>,
    ecdsa_sign: Res<f64>,
    ed25519_sign: Res<f64>,
    /// bytes per second
    aes_gcm_16k: Res<f64>,
    /// (ops/s on 64-byte messages, bytes/s on 16 KiB messages)
    hmac: Res<(f64, f64)>,
    /// milliseconds per key, `openssl genpkey` as a process
    rsa_keygen_ms: Res<f64>,
}

/// `openssl speed` samples, taken one round at a time so that the rounds interleave with the
/// emulator's on a machine whose load changes.
#[derive(Default)]
struct OpenSslRounds {
    rs: Vec<f64>,
    rv: Vec<f64>,
    es: Vec<f64>,
    ed: Vec<f64>,
    aes: Vec<f64>,
    h64: Vec<f64>,
    h16k: Vec<f64>,
    errors: [Option<String>; 3],
    missing: Option<String>,
}

impl OpenSslRounds {
    fn new() -> OpenSslRounds {
        let mut rounds = OpenSslRounds::default();
        if let Err(e) = run_text("openssl", &["version"]) {
            rounds.missing = Some(format!("openssl not runnable ({e})"));
        }
        rounds
    }

    /// One run of each `openssl speed` command.
    fn round(&mut self) {
        if self.missing.is_some() {
            return;
        }
        match speed(&["rsa2048", "ecdsap256", "ed25519"]) {
            Ok(out) => {
                // +F2:<idx>:<bits>:<sign/s>:<verify/s>, +F4:<idx>:<bits>:<sign/s>:<verify/s>,
                // +F6:<idx>:<bits>:<name>:<sign/s>:<verify/s>
                for f in mr_lines(&out, "+F2:") {
                    if f.get(2).map(String::as_str) == Some("2048") {
                        push_num(&mut self.rs, f.get(3));
                        push_num(&mut self.rv, f.get(4));
                    }
                }
                for f in mr_lines(&out, "+F4:") {
                    if f.get(2).map(String::as_str) == Some("256") {
                        push_num(&mut self.es, f.get(3));
                    }
                }
                for f in mr_lines(&out, "+F6:") {
                    if f.get(3).map(String::as_str) == Some("Ed25519") {
                        push_num(&mut self.ed, f.get(4));
                    }
                }
            }
            Err(e) => self.errors[0] = Some(e),
        }
        match speed(&["-evp", "aes-256-gcm", "-bytes", "16384"]) {
            // +F:<idx>:<name>:<bytes/s>
            Ok(out) => {
                for f in mr_lines(&out, "+F:") {
                    if f.get(2)
                        .is_some_and(|n| n.eq_ignore_ascii_case("aes-256-gcm"))
                    {
                        push_num(&mut self.aes, f.get(3));
                    }
                }
            }
            Err(e) => self.errors[1] = Some(e),
        }
        match speed(&["-hmac", "sha256"]) {
            // +H:<size>:<size>:... then +F:<idx>:hmac(sha256):<bytes/s for each size>...
            Ok(out) => {
                // The first field is the "+H" tag itself.
                let sizes: Vec<String> = mr_lines(&out, "+H:")
                    .into_iter()
                    .next()
                    .map(|f| f.into_iter().skip(1).collect())
                    .unwrap_or_default();
                for f in mr_lines(&out, "+F:") {
                    if f.get(2).is_some_and(|n| n.contains("sha256")) {
                        for (i, size) in sizes.iter().enumerate() {
                            let value = f.get(3 + i).and_then(|v| v.parse::<f64>().ok());
                            match (size.as_str(), value) {
                                ("64", Some(v)) => self.h64.push(v / 64.0),
                                ("16384", Some(v)) => self.h16k.push(v),
                                _ => {}
                            }
                        }
                    }
                }
            }
            Err(e) => self.errors[2] = Some(e),
        }
    }

    /// The medians, and RSA key generation timed with `openssl genpkey`.
    fn finish(self) -> OpenSsl {
        if let Some(m) = &self.missing {
            return OpenSsl {
                rsa_sign: Err(m.clone()),
                rsa_verify: Err(m.clone()),
                ecdsa_sign: Err(m.clone()),
                ed25519_sign: Err(m.clone()),
                aes_gcm_16k: Err(m.clone()),
                hmac: Err(m.clone()),
                rsa_keygen_ms: Err(m.clone()),
            };
        }
        let pick = |v: &[f64], what: &str, e: &Option<String>| -> Res<f64> {
            if v.is_empty() {
                Err(e
                    .clone()
                    .unwrap_or_else(|| format!("no {what} line in `openssl speed -mr` output")))
            } else {
                Ok(median(v))
            }
        };
        let hmac = match (
            pick(&self.h64, "hmac 64-byte", &self.errors[2]),
            pick(&self.h16k, "hmac 16 KiB", &self.errors[2]),
        ) {
            (Ok(a), Ok(b)) => Ok((a, b)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        let mut keygen = vec![];
        let mut keygen_error = None;
        for _ in 0..8 {
            let start = Instant::now();
            let out = Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output();
            match out {
                Ok(o) if o.status.success() => keygen.push(start.elapsed().as_secs_f64() * 1e3),
                Ok(o) => keygen_error = Some(String::from_utf8_lossy(&o.stderr).trim().to_string()),
                Err(e) => keygen_error = Some(e.to_string()),
            }
        }
        OpenSsl {
            rsa_sign: pick(&self.rs, "rsa 2048 (+F2)", &self.errors[0]),
            rsa_verify: pick(&self.rv, "rsa 2048 (+F2)", &self.errors[0]),
            ecdsa_sign: pick(&self.es, "ecdsa 256 (+F4)", &self.errors[0]),
            ed25519_sign: pick(&self.ed, "Ed25519 (+F6)", &self.errors[0]),
            aes_gcm_16k: pick(&self.aes, "AES-256-GCM (+F)", &self.errors[1]),
            hmac,
            rsa_keygen_ms: pick(&keygen, "genpkey", &keygen_error),
        }
    }
}

fn push_num(v: &mut Vec<f64>, field: Option<&String>) {
    if let Some(x) = field.and_then(|s| s.trim().parse::<f64>().ok()) {
        v.push(x);
    }
}

/// The `:`-separated fields of the `-mr` lines starting with `prefix`.
fn mr_lines(out: &str, prefix: &str) -> Vec<Vec<String>> {
    out.lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.trim().split(':').map(str::to_string).collect())
        .collect()
}

/// `openssl speed -mr -seconds 1 <args>`: its stdout, or why it failed.
fn speed(args: &[&str]) -> Res<String> {
    let out = Command::new("openssl")
        .args(["speed", "-mr", "-seconds", "1"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("openssl speed {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "`openssl speed {}` failed: {}",
            args.join(" "),
            stderr.lines().next().unwrap_or("no message")
        ));
    }
    // In -mr mode the result lines may go to stdout or stderr depending on the version.
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(text)
}

fn run_text(program: &str, args: &[&str]) -> Res<String> {
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

/// Reference column and ratio for an emulator figure against an OpenSSL one.
fn versus(
    ours: &Res<f64>,
    theirs: &Res<f64>,
    label: &str,
    fmt: fn(f64) -> String,
) -> (String, String, Option<f64>) {
    match (ours, theirs) {
        (Ok(a), Ok(b)) => (
            format!("{} ({label})", fmt(*b)),
            format!("{:.2}×", a / b),
            Some(a / b),
        ),
        (_, Err(e)) => (format!("n/a: {e}"), "n/a".into(), None),
        (Err(_), Ok(b)) => (format!("{} ({label})", fmt(*b)), "n/a".into(), None),
    }
}

fn show(v: &Res<f64>, fmt: fn(f64) -> String) -> String {
    match v {
        Ok(x) => fmt(*x),
        Err(e) => format!("n/a: {e}"),
    }
}

fn per_s(v: f64) -> String {
    format!("{}/s", fmt_rate(v))
}

fn mb_s(v: f64) -> String {
    format!("{} MB/s", fmt_rate(v / 1e6))
}

// ---------------------------------------------------------------------------------------------
// Processes

fn cli(home: &Path) -> Command {
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
fn setup_cluster(home: &Path, kdf: &str, extra: &[String]) -> Res<()> {
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

fn login_cu1() -> String {
    format!("login --username cu1 --role crypto-user --password {CU_PW}")
}

/// One piped `cloudhsm-cli interactive` session: when each response ended.
struct PipedRun {
    spawned: Instant,
    /// Completion time of each response, and whether its `error_code` was 0.
    responses: Vec<(Instant, bool)>,
    exited: Instant,
    stderr: String,
    success: bool,
    /// The first failed response, for the report.
    first_failure: Option<String>,
}

impl PipedRun {
    fn failures(&self) -> usize {
        self.responses.iter().filter(|r| !r.1).count()
    }

    fn check(&self, expected: usize, what: &str) -> Res<()> {
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
    fn gaps(&self) -> Vec<Duration> {
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

fn run_piped(home: &Path, lines: Vec<String>) -> Res<PipedRun> {
    run_piped_started(home, lines, None)
}

/// Runs a piped session; with `barrier`, waits on it just before spawning.
fn run_piped_started(
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
fn time_single(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Res<(f64, bool)> {
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
fn latency(home: &Path, args: &[&str], env: &[(&str, &str)], runs: usize) -> Res<(f64, f64)> {
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

// ---------------------------------------------------------------------------------------------
// 1. Crypto in process

fn sign_mech(m: &str) -> Mechanism {
    match m {
        "rsa" => Mechanism::RsaPkcs {
            hash: HashFunction::Sha256,
            data_type: DataType::Raw,
        },
        "ec" => Mechanism::Ecdsa {
            hash: HashFunction::Sha256,
            data_type: DataType::Raw,
        },
        _ => Mechanism::Ed25519,
    }
}

/// The keys of the main benchmark cluster (labels, as `crypto sign` finds them).
fn main_cluster_keys() -> Vec<String> {
    let pair = |kind: &str, spec: &str, name: &str| {
        format!(
            "key generate-asymmetric-pair {kind} {spec} --public-label {name}-pub \
             --private-label {name}-priv --public-attributes verify=true \
             --private-attributes sign=true"
        )
    };
    vec![
        pair("ec", "--curve prime256v1", "ec"),
        pair(
            "rsa",
            "--modulus-size-bits 2048 --public-exponent 65537",
            "rsa",
        ),
        pair("ec", "--curve ed25519", "ed"),
        "key generate-symmetric aes --label aes-1 --key-length-bytes 32".to_string(),
    ]
}

/// The message every in-process signature signs.
const DATA: [u8; 32] = [7; 32];

/// One in-process throughput measurement, sampled once per round (after that round's
/// `openssl speed`), so that both sides see the same machine load.
struct Probe<'a> {
    run: Box<dyn FnMut() -> Res<()> + 'a>,
    /// Units per operation: bytes for MB/s figures, 1 for ops/s.
    units: f64,
    samples: Vec<f64>,
    error: Option<String>,
}

impl<'a> Probe<'a> {
    fn new(units: f64, run: impl FnMut() -> Res<()> + 'a) -> Probe<'a> {
        Probe {
            run: Box::new(run),
            units,
            samples: Vec::new(),
            error: None,
        }
    }

    fn failed(error: String) -> Probe<'a> {
        let mut p = Probe::new(1.0, || Err("not set up".to_string()));
        p.error = Some(error);
        p
    }

    fn sample(&mut self, budget: Duration) {
        if self.error.is_some() {
            return;
        }
        let run = &mut self.run;
        match throughput(1, budget, run) {
            Ok(rate) => self.samples.push(rate * self.units),
            Err(e) => self.error = Some(e),
        }
    }

    /// The median over the rounds.
    fn result(&self) -> Res<f64> {
        match (&self.error, self.samples.is_empty()) {
            (Some(e), _) => Err(e.clone()),
            (None, true) => Err("no sample".into()),
            (None, false) => Ok(median(&self.samples)),
        }
    }
}

/// `crypto::sign` with `key` under mechanism `m` (`rsa`, `ec`, `ed`).
fn sign_probe<'a>(key: &'a crypto::PrivateKey, m: &str) -> Probe<'a> {
    let mech = sign_mech(m);
    let mut entropy = Entropy::new(None);
    Probe::new(1.0, move || {
        crypto::sign(key, &mech, &DATA, &mut entropy)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

/// The main cluster, opened and logged in to as `cu1`, as a session of the CLI holds it.
fn logged_in_cluster(home: &Home) -> Res<(Cluster, Login)> {
    let mut cluster = Cluster::open(home, CLUSTER).map_err(|e| e.to_string())?;
    let cu1 = hsm::Username::parse("cu1").map_err(|e| e.to_string())?;
    let login = cluster
        .login(&cu1, Role::CryptoUser, CU_PW, &SessionId::new())
        .map_err(|e| e.to_string())?;
    Ok((cluster, login))
}

/// `Cluster::sign_data`, as the `crypto sign` handler calls it, with the private key
/// labelled `<name>-priv` of the main cluster.
fn cluster_probe(home: &Path, name: &str, m: &str) -> Probe<'static> {
    let setup = (|| -> Res<_> {
        let h = Home::open(home.to_path_buf()).map_err(|e| e.to_string())?;
        let (cluster, login) = logged_in_cluster(&h)?;
        let terms = vec![Term::Is(
            Attribute::Label,
            Value::Text(format!("{name}-priv")),
        )];
        Ok((cluster, login, terms))
    })();
    let (mut cluster, login, terms) = match setup {
        Ok(x) => x,
        Err(e) => return Probe::failed(e),
    };
    let entropy = Entropy::new(None);
    let mech = sign_mech(m);
    Probe::new(1.0, move || {
        // No approval file: the benchmark's keys have no use-key quorum.
        cluster
            .sign_data(&login, &terms, &mech, &DATA, &entropy, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

fn section_crypto(report: &mut Report, root: &Path, scale: &Scale) -> OpenSsl {
    eprintln!("perf: 1. crypto in process");
    let s = "1";
    let home = root.join("main");
    if let Err(e) = setup_cluster(&home, "fast", &main_cluster_keys()) {
        report.note(format!("main cluster setup failed: {e}"));
    }
    let mut entropy = Entropy::new(None);
    let keys = (|| -> Res<_> {
        let rsa = crypto::generate_rsa(&mut entropy, 2048, 65537).map_err(|e| e.to_string())?;
        let ec = crypto::generate_ec(&mut entropy, Curve::Prime256v1).map_err(|e| e.to_string())?;
        let ed = crypto::generate_ec(&mut entropy, Curve::Ed25519).map_err(|e| e.to_string())?;
        let aes =
            KeyMaterial::Secret(crypto::generate_aes(&mut entropy, 32).map_err(|e| e.to_string())?);
        let rsa_mech = sign_mech("rsa");
        let sig = crypto::sign(&rsa, &rsa_mech, &DATA, &mut entropy).map_err(|e| e.to_string())?;
        Ok((rsa, ec, ed, aes, sig))
    })();
    let big = vec![0x5au8; 16 * 1024];
    let hmac_key = [0x11u8; 32];
    let small = [0x22u8; 64];

    let big_ref: &[u8] = &big;
    let (mut rsa_sign, mut rsa_verify, mut ec_sign, mut ed_sign, mut aes_gcm) = match &keys {
        Ok((rsa, ec, ed, aes, sig)) => {
            let public = rsa.public_key();
            let mech = sign_mech("rsa");
            let mut e = Entropy::new(None);
            (
                sign_probe(rsa, "rsa"),
                Probe::new(1.0, move || {
                    match crypto::verify(&public, &mech, &DATA, sig) {
                        Ok(true) => Ok(()),
                        Ok(false) => Err("signature did not verify".into()),
                        Err(e) => Err(e.to_string()),
                    }
                }),
                sign_probe(ec, "ec"),
                sign_probe(ed, "ed"),
                Probe::new(big_ref.len() as f64, move || {
                    crypto::aes_gcm_encrypt(aes, big_ref, &[], 128, &mut e)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }),
            )
        }
        Err(e) => (
            Probe::failed(e.clone()),
            Probe::failed(e.clone()),
            Probe::failed(e.clone()),
            Probe::failed(e.clone()),
            Probe::failed(e.clone()),
        ),
    };
    let mut cluster_rsa = cluster_probe(&home, "rsa", "rsa");
    let mut cluster_ec = cluster_probe(&home, "ec", "ec");
    let mut cluster_ed = cluster_probe(&home, "ed", "ed");
    let mut hmac_small = Probe::new(1.0, || {
        crypto::hmac(HashFunction::Sha256, &hmac_key, &small);
        Ok(())
    });
    let mut hmac_big = Probe::new(big.len() as f64, || {
        crypto::hmac(HashFunction::Sha256, &hmac_key, &big);
        Ok(())
    });

    let mut ossl = OpenSslRounds::new();
    for round in 0..scale.rounds {
        eprintln!(
            "perf:   round {} of {}: openssl speed, then the emulator",
            round + 1,
            scale.rounds
        );
        ossl.round();
        for p in [
            &mut rsa_sign,
            &mut cluster_rsa,
            &mut rsa_verify,
            &mut ec_sign,
            &mut cluster_ec,
            &mut ed_sign,
            &mut cluster_ed,
            &mut aes_gcm,
            &mut hmac_small,
            &mut hmac_big,
        ] {
            p.sample(scale.budget);
        }
    }
    let ossl = ossl.finish();

    let target = "≥ 0.8× OpenSSL";
    let mut signing =
        |what: &str, ours: Res<f64>, theirs: &Res<f64>, label: &str, targeted: bool| {
            let (reference, ratio, r) = versus(&ours, theirs, label, per_s);
            let (t, result) = match (targeted, r) {
                (true, Some(r)) => (target, pass(r >= 0.8)),
                (true, None) => (target, "n/a".to_string()),
                (false, _) => ("–", "info".to_string()),
            };
            report.row(s, what, show(&ours, per_s), reference, ratio, t, result);
        };
    let rsa_label = "openssl speed rsa2048";
    signing(
        "RSA-2048 sign PKCS#1 v1.5 SHA-256, `crypto::sign`",
        rsa_sign.result(),
        &ossl.rsa_sign,
        rsa_label,
        true,
    );
    signing(
        "RSA-2048 sign, `Cluster::sign_data` (key lookup + decode + sign)",
        cluster_rsa.result(),
        &ossl.rsa_sign,
        rsa_label,
        true,
    );
    signing(
        "RSA-2048 verify, `crypto::verify`",
        rsa_verify.result(),
        &ossl.rsa_verify,
        rsa_label,
        false,
    );
    signing(
        "ECDSA P-256 sign SHA-256, `crypto::sign`",
        ec_sign.result(),
        &ossl.ecdsa_sign,
        "openssl speed ecdsap256",
        true,
    );
    signing(
        "ECDSA P-256 sign, `Cluster::sign_data`",
        cluster_ec.result(),
        &ossl.ecdsa_sign,
        "openssl speed ecdsap256",
        true,
    );
    signing(
        "Ed25519 sign, `crypto::sign`",
        ed_sign.result(),
        &ossl.ed25519_sign,
        "openssl speed ed25519",
        false,
    );
    signing(
        "Ed25519 sign, `Cluster::sign_data`",
        cluster_ed.result(),
        &ossl.ed25519_sign,
        "openssl speed ed25519",
        false,
    );
    drop((cluster_rsa, cluster_ec, cluster_ed));

    // RSA-2048 key generation: median time per key.
    let keygen = (|| -> Res<f64> {
        let mut times = Vec::new();
        let start = Instant::now();
        let min_keys = if scale.quick { 3 } else { 12 };
        while times.len() < min_keys
            || (start.elapsed() < Duration::from_secs(4) && times.len() < 60)
        {
            let t = Instant::now();
            crypto::generate_rsa(&mut entropy, 2048, 65537).map_err(|e| e.to_string())?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        Ok(median(&times))
    })();
    let (reference, ratio) = match (&keygen, &ossl.rsa_keygen_ms) {
        (Ok(a), Ok(b)) => (
            format!(
                "{} per key (`openssl genpkey` process; `openssl speed` 3.0 has no keygen test)",
                ms(*b)
            ),
            // Keys per second, emulator / OpenSSL, like every other ratio.
            format!("{:.2}×", b / a),
        ),
        (_, Err(e)) => (format!("n/a: {e}"), "n/a".into()),
        (Err(_), Ok(b)) => (ms(*b), "n/a".into()),
    };
    report.row(
        s,
        "RSA-2048 key generation, `crypto::generate_rsa` (median per key)",
        show(&keygen, ms),
        reference,
        ratio,
        "–",
        "info".into(),
    );

    let aes = aes_gcm.result();
    let (reference, ratio, _) = versus(
        &aes,
        &ossl.aes_gcm_16k,
        "openssl speed -evp aes-256-gcm",
        mb_s,
    );
    report.row(
        s,
        "AES-256-GCM encrypt, 16 KiB messages, `crypto::aes_gcm_encrypt`",
        show(&aes, mb_s),
        reference,
        ratio,
        "–",
        "info".into(),
    );
    let (o64, o16k) = match &ossl.hmac {
        Ok((a, b)) => (Ok(*a), Ok(*b)),
        Err(e) => (Err(e.clone()), Err(e.clone())),
    };
    let h64 = hmac_small.result();
    let (reference, ratio, _) = versus(&h64, &o64, "openssl speed -hmac sha256, 64 B", per_s);
    report.row(
        s,
        "HMAC-SHA256, 64-byte messages, `crypto::hmac`",
        show(&h64, per_s),
        reference,
        ratio,
        "–",
        "info".into(),
    );
    let h16k = hmac_big.result();
    let (reference, ratio, _) = versus(&h16k, &o16k, "openssl speed -hmac sha256, 16 KiB", mb_s);
    report.row(
        s,
        "HMAC-SHA256, 16 KiB messages, `crypto::hmac`",
        show(&h16k, mb_s),
        reference,
        ratio,
        "–",
        "info".into(),
    );

    sign_breakdown(&home, scale, report);
    ossl
}

/// Where the time of one `Cluster::sign_data` goes, and the fixed cost of every command
/// (reported as diagnostics).
fn sign_breakdown(home: &Path, scale: &Scale, report: &mut Report) {
    let opened = Home::open(home.to_path_buf())
        .map_err(|e| e.to_string())
        .and_then(|h| logged_in_cluster(&h).map(|(c, login)| (h, c, login)));
    let (h, mut cluster, login) = match opened {
        Ok(x) => x,
        Err(e) => {
            report.note(format!("`Cluster::sign_data` breakdown: n/a ({e})"));
            return;
        }
    };
    let entropy = Entropy::new(None);
    let n = if scale.quick { 50 } else { 300 };
    for (name, m) in [("rsa", "rsa"), ("ec", "ec"), ("ed", "ed")] {
        let mech = sign_mech(m);
        let breakdown = (|| -> Res<String> {
            let terms = vec![Term::Is(
                Attribute::Label,
                Value::Text(format!("{name}-priv")),
            )];
            let key = cluster
                .select_key(&login, &terms)
                .map_err(|e| e.to_string())?;
            let select = mean_time(n, || {
                cluster
                    .select_key(&login, &terms)
                    .map_err(|e| e.to_string())
            })?;
            let blob = cluster
                .key_material(&login, &key)
                .map_err(|e| e.to_string())?;
            let read = mean_time(n, || {
                cluster
                    .key_material(&login, &key)
                    .map_err(|e| e.to_string())
            })?;
            let decode = mean_time(n, || {
                KeyMaterial::from_blob(&blob).map_err(|e| e.to_string())
            })?;
            let mut e = entropy.derive(key.reference);
            // The first signature on a freshly decoded key (RSA: AWS-LC loads the key
            // then), as every command signs; then a key decoded once and reused.
            let reps = n.min(100);
            let mut first = Duration::ZERO;
            for _ in 0..reps {
                let KeyMaterial::Private(k) =
                    KeyMaterial::from_blob(&blob).map_err(|e| e.to_string())?
                else {
                    return Err("not a private key".into());
                };
                let t = Instant::now();
                crypto::sign(&k, &mech, &DATA, &mut e).map_err(|e| e.to_string())?;
                first += t.elapsed();
            }
            let first = first / reps as u32;
            let KeyMaterial::Private(private) =
                KeyMaterial::from_blob(&blob).map_err(|e| e.to_string())?
            else {
                return Err("not a private key".into());
            };
            let steady = mean_time(n, || {
                crypto::sign(&private, &mech, &DATA, &mut e).map_err(|e| e.to_string())
            })?;
            Ok(format!(
                "`Cluster::sign_data` {name}: select_key {} + key_material {} + \
                 KeyMaterial::from_blob {} + first crypto::sign on the decoded key {} \
                 (a key decoded once and reused signs in {})",
                us(select),
                us(read),
                us(decode),
                us(first),
                us(steady)
            ))
        })();
        match breakdown {
            Ok(text) => report.note(text),
            Err(e) => report.note(format!("`Cluster::sign_data` {name} breakdown: n/a ({e})")),
        }
    }
    // The fixed cost every command of a piped session pays before its handler runs.
    let fixed = (|| -> Res<String> {
        let home_open = mean_time(n, || {
            Home::open(home.to_path_buf()).map_err(|e| e.to_string())
        })?;
        let mut entropy = Entropy::new(None);
        let resolve = mean_time(n, || {
            hsm::resolve(&h, None, &mut entropy).map_err(|e| e.to_string())
        })?;
        let open = mean_time(n, || Cluster::open(&h, CLUSTER).map_err(|e| e.to_string()))?;
        let users = mean_time(n, || cluster.users().map_err(|e| e.to_string()))?;
        let terms = vec![Term::Is(Attribute::Label, Value::Text("aes-1".into()))];
        let list = mean_time(n, || {
            cluster.list_keys(&login, &terms).map_err(|e| e.to_string())
        })?;
        Ok(format!(
            "per-command cost in process: Home::open {} + hsm::resolve {} + Cluster::open {}; \
             handler work: Cluster::users {}, Cluster::list_keys(label) {}",
            us(home_open),
            us(resolve),
            us(open),
            us(users),
            us(list)
        ))
    })();
    match fixed {
        Ok(text) => report.note(text),
        Err(e) => report.note(format!("per-command cost: n/a ({e})")),
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Through the CLI

fn section_cli(report: &mut Report, root: &Path, scale: &Scale, ossl: &OpenSsl) {
    eprintln!("perf: 2. piped sessions");
    let s = "2";
    let home = root.join("main");
    match fsync_latency(root, if scale.quick { 20 } else { 100 }) {
        Ok((p50, p95)) => report.note(format!(
            "this disk: 4 KiB write + fsync p50 {p50:.2} ms / p95 {p95:.2} ms, so at most {} \
             durable (synchronous=FULL) commits/s per writer",
            fmt_rate(1e3 / p50)
        )),
        Err(e) => report.note(format!("fsync probe: n/a ({e})")),
    }
    let kinds = [
        "user list",
        "key list --filter",
        "key generate-symmetric aes",
        "crypto sign ecdsa",
    ];
    let mut lines = vec![login_cu1()];
    for i in 0..scale.mixed / 4 {
        lines.push("user list".to_string());
        lines.push("key list --filter attr.label=aes-1".to_string());
        lines.push(format!(
            "key generate-symmetric aes --label mixed-{i} --key-length-bytes 32"
        ));
        lines.push(format!(
            "crypto sign ecdsa --key-filter attr.label=ec-priv --hash-function sha256 --data {DATA_B64}"
        ));
    }
    let n = lines.len();
    match run_piped(&home, lines) {
        Ok(run) => {
            let wall = run.exited.duration_since(run.spawned).as_secs_f64();
            let rate = n as f64 / wall;
            let ok = run.check(n, "mixed session");
            report.row(
                s,
                &format!(
                    "piped session, {} mixed commands (+ login), process start to exit",
                    n - 1
                ),
                format!("{}/s ({:.2} s)", fmt_rate(rate), wall),
                "–".into(),
                "–".into(),
                "≥ 2,000/s",
                match &ok {
                    Ok(()) => pass(rate >= 2000.0),
                    Err(e) => format!("n/a: {e}"),
                },
            );
            let gaps = run.gaps();
            let mut text = String::from("mixed session, mean time per command:");
            for (k, kind) in kinds.iter().enumerate() {
                let g: Vec<f64> = gaps
                    .iter()
                    .skip(1)
                    .enumerate()
                    .filter(|(i, _)| i % 4 == k)
                    .map(|(_, d)| d.as_secs_f64() * 1e6)
                    .collect();
                let mean = g.iter().sum::<f64>() / g.len().max(1) as f64;
                let _ = write!(
                    text,
                    " {kind} {mean:.0} µs (p95 {:.0} µs);",
                    percentile(&g, 95.0)
                );
            }
            let _ = write!(
                text,
                " start-up and login {:.1} ms",
                gaps.first().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
            );
            report.note(text);
        }
        Err(e) => report.row(
            s,
            "piped session, mixed commands",
            format!("n/a: {e}"),
            "–".into(),
            "–".into(),
            "≥ 2,000/s",
            "n/a".into(),
        ),
    }

    // RSA-2048 signing through a piped session.
    let mut lines = vec![login_cu1()];
    for _ in 0..scale.piped_rsa {
        lines.push(format!(
            "crypto sign rsa-pkcs --key-filter attr.label=rsa-priv --hash-function sha256 --data {DATA_B64}"
        ));
    }
    let n = lines.len();
    let rsa = run_piped(&home, lines).and_then(|run| {
        run.check(n, "piped RSA session")?;
        let (first, last) = match (run.responses.first(), run.responses.last()) {
            (Some(a), Some(b)) => (a.0, b.0),
            _ => return Err("no responses".into()),
        };
        Ok((n - 1) as f64 / last.duration_since(first).as_secs_f64())
    });
    let (reference, ratio, r) = versus(&rsa, &ossl.rsa_sign, "openssl speed rsa2048", per_s);
    report.row(
        s,
        &format!(
            "RSA-2048 `crypto sign rsa-pkcs` through a piped session ({} signatures, after login)",
            scale.piped_rsa
        ),
        show(&rsa, per_s),
        reference,
        ratio,
        "≥ 0.5× OpenSSL",
        r.map_or("n/a".into(), |r| pass(r >= 0.5)),
    );
}

/// p50 and p95 (ms) of a 4 KiB write followed by `fsync` in `dir`: the floor under every
/// committed transaction with `synchronous=FULL`.
fn fsync_latency(dir: &Path, n: usize) -> Res<(f64, f64)> {
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

// ---------------------------------------------------------------------------------------------
// 3. Single-command latency

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

fn section_single(report: &mut Report, root: &Path, scale: &Scale) {
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

// ---------------------------------------------------------------------------------------------
// 4. Login cost

fn section_login(report: &mut Report, root: &Path, scale: &Scale) {
    eprintln!("perf: 4. login cost");
    let s = "4";
    let fast = root.join("main");
    let default = root.join("default-kdf");
    let default_ready = setup_cluster(&default, "default", &[]);
    for (preset, home, ready) in [
        ("default", &default, default_ready),
        ("fast", &fast, Ok(())),
    ] {
        let in_process = ready.clone().and_then(|()| {
            let h = Home::open(home.to_path_buf()).map_err(|e| e.to_string())?;
            let mut cluster = Cluster::open(&h, CLUSTER).map_err(|e| e.to_string())?;
            let session = SessionId::new();
            let cu1 = hsm::Username::parse("cu1").map_err(|e| e.to_string())?;
            let mut times = Vec::new();
            for _ in 0..scale.logins + 1 {
                let t = Instant::now();
                let login = cluster
                    .login(&cu1, Role::CryptoUser, CU_PW, &session)
                    .map_err(|e| e.to_string())?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
                cluster.logout(login).map_err(|e| e.to_string())?;
            }
            Ok(median(&times[1..]))
        });
        report.row(
            s,
            &format!(
                "`Cluster::login` in process, `{preset}` preset (p50 of {})",
                scale.logins
            ),
            show(&in_process, ms),
            "–".into(),
            "–".into(),
            "–",
            "info".into(),
        );
        let args = [
            "login",
            "--username",
            "cu1",
            "--role",
            "crypto-user",
            "--password",
            CU_PW,
        ];
        let process = ready.and_then(|()| latency(home, &args, &[], scale.logins));
        report.row(
            s,
            &format!(
                "single-command `cloudhsm-cli login`, `{preset}` preset, process start to exit"
            ),
            match &process {
                Ok((p50, p95)) => format!("p50 {} / p95 {}", ms(*p50), ms(*p95)),
                Err(e) => format!("n/a: {e}"),
            },
            "–".into(),
            "–".into(),
            "–",
            "info".into(),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Concurrency

fn section_concurrency(report: &mut Report, root: &Path, scale: &Scale) {
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

// ---------------------------------------------------------------------------------------------
// The machine

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

fn print_machine(quick: bool, load_before: String, elapsed: Duration) {
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
