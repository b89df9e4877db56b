//! The mechanisms the module implements: what `C_GetMechanismList` lists (exactly these,
//! spec/pkcs11.md §3.10) and `C_GetMechanismInfo` tells, and how a `CK_MECHANISM` becomes
//! the cluster's typed signature or digest.

use cloudhsm_sim::hsm::crypto::{DataType, HashFunction, Mechanism};
use cloudhsm_sim::hsm::Signing;
use cryptoki_sys::*;

use crate::boundary::Result;

/// What a mechanism does, for its `CK_MECHANISM_INFO`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Info {
    pub(crate) mechanism: CK_MECHANISM_TYPE,
    pub(crate) min: CK_ULONG,
    pub(crate) max: CK_ULONG,
    pub(crate) flags: CK_FLAGS,
}

const SV: CK_FLAGS = CKF_HW | CKF_SIGN | CKF_VERIFY;
const EC: CK_FLAGS = CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS;

const fn info(mechanism: CK_MECHANISM_TYPE, min: CK_ULONG, max: CK_ULONG, flags: CK_FLAGS) -> Info {
    Info {
        mechanism,
        min,
        max,
        flags,
    }
}

/// Every mechanism implemented, with key sizes in bits for RSA and EC, bytes otherwise
/// (the units PKCS#11 gives each mechanism).
pub(crate) const MECHANISMS: &[Info] = &[
    info(
        CKM_RSA_PKCS_KEY_PAIR_GEN,
        2048,
        4096,
        CKF_HW | CKF_GENERATE_KEY_PAIR,
    ),
    info(
        CKM_RSA_X9_31_KEY_PAIR_GEN,
        2048,
        4096,
        CKF_HW | CKF_GENERATE_KEY_PAIR,
    ),
    info(
        CKM_EC_KEY_PAIR_GEN,
        224,
        521,
        CKF_HW | CKF_GENERATE_KEY_PAIR | EC,
    ),
    info(CKM_AES_KEY_GEN, 16, 32, CKF_HW | CKF_GENERATE),
    info(CKM_GENERIC_SECRET_KEY_GEN, 1, 800, CKF_HW | CKF_GENERATE),
    info(CKM_RSA_PKCS, 2048, 4096, SV),
    info(CKM_SHA1_RSA_PKCS, 2048, 4096, SV),
    info(CKM_SHA224_RSA_PKCS, 2048, 4096, SV),
    info(CKM_SHA256_RSA_PKCS, 2048, 4096, SV),
    info(CKM_SHA384_RSA_PKCS, 2048, 4096, SV),
    info(CKM_SHA512_RSA_PKCS, 2048, 4096, SV),
    info(CKM_RSA_PKCS_PSS, 2048, 4096, SV),
    info(CKM_SHA1_RSA_PKCS_PSS, 2048, 4096, SV),
    info(CKM_SHA224_RSA_PKCS_PSS, 2048, 4096, SV),
    info(CKM_SHA256_RSA_PKCS_PSS, 2048, 4096, SV),
    info(CKM_SHA384_RSA_PKCS_PSS, 2048, 4096, SV),
    info(CKM_SHA512_RSA_PKCS_PSS, 2048, 4096, SV),
    info(CKM_ECDSA, 224, 521, SV | EC),
    info(CKM_ECDSA_SHA1, 224, 521, SV | EC),
    info(CKM_ECDSA_SHA224, 224, 521, SV | EC),
    info(CKM_ECDSA_SHA256, 224, 521, SV | EC),
    info(CKM_ECDSA_SHA384, 224, 521, SV | EC),
    info(CKM_ECDSA_SHA512, 224, 521, SV | EC),
    info(CKM_SHA_1_HMAC, 1, 800, SV),
    info(CKM_SHA224_HMAC, 1, 800, SV),
    info(CKM_SHA256_HMAC, 1, 800, SV),
    info(CKM_SHA384_HMAC, 1, 800, SV),
    info(CKM_SHA512_HMAC, 1, 800, SV),
    info(CKM_SHA_1, 0, 0, CKF_DIGEST),
    info(CKM_SHA224, 0, 0, CKF_DIGEST),
    info(CKM_SHA256, 0, 0, CKF_DIGEST),
    info(CKM_SHA384, 0, 0, CKF_DIGEST),
    info(CKM_SHA512, 0, 0, CKF_DIGEST),
];

