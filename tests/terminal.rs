//! The terminal REPL, driven through a real pseudo-terminal by tmux: the prompt, output,
//! Ctrl-C, Ctrl-D, password prompts without echo, and a history file that never keeps a
//! password.
//!
//! tmux is required (CI installs it); without it these tests fail with a clear message
//! rather than silently passing. Each test runs its own tmux server on a socket in its own
//! temporary directory (`tmux -S`), which it kills when done.

mod common;
mod tmux;

use std::path::Path;
use std::time::Duration;

use common::*;
use tmux::{current_line, output_after, Term, PROMPT};

const ADMIN_PW: &str = "admin-pw-1";

fn parse_one(text: &str) -> serde_json::Value {
    let values = json_stream(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(values.len(), 1, "expected one JSON response:\n{text}");
    values.into_iter().next().ctx("one value")
}

fn history(home: &Path) -> String {
    std::fs::read_to_string(home.join("history")).unwrap_or_default()
}

#[test]
fn prompt_appears_and_user_list_prints_json() {
    let sim = Sim::unactivated();
    let term = Term::start(&sim);
    let screen = term.screen();
    assert!(
        screen
            .lines()
            .next()
            .is_some_and(|l| l.trim_end() == PROMPT.trim_end()),
        "the first line must be the bare prompt:\n{screen}"
    );
    let out = term.run_line("user list");
    let v = parse_one(&out);
    assert_eq!(
        names_roles(&users_of(&v)),
        vec![
            ("admin", "unactivated-admin"),
            ("app_user", "internal(APPLIANCE_USER)")
        ]
    );
    // A failing command prints its error and the shell goes on.
    let out = term.run_line("user delete --username nobody --role crypto-user");
    assert_eq!(
        err_text(&parse_one(&out)),
        "You must be logged in to run user delete"
    );
    let out = term.run_line("user bogus");
    assert!(
        out.contains("unrecognized subcommand 'bogus'"),
        "usage error not shown:\n{out}"
    );
    let out = term.run_line("cluster hsm-info");
    assert!(ok_data(&parse_one(&out))["hsms"].is_array());
    term.press("C-d");
    assert_eq!(term.exit_status(), 0);
}

#[test]
fn ctrl_c_clears_the_line_and_the_shell_stays_alive() {
    let sim = Sim::unactivated();
    let term = Term::start(&sim);
    let before = Term::prompts(&term.screen());
    term.type_text("user create --username half");
    term.wait_for("the typed text", |s| s.contains("--username half"));
    term.press("C-c");
    term.wait_for("a fresh prompt after Ctrl-C", |s| Term::prompts(s) > before);
    // Had the line survived, this would run `user create --username halfuser list`.
    let out = term.run_line("user list");
    let v = parse_one(&out);
    assert_eq!(users_of(&v).len(), 2);
    assert!(
        !history(&sim.home).contains("half"),
        "an interrupted line went into the history"
    );
    // Ctrl-C on an empty line does not end the shell either.
    let before = Term::prompts(&term.screen());
    term.press("C-c");
    term.wait_for("a fresh prompt after Ctrl-C", |s| Term::prompts(s) > before);
    let out = term.run_line("cluster hsm-info");
    assert!(ok_data(&parse_one(&out))["hsms"].is_array());
    assert!(!term.has_ended(), "the REPL ended after Ctrl-C");
    term.press("C-d");
    assert_eq!(term.exit_status(), 0);
}

#[test]
fn password_prompt_does_not_echo_the_password() {
    let sim = Sim::activated(ADMIN_PW);
    let term = Term::start(&sim);
    let before = Term::prompts(&term.screen());
    term.type_text("login --username admin --role admin");
    term.press("Enter");
    term.wait_for("the password prompt", |s| {
        s.lines().any(|l| l.trim_end() == "Enter password:")
    });
    term.type_text(ADMIN_PW);
    term.press("Enter");
    let screen = term.wait_for("the login response", |s| Term::prompts(s) > before);
    assert!(
        !screen.contains(ADMIN_PW),
        "the typed password is visible on screen:\n{screen}"
    );
    let out = output_after(&screen, "login --username admin --role admin");
    let json_start = out.find('{').ctx("a JSON response after the prompt");
    assert_eq!(out[..json_start].trim(), "Enter password:");
    let v = parse_one(&out[json_start..]);
    assert_user_ok(&v, "admin", "admin");

    // user create prompts twice, and neither answer shows.
    let before = Term::prompts(&screen);
    term.type_text("user create --username carol --role crypto-user");
    term.press("Enter");
    term.wait_for("the first prompt", |s| {
        s.contains("Enter password:") && s.matches("Enter password:").count() == 2
    });
    term.type_text("carol-secret-1");
    term.press("Enter");
    term.wait_for("the confirmation prompt", |s| {
        s.contains("Confirm password:")
    });
    term.type_text("carol-secret-1");
    term.press("Enter");
    let screen = term.wait_for("the user create response", |s| Term::prompts(s) > before);
    assert!(
        !screen.contains("carol-secret-1"),
        "password echoed:\n{screen}"
    );
    let out = output_after(&screen, "user create --username carol --role crypto-user");
    let json_start = out.find('{').ctx("a JSON response");
    assert_user_ok(&parse_one(&out[json_start..]), "carol", "crypto-user");
    term.press("C-d");
    assert_eq!(term.exit_status(), 0);
}

#[test]
fn history_keeps_ordinary_lines_but_never_a_password() {
    let sim = Sim::activated(ADMIN_PW);
    let term = Term::start(&sim);
    let out = term.run_line(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    ));
    assert_user_ok(&parse_one(&out), "admin", "admin");
    let out = term.run_line("user list");
    parse_one(&out);
    let out =
        term.run_line("user create --username carol --role crypto-user --password carol-pw-11");
    assert_user_ok(&parse_one(&out), "carol", "crypto-user");
    let out = term.run_line("logout");
    assert_message(&parse_one(&out), "Logout successful");
    term.press("C-d");
    assert_eq!(term.exit_status(), 0);

    let text = history(&sim.home);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.contains(&"user list"),
        "ordinary line missing from history:\n{text}"
    );
    assert!(
        lines.contains(&"logout"),
        "ordinary line missing from history:\n{text}"
    );
    for secret in ["--password", ADMIN_PW, "carol-pw-11"] {
        assert!(!text.contains(secret), "history holds {secret:?}:\n{text}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(sim.home.join("history"))
        .ctx("stat history")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "history file mode {mode:o}");

    // A new session reads the history back (Up recalls the last line).
    let term = Term::start(&sim);
    let before = Term::prompts(&term.screen());
    term.press("Up");
    term.wait_for("the recalled line", |s| {
        s.contains(&format!("{PROMPT}logout"))
    });
    term.press("Enter");
    let screen = term.wait_for("the recalled command's response", |s| {
        Term::prompts(s) > before
    });
    assert_eq!(
        err_text(&parse_one(&output_after(&screen, "logout"))),
        "No user is logged in"
    );
    term.press("C-d");
    assert_eq!(term.exit_status(), 0);
}

