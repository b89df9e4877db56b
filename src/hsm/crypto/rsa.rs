//! RSA keys: generation (pure-Rust `rsa`, seeded from `Entropy`), validation, encodings and the
//! RSA-PKCS (PKCS#1 v1.5) and RSA-PKCS-PSS signature mechanisms.

use ::rsa::pkcs1v15::Pkcs1v15Sign;
use ::rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ::rsa::pss::Pss;
use ::rsa::traits::PublicKeyParts;
use ::rsa::BoxedUint;
use aws_lc_rs::signature::{RsaEncoding, RsaKeyPair};
use sha2::digest::{Digest, FixedOutputReset};
use std::sync::OnceLock;

use super::der;
use super::error::CryptoError;
use super::material::PrivateKey;
use super::sign::HashFunction;
use super::{child_rng, ChildRng};
use crate::hsm::Entropy;
use zeroize::Zeroizing;

/// Smallest RSA modulus the simulated HSM accepts, in bits.
pub const MIN_MODULUS_BITS: usize = 2048;
/// Largest RSA modulus the simulated HSM accepts, in bits.
pub const MAX_MODULUS_BITS: usize = 4096;
/// Generated moduli are a multiple of this many bits.
pub const MODULUS_STEP_BITS: usize = 256;
/// Smallest accepted public exponent.
pub const MIN_PUBLIC_EXPONENT: u64 = 65537;
/// Largest accepted public exponent (33 bits, the limit of AWS-LC and of the `rsa` crate).
pub const MAX_PUBLIC_EXPONENT: u64 = (1 << 33) - 1;

/// The public half of an RSA key pair.
#[derive(Debug, Clone)]
pub struct RsaPublicKey {
    modulus: Vec<u8>,
    exponent: Vec<u8>,
    key: Box<::rsa::PublicKey>,
    /// The AWS-LC form for PKCS#1 v1.5 verification with SHA-1, SHA-256, SHA-384 and SHA-512,
    /// parsed on first use (it then keeps its Montgomery context from one signature to the
    /// next); `None` if AWS-LC refused the key.
    verifiers: Box<[OnceLock<Option<aws_lc_rs::signature::ParsedPublicKey>>; 4]>,
}

impl PartialEq for RsaPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.modulus == other.modulus && self.exponent == other.exponent
    }
}

impl Eq for RsaPublicKey {}

/// The private half of an RSA key pair (it also carries the public half).
#[derive(Clone)]
pub struct RsaPrivateKey {
    /// The `rsa` crate zeroes its key when dropped; `pkcs8` is zeroed here.
    key: Box<::rsa::PrivateKey>,
    pkcs8: Zeroizing<Vec<u8>>,
    public: RsaPublicKey,
    /// The AWS-LC form, loaded on first use (its first signature sets up CRT contexts).
    signer: OnceLock<RsaKeyPair>,
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("modulus_bits", &self.public.modulus_bits())
            .finish_non_exhaustive()
    }
}

/// Checks a public exponent given as a number.
fn check_exponent(exponent: u64) -> Result<(), CryptoError> {
    if exponent % 2 == 1 && (MIN_PUBLIC_EXPONENT..=MAX_PUBLIC_EXPONENT).contains(&exponent) {
        Ok(())
    } else {
        Err(CryptoError::PublicExponent {
            exponent: exponent.to_string(),
        })
    }
}

/// Bit length of the unsigned big-endian number `be` (without leading zero bytes).
fn bit_length(be: &[u8]) -> usize {
    match be.first() {
        Some(top) => be.len() * 8 - top.leading_zeros() as usize,
        None => 0,
    }
}

