//! The one place a refusal of the simulated cluster becomes a PKCS#11 return code. Where
//! AWS documents the code (spec/pkcs11.md §1.3, §4.1) it is that one; the others are the
//! standard's code for the same condition, each listed in docs/pkcs11.md.

use cloudhsm_sim::hsm::crypto::{CryptoError, Direction};
use cloudhsm_sim::hsm::key::KeyError;
use cloudhsm_sim::hsm::{CertificateError, HsmError};
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
        HsmError::Certificate(c) => certificate_rv(c),
        _ => CKR_FUNCTION_FAILED,
    }
}

fn certificate_rv(e: &CertificateError) -> CK_RV {
    match e {
        // Without certificate storage the class is one the library does not know.
        CertificateError::NeedsHsm2m
        | CertificateError::TooLong { .. }
        | CertificateError::LabelNotText => CKR_ATTRIBUTE_VALUE_INVALID,
        CertificateError::Missing { .. } => CKR_TEMPLATE_INCOMPLETE,
        CertificateError::NotFound => CKR_OBJECT_HANDLE_INVALID,
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
        KeyError::NeedsHsm2m { .. }
        | KeyError::NeedsHsm2mNonFips { .. }
        | KeyError::DisallowedInFipsMode { .. }
        | KeyError::Des3InFipsMode => CKR_MECHANISM_INVALID,
        KeyError::NotModifiable => CKR_ACTION_PROHIBITED,
        KeyError::NotExtractable => CKR_KEY_UNEXTRACTABLE,
        // Spec Q17: a wrap-with-trusted key wrapped by an untrusted key.
        KeyError::NeedsTrustedWrappingKey | KeyError::WrapTemplateMismatch { .. } => {
            CKR_KEY_NOT_WRAPPABLE
        }
        KeyError::UnwrapTemplateConflict { .. } => CKR_TEMPLATE_INCONSISTENT,
        KeyError::UnwrappedTypeMismatch { .. } | KeyError::MlDsaUnwrap => CKR_WRAPPED_KEY_INVALID,
        KeyError::Crypto(c) => crypto_rv(c),
        _ => CKR_FUNCTION_FAILED,
    }
}

fn crypto_rv(e: &CryptoError) -> CK_RV {
    match e {
        CryptoError::WrongKeyType { .. } => CKR_KEY_TYPE_INCONSISTENT,
        CryptoError::AesKeyLength { .. }
        | CryptoError::Des3KeyLength { .. }
        | CryptoError::GenericSecretLength { .. }
        | CryptoError::ModulusSize { .. } => CKR_KEY_SIZE_RANGE,
        CryptoError::PublicExponent { .. } => CKR_ATTRIBUTE_VALUE_INVALID,
        CryptoError::UnsupportedCurve { .. } | CryptoError::UnsupportedCurveOid { .. } => {
            CKR_CURVE_NOT_SUPPORTED
        }
        CryptoError::DataTooLong { .. }
        | CryptoError::DigestLength { .. }
        | CryptoError::DigestInfo { .. }
        | CryptoError::CounterExhausted { .. }
        | CryptoError::RawRsaTooLarge { .. }
        | CryptoError::BlockMultiple { .. } => CKR_DATA_LEN_RANGE,
        CryptoError::MgfMismatch
        | CryptoError::SaltLength { .. }
        | CryptoError::TagLength { .. }
        | CryptoError::Iv { .. }
        | CryptoError::CounterBits { .. }
        | CryptoError::OaepMgfMismatch { .. } => CKR_MECHANISM_PARAM_INVALID,
        // ki-pkcs11-8: multi-part AES-GCM is "CKR_MECHANISM_INVALID" on update.
        CryptoError::SinglePartOnly { .. } => CKR_MECHANISM_INVALID,
        CryptoError::Decrypt { .. } => CKR_ENCRYPTED_DATA_INVALID,
        CryptoError::PayloadLength { .. } => CKR_KEY_SIZE_RANGE,
        CryptoError::Unwrap { .. } => CKR_WRAPPED_KEY_INVALID,
        _ => CKR_FUNCTION_FAILED,
    }
}

/// [`rv`] in `C_GenerateKeyPair`: a curve the cluster's type or mode lacks (Ed25519 outside
/// hsm2m.medium in non-FIPS mode) is `CKR_CURVE_NOT_SUPPORTED`; `CKM_EC_KEY_PAIR_GEN` itself
/// is valid there.
pub(crate) fn generate_rv(e: &HsmError) -> CK_RV {
    match e {
        HsmError::Key(KeyError::NeedsHsm2mNonFips { .. }) => CKR_CURVE_NOT_SUPPORTED,
        _ => rv(e),
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

/// [`key_use_rv`] in an encryption or decryption: in a decryption the input is the
/// ciphertext, so input of a length or value the mechanism cannot take is
/// `CKR_ENCRYPTED_DATA_LEN_RANGE` (PKCS#11 `C_Decrypt` has no `CKR_DATA_LEN_RANGE`).
pub(crate) fn cipher_rv(e: &HsmError, direction: Direction) -> CK_RV {
    match (key_use_rv(e), direction) {
        (CKR_DATA_LEN_RANGE, Direction::Decrypt) => CKR_ENCRYPTED_DATA_LEN_RANGE,
        (rv, _) => rv,
    }
}
