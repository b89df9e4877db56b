//! The shell as people use it, through the real binary.
//!
//! AWS's examples as people paste them: into heredocs and command files piped to
//! `cloudhsm-cli interactive`, and into bash for single-command mode. Lines continued with `\`
//! run as one command; a line a script meant as a password is never run, or echoed, as a
//! command. (The terminal's side of the same is in tests/terminal.rs.) And a long-lived
//! session keeps the cluster it started on.

mod common;

use common::*;

const ADMIN_PW: &str = "admin-pw-1";
const ALICE_PW: &str = "Alice-Pass-77";

fn alice() -> Sim {
    Sim::with_crypto_user(ADMIN_PW, "alice", ALICE_PW)
}

fn login_alice() -> String {
    format!("login --username alice --role crypto-user --password {ALICE_PW}\n")
}

/// The labels of every key alice can see.
fn labels(sim: &Sim) -> Vec<String> {
    let pin = format!("alice:{ALICE_PW}");
    let run = sim.cli_env(
        &argv("key list --verbose"),
        &[("CLOUDHSM_ROLE", "crypto-user"), ("CLOUDHSM_PIN", &pin)],
    );
    let v = run.one();
    let mut labels: Vec<String> = ok_data(&v)["matched_keys"]
        .as_array()
        .ctx("matched_keys")
        .iter()
        .filter_map(|k| k["attributes"]["label"].as_str().map(str::to_string))
        .collect();
    labels.sort();
    labels
}

#[test]
fn the_rsa_example_runs_piped_as_aws_prints_it() {
    let sim = alice();
    // The reproduction: the example of "key generate-asymmetric-pair rsa", continued.
    let script = format!(
        "{}key generate-asymmetric-pair rsa \\\n --public-exponent 65537 \\\n \
         --modulus-size-bits 2048 \\\n --public-label p \\\n --private-label q\n",
        login_alice()
    );
    let run = sim.piped(&script);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);
    let r = run.json();
    assert_eq!(r.len(), 2, "{}", run.stdout_text());
    let data = ok_data(&r[1]);
    assert_eq!(data["public_key"]["attributes"]["label"], "p");
    assert_eq!(data["private_key"]["attributes"]["label"], "q");
    assert_eq!(labels(&sim), ["p", "q"]);
}

#[test]
fn a_heredoc_of_continued_commands_runs_each_once() {
    let sim = alice();
    // Indented continuations, blanks after a backslash, a comment between commands, and a
    // command whose last line ends the input while still continued.
    let script = format!(
        "{}key generate-symmetric aes \\\n    --label example-aes \\   \n    \
         --key-length-bytes 24\n# a comment \\\nkey generate-symmetric aes --label second \\\n\
         --key-length-bytes 16 \\\n",
        login_alice()
    );
    let run = sim.piped(&script);
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    let r = run.json();
    assert_eq!(r.len(), 3, "{}", run.stdout_text());
    assert_eq!(ok_data(&r[1])["key"]["attributes"]["key-length-bytes"], 24);
    assert_eq!(ok_data(&r[2])["key"]["attributes"]["key-length-bytes"], 16);
    assert_eq!(labels(&sim), ["example-aes", "second"]);
}

#[test]
fn the_example_runs_as_one_bash_command_in_single_command_mode() {
    let sim = alice();
    let pin = format!("alice:{ALICE_PW}");
    let mut cmd = std::process::Command::new("bash");
    scrub(&mut cmd);
    cmd.env("CLOUDHSM_SIM_HOME", &sim.home)
        .env("CLOUDHSM_ROLE", "crypto-user")
        .env("CLOUDHSM_PIN", &pin)
        .env("CLI", CLI)
        .arg("-c")
        .arg(
            "\"$CLI\" key generate-asymmetric-pair ec \\\n    --curve secp256r1 \\\n    \
             --public-label ec-public-key-example \\\n    \
             --private-label ec-private-key-example",
        );
    let run = run(cmd, b"");
    assert_eq!(run.code, 0, "{} / {}", run.stdout_text(), run.stderr);
    assert_eq!(
        labels(&sim),
        ["ec-private-key-example", "ec-public-key-example"]
    );
}

#[test]
fn a_password_line_after_a_login_that_did_not_parse_is_never_echoed() {
    let sim = alice();
    // `--role` forgotten: the login does not parse, so it never reads its password line.
    let script = format!("login --username alice\n{ALICE_PW}\nuser list\n");
    let run = sim.piped(&script);
    assert_eq!(run.code, 0);
    let all = format!("{}{}", run.stdout_text(), run.stderr);
    assert!(!all.contains(ALICE_PW), "the password was echoed:\n{all}");
    assert!(
        run.stderr
            .contains("the following required arguments were not provided"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "note: the next 1 input line was read as this command's password; it was not run \
             as a command"
        ),
        "{}",
        run.stderr
    );
    // The line after the password runs as usual.
    assert_eq!(run.json().len(), 1, "{}", run.stdout_text());
}

