//! Every operation class that has a command, run as every kind of principal, against the
//! permission table: an allowed command is never refused by the table, a denied one always is.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::path::Path;

use cloudhsm_sim::grammar::Cli;
use cloudhsm_sim::output::Response;
use cloudhsm_sim::session::permissions::{allows, OperationClass};
use cloudhsm_sim::session::{Outcome, Principal, Session};
use cloudhsm_sim::shell::NoInput;

const PW: &str = "principal-pw";

fn run(session: &mut Session, line: &str) -> Response {
    let words = shlex::split(line).unwrap();
    let cli = Cli::parse_words(words).unwrap_or_else(|e| panic!("`{line}`: {e}"));
    match session.execute(&cli.command, &mut NoInput) {
        Outcome::Respond(r) => r,
        Outcome::Quit | Outcome::SetFormat(_) => panic!("`{line}` changed the session"),
    }
}

fn ok(session: &mut Session, line: &str) {
    let r = run(session, line);
    assert_eq!(r.error_code, 0, "`{line}` failed: {}", r.data);
}

fn session(home: &Path) -> Session {
    Session::new(Some(home.to_path_buf()), None, Some(1))
}

/// A state directory, and a session logged in as `principal` (with `name` as its username).
fn principal_session(principal: Principal, home: &Path) -> (Session, &'static str, &'static str) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let args = "init --cluster-id cluster-perm --kdf fast --appliance-password appliance-pw";
    let status = cloudhsm_sim::control::run(
        args.split(' ').map(Into::into).collect(),
        Some(home.to_path_buf()),
        Some(1),
        &mut out,
        &mut err,
    );
    assert_eq!(status, 0);
    let mut setup = session(home);
    if principal != Principal::UnactivatedAdmin {
        ok(&mut setup, &format!("cluster activate --password {PW}"));
        ok(
            &mut setup,
            &format!("login --username admin --role admin --password {PW}"),
        );
        ok(
            &mut setup,
            &format!("user create --username cu --role crypto-user --password {PW}"),
        );
        ok(
            &mut setup,
            &format!("user create --username victim --role crypto-user --password {PW}"),
        );
        ok(&mut setup, "logout");
    }
    drop(setup);
    let mut s = session(home);
    let (name, role) = match principal {
        Principal::Unauthenticated => return (s, "nobody", "crypto-user"),
        Principal::UnactivatedAdmin => {
            ok(
                &mut s,
                "login --username admin --role admin --password password",
            );
            ("admin", "admin")
        }
        Principal::Admin => {
            ok(
                &mut s,
                &format!("login --username admin --role admin --password {PW}"),
            );
            ("admin", "admin")
        }
        Principal::CryptoUser => {
            ok(
                &mut s,
                &format!("login --username cu --role crypto-user --password {PW}"),
            );
            ("cu", "crypto-user")
        }
        Principal::ApplianceUser => {
            ok(
                &mut s,
                "login --username app_user --role appliance-user --password appliance-pw",
            );
            ("app_user", "appliance-user")
        }
    };
    (s, name, role)
}

/// A denial by the permission table: of the whole command, of the attribute `key
/// set-attribute` sets (`trusted`, or any other), or for want of a login.
fn is_table_denial(r: &Response) -> bool {
    let text = r.data.as_str().unwrap_or_default();
    r.error_code == 1
        && (text.contains("is not permitted to run")
            || text.contains("is not permitted to set the")
            || text.starts_with("You must be logged in"))
}

