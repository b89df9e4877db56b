//! ECDSA on the Weierstrass curves through the RustCrypto curve crates (p224, p256, p384,
//! k256, p521): one table of operations per curve, on raw scalars, points and r || s.

use super::ec::Curve;

/// A fallible operation of a curve crate; the error is a detail text.
type Op<T> = Result<T, String>;

/// The operations one RustCrypto curve crate provides.
pub(crate) struct EcdsaOps {
    /// Uncompressed public point of a private scalar.
    pub(crate) public_point: fn(&[u8]) -> Op<Vec<u8>>,
    /// A validated public point (compressed or not), returned uncompressed.
    pub(crate) normalize_point: fn(&[u8]) -> Op<Vec<u8>>,
    /// Deterministic (RFC 6979) signature over a hash value, as r || s.
    pub(crate) sign: fn(&[u8], &[u8]) -> Op<Vec<u8>>,
    /// Whether r || s is a valid signature of the hash value under the point.
    pub(crate) verify: fn(&[u8], &[u8], &[u8]) -> bool,
    /// PKCS#8 DER of a private scalar.
    pub(crate) to_pkcs8: fn(&[u8]) -> Op<Vec<u8>>,
    /// Private scalar from PKCS#8 DER.
    pub(crate) from_pkcs8: fn(&[u8]) -> Op<Vec<u8>>,
    /// The ECDH shared secret of a private scalar and a peer's point (compressed or not):
    /// the x-coordinate of their product (SEC 1 §3.3.1).
    pub(crate) ecdh: fn(&[u8], &[u8]) -> Op<Vec<u8>>,
}

macro_rules! ecdsa_ops {
    ($module:ident, $krate:ident) => {
        mod $module {
            use ::$krate::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
            use ::$krate::ecdsa::{Signature, SigningKey, VerifyingKey};
            use ::$krate::SecretKey;
            use pkcs8::{DecodePrivateKey, EncodePrivateKey};

            pub(super) const OPS: super::EcdsaOps = super::EcdsaOps {
                public_point,
                normalize_point,
                sign,
                verify,
                to_pkcs8,
                from_pkcs8,
                ecdh,
            };

            fn public_point(secret: &[u8]) -> Result<Vec<u8>, String> {
                let key = SigningKey::from_slice(secret).map_err(|e| e.to_string())?;
                Ok(key.verifying_key().to_sec1_point(false).as_bytes().to_vec())
            }

            fn normalize_point(point: &[u8]) -> Result<Vec<u8>, String> {
                let key = VerifyingKey::from_sec1_bytes(point)
                    .map_err(|_| "the point is not on the curve".to_string())?;
                Ok(key.to_sec1_point(false).as_bytes().to_vec())
            }

            fn sign(secret: &[u8], hash_value: &[u8]) -> Result<Vec<u8>, String> {
                let key = SigningKey::from_slice(secret).map_err(|e| e.to_string())?;
                let sig: Signature = key.sign_prehash(hash_value).map_err(|e| e.to_string())?;
                Ok(sig.to_bytes().to_vec())
            }

            fn verify(point: &[u8], hash_value: &[u8], sig: &[u8]) -> bool {
                let (Ok(key), Ok(sig)) = (
                    VerifyingKey::from_sec1_bytes(point),
                    Signature::from_slice(sig),
                ) else {
                    return false;
                };
                // Accept both s and n - s: OpenSSL does not normalise s, secp256k1 here does.
                key.verify_prehash(hash_value, &sig.normalize_s()).is_ok()
            }

            fn to_pkcs8(secret: &[u8]) -> Result<Vec<u8>, String> {
                let key = SecretKey::from_slice(secret).map_err(|e| e.to_string())?;
                let doc = key.to_pkcs8_der().map_err(|e| e.to_string())?;
                Ok(doc.as_bytes().to_vec())
            }

            fn from_pkcs8(der: &[u8]) -> Result<Vec<u8>, String> {
                let key = SecretKey::from_pkcs8_der(der).map_err(|e| e.to_string())?;
                Ok(key.to_bytes().to_vec())
            }

            fn ecdh(secret: &[u8], point: &[u8]) -> Result<Vec<u8>, String> {
                use ::$krate::elliptic_curve::point::AffineCoordinates;
                let secret = SecretKey::from_slice(secret).map_err(|e| e.to_string())?;
                let peer = ::$krate::PublicKey::from_sec1_bytes(point)
                    .map_err(|_| "the point is not on the curve".to_string())?;
                let shared = (peer.to_projective() * *secret.to_nonzero_scalar()).to_affine();
                Ok(shared.x().to_vec())
            }
        }
    };
}

ecdsa_ops!(p224_ops, p224);
ecdsa_ops!(p256_ops, p256);
ecdsa_ops!(p384_ops, p384);
ecdsa_ops!(k256_ops, k256);
ecdsa_ops!(p521_ops, p521);

/// The operations of `curve`; `None` for Ed25519.
pub(crate) fn ops(curve: Curve) -> Option<&'static EcdsaOps> {
    match curve {
        Curve::Secp224r1 => Some(&p224_ops::OPS),
        Curve::Prime256v1 | Curve::Secp256r1 => Some(&p256_ops::OPS),
        Curve::Secp384r1 => Some(&p384_ops::OPS),
        Curve::Secp256k1 => Some(&k256_ops::OPS),
        Curve::Secp521r1 => Some(&p521_ops::OPS),
        Curve::Ed25519 => None,
    }
}
