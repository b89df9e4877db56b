//! DES3 through the module: `CKM_DES3_KEY_GEN` (no `CKA_VALUE_LEN`), `CKM_DES3_ECB`,
//! `CKM_DES3_CBC` and `CKM_DES3_CBC_PAD` single- and multi-part checked against `openssl enc
//! -des-ede3(-cbc)`, the SP 800-67 known answer with the NIST key imported by
//! `C_CreateObject` and unwrapped through the CLI, the `CKM_DES3_CBC` data limit, and a
//! FIPS-mode cluster that lists no DES3 mechanism and refuses DES3 keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{find, hex, rv, unhex, unwrap_through_the_cli, value};

use std::io::Write;
use std::process::{Command, Stdio};

use cloudhsm_sim::hsm::ClusterConfig;
use common::{session, slot, Fixture, PIN1};
use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::Session;

/// SP 800-67 Rev. 1 Appendix B: three independent keys, "The qufck brown fox jump" and its
/// TDEA-ECB ciphertext.
const NIST_KEY: &str = "0123456789abcdef23456789abcdef01456789abcdef0123";
const NIST_PLAINTEXT: &str = "54686520717566636b2062726f776e20666f78206a756d70";
const NIST_ECB: &str = "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900";

const DES3_MECHANISMS: [MechanismType; 4] = [
    MechanismType::DES3_KEY_GEN,
    MechanismType::DES3_ECB,
    MechanismType::DES3_CBC,
    MechanismType::DES3_CBC_PAD,
];

/// The DES3 mechanisms cryptoki 0.12 keeps in `get_mechanism_list` (it drops numbers it has
/// no name for, `CKM_DES3_CBC` and `CKM_DES3_CBC_PAD` among them); `C_GetMechanismInfo`
/// checks all four.
const LISTED_BY_CRYPTOKI: [MechanismType; 2] =
    [MechanismType::DES3_KEY_GEN, MechanismType::DES3_ECB];

/// `openssl enc -<cipher>` of `data` (encryption), key and IV in hex.
fn openssl_enc(cipher: &str, key: &[u8], iv: Option<&[u8]>, pad: bool, data: &[u8]) -> Vec<u8> {
    let mut args = vec![format!("-{cipher}"), "-K".into(), hex(key)];
    if let Some(iv) = iv {
        args.extend(["-iv".into(), hex(iv)]);
    }
    if !pad {
        args.push("-nopad".into());
    }
    let mut child = Command::new("openssl")
        .arg("enc")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl enc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A generated DES3 key whose value can be read (to compute the same with openssl).
fn des3_key(session: &Session, label: &str) -> ObjectHandle {
    session
        .generate_key(
            &Mechanism::Des3KeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::DES3),
                Attribute::Token(false),
                Attribute::Label(label.into()),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ],
        )
        .unwrap()
}

/// A DES3 key of the given bytes, imported with `C_CreateObject`.
fn import_des3(session: &Session, value: &[u8]) -> Result<ObjectHandle, Error> {
    session.create_object(&[
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::DES3),
        Attribute::Value(value.to_vec()),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
    ])
}

/// Multi-part encryption then decryption of `data` in parts of `part` bytes.
fn in_parts(
    session: &Session,
    m: &Mechanism,
    key: ObjectHandle,
    data: &[u8],
    part: usize,
) -> (Vec<u8>, Vec<u8>) {
    session.encrypt_init(m, key).unwrap();
    let mut sealed = Vec::new();
    for chunk in data.chunks(part) {
        sealed.extend(session.encrypt_update(chunk).unwrap());
    }
    sealed.extend(session.encrypt_final().unwrap());
    session.decrypt_init(m, key).unwrap();
    let mut opened = Vec::new();
    for chunk in sealed.chunks(part) {
        opened.extend(session.decrypt_update(chunk).unwrap());
    }
    opened.extend(session.decrypt_final().unwrap());
    (sealed, opened)
}

fn mechanisms(pkcs11: &Pkcs11) -> Vec<MechanismType> {
    pkcs11.get_mechanism_list(slot(pkcs11)).unwrap()
}

