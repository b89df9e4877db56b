//! Elliptic-curve keys: the CloudHSM curves (including Ed25519, which CloudHSM files under
//! key type `ec`), generation from `Entropy`, encodings, ECDSA and Ed25519/Ed25519ph.

use aws_lc_rs::signature::{Ed25519KeyPair, UnparsedPublicKey, ED25519};

use super::der;
use super::ecdsa::{self, EcdsaOps};
use super::error::CryptoError;
use super::material::PrivateKey;
use crate::hsm::Entropy;
use zeroize::Zeroizing;

/// An elliptic curve of the simulated HSM, named as the CLI names it.
///
/// `prime256v1` and `secp256r1` are the same curve (P-256); both names are kept so that the
/// `curve` attribute can echo the name a key was generated with. Keys read from PEM or PKCS#8
/// get `prime256v1`, the name OpenSSL uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-224.
    Secp224r1,
    /// NIST P-256 under its X9.62 name.
    Prime256v1,
    /// NIST P-256 under its SEC 2 name.
    Secp256r1,
    /// NIST P-384.
    Secp384r1,
    /// The Koblitz curve of Bitcoin.
    Secp256k1,
    /// NIST P-521.
    Secp521r1,
    /// Edwards curve 25519 (EdDSA only; hsm2m.medium in non-FIPS mode).
    Ed25519,
}

/// Every curve, in the order of the CLI's help.
pub const CURVES: [Curve; 7] = [
    Curve::Prime256v1,
    Curve::Secp256r1,
    Curve::Secp224r1,
    Curve::Secp384r1,
    Curve::Secp256k1,
    Curve::Secp521r1,
    Curve::Ed25519,
];

impl Curve {
    /// The curve the CLI calls `name` (as in `--curve` and the `curve` attribute).
    pub fn from_name(name: &str) -> Result<Curve, CryptoError> {
        CURVES
            .into_iter()
            .find(|c| c.name() == name)
            .ok_or_else(|| CryptoError::UnsupportedCurve {
                name: name.to_string(),
            })
    }

    /// The CLI name, as printed in the `curve` attribute.
    pub fn name(self) -> &'static str {
        match self {
            Curve::Secp224r1 => "secp224r1",
            Curve::Prime256v1 => "prime256v1",
            Curve::Secp256r1 => "secp256r1",
            Curve::Secp384r1 => "secp384r1",
            Curve::Secp256k1 => "secp256k1",
            Curve::Secp521r1 => "secp521r1",
            Curve::Ed25519 => "ed25519",
        }
    }

    /// Whether this is the Edwards curve (EdDSA) rather than a Weierstrass curve (ECDSA).
    pub fn is_edwards(self) -> bool {
        self == Curve::Ed25519
    }

    /// The stable identifier used in stored key blobs.
    pub(crate) fn id(self) -> u8 {
        match self {
            Curve::Secp224r1 => 1,
            Curve::Prime256v1 => 2,
            Curve::Secp256r1 => 3,
            Curve::Secp384r1 => 4,
            Curve::Secp256k1 => 5,
            Curve::Secp521r1 => 6,
            Curve::Ed25519 => 7,
        }
    }

    /// The curve with blob identifier `id`.
    pub(crate) fn from_id(id: u8) -> Option<Curve> {
        CURVES.into_iter().find(|c| c.id() == id)
    }

    /// DER content of the named-curve OID (for Ed25519, the algorithm OID).
    pub fn oid(self) -> &'static [u8] {
        match self {
            Curve::Secp224r1 => der::OID_SECP224R1,
            Curve::Prime256v1 | Curve::Secp256r1 => der::OID_PRIME256V1,
            Curve::Secp384r1 => der::OID_SECP384R1,
            Curve::Secp256k1 => der::OID_SECP256K1,
            Curve::Secp521r1 => der::OID_SECP521R1,
            Curve::Ed25519 => der::OID_ED25519,
        }
    }

    /// The Weierstrass curve whose named-curve OID has DER content `oid`.
    pub(crate) fn from_named_curve_oid(oid: &[u8]) -> Option<Curve> {
        [
            Curve::Secp224r1,
            Curve::Prime256v1,
            Curve::Secp384r1,
            Curve::Secp256k1,
            Curve::Secp521r1,
        ]
        .into_iter()
        .find(|c| c.oid() == oid)
    }

    /// The curve whose OID (named curve, or Ed25519's algorithm OID) has DER content `oid`:
    /// what a PKCS#11 `CKA_EC_PARAMS` names. P-256 is `prime256v1`, the name OpenSSL uses.
    pub fn from_oid(oid: &[u8]) -> Option<Curve> {
        if oid == der::OID_ED25519 {
            return Some(Curve::Ed25519);
        }
        Curve::from_named_curve_oid(oid)
    }

    /// Length of a private scalar (or Ed25519 seed) in bytes.
    pub fn secret_len(self) -> usize {
        match self {
            Curve::Secp224r1 => 28,
            Curve::Prime256v1 | Curve::Secp256r1 | Curve::Secp256k1 | Curve::Ed25519 => 32,
            Curve::Secp384r1 => 48,
            Curve::Secp521r1 => 66,
        }
    }

    /// The ECDSA operations of a Weierstrass curve; `None` for Ed25519.
    fn ecdsa(self) -> Option<&'static EcdsaOps> {
        ecdsa::ops(self)
    }

    /// [`Curve::ecdsa`], for the other modules of `crypto`.
    pub(crate) fn ecdsa_ops(self) -> Option<&'static EcdsaOps> {
        self.ecdsa()
    }
}

