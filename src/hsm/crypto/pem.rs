//! Standard encodings of keys: SubjectPublicKeyInfo DER and PEM (for `key generate-file` and
//! `key import pem`) and PKCS#8 PrivateKeyInfo DER (for wrapping and unwrapping).

use pkcs8::der::asn1::{ObjectIdentifier, OctetStringRef};
use pkcs8::der::pem::LineEnding;
use pkcs8::der::Decode;
use pkcs8::{PrivateKeyInfoRef, SubjectPublicKeyInfoRef};

use super::der;
use super::ec::{Curve, EcPrivateKey, EcPublicKey};
use super::error::CryptoError;
use super::material::{PrivateKey, PublicKey};
use super::mldsa::{MlDsaAlgorithm, MlDsaPrivateKey, MlDsaPublicKey};
use super::rsa::{RsaPrivateKey, RsaPublicKey};

/// PEM labels that hold private keys, which `key import pem` refuses.
const PRIVATE_LABELS: [&str; 5] = [
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
];

/// An RSA public key from its PKCS#1 RSAPublicKey DER encoding.
pub(crate) fn rsa_public_from_pkcs1(der: &[u8]) -> Result<RsaPublicKey, CryptoError> {
    let key = ::rsa::pkcs1::RsaPublicKeyRef::from_der(der)
        .map_err(|e| CryptoError::invalid("RSA public", e.to_string()))?;
    RsaPublicKey::from_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())
}

/// The dotted form of an OID given as DER content bytes (for error texts).
fn dotted(content: &[u8]) -> String {
    match ObjectIdentifier::from_bytes(content) {
        Ok(oid) => oid.to_string(),
        Err(_) => format!("0x{}", super::hex(content)),
    }
}

/// The named curve in an id-ecPublicKey AlgorithmIdentifier's parameters.
fn named_curve(parameters: Option<pkcs8::der::AnyRef<'_>>) -> Result<Curve, CryptoError> {
    let oid: ObjectIdentifier = parameters
        .ok_or_else(|| CryptoError::invalid("EC", "the curve parameters are missing"))?
        .decode_as()
        .map_err(|_| {
            CryptoError::invalid(
                "EC",
                "the curve must be given by name (explicit curve parameters are not supported)",
            )
        })?;
    Curve::from_named_curve_oid(oid.as_bytes()).ok_or_else(|| CryptoError::UnsupportedCurveOid {
        oid: oid.to_string(),
    })
}

