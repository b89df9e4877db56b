//! Certificate objects (`CKO_CERTIFICATE`, X.509): refused unless `configure-pkcs11
//! --enable-certificate-storage` is on and the cluster is hsm2m.medium; with it, a crypto
//! user stores a certificate openssl made, every session of the cluster finds and reads it
//! (public object), and the rules of spec/pkcs11.md §4.9 hold.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use cloudhsm_sim::hsm::{ClusterConfig, HsmType};
use common::{bin, rv_of, session, slot, Fixture, PIN1, PIN2};
use cryptoki::error::RvError;
use cryptoki::object::{Attribute, AttributeType, CertificateType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use cryptoki_sys::*;

fn enable_certificate_storage(fixture: &Fixture) {
    let out = Command::new(bin("configure-pkcs11"))
        .arg("--enable-certificate-storage")
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// The DER of a self-signed P-256 certificate for `CN=sim-cert`, made by openssl.
fn certificate_der() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.der"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-subj",
            "/CN=sim-cert",
            "-days",
            "1",
            "-outform",
            "DER",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::read(cert).unwrap()
}

/// The DER `Name` of `CN=sim-cert` (a UTF8String, as openssl writes it).
fn subject() -> Vec<u8> {
    let cn = b"sim-cert";
    let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, cn.len() as u8];
    atv.extend_from_slice(cn);
    let mut seq = vec![0x30, atv.len() as u8];
    seq.extend(atv);
    let mut set = vec![0x31, seq.len() as u8];
    set.extend(seq);
    let mut name = vec![0x30, set.len() as u8];
    name.extend(set);
    name
}

/// The first three bytes of the SHA-1 of `data`, by openssl.
fn sha1_prefix(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha1", "-binary"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() && out.stdout.len() == 20, "{out:?}");
    out.stdout[..3].to_vec()
}

fn template(label: &str, value: Vec<u8>) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(CertificateType::X_509),
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Subject(subject()),
        Attribute::Value(value),
    ]
}

/// How many certificates the cluster's database holds, read by another process (sqlite3):
/// a second SQLite in this process (the cluster API's, beside the module's) would drop the
/// module's POSIX locks when it closes the file.
fn stored(fixture: &Fixture) -> String {
    fixture.sql("SELECT count(*) FROM certificates")
}

/// `C_GetObjectSize` of `object`, through the module's function list in a session of its own
/// (cryptoki has no call for it).
fn object_size(pkcs11_slot: cryptoki::slot::Slot, object: ObjectHandle) -> CK_ULONG {
    type GetList = unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV;
    // SAFETY: the module is loaded already (cryptoki loaded it); this takes another reference.
    let library = unsafe { libloading::Library::new(common::module_path()) }.unwrap();
    // SAFETY: `C_GetFunctionList` has this signature (PKCS#11 v2.40 §5.2).
    let get = unsafe { library.get::<GetList>(b"C_GetFunctionList") }.unwrap();
    let mut list = std::ptr::null_mut();
    // SAFETY: `list` is writable; the module returns its static list.
    assert_eq!(unsafe { get(&mut list) }, CKR_OK);
    // SAFETY: the module's static function list.
    let f = unsafe { &*list };
    let mut h: CK_SESSION_HANDLE = 0;
    let mut size: CK_ULONG = 0;
    // SAFETY: valid slot id and writable handle / size; no callback.
    unsafe {
        assert_eq!(
            (f.C_OpenSession.unwrap())(
                pkcs11_slot.id(),
                CKF_SERIAL_SESSION,
                std::ptr::null_mut(),
                None,
                &mut h
            ),
            CKR_OK
        );
        assert_eq!(
            (f.C_GetObjectSize.unwrap())(h, object.handle(), &mut size),
            CKR_OK
        );
        assert_eq!((f.C_CloseSession.unwrap())(h), CKR_OK);
    }
    size
}

fn create_rv(session: &Session, template: &[Attribute]) -> RvError {
    rv_of(session.create_object(template).unwrap_err())
}

