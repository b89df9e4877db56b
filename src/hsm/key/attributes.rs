//! Key attributes: their CLI names, the defaults of each key type and class, which may be
//! given at creation (`--attributes NAME=VALUE`), which `key set-attribute` may change and in
//! which direction, and how each is printed.
//!
//! AWS CloudHSM User Guide: "Key attributes for CloudHSM CLI" and the attribute examples of
//! every key command; rules the guide leaves open are recorded in docs/fidelity.md.

use serde::{Deserialize, Serialize};

use super::{KeyClass, KeyError, KeyType};

/// The longest label the HSM accepts (SDK 5.11 and later).
pub const MAX_LABEL_CHARS: usize = 127;

/// The boolean attributes, in the order the CLI prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    pub encrypt: bool,
    pub decrypt: bool,
    pub token: bool,
    pub always_sensitive: bool,
    pub derive: bool,
    pub destroyable: bool,
    pub extractable: bool,
    pub local: bool,
    pub modifiable: bool,
    pub never_extractable: bool,
    pub private: bool,
    pub sensitive: bool,
    pub sign: bool,
    pub trusted: bool,
    pub unwrap: bool,
    pub verify: bool,
    pub wrap: bool,
    pub wrap_with_trusted: bool,
}

/// The attributes a user can give or change: label, id and the flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settable {
    pub label: String,
    /// Raw bytes of `id` (printed as hex).
    pub id: Vec<u8>,
    pub flags: Flags,
}

/// A boolean attribute by its CLI name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Encrypt,
    Decrypt,
    Token,
    AlwaysSensitive,
    Derive,
    Destroyable,
    Extractable,
    Local,
    Modifiable,
    NeverExtractable,
    Private,
    Sensitive,
    Sign,
    Trusted,
    Unwrap,
    Verify,
    Wrap,
    WrapWithTrusted,
}

impl Flag {
    /// Every flag, in print order.
    pub const ALL: [Flag; 18] = [
        Flag::Encrypt,
        Flag::Decrypt,
        Flag::Token,
        Flag::AlwaysSensitive,
        Flag::Derive,
        Flag::Destroyable,
        Flag::Extractable,
        Flag::Local,
        Flag::Modifiable,
        Flag::NeverExtractable,
        Flag::Private,
        Flag::Sensitive,
        Flag::Sign,
        Flag::Trusted,
        Flag::Unwrap,
        Flag::Verify,
        Flag::Wrap,
        Flag::WrapWithTrusted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flag::Encrypt => "encrypt",
            Flag::Decrypt => "decrypt",
            Flag::Token => "token",
            Flag::AlwaysSensitive => "always-sensitive",
            Flag::Derive => "derive",
            Flag::Destroyable => "destroyable",
            Flag::Extractable => "extractable",
            Flag::Local => "local",
            Flag::Modifiable => "modifiable",
            Flag::NeverExtractable => "never-extractable",
            Flag::Private => "private",
            Flag::Sensitive => "sensitive",
            Flag::Sign => "sign",
            Flag::Trusted => "trusted",
            Flag::Unwrap => "unwrap",
            Flag::Verify => "verify",
            Flag::Wrap => "wrap",
            Flag::WrapWithTrusted => "wrap-with-trusted",
        }
    }

    pub fn parse(name: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn get(self, f: &Flags) -> bool {
        match self {
            Flag::Encrypt => f.encrypt,
            Flag::Decrypt => f.decrypt,
            Flag::Token => f.token,
            Flag::AlwaysSensitive => f.always_sensitive,
            Flag::Derive => f.derive,
            Flag::Destroyable => f.destroyable,
            Flag::Extractable => f.extractable,
            Flag::Local => f.local,
            Flag::Modifiable => f.modifiable,
            Flag::NeverExtractable => f.never_extractable,
            Flag::Private => f.private,
            Flag::Sensitive => f.sensitive,
            Flag::Sign => f.sign,
            Flag::Trusted => f.trusted,
            Flag::Unwrap => f.unwrap,
            Flag::Verify => f.verify,
            Flag::Wrap => f.wrap,
            Flag::WrapWithTrusted => f.wrap_with_trusted,
        }
    }

    fn slot(self, f: &mut Flags) -> &mut bool {
        match self {
            Flag::Encrypt => &mut f.encrypt,
            Flag::Decrypt => &mut f.decrypt,
            Flag::Token => &mut f.token,
            Flag::AlwaysSensitive => &mut f.always_sensitive,
            Flag::Derive => &mut f.derive,
            Flag::Destroyable => &mut f.destroyable,
            Flag::Extractable => &mut f.extractable,
            Flag::Local => &mut f.local,
            Flag::Modifiable => &mut f.modifiable,
            Flag::NeverExtractable => &mut f.never_extractable,
            Flag::Private => &mut f.private,
            Flag::Sensitive => &mut f.sensitive,
            Flag::Sign => &mut f.sign,
            Flag::Trusted => &mut f.trusted,
            Flag::Unwrap => &mut f.unwrap,
            Flag::Verify => &mut f.verify,
            Flag::Wrap => &mut f.wrap,
            Flag::WrapWithTrusted => &mut f.wrap_with_trusted,
        }
    }

    /// Why the HSM refuses `true` for this flag on a key of this type and class on a cluster
    /// whose HSMs are (or not) hsm2m.medium, or `None` when it accepts it.
    ///
    /// The usage flags (`encrypt`, `decrypt`, `sign`, `verify`, `wrap`, `unwrap`) are stored
    /// on any key, as the guide's own examples set them (`encrypt=true` on an EC public key):
    /// an operation the key cannot do is refused when it is attempted. The documented
    /// exceptions:
    /// - `derive` "must be False for all public keys and cannot be set to True" (PKCS #11
    ///   library, "Modifying attributes"), and "cannot be set for RSA keys on hsm1.medium
    ///   instances" (CLI attribute table);
    /// - `sensitive` "can be set with private keys, not with public keys" (CLI attribute table).
    pub fn refusal(self, key_type: KeyType, class: KeyClass, hsm2m: bool) -> Option<Refusal> {
        match self {
            Flag::Derive if class == KeyClass::PublicKey => Some(Refusal::KeyClass),
            Flag::Derive if key_type == KeyType::Rsa && !hsm2m => Some(Refusal::RsaOnHsm1),
            Flag::Sensitive if class == KeyClass::PublicKey => Some(Refusal::KeyClass),
            _ => None,
        }
    }
}

