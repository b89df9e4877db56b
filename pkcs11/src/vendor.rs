//! The CloudHSM vendor constants of PKCS #11: the module's one copy of every number of
//! `include/cloudhsm_pkcs11_vendor_defs.h` (spec pkcs11.md §5), so that a later correction is
//! one line here and one in the header (a test checks that the two agree).
//!
//! Two kinds of value, as in the header: *verified* (the value AWS's published header
//! carried) and *emulator-assigned, not AWS's* (no public source gives AWS's value; ours sit in
//! the vendor range, `CKM_VENDOR_DEFINED | …`, built from the standard number where one
//! exists). The standard constants are `cryptoki_sys`'s; none is copied here.
//!
//! `CKM_SP800_108_COUNTER_KDF` here is CloudHSM's alias (0x80000001), not PKCS #11 3.0's
//! `cryptoki_sys::CKM_SP800_108_COUNTER_KDF` (0x3AC): name it through this module.

use cryptoki_sys::{
    CKA_VENDOR_DEFINED, CKK_VENDOR_DEFINED, CKM_AES_GCM, CKM_AES_KEY_WRAP, CKM_AES_KEY_WRAP_PAD,
    CKM_EDDSA, CKM_VENDOR_DEFINED, CK_ATTRIBUTE_TYPE, CK_EC_KDF_TYPE, CK_KEY_TYPE,
    CK_MECHANISM_TYPE, CK_ULONG,
};

/// `CK_PRF_TYPE` of the header: the PRF of the SP 800-108 KDF (an HMAC or CMAC mechanism).
#[allow(non_camel_case_types)]
pub type CK_PRF_TYPE = CK_MECHANISM_TYPE;
/// `CK_PRF_DATA_TYPE` of the header: the type of one input of the SP 800-108 KDF.
#[allow(non_camel_case_types)]
pub type CK_PRF_DATA_TYPE = CK_ULONG;
/// `CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE` of the header: a value of
/// [`CKA_CLOUDHSM_PARAMETER_SET`].
#[allow(non_camel_case_types)]
pub type CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE = CK_ULONG;

/// The vendor bit of the `CKD_*` namespace (PKCS #11 2.40 names none).
const CKD_VENDOR_DEFINED: CK_EC_KDF_TYPE = 0x8000_0000;

/// Whether a value is AWS's or ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// The value AWS's published header carried.
    Verified,
    /// Emulator-assigned, not AWS's: no public source gives AWS's value.
    EmulatorAssigned,
}

/// Defines each constant and [`ALL`], the table of every constant by its C name, so that a
/// name is written once.
macro_rules! vendor_constants {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $value:expr, $provenance:ident;)*) => {
        $(
            $(#[$doc])*
            pub const $name: $ty = $value;
        )*
        /// Every constant of the header: its C name, value and provenance.
        pub const ALL: &[(&str, CK_ULONG, Provenance)] =
            &[$((stringify!($name), $name, Provenance::$provenance)),*];
    };
}

