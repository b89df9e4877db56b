//! `user replicate` and `key replicate` between clone clusters (issue 17, item 3). Each test
//! drives the real binaries: backup → clone (`cloudhsm-sim backup create`, `init
//! --from-backup`), then replication of a user and a key made on the source after the
//! backup, in single-command mode (`CLOUDHSM_*` on the source, `DESTINATION_CLOUDHSM_*` on
//! the destination) and in the interactive shell (a login per cluster).
//!
//! - The replicated user logs in on the clone with its source password.
//! - The replicated key keeps its reference, attributes and owner, signs on the clone, and
//!   the signature verifies with the source's public key in OpenSSL and with `crypto verify`
//!   on the source.
//! - Refused: a destination that is not a clone; no login (or no `DESTINATION_*`
//!   credentials) on the destination; a crypto user or the appliance user replicating
//!   users; the appliance user replicating keys. An admin replicates any key once its owner
//!   exists on the destination.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use common::*;
use serde_json::Value;

const ADMIN_PW: &str = "admin-pw-1";
const ALICE_PW: &str = "alice-pw-1";
const BOB_PW: &str = "bob-pw-0001";
const CLONE: &str = "cluster-clone";
const OTHER: &str = "cluster-other";

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// `args` on `cluster` in single-command mode as `user` (`role`, `pw`); the one response.
fn as_user(sim: &Sim, cluster: &str, (user, role, pw): (&str, &str, &str), args: &[&str]) -> Value {
    let mut argv = args.to_vec();
    argv.extend_from_slice(&["--cluster-id", cluster]);
    let pin = format!("{user}:{pw}");
    let run = sim.cli_env(&argv, &[("CLOUDHSM_ROLE", role), ("CLOUDHSM_PIN", &pin)]);
    run.one()
}

/// A replication in single-command mode: `source` credentials in `CLOUDHSM_*`, `destination`
/// ones (if any) in `DESTINATION_CLOUDHSM_*`. The response and the exit code.
fn replicate(
    sim: &Sim,
    args: &[&str],
    source: (&str, &str),
    destination: Option<(&str, &str)>,
) -> (Value, i32) {
    let mut env = vec![("CLOUDHSM_ROLE", source.0), ("CLOUDHSM_PIN", source.1)];
    if let Some((role, pin)) = destination {
        env.push(("DESTINATION_CLOUDHSM_ROLE", role));
        env.push(("DESTINATION_CLOUDHSM_PIN", pin));
    }
    let run = sim.cli_env(args, &env);
    (run.one(), run.code)
}

fn sim_ok(sim: &Sim, args: &[&str]) -> Value {
    let run = sim.sim(args);
    assert_eq!(run.code, 0, "cloudhsm-sim {args:?}: {}", run.stderr);
    run.one()
}

/// An activated `cluster-abc` with crypto user alice, its clone `cluster-clone` (from a
/// backup), and `cluster-other`, activated, which is not a clone.
fn clones() -> Sim {
    let sim = Sim::with_crypto_user(ADMIN_PW, "alice", ALICE_PW);
    let backup = sim_ok(&sim, &["backup", "create", "--cluster-id", CLUSTER]);
    let id = backup["Backup"]["BackupId"].as_str().expect("BackupId");
    sim_ok(&sim, &["init", "--from-backup", id, "--cluster-id", CLONE]);
    sim_ok(&sim, &["init", "--cluster-id", OTHER, "--kdf", "fast"]);
    let run = sim.cli(&[
        "cluster",
        "activate",
        "--cluster-id",
        OTHER,
        "--password",
        ADMIN_PW,
    ]);
    assert_eq!(run.one()["error_code"], 0, "{}", run.stderr);
    sim
}

fn admin() -> (&'static str, &'static str, &'static str) {
    ("admin", "admin", ADMIN_PW)
}

