//! `C_WrapKey` / `C_UnwrapKey`: known answers (RFC 3394, RFC 5649, computed apart with
//! AWS-LC), the GCM IV flow of AWS's sample, wraps through the module unwrapped by
//! `cloudhsm-cli` and back for every mechanism both offer, the key rules, and the wrap and
//! unwrap templates (through raw calls: `cryptoki` has no attribute arrays).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::ptr::null_mut;

use aws_lc_rs::key_wrap::{KeyEncryptionKey, KeyWrap, KeyWrapPadded, AES_128, AES_256};
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki_sys::*;

use cloudhsm_pkcs11::entry as p11;
use cloudhsm_pkcs11::vendor;
use common::*;

/// The module, finalised when the test ends (after its sessions, declared later), so that
/// the next test of this process initialises it afresh, even after a failure.
struct Finalizing(Option<cryptoki::context::Pkcs11>);

impl Finalizing {
    fn get(&self) -> &cryptoki::context::Pkcs11 {
        self.0.as_ref().unwrap()
    }
}

impl Drop for Finalizing {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = p.finalize();
        }
    }
}

fn rv(e: Error) -> RvError {
    match e {
        Error::Pkcs11(rv, _) => rv,
        other => panic!("not a PKCS#11 error: {other}"),
    }
}

/// An AES key of `bytes` bytes whose value can be read, with `extra` attributes.
fn aes(s: &Session, label: &str, bytes: u64, extra: &[Attribute]) -> ObjectHandle {
    let mut t = vec![
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::ValueLen(bytes.into()),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
        Attribute::Wrap(true),
        Attribute::Unwrap(true),
    ];
    t.retain(|a| {
        extra
            .iter()
            .all(|e| e.attribute_type() != a.attribute_type())
    });
    t.extend_from_slice(extra);
    s.generate_key(&Mechanism::AesKeyGen, &t).unwrap()
}

fn value(s: &Session, key: ObjectHandle) -> Vec<u8> {
    match s
        .get_attributes(key, &[AttributeType::Value])
        .unwrap()
        .pop()
    {
        Some(Attribute::Value(v)) => v,
        other => panic!("no value: {other:?}"),
    }
}

fn check_value(s: &Session, key: ObjectHandle) -> Vec<u8> {
    match s
        .get_attributes(key, &[AttributeType::CheckValue])
        .unwrap()
        .pop()
    {
        Some(Attribute::CheckValue(v)) => v,
        other => panic!("no check value: {other:?}"),
    }
}

fn flag(s: &Session, key: ObjectHandle, ty: AttributeType) -> bool {
    let got = s.get_attributes(key, &[ty]).unwrap().pop();
    match got {
        Some(
            Attribute::Local(b)
            | Attribute::Token(b)
            | Attribute::Sensitive(b)
            | Attribute::Extractable(b)
            | Attribute::Encrypt(b)
            | Attribute::Sign(b)
            | Attribute::Wrap(b),
        ) => b,
        other => panic!("no flag: {other:?}"),
    }
}

fn vendor_mechanism(m: CK_MECHANISM_TYPE) -> Mechanism<'static> {
    Mechanism::VendorDefined(VendorDefinedMechanism::new::<()>(
        MechanismType::new_vendor_defined(m).unwrap(),
        None,
    ))
}

fn secret_template(label: &str) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Sensitive(false),
    ]
}

/// RFC 3394 and RFC 5649 through the module, checked against AWS-LC's own key wrap on the
/// keys' values; the vendor mechanisms give the standard ones' bytes (spec Q10), PKCS5_PAD
/// is RFC 3394 of the PKCS#5-padded key, and every blob unwraps to the same key.
#[test]
fn aes_key_wrap_gives_the_rfc_bytes() {
    let f = Fixture::new();
    let pkcs11 = Finalizing(Some(f.pkcs11()));
    let s = session(pkcs11.get(), PIN1);
    for (kek_len, payload_len) in [(16u64, 32u64), (32, 24), (16, 16)] {
        let kek = aes(&s, "kek", kek_len, &[]);
        let payload = aes(&s, "payload", payload_len, &[]);
        let (k, p) = (value(&s, kek), value(&s, payload));
        let mut buf = vec![0u8; p.len() + 16];
        let cipher = if kek_len == 16 { &AES_128 } else { &AES_256 };
        let kek_of = || KeyEncryptionKey::new(cipher, &k).unwrap();
        let kw = kek_of().wrap(&p, &mut buf).unwrap().to_vec();
        let kwp = kek_of().wrap_with_padding(&p, &mut buf).unwrap().to_vec();
        let mut padded = p.clone();
        padded.extend_from_slice(&[8u8; 8]);
        let mut buf2 = vec![0u8; padded.len() + 8];
        let padded_kw = kek_of().wrap(&padded, &mut buf2).unwrap().to_vec();
        let cases = [
            (Mechanism::AesKeyWrap, &kw),
            (
                vendor_mechanism(vendor::CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD),
                &kw,
            ),
            (Mechanism::AesKeyWrapPad, &kwp),
            (
                vendor_mechanism(vendor::CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD),
                &kwp,
            ),
            (
                vendor_mechanism(vendor::CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD),
                &padded_kw,
            ),
        ];
        for (mechanism, expected) in cases {
            let wrapped = s.wrap_key(&mechanism, kek, payload).unwrap();
            assert_eq!(&wrapped, expected, "{mechanism:?} kek {kek_len}");
            let back = s
                .unwrap_key(&mechanism, kek, &wrapped, &secret_template("back"))
                .unwrap();
            assert_eq!(value(&s, back), p);
        }
    }
}