vendor_constants! {
    /// AES-GCM where the HSM makes the IV and writes it back into the caller's
    /// `CK_GCM_PARAMS`.
    CKM_CLOUDHSM_AES_GCM: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED | CKM_AES_GCM, Verified;
    /// AES key wrap (RFC 3394), no padding.
    CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD: CK_MECHANISM_TYPE =
        CKM_VENDOR_DEFINED | CKM_AES_KEY_WRAP, Verified;
    /// AES key wrap with PKCS #5 padding.
    CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD: CK_MECHANISM_TYPE =
        CKM_VENDOR_DEFINED | CKM_AES_KEY_WRAP_PAD, Verified;
    /// AES key wrap with zero padding.
    CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD: CK_MECHANISM_TYPE =
        CKM_VENDOR_DEFINED | 0x216F, Verified;
    /// The SP 800-108 counter KDF with CloudHSM's parameter structures.
    CKM_CLOUDHSM_SP800_108_COUNTER_KDF: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED | 0x1, Verified;
    /// CloudHSM's older (deprecated) name of [`CKM_CLOUDHSM_SP800_108_COUNTER_KDF`].
    CKM_SP800_108_COUNTER_KDF: CK_MECHANISM_TYPE = CKM_CLOUDHSM_SP800_108_COUNTER_KDF, Verified;
    /// Triple-DES NIST key wrap of older SDKs.
    CKM_DES3_NIST_WRAP: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED | 0x8000, Verified;

    /// EdDSA (Ed25519, Ed25519ph).
    CKM_CLOUDHSM_EDDSA: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED | CKM_EDDSA, EmulatorAssigned;
    /// ML-DSA key pair generation (vendor | PKCS #11 3.2's `CKM_ML_DSA_KEY_PAIR_GEN`).
    CKM_CLOUDHSM_ML_DSA_KEY_PAIR_GEN: CK_MECHANISM_TYPE =
        CKM_VENDOR_DEFINED | 0x1C, EmulatorAssigned;
    /// ML-DSA signature of the message (vendor | 3.2's `CKM_ML_DSA`).
    CKM_CLOUDHSM_ML_DSA: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED | 0x1D, EmulatorAssigned;
    /// ML-DSA signature of a caller-computed 64-byte mu.
    CKM_CLOUDHSM_EXT_MU_ML_DSA: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED | 0x1E, EmulatorAssigned;

    /// ANSI X9.63 KDF with SHA-1 for `CKM_ECDH1_DERIVE`.
    CKD_CLOUDHSM_X963_SHA1_KDF: CK_EC_KDF_TYPE = CKD_VENDOR_DEFINED | 0x1, EmulatorAssigned;
    /// ANSI X9.63 KDF with SHA-224.
    CKD_CLOUDHSM_X963_SHA224_KDF: CK_EC_KDF_TYPE = CKD_VENDOR_DEFINED | 0x2, EmulatorAssigned;
    /// ANSI X9.63 KDF with SHA-256.
    CKD_CLOUDHSM_X963_SHA256_KDF: CK_EC_KDF_TYPE = CKD_VENDOR_DEFINED | 0x3, EmulatorAssigned;
    /// ANSI X9.63 KDF with SHA-384.
    CKD_CLOUDHSM_X963_SHA384_KDF: CK_EC_KDF_TYPE = CKD_VENDOR_DEFINED | 0x4, EmulatorAssigned;
    /// ANSI X9.63 KDF with SHA-512.
    CKD_CLOUDHSM_X963_SHA512_KDF: CK_EC_KDF_TYPE = CKD_VENDOR_DEFINED | 0x5, EmulatorAssigned;

    /// The key type of ML-DSA keys (vendor | 3.2's `CKK_ML_DSA`).
    CKK_CLOUDHSM_ML_DSA: CK_KEY_TYPE = CKK_VENDOR_DEFINED | 0x4A, EmulatorAssigned;
    /// The parameter set of an ML-DSA key (vendor | 3.2's `CKA_PARAMETER_SET`).
    CKA_CLOUDHSM_PARAMETER_SET: CK_ATTRIBUTE_TYPE = CKA_VENDOR_DEFINED | 0x61D, EmulatorAssigned;
    /// ML-DSA-44 (PKCS #11 3.2's value).
    CKP_CLOUDHSM_ML_DSA_44: CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE = 0x1, EmulatorAssigned;
    /// ML-DSA-65.
    CKP_CLOUDHSM_ML_DSA_65: CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE = 0x2, EmulatorAssigned;
    /// ML-DSA-87.
    CKP_CLOUDHSM_ML_DSA_87: CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE = 0x3, EmulatorAssigned;

    /// SP 800-108 input, explicit layout: the counter (`CK_SP800_108_COUNTER_FORMAT`).
    CK_SP800_108_ITERATION_VARIABLE: CK_PRF_DATA_TYPE = 0x1, Verified;
    /// SP 800-108 input, explicit layout: L (`CK_SP800_108_DKM_LENGTH_FORMAT`).
    CK_SP800_108_DKM_LENGTH: CK_PRF_DATA_TYPE = 0x2, Verified;
    /// SP 800-108 input, explicit layout: bytes taken as given.
    CK_SP800_108_BYTE_ARRAY: CK_PRF_DATA_TYPE = 0x3, Verified;
    /// SP 800-108 input, implicit layout: the counter's format.
    SP800_108_COUNTER_FORMAT: CK_PRF_DATA_TYPE = 0x4, Verified;
    /// SP 800-108 input, implicit layout: the label.
    SP800_108_PRF_LABEL: CK_PRF_DATA_TYPE = 0x5, Verified;
    /// SP 800-108 input, implicit layout: the context.
    SP800_108_PRF_CONTEXT: CK_PRF_DATA_TYPE = 0x6, Verified;
    /// SP 800-108 input, implicit layout: the format of L.
    SP800_108_DKM_FORMAT: CK_PRF_DATA_TYPE = 0x7, Verified;
    /// SP 800-108 input, implicit layout: bytes.
    SP800_108_BYTE_ARRAY: CK_PRF_DATA_TYPE = 0x8, Verified;
    /// `dkmLengthMethod`: L is the sum of the derived keys' lengths.
    SP800_108_DKM_LENGTH_SUM_OF_KEYS: CK_ULONG = 1, Verified;
    /// `dkmLengthMethod`: L is the sum of the PRF output segments' lengths.
    SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS: CK_ULONG = 2, Verified;
}

