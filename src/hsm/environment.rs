//! The simulator's settings from the environment, read the same way by every front end (the
//! CLI, the control tools, the PKCS#11 module): where the state lives, the seed of its
//! randomness and a fixed clock.

use std::path::PathBuf;

use super::Entropy;
use crate::store::Home;

/// `CLOUDHSM_SIM_HOME` (or its fallbacks), `CLOUDHSM_SIM_SEED` and `CLOUDHSM_SIM_NOW`, captured
/// once when a front end starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    home: Option<PathBuf>,
    seed: Option<String>,
    clock: Option<i64>,
}

/// A setting in the environment that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentError {
    /// `CLOUDHSM_SIM_SEED` is set (not empty) but is no `u64`.
    #[error("CLOUDHSM_SIM_SEED must be an unsigned 64-bit integer, not {0:?}")]
    Seed(String),
}

impl Environment {
    /// Reads the variables through `var`.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Environment {
        Environment {
            home: Home::resolve(&var),
            seed: var("CLOUDHSM_SIM_SEED").filter(|s| !s.is_empty()),
            clock: var("CLOUDHSM_SIM_NOW").and_then(|v| v.parse().ok()),
        }
    }

    /// Reads the process environment.
    pub fn from_process() -> Environment {
        Environment::from_lookup(|k| std::env::var(k).ok())
    }

    /// The state directory (`CLOUDHSM_SIM_HOME`, else `XDG_DATA_HOME`, else `HOME`; see
    /// [`Home::resolve`]); `None` when none of them is set.
    pub fn home(&self) -> Option<&PathBuf> {
        self.home.as_ref()
    }

    /// `CLOUDHSM_SIM_SEED`: the seed of every generator, so that runs can be repeated;
    /// `None` when it is unset or empty, an error when it is not a number.
    pub fn seed(&self) -> Result<Option<u64>, EnvironmentError> {
        match &self.seed {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| EnvironmentError::Seed(s.clone())),
        }
    }

    /// The randomness of a front end: seeded by `CLOUDHSM_SIM_SEED` when it is set.
    pub fn entropy(&self) -> Result<Entropy, EnvironmentError> {
        Ok(Entropy::new(self.seed()?))
    }

    /// `CLOUDHSM_SIM_NOW`: a fixed clock in Unix seconds for token expiry (for tests; see
    /// [`super::Cluster::open_with_clock`]). A value that is not an integer is ignored.
    pub fn clock(&self) -> Option<i64> {
        self.clock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        Environment::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_seed_is_a_u64_and_empty_means_unset() {
        assert_eq!(env(&[]).seed(), Ok(None));
        assert_eq!(env(&[("CLOUDHSM_SIM_SEED", "")]).seed(), Ok(None));
        assert_eq!(env(&[("CLOUDHSM_SIM_SEED", "7")]).seed(), Ok(Some(7)));
        assert_eq!(
            env(&[("CLOUDHSM_SIM_SEED", &u64::MAX.to_string())]).seed(),
            Ok(Some(u64::MAX))
        );
        for bad in ["-1", "seven", "18446744073709551616", " 7"] {
            let e = env(&[("CLOUDHSM_SIM_SEED", bad)]).seed().unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("CLOUDHSM_SIM_SEED must be an unsigned 64-bit integer, not {bad:?}")
            );
            assert!(env(&[("CLOUDHSM_SIM_SEED", bad)]).entropy().is_err());
        }
    }

    #[test]
    fn a_seeded_environment_gives_repeatable_entropy() {
        let seeded = env(&[("CLOUDHSM_SIM_SEED", "42")]);
        assert!(seeded.entropy().unwrap().is_seeded());
        assert!(!env(&[]).entropy().unwrap().is_seeded());
    }

    #[test]
    fn the_clock_is_unix_seconds_and_anything_else_is_ignored() {
        assert_eq!(env(&[]).clock(), None);
        assert_eq!(
            env(&[("CLOUDHSM_SIM_NOW", "1700000000")]).clock(),
            Some(1_700_000_000)
        );
        assert_eq!(env(&[("CLOUDHSM_SIM_NOW", "-5")]).clock(), Some(-5));
        for ignored in ["", "now", "1.5", "1e9"] {
            assert_eq!(
                env(&[("CLOUDHSM_SIM_NOW", ignored)]).clock(),
                None,
                "{ignored:?}"
            );
        }
    }

    #[test]
    fn the_home_is_resolved_as_the_store_resolves_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_string_lossy().into_owned();
        let vars = [("CLOUDHSM_SIM_HOME", path.as_str())];
        let lookup = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        assert_eq!(env(&vars).home().cloned(), Home::resolve(lookup));
        assert!(env(&vars).home().is_some());
    }
}
