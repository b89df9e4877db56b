//! The reference: `openssl speed` and `openssl genpkey` run by the benchmark, in rounds
//! that interleave with the emulator's.

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::procs::run_text;
use crate::stats::median;
use crate::Res;

/// `openssl speed` figures (medians of the rounds), or why each is missing.
pub(crate) struct OpenSsl {
    pub(crate) rsa_sign: Res<f64>,
    pub(crate) rsa_verify: Res<f64>,
    pub(crate) ecdsa_sign: Res<f64>,
    pub(crate) ed25519_sign: Res<f64>,
    /// bytes per second
    pub(crate) aes_gcm_16k: Res<f64>,
    /// (ops/s on 64-byte messages, bytes/s on 16 KiB messages)
    pub(crate) hmac: Res<(f64, f64)>,
    /// milliseconds per key, `openssl genpkey` as a process
    pub(crate) rsa_keygen_ms: Res<f64>,
}

/// `openssl speed` samples, taken one round at a time so that the rounds interleave with the
/// emulator's on a machine whose load changes.
#[derive(Default)]
pub(crate) struct OpenSslRounds {
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
    pub(crate) fn new() -> OpenSslRounds {
        let mut rounds = OpenSslRounds::default();
        if let Err(e) = run_text("openssl", &["version"]) {
            rounds.missing = Some(format!("openssl not runnable ({e})"));
        }
        rounds
    }

    /// One run of each `openssl speed` command.
    pub(crate) fn round(&mut self) {
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
    pub(crate) fn finish(self) -> OpenSsl {
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

/// Reference column and ratio for an emulator figure against an OpenSSL one.
pub(crate) fn versus(
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
