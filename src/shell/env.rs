//! The environment variables the CLI reads, captured once at start.

use crate::hsm::{Environment, Password};
use crate::output::Format;

/// A snapshot of the variables that steer `cloudhsm-cli`.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// What every front end reads the same way: the state directory, `CLOUDHSM_SIM_SEED`
    /// and `CLOUDHSM_SIM_NOW`.
    pub sim: Environment,
    /// `CLOUDHSM_ROLE`.
    pub role: Option<String>,
    /// `CLOUDHSM_PIN` (`<username>:<password>`).
    pub pin: Option<Password>,
    /// `DESTINATION_CLOUDHSM_ROLE`: the destination cluster's of `user replicate` and
    /// `key replicate`.
    pub destination_role: Option<String>,
    /// `DESTINATION_CLOUDHSM_PIN` (`<username>:<password>`).
    pub destination_pin: Option<Password>,
    /// `CLOUDHSM_SIM_STRICT=1`: stop at the first failure.
    pub strict: bool,
    /// `CLOUDHSM_SIM_OUTPUT` (`json` or `table`), unparsed.
    pub output: Option<String>,
    /// The pager for output taller than the terminal: `CLOUDHSM_SIM_PAGER`, else `PAGER`;
    /// `None` when neither is set, or when it is empty or `off`.
    pub pager: Option<String>,
}

impl Env {
    /// Reads the variables through `var`.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Env {
        Env {
            sim: Environment::from_lookup(&var),
            role: var("CLOUDHSM_ROLE"),
            pin: var("CLOUDHSM_PIN").map(Password::from),
            destination_role: var("DESTINATION_CLOUDHSM_ROLE"),
            destination_pin: var("DESTINATION_CLOUDHSM_PIN").map(Password::from),
            strict: var("CLOUDHSM_SIM_STRICT").is_some_and(|v| v == "1"),
            output: var("CLOUDHSM_SIM_OUTPUT").filter(|s| !s.is_empty()),
            pager: var("CLOUDHSM_SIM_PAGER")
                .or_else(|| var("PAGER"))
                .filter(|p| !p.trim().is_empty() && p.trim() != "off"),
        }
    }

    /// Reads the process environment.
    pub fn from_process() -> Env {
        Env::from_lookup(|k| std::env::var(k).ok())
    }

    /// How responses are shown: `CLOUDHSM_SIM_OUTPUT`, unless `interactive --output` (given
    /// as `flag`) says otherwise; JSON when neither is set. An error text for a value that is
    /// neither `json` nor `table`.
    pub fn format(&self, flag: Option<&str>) -> Result<Format, String> {
        match flag.or(self.output.as_deref()) {
            None => Ok(Format::Json),
            Some(text) => Format::parse(text)
                .ok_or_else(|| format!("CLOUDHSM_SIM_OUTPUT must be json or table, not {text:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::{run, Stdio};

    /// Runs `cloudhsm-cli ARGS` in process on `home` with `input` piped in and the variables
    /// `vars`; returns (status, stdout, stderr).
    fn cli(
        home: &std::path::Path,
        args: &[&str],
        vars: &[(&str, &str)],
        input: &str,
    ) -> (i32, String, String) {
        let home = home.to_string_lossy().into_owned();
        let env = Env::from_lookup(|k| {
            if k == "CLOUDHSM_SIM_HOME" {
                return Some(home.clone());
            }
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        });
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut input = input.as_bytes();
        let status = run(
            args.iter().map(Into::into).collect(),
            &env,
            Stdio {
                input: &mut input,
                input_is_terminal: false,
                interactive_terminal: false,
                out: &mut out,
                err: &mut err,
            },
        );
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (status, text(out), text(err))
    }

    const SCRIPT: &str = "cluster activate --password admin-pw-1\n\
        login --username admin --role admin --password admin-pw-1\n\
        user create --username alice --role crypto-user --password alice-pw-1\n\
        logout\n\
        login --username alice --role crypto-user --password alice-pw-1\n\
        key generate-symmetric aes --label data-key --key-length-bytes 32\n\
        key list --verbose\n\
        quorum token-sign list\n\
        user list\n";

    #[test]
    fn json_is_the_default_and_unchanged() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let seed = ("CLOUDHSM_SIM_SEED", "7");
        let (_, default, _) = cli(a.path(), &["interactive"], &[seed], SCRIPT);
        let json = [seed, ("CLOUDHSM_SIM_OUTPUT", "json")];
        let (_, explicit, _) = cli(b.path(), &["interactive"], &json, SCRIPT);
        assert_eq!(default, explicit);
        assert!(default.starts_with("{\n  \"error_code\": 0,"), "{default}");
        let values: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&default)
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(values.len(), 9);
    }

    #[test]
    fn table_view_draws_lists_and_leaves_the_rest_json() {
        let dir = tempfile::tempdir().unwrap();
        let (status, out, err) = cli(
            dir.path(),
            &["interactive", "--output", "table"],
            &[],
            SCRIPT,
        );
        assert_eq!(status, 0, "{err}");
        assert!(out.contains("\"data\": \"Logout successful\""), "{out}");
        assert!(
            out.contains("| key-reference      | label    | type | class      | size | usage"),
            "{out}"
        );
        assert!(out.contains("1 of 1 keys\n"), "{out}");
        assert!(
            out.contains("| username | service |"),
            "empty token table:\n{out}"
        );
        assert!(out.contains("| alice    | crypto-user"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
        // The variable does the same in single-command mode, and the flag wins over it.
        let (_, out, _) = cli(
            dir.path(),
            &["cluster", "hsm-info"],
            &[("CLOUDHSM_SIM_OUTPUT", "table")],
            "",
        );
        assert!(out.contains("| serial-number"), "{out}");
        let (_, out, _) = cli(
            dir.path(),
            &["interactive", "--output", "json"],
            &[("CLOUDHSM_SIM_OUTPUT", "table")],
            "user list\n",
        );
        assert!(out.starts_with('{'), "{out}");
        let (status, _, err) = cli(
            dir.path(),
            &["user", "list"],
            &[("CLOUDHSM_SIM_OUTPUT", "yaml")],
            "",
        );
        assert_eq!(
            (status, err.trim()),
            (
                2,
                "error: CLOUDHSM_SIM_OUTPUT must be json or table, not \"yaml\""
            )
        );
    }
}
