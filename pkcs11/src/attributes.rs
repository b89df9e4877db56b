//! Key attributes as PKCS#11 sees them: the `CKA_*` id of each attribute of the cluster's
//! one attribute table (`hsm::key::attributes::ATTRIBUTES`, through [`AttributeIds`]), how
//! each value is encoded, which a `C_GetAttributeValue` may read for each kind of key
//! (AWS CloudHSM User Guide, "Interpreting the PKCS #11 attributes table"; spec/pkcs11.md
//! §4.6), and which a template may give when a key is made (§4.2–§4.3).

use cloudhsm_sim::hsm::crypto::Curve;
use cloudhsm_sim::hsm::key::attributes::{AttributeIds, Flag};
use cloudhsm_sim::hsm::key::{Attribute, Key, KeyClass, KeyType, Typed, Value};
use cryptoki_sys::*;

use crate::vendor;

/// The `CKA_*` ids of the cluster's attributes.
pub(crate) struct Cka;

impl AttributeIds for Cka {
    type Id = CK_ATTRIBUTE_TYPE;

    fn id(attribute: Attribute) -> Option<CK_ATTRIBUTE_TYPE> {
        Some(match attribute {
            Attribute::KeyType => CKA_KEY_TYPE,
            Attribute::Label => CKA_LABEL,
            Attribute::Id => CKA_ID,
            Attribute::CheckValue => CKA_CHECK_VALUE,
            Attribute::Class => CKA_CLASS,
            Attribute::Flag(flag) => match flag {
                Flag::Encrypt => CKA_ENCRYPT,
                Flag::Decrypt => CKA_DECRYPT,
                Flag::Token => CKA_TOKEN,
                Flag::AlwaysSensitive => CKA_ALWAYS_SENSITIVE,
                Flag::Derive => CKA_DERIVE,
                Flag::Destroyable => CKA_DESTROYABLE,
                Flag::Extractable => CKA_EXTRACTABLE,
                Flag::Local => CKA_LOCAL,
                Flag::Modifiable => CKA_MODIFIABLE,
                Flag::NeverExtractable => CKA_NEVER_EXTRACTABLE,
                Flag::Private => CKA_PRIVATE,
                Flag::Sensitive => CKA_SENSITIVE,
                Flag::Sign => CKA_SIGN,
                Flag::Trusted => CKA_TRUSTED,
                Flag::Unwrap => CKA_UNWRAP,
                Flag::Verify => CKA_VERIFY,
                Flag::Wrap => CKA_WRAP,
                Flag::WrapWithTrusted => CKA_WRAP_WITH_TRUSTED,
            },
            Attribute::MlDsaAlgorithm => vendor::CKA_CLOUDHSM_PARAMETER_SET,
            Attribute::KeyLengthBytes => CKA_VALUE_LEN,
            Attribute::PublicExponent => CKA_PUBLIC_EXPONENT,
            Attribute::Modulus => CKA_MODULUS,
            Attribute::ModulusSizeBits => CKA_MODULUS_BITS,
            Attribute::EcPoint => CKA_EC_POINT,
            Attribute::Curve => CKA_EC_PARAMS,
        })
    }
}

/// The columns of AWS's attribute tables: a kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    EcPrivate,
    EcPublic,
    RsaPrivate,
    RsaPublic,
    MlDsaPrivate,
    MlDsaPublic,
    Aes,
    Des3,
    GenericSecret,
}

impl Column {
    pub(crate) fn of(key_type: KeyType, class: KeyClass) -> Column {
        match (key_type, class) {
            (KeyType::Ec, KeyClass::PublicKey) => Column::EcPublic,
            (KeyType::Ec, _) => Column::EcPrivate,
            (KeyType::Rsa, KeyClass::PublicKey) => Column::RsaPublic,
            (KeyType::Rsa, _) => Column::RsaPrivate,
            (KeyType::MlDsa, KeyClass::PublicKey) => Column::MlDsaPublic,
            (KeyType::MlDsa, _) => Column::MlDsaPrivate,
            (KeyType::Aes, _) => Column::Aes,
            (KeyType::Des3, _) => Column::Des3,
            (KeyType::GenericSecret, _) => Column::GenericSecret,
        }
    }

    /// Position in the readability table's rows.
    fn read_index(self) -> usize {
        self as usize
    }
}

