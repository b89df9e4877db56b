//! cloudhsm-sim: a faithful local emulator of the AWS CloudHSM command line (`cloudhsm-cli`)
//! over a simulated HSM cluster kept on the user's machine.
//!
//! Layers, with imports only downwards (see docs/architecture.md):
//! `bin → shell / control → session → {grammar, output, hsm}`, `hsm → store`; `secret`, a
//! leaf, sits below `grammar` and `hsm`.

pub mod control;
pub mod grammar;
pub mod hsm;
pub mod output;
pub mod secret;
pub mod session;
pub mod shell;
pub mod store;
