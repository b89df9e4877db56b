//! The environment variables the CLI reads, captured once at start.

use std::path::PathBuf;

use crate::store::Home;

/// A snapshot of the variables that steer `cloudhsm-cli`.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// The state directory (`CLOUDHSM_SIM_HOME`, `XDG_DATA_HOME`, `HOME`).
    pub home: Option<PathBuf>,
    /// `CLOUDHSM_ROLE`.
    pub role: Option<String>,
    /// `CLOUDHSM_PIN` (`<username>:<password>`).
    pub pin: Option<String>,
    /// `CLOUDHSM_SIM_SEED`, unparsed.
    pub seed: Option<String>,
    /// `CLOUDHSM_SIM_STRICT=1`: stop at the first failure.
    pub strict: bool,
    /// `CLOUDHSM_SIM_NOW`: a fixed clock in Unix seconds (token expiry tests).
    pub now: Option<i64>,
}

impl Env {
    /// Reads the variables through `var`.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Env {
        Env {
            home: Home::resolve(&var),
            role: var("CLOUDHSM_ROLE"),
            pin: var("CLOUDHSM_PIN"),
            seed: var("CLOUDHSM_SIM_SEED").filter(|s| !s.is_empty()),
            strict: var("CLOUDHSM_SIM_STRICT").is_some_and(|v| v == "1"),
            now: var("CLOUDHSM_SIM_NOW").and_then(|v| v.parse().ok()),
        }
    }

    /// Reads the process environment.
    pub fn from_process() -> Env {
        Env::from_lookup(|k| std::env::var(k).ok())
    }

    /// The seed, if set; an error text if it is not a number.
    pub fn seed(&self) -> Result<Option<u64>, String> {
        match &self.seed {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|_| {
                format!("CLOUDHSM_SIM_SEED must be an unsigned 64-bit integer, not {s:?}")
            }),
        }
    }
}
