//! Section 4: login cost under the `default` and `fast` password-hash presets.

use std::path::Path;
use std::time::Instant;

use cloudhsm_sim::hsm::{Cluster, Role, SessionId, Username};
use cloudhsm_sim::store::Home;

use crate::procs::{latency, setup_cluster};
use crate::report::{ms, show, Report};
use crate::stats::median;
use crate::{Scale, CLUSTER, CU_PW};

pub(crate) fn section(report: &mut Report, root: &Path, scale: &Scale) {
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
            let cu1 = Username::parse("cu1").map_err(|e| e.to_string())?;
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
