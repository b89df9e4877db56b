//! PEM and PKCS#8: round trips, cross-checks with AWS-LC, and clear errors for bad input.

use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, PqdsaKeyPair, RsaKeyPair,
    ECDSA_P256K1_SHA256_FIXED_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P521_SHA512_FIXED_SIGNING, ML_DSA_44_SIGNING,
    ML_DSA_65_SIGNING, ML_DSA_87_SIGNING,
};

use super::entropy;
use crate::hsm::crypto::der;
use crate::hsm::crypto::*;

fn every_pair() -> Vec<PrivateKey> {
    let mut e = entropy(50);
    let mut pairs = vec![generate_rsa(&mut e, 2048, 65537).unwrap()];
    for curve in CURVES {
        pairs.push(generate_ec(&mut e, curve).unwrap());
    }
    for algorithm in ML_DSA_ALGORITHMS {
        pairs.push(generate_ml_dsa(&mut e, algorithm).unwrap());
    }
    pairs
}

#[test]
fn pem_round_trip_for_every_key_type() {
    for pair in every_pair() {
        let public = pair.public_key();
        let pem = public.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"), "{pem}");
        let back = PublicKey::from_pem(pem.as_bytes()).unwrap();
        // P-256 keys come back under the OpenSSL name; all else is identical.
        assert_eq!(back.to_spki_der(), public.to_spki_der());
        assert_eq!(back.check_value(), public.check_value());
        // Surrounding text and CRLF line ends are tolerated.
        let noisy = format!(
            "Public key of the test:\r\n{}\r\ntrailer\n",
            pem.replace('\n', "\r\n")
        );
        assert_eq!(PublicKey::from_pem(noisy.as_bytes()).unwrap(), back);
    }
}

#[test]
fn pkcs1_rsa_public_key_pem_is_accepted() {
    let pair = generate_rsa(&mut entropy(51), 2048, 65537).unwrap();
    let PublicKey::Rsa(public) = pair.public_key() else {
        panic!("not RSA")
    };
    let pem = pkcs8::der::pem::encode_string(
        "RSA PUBLIC KEY",
        pkcs8::der::pem::LineEnding::LF,
        &public.pkcs1_der(),
    )
    .unwrap();
    assert_eq!(
        PublicKey::from_pem(pem.as_bytes()).unwrap(),
        PublicKey::Rsa(public)
    );
}

#[test]
fn pem_errors_are_clear() {
    let pair = generate_ec(&mut entropy(52), Curve::Prime256v1).unwrap();
    let private_pem = pkcs8::der::pem::encode_string(
        "PRIVATE KEY",
        pkcs8::der::pem::LineEnding::LF,
        &pair.to_pkcs8_der(),
    )
    .unwrap();
    let err = PublicKey::from_pem(private_pem.as_bytes()).unwrap_err();
    assert_eq!(err, CryptoError::PrivateKeyPem);
    assert_eq!(
        err.to_string(),
        "The PEM file holds a private key; only public keys can be imported from PEM."
    );
    let both = format!("{}{}", pair.public_key().to_pem().unwrap(), private_pem);
    assert_eq!(
        PublicKey::from_pem(both.as_bytes()).unwrap_err(),
        CryptoError::PrivateKeyPem
    );
    for label in ["RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"] {
        let pem = format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
        assert_eq!(
            PublicKey::from_pem(pem.as_bytes()).unwrap_err(),
            CryptoError::PrivateKeyPem
        );
    }
    let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_eq!(
        PublicKey::from_pem(cert.as_bytes())
            .unwrap_err()
            .to_string(),
        "The PEM file holds a certificate, not a public key."
    );
    for garbage in [
        &b""[..],
        b"hello",
        b"\xff\xfe\x00garbage",
        b"-----BEGIN PUBLIC KEY-----\n",
    ] {
        let err = PublicKey::from_pem(garbage).unwrap_err();
        assert!(matches!(err, CryptoError::NotPem { .. }), "{err:?}");
        assert!(err
            .to_string()
            .starts_with("The file is not a PEM-encoded key"));
    }
    let bad_base64 = "-----BEGIN PUBLIC KEY-----\n!!!notbase64!!!\n-----END PUBLIC KEY-----\n";
    assert!(matches!(
        PublicKey::from_pem(bad_base64.as_bytes()),
        Err(CryptoError::NotPem { .. })
    ));
    let not_spki = pkcs8::der::pem::encode_string(
        "PUBLIC KEY",
        pkcs8::der::pem::LineEnding::LF,
        b"\x30\x03\x02\x01\x00",
    )
    .unwrap();
    assert!(matches!(
        PublicKey::from_pem(not_spki.as_bytes()),
        Err(CryptoError::InvalidKey { .. })
    ));
}

