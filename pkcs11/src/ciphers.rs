//! The encryption mechanisms, mechanism side: what `C_GetMechanismList` adds for them and
//! how a `CK_MECHANISM` with its parameters becomes the cluster's typed [`Cipher`]
//! (spec/pkcs11.md §3.2–§3.5). The operations themselves are in `encryption`.

use cloudhsm_sim::hsm::crypto::{Direction, GCM_IV_LEN};
use cloudhsm_sim::hsm::Cipher;
use cryptoki_sys::*;

use crate::boundary::{self, Deferred, Result};
use crate::error::rv;
use crate::mechanisms::{hash_of_mechanism, mgf_hash, Info};
use crate::state::{Module, Slot};
use crate::vendor::CKM_CLOUDHSM_AES_GCM;

const ED: CK_FLAGS = CKF_HW | CKF_ENCRYPT | CKF_DECRYPT;

const fn info(mechanism: CK_MECHANISM_TYPE, min: CK_ULONG, max: CK_ULONG) -> Info {
    Info {
        mechanism,
        min,
        max,
        flags: ED,
    }
}

/// The encryption mechanisms, key sizes in bytes for AES and DES3 and bits for RSA. `CKM_RSA_PKCS`
/// is also a signature mechanism: its flags join those of `mechanisms::MECHANISMS`.
pub(crate) const INFOS: &[Info] = &[
    info(CKM_AES_ECB, 16, 32),
    info(CKM_AES_CBC, 16, 32),
    info(CKM_AES_CBC_PAD, 16, 32),
    info(CKM_AES_CTR, 16, 32),
    info(CKM_AES_GCM, 16, 32),
    info(CKM_CLOUDHSM_AES_GCM, 16, 32),
    info(CKM_DES3_ECB, 24, 24),
    info(CKM_DES3_CBC, 24, 24),
    info(CKM_DES3_CBC_PAD, 24, 24),
    info(CKM_RSA_PKCS, 2048, 4096),
    info(CKM_RSA_X_509, 2048, 4096),
    info(CKM_RSA_PKCS_OAEP, 2048, 4096),
];

/// The DES3 mechanisms, which exist only on clusters in non-FIPS mode: "disallowed for
/// clusters in FIPS mode after 2023" (spec §3.2 fn5, §3.11).
const DES3: [CK_MECHANISM_TYPE; 4] = [
    CKM_DES3_KEY_GEN,
    CKM_DES3_ECB,
    CKM_DES3_CBC,
    CKM_DES3_CBC_PAD,
];

/// Whether `mechanism` is listed at all on a cluster in this mode (the DES3 ones are not on
/// a FIPS-mode cluster; the cluster refuses them too).
pub(crate) fn listed(mechanism: CK_MECHANISM_TYPE, fips: bool) -> bool {
    !(fips && DES3.contains(&mechanism))
}

/// Whether encryption with `mechanism` exists on a cluster in this mode: AWS disallows
/// `CKM_RSA_PKCS` encryption and DES3 on FIPS-mode clusters "after 2023" (spec §3.11), and a
/// refused mechanism is not listed.
pub(crate) fn allowed(mechanism: CK_MECHANISM_TYPE, fips: bool) -> bool {
    listed(mechanism, fips) && !(fips && mechanism == CKM_RSA_PKCS)
}

/// Whether the cluster of `slot` is in FIPS mode, which decides the mechanisms it has.
pub(crate) fn fips(module: &Module, slot: &Slot) -> Result<bool> {
    slot.with_cluster(module, |c| Ok(c.settings().fips))
        .map_err(|e| rv(&e))
}

/// An encryption mechanism with its parameters read.
pub(crate) struct CipherMechanism {
    pub(crate) cipher: Cipher,
    /// `CKM_AES_GCM` encryption: the caller's `pIv`, zeroed at init and given the HSM's IV
    /// when the ciphertext is delivered.
    pub(crate) iv_out: Option<Deferred>,
}

/// The 5-field `CK_GCM_PARAMS` of the original PKCS#11 v2.40 (no `ulIvBits`), which some
/// applications still pass; told apart from the errata's 6-field layout by its length.
#[repr(C)]
#[derive(Clone, Copy)]
struct GcmParams240 {
    p_iv: *mut CK_BYTE,
    ul_iv_len: CK_ULONG,
    p_aad: *mut CK_BYTE,
    ul_aad_len: CK_ULONG,
    ul_tag_bits: CK_ULONG,
}