/// Why a flag cannot be set to `true` on a key (see [`Flag::refusal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Never on a key of this class.
    KeyClass,
    /// Not on RSA keys of an hsm1.medium cluster.
    RsaOnHsm1,
}

/// The defaults of a new key (AWS examples: AES keys may sign and verify; asymmetric halves
/// may do nothing until attributes say so).
pub fn defaults(key_type: KeyType, class: KeyClass, token: bool) -> Flags {
    let secret = class == KeyClass::SecretKey;
    let sensitive = class != KeyClass::PublicKey;
    let _ = key_type;
    Flags {
        encrypt: false,
        decrypt: false,
        token,
        always_sensitive: sensitive,
        derive: false,
        destroyable: true,
        extractable: true,
        local: true,
        modifiable: true,
        never_extractable: false,
        private: true,
        sensitive,
        sign: secret,
        trusted: false,
        unwrap: false,
        verify: secret,
        wrap: false,
        wrap_with_trusted: false,
    }
}

/// Parses `true` / `false`.
pub fn parse_bool(name: &str, value: &str) -> Result<bool, KeyError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(KeyError::InvalidAttributeValue {
            name: name.to_string(),
            value: value.to_string(),
        }),
    }
}

/// Parses a hex value (`0x` prefix optional), as `id` is given.
pub fn parse_hex(name: &str, value: &str) -> Result<Vec<u8>, KeyError> {
    let digits = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or(value);
    let bad = || KeyError::InvalidAttributeValue {
        name: name.to_string(),
        value: value.to_string(),
    };
    if !digits.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            digits
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(bad)
        })
        .collect()
}

/// `0x` + lowercase hex, as the CLI prints binary attributes.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("0x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Checks a label.
pub fn check_label(label: &str) -> Result<(), KeyError> {
    if label.chars().count() > MAX_LABEL_CHARS {
        Err(KeyError::LabelTooLong {
            max: MAX_LABEL_CHARS,
        })
    } else {
        // Any characters: JSON escapes control characters, and the table view shows them
        // as escapes (output::table).
        Ok(())
    }
}

/// Where attributes are being given: at creation (`--attributes`) or by `key set-attribute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Creation,
    Modification,
}