impl PublicKey {
    /// A public key from its SubjectPublicKeyInfo DER encoding (RSA, EC, Ed25519, ML-DSA).
    pub fn from_spki_der(spki_der: &[u8]) -> Result<PublicKey, CryptoError> {
        let spki = SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|e| {
            CryptoError::invalid("public", format!("not a SubjectPublicKeyInfo ({e})"))
        })?;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| CryptoError::invalid("public", "the key bit string is malformed"))?;
        let algorithm = spki.algorithm.oid.as_bytes();
        if algorithm == der::OID_RSA {
            Ok(PublicKey::Rsa(rsa_public_from_pkcs1(bits)?))
        } else if algorithm == der::OID_EC_PUBLIC_KEY {
            let curve = named_curve(spki.algorithm.parameters)?;
            Ok(PublicKey::Ec(EcPublicKey::from_point(curve, bits)?))
        } else if algorithm == der::OID_ED25519 {
            Ok(PublicKey::Ec(EcPublicKey::from_point(
                Curve::Ed25519,
                bits,
            )?))
        } else if let Some(ml) = MlDsaAlgorithm::from_oid(algorithm) {
            Ok(PublicKey::MlDsa(MlDsaPublicKey::from_bytes(ml, bits)?))
        } else {
            Err(CryptoError::UnsupportedAlgorithm {
                oid: dotted(algorithm),
            })
        }
    }

    /// A public key from a PEM file's bytes: `PUBLIC KEY` (SubjectPublicKeyInfo) or
    /// `RSA PUBLIC KEY` (PKCS#1). Text around the PEM block is ignored; private keys,
    /// certificates and garbage are refused with a clear error.
    pub fn from_pem(pem: &[u8]) -> Result<PublicKey, CryptoError> {
        let text = std::str::from_utf8(pem).map_err(|_| CryptoError::NotPem {
            detail: "the file is not text".into(),
        })?;
        let labels: Vec<&str> = text
            .lines()
            .filter_map(|line| line.trim().strip_prefix("-----BEGIN "))
            .filter_map(|rest| rest.strip_suffix("-----"))
            .collect();
        if labels.iter().any(|l| PRIVATE_LABELS.contains(l)) {
            return Err(CryptoError::PrivateKeyPem);
        }
        let Some(label) = labels
            .iter()
            .find(|l| **l == "PUBLIC KEY" || **l == "RSA PUBLIC KEY")
        else {
            return Err(match labels.first() {
                Some(label) => CryptoError::UnexpectedPem {
                    label: label.to_lowercase(),
                },
                None => CryptoError::NotPem {
                    detail: "no -----BEGIN PUBLIC KEY----- line was found".into(),
                },
            });
        };
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let block = text
            .find(&begin)
            .and_then(|start| {
                let after = text.get(start..)?;
                let stop = after.find(&end)? + end.len();
                after.get(..stop)
            })
            .ok_or_else(|| CryptoError::NotPem {
                detail: format!("the {end} line is missing"),
            })?;
        let (_, der) =
            pkcs8::der::pem::decode_vec(block.as_bytes()).map_err(|e| CryptoError::NotPem {
                detail: format!("the PEM block is malformed ({e})"),
            })?;
        if *label == "RSA PUBLIC KEY" {
            Ok(PublicKey::Rsa(rsa_public_from_pkcs1(&der)?))
        } else {
            Self::from_spki_der(&der)
        }
    }

    /// The SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), as OpenSSL writes it.
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        pkcs8::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.to_spki_der())
            .map_err(|e| CryptoError::failed(format!("PEM encoding failed ({e})")))
    }
}

impl PrivateKey {
    /// The PKCS#8 PrivateKeyInfo DER encoding (v1, without attributes).
    pub fn to_pkcs8_der(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(k) => k.pkcs8_der().to_vec(),
            PrivateKey::Ec(k) => k.pkcs8_der().to_vec(),
            PrivateKey::MlDsa(k) => k.pkcs8_der(),
        }
    }

    /// A private key from PKCS#8 PrivateKeyInfo DER (RSA, EC on every supported curve,
    /// Ed25519, ML-DSA in seed form).
    pub fn from_pkcs8_der(pkcs8_der: &[u8]) -> Result<PrivateKey, CryptoError> {
        let info = PrivateKeyInfoRef::from_der(pkcs8_der)
            .map_err(|e| CryptoError::invalid("private", format!("not PKCS#8 ({e})")))?;
        let algorithm = info.algorithm.oid.as_bytes();
        if algorithm == der::OID_RSA {
            Ok(PrivateKey::Rsa(RsaPrivateKey::from_pkcs8_der(pkcs8_der)?))
        } else if algorithm == der::OID_EC_PUBLIC_KEY {
            let curve = named_curve(info.algorithm.parameters)?;
            Ok(PrivateKey::Ec(EcPrivateKey::from_pkcs8_der(
                curve, pkcs8_der,
            )?))
        } else if algorithm == der::OID_ED25519 {
            let seed = <&OctetStringRef>::from_der(info.private_key.as_bytes()).map_err(|_| {
                CryptoError::invalid("Ed25519 private", "the seed is not an OCTET STRING")
            })?;
            let key = EcPrivateKey::from_secret(Curve::Ed25519, seed.as_bytes())?;
            if let Some(public) = info.public_key.and_then(|p| p.as_bytes()) {
                if public != key.public_key().point() {
                    return Err(CryptoError::invalid(
                        "Ed25519 private",
                        "the public key does not match the private key",
                    ));
                }
            }
            Ok(PrivateKey::Ec(key))
        } else if let Some(ml) = MlDsaAlgorithm::from_oid(algorithm) {
            Ok(PrivateKey::MlDsa(MlDsaPrivateKey::from_pkcs8_private_key(
                ml,
                info.private_key.as_bytes(),
            )?))
        } else {
            Err(CryptoError::UnsupportedAlgorithm {
                oid: dotted(algorithm),
            })
        }
    }
}
