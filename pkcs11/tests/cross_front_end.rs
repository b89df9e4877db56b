//! The CLI (the real `cloudhsm-cli` and `cloudhsm-sim` binaries) and the module on one
//! cluster: keys made by one are the other's, a change one makes is what the other sees at
//! its next call, and logins, lockouts and resets are the cluster's, whichever front end
//! made them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use cloudhsm_sim::hsm::MAX_FAILED_LOGINS;
use common::{
    bin, cli_ok, key_references, rv_of, session, slot, text, Fixture, ADMIN_PW, CLUSTER, CU1_PW,
    CU2_PW, PIN1, PIN2,
};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::types::AuthPin;

const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The one object of `class` labelled `label` that the session sees.
fn find_one(s: &Session, class: ObjectClass, label: &str) -> ObjectHandle {
    let found = s
        .find_objects(&[Attribute::Class(class), Attribute::Label(label.into())])
        .unwrap();
    assert_eq!(found.len(), 1, "{label}: {found:?}");
    found[0]
}

fn found(s: &Session, class: ObjectClass, label: &str) -> usize {
    s.find_objects(&[Attribute::Class(class), Attribute::Label(label.into())])
        .unwrap()
        .len()
}

/// An admin's script: logs in, runs `commands`, and returns the output.
fn as_admin(fixture: &Fixture, commands: &str) -> String {
    let script = format!("login --username admin --role admin --password {ADMIN_PW}\n{commands}\n");
    let out = fixture.cli_script(&script);
    text(&out).0
}

#[test]
fn a_key_the_cli_made_is_found_and_used_by_the_module() {
    let fixture = Fixture::new();
    let made = cli_ok(
        &fixture,
        "cu1",
        CU1_PW,
        &[
            "key",
            "generate-asymmetric-pair",
            "rsa",
            "--public-exponent",
            "65537",
            "--modulus-size-bits",
            "2048",
            "--public-label",
            "cli-pub",
            "--private-label",
            "cli-priv",
            "--public-attributes",
            "verify=true",
            "--private-attributes",
            "sign=true",
            "id=0x0102",
        ],
    );
    let references = key_references(&made);
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let private = find_one(&s, ObjectClass::PRIVATE_KEY, "cli-priv");
    let public = find_one(&s, ObjectClass::PUBLIC_KEY, "cli-pub");
    let attrs = s
        .get_attributes(
            private,
            &[
                AttributeType::Token,
                AttributeType::Id,
                AttributeType::Sign,
                AttributeType::Private,
            ],
        )
        .unwrap();
    assert!(attrs.contains(&Attribute::Token(true)), "{attrs:?}");
    assert!(attrs.contains(&Attribute::Id(vec![1, 2])), "{attrs:?}");
    assert!(attrs.contains(&Attribute::Sign(true)), "{attrs:?}");

    let data = b"signed by the module with a key the CLI made";
    let signature = s.sign(&Mechanism::Sha256RsaPkcs, private, data).unwrap();
    s.verify(&Mechanism::Sha256RsaPkcs, public, data, &signature)
        .unwrap();

    // The CLI verifies what the module signed, with the same public key.
    let dir = tempfile::tempdir().unwrap();
    let (data_path, signature_path) = (dir.path().join("data"), dir.path().join("signature"));
    std::fs::write(&data_path, data).unwrap();
    std::fs::write(&signature_path, &signature).unwrap();
    let filter = format!("key-reference={}", references[0]);
    let verified = cli_ok(
        &fixture,
        "cu1",
        CU1_PW,
        &[
            "crypto",
            "verify",
            "rsa-pkcs",
            "--key-filter",
            &filter,
            "--hash-function",
            "sha256",
            "--data-path",
            data_path.to_str().unwrap(),
            "--signature-path",
            signature_path.to_str().unwrap(),
        ],
    );
    assert!(
        verified.contains("Signature verified successfully"),
        "{verified}"
    );
}