#[test]
fn every_class_under_every_principal() {
    let mut checked = 0;
    for &principal in Principal::ALL {
        let cases: Vec<(OperationClass, String)> = {
            let dir = tempfile::tempdir().unwrap();
            let (_, name, role) = principal_session(principal, dir.path());
            vec![
                (OperationClass::BasicClusterInfo, "user list".into()),
                (OperationClass::BasicClusterInfo, "cluster hsm-info".into()),
                (OperationClass::ActivateCluster, "cluster activate --password activate-pw".into()),
                (
                    OperationClass::ChangeOwnPassword,
                    format!("user change-password --username {name} --role {role} --password new-own-pw"),
                ),
                (
                    OperationClass::ChangeAnyPassword,
                    "user change-password --username victim --role crypto-user --password new-any-pw".into(),
                ),
                (
                    OperationClass::AddRemoveUsers,
                    "user create --username newbie --role crypto-user --password newbie-pw".into(),
                ),
                (OperationClass::AddRemoveUsers, "user delete --username victim --role crypto-user".into()),
                (OperationClass::ListKeys, "key list".into()),
                (
                    OperationClass::KeyManagement,
                    "key generate-symmetric aes --label k --key-length-bytes 16".into(),
                ),
                (
                    OperationClass::KeyManagement,
                    "key delete --filter key-reference=0x30".into(),
                ),
                (
                    OperationClass::SetTrustedAttribute,
                    "key set-attribute --filter key-reference=0x30 --name trusted --value true".into(),
                ),
                (
                    OperationClass::KeyManagement,
                    "key set-attribute --filter key-reference=0x30 --name encrypt --value true".into(),
                ),
                (
                    OperationClass::SignVerify,
                    "crypto sign ecdsa --key-filter key-reference=0x30 --hash-function sha256 --data YWJj".into(),
                ),
                (
                    OperationClass::EncryptDecrypt,
                    "crypto encrypt aes-gcm --key-filter key-reference=0x30 --data YWJj".into(),
                ),
                (
                    OperationClass::EncryptDecrypt,
                    "crypto decrypt rsa-oaep --key-filter key-reference=0x30 --hash-function sha256 --mgf mgf1-sha256 --data YWJj".into(),
                ),
                (
                    OperationClass::DigestHmac,
                    "crypto digest --hash-function sha256 --data YWJj".into(),
                ),
                (
                    OperationClass::DigestHmac,
                    "crypto mac hmac --key-filter key-reference=0x30 --hash-function sha256 --data YWJj".into(),
                ),
                (
                    OperationClass::KeyManagement,
                    "key wrap aes-no-pad --payload-filter key-reference=0x30 --wrapping-filter key-reference=0x31".into(),
                ),
                (
                    OperationClass::KeyManagement,
                    "key unwrap rsa-pkcs --filter key-reference=0x31 --data YWJj --key-type-class aes --label u".into(),
                ),
                (
                    OperationClass::QuorumTokens,
                    "quorum token-sign list".into(),
                ),
                (
                    OperationClass::QuorumAdministration,
                    "quorum token-sign set-timeout --generated 900".into(),
                ),
                (
                    OperationClass::QuorumAdministration,
                    "quorum token-sign delete --scope all".into(),
                ),
                (
                    OperationClass::BasicClusterInfo,
                    "quorum token-sign list-quorum-values".into(),
                ),
                (OperationClass::SyncStatus, "cluster sync-status".into()),
                (
                    OperationClass::BasicClusterInfo,
                    "cluster mtls list-trust-anchors".into(),
                ),
                (OperationClass::MtlsStatus, "cluster mtls get-enforcement".into()),
                (
                    OperationClass::MtlsAdministration,
                    "cluster mtls register-trust-anchor --path /nonexistent/ca.pem".into(),
                ),
                (
                    OperationClass::MtlsAdministration,
                    "cluster mtls deregister-trust-anchor --certificate-reference 0x01".into(),
                ),
                (
                    OperationClass::MtlsAdministration,
                    "cluster mtls set-enforcement --level none".into(),
                ),
                (
                    OperationClass::MaskedObjects,
                    "key insert-masked --path /nonexistent/masked.json".into(),
                ),
                (
                    OperationClass::MaskedObjects,
                    "key extract-masked --filter key-reference=0x30 --path /nonexistent/m.json".into(),
                ),
                (
                    OperationClass::SignVerify,
                    "crypto verify ed25519 --key-filter key-reference=0x30 --data YWJj --signature YWJj".into(),
                ),
            ]
        };
        for (class, line) in cases {
            // A fresh state for each command, so one command's effect cannot mask another's.
            let dir = tempfile::tempdir().unwrap();
            let (mut s, _, _) = principal_session(principal, dir.path());
            let r = run(&mut s, &line);
            let allowed = allows(class, principal);
            if allowed {
                assert!(
                    !is_table_denial(&r),
                    "{principal:?} should be allowed `{line}` ({class:?}) but got {}",
                    r.data
                );
            } else {
                assert!(
                    is_table_denial(&r),
                    "{principal:?} should be denied `{line}` ({class:?}) but got {}",
                    r.data
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 32 * Principal::ALL.len());
}

#[test]
fn allowed_commands_really_work() {
    // Spot checks that "allowed" means the command succeeded, not merely "not denied".
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _, _) = principal_session(Principal::ApplianceUser, dir.path());
    ok(
        &mut s,
        "user change-password --username app_user --role appliance-user --password appliance-pw2",
    );
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _, _) = principal_session(Principal::CryptoUser, dir.path());
    ok(
        &mut s,
        "user change-password --username cu --role crypto-user --password cu-new-pw",
    );
    let dir = tempfile::tempdir().unwrap();
    let (mut s, _, _) = principal_session(Principal::Unauthenticated, dir.path());
    let r = run(&mut s, "cluster activate --password again-pw1");
    assert_eq!(r.data, "Cluster has already been activated");
}