fn value_of(session: &Session, h: ObjectHandle) -> Vec<u8> {
    match session
        .get_attributes(h, &[AttributeType::Value])
        .unwrap()
        .pop()
    {
        Some(Attribute::Value(v)) => v,
        other => panic!("no CKA_VALUE: {other:?}"),
    }
}

fn label_of(session: &Session, h: ObjectHandle) -> Vec<u8> {
    match session
        .get_attributes(h, &[AttributeType::Label])
        .unwrap()
        .pop()
    {
        Some(Attribute::Label(v)) => v,
        other => panic!("no CKA_LABEL: {other:?}"),
    }
}

#[test]
fn without_the_switch_a_certificate_is_refused() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    assert_eq!(
        create_rv(&s, &template("c", certificate_der())),
        RvError::AttributeValueInvalid
    );
}

#[test]
fn an_hsm1_cluster_stores_no_certificate() {
    let fixture = Fixture::with(ClusterConfig {
        hsm_type: HsmType::Hsm1Medium,
        ..ClusterConfig::default()
    });
    enable_certificate_storage(&fixture);
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    assert_eq!(
        create_rv(&s, &template("c", certificate_der())),
        RvError::AttributeValueInvalid
    );
}

#[test]
fn a_certificate_is_stored_found_read_changed_and_destroyed() {
    let fixture = Fixture::new();
    enable_certificate_storage(&fixture);
    let der = certificate_der();
    assert!(der.windows(subject().len()).any(|w| w == subject()));
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let key = s
        .generate_key(
            &cryptoki::mechanism::Mechanism::AesKeyGen,
            &[Attribute::Token(true), Attribute::ValueLen(32.into())],
        )
        .unwrap();
    let cert = s.create_object(&template("web-cert", der.clone())).unwrap();
    assert_ne!(cert, key);

    // Found by label, by class, and with the keys.
    let by_label = s
        .find_objects(&[Attribute::Label(b"web-cert".to_vec())])
        .unwrap();
    assert_eq!(by_label, vec![cert]);
    let by_class = s
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])
        .unwrap();
    assert_eq!(by_class, vec![cert]);
    let keys = s
        .find_objects(&[Attribute::Class(ObjectClass::SECRET_KEY)])
        .unwrap();
    assert_eq!(keys, vec![key]);
    let all = s.find_objects(&[]).unwrap();
    assert!(all.contains(&cert) && all.contains(&key), "{all:?}");

    // Read back: the DER, the fixed attributes, the derived check value.
    assert_eq!(value_of(&s, cert), der);
    let attrs = s
        .get_attributes(
            cert,
            &[
                AttributeType::Private,
                AttributeType::Token,
                AttributeType::CheckValue,
            ],
        )
        .unwrap();
    let check = sha1_prefix(&der);
    assert_eq!(
        attrs,
        vec![
            Attribute::Private(false),
            Attribute::Token(true),
            Attribute::CheckValue(check),
        ]
    );

    // Its size: the bytes of its attributes (three CK_ULONGs, six CK_BBOOLs, the check
    // value, the label, the subject and the value).
    let ulong = std::mem::size_of::<CK_ULONG>();
    assert_eq!(
        object_size(slot(&pkcs11), cert) as usize,
        3 * ulong + 6 + 3 + b"web-cert".len() + subject().len() + der.len()
    );

    // Public: another crypto user sees it, and so does a session without a login.
    s.logout().unwrap();
    let public = pkcs11.open_ro_session(slot(&pkcs11)).unwrap();
    assert_eq!(
        public
            .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])
            .unwrap(),
        vec![cert]
    );
    assert_eq!(value_of(&public, cert), der);
    // Without a login it cannot be changed.
    assert_eq!(
        rv_of(
            s.update_attributes(cert, &[Attribute::Label(b"x".to_vec())])
                .unwrap_err()
        ),
        RvError::UserNotLoggedIn
    );
    s.login(UserType::User, Some(&AuthPin::new(PIN2.into())))
        .unwrap();
    assert_eq!(
        s.find_objects(&[Attribute::Label(b"web-cert".to_vec())])
            .unwrap(),
        vec![cert]
    );

    // cu2 relabels it; the value stays read-only; keys still take no C_SetAttributeValue.
    s.update_attributes(cert, &[Attribute::Label(b"renamed".to_vec())])
        .unwrap();
    assert_eq!(label_of(&public, cert), b"renamed");
    assert_eq!(
        rv_of(
            s.update_attributes(cert, &[Attribute::Value(vec![0x30, 0x00])])
                .unwrap_err()
        ),
        RvError::AttributeReadOnly
    );
    assert_eq!(
        rv_of(
            public
                .update_attributes(cert, &[Attribute::Label(b"y".to_vec())])
                .unwrap_err()
        ),
        RvError::SessionReadOnly
    );

    // Durable: in the cluster's database, beside the key, under its own reference.
    assert_eq!(fixture.sql("SELECT label FROM certificates"), "renamed");
    assert_eq!(stored(&fixture), "1");

    // Destroyed: gone for every session.
    s.destroy_object(cert).unwrap();
    assert!(public
        .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE)])
        .unwrap()
        .is_empty());
    assert_eq!(
        rv_of(s.get_attributes(cert, &[AttributeType::Value]).unwrap_err()),
        RvError::ObjectHandleInvalid
    );
    assert_eq!(stored(&fixture), "0");
}