/// A new RSA key pair with a `modulus_bits`-bit modulus and public exponent `public_exponent`.
///
/// The primes come from a ChaCha20 generator seeded with 32 bytes drawn from `entropy`, so a
/// seeded `Entropy` always yields the same key.
pub fn generate_rsa(
    entropy: &mut Entropy,
    modulus_bits: usize,
    public_exponent: u64,
) -> Result<PrivateKey, CryptoError> {
    if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&modulus_bits)
        || !modulus_bits.is_multiple_of(MODULUS_STEP_BITS)
    {
        return Err(CryptoError::ModulusSize { bits: modulus_bits });
    }
    check_exponent(public_exponent)?;
    let mut rng: ChildRng = child_rng(entropy);
    let key =
        ::rsa::PrivateKey::new_with_exp(&mut rng, modulus_bits, BoxedUint::from(public_exponent))
            .map_err(|e| CryptoError::failed(format!("RSA key generation failed ({e})")))?;
    RsaPrivateKey::from_rsa(key).map(PrivateKey::Rsa)
}

impl RsaPublicKey {
    /// A public key from its modulus and exponent (unsigned big-endian), after validation.
    pub(crate) fn from_components(modulus: &[u8], exponent: &[u8]) -> Result<Self, CryptoError> {
        let n = BoxedUint::from_be_slice_vartime(modulus);
        let e = BoxedUint::from_be_slice_vartime(exponent);
        let key = ::rsa::PublicKey::new_with_size_limits(n, e, MIN_MODULUS_BITS..=MAX_MODULUS_BITS)
            .map_err(|err| {
                CryptoError::invalid(
                    "RSA",
                    format!(
                    "{err}; the modulus must be {MIN_MODULUS_BITS} to {MAX_MODULUS_BITS} bits long"
                ),
                )
            })?;
        Self::from_rsa(key)
    }

    /// Wraps a key of the `rsa` crate after checking the simulator's size and exponent rules.
    fn from_rsa(key: ::rsa::PublicKey) -> Result<Self, CryptoError> {
        let modulus = key.n_bytes().into_vec();
        let exponent = key.e_bytes().into_vec();
        let bits = bit_length(&modulus);
        if !(MIN_MODULUS_BITS..=MAX_MODULUS_BITS).contains(&bits) {
            return Err(CryptoError::invalid(
                "RSA",
                format!(
                    "the modulus is {bits} bits long, but it must be {MIN_MODULUS_BITS} to \
                     {MAX_MODULUS_BITS} bits long"
                ),
            ));
        }
        let e = exponent.iter().try_fold(0u64, |acc, b| {
            acc.checked_mul(256).map(|v| v | u64::from(*b))
        });
        match e {
            Some(e) => check_exponent(e)?,
            None => {
                return Err(CryptoError::PublicExponent {
                    exponent: format!("0x{}", super::hex(&exponent)),
                })
            }
        }
        Ok(RsaPublicKey {
            modulus,
            exponent,
            key: Box::new(key),
            verifiers: Default::default(),
        })
    }

    /// The modulus, unsigned big-endian without leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    /// The public exponent, unsigned big-endian without leading zeros.
    pub fn public_exponent(&self) -> &[u8] {
        &self.exponent
    }

    /// The modulus size in bits.
    pub fn modulus_bits(&self) -> usize {
        bit_length(&self.modulus)
    }

    /// The PKCS#1 RSAPublicKey DER encoding.
    pub(crate) fn pkcs1_der(&self) -> Vec<u8> {
        der::sequence(&[
            &der::unsigned_integer(&self.modulus),
            &der::unsigned_integer(&self.exponent),
        ])
    }

    /// The SubjectPublicKeyInfo DER encoding.
    pub(crate) fn spki_der(&self) -> Vec<u8> {
        der::spki(der::OID_RSA, Some(&der::null()), &self.pkcs1_der())
    }

