//! Sign and verify with EC keys (ECDSA on every curve, Ed25519, Ed25519ph) and ML-DSA.

use super::signing::{raw, round_trip, DATA};
use super::{entropy, unhex};
use crate::hsm::crypto::ec::EcPrivateKey;
use crate::hsm::crypto::*;

#[test]
fn ecdsa_every_curve_hash_and_data_type() {
    for curve in CURVES.into_iter().filter(|c| !c.is_edwards()) {
        let key = generate_ec(&mut entropy(63), curve).unwrap();
        let width = curve.secret_len();
        for hash in HASH_FUNCTIONS {
            let mut sigs = Vec::new();
            for (data_type, data) in raw(hash) {
                let sig = round_trip(&key, Mechanism::Ecdsa { hash, data_type }, &data, 4);
                assert_eq!(sig.len(), 2 * width, "{curve:?} {hash:?}");
                sigs.push(sig);
            }
            // RFC 6979: deterministic, so raw and digest give the same signature.
            assert_eq!(sigs[0], sigs[1], "{curve:?} {hash:?}");
            let err = sign(
                &key,
                &Mechanism::Ecdsa {
                    hash,
                    data_type: DataType::Digest,
                },
                DATA,
                &mut entropy(0),
            )
            .unwrap_err();
            assert_eq!(
                err,
                CryptoError::DigestLength {
                    hash: hash.name(),
                    expected: hash.output_len(),
                    actual: DATA.len()
                }
            );
        }
    }
}

