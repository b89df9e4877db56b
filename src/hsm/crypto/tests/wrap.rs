//! Unit tests of key wrapping and the cipher primitives: round trips of all eight mechanisms,
//! RFC 3394 / RFC 5649 / GCM known answers, tampering, wrong keys, bad parameters and
//! determinism (OpenSSL interoperability, AWS-LC cross-checks, OAEP with every hash pair,
//! digests and HMAC live in `tests/wrap_openssl.rs`).

use std::sync::OnceLock;

use super::{kw_unwrap, kw_wrap, AesBlock, KW_IV};
use crate::hsm::crypto::cipher::{gcm_open, gcm_seal};
use crate::hsm::crypto::*;
use crate::hsm::Entropy;

fn entropy(seed: u64) -> Entropy {
    Entropy::new(Some(seed))
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn aes_key(bytes: &[u8]) -> KeyMaterial {
    KeyMaterial::Secret(SecretKey::new(SecretKind::Aes, bytes.to_vec()).unwrap())
}

fn aes(len: usize, seed: u64) -> KeyMaterial {
    KeyMaterial::Secret(generate_aes(&mut entropy(seed), len).unwrap())
}

/// One RSA-2048 pair for every test: (public, private).
fn rsa() -> &'static (KeyMaterial, KeyMaterial) {
    static PAIR: OnceLock<(KeyMaterial, KeyMaterial)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let private = generate_rsa(&mut entropy(900), 2048, 65537).unwrap();
        (
            KeyMaterial::Public(private.public_key()),
            KeyMaterial::Private(private),
        )
    })
}

/// AES-128/192/256 secrets, a 5-byte generic secret, and PKCS#8 EC P-256 and RSA-2048 keys.
fn payloads() -> Vec<Vec<u8>> {
    let mut e = entropy(901);
    let mut out: Vec<Vec<u8>> = [16, 24, 32]
        .into_iter()
        .map(|len| generate_aes(&mut e, len).unwrap().bytes().to_vec())
        .collect();
    out.push(generate_generic_secret(&mut e, 5).unwrap().bytes().to_vec());
    let ec = generate_ec(&mut e, Curve::Prime256v1).unwrap();
    out.push(ec.to_pkcs8_der());
    out.push(generate_rsa(&mut e, 2048, 65537).unwrap().to_pkcs8_der());
    out
}

fn gcm(bits: usize, aad: &[u8]) -> WrapMechanism {
    let (tag_length_bits, aad) = (bits, aad.to_vec());
    WrapMechanism::AesGcm {
        tag_length_bits,
        aad,
    }
}

fn cloudhsm_gcm(bits: usize, aad: &[u8]) -> WrapMechanism {
    let (tag_length_bits, aad) = (bits, aad.to_vec());
    WrapMechanism::CloudHsmAesGcm {
        tag_length_bits,
        aad,
    }
}

fn rsa_aes(hash: HashFunction, mgf: HashFunction) -> WrapMechanism {
    WrapMechanism::RsaAes { hash, mgf }
}

fn oaep(hash: HashFunction, mgf: HashFunction) -> WrapMechanism {
    WrapMechanism::RsaOaep { hash, mgf }
}

fn mechanisms() -> Vec<WrapMechanism> {
    use HashFunction::{Sha1, Sha256, Sha512};
    vec![
        gcm(64, &[0x10]),
        gcm(128, &[]),
        cloudhsm_gcm(96, b"context"),
        WrapMechanism::AesNoPad,
        WrapMechanism::AesPkcs5Pad,
        WrapMechanism::AesZeroPad,
        rsa_aes(Sha256, Sha256),
        rsa_aes(Sha1, Sha512),
        oaep(Sha256, Sha256),
        oaep(Sha512, Sha1),
        WrapMechanism::RsaPkcs,
    ]
}

fn is_rsa(m: &WrapMechanism) -> bool {
    m.name().starts_with("rsa-")
}