fn openssl_verify(public_pem: &Path, signature: &Path, data: &Path) -> (bool, String) {
    let out = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-verify",
            p(public_pem),
            "-signature",
            p(signature),
            p(data),
        ])
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed for these tests (CI installs it): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Makes bob (a crypto user) and his RSA pair `bob-pub` / `bob-priv` on the source after the
/// backup; writes the public key to `bob-pub.pem`; returns its path and the private key's
/// reference.
fn bob_and_his_key(sim: &Sim) -> (std::path::PathBuf, String) {
    let v = as_user(
        sim,
        CLUSTER,
        admin(),
        &[
            "user",
            "create",
            "--username",
            "bob",
            "--role",
            "crypto-user",
            "--password",
            BOB_PW,
        ],
    );
    assert_eq!(v["error_code"], 0, "{v}");
    let bob = ("bob", "crypto-user", BOB_PW);
    let v = as_user(
        sim,
        CLUSTER,
        bob,
        &[
            "key",
            "generate-asymmetric-pair",
            "rsa",
            "--modulus-size-bits",
            "2048",
            "--public-exponent",
            "65537",
            "--public-label",
            "bob-pub",
            "--private-label",
            "bob-priv",
            "--public-attributes",
            "verify=true",
            "--private-attributes",
            "sign=true",
        ],
    );
    assert_eq!(v["error_code"], 0, "{v}");
    let reference = ok_data(&v)["private_key"]["key-reference"]
        .as_str()
        .expect("key-reference")
        .to_string();
    let pem = sim.dir.path().join("bob-pub.pem");
    let v = as_user(
        sim,
        CLUSTER,
        bob,
        &[
            "key",
            "generate-file",
            "--encoding",
            "pem",
            "--path",
            p(&pem),
            "--filter",
            "attr.label=bob-pub",
        ],
    );
    assert_eq!(v["error_code"], 0, "{v}");
    (pem, reference)
}

/// Signs `data` with bob's private key on `cluster`; the raw signature file.
fn sign(sim: &Sim, cluster: &str, data: &Path, name: &str) -> (std::path::PathBuf, String) {
    let v = as_user(
        sim,
        cluster,
        ("bob", "crypto-user", BOB_PW),
        &[
            "crypto",
            "sign",
            "rsa-pkcs",
            "--key-filter",
            "attr.label=bob-priv",
            "--hash-function",
            "sha256",
            "--data-path",
            p(data),
        ],
    );
    assert_eq!(v["error_code"], 0, "sign on {cluster}: {v}");
    let b64 = ok_data(&v)["signature"]
        .as_str()
        .expect("signature")
        .to_string();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .expect("base64");
    let path = sim.dir.path().join(name);
    std::fs::write(&path, raw).expect("write signature");
    (path, b64)
}

/// The replicated key signs on the clone; the source's public key verifies it, in OpenSSL
/// and with `crypto verify` on the source.
fn assert_clone_signs(sim: &Sim, pem: &Path) {
    let data = sim.dir.path().join("data.bin");
    std::fs::write(&data, b"signed on the clone").expect("write data");
    let (signature, b64) = sign(sim, CLONE, &data, "clone.sig");
    let (ok, text) = openssl_verify(pem, &signature, &data);
    assert!(ok, "openssl verify: {text}");
    let v = as_user(
        sim,
        CLUSTER,
        ("bob", "crypto-user", BOB_PW),
        &[
            "crypto",
            "verify",
            "rsa-pkcs",
            "--key-filter",
            "attr.label=bob-pub",
            "--hash-function",
            "sha256",
            "--data-path",
            p(&data),
            "--signature",
            &b64,
        ],
    );
    assert_eq!(v["error_code"], 0, "crypto verify on the source: {v}");
}

/// `key list --verbose` on `cluster` as bob: the key labelled `label`.
fn bobs_key(sim: &Sim, cluster: &str, label: &str) -> Value {
    let filter = format!("attr.label={label}");
    let v = as_user(
        sim,
        cluster,
        ("bob", "crypto-user", BOB_PW),
        &["key", "list", "--verbose", "--filter", &filter],
    );
    assert_eq!(v["error_code"], 0, "{v}");
    ok_data(&v)["matched_keys"][0].clone()
}