/// AWS's sample: a zeroed 12-byte IV buffer in `CK_GCM_PARAMS`; the wrap (size query,
/// then the real call) writes the HSM's IV there, and the same parameters unwrap the blob.
/// `CKM_CLOUDHSM_AES_GCM` takes `pIv` NULL and prepends the IV.
#[test]
fn gcm_wrap_writes_the_iv_back_and_unwraps_with_it() {
    let f = Fixture::new();
    let pkcs11 = Finalizing(Some(f.pkcs11()));
    let s = session(pkcs11.get(), PIN1);
    let kek = aes(&s, "kek", 32, &[]);
    let payload = aes(&s, "payload", 32, &[]);
    let aad = b"aad";
    let mut iv = [0u8; 12];
    let wrapped = {
        let params = GcmParams::new(&mut iv, aad, 128.into()).unwrap();
        s.wrap_key(&Mechanism::AesGcm(params), kek, payload)
            .unwrap()
    };
    assert_eq!(wrapped.len(), 32 + 16, "ciphertext || tag, no IV");
    assert_ne!(iv, [0u8; 12], "the HSM's IV is written back");
    let back = {
        let params = GcmParams::new(&mut iv, aad, 128.into()).unwrap();
        s.unwrap_key(
            &Mechanism::AesGcm(params),
            kek,
            &wrapped,
            &secret_template("b"),
        )
        .unwrap()
    };
    assert_eq!(value(&s, back), value(&s, payload));
    // A wrong IV does not unwrap.
    iv[0] ^= 1;
    let params = GcmParams::new(&mut iv, aad, 128.into()).unwrap();
    let e = s
        .unwrap_key(
            &Mechanism::AesGcm(params),
            kek,
            &wrapped,
            &secret_template("c"),
        )
        .unwrap_err();
    assert_eq!(rv(e), RvError::WrappedKeyInvalid);

    // CKM_CLOUDHSM_AES_GCM: IV || ciphertext || tag, pIv NULL.
    let params = CK_GCM_PARAMS {
        pIv: null_mut(),
        ulIvLen: 0,
        ulIvBits: 0,
        pAAD: aad.as_ptr() as *mut u8,
        ulAADLen: aad.len() as CK_ULONG,
        ulTagBits: 128,
    };
    let m = Mechanism::VendorDefined(VendorDefinedMechanism::new(
        MechanismType::new_vendor_defined(vendor::CKM_CLOUDHSM_AES_GCM).unwrap(),
        Some(&params),
    ));
    let wrapped = s.wrap_key(&m, kek, payload).unwrap();
    assert_eq!(wrapped.len(), 12 + 32 + 16);
    let back = s
        .unwrap_key(&m, kek, &wrapped, &secret_template("d"))
        .unwrap();
    assert_eq!(value(&s, back), value(&s, payload));
    // A pIv with CKM_CLOUDHSM_AES_GCM is refused (spec Q15).
    let mut iv = [0u8; 12];
    let with_iv = CK_GCM_PARAMS {
        pIv: iv.as_mut_ptr(),
        ulIvLen: 12,
        ..params
    };
    let m = Mechanism::VendorDefined(VendorDefinedMechanism::new(
        MechanismType::new_vendor_defined(vendor::CKM_CLOUDHSM_AES_GCM).unwrap(),
        Some(&with_iv),
    ));
    assert_eq!(
        rv(s.wrap_key(&m, kek, payload).unwrap_err()),
        RvError::MechanismParamInvalid
    );
}