fn gcm_iv(out: &WrapOutput) -> Option<&[u8]> {
    out.iv.as_deref()
}

/// The (wrapping, unwrapping) keys for `m`: the RSA pair, or twice an AES key of `len` bytes.
fn keys_for(m: &WrapMechanism, len: usize) -> (KeyMaterial, KeyMaterial) {
    let (public, private) = rsa();
    if is_rsa(m) {
        (public.clone(), private.clone())
    } else {
        (aes(len, len as u64), aes(len, len as u64))
    }
}

/// Asserts that `$result` is an error matching `$pattern`.
macro_rules! assert_err {
    ($result:expr, $pattern:pat, $($context:tt)+) => {
        match $result {
            Err(err) => assert!(matches!(err, $pattern), "{}: {err}", format!($($context)+)),
            Ok(_) => panic!("{}: unexpected success", format!($($context)+)),
        }
    };
}

/// The wrapped length each mechanism promises for `len` payload bytes (the blob layouts).
fn expected_len(m: &WrapMechanism, len: usize) -> Option<usize> {
    let up8 = |n: usize| n.div_ceil(8) * 8;
    match m {
        WrapMechanism::AesGcm {
            tag_length_bits, ..
        } => Some(len + tag_length_bits / 8),
        WrapMechanism::CloudHsmAesGcm {
            tag_length_bits: t, ..
        } => Some(12 + len + t / 8),
        WrapMechanism::AesNoPad => (len.is_multiple_of(8) && len >= 16).then_some(len + 8),
        WrapMechanism::AesPkcs5Pad => (len >= 8).then_some(up8(len + 1) + 8),
        WrapMechanism::AesZeroPad => Some(up8(len) + 8),
        WrapMechanism::RsaAes { .. } => Some(256 + up8(len) + 8),
        WrapMechanism::RsaOaep { hash: h, .. } => {
            (len + 2 * h.output_len() + 2 <= 256).then_some(256)
        }
        WrapMechanism::RsaPkcs => (len <= 245).then_some(256),
    }
}

#[test]
fn every_mechanism_round_trips_every_payload() {
    for m in mechanisms() {
        let lens: &[usize] = if is_rsa(&m) { &[0] } else { &[16, 24, 32] };
        for (wrapping, unwrapping) in lens.iter().map(|len| keys_for(&m, *len)) {
            for payload in payloads() {
                let result = wrap_key(&m, &wrapping, &payload, &mut entropy(903));
                let Some(len) = expected_len(&m, payload.len()) else {
                    assert_err!(result, CryptoError::PayloadLength { .. }, "{m:?}");
                    continue;
                };
                let out = result.unwrap();
                assert_eq!(out.data.len(), len, "{m:?} {}", payload.len());
                let is_gcm = matches!(m, WrapMechanism::AesGcm { .. });
                assert_eq!(out.iv.as_ref().map(Vec::len), is_gcm.then_some(12));
                let back = unwrap_key(&m, &unwrapping, &out.data, gcm_iv(&out)).unwrap();
                assert_eq!(back, payload, "{m:?}");
            }
        }
    }
}

#[test]
fn unwrapped_private_keys_load_again() {
    let ec = generate_ec(&mut entropy(904), Curve::Secp384r1).unwrap();
    let sha256 = HashFunction::Sha256;
    for m in [WrapMechanism::AesZeroPad, rsa_aes(sha256, sha256)] {
        let (w, u) = keys_for(&m, 32);
        let out = wrap_key(&m, &w, &ec.to_pkcs8_der(), &mut entropy(905)).unwrap();
        let der = unwrap_key(&m, &u, &out.data, None).unwrap();
        let back = PrivateKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(back.public_key(), ec.public_key());
    }
}

