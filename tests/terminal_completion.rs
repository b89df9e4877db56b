//! Tab completion in the real terminal, driven by tmux (send-keys, capture-pane): commands,
//! subcommands, options and the enumerated values of options (roles, curves, hash functions,
//! mechanisms), all from the clap grammar.
//!
//! tmux is required (CI installs it); without it these tests fail with a clear message. Each
//! test runs its own tmux server on a socket in its own temporary directory, killed when done.
//! The helpers are those of tests/terminal.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

const PROMPT: &str = "aws-cloudhsm > ";
/// How long to wait for the screen to show something.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(10);

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A `cloudhsm-cli interactive` running in a tmux pane of 200x50.
struct Term {
    socket: PathBuf,
    status_file: PathBuf,
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn tmux_command(socket: &Path) -> Command {
    let mut cmd = Command::new("tmux");
    scrub(&mut cmd);
    cmd.env_remove("TMUX").arg("-S").arg(socket);
    cmd
}

impl Term {
    /// Starts the REPL on `sim`'s state directory and waits for the first prompt.
    fn start(sim: &Sim) -> Term {
        Term::start_with(sim, "")
    }

    /// Starts `cloudhsm-cli interactive ARGS` and waits for the first prompt.
    fn start_with(sim: &Sim, args: &str) -> Term {
        match Command::new("tmux").arg("-V").output() {
            Ok(out) if out.status.success() => {}
            _ => panic!(
                "tmux is not installed or does not run: the terminal tests need it \
                 (CI installs it; locally: apt-get install tmux)"
            ),
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let socket = sim.dir.path().join(format!("tmux-{n}.sock"));
        let status_file = sim.dir.path().join(format!("exit-status-{n}"));
        let script = format!(
            "env -u CLOUDHSM_ROLE -u CLOUDHSM_PIN -u CLOUDHSM_SIM_STRICT -u CLOUDHSM_SIM_SEED \
             -u CLOUDHSM_SIM_OUTPUT CLOUDHSM_SIM_HOME={home} {bin} interactive {args}; \
             echo $? > {status}",
            home = shell_quote(&sim.home.to_string_lossy()),
            bin = shell_quote(CLI),
            status = shell_quote(&status_file.to_string_lossy()),
        );
        let term = Term {
            socket,
            status_file,
        };
        term.tmux(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "200",
            "-y",
            "50",
            &script,
        ]);
        term.wait_for("the first prompt", |screen| {
            screen.lines().any(|l| l.starts_with(PROMPT.trim_end()))
        });
        term
    }

    fn tmux(&self, args: &[&str]) -> Output {
        let out = tmux_command(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("tmux {args:?}: {e}"));
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The pane's text, scrollback included, wrapped lines joined.
    fn screen(&self) -> String {
        let out = tmux_command(&self.socket)
            .args(["capture-pane", "-p", "-J", "-S", "-2000", "-t", "main"])
            .output()
            .unwrap_or_else(|e| panic!("tmux capture-pane: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen (bounded) until `ready` holds; fails after `SCREEN_TIMEOUT`.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                panic!("timed out waiting for {what}; the screen shows:\n{screen}");
            }
            thread::sleep(Duration::from_millis(25));
        }
    }

    /// Types `text` literally (no key names, no Enter).
    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", "--", text]);
    }

    /// Presses a key by name (`Tab`, `Enter`, `C-c`, `C-d`).
    fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "main", key]);
    }

    /// Waits until the line being edited (after the last prompt) reads `expected`.
    fn wait_for_line(&self, expected: &str) {
        self.wait_for(&format!("the line {expected:?}"), |s| {
            current_line(s).as_deref() == Some(expected)
        });
    }

    /// Types `text`, presses Tab and waits for the line to read `expected`.
    fn complete(&self, text: &str, expected: &str) {
        self.type_text(text);
        let typed = text.trim_end();
        self.wait_for(&format!("the typed {typed:?}"), |s| {
            current_line(s).is_some_and(|l| l.ends_with(typed))
        });
        self.press("Tab");
        self.wait_for_line(expected);
    }

    /// Clears the line with Ctrl-C and waits for an empty prompt.
    fn clear(&self) {
        self.press("C-c");
        self.wait_for_line("");
    }

    /// Ends the REPL with Ctrl-D and checks it exits 0.
    fn quit(&self) {
        self.press("C-d");
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.status_file) {
                if text.ends_with('\n') {
                    assert_eq!(text.trim(), "0", "exit status");
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the REPL did not end in time");
            thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = tmux_command(&self.socket).arg("kill-server").output();
    }
}

