//! `cloudhsm-sim`: control the simulated clusters (create, inspect, reset).

use std::io;
use std::process::ExitCode;

use cloudhsm_sim::control;
use cloudhsm_sim::hsm::Environment;

fn main() -> ExitCode {
    let env = Environment::from_process();
    let mut err = io::stderr().lock();
    let seed = match env.seed() {
        Ok(seed) => seed,
        Err(text) => {
            use std::io::Write;
            let _ = writeln!(err, "error: {text}");
            return ExitCode::from(2);
        }
    };
    let mut out = io::stdout().lock();
    let status = control::run(
        std::env::args_os().skip(1).collect(),
        env.home().cloned(),
        seed,
        &mut out,
        &mut err,
    );
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