/// Applies one `NAME=VALUE` to `attrs` of a key of this type and class, with the rules of
/// `setting`. `hsm2m` tells whether the cluster's HSMs are hsm2m.medium (on hsm1.medium `id`
/// cannot be set, nor `derive` on RSA keys).
pub fn apply(
    attrs: &mut Settable,
    key_type: KeyType,
    class: KeyClass,
    name: &str,
    value: &str,
    setting: Setting,
    hsm2m: bool,
) -> Result<(), KeyError> {
    match name {
        "label" => {
            check_label(value)?;
            attrs.label = value.to_string();
            return Ok(());
        }
        "id" => {
            if !hsm2m {
                return Err(KeyError::AttributeUnsupported {
                    name: name.to_string(),
                    why: "on hsm1.medium clusters",
                });
            }
            attrs.id = parse_hex(name, value).map_err(|_| KeyError::InvalidId {
                value: value.to_string(),
            })?;
            return Ok(());
        }
        _ => {}
    }
    let Some(flag) = Flag::parse(name) else {
        return Err(if is_read_only_name(name) {
            KeyError::ReadOnlyAttribute {
                name: name.to_string(),
            }
        } else {
            KeyError::UnknownAttribute {
                name: name.to_string(),
            }
        });
    };
    let v = parse_bool(name, value)?;
    let refuse = || KeyError::OneWayAttribute {
        name: name.to_string(),
        value: value.to_ascii_lowercase(),
    };
    match (flag, setting) {
        (Flag::Token, Setting::Creation) => return Err(KeyError::TokenInAttributes),
        (Flag::AlwaysSensitive | Flag::Local | Flag::NeverExtractable, _) => {
            return Err(KeyError::ReadOnlyAttribute {
                name: name.to_string(),
            })
        }
        (Flag::Trusted, Setting::Creation) => {
            return Err(KeyError::ReadOnlyAttribute {
                name: name.to_string(),
            })
        }
        (Flag::Private, Setting::Modification) => {
            return Err(KeyError::ReadOnlyAttribute {
                name: name.to_string(),
            })
        }
        _ => {}
    }
    match flag.refusal(key_type, class, hsm2m).filter(|_| v) {
        Some(Refusal::KeyClass) => {
            return Err(KeyError::AttributeDoesNotFit {
                name: name.to_string(),
                key_type: key_type.as_str(),
                class: class.as_str(),
            })
        }
        Some(Refusal::RsaOnHsm1) => {
            return Err(KeyError::AttributeUnsupported {
                name: name.to_string(),
                why: "on RSA keys of hsm1.medium clusters",
            })
        }
        None => {}
    }
    let current = flag.get(&attrs.flags);
    if setting == Setting::Modification && current != v {
        // One-way attributes (the guide, and Focardi and Luccio's model of CloudHSM).
        let allowed = match flag {
            Flag::Extractable | Flag::Modifiable => !v,
            Flag::Token | Flag::WrapWithTrusted | Flag::Sensitive => v,
            _ => true,
        };
        if !allowed {
            return Err(refuse());
        }
    }
    *flag.slot(&mut attrs.flags) = v;
    if setting == Setting::Creation {
        match flag {
            Flag::Extractable => attrs.flags.never_extractable = !v,
            Flag::Sensitive => attrs.flags.always_sensitive = v,
            _ => {}
        }
    } else if flag == Flag::Sensitive && !v {
        attrs.flags.always_sensitive = false;
    }
    Ok(())
}

/// Attribute names the CLI prints but nobody sets.
pub const READ_ONLY_NAMES: [&str; 13] = [
    "key-type",
    "class",
    "check-value",
    "key-length-bytes",
    "modulus",
    "modulus-size-bits",
    "public-exponent",
    "ec-point",
    "curve",
    "mldsa-algorithm",
    "always-sensitive",
    "local",
    "never-extractable",
];

/// Whether `name` is one of [`READ_ONLY_NAMES`].
pub fn is_read_only_name(name: &str) -> bool {
    READ_ONLY_NAMES.contains(&name)
}