/// The public half of an EC key pair: curve and point (uncompressed `04 || X || Y`; for
/// Ed25519 the 32-byte encoded point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcPublicKey {
    curve: Curve,
    point: Vec<u8>,
}

/// The private half of an EC key pair (it also carries the public half).
#[derive(Clone)]
pub struct EcPrivateKey {
    /// Zeroed when dropped, as is `pkcs8`.
    secret: Zeroizing<Vec<u8>>,
    public: EcPublicKey,
    pkcs8: Zeroizing<Vec<u8>>,
    /// AWS-LC's P-256 signer, loaded on first use (unseeded signing).
    signer: std::sync::Arc<std::sync::OnceLock<Option<aws_lc_rs::signature::EcdsaKeyPair>>>,
}

impl PartialEq for EcPrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.secret == other.secret && self.public == other.public
    }
}

impl Eq for EcPrivateKey {}

impl std::fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcPrivateKey")
            .field("curve", &self.public.curve)
            .finish_non_exhaustive()
    }
}

/// A new key pair on `curve`. The private scalar (or Ed25519 seed) is drawn from `entropy`
/// by rejection sampling, so a seeded `Entropy` always yields the same key.
pub fn generate_ec(entropy: &mut Entropy, curve: Curve) -> Result<PrivateKey, CryptoError> {
    let mut secret = Zeroizing::new(vec![0u8; curve.secret_len()]);
    // P-521 scalars are 521 bits wide: clear the 7 unused top bits so most draws are in range.
    let top_mask = if curve == Curve::Secp521r1 {
        0x01
    } else {
        0xff
    };
    for _ in 0..1000 {
        entropy.fill(&mut secret);
        if let Some(top) = secret.first_mut() {
            *top &= top_mask;
        }
        if let Ok(key) = EcPrivateKey::from_secret(curve, &secret) {
            return Ok(PrivateKey::Ec(key));
        }
    }
    Err(CryptoError::failed("no valid EC private key found"))
}

