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
}

/// Reads a template: every value copied, an attribute given twice refused.
///
/// # Safety
/// `p` is NULL or points to `count` attributes whose values are readable.
pub(crate) unsafe fn read(p: *mut CK_ATTRIBUTE, count: CK_ULONG) -> Result<Vec<Given>> {
    // SAFETY: forwarded from the caller.
    let attrs = unsafe { boundary::template(p, count) }?;
    let mut given: Vec<Given> = Vec::with_capacity(attrs.len());
    for a in attrs.iter() {
        if given.iter().any(|g| g.ty == a.type_) {
            return Err(CKR_TEMPLATE_INCONSISTENT);
        }
        // SAFETY: the caller's contract for each attribute.
        let value = unsafe { boundary::value(a) }?.to_vec();
        given.push(Given { ty: a.type_, value });
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

/// What a creating function may be given for a kind of key: `Y` taken, `R` read-only, `1`
/// only its default (`CKA_PRIVATE` true; a private key's `CKA_SENSITIVE` true), `2` taken by
/// the function itself (size, exponent, curve), `N` not taken.
fn support(ty: CK_ATTRIBUTE_TYPE, column: Column) -> u8 {
    // Columns: EC private, EC public, RSA private, RSA public, ML-DSA private, ML-DSA
    // public (C_GenerateKeyPair), then AES, DES3, generic secret (C_GenerateKey).
    let row: &[u8; 9] = match ty {
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

/// The attributes of one new key, as the cluster takes them.
#[derive(Debug, Default)]
pub(crate) struct KeyTemplate {
    pub(crate) token: bool,
    pub(crate) label: String,
    pub(crate) assignments: Vec<Assignment>,
}

/// Checks `given` for a new key of `key_type` and `key_class`, and returns what the cluster
/// takes; the attributes of kind `2` (sizes, exponent, curve) are left to the caller.
pub(crate) fn key_template(given: &[Given], kt: KeyType, kc: KeyClass) -> Result<KeyTemplate> {
    let column = Column::of(kt, kc);
    let mut out = KeyTemplate::default();
    for g in given {
        if !crate::attributes::is_key_attribute(g.ty) {
            return Err(CKR_ATTRIBUTE_TYPE_INVALID);
        }
        match support(g.ty, column) {
            b'Y' | b'1' | b'2' => {}
            b'R' => return Err(CKR_ATTRIBUTE_READ_ONLY),
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
            CKA_SENSITIVE if support(g.ty, column) == b'1' && !bool_of(g)? => {
                return Err(CKR_ATTRIBUTE_VALUE_INVALID);
            }
            CKA_MODULUS_BITS | CKA_PUBLIC_EXPONENT | CKA_EC_PARAMS | CKA_VALUE_LEN => {}
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