#[test]
fn the_rules_of_certificates_hold() {
    let fixture = Fixture::new();
    enable_certificate_storage(&fixture);
    let der = certificate_der();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let with = |extra: Attribute| {
        let mut t = template("c", der.clone());
        t.push(extra);
        t
    };
    // Fixed attributes.
    assert_eq!(
        create_rv(&s, &with(Attribute::Private(true))),
        RvError::AttributeValueInvalid
    );
    assert_eq!(
        create_rv(&s, &with(Attribute::Copyable(true))),
        RvError::AttributeValueInvalid
    );
    let mut session_object = template("c", der.clone());
    session_object[2] = Attribute::Token(false);
    assert_eq!(
        create_rv(&s, &session_object),
        RvError::AttributeValueInvalid
    );
    // Required attributes.
    let no_subject: Vec<_> = template("c", der.clone())
        .into_iter()
        .filter(|a| !matches!(a, Attribute::Subject(_)))
        .collect();
    assert_eq!(create_rv(&s, &no_subject), RvError::TemplateIncomplete);
    let no_type: Vec<_> = template("c", der.clone())
        .into_iter()
        .filter(|a| !matches!(a, Attribute::CertificateType(_)))
        .collect();
    assert_eq!(create_rv(&s, &no_type), RvError::TemplateIncomplete);
    // Sizes: a value above 32 KB, a label above 127 characters, an id above 128 bytes.
    assert_eq!(
        create_rv(&s, &template("c", vec![0x30; 32 * 1024 + 1])),
        RvError::AttributeValueInvalid
    );
    assert_eq!(
        create_rv(&s, &template(&"l".repeat(128), der.clone())),
        RvError::AttributeValueInvalid
    );
    assert_eq!(
        create_rv(&s, &with(Attribute::Id(vec![1; 129]))),
        RvError::AttributeValueInvalid
    );
    // A check value that is not the value's.
    assert_eq!(
        create_rv(&s, &with(Attribute::CheckValue(vec![0, 0, 0]))),
        RvError::AttributeValueInvalid
    );
    // At the limits it is taken.
    let mut t = template(&"l".repeat(127), der.clone());
    t.push(Attribute::Id(vec![1; 128]));
    s.create_object(&t).unwrap();
    // A read-only session creates no certificate (a token object).
    let ro = pkcs11.open_ro_session(slot(&pkcs11)).unwrap();
    assert_eq!(
        create_rv(&ro, &template("c", der.clone())),
        RvError::SessionReadOnly
    );
    assert_eq!(stored(&fixture), "1");
}
