//! The report: each side's samples, the Markdown tables, the machine and its load.

use std::process::Command;
use std::time::Duration;

use crate::sides::Which;
use crate::Res;

/// How a row's figure is written: calls per second, bytes per second (of calls of that many
/// bytes), or time per call.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Show {
    Rate,
    Bytes(f64),
    Time,
}

impl Show {
    /// `rate` is calls per second.
    fn fmt(self, rate: f64) -> String {
        match self {
            Show::Rate => format!("{}/s", group(rate)),
            Show::Bytes(n) => format!("{} MB/s", group(rate * n / 1e6)),
            Show::Time => {
                let us = 1e6 / rate;
                if us >= 1_000.0 {
                    format!("{:.2} ms", us / 1e3)
                } else {
                    format!("{us:.0} µs")
                }
            }
        }
    }
}

/// Calls per second, one value per round, for each module (or why there is none).
#[derive(Default)]
pub(crate) struct Samples {
    ours: Vec<f64>,
    softhsm: Vec<f64>,
    ours_error: Option<String>,
    softhsm_error: Option<String>,
}

impl Samples {
    pub(crate) fn push(&mut self, which: Which, value: Res<f64>) {
        let (values, error) = match which {
            Which::Ours => (&mut self.ours, &mut self.ours_error),
            Which::SoftHsm => (&mut self.softhsm, &mut self.softhsm_error),
        };
        match value {
            Ok(v) => values.push(v),
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }

    /// The median of a side's rounds; a side with a failed round has no figure.
    pub(crate) fn median(&self, which: Which) -> Res<f64> {
        let (values, error) = match which {
            Which::Ours => (&self.ours, &self.ours_error),
            Which::SoftHsm => (&self.softhsm, &self.softhsm_error),
        };
        match error {
            Some(e) => Err(e.clone()),
            None if values.is_empty() => Err("no sample".into()),
            None => Ok(median(values)),
        }
    }
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

pub(crate) struct Report {
    quick: bool,
    load_before: String,
    rows: Vec<[String; 5]>,
    openssl: Vec<[String; 6]>,
    notes: Vec<String>,
}

impl Report {
    pub(crate) fn new(quick: bool, load_before: String) -> Report {
        Report {
            quick,
            load_before,
            rows: Vec::new(),
            openssl: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A row of the main table: each side's median and the ratio ours ÷ SoftHSMv2 of the
    /// rates (so of the inverse times for a time row): higher is better.
    pub(crate) fn row(&mut self, what: &str, show: Show, samples: &Samples, target: &str) {
        let ours = samples.median(Which::Ours);
        let theirs = samples.median(Which::SoftHsm);
        self.rows.push([
            what.to_string(),
            cell(&ours, show),
            cell(&theirs, show),
            ratio(&ours, &theirs),
            target.to_string(),
        ]);
    }

    /// A row with figures computed elsewhere (the parallel section).
    pub(crate) fn row_text(&mut self, cells: [String; 5]) {
        self.rows.push(cells);
    }

    /// A signature row against `openssl speed`.
    pub(crate) fn openssl(&mut self, what: &str, samples: &Samples, openssl: &Res<f64>) {
        let ours = samples.median(Which::Ours);
        let theirs = samples.median(Which::SoftHsm);
        self.openssl.push([
            what.to_string(),
            cell(&ours, Show::Rate),
            cell(&theirs, Show::Rate),
            cell(openssl, Show::Rate),
            ratio(&ours, openssl),
            ratio(&theirs, openssl),
        ]);
    }

    pub(crate) fn note(&mut self, text: String) {
        eprintln!("pkcs11 bench:   {text}");
        self.notes.push(text);
    }

    pub(crate) fn print(&self, elapsed: Duration) {
        println!(
            "PKCS#11 benchmark: libcloudhsm_pkcs11.so against SoftHSMv2{}",
            if self.quick {
                " (--quick: reduced counts)"
            } else {
                ""
            }
        );
        println!();
        for line in machine(&self.load_before, elapsed) {
            println!("- {line}");
        }
        println!();
        println!("| measurement | ours | SoftHSMv2 | ours ÷ SoftHSMv2 | target |");
        println!("|---|---|---|---|---|");
        for r in &self.rows {
            println!("| {} |", r.join(" | "));
        }
        println!();
        println!(
            "| signature, for reference | ours | SoftHSMv2 | openssl speed | ours ÷ openssl | SoftHSMv2 ÷ openssl |"
        );
        println!("|---|---|---|---|---|---|");
        for r in &self.openssl {
            println!("| {} |", r.join(" | "));
        }
        if !self.notes.is_empty() {
            println!();
            println!("Notes:");
            println!();
            for n in &self.notes {
                println!("- {n}");
            }
        }
    }
}

pub(crate) fn cell(v: &Res<f64>, show: Show) -> String {
    match v {
        Ok(x) => show.fmt(*x),
        Err(e) => format!("n/a: {e}"),
    }
}

pub(crate) fn ratio(a: &Res<f64>, b: &Res<f64>) -> String {
    match (a, b) {
        (Ok(a), Ok(b)) if *b > 0.0 => format!("{:.2}×", a / b),
        _ => "n/a".into(),
    }
}

/// 12345.6 → "12,346"; below 100, one decimal.
pub(crate) fn group(v: f64) -> String {
    if v < 100.0 {
        return format!("{v:.1}");
    }
    let s = (v.round() as u64).to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

fn text_of(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
        Err(e) => format!("{program}: {e}"),
    }
}

/// The machine, the versions and the load, one line each.
fn machine(load_before: &str, elapsed: Duration) -> Vec<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "n/a".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let commit = text_of(
        "git",
        &[
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ],
    );
    vec![
        format!("machine: {cpus} CPUs (nproc), {model}, Linux {}", kernel.trim()),
        format!(
            "SoftHSMv2 {} (softhsm2-util --version); {}; commit {commit} (plus any uncommitted changes)",
            text_of("softhsm2-util", &["--version"]),
            text_of("openssl", &["version"])
        ),
        format!(
            "load average before / after: {load_before} / {}; run time {:.0} s",
            loadavg(),
            elapsed.as_secs_f64()
        ),
    ]
}