/// The parameter structure `T` of `m`, which must be exactly its size.
///
/// # Safety
/// `m.pParameter` is NULL or points to `m.ulParameterLen` readable bytes.
unsafe fn param<T: Copy>(m: &CK_MECHANISM) -> Result<T> {
    if m.pParameter.is_null() || m.ulParameterLen as usize != size_of::<T>() {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    // SAFETY: non-NULL and as long as `T` (checked above); read unaligned, as the caller's
    // buffer may be any byte array.
    Ok(unsafe { std::ptr::read_unaligned(m.pParameter as *const T) })
}

/// Refuses parameters given to a mechanism that has none.
fn no_param(m: &CK_MECHANISM) -> Result<()> {
    if !m.pParameter.is_null() && m.ulParameterLen != 0 {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(())
}

/// Bytes a parameter structure points to (`pIv`, `pAAD`, `pSourceData`), copied.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
unsafe fn param_bytes(p: *const CK_BYTE, len: CK_ULONG) -> Result<Vec<u8>> {
    // SAFETY: forwarded; a NULL pointer with a length is a malformed parameter.
    unsafe { boundary::bytes(p, len) }
        .map(<[u8]>::to_vec)
        .map_err(|_| CKR_MECHANISM_PARAM_INVALID)
}

impl CipherMechanism {
    /// The encryption (or decryption) mechanism `m` names, its parameters read.
    ///
    /// # Safety
    /// `m.pParameter` is NULL or points to `m.ulParameterLen` readable bytes, and the
    /// pointers inside the parameters point to what their lengths say (`pIv` of a
    /// `CKM_AES_GCM` encryption writable until the operation ends).
    pub(crate) unsafe fn parse(m: &CK_MECHANISM, direction: Direction) -> Result<CipherMechanism> {
        let plain = |cipher: Cipher| -> Result<CipherMechanism> {
            no_param(m)?;
            Ok(CipherMechanism {
                cipher,
                iv_out: None,
            })
        };
        let cipher = match m.mechanism {
            CKM_AES_ECB => return plain(Cipher::AesEcb),
            CKM_DES3_ECB => return plain(Cipher::Des3Ecb),
            CKM_RSA_PKCS => return plain(Cipher::RsaPkcs),
            CKM_RSA_X_509 => return plain(Cipher::RsaX509),
            // SAFETY (all five): forwarded from the caller.
            CKM_AES_CBC => Cipher::AesCbc {
                iv: unsafe { param::<[u8; 16]>(m) }?,
            },
            CKM_AES_CBC_PAD => Cipher::AesCbcPad {
                iv: unsafe { param::<[u8; 16]>(m) }?,
            },
            CKM_DES3_CBC => Cipher::Des3Cbc {
                iv: unsafe { param::<[u8; 8]>(m) }?,
            },
            CKM_DES3_CBC_PAD => Cipher::Des3CbcPad {
                iv: unsafe { param::<[u8; 8]>(m) }?,
            },
            CKM_AES_CTR => {
                let p = unsafe { param::<CK_AES_CTR_PARAMS>(m) }?;
                Cipher::AesCtr {
                    counter_bits: u32::try_from(p.ulCounterBits)
                        .map_err(|_| CKR_MECHANISM_PARAM_INVALID)?,
                    block: p.cb,
                }
            }
            // SAFETY: forwarded from the caller.
            CKM_AES_GCM | CKM_CLOUDHSM_AES_GCM => return unsafe { gcm(m, direction) },
            // SAFETY: forwarded from the caller.
            CKM_RSA_PKCS_OAEP => unsafe { oaep(m) }?,
            _ => return Err(CKR_MECHANISM_INVALID),
        };
        Ok(CipherMechanism {
            cipher,
            iv_out: None,
        })
    }
}

/// A `CK_GCM_PARAMS`, read from either of its layouts (spec/pkcs11.md §3.4): encryption,
/// decryption and key wrapping all take it.
pub(crate) struct GcmParams {
    /// The caller's IV buffer (AWS's HSM writes its IV there) and its length.
    pub(crate) iv: *mut CK_BYTE,
    pub(crate) iv_len: CK_ULONG,
    pub(crate) aad: Vec<u8>,
    pub(crate) tag_bits: usize,
}

/// The `CK_GCM_PARAMS` of `m`: the v2.40-errata layout (with `ulIvBits`) or the original
/// 2.40 one, told apart by `ulParameterLen`.
///
/// # Safety
/// `m.pParameter` is NULL or points to `m.ulParameterLen` readable bytes, and `pAAD` to
/// `ulAADLen`.
pub(crate) unsafe fn gcm_params(m: &CK_MECHANISM) -> Result<GcmParams> {
    let p = if m.ulParameterLen as usize == size_of::<GcmParams240>() {
        // SAFETY: forwarded from the caller.
        unsafe { param::<GcmParams240>(m) }?
    } else {
        // SAFETY: forwarded from the caller.
        let p = unsafe { param::<CK_GCM_PARAMS>(m) }?;
        GcmParams240 {
            p_iv: p.pIv,
            ul_iv_len: p.ulIvLen,
            p_aad: p.pAAD,
            ul_aad_len: p.ulAADLen,
            ul_tag_bits: p.ulTagBits,
        }
    };
    Ok(GcmParams {
        iv: p.p_iv,
        iv_len: p.ul_iv_len,
        // SAFETY: the caller's contract for `pAAD`.
        aad: unsafe { param_bytes(p.p_aad, p.ul_aad_len) }?,
        tag_bits: usize::try_from(p.ul_tag_bits).map_err(|_| CKR_MECHANISM_PARAM_INVALID)?,
    })
}

/// `CKM_AES_GCM` and `CKM_CLOUDHSM_AES_GCM`, with either layout of `CK_GCM_PARAMS`.
///
/// # Safety
/// As [`CipherMechanism::parse`].
unsafe fn gcm(m: &CK_MECHANISM, direction: Direction) -> Result<CipherMechanism> {
    // SAFETY: forwarded from the caller.
    let GcmParams {
        iv: p_iv,
        iv_len,
        aad,
        tag_bits,
    } = unsafe { gcm_params(m) }?;
    if m.mechanism == CKM_CLOUDHSM_AES_GCM {
        // "the pIV variable in the CK_GCM_PARAMS struct must be set to NULL": the IV travels
        // with the data.
        if !p_iv.is_null() {
            return Err(CKR_MECHANISM_PARAM_INVALID);
        }
        return Ok(CipherMechanism {
            cipher: Cipher::CloudHsmAesGcm { aad, tag_bits },
            iv_out: None,
        });
    }
    // The HSM's IV is 12 bytes, and the one to decrypt with is the one it wrote.
    if iv_len as usize != GCM_IV_LEN {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    let (iv, iv_out) = match direction {
        Direction::Encrypt => {
            // SAFETY: the caller's contract: `pIv` holds `ulIvLen` bytes, writable until
            // the operation ends (AWS's GCM flow).
            let out =
                unsafe { Deferred::new(p_iv, iv_len) }.map_err(|_| CKR_MECHANISM_PARAM_INVALID)?;
            (None, Some(out))
        }
        // SAFETY: the caller's contract for `pIv`.
        Direction::Decrypt => (Some(unsafe { param_bytes(p_iv, iv_len) }?), None),
    };
    Ok(CipherMechanism {
        cipher: Cipher::AesGcm { iv, aad, tag_bits },
        iv_out,
    })
}

/// A `CK_RSA_PKCS_OAEP_PARAMS`: `source` is `CKZ_DATA_SPECIFIED` with a label (possibly
/// empty), or 0 with no label, as AWS's own sample `rsa_wrapping.c` passes it (spec §3.5).
pub(crate) struct OaepParams {
    pub(crate) hash: cloudhsm_sim::hsm::crypto::HashFunction,
    pub(crate) mgf: cloudhsm_sim::hsm::crypto::HashFunction,
    pub(crate) label: Vec<u8>,
}

/// The OAEP parameters at `p` (`len` bytes): encryption, decryption and key wrapping (alone
/// and inside `CK_RSA_AES_KEY_WRAP_PARAMS`) take them.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes, and `pSourceData` to `ulSourceDataLen`.
pub(crate) unsafe fn oaep_params(p: *const std::ffi::c_void, len: CK_ULONG) -> Result<OaepParams> {
    if p.is_null() || len as usize != size_of::<CK_RSA_PKCS_OAEP_PARAMS>() {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    // SAFETY: non-NULL and as long as the structure (checked above); read unaligned.
    let p = unsafe { std::ptr::read_unaligned(p as *const CK_RSA_PKCS_OAEP_PARAMS) };
    let hash = hash_of_mechanism(p.hashAlg).ok_or(CKR_MECHANISM_PARAM_INVALID)?;
    let mgf = mgf_hash(p.mgf).ok_or(CKR_MECHANISM_PARAM_INVALID)?;
    // SAFETY: the caller's contract for `pSourceData`.
    let label = unsafe { param_bytes(p.pSourceData as *const CK_BYTE, p.ulSourceDataLen) }?;
    match p.source {
        CKZ_DATA_SPECIFIED => {}
        0 if label.is_empty() => {}
        _ => return Err(CKR_MECHANISM_PARAM_INVALID),
    }
    Ok(OaepParams { hash, mgf, label })
}

/// `CKM_RSA_PKCS_OAEP`.
///
/// # Safety
/// As [`CipherMechanism::parse`].
unsafe fn oaep(m: &CK_MECHANISM) -> Result<Cipher> {
    // SAFETY: forwarded from the caller.
    let OaepParams { hash, mgf, label } = unsafe { oaep_params(m.pParameter, m.ulParameterLen) }?;
    Ok(Cipher::RsaOaep { hash, mgf, label })
}
