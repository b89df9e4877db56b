//! `configure-pkcs11`: the PKCS#11 library's configuration tool, run as a process. Its forms are
//! `configure-cli`'s (`add-cluster`, `remove-cluster`, `--cluster-id`, `-a`, endpoints,
//! logging) plus the PKCS#11 switches of spec pkcs11.md §1.6, recorded in
//! `$CLOUDHSM_SIM_HOME/pkcs11.json` where the module reads them.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{argv, Ctx, Sim};
use serde_json::{json, Value};

fn config(sim: &Sim) -> Value {
    let text = std::fs::read_to_string(sim.home.join("pkcs11.json")).ctx("read pkcs11.json");
    serde_json::from_str(&text).ctx("parse pkcs11.json")
}

fn ok(sim: &Sim, args: &[&str]) -> String {
    let run = sim.configure_pkcs11(args);
    assert_eq!(run.code, 0, "configure-pkcs11 {args:?}: {}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout_text());
    run.stderr
}

#[test]
fn add_and_remove_cluster_make_the_slot_list() {
    let sim = Sim::empty();
    ok(&sim, &["add-cluster", "--cluster-id", "cluster-one"]);
    // The cluster exists in the simulation, and the file is private.
    assert!(sim.home.join("clusters/cluster-one.db").exists());
    let mode = std::fs::metadata(sim.home.join("pkcs11.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    ok(
        &sim,
        &argv("add-cluster --cluster-id cluster-two --region us-east-1 --endpoint https://cloudhsmv2.us-east-1.amazonaws.com"),
    );
    // Adding a cluster again keeps one slot for it, in its place.
    ok(&sim, &["add-cluster", "--cluster-id", "cluster-one"]);
    let c = config(&sim);
    assert_eq!(c["clusters"], json!(["cluster-one", "cluster-two"]));
    assert_eq!(c["recorded"]["--region"], "us-east-1");
    let stderr = ok(&sim, &["remove-cluster", "--cluster-id", "cluster-one"]);
    assert!(
        stderr.contains("the PKCS#11 library no longer uses cluster-one"),
        "{stderr}"
    );
    assert_eq!(config(&sim)["clusters"], json!(["cluster-two"]));
    // The simulated cluster stays; only the configuration changed.
    assert!(sim.home.join("clusters/cluster-one.db").exists());
    // --cluster-id names the one cluster of the configuration.
    ok(&sim, &["--cluster-id", "cluster-three"]);
    assert_eq!(config(&sim)["clusters"], json!(["cluster-three"]));
    // The CLI's configuration is its own: configure-pkcs11 changed none of it.
    assert!(!sim.home.join("cloudhsm-cli.cfg").exists());
}

#[test]
fn the_pkcs11_switches_are_recorded_for_the_module() {
    let sim = Sim::empty();
    ok(&sim, &["-a", "10.0.0.1"]);
    // Defaults: the real library's.
    let c = config(&sim);
    assert_eq!(c["key-availability-check"], true);
    assert_eq!(c["validate-key-at-init"], true);
    assert_eq!(c["ecdh-without-kdf"], false);
    assert_eq!(c["certificate-storage"], false);
    assert_eq!(c["recorded"]["-a"], "10.0.0.1");

    for (args, field, value) in [
        (
            "--disable-key-availability-check",
            "key-availability-check",
            false,
        ),
        (
            "--enable-key-availability-check",
            "key-availability-check",
            true,
        ),
        (
            "--disable-validate-key-at-init",
            "validate-key-at-init",
            false,
        ),
        (
            "--enable-validate-key-at-init",
            "validate-key-at-init",
            true,
        ),
        ("--enable-ecdh-without-kdf", "ecdh-without-kdf", true),
        ("--disable-ecdh-without-kdf", "ecdh-without-kdf", false),
        ("--enable-certificate-storage", "certificate-storage", true),
        (
            "--disable-certificate-storage",
            "certificate-storage",
            false,
        ),
    ] {
        let stderr = ok(&sim, &[args]);
        // A setting the module reads is not called "no effect".
        assert!(!stderr.contains("no effect"), "{args}: {stderr}");
        assert_eq!(config(&sim)[field], value, "{args}");
    }
    // Several at once, and each change keeps the others.
    ok(
        &sim,
        &argv("--enable-ecdh-without-kdf --enable-certificate-storage --disable-key-availability-check"),
    );
    let c = config(&sim);
    assert_eq!(
        (
            &c["ecdh-without-kdf"],
            &c["certificate-storage"],
            &c["key-availability-check"],
            &c["validate-key-at-init"]
        ),
        (&json!(true), &json!(true), &json!(false), &json!(true))
    );
    assert_eq!(c["recorded"]["-a"], "10.0.0.1");
}

#[test]
fn logging_and_endpoints_are_recorded_without_effect() {
    let sim = Sim::empty();
    let stderr = ok(
        &sim,
        &argv(
            "--log-type file --log-file /opt/cloudhsm/run/cloudhsm-pkcs11.log --log-level info \
             --log-rotation daily --default-retry-mode off --hsm-ca-cert /opt/cloudhsm/etc/customerCA.crt",
        ),
    );
    for option in [
        "--log-type",
        "--log-file",
        "--log-level",
        "--log-rotation",
        "--default-retry-mode",
        "--hsm-ca-cert",
    ] {
        assert!(
            stderr.contains(&format!(
                "configure-pkcs11: recorded {option}; it has no effect on the simulated cluster"
            )),
            "{option}: {stderr}"
        );
    }
    let recorded = &config(&sim)["recorded"];
    assert_eq!(
        recorded["--log-file"],
        "/opt/cloudhsm/run/cloudhsm-pkcs11.log"
    );
    assert_eq!(recorded["--default-retry-mode"], "off");
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let sim = Sim::empty();
    ok(&sim, &["--enable-certificate-storage"]);
    let before = std::fs::read(sim.home.join("pkcs11.json")).unwrap();
    // Usage errors: clap's text on stderr, exit 2.
    for args in [
        vec![
            "--enable-certificate-storage",
            "--disable-certificate-storage",
        ],
        vec!["--enable-ecdh-without-kdf", "--disable-ecdh-without-kdf"],
        vec!["--log-level", "loud"],
        vec!["--no-such-option"],
        vec!["add-cluster"],
        vec!["remove-cluster"],
        vec!["update", "-a", "10.0.0.1"],
    ] {
        let run = sim.configure_pkcs11(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
    }
    // A cluster id of the wrong form: the simulator's error, exit 1.
    let run = sim.configure_pkcs11(&["add-cluster", "--cluster-id", "Cluster_1"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("error: Invalid cluster id Cluster_1"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(sim.home.join("pkcs11.json")).unwrap(), before);
    // The PKCS#11 switches are configure-pkcs11's, not configure-cli's.
    assert_eq!(sim.configure(&["--enable-certificate-storage"]).code, 2);
    // A damaged configuration is named, never overwritten.
    std::fs::write(sim.home.join("pkcs11.json"), b"{\"clusters\": 3}").unwrap();
    let run = sim.configure_pkcs11(&["--enable-ecdh-without-kdf"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("pkcs11.json"), "{}", run.stderr);
    assert_eq!(
        std::fs::read(sim.home.join("pkcs11.json")).unwrap(),
        b"{\"clusters\": 3}"
    );
}

#[test]
fn help_lists_the_pkcs11_switches() {
    let sim = Sim::empty();
    let run = sim.configure_pkcs11(&["--help"]);
    assert_eq!(run.code, 0);
    let help = run.stdout_text();
    for option in [
        "--enable-certificate-storage",
        "--disable-certificate-storage",
        "--enable-ecdh-without-kdf",
        "--disable-key-availability-check",
        "--disable-validate-key-at-init",
        "--log-rotation",
        "add-cluster",
        "remove-cluster",
    ] {
        assert!(help.contains(option), "{option}");
    }
    // --help changes nothing.
    assert!(!sim.home.exists());
}
