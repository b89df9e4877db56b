//! `configure-pkcs11`'s settings reach the module at `C_Initialize`: the key availability
//! check (on by default: a token key on one HSM cannot be used) and the validation of keys at
//! `C_*Init`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::{bin, session, Fixture, PIN1};
use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectHandle};
use cryptoki::session::Session;

fn configure(fixture: &Fixture, args: &[&str]) {
    let out = Command::new(bin("configure-pkcs11"))
        .args(args)
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// A token P-256 pair; the private key signs unless `sign` is false.
fn pair(session: &Session, sign: bool) -> (ObjectHandle, ObjectHandle) {
    let params: Vec<u8> = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::EcParams(params),
                Attribute::Verify(true),
            ],
            &[Attribute::Token(true), Attribute::Sign(sign)],
        )
        .unwrap()
}

fn rv(e: Error) -> RvError {
    match e {
        Error::Pkcs11(rv, _) => rv,
        other => panic!("not a PKCS#11 error: {other}"),
    }
}

fn finalize(pkcs11: Pkcs11) {
    pkcs11.finalize().unwrap();
}

/// Takes the first HSM of the cluster down: keys made now are on one HSM only.
fn fail_one_hsm(fixture: &Fixture) {
    let mut cluster = fixture.cluster();
    let first = cluster.hsms().unwrap().remove(0);
    cluster.fail_hsm(&first.id).unwrap();
}

#[test]
fn a_token_key_on_one_hsm_is_refused_until_the_check_is_disabled() {
    let fixture = Fixture::new();
    fail_one_hsm(&fixture);
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    // Generation makes the key on the one HSM; its first use needs two.
    let (_, private) = pair(&s, true);
    let refused = s.sign_init(&Mechanism::EcdsaSha256, private).unwrap_err();
    assert_eq!(rv(refused), RvError::FunctionFailed);
    drop(s);
    finalize(pkcs11);

    configure(&fixture, &["--disable-key-availability-check"]);
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (_, private) = pair(&s, true);
    let signature = s.sign(&Mechanism::EcdsaSha256, private, b"data").unwrap();
    assert_eq!(signature.len(), 64);
    drop(s);
    finalize(pkcs11);
}

#[test]
fn without_validation_at_init_a_key_is_refused_at_use() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (_, private) = pair(&s, false);
    let refused = s
        .sign(&Mechanism::EcdsaSha256, private, b"data")
        .unwrap_err();
    assert_eq!(rv(refused), RvError::KeyFunctionNotPermitted);
    drop(s);
    finalize(pkcs11);

    configure(&fixture, &["--disable-validate-key-at-init"]);
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (_, private) = pair(&s, false);
    // C_SignInit takes the key; the refusal comes with the signature.
    s.sign_init(&Mechanism::EcdsaSha256, private).unwrap();
    s.sign_update(b"data").unwrap();
    assert_eq!(
        rv(s.sign_final().unwrap_err()),
        RvError::KeyFunctionNotPermitted
    );
    drop(s);
    finalize(pkcs11);
}

/// AWS: "This error typically occurs in clusters with only one HSM"; single-HSM users disable
/// the check.
#[test]
fn a_single_hsm_cluster_needs_the_check_disabled() {
    let fixture = Fixture::with(cloudhsm_sim::hsm::ClusterConfig {
        hsms: 1,
        ..cloudhsm_sim::hsm::ClusterConfig::default()
    });
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (_, private) = pair(&s, true);
    let refused = s.sign_init(&Mechanism::EcdsaSha256, private).unwrap_err();
    assert_eq!(rv(refused), RvError::FunctionFailed);
    drop(s);
    finalize(pkcs11);
    configure(&fixture, &["--disable-key-availability-check"]);
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (_, private) = pair(&s, true);
    assert!(s.sign(&Mechanism::EcdsaSha256, private, b"data").is_ok());
    drop(s);
    finalize(pkcs11);
}
