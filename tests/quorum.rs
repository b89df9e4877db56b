//! Quorum (M of N) and MFA flows end to end, with approver keys made and tokens signed by the
//! `openssl` command line, as the AWS guide shows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{Live, Sim};
use serde_json::{json, Value};

const ADMIN_PW: &str = "admin-pw-1";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is needed (CI installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An RSA-2048 approver key pair made by OpenSSL: (private key path, public PEM path).
fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    openssl(&["genrsa", "-out", key.to_str().unwrap(), "2048"]);
    openssl(&[
        "rsa",
        "-in",
        key.to_str().unwrap(),
        "-outform",
        "PEM",
        "-pubout",
        "-out",
        public.to_str().unwrap(),
    ]);
    (key, public)
}

/// The documented signing recipe: base64-decode the token, `openssl pkeyutl -sign -pkeyopt
/// digest:sha256`, base64 the signature.
fn sign(dir: &Path, key: &Path, token_b64: &str) -> String {
    let bin = dir.join("token.bin");
    let sig = dir.join("token.sig");
    std::fs::write(&bin, b64().decode(token_b64).unwrap()).unwrap();
    openssl(&[
        "pkeyutl",
        "-sign",
        "-inkey",
        key.to_str().unwrap(),
        "-pkeyopt",
        "digest:sha256",
        "-keyform",
        "PEM",
        "-in",
        bin.to_str().unwrap(),
        "-out",
        sig.to_str().unwrap(),
    ]);
    b64().encode(std::fs::read(&sig).unwrap())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn ok(v: &Value) -> &Value {
    assert_eq!(v["error_code"], 0, "unexpected failure: {v}");
    &v["data"]
}

fn err(v: &Value) -> &str {
    assert_eq!(v["error_code"], 1, "unexpected success: {v}");
    v["data"].as_str().unwrap()
}

/// Signs every token of a registration or MFA file in place with `key`.
fn sign_token_set(dir: &Path, file: &Path, key: &Path) {
    let mut v = read_json(file);
    for t in v["tokens"].as_array_mut().unwrap() {
        let unsigned = t["unsigned"].as_str().unwrap().to_string();
        t["signed"] = sign(dir, key, &unsigned).into();
    }
    std::fs::write(file, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// Logs `user` in on `live`, registers `public` for quorum, logs out.
fn register(
    live: &mut Live,
    dir: &Path,
    user: &str,
    role: &str,
    pw: &str,
    key: &Path,
    public: &Path,
) {
    ok(&live.ask(&format!(
        "login --username {user} --role {role} --password {pw}"
    )));
    let file = dir.join(format!("{user}-registration.json"));
    let v = live.ask(&format!(
        "quorum token-sign generate --service registration --token {}",
        file.display()
    ));
    // The command page prints `filepath`; the quorum setup guides' scripts read `.data.path`.
    assert_eq!(ok(&v)["filepath"], file.display().to_string());
    assert_eq!(ok(&v)["path"], file.display().to_string());
    let tokens = read_json(&file);
    assert_eq!(tokens["version"], "2.0");
    assert_eq!(
        tokens["tokens"].as_array().unwrap().len(),
        2,
        "one token per HSM"
    );
    sign_token_set(dir, &file, key);
    let v = live.ask(&format!(
        "user change-quorum token-sign register --public-key {} --signed-token {}",
        public.display(),
        file.display()
    ));
    assert_eq!(ok(&v), &json!({"username": user, "role": role}));
    ok(&live.ask("logout"));
}

/// Generates an approval token for `service` and returns (token file, parsed content).
fn approval_token(
    live: &mut Live,
    dir: &Path,
    name: &str,
    service: &str,
    filter: &str,
) -> (PathBuf, Value) {
    let file = dir.join(format!("{name}.token"));
    let v = live.ask(&format!(
        "quorum token-sign generate --service {service} --token {} {filter}",
        file.display()
    ));
    ok(&v);
    let token = read_json(&file);
    assert_eq!(token["version"], "2.0");
    let data = b64()
        .decode(token["approval_data"].as_str().unwrap())
        .unwrap();
    let digest = Command::new("openssl")
        .args(["dgst", "-sha256", "-binary"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&data).unwrap();
            c.wait_with_output().unwrap().stdout
        })
        .unwrap();
    assert_eq!(
        b64().encode(digest),
        token["token"].as_str().unwrap(),
        "token is SHA-256 of approval_data"
    );
    (file, token)
}

/// Writes `token` with the given (username, key) signatures to `file`.
fn with_signatures(dir: &Path, file: &Path, token: &Value, signers: &[(&str, &Path)]) {
    let mut t = token.clone();
    let token_b64 = token["token"].as_str().unwrap().to_string();
    t["signatures"] = signers
        .iter()
        .map(|(user, key)| json!({"username": user, "signature": sign(dir, key, &token_b64)}))
        .collect();
    std::fs::write(file, serde_json::to_vec_pretty(&t).unwrap()).unwrap();
}

fn admin_setup() -> (Sim, Vec<(PathBuf, PathBuf)>) {
    let sim = Sim::activated(ADMIN_PW);
    let dir = sim.dir.path().to_path_buf();
    let mut live = Live::start(&sim);
    ok(&live.ask(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    )));
    for a in ["admin2", "admin3"] {
        ok(&live.ask(&format!(
            "user create --username {a} --role admin --password {a}-password"
        )));
    }
    ok(&live.ask("user create --username cu1 --role crypto-user --password cu1-password"));
    ok(&live.ask("logout"));
    let mut keys = Vec::new();
    for (user, pw) in [
        ("admin", ADMIN_PW.to_string()),
        ("admin2", "admin2-password".into()),
        ("admin3", "admin3-password".into()),
    ] {
        let (key, public) = keypair(&dir, user);
        register(&mut live, &dir, user, "admin", &pw, &key, &public);
        keys.push((key, public));
    }
    assert_eq!(live.close(), 0);
    (sim, keys)
}

#[test]
fn user_service_quorum_end_to_end() {
    let (sim, keys) = admin_setup();
    let dir = sim.dir.path().to_path_buf();
    let (k1, k2, k3) = (&keys[0].0, &keys[1].0, &keys[2].0);
    let mut live = Live::start(&sim);
    let users = live.ask("user list");
    for u in ok(&users)["users"].as_array().unwrap() {
        let registered = ["admin", "admin2", "admin3"].contains(&u["username"].as_str().unwrap());
        let want = if registered {
            json!([{"strategy": "token-sign", "status": "enabled"}])
        } else {
            json!([])
        };
        assert_eq!(u["quorum"], want, "{u}");
    }
    ok(&live.ask(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    )));
    assert_eq!(
        ok(&live.ask("quorum token-sign list-quorum-values")),
        &json!({"user": 1, "quorum": 1, "cluster": 1})
    );
    // More than the three admins, or more than 8: refused; 2 is fine.
    assert_eq!(
        err(&live.ask("quorum token-sign set-quorum-value --service user --value 4")),
        "Invalid quorum value provided."
    );
    assert_eq!(
        err(&live.ask("quorum token-sign set-quorum-value --service user --value 9")),
        "Invalid quorum value provided."
    );
    assert_eq!(
        ok(&live.ask("quorum token-sign set-quorum-value --service user --value 2")),
        "Set Quorum Value successful"
    );
    assert_eq!(
        ok(&live.ask("quorum token-sign list-quorum-values"))["user"],
        2
    );

    let create = |n: &str, approval: Option<&Path>| {
        let mut line =
            format!("user create --username {n} --role crypto-user --password {n}-password");
        if let Some(a) = approval {
            line.push_str(&format!(" --approval {}", a.display()));
        }
        line
    };
    assert_eq!(
        err(&live.ask(&create("bob", None))),
        "Quorum approval is required for this operation"
    );

    // Two valid signatures from distinct registered admins: approved, and the token is spent.
    let (file, token) = approval_token(&mut live, &dir, "t1", "user", "");
    let listed = live.ask("quorum token-sign list");
    let entry = &ok(&listed)["tokens"][0];
    assert_eq!(
        (
            entry["username"].as_str(),
            entry["service"].as_str(),
            entry["approvals-required"].as_i64()
        ),
        (Some("admin"), Some("user"), Some(2))
    );
    with_signatures(&dir, &file, &token, &[("admin2", k2), ("admin3", k3)]);
    assert_eq!(
        ok(&live.ask(&create("bob", Some(&file))))["username"],
        "bob"
    );
    assert_eq!(
        err(&live.ask(&create("carol", Some(&file)))),
        "Invalid username-signature pair for quorum authorization"
    );
    assert_eq!(ok(&live.ask("quorum token-sign list"))["tokens"], json!([]));

    // One signature of two.
    let (file, token) = approval_token(&mut live, &dir, "t2", "user", "");
    with_signatures(&dir, &file, &token, &[("admin2", k2)]);
    assert_eq!(
        err(&live.ask(&create("carol", Some(&file)))),
        "Too few quorum approvals: currently 1 approvals, but 2 approvals required"
    );
    // The same approver twice counts once.
    with_signatures(&dir, &file, &token, &[("admin2", k2), ("admin2", k2)]);
    assert_eq!(
        err(&live.ask(&create("carol", Some(&file)))),
        "Too few quorum approvals: currently 1 approvals, but 2 approvals required"
    );
    // No signatures at all.
    with_signatures(&dir, &file, &token, &[]);
    assert_eq!(
        err(&live.ask(&create("carol", Some(&file)))),
        "No token signatures provided"
    );
    // A user without a registered key, and a signature made with the wrong key.
    with_signatures(&dir, &file, &token, &[("admin2", k2), ("cu1", k3)]);
    assert_eq!(
        err(&live.ask(&create("carol", Some(&file)))),
        "Invalid username-signature pair for quorum authorization"
    );
    with_signatures(&dir, &file, &token, &[("admin2", k2), ("admin3", k1)]);
    assert_eq!(
        err(&live.ask(&create("carol", Some(&file)))),
        "Invalid username-signature pair for quorum authorization"
    );
    // Signatures over another token.
    let (other_file, other) = approval_token(&mut live, &dir, "t3", "user", "");
    let mut forged = other.clone();
    forged["token"] = token["token"].clone();
    forged["approval_data"] = token["approval_data"].clone();
    with_signatures(
        &dir,
        &other_file,
        &forged,
        &[("admin2", k2), ("admin3", k3)],
    );
    let mut swapped = read_json(&other_file);
    swapped["token"] = other["token"].clone();
    swapped["approval_data"] = other["approval_data"].clone();
    std::fs::write(&other_file, serde_json::to_vec(&swapped).unwrap()).unwrap();
    assert_eq!(
        err(&live.ask(&create("carol", Some(&other_file)))),
        "Invalid username-signature pair for quorum authorization"
    );

    // A token from another login session is refused.
    let (file, token) = approval_token(&mut live, &dir, "t4", "user", "");
    with_signatures(&dir, &file, &token, &[("admin2", k2), ("admin3", k3)]);
    let mut other_session = Live::start(&sim);
    ok(&other_session.ask("login --username admin2 --role admin --password admin2-password"));
    assert_eq!(
        err(&other_session.ask(&create("dave", Some(&file)))),
        "Invalid username-signature pair for quorum authorization"
    );
    assert_eq!(other_session.close(), 0);
    // ... and works in its own session (a requester may also approve).
    assert_eq!(
        ok(&live.ask(&create("dave", Some(&file))))["username"],
        "dave"
    );

    // Expired: a one-second generated timeout.
    assert_eq!(
        ok(&live.ask("quorum token-sign set-timeout --generated 1")),
        "Set token timeout successful"
    );
    assert_eq!(
        ok(&live.ask("quorum token-sign list-timeouts")),
        &json!({"generated": 1, "approved": 600})
    );
    let (file, token) = approval_token(&mut live, &dir, "t5", "user", "");
    with_signatures(&dir, &file, &token, &[("admin", k1), ("admin2", k2)]);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        err(&live.ask(&create("erin", Some(&file)))),
        "The quorum token has expired"
    );
    ok(&live.ask("quorum token-sign set-timeout --generated 600"));

    // Logout voids the session's tokens, and a command offering one says why.
    let (file, token) = approval_token(&mut live, &dir, "t6", "user", "");
    with_signatures(&dir, &file, &token, &[("admin", k1), ("admin2", k2)]);
    ok(&live.ask("logout"));
    ok(&live.ask(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    )));
    assert!(err(&live.ask(&create("erin", Some(&file))))
        .starts_with("The quorum token was generated by a login session that has ended"),);
    assert_eq!(ok(&live.ask("quorum token-sign list"))["tokens"], json!([]));
    assert_eq!(
        ok(&live.ask("quorum token-sign delete --scope all")),
        "Deletion of quorum token(s) successful"
    );
    assert_eq!(live.close(), 0);
}