/// Splits `NAME=VALUE` items of `--attributes`.
pub fn split_assignments(items: &[String]) -> Result<Vec<(String, String)>, KeyError> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .map(|(n, v)| (n.trim().to_string(), v.to_string()))
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| KeyError::MalformedAttribute { item: item.clone() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aes() -> Settable {
        Settable {
            label: "k".into(),
            id: Vec::new(),
            flags: defaults(KeyType::Aes, KeyClass::SecretKey, true),
        }
    }

    fn set(a: &mut Settable, name: &str, value: &str, s: Setting) -> Result<(), KeyError> {
        apply(a, KeyType::Aes, KeyClass::SecretKey, name, value, s, true)
    }

    #[test]
    fn defaults_follow_the_guide() {
        let f = defaults(KeyType::Aes, KeyClass::SecretKey, true);
        assert!(f.sign && f.verify && f.sensitive && f.always_sensitive && f.extractable);
        let p = defaults(KeyType::Rsa, KeyClass::PublicKey, true);
        assert!(!p.sign && !p.verify && !p.sensitive && !p.always_sensitive && p.private);
        let s = defaults(KeyType::Ec, KeyClass::PrivateKey, false);
        assert!(!s.token && s.sensitive && !s.sign);
    }

    #[test]
    fn creation_rules() {
        let mut a = aes();
        set(&mut a, "encrypt", "true", Setting::Creation).unwrap();
        assert!(a.flags.encrypt);
        set(&mut a, "extractable", "false", Setting::Creation).unwrap();
        assert!(a.flags.never_extractable);
        assert!(matches!(
            set(&mut a, "token", "true", Setting::Creation),
            Err(KeyError::TokenInAttributes)
        ));
        assert!(matches!(
            set(&mut a, "trusted", "true", Setting::Creation),
            Err(KeyError::ReadOnlyAttribute { .. })
        ));
        assert!(matches!(
            set(&mut a, "colour", "red", Setting::Creation),
            Err(KeyError::UnknownAttribute { .. })
        ));
        assert!(matches!(
            set(&mut a, "sign", "yes", Setting::Creation),
            Err(KeyError::InvalidAttributeValue { .. })
        ));
        let mut pubk = Settable {
            label: String::new(),
            id: vec![],
            flags: defaults(KeyType::Ec, KeyClass::PublicKey, true),
        };
        let ec_public = |a: &mut Settable, name: &str| {
            apply(
                a,
                KeyType::Ec,
                KeyClass::PublicKey,
                name,
                "true",
                Setting::Creation,
                true,
            )
        };
        // Usage flags are stored on any key (the guide's EC example sets encrypt=true).
        for usage in ["encrypt", "decrypt", "sign", "verify", "wrap", "unwrap"] {
            ec_public(&mut pubk, usage).unwrap();
        }
        assert!(pubk.flags.encrypt && pubk.flags.sign && pubk.flags.unwrap);
        for refused in ["derive", "sensitive"] {
            assert!(matches!(
                ec_public(&mut pubk, refused),
                Err(KeyError::AttributeDoesNotFit { .. })
            ));
        }
        let rsa_private = |hsm2m: bool| {
            let mut a = Settable {
                label: String::new(),
                id: vec![],
                flags: defaults(KeyType::Rsa, KeyClass::PrivateKey, true),
            };
            apply(
                &mut a,
                KeyType::Rsa,
                KeyClass::PrivateKey,
                "derive",
                "true",
                Setting::Creation,
                hsm2m,
            )
        };
        rsa_private(true).unwrap();
        assert_eq!(
            rsa_private(false).unwrap_err().to_string(),
            "Attribute derive cannot be set on RSA keys of hsm1.medium clusters"
        );
    }

    #[test]
    fn one_way_rules() {
        let mut a = aes();
        set(&mut a, "extractable", "false", Setting::Modification).unwrap();
        assert!(!a.flags.never_extractable, "it was extractable once");
        let e = set(&mut a, "extractable", "true", Setting::Modification).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Attribute extractable cannot be set to the value true by the user for this operation"
        );
        set(&mut a, "wrap-with-trusted", "true", Setting::Modification).unwrap();
        assert!(set(&mut a, "wrap-with-trusted", "false", Setting::Modification).is_err());
        set(&mut a, "modifiable", "false", Setting::Modification).unwrap();
        assert!(set(&mut a, "modifiable", "true", Setting::Modification).is_err());
        assert!(set(&mut a, "token", "false", Setting::Modification).is_err());
        assert!(set(&mut a, "local", "false", Setting::Modification).is_err());
    }

    #[test]
    fn hex_values() {
        assert_eq!(parse_hex("id", "0x0a0B").unwrap(), vec![0x0a, 0x0b]);
        assert_eq!(parse_hex("id", "").unwrap(), Vec::<u8>::new());
        assert!(parse_hex("id", "0xabc").is_err());
        assert!(parse_hex("id", "zz").is_err());
        assert_eq!(hex(&[0, 0xff]), "0x00ff");
    }
}