#[test]
fn unsupported_curves_and_algorithms() {
    // brainpoolP256r1 (1.3.36.3.3.2.8.1.1.7) with some point.
    let brainpool = [0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07];
    let spki = der::spki(
        der::OID_EC_PUBLIC_KEY,
        Some(&der::oid(&brainpool)),
        &[4; 65],
    );
    let err = PublicKey::from_spki_der(&spki).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The EC key uses the unsupported curve 1.3.36.3.3.2.8.1.1.7."
    );
    // Explicit curve parameters (a SEQUENCE instead of a named curve).
    let spki = der::spki(der::OID_EC_PUBLIC_KEY, Some(&der::sequence(&[])), &[4; 65]);
    assert!(PublicKey::from_spki_der(&spki)
        .unwrap_err()
        .to_string()
        .contains("explicit"));
    // X25519 (1.3.101.110) is not a signing key.
    let spki = der::spki(&[0x2b, 0x65, 0x6e], None, &[9; 32]);
    assert!(PublicKey::from_spki_der(&spki)
        .unwrap_err()
        .to_string()
        .contains("unsupported algorithm 1.3.101.110"));
    // RSA-1024 is below the HSM's minimum.
    let small = der::spki(
        der::OID_RSA,
        Some(&der::null()),
        &der::sequence(&[
            &der::unsigned_integer(&[0xc3; 128]),
            &der::unsigned_integer(&[1, 0, 1]),
        ]),
    );
    assert!(PublicKey::from_spki_der(&small)
        .unwrap_err()
        .to_string()
        .starts_with("Invalid RSA key"));
    // A wrong-length ML-DSA key.
    let spki = der::spki(der::OID_ML_DSA_44, None, &[0; 1000]);
    assert!(matches!(
        PublicKey::from_spki_der(&spki),
        Err(CryptoError::InvalidKey { .. })
    ));
}

#[test]
fn pkcs8_round_trip_for_every_key_type() {
    for pair in every_pair() {
        let der = pair.to_pkcs8_der();
        let back = PrivateKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(back.to_pkcs8_der(), der);
        assert_eq!(
            back.public_key().to_spki_der(),
            pair.public_key().to_spki_der()
        );
    }
    assert!(PrivateKey::from_pkcs8_der(b"").is_err());
    assert!(PrivateKey::from_pkcs8_der(b"\x30\x00").is_err());
}

/// Our PKCS#8 loads into AWS-LC with the same public key, and AWS-LC's loads into ours.
#[test]
fn pkcs8_interoperates_with_aws_lc() {
    for pair in every_pair() {
        let ours = pair.to_pkcs8_der();
        // (public key as AWS-LC sees it, the same from our side)
        let (theirs, expected): (Vec<u8>, Vec<u8>) = match (&pair, pair.public_key()) {
            (PrivateKey::Rsa(_), PublicKey::Rsa(p)) => {
                let k = RsaKeyPair::from_pkcs8(&ours).unwrap();
                (k.public_key().as_ref().to_vec(), p.pkcs1_der())
            }
            (PrivateKey::Ec(k), PublicKey::Ec(p)) if k.curve() == Curve::Ed25519 => {
                let theirs = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&ours).unwrap();
                let generated = Ed25519KeyPair::generate().unwrap();
                for pkcs8 in [
                    generated.to_pkcs8().unwrap(),
                    generated.to_pkcs8v1().unwrap(),
                ] {
                    let imported = PrivateKey::from_pkcs8_der(pkcs8.as_ref()).unwrap();
                    let PublicKey::Ec(q) = imported.public_key() else {
                        panic!("not EC")
                    };
                    assert_eq!(q.point(), generated.public_key().as_ref());
                }
                (theirs.public_key().as_ref().to_vec(), p.point().to_vec())
            }
            (PrivateKey::Ec(k), PublicKey::Ec(p)) => {
                let alg = match k.curve() {
                    Curve::Prime256v1 | Curve::Secp256r1 => &ECDSA_P256_SHA256_FIXED_SIGNING,
                    Curve::Secp384r1 => &ECDSA_P384_SHA384_FIXED_SIGNING,
                    Curve::Secp521r1 => &ECDSA_P521_SHA512_FIXED_SIGNING,
                    Curve::Secp256k1 => &ECDSA_P256K1_SHA256_FIXED_SIGNING,
                    _ => continue, // secp224r1: AWS-LC has no API for it; see the OpenSSL tests
                };
                let theirs = EcdsaKeyPair::from_pkcs8(alg, &ours).unwrap();
                let generated = EcdsaKeyPair::generate(alg).unwrap();
                let pkcs8 = generated.to_pkcs8v1().unwrap();
                let imported = PrivateKey::from_pkcs8_der(pkcs8.as_ref()).unwrap();
                let PublicKey::Ec(q) = imported.public_key() else {
                    panic!("not EC")
                };
                assert_eq!(q.point(), generated.public_key().as_ref());
                (theirs.public_key().as_ref().to_vec(), p.point().to_vec())
            }
            (PrivateKey::MlDsa(k), PublicKey::MlDsa(p)) => {
                let alg = match k.algorithm() {
                    MlDsaAlgorithm::MlDsa44 => &ML_DSA_44_SIGNING,
                    MlDsaAlgorithm::MlDsa65 => &ML_DSA_65_SIGNING,
                    MlDsaAlgorithm::MlDsa87 => &ML_DSA_87_SIGNING,
                };
                let theirs = PqdsaKeyPair::from_pkcs8(alg, &ours).unwrap();
                let generated = PqdsaKeyPair::generate(alg).unwrap();
                let pkcs8 = generated.to_pkcs8v1().unwrap();
                let imported = PrivateKey::from_pkcs8_der(pkcs8.as_ref()).unwrap();
                let PublicKey::MlDsa(q) = imported.public_key() else {
                    panic!("not ML-DSA")
                };
                assert_eq!(q.bytes(), generated.public_key().as_ref());
                (theirs.public_key().as_ref().to_vec(), p.bytes().to_vec())
            }
            _ => panic!("public half of another type"),
        };
        assert_eq!(theirs, expected);
    }
}