/// The key rules: extractable payloads only, a wrapping key with CKA_WRAP, of the
/// mechanism's type; the IV rules of ki-pkcs11-1; an unwrapped key's defaults (§4.5).
#[test]
fn wrap_rules_and_unwrapped_defaults() {
    let f = Fixture::new();
    let pkcs11 = Finalizing(Some(f.pkcs11()));
    let s = session(pkcs11.get(), PIN1);
    let kek = aes(&s, "kek", 16, &[]);
    let payload = aes(&s, "payload", 16, &[]);
    let locked = aes(&s, "locked", 16, &[Attribute::Extractable(false)]);
    let no_wrap = aes(&s, "nowrap", 16, &[Attribute::Wrap(false)]);
    let kw = Mechanism::AesKeyWrap;
    let code = |m: &Mechanism, w, k| rv(s.wrap_key(m, w, k).unwrap_err());
    assert_eq!(code(&kw, kek, locked), RvError::KeyUnextractable);
    assert_eq!(
        code(&kw, no_wrap, payload),
        RvError::KeyFunctionNotPermitted
    );
    let gone = aes(&s, "gone", 16, &[]);
    s.destroy_object(gone).unwrap();
    assert_eq!(code(&kw, kek, gone), RvError::KeyHandleInvalid);
    assert_eq!(code(&kw, gone, payload), RvError::WrappingKeyHandleInvalid);
    let (public, _) = s
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[Attribute::ModulusBits(2048.into()), Attribute::Wrap(true)],
            &[],
        )
        .unwrap();
    assert_eq!(
        code(&kw, public, payload),
        RvError::WrappingKeyTypeInconsistent
    );

    // IVs: NULL or the RFC 3394 default for NO_PAD/PKCS5_PAD; none for ZERO_PAD.
    let with_iv = |m: CK_MECHANISM_TYPE, iv: &'static [u8; 8]| {
        Mechanism::VendorDefined(VendorDefinedMechanism::new(
            MechanismType::new_vendor_defined(m).unwrap(),
            Some(iv),
        ))
    };
    static DEFAULT: [u8; 8] = [0xA6; 8];
    static OTHER: [u8; 8] = [0xA5; 8];
    let no_pad = vendor::CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD;
    s.wrap_key(&with_iv(no_pad, &DEFAULT), kek, payload)
        .unwrap();
    assert_eq!(
        code(&with_iv(no_pad, &OTHER), kek, payload),
        RvError::MechanismParamInvalid
    );
    assert_eq!(
        code(
            &with_iv(vendor::CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD, &DEFAULT),
            kek,
            payload
        ),
        RvError::MechanismParamInvalid
    );

    // Defaults of an unwrapped key: local false, a session key, sensitive and extractable,
    // usage flags false unless given.
    let wrapped = s.wrap_key(&kw, kek, payload).unwrap();
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
    ];
    let back = s.unwrap_key(&kw, kek, &wrapped, &template).unwrap();
    assert!(!flag(&s, back, AttributeType::Local));
    assert!(!flag(&s, back, AttributeType::Token));
    assert!(flag(&s, back, AttributeType::Sensitive));
    assert!(flag(&s, back, AttributeType::Extractable));
    assert!(!flag(&s, back, AttributeType::Encrypt));
    assert!(!flag(&s, back, AttributeType::Sign));
    assert_eq!(check_value(&s, back), check_value(&s, payload));
    // A template without the class is incomplete; a public key is no unwrap target.
    let e = s
        .unwrap_key(&kw, kek, &wrapped, &[Attribute::KeyType(KeyType::AES)])
        .unwrap_err();
    assert_eq!(rv(e), RvError::TemplateIncomplete);
    let e = s
        .unwrap_key(
            &kw,
            kek,
            &wrapped,
            &[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(KeyType::RSA),
            ],
        )
        .unwrap_err();
    assert_eq!(rv(e), RvError::TemplateInconsistent);
    // Damaged data does not unwrap.
    let mut bad = wrapped.clone();
    bad[3] ^= 1;
    let e = s.unwrap_key(&kw, kek, &bad, &template).unwrap_err();
    assert_eq!(rv(e), RvError::WrappedKeyInvalid);
}

fn oaep() -> PkcsOaepParams<'static> {
    PkcsOaepParams::new(
        MechanismType::SHA256,
        PkcsMgfType::MGF1_SHA256,
        PkcsOaepSource::empty(),
    )
}

