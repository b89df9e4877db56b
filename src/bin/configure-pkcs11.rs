//! `configure-pkcs11`: the emulated configuration tool of the CloudHSM PKCS#11 library.

use std::io;
use std::process::ExitCode;

use cloudhsm_sim::control::configure::{self, Tool};
use cloudhsm_sim::hsm::Environment;

fn main() -> ExitCode {
    let env = Environment::from_process();
    let mut err = io::stderr().lock();
    let seed = env.seed().unwrap_or_default();
    let mut out = io::stdout().lock();
    let status = configure::run(
        Tool::Pkcs11,
        std::env::args_os().skip(1).collect(),
        env.home().cloned(),
        seed,
        &mut out,
        &mut err,
    );
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