#[test]
fn single_command_mode_replicates_a_user_and_a_key_to_a_clone() {
    let sim = clones();
    let (pem, reference) = bob_and_his_key(&sim);
    let admin_pin = format!("admin:{ADMIN_PW}");
    let bob_pin = format!("bob:{BOB_PW}");
    let user_args = |to: &'static str| {
        [
            "user",
            "replicate",
            "--username",
            "bob",
            "--role",
            "crypto-user",
            "--source-cluster-id",
            CLUSTER,
            "--destination-cluster-id",
            to,
        ]
    };

    // Without the destination's credentials: refused, nothing copied.
    let (v, code) = replicate(&sim, &user_args(CLONE), ("admin", &admin_pin), None);
    assert_ne!(code, 0);
    assert_eq!(
        err_text(&v),
        "DESTINATION_CLOUDHSM_ROLE and DESTINATION_CLOUDHSM_PIN must be set to run user replicate in single command mode"
    );
    // To a cluster that is not a clone: refused.
    let (v, code) = replicate(
        &sim,
        &user_args(OTHER),
        ("admin", &admin_pin),
        Some(("admin", &admin_pin)),
    );
    assert_ne!(code, 0);
    assert!(
        err_text(&v).contains("is not a clone of cluster cluster-abc"),
        "{v}"
    );
    // A crypto user may not replicate users.
    let (v, _) = replicate(
        &sim,
        &user_args(CLONE),
        ("crypto-user", &format!("alice:{ALICE_PW}")),
        Some(("admin", &admin_pin)),
    );
    assert_eq!(
        err_text(&v),
        "User alice with role crypto-user is not permitted to run user replicate"
    );
    let bob_on_clone = as_user(
        &sim,
        CLONE,
        ("bob", "crypto-user", BOB_PW),
        &["key", "list"],
    );
    assert_eq!(bob_on_clone["error_code"], 1, "bob is not on the clone yet");

    let (v, code) = replicate(
        &sim,
        &user_args(CLONE),
        ("admin", &admin_pin),
        Some(("admin", &admin_pin)),
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(ok_data(&v)["message"], "Successfully replicated user");
    assert_eq!(ok_data(&v)["user"]["username"], "bob");
    assert_eq!(ok_data(&v)["user"]["role"], "crypto-user");
    assert_eq!(ok_data(&v)["user"]["cluster-coverage"], "full");
    // Bob logs in on the clone with his source password.
    let bob_on_clone = as_user(
        &sim,
        CLONE,
        ("bob", "crypto-user", BOB_PW),
        &["key", "list"],
    );
    assert_eq!(bob_on_clone["error_code"], 0, "{bob_on_clone}");

    // The key: not there before, the same reference, attributes and owner after.
    assert!(bobs_key(&sim, CLONE, "bob-priv").is_null());
    let key_args = |to: &'static str| {
        [
            "key",
            "replicate",
            "--filter",
            "attr.label=bob-priv",
            "--source-cluster-id",
            CLUSTER,
            "--destination-cluster-id",
            to,
        ]
    };
    let (v, code) = replicate(&sim, &key_args(CLONE), ("crypto-user", &bob_pin), None);
    assert_ne!(code, 0);
    assert!(err_text(&v).starts_with("DESTINATION_CLOUDHSM_ROLE"), "{v}");
    let (v, code) = replicate(
        &sim,
        &key_args(CLONE),
        ("crypto-user", &bob_pin),
        Some(("crypto-user", &bob_pin)),
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(ok_data(&v)["message"], "Successfully replicated key");
    assert_eq!(ok_data(&v)["key"]["key-reference"], reference.as_str());
    let source = bobs_key(&sim, CLUSTER, "bob-priv");
    let replica = bobs_key(&sim, CLONE, "bob-priv");
    assert_eq!(replica["key-reference"], reference.as_str());
    assert_eq!(replica["attributes"], source["attributes"]);
    assert_eq!(replica["key-info"]["key-owners"][0]["username"], "bob");
    assert_clone_signs(&sim, &pem);

    // Alice cannot see bob's private key, so she cannot select it on the source.
    let alice_pin = format!("alice:{ALICE_PW}");
    let (v, _) = replicate(
        &sim,
        &key_args(CLONE),
        ("crypto-user", &alice_pin),
        Some(("crypto-user", &alice_pin)),
    );
    assert_eq!(
        err_text(&v),
        "Key selection criteria matched 0 keys. Refine selection criteria to select a single key."
    );
}

