//! Sign and verify: shared helpers, RSA-PKCS and RSA-PSS, refusals and names.

use super::entropy;
use crate::hsm::crypto::*;

pub(super) const DATA: &[u8] = b"abc123";

pub(super) fn raw(hash: HashFunction) -> [(DataType, Vec<u8>); 2] {
    [
        (DataType::Raw, DATA.to_vec()),
        (DataType::Digest, hash.digest(DATA)),
    ]
}

/// Signs, verifies, and checks that a changed message or signature fails.
pub(super) fn round_trip(key: &PrivateKey, mech: Mechanism, data: &[u8], seed: u64) -> Vec<u8> {
    let public = key.public_key();
    let sig = sign(key, &mech, data, &mut entropy(seed)).unwrap();
    assert!(verify(&public, &mech, data, &sig).unwrap(), "{mech:?}");
    let mut bad_sig = sig.clone();
    if let Some(b) = bad_sig.get_mut(sig.len() / 2) {
        *b ^= 0x10;
    }
    assert!(!verify(&public, &mech, data, &bad_sig).unwrap(), "{mech:?}");
    // Change the first byte (ECDSA ignores digest bits beyond the order), but the last of a
    // DigestInfo, so that its header stays well formed.
    let mut bad_data = data.to_vec();
    let digest_info = matches!(
        mech,
        Mechanism::RsaPkcs {
            data_type: DataType::Digest,
            ..
        }
    );
    let at = if digest_info {
        data.len().saturating_sub(1)
    } else {
        0
    };
    match bad_data.get_mut(at) {
        Some(b) => *b ^= 1,
        None => bad_data.push(0),
    }
    assert!(
        !verify(&public, &mech, &bad_data, &sig).unwrap(),
        "{mech:?}"
    );
    for malformed in [
        &[][..],
        &[0u8; 1],
        &sig[1..],
        &[sig.as_slice(), &[0]].concat(),
        &[0xff; 64],
    ] {
        assert!(
            !verify(&public, &mech, data, malformed).unwrap(),
            "{mech:?}"
        );
    }
    sig
}

#[test]
fn rsa_pkcs_every_hash_and_data_type() {
    let key = generate_rsa(&mut entropy(60), 2048, 65537).unwrap();
    for hash in HASH_FUNCTIONS {
        let raw_sig = round_trip(
            &key,
            Mechanism::RsaPkcs {
                hash,
                data_type: DataType::Raw,
            },
            DATA,
            0,
        );
        // PKCS#1 v1.5 is deterministic; a digest is given as a DER DigestInfo.
        let digest_info = [hash.digest_info_prefix(), &hash.digest(DATA)].concat();
        let mech = Mechanism::RsaPkcs {
            hash,
            data_type: DataType::Digest,
        };
        let digest_sig = round_trip(&key, mech, &digest_info, 1);
        assert_eq!(raw_sig, digest_sig, "{hash:?}");
        // A bare digest is refused with a clear error.
        let err = sign(&key, &mech, &hash.digest(DATA), &mut entropy(0)).unwrap_err();
        assert_eq!(err, CryptoError::DigestInfo { hash: hash.name() });
        assert!(err.to_string().contains("DigestInfo"));
    }
}

#[test]
fn rsa_pss_every_hash_salt_and_data_type() {
    let key = generate_rsa(&mut entropy(61), 2048, 65537).unwrap();
    for hash in HASH_FUNCTIONS {
        for salt_length in [0, 10, hash.output_len()] {
            for (data_type, data) in raw(hash) {
                let mech = Mechanism::RsaPkcsPss {
                    hash,
                    mgf: hash,
                    salt_length,
                    data_type,
                };
                let sig = round_trip(&key, mech, &data, 2);
                // The salt length is checked on verification.
                let other = Mechanism::RsaPkcsPss {
                    hash,
                    mgf: hash,
                    salt_length: salt_length + 1,
                    data_type,
                };
                assert!(!verify(&key.public_key(), &other, &data, &sig).unwrap());
            }
        }
    }
    // Salt from entropy: different seeds give different signatures, the same seed the same.
    let mech = Mechanism::RsaPkcsPss {
        hash: HashFunction::Sha256,
        mgf: HashFunction::Sha256,
        salt_length: 10,
        data_type: DataType::Raw,
    };
    let a = sign(&key, &mech, DATA, &mut entropy(1)).unwrap();
    assert_eq!(a, sign(&key, &mech, DATA, &mut entropy(1)).unwrap());
    assert_ne!(a, sign(&key, &mech, DATA, &mut entropy(2)).unwrap());
}

