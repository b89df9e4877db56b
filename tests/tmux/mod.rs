//! A `cloudhsm-cli interactive` in a real pseudo-terminal, driven by tmux (send-keys,
//! capture-pane): the harness of tests/terminal.rs and tests/terminal_completion.rs.
//!
//! tmux is required (CI installs it); without it these tests fail with a clear message
//! rather than silently passing. Each terminal runs its own tmux server on a socket in its
//! test's temporary directory (`tmux -S`), killed when the terminal is dropped.

// Each test binary uses part of the harness.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::{scrub, Sim, CLI};

pub const PROMPT: &str = "aws-cloudhsm > ";
/// How long to wait for the screen to show something.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(10);

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A `cloudhsm-cli interactive` running in a tmux pane of 200x50.
pub struct Term {
    /// The tmux server's socket, inside the test's temporary directory.
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
    pub fn start(sim: &Sim) -> Term {
        Term::start_with(sim, "")
    }

    /// Starts `cloudhsm-cli interactive ARGS` and waits for the first prompt.
    pub fn start_with(sim: &Sim, args: &str) -> Term {
        let term = Term::launch(sim, args);
        term.wait_for("the first prompt", |screen| {
            screen.lines().any(|l| l.starts_with(PROMPT.trim_end()))
        });
        term
    }

    /// Starts `cloudhsm-cli interactive TAIL` on a terminal without waiting for a prompt;
    /// `tail` holds options (`--output table`) or a redirection of stdout (`| cat`).
    pub fn launch(sim: &Sim, tail: &str) -> Term {
        Term::launch_env(sim, "", tail)
    }

    /// [`Term::launch`] with `vars` (`NAME=value ...`, shell-quoted) in the REPL's environment.
    pub fn launch_env(sim: &Sim, vars: &str, tail: &str) -> Term {
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
        // The pane runs a shell that records the REPL's exit status once it ends.
        let script = format!(
            "env -u CLOUDHSM_ROLE -u CLOUDHSM_PIN -u CLOUDHSM_SIM_STRICT -u CLOUDHSM_SIM_SEED \
             -u CLOUDHSM_SIM_OUTPUT -u CLOUDHSM_SIM_PAGER -u PAGER CLOUDHSM_SIM_HOME={home} \
             {vars} {bin} interactive {tail}; echo $? > {status}",
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
        term
    }

    pub fn tmux(&self, args: &[&str]) -> Output {
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
    pub fn screen(&self) -> String {
        let out = tmux_command(&self.socket)
            .args(["capture-pane", "-p", "-J", "-S", "-2000", "-t", "main"])
            .output()
            .unwrap_or_else(|e| panic!("tmux capture-pane: {e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `ready` holds; fails after `SCREEN_TIMEOUT`.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.poll(SCREEN_TIMEOUT, &ready).unwrap_or_else(|| {
            panic!(
                "timed out waiting for {what}; the screen shows:\n{}",
                self.screen()
            )
        })
    }

    /// Polls the screen for up to `limit` until `ready` holds.
    pub fn poll(&self, limit: Duration, ready: &dyn Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return Some(screen);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(25));
        }
    }

    /// Types `text` literally (no key names, no Enter).
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "main", "-l", "--", text]);
    }

    /// Presses keys by name (`Enter`, `C-c`, `C-d`).
    pub fn press(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "main", key]);
    }

    /// The number of prompt lines on the screen.
    pub fn prompts(screen: &str) -> usize {
        screen
            .lines()
            .filter(|l| l.starts_with(PROMPT.trim_end()))
            .count()
    }

    /// Types `line` and Enter, waits for the next prompt, and returns what was printed
    /// between the command line and that prompt.
    pub fn run_line(&self, line: &str) -> String {
        let before = Term::prompts(&self.screen());
        self.type_text(line);
        self.press("Enter");
        let screen = self.wait_for(&format!("the output of `{line}`"), |s| {
            Term::prompts(s) > before
        });
        output_after(&screen, line)
    }

    /// Whether the REPL has ended (its exit status is recorded).
    pub fn has_ended(&self) -> bool {
        self.status_file.exists()
    }

    /// Waits for the REPL to end and returns its exit status.
    pub fn exit_status(&self) -> i32 {
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        loop {
            if let Ok(text) = std::fs::read_to_string(&self.status_file) {
                if text.ends_with('\n') {
                    return text
                        .trim()
                        .parse()
                        .unwrap_or_else(|e| panic!("odd exit status {text:?}: {e}"));
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "the REPL did not end in time; the screen shows:\n{}",
                    self.screen()
                );
            }
            thread::sleep(Duration::from_millis(25));
        }
    }

    /// Waits until the line being edited (after the last prompt) reads `expected`.
    pub fn wait_for_line(&self, expected: &str) {
        self.wait_for(&format!("the line {expected:?}"), |s| {
            current_line(s).as_deref() == Some(expected)
        });
    }

    /// Types `text`, presses Tab and waits for the line to read `expected`.
    pub fn complete(&self, text: &str, expected: &str) {
        self.type_text(text);
        let typed = text.trim_end();
        self.wait_for(&format!("the typed {typed:?}"), |s| {
            current_line(s).is_some_and(|l| l.ends_with(typed))
        });
        self.press("Tab");
        self.wait_for_line(expected);
    }

    /// Clears the line with Ctrl-C and waits for an empty prompt.
    pub fn clear(&self) {
        self.press("C-c");
        self.wait_for_line("");
    }

    /// Ends the REPL with Ctrl-D and checks it exits 0.
    pub fn quit(&self) {
        self.press("C-d");
        assert_eq!(self.exit_status(), 0, "exit status");
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = tmux_command(&self.socket).arg("kill-server").output();
    }
}

/// The text printed after the last occurrence of the command line `line` and before the
/// prompt that follows it.
pub fn output_after(screen: &str, line: &str) -> String {
    let lines: Vec<&str> = screen.lines().collect();
    let echoed = format!("{PROMPT}{line}");
    let start = lines
        .iter()
        .rposition(|l| l.trim_end() == echoed.trim_end())
        .unwrap_or_else(|| panic!("`{line}` is not on the screen:\n{screen}"));
    lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with(PROMPT.trim_end()))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text after the last prompt on the screen (trailing blanks trimmed), if any.
pub fn current_line(screen: &str) -> Option<String> {
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
