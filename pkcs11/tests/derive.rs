//! `C_DeriveKey`: ECDH with CloudHSM's X9.63 KDFs (and their standard aliases, and no KDF when
//! `configure-pkcs11 --enable-ecdh-without-kdf` allows it) and the SP 800-108 counter KDF in
//! both of CloudHSM's parameter layouts, each checked against OpenSSL computing the same key
//! (compared through an HMAC the derived key makes: derived keys are sensitive).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{hex, rv, unhex};

use std::ffi::c_void;
use std::path::Path;
use std::process::Command;

use cloudhsm_pkcs11::vendor;
use common::{bin, session, Fixture, PIN1};
use cryptoki::error::RvError;
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki_sys::{CKM_SHA256_HMAC, CK_ECDH1_DERIVE_PARAMS, CK_ULONG};

const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const DATA: &[u8] = b"derived keys sign";

fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
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
    out.stdout
}

/// HMAC-SHA256 of [`DATA`] under `key`, by OpenSSL.
fn openssl_hmac(key: &[u8], dir: &Path) -> Vec<u8> {
    std::fs::write(dir.join("data"), DATA).unwrap();
    let mac = format!("hexkey:{}", hex(key));
    openssl(
        &[
            "dgst", "-sha256", "-mac", "HMAC", "-macopt", &mac, "-binary", "data",
        ],
        dir,
    )
}

/// The template of a derived HMAC key of `len` bytes.
fn hmac_key(len: CK_ULONG) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::ValueLen(len.into()),
        Attribute::Sign(true),
    ]
}

fn mac(s: &Session, key: ObjectHandle) -> Vec<u8> {
    s.sign(&Mechanism::Sha256Hmac, key, DATA).unwrap()
}

/// OpenSSL's EC key `name` (P-256): its private scalar imported with `CKA_DERIVE`, and its
/// public point, raw.
fn ec_key(s: &Session, name: &str, dir: &Path) -> (ObjectHandle, Vec<u8>) {
    let pem = format!("{name}.pem");
    openssl(
        &[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            &pem,
        ],
        dir,
    );
    openssl(
        &[
            "pkey",
            "-in",
            &pem,
            "-pubout",
            "-out",
            &format!("{name}.pub"),
        ],
        dir,
    );
    let der = openssl(&["ec", "-in", &pem, "-outform", "DER"], dir);
    // ECPrivateKey: 30 77 02 01 01 04 20 <32-byte scalar> a0 0a <oid> a1 44 03 42 00 <point>.
    let scalar = der[7..39].to_vec();
    let point = der[der.len() - 65..].to_vec();
    let key = s
        .create_object(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC),
            Attribute::EcParams(P256.to_vec()),
            Attribute::Value(scalar),
            Attribute::Derive(true),
        ])
        .unwrap();
    (key, point)
}

#[test]
fn ecdh_with_x963_gives_openssls_key() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (a, _) = ec_key(&s, "a", d);
    let (_, b_point) = ec_key(&s, "b", d);
    let z = openssl(
        &["pkeyutl", "-derive", "-inkey", "a.pem", "-peerkey", "b.pub"],
        d,
    );
    let info = b"cloudhsm-sim";
    let expected = openssl(
        &[
            "kdf",
            "-keylen",
            "32",
            "-kdfopt",
            "digest:SHA256",
            "-kdfopt",
            &format!("hexsecret:{}", hex(&z)),
            "-kdfopt",
            &format!("hexinfo:{}", hex(info)),
            "-binary",
            "X963KDF",
        ],
        d,
    );
    // The standard CKD_SHA256_KDF (an alias of CloudHSM's X9.63 KDF with SHA-256).
    let params = Ecdh1DeriveParams::new(EcKdf::sha256(info), &b_point);
    let key = s
        .derive_key(&Mechanism::Ecdh1Derive(params), a, &hmac_key(32))
        .unwrap();
    assert_eq!(mac(&s, key), openssl_hmac(&expected, d));
    // CloudHSM's own KDF value, and the peer point as a DER OCTET STRING (CKA_EC_POINT).
    let mut octets = vec![0x04, 65];
    octets.extend(&b_point);
    let raw = CK_ECDH1_DERIVE_PARAMS {
        kdf: vendor::CKD_CLOUDHSM_X963_SHA256_KDF,
        ulSharedDataLen: info.len() as CK_ULONG,
        pSharedData: info.as_ptr() as *mut u8,
        ulPublicDataLen: octets.len() as CK_ULONG,
        pPublicData: octets.as_mut_ptr(),
    };
    let mechanism = Mechanism::VendorDefined(VendorDefinedMechanism::new(
        MechanismType::ECDH1_DERIVE,
        Some(&raw),
    ));
    let key = s.derive_key(&mechanism, a, &hmac_key(32)).unwrap();
    assert_eq!(mac(&s, key), openssl_hmac(&expected, d));

    // Without a KDF only when configured.
    let null = Ecdh1DeriveParams::new(EcKdf::null(), &b_point);
    let refused = s.derive_key(&Mechanism::Ecdh1Derive(null), a, &hmac_key(32));
    assert_eq!(rv(refused), RvError::MechanismParamInvalid);
    // The base key must allow derivation; a point off the curve is refused.
    let mut off = b_point.clone();
    off[64] ^= 1;
    let bad = Ecdh1DeriveParams::new(EcKdf::sha256(info), &off);
    assert_eq!(
        rv(s.derive_key(&Mechanism::Ecdh1Derive(bad), a, &hmac_key(32))),
        RvError::MechanismParamInvalid
    );
    // A derived key is sensitive: read-only, accepted only at that value.
    let mut sensitive = hmac_key(32);
    sensitive.push(Attribute::Sensitive(false));
    let params = Ecdh1DeriveParams::new(EcKdf::sha256(info), &b_point);
    assert_eq!(
        rv(s.derive_key(&Mechanism::Ecdh1Derive(params), a, &sensitive)),
        RvError::AttributeReadOnly
    );
    drop(s);
    pkcs11.finalize().unwrap();

    // configure-pkcs11 --enable-ecdh-without-kdf: the shared secret itself.
    let out = Command::new(bin("configure-pkcs11"))
        .arg("--enable-ecdh-without-kdf")
        .env("CLOUDHSM_SIM_HOME", &fixture.root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let (a, _) = ec_key(&s, "a2", d);
    let (_, b_point) = ec_key(&s, "b2", d);
    let z = openssl(
        &[
            "pkeyutl", "-derive", "-inkey", "a2.pem", "-peerkey", "b2.pub",
        ],
        d,
    );
    let null = Ecdh1DeriveParams::new(EcKdf::null(), &b_point);
    let key = s
        .derive_key(&Mechanism::Ecdh1Derive(null), a, &hmac_key(32))
        .unwrap();
    assert_eq!(mac(&s, key), openssl_hmac(&z, d));
    drop(s);
    pkcs11.finalize().unwrap();
}