#[test]
fn the_shell_replicates_with_a_login_on_each_cluster() {
    let sim = clones();
    let (pem, reference) = bob_and_his_key(&sim);
    let script = format!(
        "login --cluster-id {CLUSTER} --username admin --role admin --password {ADMIN_PW}\n\
         user replicate --username bob --role crypto-user --source-cluster-id {CLUSTER} --destination-cluster-id {CLONE}\n\
         login --cluster-id {CLONE} --username admin --role admin --password {ADMIN_PW}\n\
         login --cluster-id {OTHER} --username admin --role admin --password {ADMIN_PW}\n\
         user replicate --username bob --role crypto-user --source-cluster-id {CLUSTER} --destination-cluster-id {OTHER}\n\
         user replicate --username bob --role crypto-user --source-cluster-id {CLUSTER} --destination-cluster-id {CLONE}\n\
         logout --cluster-id {CLUSTER}\n\
         logout --cluster-id {CLONE}\n\
         login --cluster-id {CLUSTER} --username bob --role crypto-user --password {BOB_PW}\n\
         key replicate --filter attr.label=bob-priv --source-cluster-id {CLUSTER} --destination-cluster-id {CLONE}\n\
         login --cluster-id {CLONE} --username bob --role crypto-user --password {BOB_PW}\n\
         key replicate --filter attr.label=bob-priv --source-cluster-id {CLUSTER} --destination-cluster-id {CLONE}\n\
         quit\n"
    );
    let run = sim.piped(&script);
    let out = run.json();
    assert_eq!(out.len(), 12, "{}\n{}", run.stdout_text(), run.stderr);
    assert_eq!(
        err_text(&out[1]),
        "You must be logged in on the destination cluster cluster-clone to run user replicate: log in with login --cluster-id cluster-clone"
    );
    assert!(err_text(&out[4]).contains("is not a clone"), "{}", out[4]);
    assert_eq!(ok_data(&out[5])["message"], "Successfully replicated user");
    assert_eq!(ok_data(&out[8])["username"], "bob");
    assert!(
        err_text(&out[9]).starts_with("You must be logged in on the destination cluster"),
        "{}",
        out[9]
    );
    assert_eq!(
        out[10]["error_code"], 0,
        "bob logs in on the clone: {}",
        out[10]
    );
    assert_eq!(ok_data(&out[11])["message"], "Successfully replicated key");
    assert_eq!(
        ok_data(&out[11])["key"]["key-reference"],
        reference.as_str()
    );
    assert_eq!(
        bobs_key(&sim, CLONE, "bob-priv")["key-reference"],
        reference.as_str()
    );
    assert_clone_signs(&sim, &pem);
}