#[test]
fn a_new_password_and_its_confirmation_are_both_skipped() {
    let sim = Sim::activated(ADMIN_PW);
    // `user create` without `--role` would have read two lines: the password, confirmed.
    let script = format!(
        "login --username admin --role admin --password {ADMIN_PW}\n\
         user create --username bob\nBob-Secret-1\nBob-Secret-1\nuser list\n"
    );
    let run = sim.piped(&script);
    let all = format!("{}{}", run.stdout_text(), run.stderr);
    assert!(!all.contains("Bob-Secret-1"), "echoed:\n{all}");
    assert!(
        run.stderr
            .contains("note: the next 2 input lines were read"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json().len(), 2, "{}", run.stdout_text());
}

#[test]
fn a_line_that_is_no_command_is_not_repeated_back() {
    let sim = Sim::unactivated();
    for secret in ["Admin-Pass-1", "-Admin-Pass-1", "two words"] {
        let run = sim.piped(&format!("{secret}\n"));
        assert_eq!(run.code, 0);
        assert!(!run.stderr.contains(secret), "{secret:?}: {}", run.stderr);
        assert!(
            run.stderr
                .starts_with("error: unrecognized command (the line is not repeated here"),
            "{secret:?}: {}",
            run.stderr
        );
    }
    // A typo inside a known command still names the word: no password goes there.
    let run = sim.piped("user bogus\n");
    assert!(
        run.stderr.contains("unrecognized subcommand 'bogus'"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_usage_error_never_prints_the_password_its_line_gave() {
    let sim = Sim::activated(ADMIN_PW);
    for line in [
        // A bad role: clap's message quotes values, and suggests close ones.
        "login --username admin --role admn --password Secret-Pw-9".to_string(),
        "login --username admin --role Secret-Pw-9 --password Secret-Pw-9".to_string(),
        "user create --username bob --role crypto-user --password Secret-Pw-9 --extra".to_string(),
        "user create --username bob --role crypto-user --password=Secret-Pw-9 Secret-Pw-9"
            .to_string(),
    ] {
        let run = sim.piped(&format!("{line}\n"));
        assert!(!run.stderr.is_empty(), "{line}: no usage error");
        assert!(
            !run.stderr.contains("Secret-Pw-9"),
            "{line}:\n{}",
            run.stderr
        );
        assert!(!run.stdout_text().contains("Secret-Pw-9"), "{line}");
    }
}

#[test]
fn a_password_may_begin_with_a_hyphen() {
    let sim = Sim::activated(ADMIN_PW);
    let pin = format!("admin:{ADMIN_PW}");
    let admin = [("CLOUDHSM_ROLE", "admin"), ("CLOUDHSM_PIN", pin.as_str())];
    let run = sim.cli_env(
        &argv("user create --username dash --role crypto-user --password -dash-pw-1"),
        &admin,
    );
    assert_eq!(run.code, 0, "{} / {}", run.stdout_text(), run.stderr);
    let run = sim.piped("login --username dash --role crypto-user --password -dash-pw-1\n");
    assert_user_ok(&run.one(), "dash", "crypto-user");
}

#[test]
fn a_session_keeps_its_cluster_when_another_one_appears() {
    let sim = alice();
    let mut live = Live::start(&sim);
    let v = live.ask(login_alice().trim_end());
    assert_user_ok(&v, "alice", "crypto-user");
    // Another process adds a second cluster: a command that names none is now ambiguous for a
    // new session, but not for this one, which found its cluster when there was one.
    let run = sim.sim(&argv("init --cluster-id cluster-dr1 --kdf fast"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = live.ask("key list");
    assert_eq!(ok_data(&v)["total_key_count"], 0, "{v}");
    let v = live.ask("user list");
    assert!(users_of(&v).iter().any(|(u, _, _)| u == "alice"), "{v}");
    assert_eq!(live.close(), 0);
    let run = sim.cli(&argv("user list"));
    assert!(
        run.stdout_text().contains("multiple clusters"),
        "{}",
        run.stdout_text()
    );
}

#[test]
fn interactive_on_an_unknown_cluster_fails_at_its_start() {
    let sim = Sim::unactivated();
    let run = sim.cli_full(
        &argv("interactive --cluster-id cluster-nope"),
        &[],
        b"user list\n",
    );
    assert_eq!(run.code, 1, "{}", run.stdout_text());
    let v = run.one();
    assert!(err_text(&v).contains("cluster-nope"), "{v}");
}

#[test]
fn a_command_refused_before_its_prompt_still_consumes_its_password_lines() {
    let sim = Sim::activated(ADMIN_PW);
    // Each command is refused before it would read its password lines; those lines must still
    // not run as commands.
    let script = format!(
        "cluster activate\nActivate-Secret-1\nActivate-Secret-1\n\
         login --username admin --role admin --password {ADMIN_PW}\n\
         login --username admin --role admin\nLogin-Secret-2\n\
         user create --username admin --role admin\nCreate-Secret-3\nCreate-Secret-3\n\
         user change-password --username nobody --role crypto-user\nChange-Secret-4\nChange-Secret-4\n\
         user list\n"
    );
    let run = sim.piped(&script);
    let all = format!("{}{}", run.stdout_text(), run.stderr);
    assert!(
        !all.contains("Secret"),
        "a password line ran as a command:\n{all}"
    );
    let r = run.json();
    let texts: Vec<&str> = r.iter().skip(2).take(3).map(err_text).collect();
    assert_eq!(err_text(&r[0]), "Cluster has already been activated");
    assert_eq!(
        texts,
        [
            "User admin is already logged in. Log out before logging in again",
            "User already exists",
            "User nobody with role crypto-user does not exist",
        ]
    );
    assert_eq!(r.len(), 6, "{}", run.stdout_text());
    assert!(users_of(&r[5]).iter().any(|(u, _, _)| u == "admin"));
}

#[test]
fn output_switches_a_session_and_is_refused_as_a_single_command() {
    let sim = Sim::unactivated();
    let run = sim.piped("output table\nuser list\noutput json\nuser list\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = run.stdout_text();
    assert!(text.contains("| username | role"), "no table:\n{text}");
    // After `output json`, the last response is JSON again.
    let last = &text[text.rfind("\n{\n").ctx("a JSON response")..];
    assert_eq!(users_of(&serde_json::from_str(last).ctx("JSON")).len(), 2);
    let run = sim.cli(&argv("output table"));
    assert_eq!(run.code, 1);
    assert!(err_text(&run.one()).starts_with("output sets the format of an interactive session"));
}
