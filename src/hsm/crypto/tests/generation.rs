//! Key generation: every size and curve, validation errors, determinism under a seed.

use super::entropy;
use crate::hsm::crypto::*;

#[test]
fn aes_every_length_and_rejects_others() {
    for len in AES_KEY_LENGTHS {
        let key = generate_aes(&mut entropy(1), len).unwrap();
        assert_eq!(key.kind(), SecretKind::Aes);
        assert_eq!(key.bytes().len(), len);
    }
    for len in [0, 1, 8, 15, 17, 20, 31, 33, 64] {
        let err = generate_aes(&mut entropy(1), len).unwrap_err();
        assert_eq!(err, CryptoError::AesKeyLength { len });
        assert_eq!(
            err.to_string(),
            format!("Invalid AES key length {len}: an AES key is 16, 24 or 32 bytes long.")
        );
    }
}

#[test]
fn generic_secret_lengths() {
    for len in [1, 2, 16, 256, 799, 800] {
        let key = generate_generic_secret(&mut entropy(2), len).unwrap();
        assert_eq!(key.kind(), SecretKind::GenericSecret);
        assert_eq!(key.bytes().len(), len);
    }
    for len in [0, 801, 4096] {
        let err = generate_generic_secret(&mut entropy(2), len).unwrap_err();
        assert_eq!(err, CryptoError::GenericSecretLength { len });
        assert!(err.to_string().contains("1 to 800 bytes"), "{err}");
    }
}

#[test]
fn rsa_sizes_and_exponents_are_validated_before_any_work() {
    for bits in [0, 1024, 1536, 2047, 2049, 2100, 2560 + 8, 4097, 4352, 8192] {
        let err = generate_rsa(&mut entropy(3), bits, 65537).unwrap_err();
        assert_eq!(err, CryptoError::ModulusSize { bits });
        assert!(err.to_string().contains("2048 to 4096 bits"), "{err}");
    }
    for e in [
        0,
        1,
        3,
        17,
        65535,
        65536,
        65538,
        1 << 20,
        (1 << 33) + 1,
        u64::MAX,
    ] {
        let err = generate_rsa(&mut entropy(3), 2048, e).unwrap_err();
        assert_eq!(
            err,
            CryptoError::PublicExponent {
                exponent: e.to_string()
            }
        );
        assert!(err.to_string().contains("odd number from 65537"), "{err}");
    }
}

fn rsa_public(key: &PrivateKey) -> RsaPublicKey {
    match key.public_key() {
        PublicKey::Rsa(k) => k,
        other => panic!("not RSA: {other:?}"),
    }
}

#[test]
fn rsa_2048_and_a_larger_size() {
    // 2304 is not one of AWS-LC's own generation sizes: signing must still work with it.
    for bits in [2048, 2304] {
        let key = generate_rsa(&mut entropy(4), bits, 65537).unwrap();
        let public = rsa_public(&key);
        assert_eq!(public.modulus_bits(), bits);
        assert_eq!(public.modulus().len(), bits / 8);
        assert_eq!(public.public_exponent(), &[1, 0, 1]);
        let mech = Mechanism::RsaPkcs {
            hash: HashFunction::Sha256,
            data_type: DataType::Raw,
        };
        let sig = sign(&key, &mech, b"abc", &mut entropy(0)).unwrap();
        assert_eq!(sig.len(), bits / 8);
        assert!(verify(&key.public_key(), &mech, b"abc", &sig).unwrap());
    }
}

#[test]
fn rsa_custom_exponent() {
    let key = generate_rsa(&mut entropy(5), 2048, 65539).unwrap();
    assert_eq!(rsa_public(&key).public_exponent(), &[1, 0, 3]);
}

#[test]
fn rsa_is_deterministic_under_a_seed() {
    let a = generate_rsa(&mut entropy(6), 2048, 65537).unwrap();
    let b = generate_rsa(&mut entropy(6), 2048, 65537).unwrap();
    let c = generate_rsa(&mut entropy(7), 2048, 65537).unwrap();
    let blob = |k: &PrivateKey| KeyMaterial::Private(k.clone()).to_blob();
    assert_eq!(blob(&a), blob(&b));
    assert_ne!(blob(&a), blob(&c));
}