#[test]
fn a_token_key_the_module_made_is_the_clis_shared_by_it_and_used_by_the_other_user() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (_, private) = s
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::Label("app-ec-pub".into()),
                Attribute::EcParams(P256.to_vec()),
                Attribute::Verify(true),
            ],
            &[
                Attribute::Token(true),
                Attribute::Label("app-ec".into()),
                Attribute::Id(vec![0xab, 0xcd]),
                Attribute::Sign(true),
                Attribute::Extractable(false),
            ],
        )
        .unwrap();
    let data = b"a message both users sign";
    let signature = s.sign(&Mechanism::EcdsaSha256, private, data).unwrap();

    // The CLI lists it as cu1's token key, with the attributes the template asked for.
    let listed = cli_ok(
        &fixture,
        "cu1",
        CU1_PW,
        &["key", "list", "--filter", "attr.label=app-ec", "--verbose"],
    );
    for expected in [
        "\"total_key_count\": 1",
        "\"username\": \"cu1\"",
        "\"class\": \"private-key\"",
        "\"key-type\": \"ec\"",
        "\"curve\": \"prime256v1\"",
        "\"id\": \"0xabcd\"",
        "\"sign\": true",
        "\"extractable\": false",
        "\"never-extractable\": true",
        "\"token\": true",
        "\"local\": true",
        "\"private\": true",
        "\"sensitive\": true",
    ] {
        assert!(listed.contains(expected), "{expected}: {listed}");
    }
    let reference = key_references(&listed).remove(0);

    // cu2 sees cu1's public key (every public key is visible) but not its private key.
    drop(s);
    pkcs11.finalize().unwrap();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN2);
    assert_eq!(found(&s, ObjectClass::PRIVATE_KEY, "app-ec"), 0);
    let public = find_one(&s, ObjectClass::PUBLIC_KEY, "app-ec-pub");
    s.verify(&Mechanism::EcdsaSha256, public, data, &signature)
        .unwrap();

    // Shared by its owner in the CLI, cu2 signs with it through the module, but may not
    // destroy it.
    let filter = format!("key-reference={reference}");
    cli_ok(
        &fixture,
        "cu1",
        CU1_PW,
        &[
            "key",
            "share",
            "--filter",
            &filter,
            "--username",
            "cu2",
            "--role",
            "crypto-user",
        ],
    );
    let private = find_one(&s, ObjectClass::PRIVATE_KEY, "app-ec");
    let signature = s.sign(&Mechanism::EcdsaSha256, private, data).unwrap();
    s.verify(&Mechanism::EcdsaSha256, public, data, &signature)
        .unwrap();
    assert_eq!(
        rv_of(s.destroy_object(private).unwrap_err()),
        RvError::ActionProhibited
    );
    let listed = cli_ok(
        &fixture,
        "cu2",
        CU2_PW,
        &["key", "list", "--filter", &filter, "--verbose"],
    );
    assert!(listed.contains("\"shared-users\": [\n"), "{listed}");
    assert!(listed.contains("\"username\": \"cu2\""), "{listed}");
}

#[test]
fn sign_false_set_in_the_cli_fails_the_next_sign_init_of_an_open_session() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (_, private) = s
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[Attribute::Token(true), Attribute::ModulusBits(2048.into())],
            &[
                Attribute::Token(true),
                Attribute::Label("switch".into()),
                Attribute::Sign(true),
            ],
        )
        .unwrap();
    s.sign(&Mechanism::Sha256RsaPkcs, private, b"before")
        .unwrap();

    let set = |value: &str| {
        cli_ok(
            &fixture,
            "cu1",
            CU1_PW,
            &[
                "key",
                "set-attribute",
                "--filter",
                "attr.label=switch",
                "--name",
                "sign",
                "--value",
                value,
            ],
        )
    };
    set("false");
    assert_eq!(
        rv_of(s.sign_init(&Mechanism::Sha256RsaPkcs, private).unwrap_err()),
        RvError::KeyFunctionNotPermitted
    );
    // The module reads attributes anew at every call, too.
    let attrs = s.get_attributes(private, &[AttributeType::Sign]).unwrap();
    assert_eq!(attrs, vec![Attribute::Sign(false)]);

    set("true");
    s.sign(&Mechanism::Sha256RsaPkcs, private, b"after")
        .unwrap();
}

#[test]
fn a_user_locked_by_failed_c_logins_is_locked_for_the_cli_and_the_reverse() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = pkcs11.open_rw_session(slot(&pkcs11)).unwrap();
    let login = |pin: &str| s.login(UserType::User, Some(&AuthPin::new(pin.into())));
    for _ in 0..=MAX_FAILED_LOGINS {
        assert_eq!(
            rv_of(login("cu1:wrong-password").unwrap_err()),
            RvError::PinIncorrect
        );
    }
    assert_eq!(rv_of(login(PIN1).unwrap_err()), RvError::PinLocked);
    let out = fixture.cli_script(&format!(
        "login --username cu1 --role crypto-user --password {CU1_PW}\n"
    ));
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("User cu1 is locked after too many failed login attempts"),
        "{stdout}"
    );

    // The reverse: cu2 fails CLI logins until it is locked, and C_Login refuses it.
    let wrong = "login --username cu2 --role crypto-user --password wrong-password\n";
    let out = fixture.cli_script(&wrong.repeat(usize::try_from(MAX_FAILED_LOGINS).unwrap() + 1));
    let (stdout, _) = text(&out);
    assert!(!stdout.contains("\"error_code\": 0"), "{stdout}");
    assert_eq!(rv_of(login(PIN2).unwrap_err()), RvError::PinLocked);

    // An admin's password change unlocks it for both.
    let changed = as_admin(
        &fixture,
        "user change-password --username cu2 --role crypto-user --password cu2-new-password",
    );
    assert!(!changed.contains("\"error_code\": 1"), "{changed}");
    login("cu2:cu2-new-password").unwrap();
}