/// The [`CKA_CLOUDHSM_PARAMETER_SET`] value of an ML-DSA algorithm.
pub(crate) fn parameter_set(
    algorithm: cloudhsm_sim::hsm::crypto::MlDsaAlgorithm,
) -> CK_CLOUDHSM_ML_DSA_PARAMETER_SET_TYPE {
    use cloudhsm_sim::hsm::crypto::MlDsaAlgorithm;
    match algorithm {
        MlDsaAlgorithm::MlDsa44 => CKP_CLOUDHSM_ML_DSA_44,
        MlDsaAlgorithm::MlDsa65 => CKP_CLOUDHSM_ML_DSA_65,
        MlDsaAlgorithm::MlDsa87 => CKP_CLOUDHSM_ML_DSA_87,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const HEADER: &str = include_str!("../include/cloudhsm_pkcs11_vendor_defs.h");

    /// The `#define NAME VALUE` lines of the header with a numeric value (the include guard,
    /// which has none, is skipped). A value that is not a plain number fails the test: the
    /// header spells every value as a literal so that this check reads it as C does.
    fn header_defines() -> BTreeMap<String, CK_ULONG> {
        let mut defines = BTreeMap::new();
        for line in HEADER.lines() {
            let mut words = line.split_whitespace();
            if words.next() != Some("#define") {
                continue;
            }
            let Some(name) = words.next() else { continue };
            let Some(value) = words.next() else { continue };
            let digits = value.trim_end_matches(['U', 'L', 'u', 'l']);
            let parsed = match digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
                Some(hex) => CK_ULONG::from_str_radix(hex, 16),
                None => digits.parse(),
            };
            let Ok(parsed) = parsed else {
                panic!("{name}: value {value} is not a literal number");
            };
            assert!(
                defines.insert(name.to_string(), parsed).is_none(),
                "{name} defined twice"
            );
        }
        defines
    }

    #[test]
    fn the_header_and_this_module_define_the_same_names_and_values() {
        let header = header_defines();
        let ours: BTreeMap<String, CK_ULONG> = ALL
            .iter()
            .map(|(name, value, _)| (name.to_string(), *value))
            .collect();
        assert_eq!(ours.len(), ALL.len(), "a name appears twice in ALL");
        assert_eq!(header, ours);
    }

    #[test]
    fn the_header_marks_exactly_the_emulator_assigned_names() {
        // Each emulator-assigned define sits in a block or line that says so; verified ones
        // never do.
        let mut marked = false;
        for line in HEADER.lines() {
            if line.starts_with("/* ----") {
                marked = line.contains("emulator-assigned, not AWS's");
            }
            let mut words = line.split_whitespace();
            if words.next() != Some("#define") {
                continue;
            }
            let Some(name) = words.next() else { continue };
            let Some((_, _, provenance)) = ALL.iter().find(|(n, _, _)| *n == name) else {
                continue;
            };
            let expected = *provenance == Provenance::EmulatorAssigned;
            assert_eq!(marked, expected, "{name}: marking in the header");
        }
    }

    #[test]
    fn ours_are_in_the_vendor_range_and_distinct_from_each_other() {
        let vendor = [
            CKM_CLOUDHSM_EDDSA,
            CKM_CLOUDHSM_ML_DSA_KEY_PAIR_GEN,
            CKM_CLOUDHSM_ML_DSA,
            CKM_CLOUDHSM_EXT_MU_ML_DSA,
            CKD_CLOUDHSM_X963_SHA1_KDF,
            CKD_CLOUDHSM_X963_SHA224_KDF,
            CKD_CLOUDHSM_X963_SHA256_KDF,
            CKD_CLOUDHSM_X963_SHA384_KDF,
            CKD_CLOUDHSM_X963_SHA512_KDF,
            CKK_CLOUDHSM_ML_DSA,
            CKA_CLOUDHSM_PARAMETER_SET,
        ];
        assert!(vendor.iter().all(|v| v & 0x8000_0000 != 0));
        // No two mechanisms share a number, AWS's aliases apart.
        let mut mechanisms: Vec<CK_MECHANISM_TYPE> = ALL
            .iter()
            .filter(|(name, _, _)| name.starts_with("CKM_") && *name != "CKM_SP800_108_COUNTER_KDF")
            .map(|(_, value, _)| *value)
            .collect();
        let count = mechanisms.len();
        mechanisms.sort_unstable();
        mechanisms.dedup();
        assert_eq!(mechanisms.len(), count);
        assert_eq!(CKM_CLOUDHSM_AES_GCM, 0x8000_1087);
        assert_eq!(CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD, 0x8000_216F);
    }
}