/// The CLI's hex `"iv": "0x..."` of a `key wrap aes-gcm` output.
fn iv_of(json: &str) -> Vec<u8> {
    let start = json.find("\"iv\": \"0x").unwrap() + 9;
    let hex = &json[start..start + 24];
    (0..12)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn find_one(s: &Session, label: &str) -> ObjectHandle {
    let found = s
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .unwrap();
    assert_eq!(found.len(), 1, "{label}");
    found[0]
}

fn cli_ok(f: &Fixture, args: &[&str]) -> String {
    let out = f.cli_as("cu1", CU1_PW, args);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success() && text.contains("\"error_code\": 0"),
        "{args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A key wrapped through the module unwraps with `cloudhsm-cli key unwrap`, and one wrapped
/// by `cloudhsm-cli key wrap` unwraps through the module, for every mechanism both offer:
/// the unwrapped keys have the original's check value.
#[test]
fn wraps_cross_between_the_module_and_the_cli() {
    let f = Fixture::new();
    let pkcs11 = Finalizing(Some(f.pkcs11()));
    let s = session(pkcs11.get(), PIN1);
    let token = [Attribute::Token(true)];
    let kek = aes(&s, "kek", 32, &token);
    let payload = aes(&s, "payload", 32, &token);
    let kcv = check_value(&s, payload);
    let (_public, _private) = s
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::Label(b"rsa-pub".to_vec()),
                Attribute::ModulusBits(2048.into()),
                Attribute::Wrap(true),
            ],
            &[
                Attribute::Token(true),
                Attribute::Label(b"rsa-priv".to_vec()),
                Attribute::Unwrap(true),
            ],
        )
        .unwrap();
    let public = find_one(&s, "rsa-pub");
    let private = find_one(&s, "rsa-priv");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrapped.bin");
    let path = file.to_str().unwrap();

    let mut oaep_params = oaep();
    let rsa_aes = CK_RSA_AES_KEY_WRAP_PARAMS {
        ulAESKeyBits: 256,
        pOAEPParams: &mut oaep_params as *mut PkcsOaepParams as *mut CK_RSA_PKCS_OAEP_PARAMS,
    };
    // (CLI mechanism and its options, module mechanism, RSA?)
    let cases: Vec<(&str, Vec<&str>, Mechanism, bool)> = vec![
        (
            "aes-no-pad",
            vec![],
            vendor_mechanism(vendor::CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD),
            false,
        ),
        (
            "aes-pkcs5-pad",
            vec![],
            vendor_mechanism(vendor::CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD),
            false,
        ),
        (
            "aes-zero-pad",
            vec![],
            vendor_mechanism(vendor::CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD),
            false,
        ),
        ("aes-no-pad", vec![], Mechanism::AesKeyWrap, false),
        ("aes-zero-pad", vec![], Mechanism::AesKeyWrapPad, false),
        (
            "rsa-oaep",
            vec!["--hash-function", "sha256", "--mgf", "mgf1-sha256"],
            Mechanism::RsaPkcsOaep(oaep()),
            true,
        ),
        ("rsa-pkcs", vec![], Mechanism::RsaPkcs, true),
    ];
    for (i, (cli, opts, mechanism, rsa)) in cases.into_iter().enumerate() {
        let (wrap_with, unwrap_with) = if rsa {
            ("rsa-pub", "rsa-priv")
        } else {
            ("kek", "kek")
        };
        let (w, u) = if rsa { (public, private) } else { (kek, kek) };
        // Module → CLI.
        let wrapped = s.wrap_key(&mechanism, w, payload).unwrap();
        std::fs::write(&file, &wrapped).unwrap();
        let label = format!("from-module-{i}");
        let filter = format!("attr.label={unwrap_with}");
        let mut args = vec!["key", "unwrap", cli, "--filter", &filter];
        args.extend(opts.iter().copied());
        args.extend([
            "--data-path",
            path,
            "--key-type-class",
            "aes",
            "--label",
            &label,
        ]);
        cli_ok(&f, &args);
        assert_eq!(
            check_value(&s, find_one(&s, &label)),
            kcv,
            "{cli} to the CLI"
        );
        // CLI → module.
        let payload_filter = "attr.label=payload";
        let wrapping_filter = format!("attr.label={wrap_with}");
        let mut args = vec![
            "key",
            "wrap",
            cli,
            "--payload-filter",
            payload_filter,
            "--wrapping-filter",
            &wrapping_filter,
        ];
        args.extend(opts.iter().copied());
        args.extend(["--path", path]);
        cli_ok(&f, &args);
        let data = std::fs::read(&file).unwrap();
        let back = s
            .unwrap_key(&mechanism, u, &data, &secret_template("x"))
            .unwrap();
        assert_eq!(check_value(&s, back), kcv, "{cli} from the CLI");
    }

    // RSA-AES (no cryptoki mechanism: the vendor form carries any type's parameters).
    let rsa_aes_mechanism =
        || Mechanism::VendorDefined(vendor_defined(CKM_RSA_AES_KEY_WRAP, &rsa_aes));
    let wrapped = s.wrap_key(&rsa_aes_mechanism(), public, payload).unwrap();
    assert_eq!(
        wrapped.len(),
        256 + 40,
        "OAEP(ephemeral key) || KWP(payload)"
    );
    std::fs::write(&file, &wrapped).unwrap();
    cli_ok(
        &f,
        &[
            "key",
            "unwrap",
            "rsa-aes",
            "--filter",
            "attr.label=rsa-priv",
            "--hash-function",
            "sha256",
            "--mgf",
            "mgf1-sha256",
            "--data-path",
            path,
            "--key-type-class",
            "aes",
            "--label",
            "from-module-rsa-aes",
        ],
    );
    assert_eq!(check_value(&s, find_one(&s, "from-module-rsa-aes")), kcv);
    cli_ok(
        &f,
        &[
            "key",
            "wrap",
            "rsa-aes",
            "--payload-filter",
            "attr.label=payload",
            "--wrapping-filter",
            "attr.label=rsa-pub",
            "--hash-function",
            "sha256",
            "--mgf",
            "mgf1-sha256",
            "--path",
            path,
        ],
    );
    let data = std::fs::read(&file).unwrap();
    let back = s
        .unwrap_key(&rsa_aes_mechanism(), private, &data, &secret_template("y"))
        .unwrap();
    assert_eq!(check_value(&s, back), kcv);

    // AES-GCM both ways: the IV travels apart; CKM_CLOUDHSM_AES_GCM prepends it.
    let mut iv = [0u8; 12];
    let wrapped = {
        let params = GcmParams::new(&mut iv, &[], 128.into()).unwrap();
        s.wrap_key(&Mechanism::AesGcm(params), kek, payload)
            .unwrap()
    };
    std::fs::write(&file, &wrapped).unwrap();
    let iv_hex: String = iv.iter().map(|b| format!("{b:02x}")).collect();
    cli_ok(
        &f,
        &[
            "key",
            "unwrap",
            "aes-gcm",
            "--filter",
            "attr.label=kek",
            "--tag-length-bits",
            "128",
            "--iv",
            &iv_hex,
            "--data-path",
            path,
            "--key-type-class",
            "aes",
            "--label",
            "from-module-gcm",
        ],
    );
    assert_eq!(check_value(&s, find_one(&s, "from-module-gcm")), kcv);
    let out = cli_ok(
        &f,
        &[
            "key",
            "wrap",
            "aes-gcm",
            "--payload-filter",
            "attr.label=payload",
            "--wrapping-filter",
            "attr.label=kek",
            "--tag-length-bits",
            "128",
            "--path",
            path,
        ],
    );
    let mut iv = iv_of(&out);
    let data = std::fs::read(&file).unwrap();
    let back = {
        let params = GcmParams::new(&mut iv, &[], 128.into()).unwrap();
        s.unwrap_key(
            &Mechanism::AesGcm(params),
            kek,
            &data,
            &secret_template("z"),
        )
        .unwrap()
    };
    assert_eq!(check_value(&s, back), kcv);
    let params = CK_GCM_PARAMS {
        pIv: null_mut(),
        ulIvLen: 0,
        ulIvBits: 0,
        pAAD: null_mut(),
        ulAADLen: 0,
        ulTagBits: 128,
    };
    let cloudhsm_gcm =
        || Mechanism::VendorDefined(vendor_defined(vendor::CKM_CLOUDHSM_AES_GCM, &params));
    let wrapped = s.wrap_key(&cloudhsm_gcm(), kek, payload).unwrap();
    std::fs::write(&file, &wrapped).unwrap();
    cli_ok(
        &f,
        &[
            "key",
            "unwrap",
            "cloudhsm-aes-gcm",
            "--filter",
            "attr.label=kek",
            "--tag-length-bits",
            "128",
            "--data-path",
            path,
            "--key-type-class",
            "aes",
            "--label",
            "from-module-cloudhsm-gcm",
        ],
    );
    assert_eq!(
        check_value(&s, find_one(&s, "from-module-cloudhsm-gcm")),
        kcv
    );
    cli_ok(
        &f,
        &[
            "key",
            "wrap",
            "cloudhsm-aes-gcm",
            "--payload-filter",
            "attr.label=payload",
            "--wrapping-filter",
            "attr.label=kek",
            "--tag-length-bits",
            "128",
            "--path",
            path,
        ],
    );
    let data = std::fs::read(&file).unwrap();
    let back = s
        .unwrap_key(&cloudhsm_gcm(), kek, &data, &secret_template("w"))
        .unwrap();
    assert_eq!(check_value(&s, back), kcv);
}

