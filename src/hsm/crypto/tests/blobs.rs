//! The storage encoding: round trips for every kind, and garbage never panics.

use super::entropy;
use crate::hsm::crypto::*;
use crate::hsm::Entropy;

/// One material of every kind the blob format knows.
fn every_kind() -> Vec<KeyMaterial> {
    let mut e = entropy(40);
    let mut all = vec![
        KeyMaterial::Secret(generate_aes(&mut e, 16).unwrap()),
        KeyMaterial::Secret(generate_aes(&mut e, 32).unwrap()),
        KeyMaterial::Secret(generate_generic_secret(&mut e, 1).unwrap()),
        KeyMaterial::Secret(generate_des3(&mut e).unwrap()),
        KeyMaterial::Secret(generate_generic_secret(&mut e, 800).unwrap()),
    ];
    let mut pairs = vec![generate_rsa(&mut e, 2048, 65537).unwrap()];
    for curve in CURVES {
        pairs.push(generate_ec(&mut e, curve).unwrap());
    }
    for algorithm in ML_DSA_ALGORITHMS {
        pairs.push(generate_ml_dsa(&mut e, algorithm).unwrap());
    }
    for pair in pairs {
        all.push(KeyMaterial::Public(pair.public_key()));
        all.push(KeyMaterial::Private(pair));
    }
    all
}

#[test]
fn every_kind_round_trips() {
    for material in every_kind() {
        let blob = material.to_blob();
        assert_eq!(blob.get(..4), Some(&b"HSMK"[..]));
        assert_eq!(blob.get(4), Some(&BLOB_VERSION));
        let back = KeyMaterial::from_blob(&blob).unwrap();
        assert_eq!(back.to_blob(), blob);
        assert_eq!(back.attributes(), material.attributes());
    }
}

#[test]
fn a_reloaded_private_key_still_signs_like_the_original() {
    let key = generate_ec(&mut entropy(41), Curve::Secp384r1).unwrap();
    let KeyMaterial::Private(back) =
        KeyMaterial::from_blob(&KeyMaterial::Private(key.clone()).to_blob()).unwrap()
    else {
        panic!("not a private key")
    };
    let mech = Mechanism::Ecdsa {
        hash: HashFunction::Sha384,
        data_type: DataType::Raw,
    };
    let a = sign(&key, &mech, b"data", &mut entropy(0)).unwrap();
    let b = sign(&back, &mech, b"data", &mut entropy(0)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn header_errors() {
    let err = |b: &[u8]| KeyMaterial::from_blob(b).unwrap_err();
    assert!(matches!(err(b""), CryptoError::CorruptBlob { .. }));
    assert!(matches!(err(b"HSM"), CryptoError::CorruptBlob { .. }));
    assert!(matches!(
        err(b"XXXX\x01\x01abc"),
        CryptoError::CorruptBlob { .. }
    ));
    assert!(matches!(err(b"HSMK"), CryptoError::CorruptBlob { .. }));
    assert!(matches!(err(b"HSMK\x01"), CryptoError::CorruptBlob { .. }));
    assert_eq!(
        err(b"HSMK\x02\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
        CryptoError::BlobVersion { version: 2 }
    );
    assert!(err(b"HSMK\x01\x63abc")
        .to_string()
        .contains("unknown key kind 99"));
    assert_eq!(
        err(b"").to_string(),
        "The stored key material is damaged: it is not a key blob."
    );
}

#[test]
fn every_truncation_is_handled() {
    for material in every_kind() {
        let blob = material.to_blob();
        for len in 0..blob.len() {
            // A shorter AES or generic secret can still be a valid key; all else must fail.
            let result = KeyMaterial::from_blob(&blob[..len]);
            if let Ok(shorter) = result {
                assert!(matches!(shorter, KeyMaterial::Secret(_)), "{len}");
            }
        }
    }
}

#[test]
fn random_payloads_under_every_tag_never_panic() {
    let mut e = Entropy::new(Some(42));
    for tag in 0..=10u8 {
        for len in [
            0usize, 1, 2, 24, 28, 29, 33, 57, 65, 66, 67, 100, 300, 1217, 1313, 2593,
        ] {
            let mut payload = vec![0u8; len];
            e.fill(&mut payload);
            let blob = [&b"HSMK\x01"[..], &[tag], &payload].concat();
            let _ = KeyMaterial::from_blob(&blob);
            if let Some(first) = payload.first_mut() {
                *first = e.below(8) as u8; // a plausible curve / algorithm id
            }
            let blob = [&b"HSMK\x01"[..], &[tag], &payload].concat();
            let _ = KeyMaterial::from_blob(&blob);
        }
    }
}

#[test]
fn bit_flips_never_panic() {
    for material in every_kind() {
        // RSA private keys are re-encoded with freshly computed CRT values, so only "no panic"
        // is checked for them below.
        let exact = !matches!(material, KeyMaterial::Private(PrivateKey::Rsa(_)));
        let blob = material.to_blob();
        let step = (blob.len() / 97).max(1);
        for i in (0..blob.len()).step_by(step) {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            match KeyMaterial::from_blob(&bad) {
                // Secrets, seeds and scalars take any value; the blob must still be consistent.
                Ok(other) if exact => assert_eq!(other.to_blob(), bad),
                _ => {}
            }
        }
    }
}

#[test]
fn invalid_ec_points_are_rejected() {
    // A point not on the curve, under the EC public tag and P-256 id.
    let mut point = vec![4u8];
    point.extend([1u8; 64]);
    let blob = [&b"HSMK\x01\x05\x02"[..], &point].concat();
    assert!(matches!(
        KeyMaterial::from_blob(&blob),
        Err(CryptoError::CorruptBlob { .. })
    ));
    // A zero scalar under the EC private tag.
    let blob = [&b"HSMK\x01\x06\x02"[..], &[0u8; 32]].concat();
    assert!(KeyMaterial::from_blob(&blob).is_err());
}