#[test]
fn key_quorum_and_mfa_end_to_end() {
    let sim = Sim::activated(ADMIN_PW);
    let dir = sim.dir.path().to_path_buf();
    let mut live = Live::start(&sim);
    ok(&live.ask(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    )));
    for cu in ["cu1", "cu2", "cu3"] {
        ok(&live.ask(&format!(
            "user create --username {cu} --role crypto-user --password {cu}-password"
        )));
    }
    ok(&live.ask("logout"));
    let (k1, p1) = keypair(&dir, "cu1");
    let (k2, p2) = keypair(&dir, "cu2");
    register(
        &mut live,
        &dir,
        "cu1",
        "crypto-user",
        "cu1-password",
        &k1,
        &p1,
    );
    register(
        &mut live,
        &dir,
        "cu2",
        "crypto-user",
        "cu2-password",
        &k2,
        &p2,
    );

    // A key with use and manage quorum values of 2, shared with cu2.
    ok(&live.ask("login --username cu1 --role crypto-user --password cu1-password"));
    ok(&live.ask("key generate-asymmetric-pair ec --curve prime256v1 --public-label q-pub --private-label q-priv --private-attributes sign=true --share-crypto-users cu2 --manage-private-key-quorum-value 2 --use-private-key-quorum-value 2"));
    let sign =
        "crypto sign ecdsa --key-filter attr.label=q-priv --hash-function sha256 --data YWJj";
    assert_eq!(err(&live.ask(sign)), "Quorum Failed");
    let (file, token) = approval_token(
        &mut live,
        &dir,
        "usage",
        "key-usage",
        "--filter attr.label=q-priv",
    );
    assert_eq!(token["service"], "key-usage");
    with_signatures(&dir, &file, &token, &[("cu1", &k1)]);
    assert_eq!(
        err(&live.ask(&format!("{sign} --approval {}", file.display()))),
        "Too few quorum approvals: currently 1 approvals, but 2 approvals required"
    );
    with_signatures(&dir, &file, &token, &[("cu1", &k1), ("cu2", &k2)]);
    let v = live.ask(&format!("{sign} --approval {}", file.display()));
    assert!(ok(&v)["signature"].is_string());
    assert_eq!(
        err(&live.ask(&format!("{sign} --approval {}", file.display()))),
        "Invalid username-signature pair for quorum authorization"
    );
    // A key-usage token does not approve key management, and a key-management one works.
    let set = "key set-attribute --filter attr.label=q-priv --name label --value renamed";
    assert_eq!(err(&live.ask(set)), "Quorum Failed");
    let (file, token) = approval_token(
        &mut live,
        &dir,
        "usage2",
        "key-usage",
        "--filter attr.label=q-priv",
    );
    with_signatures(&dir, &file, &token, &[("cu1", &k1), ("cu2", &k2)]);
    assert!(err(&live.ask(&format!("{set} --approval {}", file.display()))).contains("key-usage"));
    let (file, token) = approval_token(
        &mut live,
        &dir,
        "manage",
        "key-management",
        "--filter attr.label=q-priv",
    );
    with_signatures(&dir, &file, &token, &[("cu1", &k1), ("cu2", &k2)]);
    assert_eq!(
        ok(&live.ask(&format!("{set} --approval {}", file.display())))["message"],
        "Attribute set successfully"
    );
    // Crypto users cannot generate admin-service tokens.
    assert!(err(&live.ask(&format!(
        "quorum token-sign generate --service user --token {}",
        dir.join("x").display()
    )))
    .contains("for admins"));
    ok(&live.ask("logout"));

    // MFA: an admin enables token-sign MFA for cu3; the documented prompts read the next lines.
    let (k3, p3) = keypair(&dir, "cu3");
    ok(&live.ask(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    )));
    let unsigned = dir.join("mfa.json");
    live.send(&format!("user change-mfa token-sign --username cu3 --role crypto-user --change-password cu3-new-pw --token {}", unsigned.display()));
    wait_for(&unsigned);
    let file = read_json(&unsigned);
    assert_eq!(file["tokens"].as_array().unwrap().len(), 2);
    assert!(
        file["tokens"][0].get("approval_data").is_none(),
        "MFA tokens carry no approval_data"
    );
    sign_token_set(&dir, &unsigned, &k3);
    live.send(""); // "press enter if same as the unsigned token file"
    live.send(p3.to_str().unwrap());
    assert_eq!(
        ok(&live.responses(1)[0]),
        &json!({"username": "cu3", "role": "crypto-user"})
    );
    let users = live.ask("user list");
    let cu3 = ok(&users)["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "cu3")
        .unwrap()
        .clone();
    assert_eq!(
        cu3["mfa"],
        json!([{"strategy": "token-sign", "status": "enabled"}])
    );
    ok(&live.ask("logout"));

    // The password alone is not enough.
    assert!(
        err(&live.ask("login --username cu3 --role crypto-user --password cu3-new-pw"))
            .contains("MFA enabled")
    );
    // Nor in single-command mode, whose login has no second factor (CLOUDHSM_PIN).
    let single = sim.cli_env(
        &["key", "list"],
        &[
            ("CLOUDHSM_ROLE", "crypto-user"),
            ("CLOUDHSM_PIN", "cu3:cu3-new-pw"),
        ],
    );
    assert_eq!(single.code, 1);
    assert!(
        err(&single.one()).contains("MFA enabled"),
        "{}",
        single.stdout_text()
    );
    // Signed tokens log in; wrongly signed tokens do not.
    let login_tokens = dir.join("login.json");
    live.send(&format!(
        "login --username cu3 --role crypto-user --password cu3-new-pw mfa-token-sign --token {}",
        login_tokens.display()
    ));
    wait_for(&login_tokens);
    sign_token_set(&dir, &login_tokens, &k1);
    live.send("");
    let v = live.responses(1).remove(0);
    assert!(err(&v).contains("signed token file"), "{v}");
    std::fs::remove_file(&login_tokens).unwrap();
    live.send(&format!(
        "login --username cu3 --role crypto-user --password cu3-new-pw mfa-token-sign --token {}",
        login_tokens.display()
    ));
    wait_for(&login_tokens);
    sign_token_set(&dir, &login_tokens, &k3);
    live.send("");
    assert_eq!(
        ok(&live.responses(1)[0]),
        &json!({"username": "cu3", "role": "crypto-user"})
    );
    ok(&live.ask("logout"));

    // Deregistered: the password alone works again.
    ok(&live.ask(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    )));
    ok(&live.ask("user change-mfa token-sign --username cu3 --role crypto-user --deregister --change-password cu3-third-pw"));
    ok(&live.ask("logout"));
    ok(&live.ask("login --username cu3 --role crypto-user --password cu3-third-pw"));
    assert_eq!(live.close(), 0);
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} was not written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The file is written in one call; give the writer a moment to finish it.
    std::thread::sleep(Duration::from_millis(50));
}

