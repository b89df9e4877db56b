//! Templates of the key-making functions: the caller's attributes read once, checked
//! against AWS's tables of what each function takes for each kind of key (spec/pkcs11.md
//! §4.2–§4.3), and turned into the cluster's typed request. The attribute rules themselves
//! (defaults, one-way flags, what fits a key) are the cluster's, shared with the CLI.

use cloudhsm_sim::hsm::key::attributes::{AttributeIds, Flag};
use cloudhsm_sim::hsm::key::{Assignment, Attribute, KeyClass, KeyType};
use cryptoki_sys::*;

use crate::attributes::{class, key_type, Cka, Column};
use crate::boundary::{self, Result};

/// One attribute of a template, its value copied out of the caller's memory.
pub(crate) struct Given {
    pub(crate) ty: CK_ATTRIBUTE_TYPE,
    pub(crate) value: Vec<u8>,
    /// The attributes of an attribute array (`CKA_WRAP_TEMPLATE`, `CKA_UNWRAP_TEMPLATE`),
    /// deep-copied: their values point into the caller's memory too.
    pub(crate) nested: Vec<Given>,
}

/// Reads a template: every value copied, an attribute given twice refused.
///
/// # Safety
/// `p` is NULL or points to `count` attributes whose values are readable (an attribute
/// array's entries too).
pub(crate) unsafe fn read(p: *mut CK_ATTRIBUTE, count: CK_ULONG) -> Result<Vec<Given>> {
    // SAFETY: forwarded from the caller.
    unsafe { read_nested(p, count, true) }
}

/// [`read`], the arrays of attribute arrays read too when `arrays` (one level deep: a
/// template inside a template is no attribute CloudHSM takes).
///
/// # Safety
/// As [`read`].
unsafe fn read_nested(p: *mut CK_ATTRIBUTE, count: CK_ULONG, arrays: bool) -> Result<Vec<Given>> {
    // SAFETY: forwarded from the caller.
    let attrs = unsafe { boundary::template(p, count) }?;
    let mut given: Vec<Given> = Vec::with_capacity(attrs.len());
    for a in attrs.iter() {
        if given.iter().any(|g| g.ty == a.type_) {
            return Err(CKR_TEMPLATE_INCONSISTENT);
        }
        // SAFETY: the caller's contract for each attribute.
        let value = unsafe { boundary::value(a) }?.to_vec();
        let mut nested = Vec::new();
        if arrays && crate::wrapping::is_template(a.type_) {
            let size = size_of::<CK_ATTRIBUTE>() as CK_ULONG;
            let aligned = (a.pValue as usize).is_multiple_of(align_of::<CK_ATTRIBUTE>());
            if a.ulValueLen % size != 0 || !aligned {
                return Err(CKR_ATTRIBUTE_VALUE_INVALID);
            }
            // SAFETY: the value is an array of `ulValueLen / size` attributes (the caller's
            // contract for an attribute array), aligned (checked above).
            nested =
                unsafe { read_nested(a.pValue as *mut CK_ATTRIBUTE, a.ulValueLen / size, false) }?;
        }
        given.push(Given {
            ty: a.type_,
            value,
            nested,
        });
    }
    Ok(given)
}

pub(crate) fn bool_of(g: &Given) -> Result<bool> {
    match g.value.as_slice() {
        [b] => Ok(*b != CK_FALSE),
        _ => Err(CKR_ATTRIBUTE_VALUE_INVALID),
    }
}

pub(crate) fn ulong_of(g: &Given) -> Result<CK_ULONG> {
    let bytes: [u8; size_of::<CK_ULONG>()] = g
        .value
        .as_slice()
        .try_into()
        .map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?;
    Ok(CK_ULONG::from_ne_bytes(bytes))
}

/// Which function makes the key: their tables differ (AWS's "PKCS #11 attributes" page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Making {
    /// `C_GenerateKey`, `C_GenerateKeyPair`.
    Generate,
    /// `C_CreateObject`: a key given in the clear.
    Create,
    /// `C_DeriveKey`: a secret key derived in the HSM.
    Derive,
}

/// What a creating function may be given for a kind of key: `Y` taken, `R` read-only, `1`
/// only its default (`CKA_PRIVATE` true; a private key's `CKA_SENSITIVE` true), `2` taken by
/// the function itself (size, exponent, curve, material), `N` not taken.
fn support(ty: CK_ATTRIBUTE_TYPE, column: Column, making: Making) -> u8 {
    // Columns: EC private, EC public, RSA private, RSA public, ML-DSA private, ML-DSA
    // public, AES, DES3, generic secret.
    let row: &[u8; 9] = match making {
        Making::Generate => generate_row(ty),
        Making::Create => create_row(ty),
        Making::Derive => derive_row(ty),
    };
    let i = match column {
        Column::EcPrivate => 0,
        Column::EcPublic => 1,
        Column::RsaPrivate => 2,
        Column::RsaPublic => 3,
        Column::MlDsaPrivate => 4,
        Column::MlDsaPublic => 5,
        Column::Aes => 6,
        Column::Des3 => 7,
        Column::GenericSecret => 8,
    };
    row[i]
}

