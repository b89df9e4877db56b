//! CloudHSM's vendor constants (spec/pkcs11.md §5). Values AWS never published are ours,
//! in the vendor range, marked "emulator-assigned".

use cloudhsm_sim::hsm::crypto::MlDsaAlgorithm;
use cryptoki_sys::{
    CKA_VENDOR_DEFINED, CKK_VENDOR_DEFINED, CK_ATTRIBUTE_TYPE, CK_KEY_TYPE, CK_ULONG,
};

/// `CKA_CLOUDHSM_PARAMETER_SET` (the ML-DSA parameter set). Emulator-assigned.
pub const CKA_CLOUDHSM_PARAMETER_SET: CK_ATTRIBUTE_TYPE = CKA_VENDOR_DEFINED | 0x61D;

/// The key type of ML-DSA keys. Emulator-assigned.
pub const CKK_CLOUDHSM_ML_DSA: CK_KEY_TYPE = CKK_VENDOR_DEFINED | 0x4A;

/// `CKP_CLOUDHSM_ML_DSA_44/65/87`. Emulator-assigned.
pub const CKP_CLOUDHSM_ML_DSA_44: CK_ULONG = 1;
pub const CKP_CLOUDHSM_ML_DSA_65: CK_ULONG = 2;
pub const CKP_CLOUDHSM_ML_DSA_87: CK_ULONG = 3;

/// The `CKA_CLOUDHSM_PARAMETER_SET` value of an ML-DSA algorithm.
pub(crate) fn parameter_set(algorithm: MlDsaAlgorithm) -> CK_ULONG {
    match algorithm {
        MlDsaAlgorithm::MlDsa44 => CKP_CLOUDHSM_ML_DSA_44,
        MlDsaAlgorithm::MlDsa65 => CKP_CLOUDHSM_ML_DSA_65,
        MlDsaAlgorithm::MlDsa87 => CKP_CLOUDHSM_ML_DSA_87,
    }
}

/// `CKM_CLOUDHSM_AES_GCM`: AES-GCM with the HSM's IV prepended to the ciphertext (AWS's
/// "Supported mechanisms", note 3; spec/pkcs11.md §3.4). Added alone by the encryption work
/// until the complete vendor header of the other branch replaces this file.
pub const CKM_CLOUDHSM_AES_GCM: cryptoki_sys::CK_MECHANISM_TYPE = 0x8000_1087;