/// A mechanism of any type with parameters `p`, through `cryptoki`'s vendor form.
fn vendor_defined<T>(m: CK_MECHANISM_TYPE, p: &T) -> VendorDefinedMechanism<'_> {
    // `new_vendor_defined` takes vendor types only; the standard CKM_RSA_AES_KEY_WRAP is
    // carried by setting the type afterwards through the raw structure.
    let mut v = VendorDefinedMechanism::new(
        MechanismType::new_vendor_defined(CKM_VENDOR_DEFINED).unwrap(),
        Some(p),
    );
    // SAFETY (test): the structure is its CK_MECHANISM and a zero-sized marker.
    assert_eq!(
        size_of::<VendorDefinedMechanism>(),
        size_of::<CK_MECHANISM>()
    );
    let raw = &mut v as *mut VendorDefinedMechanism as *mut CK_MECHANISM;
    unsafe { (*raw).mechanism = m };
    v
}

/// Raw calls on the module compiled into this test (the same code as the `.so`): what
/// `cryptoki` cannot say, the attribute arrays of the wrap and unwrap templates.
struct Raw {
    session: CK_SESSION_HANDLE,
}

impl Raw {
    fn open(f: &Fixture) -> Raw {
        std::env::set_var("CLOUDHSM_SIM_HOME", &f.root);
        unsafe {
            assert_eq!(p11::C_Initialize(null_mut()), CKR_OK);
            let mut slots = [0 as CK_SLOT_ID; 1];
            let mut n: CK_ULONG = 1;
            assert_eq!(
                p11::C_GetSlotList(CK_TRUE, slots.as_mut_ptr(), &mut n),
                CKR_OK
            );
            let mut session = 0;
            let flags = CKF_SERIAL_SESSION | CKF_RW_SESSION;
            assert_eq!(
                p11::C_OpenSession(slots[0], flags, null_mut(), None, &mut session),
                CKR_OK
            );
            let mut pin = PIN1.as_bytes().to_vec();
            let len = pin.len() as CK_ULONG;
            assert_eq!(
                p11::C_Login(session, CKU_USER, pin.as_mut_ptr(), len),
                CKR_OK
            );
            Raw { session }
        }
    }

