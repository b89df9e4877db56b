//! ML-DSA (FIPS 204) keys: generation from a 32-byte seed drawn from `Entropy`, encodings, and
//! signing of raw messages or externally computed mu (RustCrypto `ml-dsa`; AWS-LC has no
//! external-mu API).

use ml_dsa::{
    EncodedSignature, EncodedVerifyingKey, ExpandedSigningKey, MlDsa44, MlDsa65, MlDsa87,
    MlDsaParams, Seed, Signature, VerifyingKey,
};

use super::der;
use super::error::CryptoError;
use super::material::PrivateKey;
use super::{child_rng, ChildRng};
use crate::hsm::Entropy;
use zeroize::Zeroizing;

/// Length of an ML-DSA seed (the private key in its preferred form).
pub const SEED_LEN: usize = 32;
/// Length of the external mu a caller may sign instead of the message.
pub const MU_LEN: usize = 64;

/// An ML-DSA parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlDsaAlgorithm {
    /// ML-DSA-44 (category 2).
    MlDsa44,
    /// ML-DSA-65 (category 3).
    MlDsa65,
    /// ML-DSA-87 (category 5).
    MlDsa87,
}

/// Every parameter set, in the CLI's order.
pub const ML_DSA_ALGORITHMS: [MlDsaAlgorithm; 3] = [
    MlDsaAlgorithm::MlDsa44,
    MlDsaAlgorithm::MlDsa65,
    MlDsaAlgorithm::MlDsa87,
];

impl MlDsaAlgorithm {
    /// The parameter set the CLI calls `name` (`ML-DSA-44`, `ML-DSA-65`, `ML-DSA-87`).
    pub fn from_name(name: &str) -> Result<MlDsaAlgorithm, CryptoError> {
        ML_DSA_ALGORITHMS
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| CryptoError::UnsupportedMlDsa {
                name: name.to_string(),
            })
    }

    /// The CLI name, as printed in the `mldsa-algorithm` attribute.
    pub fn name(self) -> &'static str {
        match self {
            MlDsaAlgorithm::MlDsa44 => "ML-DSA-44",
            MlDsaAlgorithm::MlDsa65 => "ML-DSA-65",
            MlDsaAlgorithm::MlDsa87 => "ML-DSA-87",
        }
    }

    /// FIPS 204 encoded public key size in bytes.
    pub fn public_key_len(self) -> usize {
        match self {
            MlDsaAlgorithm::MlDsa44 => 1312,
            MlDsaAlgorithm::MlDsa65 => 1952,
            MlDsaAlgorithm::MlDsa87 => 2592,
        }
    }

    /// FIPS 204 encoded (expanded) private key size in bytes.
    pub fn private_key_len(self) -> usize {
        match self {
            MlDsaAlgorithm::MlDsa44 => 2560,
            MlDsaAlgorithm::MlDsa65 => 4032,
            MlDsaAlgorithm::MlDsa87 => 4896,
        }
    }

    /// The stable identifier used in stored key blobs.
    pub(crate) fn id(self) -> u8 {
        match self {
            MlDsaAlgorithm::MlDsa44 => 1,
            MlDsaAlgorithm::MlDsa65 => 2,
            MlDsaAlgorithm::MlDsa87 => 3,
        }
    }

    /// The parameter set with blob identifier `id`.
    pub(crate) fn from_id(id: u8) -> Option<MlDsaAlgorithm> {
        ML_DSA_ALGORITHMS.into_iter().find(|a| a.id() == id)
    }

    /// DER content of the algorithm OID.
    pub(crate) fn oid(self) -> &'static [u8] {
        match self {
            MlDsaAlgorithm::MlDsa44 => der::OID_ML_DSA_44,
            MlDsaAlgorithm::MlDsa65 => der::OID_ML_DSA_65,
            MlDsaAlgorithm::MlDsa87 => der::OID_ML_DSA_87,
        }
    }

    /// The parameter set whose algorithm OID has DER content `oid`.
    pub(crate) fn from_oid(oid: &[u8]) -> Option<MlDsaAlgorithm> {
        ML_DSA_ALGORITHMS.into_iter().find(|a| a.oid() == oid)
    }
}