    /// Verifies a PKCS#1 v1.5 signature over the hash value `hash_value` of function `hash`.
    /// AWS-LC verifies it when it has the hash (about 3× faster than the `rsa` crate's
    /// constant-time public operation, which a public key does not need); SHA-224, and a key
    /// AWS-LC refuses, go to the `rsa` crate.
    pub(crate) fn verify_pkcs1(&self, hash: HashFunction, hash_value: &[u8], sig: &[u8]) -> bool {
        use aws_lc_rs::digest;
        use aws_lc_rs::signature::{self as lc, ParsedPublicKey};
        let aws_lc: Option<(&'static lc::RsaParameters, &'static digest::Algorithm)> = match hash {
            HashFunction::Sha1 => Some((
                &lc::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                &digest::SHA1_FOR_LEGACY_USE_ONLY,
            )),
            HashFunction::Sha224 => None,
            HashFunction::Sha256 => Some((&lc::RSA_PKCS1_2048_8192_SHA256, &digest::SHA256)),
            HashFunction::Sha384 => Some((&lc::RSA_PKCS1_2048_8192_SHA384, &digest::SHA384)),
            HashFunction::Sha512 => Some((&lc::RSA_PKCS1_2048_8192_SHA512, &digest::SHA512)),
        };
        let slot = match hash {
            HashFunction::Sha1 => 0,
            HashFunction::Sha256 => 1,
            HashFunction::Sha384 => 2,
            _ => 3,
        };
        let verifier = aws_lc.and_then(|(parameters, algorithm)| {
            let key = self.verifiers[slot]
                .get_or_init(|| ParsedPublicKey::new(parameters, self.pkcs1_der()).ok())
                .as_ref()?;
            Some((key, algorithm))
        });
        if let Some((key, algorithm)) = verifier {
            return match digest::Digest::import_less_safe(hash_value, algorithm) {
                Ok(digest) => key.verify_digest_sig(&digest, sig).is_ok(),
                // A hash of the wrong length matches no signature.
                Err(_) => false,
            };
        }
        let digest_info = [hash.digest_info_prefix(), hash_value].concat();
        self.key
            .verify(Pkcs1v15Sign::new_unprefixed(), &digest_info, sig)
            .is_ok()
    }

    /// Verifies a PKCS#1 v1.5 signature over `data` as given (no DigestInfo is added).
    pub(crate) fn verify_pkcs1_unhashed(&self, data: &[u8], sig: &[u8]) -> bool {
        self.key
            .verify(Pkcs1v15Sign::new_unprefixed(), data, sig)
            .is_ok()
    }

    /// The longest data a PKCS#1 v1.5 block holds under this key (RFC 8017 §9.2: k - 11).
    pub(crate) fn pkcs1_max_data(&self) -> usize {
        self.modulus.len().saturating_sub(11)
    }

    /// Verifies a PSS signature (MGF1 with `hash`, salt of `salt_length` bytes).
    pub(crate) fn verify_pss(
        &self,
        hash: HashFunction,
        salt_length: usize,
        hash_value: &[u8],
        sig: &[u8],
    ) -> bool {
        fn verify<D: Digest + FixedOutputReset>(
            key: &::rsa::PublicKey,
            salt: usize,
            hashed: &[u8],
            sig: &[u8],
        ) -> bool {
            key.verify(Pss::<D>::new_with_salt(salt), hashed, sig)
                .is_ok()
        }
        let (k, s, h) = (&self.key, salt_length, hash_value);
        match hash {
            HashFunction::Sha1 => verify::<sha1::Sha1>(k, s, h, sig),
            HashFunction::Sha224 => verify::<sha2::Sha224>(k, s, h, sig),
            HashFunction::Sha256 => verify::<sha2::Sha256>(k, s, h, sig),
            HashFunction::Sha384 => verify::<sha2::Sha384>(k, s, h, sig),
            HashFunction::Sha512 => verify::<sha2::Sha512>(k, s, h, sig),
        }
    }

    /// The largest PSS salt this key allows with `hash` (RFC 8017 §9.1.1).
    pub(crate) fn max_pss_salt(&self, hash: HashFunction) -> usize {
        let em_len = self.modulus_bits().saturating_sub(1).div_ceil(8);
        em_len.saturating_sub(hash.output_len() + 2)
    }
}

