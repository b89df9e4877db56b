//! Attribute values against the guide's examples and independent computations.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{entropy, unhex};
use crate::hsm::crypto::der;
use crate::hsm::crypto::*;

/// The P-224 public point and check value of the guide's `key generate-asymmetric-pair ec`
/// example (spec §K.12), and of its `key list --verbose` example (spec §K.1).
const GUIDE_EC: [(&str, &str); 2] = [
    (
        "047096513df542250a6b228fd9cb67fd0c903abc93488467681974d6f371083fce1d79da8ad1e9ede745fb9f38ac8622a1b3ebe9270556000c",
        "0xd7c1a7",
    ),
    (
        "0442d53274a6c0ec1a23c165dcb9ccdd72c64e98ae1a9594bb5284e752c746280667e11f1e983493c1c605e0a8071ede47ca280f94c6b2aa33",
        "0x2a737d",
    ),
];

/// The RSA-2048 modulus and check value of the guide's generate-asymmetric-pair rsa example.
const GUIDE_RSA_MODULUS: &str = "dfca0669dc8288ed3bad99509bd21c7e6192661407021b3f4cdf4a593d939dd24f4d641af8e4e73b04c847731c6dbdff3385818e08dd6efcbedd6e5b130344968ce89a065e7d1a46ced96b46b909db2ab6be871ee700fd0a448b6e975bb64cae77c49008749212463e37a577baa57ce3e574cb057e9db131e119badf50c938f26e8a5975c61a8ba7ffe7a1115abcebb7d20bd6df1948ae336ae23b52d73b7f3b6acc2543edb6358e08d326d280ce489571f4d34e316a2ea1904d513ca12fa04075fc09ad005c81b7345d7804ff24c45117f0a1020dca7794df037a10aadec8653473b2088711f7b7d8b58431654e14e31af0e00511da641058fb7475ffdbe60f";

#[test]
fn ec_check_value_and_point_match_the_guide() {
    for (point, check_value) in GUIDE_EC {
        let spki = der::spki(
            der::OID_EC_PUBLIC_KEY,
            Some(&der::oid(der::OID_SECP224R1)),
            &unhex(point),
        );
        let key = PublicKey::from_spki_der(&spki).unwrap();
        let attrs = KeyMaterial::Public(key).attributes();
        assert_eq!(attrs.check_value, check_value);
        assert_eq!(attrs.key_type, "ec");
        assert_eq!(attrs.class, "public-key");
        assert_eq!(attrs.key_length_bytes, 57);
        let ec = attrs.ec.unwrap();
        assert_eq!(ec.ec_point, format!("0x{point}"));
        assert_eq!(ec.curve, "secp224r1");
        assert!(attrs.rsa.is_none() && attrs.mldsa_algorithm.is_none());
    }
}

#[test]
fn rsa_attributes_match_the_guide() {
    let spki = der::spki(
        der::OID_RSA,
        Some(&der::null()),
        &der::sequence(&[
            &der::unsigned_integer(&unhex(GUIDE_RSA_MODULUS)),
            &der::unsigned_integer(&[1, 0, 1]),
        ]),
    );
    let attrs = KeyMaterial::Public(PublicKey::from_spki_der(&spki).unwrap()).attributes();
    assert_eq!(attrs.check_value, "0x498e1f");
    assert_eq!(attrs.key_type, "rsa");
    assert_eq!(attrs.key_length_bytes, 512);
    let rsa = attrs.rsa.unwrap();
    assert_eq!(rsa.public_exponent, "0x010001");
    assert_eq!(rsa.modulus, format!("0x{GUIDE_RSA_MODULUS}"));
    assert_eq!(rsa.modulus_size_bits, 2048);
}

