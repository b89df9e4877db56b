//! `C_DeriveKey`: the mechanisms' parameters read from the caller's memory and turned into
//! the cluster's typed derivation. The rules on the base key and the new key are the
//! cluster's (`Cluster::derive_key`).

use std::ffi::c_void;

use cloudhsm_sim::hsm::crypto::{HashFunction, Prf, Segment};
use cloudhsm_sim::hsm::key::attributes::Setting;
use cloudhsm_sim::hsm::key::{KeyClass, KeyType, Term};
use cloudhsm_sim::hsm::{Derivation, DeriveRequest, EcdhKdf};
use cryptoki_sys::*;

use crate::attributes;
use crate::boundary::{self, Result};
use crate::session::Session;
use crate::state::{Module, Slot};
use crate::template::{self, Given, Making};
use crate::vendor;

/// `CK_SP800_108_KDF_PARAMS` of CloudHSM's header: three fields (PKCS#11 3.0's has five).
#[repr(C)]
#[derive(Clone, Copy)]
struct KdfParams {
    prf_type: CK_MECHANISM_TYPE,
    count: CK_ULONG,
    params: *const PrfDataParam,
}

/// `CK_PRF_DATA_PARAM` of CloudHSM's header.
#[repr(C)]
#[derive(Clone, Copy)]
struct PrfDataParam {
    kind: CK_ULONG,
    value: *const c_void,
    len: CK_ULONG,
}

/// `CK_SP800_108_COUNTER_FORMAT` of CloudHSM's header.
#[repr(C)]
#[derive(Clone, Copy)]
struct CounterFormat {
    width_in_bits: CK_ULONG,
}

/// `CK_SP800_108_DKM_LENGTH_FORMAT` of CloudHSM's header.
#[repr(C)]
#[derive(Clone, Copy)]
struct DkmLengthFormat {
    method: CK_ULONG,
    width_in_bits: CK_ULONG,
}