    fn aes(&self, label: &str, attrs: &mut Vec<CK_ATTRIBUTE>) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let mut mechanism = CK_MECHANISM {
            mechanism: CKM_AES_KEY_GEN,
            pParameter: null_mut(),
            ulParameterLen: 0,
        };
        let mut label = label.as_bytes().to_vec();
        let mut len: CK_ULONG = 16;
        attrs.push(bytes_attr(CKA_LABEL, &mut label));
        attrs.push(CK_ATTRIBUTE {
            type_: CKA_VALUE_LEN,
            pValue: &mut len as *mut CK_ULONG as *mut _,
            ulValueLen: size_of::<CK_ULONG>() as CK_ULONG,
        });
        let mut handle = 0;
        let rv = unsafe {
            p11::C_GenerateKey(
                self.session,
                &mut mechanism,
                attrs.as_mut_ptr(),
                attrs.len() as CK_ULONG,
                &mut handle,
            )
        };
        if rv == CKR_OK {
            Ok(handle)
        } else {
            Err(rv)
        }
    }

    fn wrap(&self, kek: CK_OBJECT_HANDLE, key: CK_OBJECT_HANDLE) -> Result<Vec<u8>, CK_RV> {
        let mut mechanism = CK_MECHANISM {
            mechanism: CKM_AES_KEY_WRAP_PAD,
            pParameter: null_mut(),
            ulParameterLen: 0,
        };
        let mut out = vec![0u8; 64];
        let mut len = out.len() as CK_ULONG;
        let rv = unsafe {
            p11::C_WrapKey(
                self.session,
                &mut mechanism,
                kek,
                key,
                out.as_mut_ptr(),
                &mut len,
            )
        };
        out.truncate(len as usize);
        if rv == CKR_OK {
            Ok(out)
        } else {
            Err(rv)
        }
    }

    fn unwrap(
        &self,
        kek: CK_OBJECT_HANDLE,
        data: &mut [u8],
        attrs: &mut Vec<CK_ATTRIBUTE>,
    ) -> Result<CK_OBJECT_HANDLE, CK_RV> {
        let mut mechanism = CK_MECHANISM {
            mechanism: CKM_AES_KEY_WRAP_PAD,
            pParameter: null_mut(),
            ulParameterLen: 0,
        };
        let mut handle = 0;
        let rv = unsafe {
            p11::C_UnwrapKey(
                self.session,
                &mut mechanism,
                kek,
                data.as_mut_ptr(),
                data.len() as CK_ULONG,
                attrs.as_mut_ptr(),
                attrs.len() as CK_ULONG,
                &mut handle,
            )
        };
        if rv == CKR_OK {
            Ok(handle)
        } else {
            Err(rv)
        }
    }

    fn get(&self, key: CK_OBJECT_HANDLE, attrs: &mut [CK_ATTRIBUTE]) -> CK_RV {
        unsafe { p11::C_GetAttributeValue(self.session, key, attrs.as_mut_ptr(), attrs.len() as _) }
    }

    fn flag(&self, key: CK_OBJECT_HANDLE, ty: CK_ATTRIBUTE_TYPE) -> bool {
        let mut b: CK_BBOOL = 2;
        let mut a = [bool_attr(ty, &mut b)];
        assert_eq!(self.get(key, &mut a), CKR_OK);
        b == CK_TRUE
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        unsafe { p11::C_Finalize(null_mut()) };
    }
}