#[test]
fn rfc3394_known_answers() {
    let kek = unhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    let data = unhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
    // RFC 3394 §4.1 to §4.6: KEK and key data lengths, then the ciphertexts.
    let lens = [(16, 16), (24, 16), (32, 16), (24, 24), (32, 24), (32, 32)];
    let ciphertexts = [
        "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
        "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D",
        "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7",
        "031D33264E15D33268F24EC260743EDCE1C6C7DDEE725A936BA814915C6762D2",
        "A8F9BC1612C68B3FF6E6F4FBE30E71E4769C8B80A32CB8958CD5D17D6B254DA1",
        "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
    ];
    for ((kek_len, data_len), expected) in lens.into_iter().zip(ciphertexts) {
        let (kek, data, expected) = (&kek[..kek_len], &data[..data_len], unhex(expected));
        let block = AesBlock::new(kek).unwrap();
        assert_eq!(kw_wrap(&block, KW_IV, data).unwrap(), expected);
        let unwrapped = kw_unwrap(&block, &expected).unwrap();
        assert_eq!(unwrapped, (KW_IV, data.to_vec()));
        let (key, m) = (aes_key(kek), WrapMechanism::AesNoPad);
        let wrapped = wrap_key(&m, &key, data, &mut entropy(1)).unwrap();
        assert_eq!(wrapped.data, expected);
        assert_eq!(unwrap_key(&m, &key, &expected, None).unwrap(), data);
    }
}

#[test]
fn rfc5649_known_answers_and_integrity_checks() {
    let kek_bytes = unhex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8");
    let (kek, m) = (aes_key(&kek_bytes), WrapMechanism::AesZeroPad);
    // RFC 5649 §6: a 20-octet key and a 7-octet key under a 192-bit KEK.
    for (key, expected) in [
        (
            "c37b7e6492584340bed12207808941155068f738",
            "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a",
        ),
        ("466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"),
    ] {
        let (key, expected) = (unhex(key), unhex(expected));
        let wrapped = wrap_key(&m, &kek, &key, &mut entropy(1)).unwrap();
        assert_eq!(wrapped.data, expected);
        assert_eq!(unwrap_key(&m, &kek, &expected, None).unwrap(), key);
    }
    // Well-formed RFC 3394 output whose integrity value is not a valid RFC 5649 one:
    // wrong constant, length beyond the data, length leaving a full block of padding,
    // non-zero padding. The same blobs also fail aes-no-pad and aes-pkcs5-pad.
    let block = AesBlock::new(&kek_bytes).unwrap();
    let mut nonzero_pad = [0u8; 16];
    nonzero_pad[15] = 1;
    for (aiv, data) in [
        (0xA659_59A5_0000_0010, [7u8; 16]),
        (0xA659_59A6_0000_0011, [7u8; 16]),
        (0xA659_59A6_0000_0008, [7u8; 16]),
        (0xA659_59A6_0000_000F, nonzero_pad),
    ] {
        let blob = kw_wrap(&block, aiv, &data).unwrap();
        let (no_pad, pkcs5_pad) = (WrapMechanism::AesNoPad, WrapMechanism::AesPkcs5Pad);
        for m in [&m, &no_pad, &pkcs5_pad] {
            let result = unwrap_key(m, &kek, &blob, None);
            assert_err!(result, CryptoError::Unwrap { .. }, "{m:?} {aiv:x}");
        }
    }
    // A valid RFC 3394 wrap whose content has bad PKCS#5 padding.
    let blob = kw_wrap(&block, KW_IV, &[9u8; 16]).unwrap();
    let err = unwrap_key(&WrapMechanism::AesPkcs5Pad, &kek, &blob, None).unwrap_err();
    assert!(
        err.to_string().contains("PKCS#5 padding is invalid"),
        "{err}"
    );
}

