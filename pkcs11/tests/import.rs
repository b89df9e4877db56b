//! `C_CreateObject`: keys given in the clear become cluster keys with `CKA_LOCAL` false, and
//! work: an HMAC key gives RFC 4231's MACs, an RSA and an EC private key made by OpenSSL sign
//! what OpenSSL verifies. Wrong templates get AWS's codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::rv;

use std::path::Path;
use std::process::Command;

use cloudhsm_sim::hsm::key::{Attribute as CliAttribute, Term, Value};
use cloudhsm_sim::hsm::Role;
use common::{session, Fixture, CU1_PW, PIN1};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};

fn openssl(args: &[&str], dir: &Path) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The bytes of one field of `openssl ... -text` (`modulus:` then indented `aa:bb:` lines).
fn field(text: &str, name: &str) -> Vec<u8> {
    let mut lines = text.lines().skip_while(|l| l.trim() != name).skip(1);
    let hex: String = lines
        .by_ref()
        .take_while(|l| l.starts_with("    "))
        .collect::<String>()
        .replace([':', ' '], "");
    let mut bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    while bytes.first() == Some(&0) {
        bytes.remove(0);
    }
    bytes
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` of a raw `r || s` ECDSA signature.
fn der_signature(raw: &[u8]) -> Vec<u8> {
    let int = |half: &[u8]| {
        let mut v: Vec<u8> = half.iter().copied().skip_while(|b| *b == 0).collect();
        if v.first().is_none_or(|b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[test]
fn an_imported_hmac_key_gives_rfc_4231_macs() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    // RFC 4231, test case 2: key "Jefe". An imported secret key neither signs nor verifies
    // unless its template says so (AWS's import table; a generated one does both).
    let template = |sign: bool| {
        vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Value(b"Jefe".to_vec()),
            Attribute::Token(sign),
            Attribute::Label(b"hmac-jefe".to_vec()),
        ]
        .into_iter()
        .chain(sign.then_some(Attribute::Sign(true)))
        .collect::<Vec<_>>()
    };
    let unsigned = s.create_object(&template(false)).unwrap();
    assert_eq!(
        rv(s.sign(&Mechanism::Sha256Hmac, unsigned, b"data")),
        RvError::KeyFunctionNotPermitted
    );
    let key = s.create_object(&template(true)).unwrap();
    let mac = s
        .sign(&Mechanism::Sha256Hmac, key, b"what do ya want for nothing?")
        .unwrap();
    let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, expected);
    // A cluster key like any other, marked as imported.
    let attrs = s
        .get_attributes(key, &[AttributeType::Local, AttributeType::Token])
        .unwrap();
    assert_eq!(attrs, vec![Attribute::Local(false), Attribute::Token(true)]);
    let mut cluster = fixture.cluster();
    let login = fixture.login(&mut cluster, "cu1", Role::CryptoUser, CU1_PW);
    let terms = [Term::Is(
        CliAttribute::Label,
        Value::Text("hmac-jefe".into()),
    )];
    let listed = cluster.list_keys(&login, &terms).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].attrs.flags.local);
    assert_eq!(listed[0].owner, "cu1");
    drop(s);
    pkcs11.finalize().unwrap();
}

#[test]
fn openssl_keys_imported_sign_what_openssl_verifies() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("data"), b"imported keys sign").unwrap();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);

    // RSA: every component of an OpenSSL key.
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
        d,
    );
    openssl(&["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub"], d);
    let text = openssl(&["rsa", "-in", "rsa.pem", "-text", "-noout"], d);
    let rsa = s
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::RSA),
            Attribute::Modulus(field(&text, "modulus:")),
            Attribute::PublicExponent(vec![1, 0, 1]),
            Attribute::PrivateExponent(field(&text, "privateExponent:")),
            Attribute::Prime1(field(&text, "prime1:")),
            Attribute::Prime2(field(&text, "prime2:")),
            Attribute::Sign(true),
        ])
        .unwrap();
    let signature = s
        .sign(&Mechanism::Sha256RsaPkcs, rsa, b"imported keys sign")
        .unwrap();
    std::fs::write(d.join("rsa.sig"), signature).unwrap();
    let verified = openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            "rsa.pub",
            "-signature",
            "rsa.sig",
            "data",
        ],
        d,
    );
    assert_eq!(verified.trim(), "Verified OK");

    // EC P-256: the private scalar and the curve.
    openssl(
        &[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            "ec.pem",
        ],
        d,
    );
    openssl(&["pkey", "-in", "ec.pem", "-pubout", "-out", "ec.pub"], d);
    let text = openssl(&["ec", "-in", "ec.pem", "-text", "-noout"], d);
    let p256 = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut scalar = field(&text, "priv:");
    while scalar.len() < 32 {
        scalar.insert(0, 0);
    }
    let ec = s
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::EcParams(p256.clone()),
            Attribute::Value(scalar),
            Attribute::Sign(true),
        ])
        .unwrap();
    let raw = s
        .sign(&Mechanism::EcdsaSha256, ec, b"imported keys sign")
        .unwrap();
    std::fs::write(d.join("ec.sig"), der_signature(&raw)).unwrap();
    let verified = openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            "ec.pub",
            "-signature",
            "ec.sig",
            "data",
        ],
        d,
    );
    assert_eq!(verified.trim(), "Verified OK");

    // The public point, given as PKCS#11's DER OCTET STRING, verifies the module's signature.
    let point = field(&text, "pub:");
    let mut octets = vec![0x04, point.len() as u8];
    octets.extend(&point);
    let public = s
        .create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::EcParams(p256),
            Attribute::EcPoint(octets),
            Attribute::Verify(true),
        ])
        .unwrap();
    s.verify(&Mechanism::EcdsaSha256, public, b"imported keys sign", &raw)
        .unwrap();
    drop(s);
    pkcs11.finalize().unwrap();
}

#[test]
fn wrong_templates_get_aws_codes() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let aes = |extra: Vec<Attribute>| {
        let mut t = vec![
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
        ];
        t.extend(extra);
        t
    };
    // No material.
    assert_eq!(
        rv(s.create_object(&aes(vec![]))),
        RvError::TemplateIncomplete
    );
    // Not an AES length.
    assert_eq!(
        rv(s.create_object(&aes(vec![Attribute::Value(vec![7; 20])]))),
        RvError::AttributeValueInvalid
    );
    // The HSM says where a key was made.
    assert_eq!(
        rv(s.create_object(&aes(vec![
            Attribute::Value(vec![7; 16]),
            Attribute::Local(true)
        ]))),
        RvError::AttributeReadOnly
    );
    // CKA_PRIVATE only at its default.
    assert_eq!(
        rv(s.create_object(&aes(vec![
            Attribute::Value(vec![7; 16]),
            Attribute::Private(false)
        ]))),
        RvError::AttributeValueInvalid
    );
    // No class.
    assert_eq!(
        rv(s.create_object(&[
            Attribute::KeyType(KeyType::AES),
            Attribute::Value(vec![7; 16])
        ])),
        RvError::TemplateIncomplete
    );
    // A point that is not on the curve.
    let p256 = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let mut off = vec![0x04];
    off.extend([1u8; 64]);
    assert_eq!(
        rv(s.create_object(&[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::EcParams(p256),
            Attribute::EcPoint(off),
        ])),
        RvError::AttributeValueInvalid
    );
    // A token key needs a read-write session.
    let ro = pkcs11.open_ro_session(common::slot(&pkcs11)).unwrap();
    assert_eq!(
        rv(ro.create_object(&aes(vec![
            Attribute::Value(vec![7; 16]),
            Attribute::Token(true)
        ]))),
        RvError::SessionReadOnly
    );
    drop(ro);
    drop(s);
    pkcs11.finalize().unwrap();
}