/// Readability (§4.6), columns EC private, EC public, RSA private, RSA public, ML-DSA
/// private, ML-DSA public, AES, DES3, generic secret: `Y` readable, `N` not (the attribute is
/// invalid for the key: `CKR_ATTRIBUTE_TYPE_INVALID`), `S` sensitive.
const READABLE: &[(CK_ATTRIBUTE_TYPE, &str)] = &[
    (CKA_CLASS, "YYYYYYYYY"),
    (CKA_KEY_TYPE, "YYYYYYYYY"),
    (CKA_LABEL, "YYYYYYYYY"),
    (CKA_ID, "YYYYYYYYY"),
    (CKA_TOKEN, "YYYYYYYYY"),
    (CKA_PRIVATE, "YYYYYYYYY"),
    (CKA_MODIFIABLE, "YYYYYYYYY"),
    (CKA_DESTROYABLE, "YYYYYYYYY"),
    (CKA_LOCAL, "YYYYYYYYY"),
    (CKA_ENCRYPT, "NNNYNNYYN"),
    (CKA_DECRYPT, "NNYNNNYYN"),
    (CKA_DERIVE, "YYYYNNYYY"),
    (CKA_SIGN, "YNYNYNYYY"),
    (CKA_SIGN_RECOVER, "NNYNNNNNN"),
    (CKA_VERIFY, "NYNYNYYYY"),
    (CKA_VERIFY_RECOVER, "NNNYNNNNN"),
    (CKA_WRAP, "NNNYNNYYN"),
    (CKA_WRAP_TEMPLATE, "NYNYNNYYN"),
    (CKA_TRUSTED, "NYNYNYYYY"),
    (CKA_WRAP_WITH_TRUSTED, "YNYNYNYYY"),
    (CKA_UNWRAP, "NNYNNNYYN"),
    (CKA_UNWRAP_TEMPLATE, "YNYNNNYYN"),
    (CKA_SENSITIVE, "YNYNYNYYY"),
    (CKA_EXTRACTABLE, "YNYNYNYYY"),
    (CKA_NEVER_EXTRACTABLE, "YNYNYYYYY"),
    (CKA_ALWAYS_SENSITIVE, "YYYYYYYYY"),
    (CKA_MODULUS, "NNYYNNNNN"),
    (CKA_MODULUS_BITS, "NNNYNNNNN"),
    (CKA_PUBLIC_EXPONENT, "NNYYNNNNN"),
    (CKA_PRIME_1, "NNSNNNNNN"),
    (CKA_PRIME_2, "NNSNNNNNN"),
    (CKA_EXPONENT_1, "NNSNNNNNN"),
    (CKA_EXPONENT_2, "NNSNNNNNN"),
    (CKA_COEFFICIENT, "NNSNNNNNN"),
    (CKA_PRIVATE_EXPONENT, "NNSNNNNNN"),
    (CKA_EC_PARAMS, "YYNNNNNNN"),
    (CKA_EC_POINT, "NYNNNNNNN"),
    (CKA_VALUE, "SNNNNNYYY"),
    (CKA_VALUE_LEN, "NNNNNNYNY"),
    (CKA_CHECK_VALUE, "YYYYNNYYN"),
    (vendor::CKA_CLOUDHSM_PARAMETER_SET, "NNNNYYNNN"),
];

/// What `C_GetAttributeValue` finds for one attribute of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Readout {
    Value(Vec<u8>),
    /// The key has the attribute, but its value never leaves the HSM.
    Sensitive,
    /// Not an attribute of this key (or of any key).
    Invalid,
}

/// The value of attribute `ty` of `key`. `secret` gives the bytes of a secret key, asked
/// only when the key lets its value be read (`sensitive` false, `extractable` true).
pub(crate) fn read(
    key: &Key,
    ty: CK_ATTRIBUTE_TYPE,
    secret: impl FnOnce() -> Option<Vec<u8>>,
) -> Readout {
    let column = Column::of(key.key_type, key.class);
    let Some((_, row)) = READABLE.iter().find(|(t, _)| *t == ty) else {
        return Readout::Invalid;
    };
    match row.as_bytes().get(column.read_index()) {
        Some(b'Y') => {}
        Some(b'S') => return Readout::Sensitive,
        _ => return Readout::Invalid,
    }
    match ty {
        CKA_SIGN_RECOVER | CKA_VERIFY_RECOVER => return Readout::Value(vec![CK_FALSE]),
        // No template is stored yet: an empty attribute array.
        CKA_WRAP_TEMPLATE | CKA_UNWRAP_TEMPLATE => return Readout::Value(Vec::new()),
        CKA_VALUE => {
            let flags = &key.attrs.flags;
            if key.class != KeyClass::SecretKey || flags.sensitive || !flags.extractable {
                return Readout::Sensitive;
            }
            return secret().map_or(Readout::Sensitive, Readout::Value);
        }
        CKA_EC_POINT => {
            return match &key.derived.typed {
                Typed::Ec { .. } => match key.value(Attribute::EcPoint) {
                    Some(Value::Bytes(point)) => Readout::Value(octet_string(&point)),
                    _ => Readout::Invalid,
                },
                _ => Readout::Invalid,
            };
        }
        _ => {}
    }
    let Some(attribute) = Cka::attribute(ty) else {
        return Readout::Invalid;
    };
    match key.value(attribute) {
        Some(value) => Readout::Value(encode(&value)),
        None => Readout::Invalid,
    }
}