/// `C_CreateObject` (spec/pkcs11.md §4.4; ML-DSA keys cannot be imported).
fn create_row(ty: CK_ATTRIBUTE_TYPE) -> &'static [u8; 9] {
    match ty {
        CKA_CLASS | CKA_KEY_TYPE | CKA_LABEL | CKA_ID | CKA_TOKEN => b"YYYYNNYYY",
        CKA_LOCAL => b"RRRRNNRRR",
        CKA_PRIVATE => b"1111NN111",
        CKA_ENCRYPT => b"NNNYNNYYN",
        CKA_DECRYPT => b"NNYNNNYYN",
        CKA_DERIVE => b"YYYYNNYYY",
        CKA_MODIFIABLE | CKA_DESTROYABLE => b"YYYYNNYYY",
        CKA_SIGN => b"YNYNNNYYY",
        CKA_VERIFY => b"NYNYNNYYY",
        CKA_WRAP => b"NNNYNNYYN",
        CKA_TRUSTED => b"NYNYNNYYN",
        CKA_WRAP_WITH_TRUSTED => b"YNYNNNYYY",
        CKA_UNWRAP => b"NNYNNNYYN",
        CKA_SENSITIVE | CKA_EXTRACTABLE => b"YNYNNNYYY",
        CKA_ALWAYS_SENSITIVE | CKA_NEVER_EXTRACTABLE => b"RNRNNNRRR",
        CKA_MODULUS | CKA_PUBLIC_EXPONENT => b"NN22NNNNN",
        CKA_PRIVATE_EXPONENT => b"NN2NNNNNN",
        CKA_PRIME_1 | CKA_PRIME_2 | CKA_EXPONENT_1 | CKA_EXPONENT_2 | CKA_COEFFICIENT => {
            b"NN2NNNNNN"
        }
        CKA_EC_PARAMS => b"22NNNNNNN",
        CKA_EC_POINT => b"N2NNNNNNN",
        CKA_VALUE => b"2NNNNN222",
        CKA_CHECK_VALUE => b"RRRRNNRRR",
        _ => b"NNNNNNNNN",
    }
}

/// `C_DeriveKey` (spec/pkcs11.md §4.5: secret keys only). `S`: `CKA_SENSITIVE`, read-only
/// but accepted at its value, true.
fn derive_row(ty: CK_ATTRIBUTE_TYPE) -> &'static [u8; 9] {
    match ty {
        CKA_CLASS | CKA_KEY_TYPE | CKA_LABEL | CKA_ID | CKA_TOKEN => b"NNNNNNYYY",
        CKA_LOCAL | CKA_NEVER_EXTRACTABLE | CKA_ALWAYS_SENSITIVE | CKA_CHECK_VALUE => b"NNNNNNRRR",
        CKA_PRIVATE => b"NNNNNN111",
        CKA_ENCRYPT | CKA_DECRYPT | CKA_WRAP | CKA_UNWRAP => b"NNNNNNYYN",
        CKA_DERIVE | CKA_MODIFIABLE | CKA_DESTROYABLE | CKA_SIGN | CKA_VERIFY | CKA_EXTRACTABLE => {
            b"NNNNNNYYY"
        }
        CKA_SENSITIVE => b"NNNNNNSSS",
        CKA_VALUE_LEN => b"NNNNNN2N2",
        _ => b"NNNNNNNNN",
    }
}

/// `C_GenerateKeyPair` (the six asymmetric columns) and `C_GenerateKey` (the three secret
/// ones): spec/pkcs11.md §4.2–§4.3.
fn generate_row(ty: CK_ATTRIBUTE_TYPE) -> &'static [u8; 9] {
    match ty {
        CKA_CLASS | CKA_KEY_TYPE | CKA_LABEL | CKA_ID | CKA_TOKEN => b"YYYYYYYYY",
        CKA_LOCAL => b"RRRRRRRRR",
        CKA_PRIVATE => b"111111111",
        CKA_ENCRYPT => b"NYNYNNYYN",
        CKA_DECRYPT => b"YNYNNNYYN",
        CKA_DERIVE => b"YYYYNNYYY",
        CKA_MODIFIABLE | CKA_DESTROYABLE => b"YYYYYYYYY",
        CKA_SIGN => b"YNYNYNYYY",
        CKA_VERIFY => b"NYNYNYYYY",
        CKA_WRAP => b"NYNYNNYYN",
        CKA_WRAP_TEMPLATE => b"NYNYNNYYN",
        CKA_UNWRAP_TEMPLATE => b"YNYNNNYYN",
        CKA_TRUSTED => b"NYNYNYYYN",
        CKA_WRAP_WITH_TRUSTED => b"YNYNYNYYY",
        CKA_UNWRAP => b"YNYNNNYYN",
        CKA_SENSITIVE => b"1N1NYNYYY",
        CKA_ALWAYS_SENSITIVE => b"RNRNNNNNN",
        CKA_EXTRACTABLE => b"YNYNYNYYY",
        CKA_NEVER_EXTRACTABLE => b"RNRNNNRRR",
        CKA_MODULUS_BITS | CKA_PUBLIC_EXPONENT => b"NNN2NNNNN",
        CKA_EC_PARAMS => b"N2NNNNNNN",
        CKA_VALUE_LEN => b"NNNNNN2N2",
        CKA_CHECK_VALUE => b"RRRRNNRRR",
        _ => b"NNNNNNNNN",
    }
}