impl EcPublicKey {
    /// A public key on `curve` from its encoded point, after validation. Weierstrass points
    /// may be compressed; they are kept uncompressed.
    pub(crate) fn from_point(curve: Curve, point: &[u8]) -> Result<Self, CryptoError> {
        let point = match curve.ecdsa() {
            Some(ops) => (ops.normalize_point)(point).map_err(|e| {
                CryptoError::invalid("EC public", format!("{} ({e})", curve.name()))
            })?,
            None => {
                let bytes: [u8; 32] = point.try_into().map_err(|_| {
                    CryptoError::invalid("Ed25519 public", "the key must be 32 bytes long")
                })?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
                    CryptoError::invalid("Ed25519 public", "the point is not on the curve")
                })?;
                bytes.to_vec()
            }
        };
        Ok(EcPublicKey { curve, point })
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The encoded point: `04 || X || Y`, or the 32-byte Ed25519 public key.
    pub fn point(&self) -> &[u8] {
        &self.point
    }

    /// The SubjectPublicKeyInfo DER encoding.
    pub(crate) fn spki_der(&self) -> Vec<u8> {
        if self.curve.is_edwards() {
            der::spki(der::OID_ED25519, None, &self.point)
        } else {
            let params = der::oid(self.curve.oid());
            der::spki(der::OID_EC_PUBLIC_KEY, Some(&params), &self.point)
        }
    }

    /// Whether the raw r || s `sig` is a valid ECDSA signature of `hash_value`.
    pub(crate) fn verify_ecdsa(&self, hash_value: &[u8], sig: &[u8]) -> bool {
        match self.curve.ecdsa() {
            Some(ops) => (ops.verify)(&self.point, hash_value, sig),
            None => false,
        }
    }

    /// Whether `sig` is a valid PureEdDSA (RFC 8032) signature of `message`.
    pub(crate) fn verify_ed25519(&self, message: &[u8], sig: &[u8]) -> bool {
        self.curve.is_edwards()
            && UnparsedPublicKey::new(&ED25519, &self.point)
                .verify(message, sig)
                .is_ok()
    }

    /// Whether `sig` is a valid Ed25519ph signature (empty context) of the SHA-512 `prehash`.
    pub(crate) fn verify_ed25519ph(&self, prehash: &[u8], sig: &[u8]) -> bool {
        let (Ok(point), Ok(sig)) = (
            <[u8; 32]>::try_from(self.point.as_slice()),
            ed25519_dalek::Signature::from_slice(sig),
        ) else {
            return false;
        };
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&point) else {
            return false;
        };
        self.curve.is_edwards()
            && key
                .verify_prehashed(Prehashed::of(prehash), None, &sig)
                .is_ok()
    }
}

impl EcPrivateKey {
    /// A private key on `curve` from its scalar (big-endian, curve width) or Ed25519 seed.
    pub(crate) fn from_secret(curve: Curve, secret: &[u8]) -> Result<Self, CryptoError> {
        if secret.len() != curve.secret_len() {
            return Err(CryptoError::invalid(
                "EC private",
                format!(
                    "a {} private key is {} bytes long",
                    curve.name(),
                    curve.secret_len()
                ),
            ));
        }
        let invalid = |e: String| CryptoError::invalid("EC private", e);
        let (point, pkcs8) = match curve.ecdsa() {
            Some(ops) => (
                (ops.public_point)(secret).map_err(invalid)?,
                (ops.to_pkcs8)(secret).map_err(invalid)?,
            ),
            None => {
                let seed: [u8; 32] = secret
                    .try_into()
                    .map_err(|_| invalid("an Ed25519 seed is 32 bytes long".into()))?;
                let key = ed25519_dalek::SigningKey::from_bytes(&seed);
                let pkcs8 = der::sequence(&[
                    &der::unsigned_integer(&[]),
                    &der::sequence(&[&der::oid(der::OID_ED25519)]),
                    &der::octet_string(&der::octet_string(&seed)),
                ]);
                (key.verifying_key().to_bytes().to_vec(), pkcs8)
            }
        };
        Ok(EcPrivateKey {
            signer: Default::default(),
            secret: Zeroizing::new(secret.to_vec()),
            public: EcPublicKey { curve, point },
            pkcs8: Zeroizing::new(pkcs8),
        })
    }