#[test]
fn ctrl_d_ends_the_session_with_status_0_and_logs_out() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", "alice-pw-1");
    let term = Term::start(&sim);
    let out = term.run_line("login --username alice --role crypto-user --password alice-pw-1");
    assert_user_ok(&parse_one(&out), "alice", "crypto-user");
    // While the REPL holds alice's login, an admin cannot delete her.
    let pin = format!("admin:{ADMIN_PW}");
    let admin = [("CLOUDHSM_ROLE", "admin"), ("CLOUDHSM_PIN", pin.as_str())];
    let delete = argv("user delete --username alice --role crypto-user");
    assert_eq!(sim.cli_env(&delete, &admin).code, 1);
    term.press("C-d");
    assert_eq!(
        term.exit_status(),
        0,
        "Ctrl-D must end the REPL with status 0"
    );
    let run = sim.cli_env(&delete, &admin);
    assert_eq!(
        run.code,
        0,
        "the REPL's login outlived it: {}",
        run.stdout_text()
    );
}

#[test]
fn password_is_not_echoed_when_only_stdout_is_redirected() {
    // `cloudhsm-cli interactive | tee log.json` or `| jq .`: a person types at a terminal, the
    // JSON goes to a pipe. The password must still be read without echo (the `Stdio` doc:
    // "Whether stdin is a terminal (passwords are then read without echo)").
    let sim = Sim::activated(ADMIN_PW);
    let term = Term::launch(&sim, "| cat");
    term.type_text("login --username admin --role admin");
    term.press("Enter");
    // Keys typed before the prompt turns echo off would be echoed by the terminal itself, so
    // wait for the prompt (briefly: without the fix it never comes) before typing.
    let prompted = term
        .poll(Duration::from_secs(3), &|s| s.contains("Enter password:"))
        .is_some();
    term.type_text(ADMIN_PW);
    term.press("Enter");
    let screen = term.wait_for("the login response", |s| s.contains("\"role\": \"admin\""));
    term.press("C-d");
    assert_eq!(term.exit_status(), 0);
    let echoed = screen.contains(ADMIN_PW);
    assert!(
        prompted && !echoed,
        "prompt shown: {prompted}; password echoed: {echoed}; the terminal shows:\n{screen}"
    );
}

