//! The one place a refusal of the simulated cluster becomes a PKCS#11 return code. Where
//! AWS documents the code (spec/pkcs11.md §1.3, §4.1) it is that one; the others are the
//! standard's code for the same condition, each listed in docs/pkcs11.md.

use cloudhsm_sim::hsm::crypto::CryptoError;
use cloudhsm_sim::hsm::key::KeyError;
use cloudhsm_sim::hsm::HsmError;
use cryptoki_sys::*;

/// The return code of `e`.
pub(crate) fn rv(e: &HsmError) -> CK_RV {
    match e {
        HsmError::BadCredentials | HsmError::InvalidUsername | HsmError::InvalidPassword => {
            CKR_PIN_INCORRECT
        }
        HsmError::UserLocked { .. } => CKR_PIN_LOCKED,
        HsmError::LoginVoid => CKR_USER_NOT_LOGGED_IN,
        HsmError::NotPermitted { .. } | HsmError::AttributeNotPermitted { .. } => {
            CKR_ACTION_PROHIBITED
        }
        HsmError::NoHsmAvailable { .. }
        | HsmError::ClusterNotFound { .. }
        | HsmError::Corrupt { .. }
        | HsmError::Store(_) => CKR_DEVICE_ERROR,
        HsmError::Key(k) => key_rv(k),
        _ => CKR_FUNCTION_FAILED,
    }
}

fn key_rv(e: &KeyError) -> CK_RV {
    match e {
        KeyError::NotFound | KeyError::SelectionCount { .. } => CKR_OBJECT_HANDLE_INVALID,
        KeyError::NotOwner => CKR_ACTION_PROHIBITED,
        KeyError::AttributeRequired { .. } => CKR_KEY_FUNCTION_NOT_PERMITTED,
        KeyError::WrongClass { .. } => CKR_KEY_TYPE_INCONSISTENT,
        KeyError::KeyUnavailable | KeyError::QuorumFailed => CKR_FUNCTION_FAILED,
        KeyError::KeyQuota { .. } | KeyError::AsymmetricKeyQuota { .. } => CKR_DEVICE_MEMORY,
        KeyError::ReadOnlyAttribute { .. } | KeyError::TokenInAttributes => CKR_ATTRIBUTE_READ_ONLY,
        KeyError::InvalidAttributeValue { .. }
        | KeyError::InvalidId { .. }
        | KeyError::LabelTooLong { .. } => CKR_ATTRIBUTE_VALUE_INVALID,
        KeyError::AttributeDoesNotFit { .. }
        | KeyError::AttributeUnsupported { .. }
        | KeyError::OneWayAttribute { .. } => CKR_TEMPLATE_INCONSISTENT,
        KeyError::NeedsHsm2m { .. } | KeyError::NeedsHsm2mNonFips { .. } => CKR_MECHANISM_INVALID,
        KeyError::NotModifiable => CKR_ACTION_PROHIBITED,
        KeyError::Crypto(c) => crypto_rv(c),
        _ => CKR_FUNCTION_FAILED,
    }
}

fn crypto_rv(e: &CryptoError) -> CK_RV {
    match e {
        CryptoError::WrongKeyType { .. } => CKR_KEY_TYPE_INCONSISTENT,
        CryptoError::AesKeyLength { .. }
        | CryptoError::GenericSecretLength { .. }
        | CryptoError::ModulusSize { .. } => CKR_KEY_SIZE_RANGE,
        CryptoError::PublicExponent { .. } => CKR_ATTRIBUTE_VALUE_INVALID,
        CryptoError::UnsupportedCurve { .. } | CryptoError::UnsupportedCurveOid { .. } => {
            CKR_CURVE_NOT_SUPPORTED
        }
        CryptoError::DataTooLong { .. }
        | CryptoError::DigestLength { .. }
        | CryptoError::DigestInfo { .. } => CKR_DATA_LEN_RANGE,
        CryptoError::MgfMismatch | CryptoError::SaltLength { .. } => CKR_MECHANISM_PARAM_INVALID,
        _ => CKR_FUNCTION_FAILED,
    }
}

/// [`rv`], with a key that is gone or not visible to the login named as PKCS#11 names it in
/// a key-using function (`C_SignInit` ...): `CKR_KEY_HANDLE_INVALID`.
pub(crate) fn key_use_rv(e: &HsmError) -> CK_RV {
    match rv(e) {
        CKR_OBJECT_HANDLE_INVALID => CKR_KEY_HANDLE_INVALID,
        other => other,
    }
}