/// `user delete` refuses a user while a process holds a login of it, and this test's
/// process holds one through the module (a login record of its pid, as the CLI's logins).
#[test]
fn user_delete_is_refused_while_a_process_is_logged_in_through_the_module() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN2);
    let delete = "user delete --username cu2 --role crypto-user";
    let refused = as_admin(&fixture, delete);
    assert!(
        refused.contains("Cannot delete user cu2: the user is currently logged in"),
        "{refused}"
    );
    s.logout().unwrap();
    let deleted = as_admin(&fixture, delete);
    assert!(!deleted.contains("\"error_code\": 1"), "{deleted}");
    assert_eq!(
        rv_of(
            s.login(UserType::User, Some(&AuthPin::new(PIN2.into())))
                .unwrap_err()
        ),
        RvError::PinIncorrect
    );
}

/// The child process of the next test: logs `$P11_CHILD_PIN` in through the module on
/// `$CLOUDHSM_SIM_HOME`, says so on stdout, and holds the login until its stdin closes or it
/// is killed.
#[test]
#[ignore = "a child process that user_delete_is_refused_while_another_process_holds_a_login runs"]
fn child_holding_a_module_login() {
    use std::io::{Read, Write};
    let pin = std::env::var("P11_CHILD_PIN")
        .expect("run only by its parent test, which sets P11_CHILD_PIN");
    let pkcs11 = cryptoki::context::Pkcs11::new(common::module_path()).unwrap();
    pkcs11
        .initialize(cryptoki::context::CInitializeArgs::new(
            cryptoki::context::CInitializeFlags::OS_LOCKING_OK,
        ))
        .unwrap();
    let _s = session(&pkcs11, &pin);
    writeln!(std::io::stdout(), "logged in").unwrap();
    std::io::stdout().flush().unwrap();
    let mut rest = Vec::new();
    std::io::stdin().read_to_end(&mut rest).unwrap();
}

/// Another process logged in through the module: `user delete` is refused while it runs,
/// and allowed once it was killed (a dead process's login record holds nothing).
#[test]
fn user_delete_is_refused_while_another_process_holds_a_login_through_the_module() {
    use std::io::BufRead;
    use std::process::Stdio;
    let fixture = Fixture::new();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_holding_a_module_login",
            "--ignored",
            "--nocapture",
        ])
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .env("P11_CHILD_PIN", PIN2)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let said = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line == "logged in");
    assert!(said, "the child did not log in");
    let delete = "user delete --username cu2 --role crypto-user";
    let refused = as_admin(&fixture, delete);
    assert!(
        refused.contains("Cannot delete user cu2: the user is currently logged in"),
        "{refused}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let deleted = as_admin(&fixture, delete);
    assert!(!deleted.contains("\"error_code\": 1"), "{deleted}");
}

/// `cloudhsm-sim reset` while the module is logged in: the login is void at the next call
/// (`CKR_USER_NOT_LOGGED_IN`), the sessions are public, and a login on the re-provisioned
/// cluster works.
#[test]
fn a_reset_voids_the_modules_login() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let other = pkcs11.open_ro_session(slot(&pkcs11)).unwrap();
    let (_, private) = s
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[Attribute::EcParams(P256.to_vec())],
            &[Attribute::Sign(true), Attribute::Label("session-ec".into())],
        )
        .unwrap();

    let out = Command::new(bin("cloudhsm-sim"))
        .args(["reset", "--cluster-id", CLUSTER])
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", text(&out));

    assert_eq!(
        rv_of(s.sign_init(&Mechanism::EcdsaSha256, private).unwrap_err()),
        RvError::UserNotLoggedIn
    );
    for session in [&s, &other] {
        let state = session.get_session_info().unwrap().session_state();
        assert!(
            matches!(state, SessionState::RwPublic | SessionState::RoPublic),
            "{state:?}"
        );
    }
    assert_eq!(rv_of(s.logout().unwrap_err()), RvError::UserNotLoggedIn);
    assert!(s.find_objects(&[]).unwrap().is_empty());

    // Re-provisioned with the CLI, the same PIN logs in again.
    let provisioned = fixture.cli_script(&format!(
        "cluster activate --password {ADMIN_PW}\n\
         login --username admin --role admin --password {ADMIN_PW}\n\
         user create --username cu1 --role crypto-user --password {CU1_PW}\n"
    ));
    let (stdout, _) = text(&provisioned);
    assert!(!stdout.contains("\"error_code\": 1"), "{stdout}");
    s.login(UserType::User, Some(&AuthPin::new(PIN1.into())))
        .unwrap();
    assert!(matches!(
        other.get_session_info().unwrap().session_state(),
        SessionState::RoUser
    ));
    // The session key went with the old cluster.
    assert_eq!(found(&s, ObjectClass::PRIVATE_KEY, "session-ec"), 0);
}