#[test]
fn a_generated_key_is_24_bytes_with_odd_parity_and_its_check_value() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let session = session(&pkcs11, PIN1);
    let key = des3_key(&session, "gen");
    let attrs = session
        .get_attributes(
            key,
            &[
                AttributeType::KeyType,
                AttributeType::CheckValue,
                AttributeType::Local,
            ],
        )
        .unwrap();
    let bytes = value(&session, key);
    assert_eq!(bytes.len(), 24);
    assert!(
        bytes.iter().all(|b| b.count_ones() % 2 == 1),
        "{bytes:02x?}"
    );
    let kcv = openssl_enc("des-ede3", &bytes, None, false, &[0u8; 8]);
    assert_eq!(
        attrs,
        vec![
            Attribute::KeyType(KeyType::DES3),
            Attribute::CheckValue(kcv[..3].to_vec()),
            Attribute::Local(true),
        ]
    );
    // A DES3 key has no CKA_VALUE_LEN: neither taken at generation nor readable.
    let err = session.generate_key(
        &Mechanism::Des3KeyGen,
        &[
            Attribute::KeyType(KeyType::DES3),
            Attribute::ValueLen(24.into()),
        ],
    );
    assert!(err.is_err(), "{err:?}");
    let info = session
        .get_attribute_info(key, &[AttributeType::ValueLen])
        .unwrap();
    assert!(matches!(info[..], [AttributeInfo::TypeInvalid]), "{info:?}");
}

#[test]
fn ecb_cbc_and_cbc_pad_match_openssl_single_and_multi_part() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let session = session(&pkcs11, PIN1);
    let key = des3_key(&session, "enc");
    let bytes = value(&session, key);
    let iv = [0x5au8, 1, 2, 3, 4, 5, 6, 7];
    let aligned: Vec<u8> = (0..64u8).collect();
    let odd: Vec<u8> = (0..61u8).collect();
    let cases = [
        (Mechanism::Des3Ecb, "des-ede3", None, false, &aligned),
        (
            Mechanism::Des3Cbc(iv),
            "des-ede3-cbc",
            Some(&iv[..]),
            false,
            &aligned,
        ),
        (
            Mechanism::Des3CbcPad(iv),
            "des-ede3-cbc",
            Some(&iv[..]),
            true,
            &odd,
        ),
        (
            Mechanism::Des3CbcPad(iv),
            "des-ede3-cbc",
            Some(&iv[..]),
            true,
            &aligned,
        ),
    ];
    for (m, cipher, iv, pad, data) in cases {
        let expected = openssl_enc(cipher, &bytes, iv, pad, data);
        let sealed = session.encrypt(&m, key, data).unwrap();
        assert_eq!(sealed, expected, "{cipher} pad={pad} len={}", data.len());
        assert_eq!(&session.decrypt(&m, key, &sealed).unwrap(), data);
        for part in [1, 5, 8, 13] {
            let (sealed, opened) = in_parts(&session, &m, key, data, part);
            assert_eq!(sealed, expected, "{cipher} in parts of {part}");
            assert_eq!(&opened, data, "{cipher} in parts of {part}");
        }
    }
    // Unpadded modes take whole blocks only.
    assert_eq!(
        rv(session.encrypt(&Mechanism::Des3Ecb, key, &odd)),
        RvError::DataLenRange
    );
    assert_eq!(
        rv(session.decrypt(&Mechanism::Des3Cbc(iv), key, &odd)),
        RvError::EncryptedDataLenRange
    );
    // An AES mechanism is no DES3 mechanism's key, and the other way round.
    assert_eq!(
        rv(session.encrypt(&Mechanism::AesEcb, key, &aligned)),
        RvError::KeyTypeInconsistent
    );
}