/// The public half of an ML-DSA key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlDsaPublicKey {
    algorithm: MlDsaAlgorithm,
    bytes: Vec<u8>,
}

/// The private half of an ML-DSA key pair: its seed (it also carries the public half).
#[derive(Clone, PartialEq, Eq)]
pub struct MlDsaPrivateKey {
    /// Zeroed when dropped.
    seed: Zeroizing<[u8; SEED_LEN]>,
    public: MlDsaPublicKey,
}

impl std::fmt::Debug for MlDsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlDsaPrivateKey")
            .field("algorithm", &self.public.algorithm)
            .finish_non_exhaustive()
    }
}

/// What is signed or verified: the message, or the 64-byte mu computed outside the HSM.
#[derive(Clone, Copy)]
pub(crate) enum MlDsaInput<'a> {
    Message(&'a [u8]),
    Mu(&'a [u8]),
}

/// A new ML-DSA key pair whose 32-byte seed is drawn from `entropy`.
pub fn generate_ml_dsa(
    entropy: &mut Entropy,
    algorithm: MlDsaAlgorithm,
) -> Result<PrivateKey, CryptoError> {
    let mut seed = [0u8; SEED_LEN];
    entropy.fill(&mut seed);
    Ok(PrivateKey::MlDsa(MlDsaPrivateKey::from_seed(
        algorithm, seed,
    )))
}

fn public_from_seed<P: MlDsaParams>(seed: [u8; SEED_LEN]) -> Vec<u8> {
    let key = ExpandedSigningKey::<P>::from_seed(&Seed::from(seed));
    key.verifying_key().encode().to_vec()
}

fn sign<P: MlDsaParams>(
    seed: [u8; SEED_LEN],
    input: MlDsaInput<'_>,
    rng: &mut ChildRng,
) -> Result<Vec<u8>, CryptoError> {
    let key = ExpandedSigningKey::<P>::from_seed(&Seed::from(seed));
    let failed = |_| CryptoError::failed("ML-DSA signing failed");
    let sig = match input {
        MlDsaInput::Message(m) => key.sign_randomized(m, &[], rng).map_err(failed)?,
        MlDsaInput::Mu(mu) => {
            let mu = mu.try_into().map_err(|_| CryptoError::DigestLength {
                hash: "external-mu",
                expected: MU_LEN,
                actual: mu.len(),
            })?;
            key.sign_mu_randomized(&mu, rng).map_err(failed)?
        }
    };
    Ok(sig.encode().to_vec())
}

fn verify<P: MlDsaParams>(public: &[u8], input: MlDsaInput<'_>, sig: &[u8]) -> bool {
    let (Ok(encoded_key), Ok(encoded_sig)) = (
        EncodedVerifyingKey::<P>::try_from(public),
        EncodedSignature::<P>::try_from(sig),
    ) else {
        return false;
    };
    let Some(sig) = Signature::<P>::decode(&encoded_sig) else {
        return false;
    };
    let key = VerifyingKey::<P>::decode(&encoded_key);
    match input {
        MlDsaInput::Message(m) => key.verify_with_context(m, &[], &sig),
        MlDsaInput::Mu(mu) => match mu.try_into() {
            Ok(mu) => key.verify_mu(&mu, &sig),
            Err(_) => false,
        },
    }
}

impl MlDsaPublicKey {
    /// A public key of parameter set `algorithm` from its FIPS 204 encoding.
    pub(crate) fn from_bytes(algorithm: MlDsaAlgorithm, bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != algorithm.public_key_len() {
            return Err(CryptoError::invalid(
                "ML-DSA public",
                format!(
                    "an {} public key is {} bytes long, not {}",
                    algorithm.name(),
                    algorithm.public_key_len(),
                    bytes.len()
                ),
            ));
        }
        Ok(MlDsaPublicKey {
            algorithm,
            bytes: bytes.to_vec(),
        })
    }

    /// The parameter set.
    pub fn algorithm(&self) -> MlDsaAlgorithm {
        self.algorithm
    }

    /// The FIPS 204 encoded public key.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The SubjectPublicKeyInfo DER encoding (RFC 9881).
    pub(crate) fn spki_der(&self) -> Vec<u8> {
        der::spki(self.algorithm.oid(), None, &self.bytes)
    }

    /// Whether `sig` is a valid ML-DSA signature (empty context) of `input`.
    pub(crate) fn verify(&self, input: MlDsaInput<'_>, sig: &[u8]) -> bool {
        match self.algorithm {
            MlDsaAlgorithm::MlDsa44 => verify::<MlDsa44>(&self.bytes, input, sig),
            MlDsaAlgorithm::MlDsa65 => verify::<MlDsa65>(&self.bytes, input, sig),
            MlDsaAlgorithm::MlDsa87 => verify::<MlDsa87>(&self.bytes, input, sig),
        }
    }
}

impl MlDsaPrivateKey {
    /// The key pair of parameter set `algorithm` derived from `seed` (FIPS 204 KeyGen).
    pub(crate) fn from_seed(algorithm: MlDsaAlgorithm, seed: [u8; SEED_LEN]) -> Self {
        let bytes = match algorithm {
            MlDsaAlgorithm::MlDsa44 => public_from_seed::<MlDsa44>(seed),
            MlDsaAlgorithm::MlDsa65 => public_from_seed::<MlDsa65>(seed),
            MlDsaAlgorithm::MlDsa87 => public_from_seed::<MlDsa87>(seed),
        };
        MlDsaPrivateKey {
            seed: Zeroizing::new(seed),
            public: MlDsaPublicKey { algorithm, bytes },
        }
    }

    /// A private key from the `privateKey` field of its PKCS#8 encoding (seed form, RFC 9881).
    pub(crate) fn from_pkcs8_private_key(
        algorithm: MlDsaAlgorithm,
        private_key: &[u8],
    ) -> Result<Self, CryptoError> {
        match private_key {
            [0x80, 0x20, seed @ ..] => {
                let seed = <[u8; SEED_LEN]>::try_from(seed)
                    .map_err(|_| CryptoError::invalid("ML-DSA private", "bad seed length"))?;
                Ok(Self::from_seed(algorithm, seed))
            }
            _ => Err(CryptoError::invalid(
                "ML-DSA private",
                "only the seed form of an ML-DSA private key is supported",
            )),
        }
    }

    /// The parameter set.
    pub fn algorithm(&self) -> MlDsaAlgorithm {
        self.public.algorithm
    }

    /// The public half.
    pub fn public_key(&self) -> &MlDsaPublicKey {
        &self.public
    }

    /// The 32-byte seed.
    pub(crate) fn seed(&self) -> &[u8; SEED_LEN] {
        &self.seed
    }

    /// The PKCS#8 PrivateKeyInfo DER encoding, seed form (RFC 9881).
    pub(crate) fn pkcs8_der(&self) -> Vec<u8> {
        der::sequence(&[
            &der::unsigned_integer(&[]),
            &der::sequence(&[&der::oid(self.algorithm().oid())]),
            &der::octet_string(&der::tlv(0x80, &self.seed[..])),
        ])
    }

    /// A hedged ML-DSA signature (empty context) of `input`; its randomness comes from
    /// `entropy`, so a seeded `Entropy` always yields the same signature.
    pub(crate) fn sign(
        &self,
        input: MlDsaInput<'_>,
        entropy: &mut Entropy,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut rng = child_rng(entropy);
        match self.algorithm() {
            MlDsaAlgorithm::MlDsa44 => sign::<MlDsa44>(*self.seed, input, &mut rng),
            MlDsaAlgorithm::MlDsa65 => sign::<MlDsa65>(*self.seed, input, &mut rng),
            MlDsaAlgorithm::MlDsa87 => sign::<MlDsa87>(*self.seed, input, &mut rng),
        }
    }
}
