//! A cluster of several HSMs kept in step: outage and recovery, coverage, sync status, masked
//! objects, the appliance user, several clusters and `configure-cli`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use common::{argv, Sim, CLUSTER};
use serde_json::{json, Value};

const ADMIN: &[(&str, &str)] = &[
    ("CLOUDHSM_ROLE", "admin"),
    ("CLOUDHSM_PIN", "admin:admin-pw-1"),
];
const CU: &[(&str, &str)] = &[
    ("CLOUDHSM_ROLE", "crypto-user"),
    ("CLOUDHSM_PIN", "cu1:cu1-password"),
];

fn three_hsms() -> (Sim, Vec<String>) {
    let sim = Sim::empty();
    let run = sim.sim(&[
        "init",
        "--cluster-id",
        CLUSTER,
        "--hsms",
        "3",
        "--kdf",
        "fast",
        "--appliance-password",
        "appliance-pw",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        sim.cli(&["cluster", "activate", "--password", "admin-pw-1"])
            .code,
        0
    );
    let ids = hsm_ids(&sim);
    assert_eq!(ids.len(), 3);
    (sim, ids)
}

fn hsm_ids(sim: &Sim) -> Vec<String> {
    let v = sim.sim(&["status"]).one();
    v["clusters"][0]["hsms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

fn ok(sim: &Sim, args: &[&str], env: &[(&str, &str)]) -> Value {
    let v = sim.cli_env(args, env).one();
    assert_eq!(v["error_code"], 0, "{args:?}: {v}");
    v["data"].clone()
}

fn sim_ok(sim: &Sim, args: &[&str]) -> Value {
    let run = sim.sim(args);
    assert_eq!(run.code, 0, "cloudhsm-sim {args:?}: {}", run.stderr);
    run.one()
}

fn sync(sim: &Sim) -> (bool, Vec<Vec<String>>) {
    let v = ok(sim, &["cluster", "sync-status"], ADMIN);
    let digests = v["hsms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            h["digests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    (v["in-sync"].as_bool().unwrap(), digests)
}

fn coverage(sim: &Sim, user: &str) -> String {
    let v = ok(sim, &["user", "list"], &[]);
    v["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == user)
        .unwrap()["cluster-coverage"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn an_hsm_fails_misses_changes_and_heals() {
    let (sim, ids) = three_hsms();
    let v = ok(&sim, &["cluster", "hsm-info"], &[]);
    let serials: Vec<&str> = v["hsms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["serial-number"].as_str().unwrap())
        .collect();
    assert_eq!(serials.len(), 3);
    assert!(serials[0] != serials[1] && serials[1] != serials[2] && serials[0] != serials[2]);

    sim_ok(&sim, &["hsm", "fail", &ids[0]]);
    assert_eq!(
        ok(&sim, &["cluster", "hsm-info"], &[])["hsms"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "only HSMs that are up"
    );
    ok(
        &sim,
        &argv("user create --username cu1 --role crypto-user --password cu1-password"),
        ADMIN,
    );
    assert_eq!(coverage(&sim, "cu1"), "partial");
    let key = ok(
        &sim,
        &argv("key generate-symmetric aes --label k --key-length-bytes 32"),
        CU,
    );
    assert_eq!(key["key"]["key-info"]["cluster-coverage"], "partial");
    assert_eq!(
        key["key"]["key-info"]["key-owners"][0]["key-coverage"],
        "partial"
    );
    let (in_sync, digests) = sync(&sim);
    assert!(!in_sync);
    assert!(
        digests[0].is_empty() && digests[1].len() == 1 && digests[1] == digests[2],
        "{digests:?}"
    );

    sim_ok(&sim, &["hsm", "restore", &ids[0]]);
    assert_eq!(coverage(&sim, "cu1"), "full");
    let listed = ok(&sim, &["key", "list", "--verbose"], CU);
    assert_eq!(
        listed["matched_keys"][0]["key-info"]["cluster-coverage"],
        "full"
    );
    let (in_sync, digests) = sync(&sim);
    assert!(
        in_sync && digests[0] == digests[1] && digests[1] == digests[2],
        "{digests:?}"
    );

    // A fourth HSM joins synchronised.
    let status = sim_ok(&sim, &["hsm", "add"]);
    assert_eq!(
        status["clusters"].as_array().map(|_| ()).unwrap_or(()),
        (),
        "status shape"
    );
    assert_eq!(hsm_ids(&sim).len(), 4);
    let (in_sync, digests) = sync(&sim);
    assert!(in_sync && digests.len() == 4 && digests[3] == digests[0]);

    // A change made while an HSM is down (a deleted key) reaches it on restore.
    sim_ok(&sim, &["hsm", "fail", &ids[1]]);
    ok(&sim, &["key", "delete", "--filter", "attr.label=k"], CU);
    assert!(!sync(&sim).0);
    sim_ok(&sim, &["hsm", "restore", &ids[1]]);
    let (in_sync, digests) = sync(&sim);
    assert!(
        in_sync && digests.iter().all(|d| d.is_empty()),
        "{digests:?}"
    );

    // Removing an HSM; the last one stays.
    sim_ok(&sim, &["hsm", "remove", &ids[2]]);
    assert_eq!(hsm_ids(&sim).len(), 3);
    assert_ne!(sim.sim(&["hsm", "fail", "hsm-doesnotexist"]).code, 0);
}

#[test]
fn all_hsms_down_then_up_loses_nothing() {
    let (sim, ids) = three_hsms();
    ok(
        &sim,
        &argv("user create --username cu1 --role crypto-user --password cu1-password"),
        ADMIN,
    );
    ok(
        &sim,
        &argv(
            "key generate-asymmetric-pair ec --curve prime256v1 --public-label p \
             --private-label q --private-attributes sign=true",
        ),
        CU,
    );
    for id in &ids {
        sim_ok(&sim, &["hsm", "fail", id]);
    }
    for args in [vec!["user", "list"], vec!["key", "list"]] {
        let run = sim.cli_env(&args, CU);
        assert_eq!(run.code, 1);
        assert!(run.one()["data"]
            .as_str()
            .unwrap()
            .starts_with("No HSM of cluster"));
    }
    assert_eq!(ok(&sim, &["cluster", "hsm-info"], &[])["hsms"], json!([]));
    for id in &ids {
        sim_ok(&sim, &["hsm", "restore", id]);
    }
    assert_eq!(ok(&sim, &["key", "list"], CU)["total_key_count"], 2);
    ok(
        &sim,
        &argv("crypto sign ecdsa --key-filter attr.label=q --hash-function sha256 --data YWJj"),
        CU,
    );
    assert!(sync(&sim).0);
}

#[test]
fn keys_need_two_hsms_unless_the_check_is_disabled() {
    let (sim, ids) = three_hsms();
    ok(
        &sim,
        &argv("user create --username cu1 --role crypto-user --password cu1-password"),
        ADMIN,
    );
    sim_ok(&sim, &["hsm", "fail", &ids[0]]);
    sim_ok(&sim, &["hsm", "fail", &ids[1]]);
    ok(
        &sim,
        &argv(
            "key generate-asymmetric-pair ec --curve prime256v1 --public-label p \
             --private-label q --private-attributes sign=true",
        ),
        CU,
    );
    let sign =
        argv("crypto sign ecdsa --key-filter attr.label=q --hash-function sha256 --data YWJj");
    let v = sim.cli_env(&sign, CU).one();
    assert_eq!(v["data"], "Cannot perform the requested key operation as the key must be available on at least 2 HSMs");
    let run = sim.configure(&["--disable-key-availability-check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    ok(&sim, &sign, CU);
    assert_eq!(sim.configure(&["--enable-key-availability-check"]).code, 0);
    assert_eq!(sim.cli_env(&sign, CU).code, 1);
}

/// AWS: the availability error "typically occurs in clusters with only one HSM"; the fix it
/// gives is `--disable-key-availability-check`.
#[test]
fn a_single_hsm_cluster_needs_the_check_disabled() {
    let (sim, ids) = three_hsms();
    ok(
        &sim,
        &argv("user create --username cu1 --role crypto-user --password cu1-password"),
        ADMIN,
    );
    sim_ok(&sim, &["hsm", "remove", &ids[0]]);
    sim_ok(&sim, &["hsm", "remove", &ids[1]]);
    ok(
        &sim,
        &argv(
            "key generate-asymmetric-pair ec --curve prime256v1 --public-label p \
             --private-label q --private-attributes sign=true",
        ),
        CU,
    );
    let sign =
        argv("crypto sign ecdsa --key-filter attr.label=q --hash-function sha256 --data YWJj");
    let v = sim.cli_env(&sign, CU).one();
    assert_eq!(v["data"], "Cannot perform the requested key operation as the key must be available on at least 2 HSMs");
    assert_eq!(sim.configure(&["--disable-key-availability-check"]).code, 0);
    ok(&sim, &sign, CU);
}

#[test]
fn masked_objects_round_trip_only_inside_their_cluster() {
    let (sim, _) = three_hsms();
    ok(
        &sim,
        &argv("user create --username cu1 --role crypto-user --password cu1-password"),
        ADMIN,
    );
    ok(
        &sim,
        &argv("user create --username cu2 --role crypto-user --password cu2-password"),
        ADMIN,
    );
    let key = ok(
        &sim,
        &argv("key generate-symmetric aes --label k --key-length-bytes 32"),
        CU,
    );
    let check = key["key"]["attributes"]["check-value"].clone();
    let path = sim.dir.path().join("masked.json");
    let p = path.to_str().unwrap();
    ok(
        &sim,
        &[
            "key",
            "extract-masked",
            "--filter",
            "attr.label=k",
            "--path",
            p,
        ],
        CU,
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("\"material\""),
        "the key leaves the HSM masked"
    );
    // Another crypto user may not extract it (it does not even see it).
    let cu2 = [
        ("CLOUDHSM_ROLE", "crypto-user"),
        ("CLOUDHSM_PIN", "cu2:cu2-password"),
    ];
    assert_eq!(
        sim.cli_env(
            &[
                "key",
                "extract-masked",
                "--filter",
                "attr.label=k",
                "--path",
                p
            ],
            &cu2
        )
        .code,
        1
    );
    // Deleted, then inserted back: the same key under the same reference.
    ok(&sim, &["key", "delete", "--filter", "attr.label=k"], CU);
    let v = ok(&sim, &["key", "insert-masked", "--path", p], CU);
    assert_eq!(v["key-reference"], key["key"]["key-reference"]);
    let listed = ok(
        &sim,
        &["key", "list", "--filter", "attr.label=k", "--verbose"],
        CU,
    );
    assert_eq!(
        listed["matched_keys"][0]["attributes"]["check-value"],
        check
    );
    // An admin and the appliance user may insert too (their cells of the table).
    ok(&sim, &["key", "insert-masked", "--path", p], ADMIN);
    ok(
        &sim,
        &["key", "insert-masked", "--path", p],
        &[
            ("CLOUDHSM_ROLE", "appliance-user"),
            ("CLOUDHSM_PIN", "app_user:appliance-pw"),
        ],
    );
    // cu2 may not insert cu1's key.
    assert_eq!(
        sim.cli_env(&["key", "insert-masked", "--path", p], &cu2)
            .one()["data"],
        "Only the owner of a key can perform this operation"
    );
    // Altered: refused.
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let data = doc["data"].as_str().unwrap().to_string();
    let flipped = match data.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", data.get(1..).unwrap_or_default()),
    };
    doc["data"] = flipped.into();
    let altered = sim.dir.path().join("altered.json");
    std::fs::write(&altered, serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(
        sim.cli_env(
            &["key", "insert-masked", "--path", altered.to_str().unwrap()],
            CU
        )
        .one()["data"],
        "The masked object was altered or is not a cloudhsm-sim masked object"
    );
    // Another cluster (another id): refused by name; one with the same id but its own masking
    // key (another state directory): cannot unmask it.
    let other = Sim::empty();
    assert_eq!(
        other
            .sim(&["init", "--cluster-id", "cluster-other", "--kdf", "fast"])
            .code,
        0
    );
    assert_eq!(
        other
            .cli(&["cluster", "activate", "--password", "admin-pw-1"])
            .code,
        0
    );
    ok(
        &other,
        &argv("user create --username cu1 --role crypto-user --password cu1-password"),
        ADMIN,
    );
    let v = other
        .cli_env(&["key", "insert-masked", "--path", p], CU)
        .one();
    assert!(
        v["data"]
            .as_str()
            .unwrap()
            .starts_with("The masked object belongs to cluster"),
        "{v}"
    );
    let twin = Sim::with_crypto_user("admin-pw-1", "cu1", "cu1-password");
    let v = twin
        .cli_env(&["key", "insert-masked", "--path", p], CU)
        .one();
    assert_eq!(
        v["data"],
        "The masked object was altered or is not a cloudhsm-sim masked object"
    );
}

#[test]
fn two_clusters_need_a_cluster_id_and_configure_cli_forms_are_accepted() {
    let sim = Sim::empty();
    for id in ["cluster-one", "cluster-two"] {
        assert_eq!(
            sim.sim(&["init", "--cluster-id", id, "--kdf", "fast"]).code,
            0
        );
    }
    let v = sim.cli(&["user", "list"]).one();
    assert_eq!(
        v["data"],
        "multiple clusters provided in configuration file. Please specify `cluster-id`"
    );
    ok(&sim, &["user", "list", "--cluster-id", "cluster-two"], &[]);
    // The documented configure-cli forms run; unknown subcommands are usage errors.
    for args in [
        vec!["-a", "10.0.0.1", "10.0.0.2"],
        argv(
            "--cluster-id cluster-one --region us-east-1 --hsm-ca-cert \
             /opt/cloudhsm/etc/customerCA.crt",
        ),
        argv("--log-type file --log-file /tmp/cli.log --log-level info --log-rotation daily"),
        argv("add-cluster --cluster-id cluster-two --region us-east-1"),
        vec!["add-cluster", "--cluster-id", "cluster-three"],
        vec!["remove-cluster", "--cluster-id", "cluster-three"],
        vec!["--disable-key-availability-check"],
    ] {
        let run = sim.configure(&args);
        assert_eq!(run.code, 0, "configure-cli {args:?}: {}", run.stderr);
    }
    assert!(sim
        .configure(&["-a", "10.0.0.1"])
        .stderr
        .contains("no effect"));
    assert_eq!(sim.configure(&["update", "-a", "10.0.0.1"]).code, 2);
    // add-cluster created cluster-three in the simulation; the CLI uses only configured clusters.
    assert!(sim.home.join("clusters/cluster-three.db").exists());
    let v = sim
        .cli(&["user", "list", "--cluster-id", "cluster-three"])
        .one();
    assert!(
        v["data"]
            .as_str()
            .unwrap()
            .contains("not in the CLI configuration"),
        "{v}"
    );
    let v = sim.cli(&["user", "list"]).one();
    assert_eq!(
        v["data"],
        "multiple clusters provided in configuration file. Please specify `cluster-id`"
    );
    sim.configure(&["remove-cluster", "--cluster-id", "cluster-two"]);
    ok(&sim, &["user", "list"], &[]);
}

#[test]
fn init_prints_a_generated_appliance_password_that_logs_in() {
    let sim = Sim::empty();
    let v = sim_ok(
        &sim,
        &["init", "--cluster-id", "cluster-app", "--kdf", "fast"],
    );
    let pw = v["appliance-password"]
        .as_str()
        .expect("generated password shown once")
        .to_string();
    assert!(
        sim.sim(&["status"]).one().to_string().find(&pw).is_none(),
        "shown only once"
    );
    let pin = format!("app_user:{pw}");
    let env = [
        ("CLOUDHSM_ROLE", "appliance-user"),
        ("CLOUDHSM_PIN", pin.as_str()),
    ];
    ok(&sim, &["cluster", "sync-status"], &env);
    // The appliance user may not manage keys or users.
    assert_eq!(sim.cli_env(&["key", "list"], &env).code, 1);
    assert_eq!(
        sim.cli_env(
            &[
                "user",
                "create",
                "--username",
                "x",
                "--role",
                "admin",
                "--password",
                "x-password"
            ],
            &env
        )
        .code,
        1
    );
    // Unauthenticated: no sync status.
    assert_eq!(sim.cli(&["cluster", "sync-status"]).code, 1);
}

#[test]
fn a_successful_login_changes_no_user_record() {
    let (sim, ids) = three_hsms();
    ok(
        &sim,
        &argv("user create --username cu1 --role crypto-user --password cu1-password"),
        ADMIN,
    );
    sim_ok(&sim, &["hsm", "fail", &ids[0]]);
    // Logins while an HSM is down: a rewrite of the (unchanged) failed-login counter would give
    // the users a version the failed HSM lacks, and show them `partial`.
    ok(&sim, &argv("key list"), CU);
    ok(&sim, &argv("user list"), ADMIN);
    ok(&sim, &argv("key list"), CU);
    assert_eq!(coverage(&sim, "cu1"), "full");
    assert_eq!(coverage(&sim, "admin"), "full");
    // A failed login does change the counter, and so the record.
    let run = sim.cli_env(
        &argv("key list"),
        &[
            ("CLOUDHSM_ROLE", "crypto-user"),
            ("CLOUDHSM_PIN", "cu1:wrong-pw-12"),
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(coverage(&sim, "cu1"), "partial");
    // And the next good login resets it.
    sim_ok(&sim, &["hsm", "restore", &ids[0]]);
    ok(&sim, &argv("key list"), CU);
    assert_eq!(coverage(&sim, "cu1"), "full");
}