/// A value as PKCS#11 encodes it.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    match value {
        Value::Bool(b) => vec![if *b { CK_TRUE } else { CK_FALSE }],
        Value::Text(t) => t.as_bytes().to_vec(),
        Value::Bytes(b) => b.clone(),
        Value::Integer(n) => ulong(*n as CK_ULONG),
        Value::KeyType(t) => ulong(key_type(*t)),
        Value::Class(c) => ulong(class(*c)),
        Value::Curve(c) => ec_params(*c),
        Value::MlDsaAlgorithm(a) => ulong(vendor::parameter_set(*a)),
    }
}

pub(crate) fn ulong(n: CK_ULONG) -> Vec<u8> {
    n.to_ne_bytes().to_vec()
}

pub(crate) fn key_type(t: KeyType) -> CK_KEY_TYPE {
    match t {
        KeyType::Aes => CKK_AES,
        KeyType::Des3 => CKK_DES3,
        KeyType::GenericSecret => CKK_GENERIC_SECRET,
        KeyType::Rsa => CKK_RSA,
        KeyType::Ec => CKK_EC,
        KeyType::MlDsa => vendor::CKK_CLOUDHSM_ML_DSA,
    }
}

/// The key type of a `CKK_*`, if the cluster has such keys.
pub(crate) fn key_type_of(t: CK_KEY_TYPE) -> Option<KeyType> {
    [
        KeyType::Aes,
        KeyType::GenericSecret,
        KeyType::Rsa,
        KeyType::Ec,
        KeyType::MlDsa,
    ]
    .into_iter()
    .find(|k| key_type(*k) == t)
}

/// The key class of a `CKO_*`, if it is one.
pub(crate) fn class_of(c: CK_OBJECT_CLASS) -> Option<KeyClass> {
    [
        KeyClass::SecretKey,
        KeyClass::PublicKey,
        KeyClass::PrivateKey,
    ]
    .into_iter()
    .find(|k| class(*k) == c)
}

pub(crate) fn class(c: KeyClass) -> CK_OBJECT_CLASS {
    match c {
        KeyClass::SecretKey => CKO_SECRET_KEY,
        KeyClass::PublicKey => CKO_PUBLIC_KEY,
        KeyClass::PrivateKey => CKO_PRIVATE_KEY,
    }
}

/// `CKA_EC_PARAMS`: the DER OBJECT IDENTIFIER of the curve.
pub(crate) fn ec_params(curve: Curve) -> Vec<u8> {
    let oid = curve.oid();
    let mut der = vec![0x06, oid.len() as u8];
    der.extend_from_slice(oid);
    der
}

/// The curve a `CKA_EC_PARAMS` value names (a DER OBJECT IDENTIFIER), if it is one.
pub(crate) fn curve_of(params: &[u8]) -> Option<Curve> {
    match params {
        [0x06, len, oid @ ..] if usize::from(*len) == oid.len() => Curve::from_oid(oid),
        _ => None,
    }
}

/// The point a `CKA_EC_POINT` value holds: PKCS#11 gives a DER OCTET STRING, some callers
/// (AWS's samples among them) the raw point; a value that does not parse as the former is
/// taken as the latter.
pub(crate) fn point_of(value: &[u8]) -> Vec<u8> {
    let content = match value {
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() => Some(rest),
        [0x04, 0x81, len, rest @ ..] if usize::from(*len) == rest.len() => Some(rest),
        [0x04, 0x82, hi, lo, rest @ ..]
            if (usize::from(*hi) << 8 | usize::from(*lo)) == rest.len() =>
        {
            Some(rest)
        }
        _ => None,
    };
    content.unwrap_or(value).to_vec()
}

/// A DER OCTET STRING holding `content` (`CKA_EC_POINT`).
fn octet_string(content: &[u8]) -> Vec<u8> {
    let mut der = vec![0x04];
    let len = content.len();
    if len < 0x80 {
        der.push(len as u8);
    } else if len < 0x100 {
        der.extend_from_slice(&[0x81, len as u8]);
    } else {
        der.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    der.extend_from_slice(content);
    der
}

/// Whether `ty` is an attribute PKCS#11 v2.40 defines for key objects at all (a template
/// naming anything else gets `CKR_ATTRIBUTE_TYPE_INVALID`; a defined attribute CloudHSM does
/// not take for the key gets `CKR_TEMPLATE_INCONSISTENT`, §4.1).
pub(crate) fn is_key_attribute(ty: CK_ATTRIBUTE_TYPE) -> bool {
    READABLE.iter().any(|(t, _)| *t == ty)
        || matches!(
            ty,
            CKA_START_DATE
                | CKA_END_DATE
                | CKA_ALLOWED_MECHANISMS
                | CKA_KEY_GEN_MECHANISM
                | CKA_ALWAYS_AUTHENTICATE
                | CKA_SUBJECT
                | CKA_PUBLIC_KEY_INFO
                | CKA_COPYABLE
        )
}