#[test]
fn the_nist_key_imported_or_unwrapped_through_the_cli_gives_the_sp800_67_answer() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let session = session(&pkcs11, PIN1);
    let plaintext = unhex(NIST_PLAINTEXT);
    let imported = import_des3(&session, &unhex(NIST_KEY)).unwrap();
    assert_eq!(
        session
            .encrypt(&Mechanism::Des3Ecb, imported, &plaintext)
            .unwrap(),
        unhex(NIST_ECB)
    );
    assert_eq!(
        session
            .get_attributes(imported, &[AttributeType::Local])
            .unwrap(),
        vec![Attribute::Local(false)]
    );
    // 16 bytes are no DES3 key.
    assert_eq!(
        rv(import_des3(&session, &unhex(&NIST_KEY[..32]))),
        RvError::AttributeValueInvalid
    );

    // The CLI unwraps the NIST key, wrapped under a token AES key the test can read.
    let stdout = unwrap_through_the_cli(&fixture, &session, &unhex(NIST_KEY), "des3", "nist-des3");
    for printed in [
        "\"key-type\": \"des3\"",
        "\"check-value\": \"0x4eba73\"",
        "\"key-length-bytes\": 24",
        "\"local\": false",
    ] {
        assert!(stdout.contains(printed), "{printed} in {stdout}");
    }
    let unwrapped = find(&session, "nist-des3");
    assert_eq!(
        session
            .encrypt(&Mechanism::Des3Ecb, unwrapped, &plaintext)
            .unwrap(),
        unhex(NIST_ECB)
    );
}

#[test]
fn des3_cbc_takes_at_most_16280_bytes_a_call() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let session = session(&pkcs11, PIN1);
    let key = des3_key(&session, "limit");
    let m = Mechanism::Des3Cbc([0; 8]);
    assert_eq!(
        session.encrypt(&m, key, &[7u8; 16280]).unwrap().len(),
        16280
    );
    assert_eq!(
        rv(session.encrypt(&m, key, &[7u8; 16288])),
        RvError::DataLenRange
    );
    // ECB has no documented limit.
    assert!(session
        .encrypt(&Mechanism::Des3Ecb, key, &[7u8; 16288])
        .is_ok());
}

#[test]
fn a_non_fips_cluster_lists_the_des3_mechanisms() {
    let fixture = Fixture::new();
    let pkcs11 = fixture.pkcs11();
    let listed = mechanisms(&pkcs11);
    for m in LISTED_BY_CRYPTOKI {
        assert!(listed.contains(&m), "{m} in {listed:?}");
    }
    for m in DES3_MECHANISMS {
        let info = pkcs11.get_mechanism_info(slot(&pkcs11), m).unwrap();
        assert_eq!((info.min_key_size(), info.max_key_size()), (24, 24), "{m}");
    }
}

#[test]
fn a_fips_cluster_has_no_des3() {
    let fixture = Fixture::with(ClusterConfig {
        fips: true,
        ..ClusterConfig::default()
    });
    let pkcs11 = fixture.pkcs11();
    let listed = mechanisms(&pkcs11);
    assert!(listed.contains(&MechanismType::AES_KEY_GEN));
    for m in LISTED_BY_CRYPTOKI {
        assert!(!listed.contains(&m), "{m} listed on a FIPS cluster");
    }
    for m in DES3_MECHANISMS {
        assert_eq!(
            rv(pkcs11.get_mechanism_info(slot(&pkcs11), m)),
            RvError::MechanismInvalid
        );
    }
    let session = session(&pkcs11, PIN1);
    assert_eq!(
        rv(session.generate_key(&Mechanism::Des3KeyGen, &[Attribute::KeyType(KeyType::DES3)])),
        RvError::MechanismInvalid
    );
    assert_eq!(
        rv(import_des3(&session, &unhex(NIST_KEY))),
        RvError::AttributeValueInvalid
    );
    // No DES3 key exists to encrypt with: an AES key under a DES3 mechanism is refused for
    // its mode first.
    let aes = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[Attribute::ValueLen(24.into()), Attribute::Encrypt(true)],
        )
        .unwrap();
    assert_eq!(
        rv(session.encrypt(&Mechanism::Des3Ecb, aes, &[0; 8])),
        RvError::MechanismInvalid
    );
}