/// How many JSON responses the screen shows (each starts with a `{` alone on its line).
fn responses(screen: &str) -> usize {
    screen.lines().filter(|l| l.trim_end() == "{").count()
}

#[test]
fn every_line_typed_ahead_runs_in_order() {
    let sim = Sim::unactivated();
    let term = Term::start(&sim);
    // Three commands sent in one burst, as a fast typist or `tmux send-keys` does: rustyline
    // reads them in one go, and what it read past the first line must not be dropped.
    term.tmux(&[
        "send-keys",
        "-t",
        "main",
        "quorum token-sign list-timeouts",
        "Enter",
        "cluster hsm-info",
        "Enter",
        "user list",
        "Enter",
    ]);
    let screen = term.wait_for("three responses", |s| {
        responses(s) == 3 && Term::prompts(s) == 4
    });
    let timeouts = parse_one(&output_after(&screen, "quorum token-sign list-timeouts"));
    assert!(ok_data(&timeouts).is_object(), "{timeouts}");
    let hsms = parse_one(&output_after(&screen, "cluster hsm-info"));
    assert!(ok_data(&hsms)["hsms"].is_array(), "{hsms}");
    let users = parse_one(&output_after(&screen, "user list"));
    assert_eq!(users_of(&users).len(), 2, "{users}");
    // In the order typed.
    let at = |line: &str| screen.find(&format!("{PROMPT}{line}")).ctx(line);
    assert!(at("quorum token-sign list-timeouts") < at("cluster hsm-info"));
    assert!(at("cluster hsm-info") < at("user list"));
    term.quit();
}

#[test]
fn a_pasted_block_runs_whole_with_its_password_and_continuations() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", "alice-pw-1");
    let term = Term::start(&sim);
    // A block as a runbook holds it: a login whose password is the next line, then AWS's EC
    // example over several lines, then a list of what it made.
    let block = "login --username alice --role crypto-user\n\
                 alice-pw-1\n\
                 key generate-asymmetric-pair ec \\\n    \
                 --curve secp256r1 \\\n    \
                 --public-label ec-public-key-example \\\n    \
                 --private-label ec-private-key-example\n\
                 key list --filter attr.label=ec-public-key-example\n";
    let file = sim.dir.path().join("paste.txt");
    std::fs::write(&file, block).ctx("write the paste");
    term.tmux(&["load-buffer", &file.to_string_lossy()]);
    term.tmux(&["paste-buffer", "-t", "main"]);
    let screen = term.wait_for("three responses", |s| {
        responses(s) == 3 && Term::prompts(s) == 4
    });
    assert!(
        !screen.contains("alice-pw-1"),
        "the pasted password is on the screen:\n{screen}"
    );
    let login = output_after(&screen, "login --username alice --role crypto-user");
    let json = login.find('{').ctx("the login response");
    assert_eq!(login[..json].trim(), "Enter password:");
    assert_user_ok(&parse_one(&login[json..]), "alice", "crypto-user");
    // The continued lines show the continuation prompt, and run as one command.
    assert!(
        screen.contains("\n>     --curve secp256r1 \\\n"),
        "no continuation prompt:\n{screen}"
    );
    let listed = parse_one(&output_after(
        &screen,
        "key list --filter attr.label=ec-public-key-example",
    ));
    assert_eq!(ok_data(&listed)["total_key_count"], 1, "{listed}");
    term.quit();
    // The history holds the joined command, never the password line.
    let text = history(&sim.home);
    assert!(!text.contains("alice-pw-1"), "history:\n{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("key generate-asymmetric-pair ec")
                && l.contains("--private-label ec-private-key-example")),
        "history:\n{text}"
    );
}