fn bool_attr(ty: CK_ATTRIBUTE_TYPE, b: &mut CK_BBOOL) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: ty,
        pValue: b as *mut CK_BBOOL as *mut _,
        ulValueLen: 1,
    }
}

fn bytes_attr(ty: CK_ATTRIBUTE_TYPE, v: &mut [u8]) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: ty,
        pValue: v.as_mut_ptr() as *mut _,
        ulValueLen: v.len() as CK_ULONG,
    }
}

fn array_attr(ty: CK_ATTRIBUTE_TYPE, v: &mut [CK_ATTRIBUTE]) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: ty,
        pValue: v.as_mut_ptr() as *mut _,
        ulValueLen: std::mem::size_of_val(v) as CK_ULONG,
    }
}

/// AWS's wrap_with_template sample: a wrapping key whose `CKA_WRAP_TEMPLATE` asks for
/// `CKA_ENCRYPT` true wraps a key with it and refuses one without; the template reads back
/// as an attribute array by PKCS#11's protocol.
#[test]
fn a_wrap_template_limits_what_a_key_wraps() {
    let f = Fixture::new();
    let raw = Raw::open(&f);
    let (mut t, mut f_) = (CK_TRUE, CK_FALSE);
    let mut wrap_template = [bool_attr(CKA_ENCRYPT, &mut t)];
    let mut attrs = vec![
        bool_attr(CKA_WRAP, &mut t),
        array_attr(CKA_WRAP_TEMPLATE, &mut wrap_template),
    ];
    let kek = raw.aes("kek", &mut attrs).unwrap();
    let allowed = raw
        .aes("enc", &mut vec![bool_attr(CKA_ENCRYPT, &mut t)])
        .unwrap();
    let refused = raw
        .aes("noenc", &mut vec![bool_attr(CKA_ENCRYPT, &mut f_)])
        .unwrap();
    raw.wrap(kek, allowed).unwrap();
    assert_eq!(raw.wrap(kek, refused), Err(CKR_KEY_NOT_WRAPPABLE));

    // Read back: the size, then the entries' lengths, then the values.
    let mut a = [CK_ATTRIBUTE {
        type_: CKA_WRAP_TEMPLATE,
        pValue: null_mut(),
        ulValueLen: 0,
    }];
    assert_eq!(raw.get(kek, &mut a), CKR_OK);
    assert_eq!(a[0].ulValueLen as usize, size_of::<CK_ATTRIBUTE>());
    let mut entries = [CK_ATTRIBUTE {
        type_: 0,
        pValue: null_mut(),
        ulValueLen: 0,
    }];
    let mut a = [array_attr(CKA_WRAP_TEMPLATE, &mut entries)];
    assert_eq!(raw.get(kek, &mut a), CKR_OK);
    assert_eq!((entries[0].type_, entries[0].ulValueLen), (CKA_ENCRYPT, 1));
    let mut b: CK_BBOOL = 7;
    entries[0].pValue = &mut b as *mut CK_BBOOL as *mut _;
    let mut a = [array_attr(CKA_WRAP_TEMPLATE, &mut entries)];
    assert_eq!(raw.get(kek, &mut a), CKR_OK);
    assert_eq!(b, CK_TRUE);
    // A key without a template has an empty one.
    let mut a = [CK_ATTRIBUTE {
        type_: CKA_UNWRAP_TEMPLATE,
        pValue: null_mut(),
        ulValueLen: 9,
    }];
    assert_eq!(raw.get(allowed, &mut a), CKR_OK);
    assert_eq!(a[0].ulValueLen, 0);
    // An untrusting template: CKA_TRUSTED true is the admin's, never a crypto user's.
    let mut bad = [bool_attr(CKA_TRUSTED, &mut t)];
    let mut attrs = vec![array_attr(CKA_UNWRAP_TEMPLATE, &mut bad)];
    assert_eq!(raw.aes("bad", &mut attrs), Err(CKR_ATTRIBUTE_VALUE_INVALID));
}