#[test]
fn rsa_pss_refusals() {
    let key = generate_rsa(&mut entropy(62), 2048, 65537).unwrap();
    let mech = Mechanism::RsaPkcsPss {
        hash: HashFunction::Sha256,
        mgf: HashFunction::Sha1,
        salt_length: 10,
        data_type: DataType::Raw,
    };
    assert_eq!(
        sign(&key, &mech, DATA, &mut entropy(0)).unwrap_err(),
        CryptoError::MgfMismatch
    );
    assert_eq!(
        verify(&key.public_key(), &mech, DATA, &[0; 256]).unwrap_err(),
        CryptoError::MgfMismatch
    );
    // 2048-bit key, SHA-512: emLen 256 - 64 - 2 = 190 bytes of salt at most.
    let at = |salt_length| Mechanism::RsaPkcsPss {
        hash: HashFunction::Sha512,
        mgf: HashFunction::Sha512,
        salt_length,
        data_type: DataType::Raw,
    };
    round_trip(&key, at(190), DATA, 3);
    assert_eq!(
        sign(&key, &at(191), DATA, &mut entropy(0)).unwrap_err(),
        CryptoError::SaltLength {
            salt_length: 191,
            max: 190
        }
    );
}

#[test]
fn wrong_key_types_and_data_types_are_refused() {
    let mut e = entropy(67);
    let rsa = generate_rsa(&mut e, 2048, 65537).unwrap();
    let p256 = generate_ec(&mut e, Curve::Prime256v1).unwrap();
    let ed = generate_ec(&mut e, Curve::Ed25519).unwrap();
    let ml = generate_ml_dsa(&mut e, MlDsaAlgorithm::MlDsa44).unwrap();
    let h = HashFunction::Sha256;
    let cases = [
        (
            &p256,
            Mechanism::RsaPkcs {
                hash: h,
                data_type: DataType::Raw,
            },
        ),
        (
            &ml,
            Mechanism::RsaPkcsPss {
                hash: h,
                mgf: h,
                salt_length: 0,
                data_type: DataType::Raw,
            },
        ),
        (
            &rsa,
            Mechanism::Ecdsa {
                hash: h,
                data_type: DataType::Raw,
            },
        ),
        (
            &ed,
            Mechanism::Ecdsa {
                hash: h,
                data_type: DataType::Raw,
            },
        ),
        (&p256, Mechanism::Ed25519),
        (
            &rsa,
            Mechanism::Ed25519ph {
                data_type: DataType::Raw,
            },
        ),
        (
            &p256,
            Mechanism::MlDsa {
                data_type: DataType::Raw,
            },
        ),
    ];
    for (key, mech) in cases {
        let err = sign(key, &mech, DATA, &mut entropy(0)).unwrap_err();
        assert!(matches!(err, CryptoError::WrongKeyType { .. }), "{mech:?}");
        assert!(err
            .to_string()
            .starts_with(&format!("The {} mechanism needs", mech.name())));
        assert!(matches!(
            verify(&key.public_key(), &mech, DATA, &[0; 64]),
            Err(CryptoError::WrongKeyType { .. })
        ));
    }
    let err = sign(
        &p256,
        &Mechanism::Ecdsa {
            hash: h,
            data_type: DataType::ExternalMu,
        },
        DATA,
        &mut entropy(0),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The ecdsa mechanism does not accept data type external-mu."
    );
    let err = sign(
        &ml,
        &Mechanism::MlDsa {
            data_type: DataType::Digest,
        },
        DATA,
        &mut entropy(0),
    )
    .unwrap_err();
    assert!(matches!(err, CryptoError::DataTypeNotSupported { .. }));
}

#[test]
fn names_parse() {
    for hash in HASH_FUNCTIONS {
        assert_eq!(HashFunction::from_name(hash.name()).unwrap(), hash);
        assert_eq!(
            HashFunction::from_name(&format!("mgf1-{}", hash.name())).unwrap(),
            hash
        );
        assert_eq!(hash.digest(b"").len(), hash.output_len());
        assert_eq!(
            hash.digest_info_prefix().len() + hash.output_len(),
            hash.digest_info_prefix()[1] as usize + 2
        );
    }
    assert!(HashFunction::from_name("md5").is_err());
    for dt in [DataType::Raw, DataType::Digest, DataType::ExternalMu] {
        assert_eq!(DataType::from_name(dt.name()).unwrap(), dt);
    }
    assert_eq!(
        DataType::from_name("hex").unwrap_err().to_string(),
        "Unknown data type hex: use raw, digest or external-mu."
    );
}