/// CloudHSM's `CK_PRF_DATA_PARAM`.
#[repr(C)]
struct DataParam {
    kind: CK_ULONG,
    value: *const c_void,
    len: CK_ULONG,
}

/// CloudHSM's `CK_SP800_108_KDF_PARAMS`.
#[repr(C)]
struct KdfParams {
    prf: CK_ULONG,
    count: CK_ULONG,
    params: *const DataParam,
}

fn param<T>(kind: CK_ULONG, value: &T) -> DataParam {
    DataParam {
        kind,
        value: value as *const T as *const c_void,
        len: size_of::<T>() as CK_ULONG,
    }
}

fn bytes(kind: CK_ULONG, value: &[u8]) -> DataParam {
    DataParam {
        kind,
        value: value.as_ptr() as *const c_void,
        len: value.len() as CK_ULONG,
    }
}

fn counter_kdf(params: &KdfParams) -> Mechanism<'_> {
    Mechanism::VendorDefined(VendorDefinedMechanism::new(
        MechanismType::new_vendor_defined(vendor::CKM_CLOUDHSM_SP800_108_COUNTER_KDF).unwrap(),
        Some(params),
    ))
}

#[test]
fn sp800_108_counter_kdf_gives_openssls_kbkdf() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let secret = unhex("3edc6b5b8f7aadbd713732b482b8f979286e1ea3b8f8f99c30c884cfe3349b83");
    let base = |key_type: KeyType| {
        s.create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(key_type),
            Attribute::Value(secret.clone()),
            Attribute::Derive(true),
        ])
        .unwrap()
    };
    let (label, context) = (b"label".as_slice(), b"context".as_slice());
    let counter: CK_ULONG = 32;
    let dkm: [CK_ULONG; 2] = [vendor::SP800_108_DKM_LENGTH_SUM_OF_KEYS, 32];
    // AWS's implicit layout: Counter || Label || 0x00 || Context || L, as OpenSSL's KBKDF.
    let implicit = [
        param(vendor::SP800_108_COUNTER_FORMAT, &counter),
        param(vendor::SP800_108_DKM_FORMAT, &dkm),
        bytes(vendor::SP800_108_PRF_LABEL, label),
        bytes(vendor::SP800_108_PRF_CONTEXT, context),
    ];
    for (prf, key_type, openssl_mac) in [
        (
            CKM_SHA256_HMAC,
            KeyType::GENERIC_SECRET,
            ["mac:HMAC", "digest:SHA256"],
        ),
        (
            cryptoki_sys::CKM_AES_CMAC,
            KeyType::AES,
            ["mac:CMAC", "cipher:AES-256-CBC"],
        ),
    ] {
        let params = KdfParams {
            prf,
            count: implicit.len() as CK_ULONG,
            params: implicit.as_ptr(),
        };
        let key = s
            .derive_key(&counter_kdf(&params), base(key_type), &hmac_key(40))
            .unwrap();
        let expected = openssl(
            &[
                "kdf",
                "-keylen",
                "40",
                "-kdfopt",
                openssl_mac[0],
                "-kdfopt",
                openssl_mac[1],
                "-kdfopt",
                &format!("hexkey:{}", hex(&secret)),
                "-kdfopt",
                &format!("hexsalt:{}", hex(label)),
                "-kdfopt",
                &format!("hexinfo:{}", hex(context)),
                "-binary",
                "KBKDF",
            ],
            d,
        );
        assert_eq!(mac(&s, key), openssl_hmac(&expected, d), "{openssl_mac:?}");
    }
    // The explicit layout, in the order given: prefix || counter(16) || suffix || L(32).
    let counter16: CK_ULONG = 16;
    let explicit = [
        bytes(vendor::CK_SP800_108_BYTE_ARRAY, b"pre"),
        param(vendor::CK_SP800_108_ITERATION_VARIABLE, &counter16),
        bytes(vendor::CK_SP800_108_BYTE_ARRAY, b"post"),
        param(vendor::CK_SP800_108_DKM_LENGTH, &dkm),
    ];
    let params = KdfParams {
        prf: CKM_SHA256_HMAC,
        count: explicit.len() as CK_ULONG,
        params: explicit.as_ptr(),
    };
    let key = s
        .derive_key(
            &counter_kdf(&params),
            base(KeyType::GENERIC_SECRET),
            &hmac_key(32),
        )
        .unwrap();
    let block = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
        &[b"pre".as_slice(), &[0, 1], b"post", &[0, 0, 1, 0]].concat(),
    );
    assert_eq!(mac(&s, key), openssl_hmac(block.as_ref(), d));

    // A base key without CKA_DERIVE.
    let plain = s
        .create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Value(secret.clone()),
        ])
        .unwrap();
    assert_eq!(
        rv(s.derive_key(&counter_kdf(&params), plain, &hmac_key(32))),
        RvError::KeyFunctionNotPermitted
    );
    // No length for the new key.
    let mut no_len = hmac_key(32);
    no_len.remove(2);
    assert_eq!(
        rv(s.derive_key(
            &counter_kdf(&params),
            base(KeyType::GENERIC_SECRET),
            &no_len
        )),
        RvError::TemplateIncomplete
    );
    drop(s);
    pkcs11.finalize().unwrap();
}

