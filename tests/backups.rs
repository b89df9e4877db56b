//! Backups and clones (issue 17, item 2): `cloudhsm-sim backup create|list|delete` and
//! `cloudhsm-sim init --from-backup`. Each test drives the real binaries.
//!
//! - A clone holds the backup's users (their passwords log in), keys (same references,
//!   attributes, owners, material: a key signs on the clone and the signature verifies with
//!   the source's public key in OpenSSL) and settings; its HSMs are its own.
//! - Lineage: two clusters made by `init` are not clones; a clone, and a clone of a clone,
//!   share the source's lineage (shown by `status`).
//! - Unknown and malformed ids, an existing `--cluster-id` and a damaged backup file are
//!   refused with clear texts; backup files are 0600; concurrent `backup create` runs all
//!   succeed with distinct ids.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::thread;

use base64::Engine;
use common::*;
use serde_json::Value;

const ADMIN_PW: &str = "admin-pw-1";
const ALICE_PW: &str = "alice-pw-1";

/// Runs `args` on `cluster` as alice; the successful response.
fn cu(sim: &Sim, cluster: &str, args: &[&str]) -> Value {
    let mut argv = args.to_vec();
    argv.extend_from_slice(&["--cluster-id", cluster]);
    let pin = format!("alice:{ALICE_PW}");
    let run = sim.cli_env(
        &argv,
        &[("CLOUDHSM_ROLE", "crypto-user"), ("CLOUDHSM_PIN", &pin)],
    );
    let v = run.one();
    assert_eq!(v["error_code"], 0, "{argv:?} failed: {v}\n{}", run.stderr);
    v
}

/// A successful `cloudhsm-sim` run's JSON.
fn sim_ok(sim: &Sim, args: &[&str]) -> Value {
    let run = sim.sim(args);
    assert_eq!(run.code, 0, "cloudhsm-sim {args:?}: {}", run.stderr);
    run.one()
}

/// A refused `cloudhsm-sim` run's stderr.
fn sim_err(sim: &Sim, args: &[&str]) -> String {
    let run = sim.sim(args);
    assert_eq!(
        run.code,
        1,
        "cloudhsm-sim {args:?} should fail: {}",
        run.stdout_text()
    );
    run.stderr
}