/// Who may run what: `user replicate` only admins; `key replicate` admins and crypto users
/// (an admin replicates any key, once its owner exists on the destination).
#[test]
fn the_permission_matrix_of_replication() {
    let sim = clones();
    let (_pem, reference) = bob_and_his_key(&sim);
    let admin_pin = format!("admin:{ADMIN_PW}");
    let alice_pin = format!("alice:{ALICE_PW}");
    let user_args = [
        "user",
        "replicate",
        "--username",
        "bob",
        "--role",
        "crypto-user",
        "--source-cluster-id",
        CLUSTER,
        "--destination-cluster-id",
        CLONE,
    ];
    let key_args = [
        "key",
        "replicate",
        "--filter",
        "attr.label=bob-priv",
        "--source-cluster-id",
        CLUSTER,
        "--destination-cluster-id",
        CLONE,
    ];

    // Not logged in at all (the shell): refused for both.
    let run = sim.piped(&format!(
        "{}\n{}\nquit\n",
        user_args.join(" "),
        key_args.join(" ")
    ));
    let out = run.json();
    assert_eq!(
        err_text(&out[0]),
        "You must be logged in to run user replicate"
    );
    assert_eq!(
        err_text(&out[1]),
        "You must be logged in to run key replicate"
    );

    // The appliance user may run neither.
    let app = ("appliance-user", "app_user:appliance-pw");
    let (v, _) = replicate(&sim, &user_args, app, Some(app));
    assert_eq!(
        err_text(&v),
        "User app_user with role internal(APPLIANCE_USER) is not permitted to run user replicate"
    );
    let (v, _) = replicate(&sim, &key_args, app, Some(app));
    assert_eq!(
        err_text(&v),
        "User app_user with role internal(APPLIANCE_USER) is not permitted to run key replicate"
    );

    // An admin on the source but a crypto user on the destination may not replicate users.
    let (v, _) = replicate(
        &sim,
        &user_args,
        ("admin", &admin_pin),
        Some(("crypto-user", &alice_pin)),
    );
    assert_eq!(
        err_text(&v),
        "User alice with role crypto-user is not permitted to run user replicate"
    );

    // An admin replicates bob's key once bob exists on the clone.
    let (v, _) = replicate(
        &sim,
        &key_args,
        ("admin", &admin_pin),
        Some(("admin", &admin_pin)),
    );
    assert_eq!(
        err_text(&v),
        "User bob does not exist as a crypto user on cluster cluster-clone: replicate the key's owner and the users it is shared with first"
    );
    let (v, code) = replicate(
        &sim,
        &user_args,
        ("admin", &admin_pin),
        Some(("admin", &admin_pin)),
    );
    assert_eq!(code, 0, "{v}");
    let (v, code) = replicate(
        &sim,
        &key_args,
        ("admin", &admin_pin),
        Some(("admin", &admin_pin)),
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(ok_data(&v)["key"]["key-reference"], reference.as_str());
    assert_eq!(
        bobs_key(&sim, CLONE, "bob-priv")["key-info"]["key-owners"][0]["username"],
        "bob"
    );
}

/// A certificate stored on the clone (PKCS#11 certificate storage) holds its reference: a
/// key of that reference is refused there, as a different key of that reference would be.
#[test]
fn a_certificate_on_the_clone_holds_its_reference() {
    use cloudhsm_sim::hsm::{CertificateAttributes, Cluster, Role, SessionId, Username};
    use cloudhsm_sim::store::Home;
    let sim = clones();
    let home = Home::open(sim.home.clone()).unwrap();
    let mut clone = Cluster::open(&home, CLONE).unwrap();
    let alice = Username::parse("alice").unwrap();
    let login = clone
        .login(&alice, Role::CryptoUser, ALICE_PW, &SessionId::new())
        .unwrap();
    let cert = clone
        .create_certificate(
            &login,
            CertificateAttributes {
                subject: vec![0x30, 0x00],
                value: vec![0x30, 0x00],
                ..CertificateAttributes::default()
            },
        )
        .unwrap();
    clone.logout(login).unwrap();
    drop(clone);

    // Alice's first key on the source takes the same reference from the same counter.
    let v = as_user(
        &sim,
        CLUSTER,
        ("alice", "crypto-user", ALICE_PW),
        &[
            "key",
            "generate-symmetric",
            "aes",
            "--label",
            "alice-aes",
            "--key-length-bytes",
            "32",
        ],
    );
    let reference = format!("0x{:016x}", cert.reference);
    assert_eq!(
        ok_data(&v)["key"]["key-reference"],
        reference.as_str(),
        "{v}"
    );
    let pin = format!("alice:{ALICE_PW}");
    let (v, code) = replicate(
        &sim,
        &[
            "key",
            "replicate",
            "--filter",
            "attr.label=alice-aes",
            "--source-cluster-id",
            CLUSTER,
            "--destination-cluster-id",
            CLONE,
        ],
        ("crypto-user", &pin),
        Some(("crypto-user", &pin)),
    );
    assert_ne!(code, 0);
    assert_eq!(
        err_text(&v),
        format!("Cluster {CLONE} holds another key with reference {reference}")
    );
}
