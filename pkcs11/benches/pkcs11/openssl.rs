//! The reference: `openssl speed -mr -seconds 1 rsa2048 ecdsap256`, one run per round.

use std::process::{Command, Stdio};

use crate::report::median;
use crate::Res;

pub(crate) struct OpenSsl {
    pub(crate) rsa_sign: Res<f64>,
    pub(crate) ecdsa_sign: Res<f64>,
}

#[derive(Default)]
pub(crate) struct OpenSslRounds {
    rsa: Vec<f64>,
    ecdsa: Vec<f64>,
    error: Option<String>,
}

impl OpenSslRounds {
    pub(crate) fn new() -> OpenSslRounds {
        OpenSslRounds::default()
    }

    pub(crate) fn round(&mut self) {
        let out = Command::new("openssl")
            .args(["speed", "-mr", "-seconds", "1", "rsa2048", "ecdsap256"])
            .stdin(Stdio::null())
            .output();
        let out = match out {
            Ok(o) if o.status.success() => o,
            Ok(o) => {
                let stderr = String::from_utf8_lossy(&o.stderr);
                self.error = Some(format!(
                    "openssl speed failed: {}",
                    stderr.lines().next().unwrap_or("no message")
                ));
                return;
            }
            Err(e) => {
                self.error = Some(format!("openssl: {e}"));
                return;
            }
        };
        // -mr lines may go to either stream depending on the version.
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // +F2:<idx>:<bits>:<sign/s>:<verify/s> (RSA), +F4:… (ECDSA)
        for line in text.lines() {
            let f: Vec<&str> = line.trim().split(':').collect();
            let sign = f.get(3).and_then(|v| v.parse::<f64>().ok());
            match (f.first(), f.get(2), sign) {
                (Some(&"+F2"), Some(&"2048"), Some(v)) => self.rsa.push(v),
                (Some(&"+F4"), Some(&"256"), Some(v)) => self.ecdsa.push(v),
                _ => {}
            }
        }
    }

    pub(crate) fn finish(self) -> OpenSsl {
        let pick = |v: &[f64], what: &str| -> Res<f64> {
            if v.is_empty() {
                Err(self
                    .error
                    .clone()
                    .unwrap_or_else(|| format!("no {what} line in `openssl speed -mr`")))
            } else {
                Ok(median(v))
            }
        };
        OpenSsl {
            rsa_sign: pick(&self.rsa, "rsa 2048"),
            ecdsa_sign: pick(&self.ecdsa, "ecdsa 256"),
        }
    }
}