/// The attributes of one new key, as the cluster takes them.
#[derive(Debug, Default)]
pub(crate) struct KeyTemplate {
    pub(crate) token: bool,
    pub(crate) label: String,
    pub(crate) assignments: Vec<Assignment>,
}

/// Checks `given` for a new key of `key_type` and `key_class` made by `making`, and returns
/// what the cluster takes; the attributes of kind `2` (sizes, exponent, curve, material) are
/// left to the caller.
pub(crate) fn key_template(
    given: &[Given],
    kt: KeyType,
    kc: KeyClass,
    making: Making,
) -> Result<KeyTemplate> {
    let column = Column::of(kt, kc);
    let support = |ty| support(ty, column, making);
    let mut out = KeyTemplate::default();
    // A secret key given in the clear or derived neither signs nor verifies unless the
    // template says so (AWS's tables; a generated one does both).
    if making != Making::Generate && kc == KeyClass::SecretKey {
        out.assignments.push(Assignment::Flag(Flag::Sign, false));
        out.assignments.push(Assignment::Flag(Flag::Verify, false));
    }
    for g in given {
        if !crate::attributes::is_key_attribute(g.ty) {
            return Err(CKR_ATTRIBUTE_TYPE_INVALID);
        }
        match support(g.ty) {
            b'Y' | b'1' | b'2' => {}
            b'S' if bool_of(g)? => continue,
            b'R' | b'S' => return Err(CKR_ATTRIBUTE_READ_ONLY),
            // A flag AWS does not take for this key is still accepted at its default, false.
            _ if is_flag(g.ty) && !bool_of(g)? => continue,
            _ => return Err(CKR_TEMPLATE_INCONSISTENT),
        }
        match g.ty {
            CKA_CLASS => {
                if ulong_of(g)? != class(kc) {
                    return Err(CKR_TEMPLATE_INCONSISTENT);
                }
            }
            CKA_KEY_TYPE => {
                if ulong_of(g)? != key_type(kt) {
                    return Err(CKR_TEMPLATE_INCONSISTENT);
                }
            }
            CKA_TOKEN => out.token = bool_of(g)?,
            CKA_LABEL => {
                out.label =
                    String::from_utf8(g.value.clone()).map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?;
            }
            CKA_ID => out.assignments.push(Assignment::Id(g.value.clone())),
            CKA_PRIVATE => {
                // "Must be explicitly set only to the default value" (AWS, footnote 1).
                if !bool_of(g)? {
                    return Err(CKR_ATTRIBUTE_VALUE_INVALID);
                }
            }
            CKA_SENSITIVE if support(g.ty) == b'1' && !bool_of(g)? => {
                return Err(CKR_ATTRIBUTE_VALUE_INVALID);
            }
            // Only an admin trusts a key, with the CLI (spec/pkcs11.md Q17).
            CKA_TRUSTED if bool_of(g)? => return Err(CKR_ATTRIBUTE_VALUE_INVALID),
            CKA_MODULUS_BITS | CKA_PUBLIC_EXPONENT | CKA_EC_PARAMS | CKA_VALUE_LEN
            | CKA_MODULUS | CKA_PRIVATE_EXPONENT | CKA_PRIME_1 | CKA_PRIME_2 | CKA_EXPONENT_1
            | CKA_EXPONENT_2 | CKA_COEFFICIENT | CKA_EC_POINT | CKA_VALUE => {}
            CKA_WRAP_TEMPLATE | CKA_UNWRAP_TEMPLATE => {
                out.assignments
                    .push(crate::wrapping::template_assignment(g)?);
            }
            ty => match Cka::attribute(ty) {
                Some(Attribute::Flag(flag)) => {
                    out.assignments.push(Assignment::Flag(flag, bool_of(g)?));
                }
                _ => return Err(CKR_TEMPLATE_INCONSISTENT),
            },
        }
    }
    Ok(out)
}

fn is_flag(ty: CK_ATTRIBUTE_TYPE) -> bool {
    matches!(Cka::attribute(ty), Some(Attribute::Flag(f)) if f != Flag::Token)
        || matches!(ty, CKA_SIGN_RECOVER | CKA_VERIFY_RECOVER)
}

/// The value of `ty` in `given`, if given.
pub(crate) fn find(given: &[Given], ty: CK_ATTRIBUTE_TYPE) -> Option<&Given> {
    given.iter().find(|g| g.ty == ty)
}
