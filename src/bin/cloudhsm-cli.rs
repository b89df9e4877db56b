//! `cloudhsm-cli`: the emulated AWS CloudHSM command line.

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use cloudhsm_sim::shell::{self, Env, Stdio};

fn main() -> ExitCode {
    let stdin = io::stdin();
    let input_is_terminal = stdin.is_terminal();
    let interactive_terminal = input_is_terminal && io::stdout().is_terminal();
    let mut input = stdin.lock();
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    let status = shell::run(
        std::env::args_os().skip(1).collect(),
        &Env::from_process(),
        Stdio {
            input: &mut input,
            input_is_terminal,
            interactive_terminal,
            out: &mut out,
            err: &mut err,
        },
    );
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