/// The text after the last prompt on the screen (trailing blanks trimmed), if any.
fn current_line(screen: &str) -> Option<String> {
    screen
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(PROMPT.trim_end()))
        .map(|rest| {
            rest.strip_prefix(' ')
                .unwrap_or(rest)
                .trim_end()
                .to_string()
        })
}

#[test]
fn tab_completes_commands_subcommands_and_options() {
    let sim = Sim::unactivated();
    let term = Term::start(&sim);
    term.complete("clu", "cluster");
    term.complete("hs", "cluster hsm-info");
    term.complete("--cl", "cluster hsm-info --cluster-id");
    term.type_text(CLUSTER);
    term.wait_for_line(&format!("cluster hsm-info --cluster-id {CLUSTER}"));
    // The completed line runs.
    term.press("Enter");
    let screen = term.wait_for("the response", |s| s.contains("\"hsms\": ["));
    assert!(screen.contains("\"error_code\": 0"), "{screen}");
    term.wait_for_line("");
    // An ambiguous word completes to the common prefix; a second Tab lists the choices.
    term.complete("key gen", "key generate-");
    term.press("Tab");
    term.wait_for("the list of choices", |s| {
        s.contains("generate-asymmetric-pair")
            && s.contains("generate-file")
            && s.contains("generate-symmetric")
    });
    term.clear();
    // Key wrap mechanisms are subcommands.
    term.complete("key wrap rsa-o", "key wrap rsa-oaep");
    term.clear();
    term.quit();
}

#[test]
fn tab_completes_enumerated_values() {
    let sim = Sim::unactivated();
    let term = Term::start(&sim);
    // Roles.
    term.complete(
        "login --username admin --ro",
        "login --username admin --role",
    );
    term.complete("cr", "login --username admin --role crypto-user");
    term.clear();
    // Curves.
    term.complete(
        "key generate-asymmetric-pair ec --curve secp3",
        "key generate-asymmetric-pair ec --curve secp384r1",
    );
    term.clear();
    // Hash functions: every value is listed on the second Tab.
    term.complete(
        "crypto sign ecdsa --hash-function sha",
        "crypto sign ecdsa --hash-function sha",
    );
    term.press("Tab");
    term.wait_for("the hash functions", |s| {
        ["sha1", "sha224", "sha256", "sha384", "sha512"]
            .iter()
            .all(|h| {
                s.lines()
                    .any(|l| !l.starts_with(PROMPT.trim_end()) && l.contains(h))
            })
    });
    term.clear();
    // The MGF of RSA-OAEP wrapping, a value of a mechanism's option.
    term.complete(
        "key wrap rsa-oaep --mgf mgf1-sha38",
        "key wrap rsa-oaep --mgf mgf1-sha384",
    );
    term.clear();
    // `--output` of interactive itself.
    term.complete("interactive --output t", "interactive --output table");
    term.clear();
    term.quit();
}

#[test]
fn table_view_on_a_terminal_uses_its_width() {
    let sim = Sim::unactivated();
    let term = Term::start_with(&sim, "--output table");
    term.type_text("user list");
    term.press("Enter");
    let screen = term.wait_for("the user table", |s| s.contains("app_user"));
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with('\u{2502}') && l.contains("username")),
        "a terminal gets box-drawing characters:\n{screen}"
    );
    assert!(screen.lines().all(|l| l.chars().count() <= 200), "{screen}");
    term.wait_for_line("");
    // Anything else is still JSON.
    term.type_text("logout");
    term.press("Enter");
    term.wait_for("the logout error", |s| s.contains("\"error_code\": 1"));
    term.wait_for_line("");
    term.quit();
}