    /// A private key on the Weierstrass `curve` from PKCS#8 DER.
    pub(crate) fn from_pkcs8_der(curve: Curve, der: &[u8]) -> Result<Self, CryptoError> {
        let ops = curve
            .ecdsa()
            .ok_or_else(|| CryptoError::invalid("EC private", "not a Weierstrass curve"))?;
        let secret = (ops.from_pkcs8)(der).map_err(|e| CryptoError::invalid("EC private", e))?;
        Self::from_secret(curve, &Zeroizing::new(secret))
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.public.curve
    }

    /// The public half.
    pub fn public_key(&self) -> &EcPublicKey {
        &self.public
    }

    /// The private scalar (big-endian, curve width) or Ed25519 seed.
    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The PKCS#8 PrivateKeyInfo DER encoding (RFC 5915 key with its public point).
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// A deterministic (RFC 6979) ECDSA signature of `hash_value`, as raw r || s.
    ///
    /// `repeatable` (a seeded run) signs with RFC 6979 deterministic nonces; otherwise P-256
    /// with SHA-256-sized digests signs through AWS-LC with random nonces, as an HSM does.
    pub(crate) fn sign_ecdsa(
        &self,
        hash_value: &[u8],
        repeatable: bool,
    ) -> Result<Vec<u8>, CryptoError> {
        if !repeatable
            && matches!(self.curve(), Curve::Prime256v1 | Curve::Secp256r1)
            && hash_value.len() == 32
        {
            let pair = self.signer.get_or_init(|| {
                aws_lc_rs::signature::EcdsaKeyPair::from_private_key_der(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &self.pkcs8,
                )
                .ok()
            });
            if let Some(pair) = pair {
                if let Ok(digest) = aws_lc_rs::digest::Digest::import_less_safe(
                    hash_value,
                    &aws_lc_rs::digest::SHA256,
                ) {
                    if let Ok(sig) = pair.sign_digest(&digest) {
                        return Ok(sig.as_ref().to_vec());
                    }
                }
            }
        }
        let ops = self.curve().ecdsa().ok_or(CryptoError::WrongKeyType {
            mechanism: "ecdsa",
            needed: "an EC private key on a Weierstrass curve",
        })?;
        (ops.sign)(&self.secret, hash_value)
            .map_err(|e| CryptoError::failed(format!("ECDSA signing failed ({e})")))
    }

    /// A PureEdDSA (RFC 8032) signature of `message`.
    pub(crate) fn sign_ed25519(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let pair = Ed25519KeyPair::from_seed_unchecked(&self.secret)
            .map_err(|e| CryptoError::failed(format!("Ed25519 key load failed ({e})")))?;
        Ok(pair.sign(message).as_ref().to_vec())
    }

    /// An Ed25519ph (RFC 8032 HashEdDSA, empty context) signature of the SHA-512 `prehash`.
    pub(crate) fn sign_ed25519ph(&self, prehash: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let seed: [u8; 32] = self
            .secret
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::failed("Ed25519 seed has the wrong length"))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let sig = key
            .sign_prehashed(Prehashed::of(prehash), None)
            .map_err(|e| CryptoError::failed(format!("Ed25519ph signing failed ({e})")))?;
        Ok(sig.to_bytes().to_vec())
    }
}

/// A "hash" whose output is a SHA-512 value computed elsewhere, so that `ed25519-dalek`'s
/// prehashed API accepts data of type `digest` (it only needs `finalize`).
#[derive(Default, Clone)]
struct Prehashed(Vec<u8>);

impl Prehashed {
    fn of(prehash: &[u8]) -> Prehashed {
        Prehashed(prehash.to_vec())
    }
}

impl sha2::digest::HashMarker for Prehashed {}

impl sha2::digest::Update for Prehashed {
    fn update(&mut self, data: &[u8]) {
        self.0.extend_from_slice(data);
    }
}

impl sha2::digest::OutputSizeUser for Prehashed {
    type OutputSize = sha2::digest::consts::U64;
}

impl sha2::digest::FixedOutput for Prehashed {
    fn finalize_into(self, out: &mut sha2::digest::Output<Self>) {
        for (o, b) in out.iter_mut().zip(self.0.iter()) {
            *o = *b;
        }
    }
}