#[test]
fn ecdsa_accepts_high_s_signatures() {
    // secp256k1 signing normalises s; OpenSSL and others do not, so n - s must verify too.
    let key = generate_ec(&mut entropy(64), Curve::Secp256k1).unwrap();
    let mech = Mechanism::Ecdsa {
        hash: HashFunction::Sha256,
        data_type: DataType::Raw,
    };
    let sig = sign(&key, &mech, DATA, &mut entropy(0)).unwrap();
    let n = unhex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    let s = &sig[32..];
    let mut high_s = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = n[i] as i16 - s[i] as i16 - borrow;
        high_s[i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    let flipped = [&sig[..32], &high_s[..]].concat();
    assert_ne!(flipped, sig);
    assert!(verify(&key.public_key(), &mech, DATA, &flipped).unwrap());
}

#[test]
fn ed25519_rfc8032_test_1() {
    let secret = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    let key = PrivateKey::Ec(EcPrivateKey::from_secret(Curve::Ed25519, &secret).unwrap());
    let PublicKey::Ec(public) = key.public_key() else {
        panic!("not EC")
    };
    assert_eq!(
        public.point(),
        unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    );
    let sig = round_trip(&key, Mechanism::Ed25519, b"", 0);
    assert_eq!(sig, unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"));
}

#[test]
fn ed25519ph_rfc8032_test_vector() {
    let secret = unhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
    let key = PrivateKey::Ec(EcPrivateKey::from_secret(Curve::Ed25519, &secret).unwrap());
    let expected = unhex("98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406");
    let raw_sig = round_trip(
        &key,
        Mechanism::Ed25519ph {
            data_type: DataType::Raw,
        },
        b"abc",
        0,
    );
    assert_eq!(raw_sig, expected);
    let prehash = HashFunction::Sha512.digest(b"abc");
    let digest_sig = round_trip(
        &key,
        Mechanism::Ed25519ph {
            data_type: DataType::Digest,
        },
        &prehash,
        0,
    );
    assert_eq!(digest_sig, expected);
    // Ed25519ph and Ed25519 signatures are not interchangeable.
    assert!(!verify(&key.public_key(), &Mechanism::Ed25519, b"abc", &expected).unwrap());
}

#[test]
fn ed25519_data_limit() {
    let key = generate_ec(&mut entropy(65), Curve::Ed25519).unwrap();
    let max = vec![7u8; ED25519_MAX_DATA];
    round_trip(&key, Mechanism::Ed25519, &max, 0);
    let over = vec![7u8; ED25519_MAX_DATA + 1];
    let err = sign(&key, &Mechanism::Ed25519, &over, &mut entropy(0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The data is 16001 bytes long; ed25519 accepts at most 16000 bytes."
    );
    assert!(verify(&key.public_key(), &Mechanism::Ed25519, &over, &[0; 64]).is_err());
    // Ed25519ph has no such limit.
    round_trip(
        &key,
        Mechanism::Ed25519ph {
            data_type: DataType::Raw,
        },
        &over,
        0,
    );
}

fn mu(public: &MlDsaPublicKey, message: &[u8]) -> Vec<u8> {
    use sha2::digest::Update;
    fn compute<P: ml_dsa::MlDsaParams>(public: &[u8], message: &[u8]) -> Vec<u8> {
        let encoded = ml_dsa::EncodedVerifyingKey::<P>::try_from(public).unwrap();
        let key = ml_dsa::VerifyingKey::<P>::decode(&encoded);
        key.compute_mu(
            |h| {
                h.update(message);
                Ok(())
            },
            &[],
        )
        .unwrap()
        .to_vec()
    }
    match public.algorithm() {
        MlDsaAlgorithm::MlDsa44 => compute::<ml_dsa::MlDsa44>(public.bytes(), message),
        MlDsaAlgorithm::MlDsa65 => compute::<ml_dsa::MlDsa65>(public.bytes(), message),
        MlDsaAlgorithm::MlDsa87 => compute::<ml_dsa::MlDsa87>(public.bytes(), message),
    }
}

#[test]
fn ml_dsa_raw_and_external_mu_and_aws_lc_interop() {
    use aws_lc_rs::signature::{UnparsedPublicKey, ML_DSA_44, ML_DSA_65, ML_DSA_87};
    for algorithm in ML_DSA_ALGORITHMS {
        let key = generate_ml_dsa(&mut entropy(66), algorithm).unwrap();
        let PublicKey::MlDsa(public) = key.public_key() else {
            panic!("not ML-DSA")
        };
        let raw_mech = Mechanism::MlDsa {
            data_type: DataType::Raw,
        };
        let mu_mech = Mechanism::MlDsa {
            data_type: DataType::ExternalMu,
        };
        let sig = round_trip(&key, raw_mech, DATA, 5);
        // AWS-LC verifies our signature (independent implementation).
        let alg = match algorithm {
            MlDsaAlgorithm::MlDsa44 => &ML_DSA_44,
            MlDsaAlgorithm::MlDsa65 => &ML_DSA_65,
            MlDsaAlgorithm::MlDsa87 => &ML_DSA_87,
        };
        assert!(UnparsedPublicKey::new(alg, public.bytes())
            .verify(DATA, &sig)
            .is_ok());
        // A signature over mu is a signature over the message.
        let mu = mu(&public, DATA);
        let mu_sig = round_trip(&key, mu_mech, &mu, 6);
        assert!(verify(&key.public_key(), &raw_mech, DATA, &mu_sig).unwrap());
        assert!(verify(&key.public_key(), &mu_mech, &mu, &sig).unwrap());
        // Hedged with entropy: reproducible under a seed.
        assert_eq!(sig, sign(&key, &raw_mech, DATA, &mut entropy(5)).unwrap());
        assert_ne!(sig, sign(&key, &raw_mech, DATA, &mut entropy(6)).unwrap());
        let err = sign(&key, &mu_mech, DATA, &mut entropy(0)).unwrap_err();
        assert!(
            matches!(err, CryptoError::DigestLength { expected: 64, .. }),
            "{err:?}"
        );
    }
}

#[test]
fn ml_dsa_verifies_aws_lc_signatures() {
    use aws_lc_rs::signature::{PqdsaKeyPair, ML_DSA_65_SIGNING};
    let theirs = PqdsaKeyPair::generate(&ML_DSA_65_SIGNING).unwrap();
    let mut sig = vec![0u8; 3309];
    let len = theirs.sign(DATA, &mut sig).unwrap();
    let key = PrivateKey::from_pkcs8_der(theirs.to_pkcs8v1().unwrap().as_ref()).unwrap();
    let mech = Mechanism::MlDsa {
        data_type: DataType::Raw,
    };
    assert!(verify(&key.public_key(), &mech, DATA, &sig[..len]).unwrap());
}