fn backup(sim: &Sim, cluster: &str) -> String {
    let v = sim_ok(sim, &["backup", "create", "--cluster-id", cluster]);
    let id = v["Backup"]["BackupId"]
        .as_str()
        .expect("BackupId")
        .to_string();
    let body = id.strip_prefix("backup-").expect("backup- prefix");
    assert!(
        !body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(v["Backup"]["BackupState"], "READY");
    assert_eq!(v["Backup"]["ClusterId"], cluster);
    assert!(v["Backup"]["CreateTimestamp"].is_i64(), "{v}");
    id
}

fn lineage(sim: &Sim, cluster: &str) -> String {
    let status = sim_ok(sim, &["status"]);
    status["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .find(|c| c["cluster-id"] == cluster)
        .and_then(|c| c["lineage"].as_str())
        .unwrap_or_else(|| panic!("no lineage of {cluster} in {status}"))
        .to_string()
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed for these tests (CI installs it): {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// Keys of `cluster` as (reference, label, owner, attributes), sorted.
fn keys(sim: &Sim, cluster: &str) -> Vec<(String, String, String, String)> {
    let v = cu(sim, cluster, &["key", "list", "--verbose"]);
    let mut out: Vec<_> = ok_data(&v)["matched_keys"]
        .as_array()
        .expect("matched_keys")
        .iter()
        .map(|k| {
            (
                k["key-reference"].to_string(),
                k["attributes"]["label"].to_string(),
                k["key-info"]["key-owners"].to_string(),
                k["attributes"].to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_clone_holds_the_backups_users_keys_and_settings() {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", ALICE_PW);
    cu(
        &sim,
        CLUSTER,
        &[
            "key",
            "generate-asymmetric-pair",
            "rsa",
            "--modulus-size-bits",
            "2048",
            "--public-exponent",
            "65537",
            "--public-label",
            "rsa-pub",
            "--private-label",
            "rsa-priv",
            "--public-attributes",
            "verify=true",
            "--private-attributes",
            "sign=true",
        ],
    );
    let pem = sim.dir.path().join("source-pub.pem");
    cu(
        &sim,
        CLUSTER,
        &[
            "key",
            "generate-file",
            "--encoding",
            "pem",
            "--path",
            p(&pem),
            "--filter",
            "attr.label=rsa-pub",
        ],
    );
    let id = backup(&sim, CLUSTER);

    let list = sim_ok(&sim, &["backup", "list"]);
    let listed: Vec<&str> = list["Backups"]
        .as_array()
        .expect("Backups")
        .iter()
        .filter_map(|b| b["BackupId"].as_str())
        .collect();
    assert_eq!(listed, vec![id.as_str()]);

    let file = sim.home.join("backups").join(format!("{id}.json"));
    let mode = std::fs::metadata(&file)
        .expect("backup file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    let text = std::fs::read_to_string(&file).expect("read backup");
    assert!(!text.contains(ALICE_PW) && !text.contains(ADMIN_PW));
    assert!(!text.contains("\"logins\"") && !text.contains("\"tokens\""));

    let clone = sim_ok(
        &sim,
        &[
            "init",
            "--from-backup",
            &id,
            "--cluster-id",
            "cluster-clone",
        ],
    );
    assert_eq!(clone["cluster-id"], "cluster-clone");
    assert_eq!(clone["state"], "active");
    assert_eq!(clone["kdf"], "fast");
    assert_eq!(clone["hsm-type"], "hsm2m.medium");
    assert_eq!(clone["hsms"].as_array().map(Vec::len), Some(2));
    let status = sim_ok(&sim, &["status"]);
    let hsm_ids = |c: &str| -> BTreeSet<String> {
        status["clusters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|x| x["cluster-id"] == c)
            .flat_map(|x| x["hsms"].as_array().cloned().unwrap_or_default())
            .filter_map(|h| h["id"].as_str().map(str::to_string))
            .collect()
    };
    assert!(hsm_ids(CLUSTER).is_disjoint(&hsm_ids("cluster-clone")));
    assert_eq!(lineage(&sim, CLUSTER), lineage(&sim, "cluster-clone"));

    // Same users, same passwords.
    let users = |c: &str| {
        let run = sim.cli(&["user", "list", "--cluster-id", c]);
        users_of(&run.one())
    };
    assert_eq!(users(CLUSTER), users("cluster-clone"));
    let login = sim.cli_env(
        &["user", "list", "--cluster-id", "cluster-clone"],
        &[
            ("CLOUDHSM_ROLE", "admin"),
            ("CLOUDHSM_PIN", &format!("admin:{ADMIN_PW}")),
        ],
    );
    assert_eq!(login.one()["error_code"], 0, "{}", login.stderr);

    // Same keys: references, labels, owners, attributes.
    let source_keys = keys(&sim, CLUSTER);
    assert_eq!(source_keys.len(), 2);
    assert!(source_keys.iter().all(|k| k.0 != "null" && k.2 != "null"));
    assert_eq!(source_keys, keys(&sim, "cluster-clone"));

    // Same material: the clone signs, the source's public key verifies.
    let data = sim.dir.path().join("data.bin");
    std::fs::write(&data, b"signed on the clone").expect("write data");
    let v = cu(
        &sim,
        "cluster-clone",
        &[
            "crypto",
            "sign",
            "rsa-pkcs",
            "--key-filter",
            "attr.label=rsa-priv",
            "--hash-function",
            "sha256",
            "--data-path",
            p(&data),
        ],
    );
    let sig = sim.dir.path().join("clone.sig");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(ok_data(&v)["signature"].as_str().expect("signature"))
        .expect("base64");
    std::fs::write(&sig, raw).expect("write sig");
    let (ok, text) = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        p(&pem),
        "-signature",
        p(&sig),
        p(&data),
    ]);
    assert!(ok, "openssl verify: {text}");
}

#[test]
fn lineage_makes_clones_and_init_does_not() {
    let sim = Sim::unactivated();
    sim_ok(
        &sim,
        &["init", "--cluster-id", "cluster-other", "--kdf", "fast"],
    );
    assert_ne!(lineage(&sim, CLUSTER), lineage(&sim, "cluster-other"));

    let first = backup(&sim, CLUSTER);
    sim_ok(
        &sim,
        &[
            "init",
            "--from-backup",
            &first,
            "--cluster-id",
            "cluster-one",
        ],
    );
    let second = backup(&sim, "cluster-one");
    assert_ne!(first, second);
    let grandchild = sim_ok(&sim, &["init", "--from-backup", &second]);
    let grandchild = grandchild["cluster-id"].as_str().expect("cluster-id");
    assert_eq!(lineage(&sim, CLUSTER), lineage(&sim, "cluster-one"));
    assert_eq!(lineage(&sim, CLUSTER), lineage(&sim, grandchild));
    assert_ne!(lineage(&sim, grandchild), lineage(&sim, "cluster-other"));

    // The check a replicate command will make, through the hsm API.
    let home = cloudhsm_sim::store::Home::open(sim.home.clone()).expect("state directory");
    let open = |id: &str| cloudhsm_sim::hsm::Cluster::open(&home, id).expect("open cluster");
    let (mut source, mut clone, mut other) =
        (open(CLUSTER), open(grandchild), open("cluster-other"));
    assert!(clone.is_clone_of(&mut source).expect("lineages"));
    assert!(source.is_clone_of(&mut clone).expect("lineages"));
    assert!(!other.is_clone_of(&mut source).expect("lineages"));

    // A reset cluster is the same cluster: its clones stay its clones.
    let before = lineage(&sim, CLUSTER);
    sim_ok(&sim, &["reset", "--cluster-id", CLUSTER]);
    assert_eq!(lineage(&sim, CLUSTER), before);
}

#[test]
fn unknown_malformed_and_damaged_backups_and_existing_clusters_are_refused() {
    let sim = Sim::unactivated();
    let id = backup(&sim, CLUSTER);
    assert!(sim_err(
        &sim,
        &["init", "--from-backup", &id, "--cluster-id", CLUSTER]
    )
    .contains(&format!("Cluster {CLUSTER} already exists")),);
    let unknown = sim_err(&sim, &["init", "--from-backup", "backup-nosuch"]);
    assert!(
        unknown.contains("Backup backup-nosuch does not exist"),
        "{unknown}"
    );
    let unknown = sim_err(&sim, &["backup", "delete", "--backup-id", "backup-nosuch"]);
    assert!(
        unknown.contains("Backup backup-nosuch does not exist"),
        "{unknown}"
    );
    let bad = sim_err(&sim, &["backup", "delete", "--backup-id", "../etc"]);
    assert!(bad.contains("Invalid backup id ../etc"), "{bad}");
    let unknown = sim_err(
        &sim,
        &["backup", "create", "--cluster-id", "cluster-nosuch"],
    );
    assert!(
        unknown.contains("cluster-nosuch does not exist"),
        "{unknown}"
    );
    // --from-backup takes its settings from the backup.
    let run = sim.sim(&["init", "--from-backup", &id, "--fips"]);
    assert_eq!(run.code, 2, "{}", run.stderr);

    let damaged = sim.home.join("backups").join("backup-damaged.json");
    std::fs::write(&damaged, b"{\"format\": \"cloudhsm-sim-backup\"").expect("write");
    let text = sim_err(&sim, &["init", "--from-backup", "backup-damaged"]);
    assert!(
        text.contains(&format!("The backup file {} is damaged", damaged.display())),
        "{text}"
    );
    // backup list names it apart and still lists the good one.
    let list = sim_ok(&sim, &["backup", "list"]);
    assert_eq!(list["Backups"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["ignored"][0]["path"], p(&damaged), "{list}");
    // A damaged backup can be deleted.
    let gone = sim_ok(&sim, &["backup", "delete", "--backup-id", "backup-damaged"]);
    assert_eq!(gone["Backup"]["BackupState"], "DELETED");
    assert!(!damaged.exists());

    let deleted = sim_ok(&sim, &["backup", "delete", "--backup-id", &id]);
    assert_eq!(deleted["Backup"]["BackupId"], id.as_str());
    assert_eq!(deleted["Backup"]["BackupState"], "DELETED");
    let list = sim_ok(&sim, &["backup", "list"]);
    assert_eq!(list["Backups"], serde_json::json!([]));
    assert!(sim_err(&sim, &["init", "--from-backup", &id]).contains("does not exist"));
}

#[test]
fn concurrent_backups_all_succeed_with_distinct_ids() {
    let sim = Sim::unactivated();
    let runs: Vec<Run> = thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| sim.sim(&["backup", "create"])))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut ids = BTreeSet::new();
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
        let id = run.one()["Backup"]["BackupId"]
            .as_str()
            .expect("BackupId")
            .to_string();
        let mode = std::fs::metadata(sim.home.join("backups").join(format!("{id}.json")))
            .expect("backup file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        ids.insert(id);
    }
    assert_eq!(ids.len(), runs.len());
    let list = sim_ok(&sim, &["backup", "list"]);
    assert_eq!(list["Backups"].as_array().map(Vec::len), Some(runs.len()));
}