#[test]
fn gcm_known_answers_with_truncated_tags() {
    // McGrew & Viega GCM test cases 4, 10 and 16 (the NIST GCM specification's vectors).
    let p = unhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
         1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    let aad = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let iv: [u8; 12] = unhex("cafebabefacedbaddecaf888").try_into().unwrap();
    let k = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    let ciphertexts = [
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
         21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
        "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c\
         7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
         8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    ];
    let tags = [
        "5bc94fbc3221a5db94fae95ae7121a47",
        "2519498e80f1478f37ba55bd6d27618c",
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ];
    let cases = [32, 48, 64].into_iter().zip(ciphertexts).zip(tags);
    for ((hex_len, c), t) in cases {
        let (key, c, t) = (unhex(&k[..hex_len]), unhex(c), unhex(t));
        let material = aes_key(&key);
        for tag_len in [8, 12, 16] {
            let expected = [&c[..], &t[..tag_len]].concat();
            assert_eq!(gcm_seal(&key, iv, &aad, &p, tag_len).unwrap(), expected);
            assert_eq!(gcm_open(&key, iv, &aad, &expected, tag_len).unwrap(), p);
            let bits = tag_len * 8;
            let plain = aes_gcm_decrypt(&material, &iv, &expected, &aad, bits).unwrap();
            assert_eq!(plain, p);
            let bad_aad = aes_gcm_decrypt(&material, &iv, &expected, &aad[1..], bits);
            assert_err!(bad_aad, CryptoError::Decrypt { .. }, "AAD");
        }
    }
}

#[test]
fn tampered_or_truncated_blobs_fail() {
    let payload = payloads().swap_remove(2);
    let other_rsa = KeyMaterial::Private(generate_rsa(&mut entropy(908), 2048, 65537).unwrap());
    let other_aes = aes(24, 8);
    for m in mechanisms() {
        let (w, u) = keys_for(&m, 24);
        let out = wrap_key(&m, &w, &payload, &mut entropy(907)).unwrap();
        let iv = gcm_iv(&out);
        for at in [0, out.data.len() / 2, out.data.len() - 1] {
            let mut bad = out.data.clone();
            bad[at] ^= 0x01;
            let result = unwrap_key(&m, &u, &bad, iv);
            assert_err!(result, CryptoError::Unwrap { .. }, "{m:?} {at}");
        }
        for cut in [&out.data[..out.data.len() - 8], &out.data[..3], &[][..]] {
            assert!(unwrap_key(&m, &u, cut, iv).is_err(), "{m:?}");
        }
        let other = if is_rsa(&m) { &other_rsa } else { &other_aes };
        let result = unwrap_key(&m, other, &out.data, iv);
        assert_err!(result, CryptoError::Unwrap { .. }, "{m:?}");
    }
    // A changed GCM IV or AAD fails too.
    let (m, key) = (gcm(64, &[0x10]), aes(16, 9));
    let out = wrap_key(&m, &key, b"0123456789abcdef", &mut entropy(909)).unwrap();
    let mut iv = out.iv.clone().unwrap();
    iv[0] ^= 1;
    assert!(unwrap_key(&m, &key, &out.data, Some(&iv)).is_err());
    assert!(unwrap_key(&gcm(64, &[0x11]), &key, &out.data, gcm_iv(&out)).is_err());
    assert!(unwrap_key(&gcm(72, &[0x10]), &key, &out.data, gcm_iv(&out)).is_err());
}

#[test]
fn wrong_key_types_are_refused() {
    let (public, private) = rsa();
    let generic = KeyMaterial::Secret(generate_generic_secret(&mut entropy(910), 32).unwrap());
    let ec = generate_ec(&mut entropy(911), Curve::Prime256v1).unwrap();
    let ec_public = KeyMaterial::Public(ec.public_key());
    for m in mechanisms() {
        let (wrong, wrong_unwrap, needed) = if is_rsa(&m) {
            (
                vec![private, &ec_public, &generic],
                public,
                "an RSA private key",
            )
        } else {
            (vec![public, private, &generic], private, "an AES key")
        };
        for key in wrong {
            let result = wrap_key(&m, key, &[1u8; 16], &mut entropy(1));
            assert_err!(result, CryptoError::WrongKeyType { .. }, "{m:?}");
        }
        let iv = matches!(m, WrapMechanism::AesGcm { .. }).then_some(&[0u8; 12][..]);
        let err = unwrap_key(&m, wrong_unwrap, &[0u8; 256], iv).unwrap_err();
        let expected = format!("The {} mechanism needs {needed}.", m.name());
        assert_eq!(err.to_string(), expected);
    }
}