impl RsaPrivateKey {
    /// Wraps a key of the `rsa` crate after checking the simulator's rules.
    fn from_rsa(key: ::rsa::PrivateKey) -> Result<Self, CryptoError> {
        let public = RsaPublicKey::from_rsa(key.to_public_key())?;
        let pkcs8 = Zeroizing::new(
            key.to_pkcs8_der()
                .map_err(|e| CryptoError::failed(format!("PKCS#8 encoding failed ({e})")))?
                .as_bytes()
                .to_vec(),
        );
        Ok(RsaPrivateKey {
            key: Box::new(key),
            pkcs8,
            public,
            signer: OnceLock::new(),
        })
    }

    /// A private key from its components (unsigned big-endian): modulus, public and private
    /// exponents and the two primes (none: recovered from the exponents); the CRT values are
    /// computed, the whole is validated.
    pub(crate) fn from_components(
        modulus: &[u8],
        public_exponent: &[u8],
        private_exponent: &[u8],
        primes: &[&[u8]],
    ) -> Result<Self, CryptoError> {
        let int = BoxedUint::from_be_slice_vartime;
        let key = ::rsa::PrivateKey::from_components(
            int(modulus),
            int(public_exponent),
            int(private_exponent),
            primes.iter().map(|p| int(p)).collect(),
        )
        .map_err(|e| CryptoError::invalid("RSA private", e.to_string()))?;
        Self::from_rsa(key)
    }