pub(crate) fn info_of(mechanism: CK_MECHANISM_TYPE) -> Result<&'static Info> {
    MECHANISMS
        .iter()
        .find(|i| i.mechanism == mechanism)
        .ok_or(CKR_MECHANISM_INVALID)
}

/// The hash function of a digest mechanism.
pub(crate) fn digest(mechanism: CK_MECHANISM_TYPE) -> Option<HashFunction> {
    Some(match mechanism {
        CKM_SHA_1 => HashFunction::Sha1,
        CKM_SHA224 => HashFunction::Sha224,
        CKM_SHA256 => HashFunction::Sha256,
        CKM_SHA384 => HashFunction::Sha384,
        CKM_SHA512 => HashFunction::Sha512,
        _ => return None,
    })
}

/// How a signature mechanism takes its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    /// The module hashes the message (any length, in parts); the HSM signs the hash.
    Hashed(HashFunction),
    /// The data goes to the HSM as given, in one part: a hash or DigestInfo the caller made
    /// (`CKM_RSA_PKCS`, `CKM_ECDSA`, `CKM_RSA_PKCS_PSS`), or an HMAC's message.
    Whole,
}

/// A signature mechanism with its parameters checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SignMechanism {
    pub(crate) mechanism: CK_MECHANISM_TYPE,
    pub(crate) input: Input,
    /// What the HSM is asked to do. For `CKM_RSA_PKCS` and `CKM_ECDSA` the exact form
    /// depends on the data ([`SignMechanism::signing_for`]).
    pub(crate) signing: Signing,
}

fn hashed_rsa(hash: HashFunction) -> Signing {
    Signing::Asymmetric(Mechanism::RsaPkcs {
        hash,
        data_type: DataType::Raw,
    })
}

fn hashed_ecdsa(hash: HashFunction) -> Signing {
    Signing::Asymmetric(Mechanism::Ecdsa {
        hash,
        data_type: DataType::Raw,
    })
}

fn hash_of_mechanism(m: CK_MECHANISM_TYPE) -> Option<HashFunction> {
    Some(match m {
        CKM_SHA_1 => HashFunction::Sha1,
        CKM_SHA224 => HashFunction::Sha224,
        CKM_SHA256 => HashFunction::Sha256,
        CKM_SHA384 => HashFunction::Sha384,
        CKM_SHA512 => HashFunction::Sha512,
        _ => return None,
    })
}

fn mgf_hash(mgf: CK_RSA_PKCS_MGF_TYPE) -> Option<HashFunction> {
    Some(match mgf {
        CKG_MGF1_SHA1 => HashFunction::Sha1,
        CKG_MGF1_SHA224 => HashFunction::Sha224,
        CKG_MGF1_SHA256 => HashFunction::Sha256,
        CKG_MGF1_SHA384 => HashFunction::Sha384,
        CKG_MGF1_SHA512 => HashFunction::Sha512,
        _ => return None,
    })
}