#[test]
fn key_pair_halves_share_the_check_value() {
    let keys = [
        generate_rsa(&mut entropy(20), 2048, 65537).unwrap(),
        generate_ec(&mut entropy(20), Curve::Secp224r1).unwrap(),
        generate_ec(&mut entropy(20), Curve::Ed25519).unwrap(),
        generate_ml_dsa(&mut entropy(20), MlDsaAlgorithm::MlDsa44).unwrap(),
    ];
    for key in keys {
        let private = KeyMaterial::Private(key.clone()).attributes();
        let public = KeyMaterial::Public(key.public_key()).attributes();
        assert_eq!(private.check_value, public.check_value);
        assert_eq!(private.class, "private-key");
        assert_eq!(public.class, "public-key");
        assert_eq!(private.rsa, public.rsa);
        assert_eq!(private.ec, public.ec);
        assert_eq!(private.key_type, public.key_type);
        let cv = &private.check_value;
        assert!(cv.len() == 8 && cv.starts_with("0x"), "{cv}");
        assert!(cv[2..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}

#[test]
fn key_length_bytes_follow_the_guide() {
    let rsa = generate_rsa(&mut entropy(21), 2048, 65537).unwrap();
    assert_eq!(
        KeyMaterial::Public(rsa.public_key())
            .attributes()
            .key_length_bytes,
        512
    );
    let private_len = KeyMaterial::Private(rsa).attributes().key_length_bytes;
    assert!((1214..=1220).contains(&private_len), "{private_len}");
    let p224 = generate_ec(&mut entropy(21), Curve::Secp224r1).unwrap();
    assert_eq!(
        KeyMaterial::Private(p224).attributes().key_length_bytes,
        122
    );
    let ml = generate_ml_dsa(&mut entropy(21), MlDsaAlgorithm::MlDsa65).unwrap();
    let attrs = KeyMaterial::Private(ml.clone()).attributes();
    assert_eq!(attrs.key_length_bytes, 4032);
    assert_eq!(attrs.mldsa_algorithm, Some("ML-DSA-65"));
    assert_eq!(
        KeyMaterial::Public(ml.public_key())
            .attributes()
            .key_length_bytes,
        1952
    );
}

#[test]
fn curve_attribute_echoes_the_name_used() {
    for curve in [Curve::Prime256v1, Curve::Secp256r1] {
        let key = generate_ec(&mut entropy(22), curve).unwrap();
        let attrs = KeyMaterial::Private(key).attributes();
        assert_eq!(attrs.ec.unwrap().curve, curve.name());
    }
}

#[test]
fn aes_check_values_known_answers() {
    // AES of the zero block under the zero key (FIPS-197 style known answers).
    let cases = [(16, "0x66e94b"), (24, "0xaae069"), (32, "0xdc95c0")];
    for (len, expected) in cases {
        let key = SecretKey::new(SecretKind::Aes, vec![0; len]).unwrap();
        let attrs = KeyMaterial::Secret(key).attributes();
        assert_eq!(attrs.check_value, expected);
        assert_eq!(attrs.key_type, "aes");
        assert_eq!(attrs.class, "secret-key");
        assert_eq!(attrs.key_length_bytes, len);
    }
}

/// The AES check value computed by the `openssl` binary: `enc -aes-N-ecb -nopad` of one zero
/// block.
fn openssl_aes_kcv(key: &[u8]) -> String {
    let mut child = Command::new("openssl")
        .args([
            "enc",
            &format!("-aes-{}-ecb", key.len() * 8),
            "-nopad",
            "-nosalt",
            "-K",
        ])
        .arg(super::super::hex(key))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the openssl binary is needed for this test");
    child.stdin.take().unwrap().write_all(&[0u8; 16]).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    hex_attribute(&out.stdout[..3])
}

#[test]
fn aes_check_values_match_openssl() {
    for (seed, len) in [(30, 16), (31, 24), (32, 32), (33, 16)] {
        let key = generate_aes(&mut entropy(seed), len).unwrap();
        let ours = KeyMaterial::Secret(key.clone()).attributes().check_value;
        assert_eq!(ours, openssl_aes_kcv(key.bytes()));
    }
}

#[test]
fn generic_secret_check_value_is_sha1_prefix() {
    let key = SecretKey::new(SecretKind::GenericSecret, b"abc".to_vec()).unwrap();
    let attrs = KeyMaterial::Secret(key).attributes();
    assert_eq!(attrs.check_value, "0xa9993e");
    assert_eq!(attrs.key_type, "generic-secret");
    assert_eq!(attrs.key_length_bytes, 3);
}

#[test]
fn hex_attribute_format() {
    assert_eq!(hex_attribute(&[1, 0, 1]), "0x010001");
    assert_eq!(hex_attribute(&[0xab, 0x0c]), "0xab0c");
    assert_eq!(hex_attribute(&[]), "0x");
}