#[test]
fn rsa_generation_draws_a_fixed_amount_of_entropy() {
    // Whatever the prime search consumes, the caller's stream moves on by exactly 32 bytes.
    let mut e1 = entropy(8);
    generate_rsa(&mut e1, 2048, 65537).unwrap();
    let mut e2 = entropy(8);
    let mut skip = [0u8; 32];
    e2.fill(&mut skip);
    assert_eq!(e1.id_chars(16), e2.id_chars(16));
}

#[test]
fn every_curve_generates_with_the_right_point_size() {
    let expected = [
        (Curve::Prime256v1, 65),
        (Curve::Secp256r1, 65),
        (Curve::Secp224r1, 57),
        (Curve::Secp384r1, 97),
        (Curve::Secp256k1, 65),
        (Curve::Secp521r1, 133),
        (Curve::Ed25519, 32),
    ];
    assert_eq!(expected.len(), CURVES.len());
    for (curve, point_len) in expected {
        for seed in 0..4 {
            let key = generate_ec(&mut entropy(seed), curve).unwrap();
            let PublicKey::Ec(public) = key.public_key() else {
                panic!("not EC")
            };
            assert_eq!(public.curve(), curve);
            assert_eq!(public.point().len(), point_len, "{curve:?}");
            if !curve.is_edwards() {
                assert_eq!(public.point().first(), Some(&4));
            }
        }
    }
}

#[test]
fn curve_names() {
    for curve in CURVES {
        assert_eq!(Curve::from_name(curve.name()).unwrap(), curve);
    }
    assert_eq!(Curve::from_name("secp256r1").unwrap(), Curve::Secp256r1);
    assert_eq!(Curve::from_name("prime256v1").unwrap(), Curve::Prime256v1);
    for bad in ["P-256", "secp192r1", "brainpoolP256r1", "", "ED25519"] {
        let err = Curve::from_name(bad).unwrap_err();
        assert!(err
            .to_string()
            .starts_with(&format!("Unsupported elliptic curve {bad}:")));
    }
}

#[test]
fn ec_is_deterministic_under_a_seed() {
    for curve in CURVES {
        let blob =
            |seed| KeyMaterial::Private(generate_ec(&mut entropy(seed), curve).unwrap()).to_blob();
        assert_eq!(blob(11), blob(11), "{curve:?}");
        assert_ne!(blob(11), blob(12), "{curve:?}");
    }
}

#[test]
fn ml_dsa_every_parameter_set() {
    let sizes = [(1312, 2560), (1952, 4032), (2592, 4896)];
    for (algorithm, (public_len, private_len)) in ML_DSA_ALGORITHMS.into_iter().zip(sizes) {
        assert_eq!(
            MlDsaAlgorithm::from_name(algorithm.name()).unwrap(),
            algorithm
        );
        let key = generate_ml_dsa(&mut entropy(13), algorithm).unwrap();
        let PublicKey::MlDsa(public) = key.public_key() else {
            panic!("not ML-DSA")
        };
        assert_eq!(public.bytes().len(), public_len);
        assert_eq!(key.key_length_bytes(), private_len);
        let again = generate_ml_dsa(&mut entropy(13), algorithm).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        let other = generate_ml_dsa(&mut entropy(14), algorithm).unwrap();
        assert_ne!(other.public_key(), key.public_key());
    }
    let err = MlDsaAlgorithm::from_name("ml-dsa-44").unwrap_err();
    assert!(err
        .to_string()
        .contains("ML-DSA-44, ML-DSA-65 and ML-DSA-87"));
}

#[test]
fn secrets_are_deterministic_under_a_seed() {
    let a = generate_aes(&mut entropy(15), 32).unwrap();
    assert_eq!(a, generate_aes(&mut entropy(15), 32).unwrap());
    assert_ne!(a, generate_aes(&mut entropy(16), 32).unwrap());
    let g = generate_generic_secret(&mut entropy(15), 100).unwrap();
    assert_eq!(g, generate_generic_secret(&mut entropy(15), 100).unwrap());
    assert_ne!(g, generate_generic_secret(&mut entropy(16), 100).unwrap());
}

#[test]
fn debug_output_hides_secrets() {
    let aes = generate_aes(&mut entropy(17), 16).unwrap();
    let shown = format!("{aes:?}");
    assert!(!shown.contains(&format!("{:?}", aes.bytes())), "{shown}");
    let ec = generate_ec(&mut entropy(17), Curve::Secp256k1).unwrap();
    assert!(format!("{ec:?}").contains("Secp256k1"));
}