#[test]
fn the_documented_coprocess_recipe_runs_a_quorum_ceremony() {
    let (sim, _keys) = admin_setup();
    let dir = sim.dir.path().to_path_buf();
    let mut live = Live::start(&sim);
    ok(&live.ask(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    )));
    ok(&live.ask("quorum token-sign set-quorum-value --service user --value 2"));
    assert_eq!(live.close(), 0);
    // The recipe of docs/scripting.md, as printed; admin2.key and admin3.key are in `dir`.
    let recipe = common::doc_block("scripting.md", "## Quorum in scripts");
    let run = common::run_bash(&sim, &dir, &recipe, &[("ADMIN_PW", ADMIN_PW)]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout_text(), run.stderr);
    assert!(sim.users().iter().any(|(u, _, _)| u == "app2"));
}

#[test]
fn a_token_of_an_ended_session_says_so() {
    let (sim, keys) = admin_setup();
    let dir = sim.dir.path().to_path_buf();
    let pin = format!("admin:{ADMIN_PW}");
    let admin = [("CLOUDHSM_ROLE", "admin"), ("CLOUDHSM_PIN", pin.as_str())];
    let set = sim.cli_env(
        &common::argv("quorum token-sign set-quorum-value --service user --value 2"),
        &admin,
    );
    assert_eq!(set.code, 0, "{}", set.stdout_text());
    // Single-command mode: the token's session ends with the process that made it.
    let file = dir.join("single.token");
    let generate = format!(
        "quorum token-sign generate --service user --token {}",
        file.display()
    );
    let run = sim.cli_env(&common::argv(&generate), &admin);
    assert_eq!(run.code, 0, "{}", run.stdout_text());
    let token = read_json(&file);
    with_signatures(
        &dir,
        &file,
        &token,
        &[("admin2", &keys[1].0), ("admin3", &keys[2].0)],
    );
    let create = format!(
        "user create --username late --role crypto-user --password late-pw-12 --approval {}",
        file.display()
    );
    let run = sim.cli_env(&common::argv(&create), &admin);
    assert_eq!(run.code, 1);
    assert!(
        err(&run.one()).starts_with(
            "The quorum token was generated by a login session that has ended: a token is \
             valid only in the session that generated it"
        ),
        "{}",
        run.stdout_text()
    );
}