/// AWS's unwrap_with_template sample: the unwrapping key's `CKA_UNWRAP_TEMPLATE` is applied
/// to what it unwraps (the union with the caller's template); a conflicting caller template
/// is `CKR_TEMPLATE_INCONSISTENT`. The CLI's unwrap obeys it too.
#[test]
fn an_unwrap_template_applies_and_conflicts_are_refused() {
    let f = Fixture::new();
    let raw = Raw::open(&f);
    let (mut t, mut f_) = (CK_TRUE, CK_FALSE);
    let mut unwrap_template = [
        bool_attr(CKA_EXTRACTABLE, &mut f_),
        bool_attr(CKA_DECRYPT, &mut t),
    ];
    let mut attrs = vec![
        bool_attr(CKA_WRAP, &mut t),
        bool_attr(CKA_UNWRAP, &mut t),
        bool_attr(CKA_TOKEN, &mut t),
        array_attr(CKA_UNWRAP_TEMPLATE, &mut unwrap_template),
    ];
    let kek = raw.aes("kek", &mut attrs).unwrap();
    let payload = raw
        .aes("payload", &mut vec![bool_attr(CKA_TOKEN, &mut t)])
        .unwrap();
    let mut wrapped = raw.wrap(kek, payload).unwrap();
    let (mut class, mut kt) = (CKO_SECRET_KEY, CKK_AES);
    let ulong = |ty, v: &mut CK_ULONG| CK_ATTRIBUTE {
        type_: ty,
        pValue: v as *mut CK_ULONG as *mut _,
        ulValueLen: size_of::<CK_ULONG>() as CK_ULONG,
    };
    let mut template = vec![ulong(CKA_CLASS, &mut class), ulong(CKA_KEY_TYPE, &mut kt)];
    let key = raw.unwrap(kek, &mut wrapped, &mut template).unwrap();
    assert!(
        !raw.flag(key, CKA_EXTRACTABLE),
        "the template's extractable=false"
    );
    assert!(raw.flag(key, CKA_DECRYPT), "the template's decrypt=true");
    let mut conflicting = template.clone();
    conflicting.push(bool_attr(CKA_EXTRACTABLE, &mut t));
    assert_eq!(
        raw.unwrap(kek, &mut wrapped, &mut conflicting),
        Err(CKR_TEMPLATE_INCONSISTENT)
    );
    // Agreeing with the template is no conflict.
    let mut agreeing = template.clone();
    agreeing.push(bool_attr(CKA_DECRYPT, &mut t));
    raw.unwrap(kek, &mut wrapped, &mut agreeing).unwrap();

    // The CLI unwraps under the same rule.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.bin");
    std::fs::write(&file, &wrapped).unwrap();
    let path = file.to_str().unwrap();
    let out = f.cli_as(
        "cu1",
        CU1_PW,
        &[
            "key",
            "unwrap",
            "aes-zero-pad",
            "--filter",
            "attr.label=kek",
            "--data-path",
            path,
            "--key-type-class",
            "aes",
            "--label",
            "cli",
            "--attributes",
            "extractable=true",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("conflict with the unwrapping key's unwrap template (extractable)"),
        "{text}"
    );
    let out = f.cli_as(
        "cu1",
        CU1_PW,
        &[
            "key",
            "unwrap",
            "aes-zero-pad",
            "--filter",
            "attr.label=kek",
            "--data-path",
            path,
            "--key-type-class",
            "aes",
            "--label",
            "cli",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"extractable\": false"), "{text}");
}

/// A wrap-with-trusted key is wrapped only by a trusted key; only an admin trusts a key,
/// with the CLI (spec §4.8, Q17: `CKR_KEY_NOT_WRAPPABLE`).
#[test]
fn a_wrap_with_trusted_key_needs_a_trusted_wrapping_key() {
    let f = Fixture::new();
    let pkcs11 = Finalizing(Some(f.pkcs11()));
    let s = session(pkcs11.get(), PIN1);
    let kek = aes(&s, "trusted-kek", 16, &[Attribute::Token(true)]);
    let guarded = aes(&s, "guarded", 16, &[Attribute::WrapWithTrusted(true)]);
    let e = s
        .wrap_key(&Mechanism::AesKeyWrap, kek, guarded)
        .unwrap_err();
    assert_eq!(rv(e), RvError::KeyNotWrappable);
    let out = f.cli_script(&format!(
        "login --username admin --role admin --password {ADMIN_PW}\n\
         key set-attribute --filter attr.label=trusted-kek --name trusted --value true\n"
    ));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Attribute set successfully"), "{text}");
    assert!(flag_trusted(&s, kek));
    s.wrap_key(&Mechanism::AesKeyWrap, kek, guarded).unwrap();
}

fn flag_trusted(s: &Session, key: ObjectHandle) -> bool {
    matches!(
        s.get_attributes(key, &[AttributeType::Trusted])
            .unwrap()
            .pop(),
        Some(Attribute::Trusted(true))
    )
}
