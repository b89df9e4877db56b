//! Section 2: through the CLI, a piped session of mixed commands and RSA signing in a piped
//! session.

use std::fmt::Write as _;
use std::path::Path;

use crate::machine::fsync_latency;
use crate::openssl::{versus, OpenSsl};
use crate::procs::{login_cu1, run_piped};
use crate::report::{fmt_rate, pass, per_s, show, Report};
use crate::stats::percentile;
use crate::{Scale, DATA_B64};

pub(crate) fn section(report: &mut Report, root: &Path, scale: &Scale, ossl: &OpenSsl) {
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
