//! Tab completion in the real terminal, driven by tmux (send-keys, capture-pane): commands,
//! subcommands, options and the enumerated values of options (roles, curves, hash functions,
//! mechanisms), all from the clap grammar.
//!
//! tmux is required (CI installs it); without it these tests fail with a clear message. Each
//! test runs its own tmux server on a socket in its own temporary directory, killed when done.
//! The harness is tests/tmux/mod.rs.

mod common;
mod tmux;

use common::*;
use tmux::{Term, PROMPT};

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

#[test]
fn tab_completes_filters_attribute_names_cluster_ids_and_paths() {
    let sim = Sim::unactivated();
    let term = Term::start(&sim);
    // Filter terms and attribute names.
    term.complete("key list --filter at", "key list --filter attr.");
    term.complete("key-t", "key list --filter attr.key-type=");
    term.clear();
    term.complete(
        "key set-attribute --filter key-reference=0x30 --name wrap-w",
        "key set-attribute --filter key-reference=0x30 --name wrap-with-trusted",
    );
    term.clear();
    // The clusters of the state directory.
    term.complete(
        "user list --cluster-id cluster-a",
        &format!("user list --cluster-id {CLUSTER}"),
    );
    term.clear();
    // Files, for the options that take one.
    let dir = sim.dir.path().join("keys");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("approver-public.pem"), b"").unwrap();
    let typed = format!(
        "quorum token-sign generate --service user --token {}/appr",
        dir.display()
    );
    term.complete(
        &typed,
        &format!(
            "quorum token-sign generate --service user --token {}/approver-public.pem",
            dir.display()
        ),
    );
    term.clear();
    term.quit();
}

#[test]
fn table_view_fits_an_80_column_terminal() {
    let sim = Sim::with_crypto_user("admin-pw-1", "alice", "alice-pw-1");
    let term = Term::start_with(&sim, "--output table");
    term.tmux(&["resize-window", "-t", "main", "-x", "80"]);
    for line in [
        "login --username alice --role crypto-user --password alice-pw-1",
        "key generate-asymmetric-pair rsa --public-exponent 65537 --modulus-size-bits 2048 \
         --public-label a-rather-long-public-label --private-label a-rather-long-private-label \
         --public-attributes verify=true encrypt=true wrap=true --private-attributes sign=true",
    ] {
        term.type_text(line);
        term.press("Enter");
        term.wait_for("the response", |s| {
            s.contains("\"error_code\": 0") && tmux::current_line(s).as_deref() == Some("")
        });
        term.tmux(&["clear-history", "-t", "main"]);
    }
    for command in ["user list", "key list --verbose"] {
        term.type_text(command);
        term.press("Enter");
        let screen = term.wait_for("the table", |s| {
            s.contains(" keys") || s.contains("app_user")
        });
        let table = tmux::output_after(&screen, command);
        assert!(
            table.lines().all(|l| l.chars().count() <= 80),
            "{command} overflows 80 columns:\n{table}"
        );
        if command.starts_with("key") {
            assert!(
                table.contains("usage") && table.contains("verify"),
                "{table}"
            );
        }
        term.wait_for_line("");
        term.press("C-l");
    }
    term.quit();
}

#[test]
fn output_taller_than_the_terminal_goes_through_the_pager() {
    let sim = Sim::with_crypto_user("admin-pw-1", "alice", "alice-pw-1");
    let paged = sim.dir.path().join("paged.txt");
    // A pager that keeps what it was given (a person's would be `less`).
    let pager = format!("CLOUDHSM_SIM_PAGER='cat >> {}'", paged.display());
    let term = Term::launch_env(&sim, &pager, "");
    term.wait_for("the first prompt", |s| s.contains(PROMPT.trim_end()));
    // Short: printed as usual.
    term.type_text("login --username alice --role crypto-user --password alice-pw-1");
    term.press("Enter");
    term.wait_for("the login", |s| s.contains("\"role\": \"crypto-user\""));
    assert!(!paged.exists(), "a short response went to the pager");
    // Taller than the 50-line pane: through the pager.
    term.type_text(
        "key generate-asymmetric-pair rsa --public-exponent 65537 --modulus-size-bits 2048 \
         --public-label pub --private-label priv",
    );
    term.press("Enter");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !std::fs::read_to_string(&paged).is_ok_and(|t| t.trim_end().ends_with('}')) {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing reached the pager"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&paged).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["data"]["private_key"]["attributes"]["label"], "priv");
    term.quit();
}
