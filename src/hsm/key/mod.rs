//! Keys of the simulated cluster: types and classes, attributes, filters, and the key
//! objects the CLI prints. The operations on keys are in `crate::hsm::keys`.

pub mod attributes;
mod error;
pub mod filter;

use serde::{Deserialize, Serialize};

use crate::hsm::crypto::{Curve, MlDsaAlgorithm};

pub use attributes::{Assignment, Attribute, Flag, Flags, Kind, Settable, Value};
pub use error::KeyError;
pub use filter::Term;

/// The `key-type` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    Aes,
    /// Triple DES: "disallowed for clusters in FIPS mode after 2023".
    Des3,
    GenericSecret,
    Rsa,
    Ec,
    MlDsa,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Aes => "aes",
            KeyType::Des3 => "des3",
            KeyType::GenericSecret => "generic-secret",
            KeyType::Rsa => "rsa",
            KeyType::Ec => "ec",
            KeyType::MlDsa => "ml-dsa",
        }
    }

    pub fn parse(s: &str) -> Option<KeyType> {
        [
            KeyType::Aes,
            KeyType::Des3,
            KeyType::GenericSecret,
            KeyType::Rsa,
            KeyType::Ec,
            KeyType::MlDsa,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// Whether keys of this type come in public/private pairs (and count towards the
    /// asymmetric-key quota).
    pub fn is_asymmetric(self) -> bool {
        matches!(self, KeyType::Rsa | KeyType::Ec | KeyType::MlDsa)
    }
}

/// The `class` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyClass {
    SecretKey,
    PublicKey,
    PrivateKey,
}

impl KeyClass {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyClass::SecretKey => "secret-key",
            KeyClass::PublicKey => "public-key",
            KeyClass::PrivateKey => "private-key",
        }
    }

    pub fn parse(s: &str) -> Option<KeyClass> {
        [
            KeyClass::SecretKey,
            KeyClass::PublicKey,
            KeyClass::PrivateKey,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// Attributes computed from the key material once, when the key is made, as the CLI prints
/// them (binary values as `0x` + lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derived {
    /// `None` where the HSM computes no check value.
    pub check_value: Option<String>,
    pub key_length_bytes: u64,
    pub typed: Typed,
}

/// The type-specific attributes printed after `key-length-bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Typed {
    None,
    Rsa {
        public_exponent: String,
        modulus: String,
        modulus_size_bits: u64,
    },
    Ec {
        ec_point: String,
        curve: String,
    },
    MlDsa {
        algorithm: String,
    },
}

/// Key quorum values (0 = quorum off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumValues {
    pub manage: u8,
    pub usage: u8,
}

/// A key as the HSM holds it (without its material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub reference: u64,
    pub key_type: KeyType,
    pub class: KeyClass,
    pub owner: String,
    /// Crypto users the key is shared with, in the order it was shared.
    pub shared: Vec<String>,
    pub attrs: Settable,
    pub derived: Derived,
    pub quorum: QuorumValues,
}

impl Key {
    /// `0x` + 16 lowercase hex digits.
    pub fn reference_string(&self) -> String {
        format_reference(self.reference)
    }

    /// The value of `attribute`, or `None` if the key has no such attribute (`curve` of an
    /// AES key; `check-value` where the HSM computes none).
    pub fn value(&self, attribute: Attribute) -> Option<Value> {
        use attributes::parse_hex;
        let bytes = |name: &str, printed: &str| parse_hex(name, printed).ok().map(Value::Bytes);
        let typed = &self.derived.typed;
        match (attribute, typed) {
            (Attribute::Flag(flag), _) => Some(Value::Bool(flag.get(&self.attrs.flags))),
            (Attribute::KeyType, _) => Some(Value::KeyType(self.key_type)),
            (Attribute::Label, _) => Some(Value::Text(self.attrs.label.clone())),
            (Attribute::Id, _) => Some(Value::Bytes(self.attrs.id.clone())),
            (Attribute::CheckValue, _) => bytes("check-value", self.derived.check_value.as_ref()?),
            (Attribute::Class, _) => Some(Value::Class(self.class)),
            (Attribute::KeyLengthBytes, _) => Some(Value::Integer(self.derived.key_length_bytes)),
            (
                Attribute::PublicExponent,
                Typed::Rsa {
                    public_exponent, ..
                },
            ) => bytes("public-exponent", public_exponent),
            (Attribute::Modulus, Typed::Rsa { modulus, .. }) => bytes("modulus", modulus),
            (
                Attribute::ModulusSizeBits,
                Typed::Rsa {
                    modulus_size_bits, ..
                },
            ) => Some(Value::Integer(*modulus_size_bits)),
            (Attribute::EcPoint, Typed::Ec { ec_point, .. }) => bytes("ec-point", ec_point),
            (Attribute::Curve, Typed::Ec { curve, .. }) => {
                Curve::from_name(curve).ok().map(Value::Curve)
            }
            (Attribute::MlDsaAlgorithm, Typed::MlDsa { algorithm }) => {
                MlDsaAlgorithm::from_name(algorithm)
                    .ok()
                    .map(Value::MlDsaAlgorithm)
            }
            _ => None,
        }
    }
}

/// Formats a key reference as the CLI prints it.
pub fn format_reference(reference: u64) -> String {
    format!("0x{reference:016x}")
}

/// Every attribute name the CLI knows (for filters).
pub fn is_attribute_name(name: &str) -> bool {
    Attribute::from_name(name).is_some()
}

/// Every attribute name a filter may test, sorted (for completion).
pub fn attribute_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Attribute::all().map(Attribute::name).collect();
    names.sort_unstable();
    names
}

/// The attribute names `key set-attribute --name` may change (for completion): the usage
/// flags and label and id; which of them a given key takes is checked when it is set.
pub fn settable_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Attribute::all()
        .filter(|a| a.access() == attributes::Access::Settable)
        .map(Attribute::name)
        .collect();
    names.sort_unstable();
    names
}