#[test]
fn parameters_are_checked() {
    let (key, mut e) = (aes(32, 12), entropy(912));
    for bits in (64..=128).step_by(8) {
        let m = cloudhsm_gcm(bits, &[]);
        let out = wrap_key(&m, &key, &[3u8; 16], &mut e).unwrap();
        assert_eq!(unwrap_key(&m, &key, &out.data, None).unwrap(), [3u8; 16]);
    }
    for bits in [0, 32, 56, 60, 100, 136, 256] {
        let err = wrap_key(&gcm(bits, &[]), &key, &[3u8; 16], &mut e).unwrap_err();
        assert_eq!(err, CryptoError::TagLength { bits });
    }
    let out = wrap_key(&gcm(128, &[]), &key, &[3u8; 16], &mut e).unwrap();
    for iv in [None, Some(&[0u8; 11][..]), Some(&[0u8; 16][..])] {
        let result = unwrap_key(&gcm(128, &[]), &key, &out.data, iv);
        assert_err!(result, CryptoError::Iv { .. }, "{iv:?}");
    }
    let result = unwrap_key(&WrapMechanism::AesNoPad, &key, &[0; 24], Some(&[0; 12]));
    assert_err!(result, CryptoError::Iv { .. }, "aes-no-pad with an IV");
    // Payload lengths at the limits.
    let (public, _) = rsa();
    let oaep256 = oaep(HashFunction::Sha256, HashFunction::Sha256);
    let cases: [(&WrapMechanism, &KeyMaterial, usize, bool); 9] = [
        (&WrapMechanism::AesNoPad, &key, 15, false),
        (&WrapMechanism::AesNoPad, &key, 8, false),
        (&WrapMechanism::AesNoPad, &key, 16, true),
        (&WrapMechanism::AesPkcs5Pad, &key, 7, false),
        (&WrapMechanism::AesPkcs5Pad, &key, 8, true),
        (&oaep256, public, 190, true),
        (&oaep256, public, 191, false),
        (&WrapMechanism::RsaPkcs, public, 245, true),
        (&WrapMechanism::RsaPkcs, public, 246, false),
    ];
    for (m, k, len, ok) in cases {
        let result = wrap_key(m, k, &vec![9u8; len], &mut e);
        if ok {
            assert!(result.is_ok(), "{m:?} {len}");
        } else {
            assert_err!(result, CryptoError::PayloadLength { .. }, "{m:?} {len}");
        }
    }
    for m in mechanisms() {
        let k = if is_rsa(&m) { public } else { &key };
        let result = wrap_key(&m, k, &[], &mut e);
        assert_err!(result, CryptoError::PayloadLength { .. }, "{m:?}");
    }
}

#[test]
fn seeded_entropy_gives_repeatable_blobs() {
    for m in mechanisms() {
        let (k, _) = keys_for(&m, 32);
        let wrap = |seed| wrap_key(&m, &k, &[5u8; 32], &mut entropy(seed)).unwrap();
        assert_eq!(wrap(20), wrap(20), "{m:?}");
        let deterministic = matches!(
            m,
            WrapMechanism::AesNoPad | WrapMechanism::AesPkcs5Pad | WrapMechanism::AesZeroPad
        );
        assert_eq!(wrap(20) == wrap(21), deterministic, "{m:?}");
    }
    let key = aes(32, 13);
    let enc = |seed| aes_gcm_encrypt(&key, b"data", b"aad", 128, &mut entropy(seed)).unwrap();
    assert_eq!(enc(3), enc(3));
    assert_ne!(enc(3), enc(4));
}