/// The PSS parameters of `m`: (hash, MGF hash, salt length).
///
/// # Safety
/// `m.pParameter` is NULL or points to `m.ulParameterLen` readable bytes.
unsafe fn pss_params(m: &CK_MECHANISM) -> Result<(HashFunction, HashFunction, usize)> {
    if m.pParameter.is_null() || m.ulParameterLen as usize != size_of::<CK_RSA_PKCS_PSS_PARAMS>() {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    // SAFETY: non-NULL and as long as the structure (checked above); read unaligned, as the
    // caller's buffer may be any byte array.
    let p = unsafe { std::ptr::read_unaligned(m.pParameter as *const CK_RSA_PKCS_PSS_PARAMS) };
    let hash = hash_of_mechanism(p.hashAlg).ok_or(CKR_MECHANISM_PARAM_INVALID)?;
    let mgf = mgf_hash(p.mgf).ok_or(CKR_MECHANISM_PARAM_INVALID)?;
    let salt = usize::try_from(p.sLen).map_err(|_| CKR_MECHANISM_PARAM_INVALID)?;
    Ok((hash, mgf, salt))
}

impl SignMechanism {
    /// The signature mechanism `m` names, its parameters checked.
    ///
    /// # Safety
    /// `m.pParameter` is NULL or points to `m.ulParameterLen` readable bytes.
    pub(crate) unsafe fn parse(m: &CK_MECHANISM) -> Result<SignMechanism> {
        use HashFunction::*;
        let hashed_pss = |expected: HashFunction| -> Result<(Input, Signing)> {
            // SAFETY: forwarded from the caller.
            let (hash, mgf, salt_length) = unsafe { pss_params(m) }?;
            if hash != expected {
                return Err(CKR_MECHANISM_PARAM_INVALID);
            }
            Ok((
                Input::Hashed(hash),
                Signing::Asymmetric(Mechanism::RsaPkcsPss {
                    hash,
                    mgf,
                    salt_length,
                    data_type: DataType::Raw,
                }),
            ))
        };
        let (input, signing) = match m.mechanism {
            CKM_RSA_PKCS => (
                Input::Whole,
                Signing::Asymmetric(Mechanism::RsaPkcsUnhashed),
            ),
            CKM_SHA1_RSA_PKCS => (Input::Hashed(Sha1), hashed_rsa(Sha1)),
            CKM_SHA224_RSA_PKCS => (Input::Hashed(Sha224), hashed_rsa(Sha224)),
            CKM_SHA256_RSA_PKCS => (Input::Hashed(Sha256), hashed_rsa(Sha256)),
            CKM_SHA384_RSA_PKCS => (Input::Hashed(Sha384), hashed_rsa(Sha384)),
            CKM_SHA512_RSA_PKCS => (Input::Hashed(Sha512), hashed_rsa(Sha512)),
            CKM_RSA_PKCS_PSS => {
                // SAFETY: forwarded from the caller.
                let (hash, mgf, salt_length) = unsafe { pss_params(m) }?;
                let pss = Mechanism::RsaPkcsPss {
                    hash,
                    mgf,
                    salt_length,
                    data_type: DataType::Digest,
                };
                (Input::Whole, Signing::Asymmetric(pss))
            }
            CKM_SHA1_RSA_PKCS_PSS => hashed_pss(Sha1)?,
            CKM_SHA224_RSA_PKCS_PSS => hashed_pss(Sha224)?,
            CKM_SHA256_RSA_PKCS_PSS => hashed_pss(Sha256)?,
            CKM_SHA384_RSA_PKCS_PSS => hashed_pss(Sha384)?,
            CKM_SHA512_RSA_PKCS_PSS => hashed_pss(Sha512)?,
            // The hash of the data's length is named when the data is seen.
            CKM_ECDSA => (
                Input::Whole,
                Signing::Asymmetric(Mechanism::Ecdsa {
                    hash: Sha256,
                    data_type: DataType::Digest,
                }),
            ),
            CKM_ECDSA_SHA1 => (Input::Hashed(Sha1), hashed_ecdsa(Sha1)),
            CKM_ECDSA_SHA224 => (Input::Hashed(Sha224), hashed_ecdsa(Sha224)),
            CKM_ECDSA_SHA256 => (Input::Hashed(Sha256), hashed_ecdsa(Sha256)),
            CKM_ECDSA_SHA384 => (Input::Hashed(Sha384), hashed_ecdsa(Sha384)),
            CKM_ECDSA_SHA512 => (Input::Hashed(Sha512), hashed_ecdsa(Sha512)),
            CKM_SHA_1_HMAC => (Input::Whole, Signing::Hmac(Sha1)),
            CKM_SHA224_HMAC => (Input::Whole, Signing::Hmac(Sha224)),
            CKM_SHA256_HMAC => (Input::Whole, Signing::Hmac(Sha256)),
            CKM_SHA384_HMAC => (Input::Whole, Signing::Hmac(Sha384)),
            CKM_SHA512_HMAC => (Input::Whole, Signing::Hmac(Sha512)),
            _ => return Err(CKR_MECHANISM_INVALID),
        };
        if !matches!(m.mechanism, CKM_RSA_PKCS_PSS)
            && !hashed_pss_mechanism(m.mechanism)
            && !m.pParameter.is_null()
            && m.ulParameterLen != 0
        {
            return Err(CKR_MECHANISM_PARAM_INVALID);
        }
        Ok(SignMechanism {
            mechanism: m.mechanism,
            input,
            signing,
        })
    }

    /// Whether the mechanism works in parts (`C_SignUpdate`): the hashing ones and HMAC;
    /// AWS lists `CKM_RSA_PKCS`, `CKM_RSA_PKCS_PSS` and `CKM_ECDSA` as single-part only.
    pub(crate) fn multi_part(&self) -> bool {
        matches!(self.input, Input::Hashed(_)) || matches!(self.signing, Signing::Hmac(_))
    }

    /// What the HSM signs for `data` given whole: for a mechanism that takes a hash or a
    /// DigestInfo, the form that names the hash of its length (or the unhashed PKCS#1 block).
    pub(crate) fn signing_for(&self, data: &[u8]) -> Result<Signing> {
        match (self.mechanism, self.signing) {
            (CKM_ECDSA, _) => {
                let hash = hash_of_len(data.len()).ok_or(CKR_DATA_LEN_RANGE)?;
                Ok(Signing::Asymmetric(Mechanism::Ecdsa {
                    hash,
                    data_type: DataType::Digest,
                }))
            }
            (CKM_RSA_PKCS, _) => Ok(Signing::Asymmetric(
                digest_info_hash(data)
                    .map(|hash| Mechanism::RsaPkcs {
                        hash,
                        data_type: DataType::Digest,
                    })
                    .unwrap_or(Mechanism::RsaPkcsUnhashed),
            )),
            (_, signing) => Ok(signing),
        }
    }

    /// What the HSM signs for the hash of a message given in parts.
    pub(crate) fn signing_for_hash(&self, hash: HashFunction) -> Signing {
        match self.signing {
            Signing::Asymmetric(Mechanism::RsaPkcs { .. }) => {
                Signing::Asymmetric(Mechanism::RsaPkcs {
                    hash,
                    data_type: DataType::Digest,
                })
            }
            Signing::Asymmetric(Mechanism::RsaPkcsPss {
                hash,
                mgf,
                salt_length,
                ..
            }) => Signing::Asymmetric(Mechanism::RsaPkcsPss {
                hash,
                mgf,
                salt_length,
                data_type: DataType::Digest,
            }),
            Signing::Asymmetric(Mechanism::Ecdsa { .. }) => Signing::Asymmetric(Mechanism::Ecdsa {
                hash,
                data_type: DataType::Digest,
            }),
            other => other,
        }
    }
}

fn hashed_pss_mechanism(m: CK_MECHANISM_TYPE) -> bool {
    matches!(
        m,
        CKM_SHA1_RSA_PKCS_PSS
            | CKM_SHA224_RSA_PKCS_PSS
            | CKM_SHA256_RSA_PKCS_PSS
            | CKM_SHA384_RSA_PKCS_PSS
            | CKM_SHA512_RSA_PKCS_PSS
    )
}

/// The hash function whose output is `len` bytes long.
fn hash_of_len(len: usize) -> Option<HashFunction> {
    cloudhsm_sim::hsm::crypto::HASH_FUNCTIONS
        .into_iter()
        .find(|h| h.output_len() == len)
}

/// The hash of a DER DigestInfo, when `data` is one.
fn digest_info_hash(data: &[u8]) -> Option<HashFunction> {
    cloudhsm_sim::hsm::crypto::HASH_FUNCTIONS
        .into_iter()
        .find(|h| {
            data.strip_prefix(h.digest_info_prefix())
                .is_some_and(|rest| rest.len() == h.output_len())
        })
}

/// The signature length a key gives, for `C_Verify`'s `CKR_SIGNATURE_LEN_RANGE`: the modulus
/// length for RSA, twice the order length for ECDSA, the hash length for HMAC.
pub(crate) fn signature_len(key: &cloudhsm_sim::hsm::key::Key, signing: Signing) -> Option<usize> {
    use cloudhsm_sim::hsm::crypto::Curve;
    use cloudhsm_sim::hsm::key::Typed;
    match (signing, &key.derived.typed) {
        (Signing::Hmac(hash), _) => Some(hash.output_len()),
        (
            Signing::Asymmetric(_),
            Typed::Rsa {
                modulus_size_bits, ..
            },
        ) => Some(usize::try_from(modulus_size_bits.div_ceil(8)).ok()?),
        (Signing::Asymmetric(Mechanism::Ecdsa { .. }), Typed::Ec { curve, .. }) => {
            Some(2 * Curve::from_name(curve).ok()?.secret_len())
        }
        _ => None,
    }
}