    /// A private key from its PKCS#8 PrivateKeyInfo DER encoding.
    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let key = ::rsa::PrivateKey::from_pkcs8_der(der)
            .map_err(|e| CryptoError::invalid("RSA private", e.to_string()))?;
        key.validate()
            .map_err(|e| CryptoError::invalid("RSA private", e.to_string()))?;
        Self::from_rsa(key)
    }

    /// The public half.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// The PKCS#8 PrivateKeyInfo DER encoding.
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// A PKCS#1 v1.5 signature over the hash value `hash_value` of function `hash`.
    ///
    /// AWS-LC signs SHA-256/384/512 digests (fast); the `rsa` crate signs the DigestInfo for
    /// SHA-1 and SHA-224, which AWS-LC's signing API does not offer. Both are deterministic.
    pub(crate) fn sign_pkcs1(
        &self,
        hash: HashFunction,
        hash_value: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let encoding: Option<&'static dyn RsaEncoding> = match hash {
            HashFunction::Sha256 => Some(&aws_lc_rs::signature::RSA_PKCS1_SHA256),
            HashFunction::Sha384 => Some(&aws_lc_rs::signature::RSA_PKCS1_SHA384),
            HashFunction::Sha512 => Some(&aws_lc_rs::signature::RSA_PKCS1_SHA512),
            HashFunction::Sha1 | HashFunction::Sha224 => None,
        };
        let failed = |_| CryptoError::failed("RSA signing failed");
        match encoding {
            Some(encoding) => {
                let pair = match self.signer.get() {
                    Some(pair) => pair,
                    None => {
                        let pair = RsaKeyPair::from_pkcs8(&self.pkcs8).map_err(|e| {
                            CryptoError::failed(format!("RSA key load failed ({e})"))
                        })?;
                        self.signer.get_or_init(|| pair)
                    }
                };
                let digest =
                    aws_lc_rs::digest::Digest::import_less_safe(hash_value, hash.algorithm())
                        .map_err(failed)?;
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign_digest(encoding, &digest, &mut sig)
                    .map_err(failed)?;
                Ok(sig)
            }
            None => {
                let digest_info = [hash.digest_info_prefix(), hash_value].concat();
                self.key
                    .sign(Pkcs1v15Sign::new_unprefixed(), &digest_info)
                    .map_err(|e| CryptoError::failed(format!("RSA signing failed ({e})")))
            }
        }
    }

    /// A PKCS#1 v1.5 signature over `data` as given (PKCS#11's `CKM_RSA_PKCS`: the caller
    /// brings the DigestInfo, or any block of at most k - 11 bytes).
    pub(crate) fn sign_pkcs1_unhashed(&self, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let max = self.public.pkcs1_max_data();
        if data.len() > max {
            return Err(CryptoError::DataTooLong {
                mechanism: "rsa-pkcs",
                max,
                actual: data.len(),
            });
        }
        self.key
            .sign(Pkcs1v15Sign::new_unprefixed(), data)
            .map_err(|e| CryptoError::failed(format!("RSA signing failed ({e})")))
    }

    /// A PSS signature (MGF1 with `hash`, salt of `salt_length` bytes drawn from `entropy`).
    pub(crate) fn sign_pss(
        &self,
        hash: HashFunction,
        salt_length: usize,
        hash_value: &[u8],
        entropy: &mut Entropy,
    ) -> Result<Vec<u8>, CryptoError> {
        let max = self.public.max_pss_salt(hash);
        if salt_length > max {
            return Err(CryptoError::SaltLength { salt_length, max });
        }
        fn sign<D: Digest + FixedOutputReset>(
            key: &::rsa::PrivateKey,
            rng: &mut ChildRng,
            salt: usize,
            hashed: &[u8],
        ) -> Result<Vec<u8>, ::rsa::Error> {
            key.sign_with_rng(rng, Pss::<D>::new_with_salt(salt), hashed)
        }
        let mut rng = child_rng(entropy);
        let (k, r, s, h) = (&self.key, &mut rng, salt_length, hash_value);
        match hash {
            HashFunction::Sha1 => sign::<sha1::Sha1>(k, r, s, h),
            HashFunction::Sha224 => sign::<sha2::Sha224>(k, r, s, h),
            HashFunction::Sha256 => sign::<sha2::Sha256>(k, r, s, h),
            HashFunction::Sha384 => sign::<sha2::Sha384>(k, r, s, h),
            HashFunction::Sha512 => sign::<sha2::Sha512>(k, r, s, h),
        }
        .map_err(|e| CryptoError::failed(format!("RSA-PSS signing failed ({e})")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// PKCS#1 v1.5 verification (AWS-LC for SHA-1/256/384/512, the `rsa` crate for SHA-224)
    /// accepts the HSM's signatures of every hash, agrees with the `rsa` crate's check of the
    /// same DigestInfo, and refuses a changed signature, another hash and a hash of the wrong
    /// length, also when its parsed key is reused.
    #[test]
    fn pkcs1_verification_agrees_for_every_hash() {
        let mut entropy = Entropy::new(Some(7));
        let PrivateKey::Rsa(key) = generate_rsa(&mut entropy, 2048, 65537).unwrap() else {
            panic!("not an RSA key");
        };
        let public = key.public_key();
        for hash in [
            HashFunction::Sha1,
            HashFunction::Sha224,
            HashFunction::Sha256,
            HashFunction::Sha384,
            HashFunction::Sha512,
        ] {
            let value = hash.digest(b"message");
            let other = hash.digest(b"another message");
            let sig = key.sign_pkcs1(hash, &value).unwrap();
            for _ in 0..2 {
                assert!(public.verify_pkcs1(hash, &value, &sig), "{hash:?}");
                assert!(!public.verify_pkcs1(hash, &other, &sig), "{hash:?}");
                assert!(!public.verify_pkcs1(hash, &value[1..], &sig), "{hash:?}");
                let mut changed = sig.clone();
                changed[100] ^= 1;
                assert!(!public.verify_pkcs1(hash, &value, &changed), "{hash:?}");
                assert!(!public.verify_pkcs1(hash, &value, &sig[1..]), "{hash:?}");
            }
            let digest_info = [hash.digest_info_prefix(), &value].concat();
            assert!(public.verify_pkcs1_unhashed(&digest_info, &sig), "{hash:?}");
        }
    }
}