/// `cluster mtls register-trust-anchor`, `deregister-trust-anchor` and `set-enforcement`
/// take `--approval` under the `cluster` service once its quorum value is above 1.
#[test]
fn cluster_service_quorum_approves_mtls_changes() {
    let (sim, keys) = admin_setup();
    let dir = sim.dir.path().to_path_buf();
    let (k2, k3) = (&keys[1].0, &keys[2].0);
    let ca = dir.join("mtls-ca.pem");
    let ca = ca.display().to_string();
    let key = dir.join("mtls-ca.key").display().to_string();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &ca,
        "-subj",
        "/CN=quorum-ca",
    ]);
    let mut live = Live::start(&sim);
    ok(&live.ask(&format!(
        "login --username admin --role admin --password {ADMIN_PW}"
    )));
    // With the cluster service's quorum value at 1, no approval is needed.
    let v = live.ask(&format!("cluster mtls register-trust-anchor --path {ca}"));
    assert_eq!(ok(&v)["trust_anchor"]["certificate-reference"], "0x01");
    ok(&live.ask("quorum token-sign set-quorum-value --service cluster --value 2"));
    let deregister = |approval: Option<&Path>| {
        let mut line =
            "cluster mtls deregister-trust-anchor --certificate-reference 0x01".to_string();
        if let Some(a) = approval {
            line.push_str(&format!(" --approval {}", a.display()));
        }
        line
    };
    assert_eq!(
        err(&live.ask(&deregister(None))),
        "Quorum approval is required for this operation"
    );
    assert_eq!(
        err(&live.ask("cluster mtls set-enforcement --level none")),
        "Quorum approval is required for this operation"
    );
    // A token of another service does not approve it.
    let (file, token) = approval_token(&mut live, &dir, "mtls-user", "user", "");
    with_signatures(&dir, &file, &token, &[("admin2", k2), ("admin3", k3)]);
    assert!(err(&live.ask(&deregister(Some(&file)))).contains("cluster"));
    // An approved cluster token approves one change.
    let (file, token) = approval_token(&mut live, &dir, "mtls-cluster", "cluster", "");
    with_signatures(&dir, &file, &token, &[("admin2", k2), ("admin3", k3)]);
    assert_eq!(
        ok(&live.ask(&deregister(Some(&file))))["message"],
        "Trust anchor with reference 0x01 deregistered successfully"
    );
    assert_eq!(
        err(&live.ask(&format!(
            "cluster mtls register-trust-anchor --path {ca} --approval {}",
            file.display()
        ))),
        "Invalid username-signature pair for quorum authorization"
    );
    ok(&live.ask("logout"));
    assert_eq!(live.close(), 0);
}