/// A parameter structure `T` given as `len` bytes at `p` (read unaligned: the caller's memory
/// may be any bytes), or `CKR_MECHANISM_PARAM_INVALID`.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes.
unsafe fn param<T: Copy>(p: *const c_void, len: CK_ULONG) -> Result<T> {
    if p.is_null() || len as usize != size_of::<T>() {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    // SAFETY: `len` readable bytes (caller) are exactly one `T`.
    Ok(unsafe { std::ptr::read_unaligned(p as *const T) })
}

fn width(bits: CK_ULONG) -> Result<u32> {
    u32::try_from(bits).map_err(|_| CKR_MECHANISM_PARAM_INVALID)
}

fn prf(m: CK_MECHANISM_TYPE) -> Result<Prf> {
    Ok(match m {
        CKM_SHA_1_HMAC => Prf::Hmac(HashFunction::Sha1),
        CKM_SHA224_HMAC => Prf::Hmac(HashFunction::Sha224),
        CKM_SHA256_HMAC => Prf::Hmac(HashFunction::Sha256),
        CKM_SHA384_HMAC => Prf::Hmac(HashFunction::Sha384),
        CKM_SHA512_HMAC => Prf::Hmac(HashFunction::Sha512),
        CKM_AES_CMAC => Prf::AesCmac,
        _ => return Err(CKR_MECHANISM_PARAM_INVALID),
    })
}

/// The ECDH KDF `kdf` names: CloudHSM's X9.63 KDFs, the standard `CKD_SHA*_KDF` as their
/// aliases, and `CKD_NULL` when `configure-pkcs11 --enable-ecdh-without-kdf` allows it.
fn ecdh_kdf(kdf: CK_EC_KDF_TYPE, without_kdf: bool) -> Result<EcdhKdf> {
    use HashFunction::*;
    Ok(match kdf {
        CKD_NULL if without_kdf => EcdhKdf::Null,
        vendor::CKD_CLOUDHSM_X963_SHA1_KDF | CKD_SHA1_KDF => EcdhKdf::X963(Sha1),
        vendor::CKD_CLOUDHSM_X963_SHA224_KDF | CKD_SHA224_KDF => EcdhKdf::X963(Sha224),
        vendor::CKD_CLOUDHSM_X963_SHA256_KDF | CKD_SHA256_KDF => EcdhKdf::X963(Sha256),
        vendor::CKD_CLOUDHSM_X963_SHA384_KDF | CKD_SHA384_KDF => EcdhKdf::X963(Sha384),
        vendor::CKD_CLOUDHSM_X963_SHA512_KDF | CKD_SHA512_KDF => EcdhKdf::X963(Sha512),
        _ => return Err(CKR_MECHANISM_PARAM_INVALID),
    })
}

/// The derivation `m` names, its parameters read.
///
/// # Safety
/// `m`'s parameter pointers are NULL or point to what their lengths say.
unsafe fn derivation(m: &CK_MECHANISM, without_kdf: bool) -> Result<Derivation> {
    match m.mechanism {
        CKM_ECDH1_DERIVE => {
            // SAFETY: the caller's contract.
            let p: CK_ECDH1_DERIVE_PARAMS = unsafe { param(m.pParameter, m.ulParameterLen) }?;
            let kdf = ecdh_kdf(p.kdf, without_kdf)?;
            // SAFETY: the caller's contract for the structure's buffers.
            let shared = unsafe { boundary::bytes(p.pSharedData, p.ulSharedDataLen) }?;
            // SAFETY: as above.
            let public = unsafe { boundary::bytes(p.pPublicData, p.ulPublicDataLen) }?;
            if kdf == EcdhKdf::Null && !shared.is_empty() {
                return Err(CKR_MECHANISM_PARAM_INVALID);
            }
            Ok(Derivation::Ecdh {
                kdf,
                // AWS's samples pass the point raw or as the DER OCTET STRING of CKA_EC_POINT.
                peer: attributes::point_of(public),
                shared_info: shared.to_vec(),
            })
        }
        vendor::CKM_CLOUDHSM_SP800_108_COUNTER_KDF => {
            // SAFETY: the caller's contract.
            let p: KdfParams = unsafe { param(m.pParameter, m.ulParameterLen) }?;
            let prf = prf(p.prf_type)?;
            // SAFETY: the caller's contract: `count` data parameters.
            let data = unsafe { boundary::array(p.params as *mut PrfDataParam, p.count) }?;
            // SAFETY: each parameter's value as its length says (caller).
            let layout = unsafe { layout(data) }?;
            Ok(Derivation::Counter { prf, layout })
        }
        _ => Err(CKR_MECHANISM_INVALID),
    }
}

/// The fixed input of SP 800-108, in either of CloudHSM's layouts: the implicit one
/// (`SP800_108_COUNTER_FORMAT`, `_PRF_LABEL`, `_PRF_CONTEXT`, `_DKM_FORMAT`: Counter ‖ Label ‖
/// 0x00 ‖ Context ‖ L) or the explicit one, in the order given (`CK_SP800_108_BYTE_ARRAY`,
/// `_ITERATION_VARIABLE`, `_DKM_LENGTH`).
///
/// # Safety
/// Each parameter's value is NULL or as long as its length says.
unsafe fn layout(data: &[PrfDataParam]) -> Result<Vec<Segment>> {
    let implicit = data.iter().any(|d| {
        matches!(
            d.kind,
            vendor::SP800_108_COUNTER_FORMAT
                | vendor::SP800_108_PRF_LABEL
                | vendor::SP800_108_PRF_CONTEXT
                | vendor::SP800_108_DKM_FORMAT
        )
    });
    let mut explicit = Vec::new();
    let (mut counter, mut label, mut context, mut length) = (None, Vec::new(), Vec::new(), None);
    for d in data {
        // SAFETY: the caller's contract for this parameter.
        let bytes = || unsafe { boundary::bytes(d.value as *const u8, d.len) };
        // SAFETY: as above.
        let counter_format = || unsafe { param::<CounterFormat>(d.value, d.len) };
        // SAFETY: as above.
        let dkm_format = || -> Result<u32> {
            let f: DkmLengthFormat = unsafe { param(d.value, d.len) }?;
            if f.method != vendor::SP800_108_DKM_LENGTH_SUM_OF_KEYS {
                return Err(CKR_MECHANISM_PARAM_INVALID);
            }
            width(f.width_in_bits)
        };
        match (implicit, d.kind) {
            (true, vendor::SP800_108_COUNTER_FORMAT) => {
                counter = Some(width(counter_format()?.width_in_bits)?)
            }
            (true, vendor::SP800_108_PRF_LABEL) => label = bytes()?.to_vec(),
            (true, vendor::SP800_108_PRF_CONTEXT) => context = bytes()?.to_vec(),
            (true, vendor::SP800_108_DKM_FORMAT) => length = Some(dkm_format()?),
            (false, vendor::CK_SP800_108_ITERATION_VARIABLE) => explicit.push(Segment::Counter {
                bits: width(counter_format()?.width_in_bits)?,
            }),
            (false, vendor::CK_SP800_108_DKM_LENGTH) => explicit.push(Segment::Length {
                bits: dkm_format()?,
            }),
            (false, vendor::CK_SP800_108_BYTE_ARRAY | vendor::SP800_108_BYTE_ARRAY) => {
                explicit.push(Segment::Bytes(bytes()?.to_vec()))
            }
            _ => return Err(CKR_MECHANISM_PARAM_INVALID),
        }
    }
    if !implicit {
        return Ok(explicit);
    }
    let (Some(counter), Some(length)) = (counter, length) else {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    };
    Ok(vec![
        Segment::Counter { bits: counter },
        Segment::Bytes(label),
        Segment::Bytes(vec![0]),
        Segment::Bytes(context),
        Segment::Length { bits: length },
    ])
}

/// `C_DeriveKey`.
///
/// # Safety
/// `m`'s parameter pointers are NULL or point to what their lengths say.
pub(crate) unsafe fn derive_key(
    module: &Module,
    slot: &Slot,
    session: &Session,
    owner: CK_SESSION_HANDLE,
    m: &CK_MECHANISM,
    base: CK_OBJECT_HANDLE,
    given: &[Given],
) -> Result<CK_OBJECT_HANDLE> {
    // SAFETY: forwarded from the caller.
    let derivation = unsafe { derivation(m, module.config.ecdh_without_kdf) }?;
    let base = module
        .object(session.slot, base)
        .map_err(|_| CKR_KEY_HANDLE_INVALID)?;
    let ulong = |ty| -> Result<CK_ULONG> {
        template::ulong_of(template::find(given, ty).ok_or(CKR_TEMPLATE_INCOMPLETE)?)
    };
    if template::find(given, CKA_CLASS).is_some() && ulong(CKA_CLASS)? != CKO_SECRET_KEY {
        return Err(CKR_TEMPLATE_INCONSISTENT);
    }
    let key_type = match ulong(CKA_KEY_TYPE)? {
        CKK_AES => KeyType::Aes,
        CKK_GENERIC_SECRET => KeyType::GenericSecret,
        CKK_DES3 => KeyType::Des3,
        _ => return Err(CKR_TEMPLATE_INCONSISTENT),
    };
    let t = template::key_template(given, key_type, KeyClass::SecretKey, Making::Derive)?;
    // A DES3 key has its one length (AWS's derive table takes no CKA_VALUE_LEN for it).
    let len = match key_type {
        KeyType::Des3 => 24,
        _ => usize::try_from(ulong(CKA_VALUE_LEN)?).map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?,
    };
    if t.token && !session.rw {
        return Err(CKR_SESSION_READ_ONLY);
    }
    let req = DeriveRequest {
        derivation,
        key_type,
        len,
        label: t.label,
        attributes: t.assignments,
        token: t.token,
    };
    let terms = [Term::Reference(base)];
    let key = slot
        .with_login_mut(module, |c, login| {
            c.derive_key(login, &terms, &req, Setting::Template)
        })
        .map_err(|e| match e {
            crate::state::LoginFailure::Hsm(cloudhsm_sim::hsm::HsmError::Key(
                cloudhsm_sim::hsm::key::KeyError::Crypto(
                    cloudhsm_sim::hsm::crypto::CryptoError::Kdf { .. }
                    | cloudhsm_sim::hsm::crypto::CryptoError::InvalidKey { .. },
                ),
            )) => CKR_MECHANISM_PARAM_INVALID,
            e => e.key_use_rv(),
        })?;
    if !key.attrs.flags.token {
        slot.own_session_object(key.reference, owner);
    }
    Ok(module.handle_of(session.slot, key.reference))
}