/// A DES3 key derives too (AWS's derive table has a DES3 column): 24 bytes of the KDF, no
/// `CKA_VALUE_LEN`, and it encrypts as OpenSSL does with those bytes.
#[test]
fn a_des3_key_derives_and_encrypts_as_openssl_does() {
    let fixture = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pkcs11 = fixture.pkcs11();
    let s = session(&pkcs11, PIN1);
    let secret = unhex("3edc6b5b8f7aadbd713732b482b8f979286e1ea3b8f8f99c30c884cfe3349b83");
    let base = s
        .create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Value(secret.clone()),
            Attribute::Derive(true),
        ])
        .unwrap();
    let counter: CK_ULONG = 32;
    let dkm: [CK_ULONG; 2] = [vendor::SP800_108_DKM_LENGTH_SUM_OF_KEYS, 32];
    let (label, context) = (b"des3".as_slice(), b"key".as_slice());
    let implicit = [
        param(vendor::SP800_108_COUNTER_FORMAT, &counter),
        param(vendor::SP800_108_DKM_FORMAT, &dkm),
        bytes(vendor::SP800_108_PRF_LABEL, label),
        bytes(vendor::SP800_108_PRF_CONTEXT, context),
    ];
    let params = KdfParams {
        prf: CKM_SHA256_HMAC,
        count: implicit.len() as CK_ULONG,
        params: implicit.as_ptr(),
    };
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::DES3),
        Attribute::Encrypt(true),
    ];
    let key = s
        .derive_key(&counter_kdf(&params), base, &template)
        .unwrap();
    let block = *b"8 bytes!";
    let ciphertext = s.encrypt(&Mechanism::Des3Ecb, key, &block).unwrap();
    let derived = openssl(
        &[
            "kdf",
            "-keylen",
            "24",
            "-kdfopt",
            "mac:HMAC",
            "-kdfopt",
            "digest:SHA256",
            "-kdfopt",
            &format!("hexkey:{}", hex(&secret)),
            "-kdfopt",
            &format!("hexsalt:{}", hex(label)),
            "-kdfopt",
            &format!("hexinfo:{}", hex(context)),
            "-binary",
            "KBKDF",
        ],
        d,
    );
    std::fs::write(d.join("block"), block).unwrap();
    let expected = openssl(
        &[
            "enc",
            "-des-ede3",
            "-nopad",
            "-K",
            &hex(&derived),
            "-in",
            "block",
        ],
        d,
    );
    assert_eq!(ciphertext, expected);
    drop(s);
    pkcs11.finalize().unwrap();
}