#[test]
fn history_judges_a_password_by_the_words_the_shell_parses() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", "alice-pw-1");
    let term = Term::start(&sim);
    // Each of these quotings is read as `--password`, so each logs in (then out).
    for option in [
        r"--pass\word",
        "--pass'word'",
        r#"--pass""word"#,
        "--password",
    ] {
        let out = term.run_line(&format!(
            "login --username alice --role crypto-user {option} alice-pw-1"
        ));
        assert_user_ok(&parse_one(&out), "alice", "crypto-user");
        assert_message(&parse_one(&term.run_line("logout")), "Logout successful");
    }
    term.quit();
    let text = history(&sim.home);
    assert!(
        !text.contains("alice-pw-1"),
        "history holds the password:\n{text}"
    );
    assert!(text.lines().any(|l| l == "logout"), "history:\n{text}");
}

#[test]
fn ctrl_d_leaves_the_terminal_on_a_new_line() {
    let sim = Sim::unactivated();
    // What the terminal's shell prints after the REPL ends must start a line of its own.
    let term = Term::launch(&sim, "; printf 'AFTER-EXIT'; sleep 5");
    term.wait_for("the first prompt", |s| s.contains(PROMPT.trim_end()));
    term.press("C-d");
    let screen = term.wait_for("the text after the REPL", |s| s.contains("AFTER-EXIT"));
    assert!(
        screen.lines().any(|l| l.trim_end() == "AFTER-EXIT"),
        "Ctrl-D left the cursor on the prompt line:\n{screen}"
    );
}

#[test]
fn a_password_typed_at_the_command_prompt_is_neither_echoed_nor_kept() {
    let sim = Sim::unactivated();
    let term = Term::start(&sim);
    // The login fails to parse (no --role), so its prompt never comes; the person types the
    // password anyway, at the command prompt.
    let out = term.run_line("login --username admin");
    assert!(out.contains("--role <ROLE>"), "{out}");
    let out = term.run_line("Typed-Secret-5");
    assert!(
        out.starts_with("error: unrecognized command (the line is not repeated here"),
        "{out}"
    );
    let out = term.run_line("user lst");
    assert!(out.contains("unrecognized subcommand 'lst'"), "{out}");
    parse_one(&term.run_line("user list"));
    let screen = term.screen();
    term.quit();
    assert_eq!(
        screen.matches("Typed-Secret-5").count(),
        1,
        "only the typed line itself may show it:\n{screen}"
    );
    let text = history(&sim.home);
    assert!(!text.contains("Typed-Secret-5"), "history:\n{text}");
    // Only lines that parse as commands are kept.
    assert_eq!(
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        ["user list"]
    );
}

#[test]
fn the_prompt_names_user_and_cluster_once_there_are_several_clusters() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", "alice-pw-1");
    let term = Term::start(&sim);
    let out = term.run_line("login --username alice --role crypto-user --password alice-pw-1");
    assert_user_ok(&parse_one(&out), "alice", "crypto-user");
    // One cluster: the real CLI's plain prompt.
    assert_eq!(current_line(&term.screen()).as_deref(), Some(""));
    let run = sim.sim(&argv("init --cluster-id cluster-dr1 --kdf fast"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    term.type_text("key list");
    term.press("Enter");
    let who = format!("alice@{CLUSTER} > ");
    let screen = term.wait_for("the user@cluster prompt", |s| {
        s.lines().any(|l| l.trim_end() == who.trim_end())
    });
    let out = output_after(&screen, "key list");
    let json = &out[..out.find(who.trim_end()).ctx("the new prompt")];
    assert_eq!(ok_data(&parse_one(json))["total_key_count"], 0);
    // Logged out: the plain prompt again.
    term.type_text("logout");
    term.press("Enter");
    term.wait_for("the plain prompt after logout", |s| {
        s.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.trim_end() == PROMPT.trim_end())
    });
    term.quit();
}

#[test]
fn a_dumb_terminal_still_reads_the_password_without_echo() {
    // rustyline cannot drive TERM=dumb and reads lines with the terminal's echo on; the
    // password must not go through it then.
    let sim = Sim::activated(ADMIN_PW);
    let term = Term::launch_env(&sim, "TERM=dumb", "");
    term.wait_for("the first prompt", |s| s.contains(PROMPT.trim_end()));
    term.type_text("login --username admin --role admin");
    term.press("Enter");
    term.wait_for("the password prompt", |s| s.contains("Enter password:"));
    term.type_text(ADMIN_PW);
    term.press("Enter");
    let screen = term.wait_for("the login", |s| s.contains("\"role\": \"admin\""));
    assert!(!screen.contains(ADMIN_PW), "password echoed:\n{screen}");
    term.type_text("quit");
    term.press("Enter");
    assert_eq!(term.exit_status(), 0);
}
