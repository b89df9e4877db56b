//! Key attributes: their CLI names, the defaults of each key type and class, which may be
//! given at creation (`--attributes NAME=VALUE`), which `key set-attribute` may change and in
//! which direction, and how each is printed.
//!
//! AWS CloudHSM User Guide: "Key attributes for CloudHSM CLI" and the attribute examples of
//! every key command; rules the guide leaves open are recorded in docs/fidelity.md.

use serde::{Deserialize, Serialize};

use super::{KeyClass, KeyError, KeyType};
use crate::hsm::crypto::{Curve, MlDsaAlgorithm};

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

/// The attributes a user can give or change: label, id and the flags, and the wrap and
/// unwrap templates a PKCS#11 application may attach to a wrapping key at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settable {
    pub label: String,
    /// Raw bytes of `id` (printed as hex).
    pub id: Vec<u8>,
    pub flags: Flags,
    /// `CKA_WRAP_TEMPLATE`: what a key must hold for this key to wrap it. Absent from rows
    /// written before templates existed, and never written when empty, so the store's rows
    /// and backups read both ways.
    #[serde(default, skip_serializing_if = "Template::is_empty")]
    pub wrap_template: Template,
    /// `CKA_UNWRAP_TEMPLATE`: what every key this key unwraps gets.
    #[serde(default, skip_serializing_if = "Template::is_empty")]
    pub unwrap_template: Template,
}

impl Settable {
    /// A key's settable attributes without templates.
    pub fn new(label: String, id: Vec<u8>, flags: Flags) -> Settable {
        Settable {
            label,
            id,
            flags,
            wrap_template: Template::default(),
            unwrap_template: Template::default(),
        }
    }
}

/// A wrap or unwrap template (AWS CloudHSM User Guide, "Using trusted keys to control key
/// unwraps"; PKCS #11 `CKA_WRAP_TEMPLATE`, `CKA_UNWRAP_TEMPLATE`): attributes with values,
/// each attribute at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<StoredEntry>", try_from = "Vec<StoredEntry>")]
pub struct Template(Vec<(Attribute, Value)>);

impl Template {
    /// A template of `entries`; an attribute given twice, or a value of the wrong kind for
    /// its attribute, is refused.
    pub fn new(entries: Vec<(Attribute, Value)>) -> Result<Template, KeyError> {
        for (i, (attribute, value)) in entries.iter().enumerate() {
            let twice = entries.iter().skip(i + 1).any(|(a, _)| a == attribute);
            if twice || !value.fits(attribute.kind()) {
                return Err(KeyError::InvalidAttributeValue {
                    name: template_name(attribute),
                    value: format!("{value:?}"),
                });
            }
        }
        Ok(Template(entries))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn entries(&self) -> &[(Attribute, Value)] {
        &self.0
    }

    /// The first entry `key` does not match, if any.
    pub fn mismatch(&self, key: &super::Key) -> Option<Attribute> {
        self.0.iter().find_map(|(attribute, wanted)| {
            let matches = key
                .value(*attribute)
                .is_some_and(|actual| actual.same_as(wanted, attribute.kind()));
            (!matches).then_some(*attribute)
        })
    }
}

fn template_name(attribute: &Attribute) -> String {
    format!("template entry {}", attribute.name())
}

/// One template entry as the store keeps it: the attribute's CLI name and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredEntry {
    name: String,
    value: StoredValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum StoredValue {
    Bool(bool),
    Text(String),
    /// Hex, as the CLI prints binary values.
    Bytes(String),
    Integer(u64),
    KeyType(KeyType),
    Class(KeyClass),
    Curve(String),
    MlDsaAlgorithm(String),
}

impl From<Template> for Vec<StoredEntry> {
    fn from(t: Template) -> Vec<StoredEntry> {
        t.0.into_iter()
            .map(|(attribute, value)| StoredEntry {
                name: attribute.name().to_string(),
                value: match value {
                    Value::Bool(b) => StoredValue::Bool(b),
                    Value::Text(t) => StoredValue::Text(t),
                    Value::Bytes(b) => StoredValue::Bytes(hex(&b)),
                    Value::Integer(n) => StoredValue::Integer(n),
                    Value::KeyType(t) => StoredValue::KeyType(t),
                    Value::Class(c) => StoredValue::Class(c),
                    Value::Curve(c) => StoredValue::Curve(c.name().to_string()),
                    Value::MlDsaAlgorithm(a) => StoredValue::MlDsaAlgorithm(a.name().to_string()),
                },
            })
            .collect()
    }
}

impl TryFrom<Vec<StoredEntry>> for Template {
    type Error = String;

    fn try_from(entries: Vec<StoredEntry>) -> Result<Template, String> {
        let entries = entries
            .into_iter()
            .map(|e| {
                let attribute = Attribute::from_name(&e.name)
                    .ok_or_else(|| format!("unknown attribute {}", e.name))?;
                let value = match e.value {
                    StoredValue::Bool(b) => Value::Bool(b),
                    StoredValue::Text(t) => Value::Text(t),
                    StoredValue::Bytes(h) => {
                        Value::Bytes(parse_hex(&e.name, &h).map_err(|e| e.to_string())?)
                    }
                    StoredValue::Integer(n) => Value::Integer(n),
                    StoredValue::KeyType(t) => Value::KeyType(t),
                    StoredValue::Class(c) => Value::Class(c),
                    StoredValue::Curve(c) => {
                        Value::Curve(Curve::from_name(&c).map_err(|e| e.to_string())?)
                    }
                    StoredValue::MlDsaAlgorithm(a) => Value::MlDsaAlgorithm(
                        MlDsaAlgorithm::from_name(&a).map_err(|e| e.to_string())?,
                    ),
                };
                Ok((attribute, value))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Template::new(entries).map_err(|e| e.to_string())
    }
}

/// A boolean attribute by its CLI name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

    /// The CLI's name (from [`ATTRIBUTES`]).
    pub fn name(self) -> &'static str {
        Attribute::Flag(self).name()
    }

    /// The flag the CLI calls `name`.
    pub fn parse(name: &str) -> Option<Flag> {
        match Attribute::from_name(name)? {
            Attribute::Flag(flag) => Some(flag),
            _ => None,
        }
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

/// Where attributes are being given: at creation (`--attributes`), at creation from a
/// PKCS#11 template, or by `key set-attribute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Creation,
    /// Creation through the PKCS#11 library, whose attribute tables differ from the CLI's in
    /// two places: `CKA_ID` is accepted on every cluster type, and `CKA_TRUSTED` may be given
    /// as false, its default (AWS CloudHSM User Guide, "PKCS #11 attributes").
    Template,
    Modification,
}

impl Setting {
    fn creates(self) -> bool {
        self != Setting::Modification
    }
}

/// One attribute a caller gives a key, typed: what `--attributes NAME=VALUE` and
/// `key set-attribute --name NAME --value VALUE` become once the CLI has parsed them (a
/// PKCS#11 template entry becomes the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    Flag(Flag, bool),
    Label(String),
    Id(Vec<u8>),
    /// An attribute the key's type and material fix (`key-type`, `class`, `modulus`, ...):
    /// refused whatever the value.
    Fixed(Attribute),
    /// `CKA_WRAP_TEMPLATE` of a new key (PKCS#11 templates only).
    WrapTemplate(Template),
    /// `CKA_UNWRAP_TEMPLATE` of a new key (PKCS#11 templates only).
    UnwrapTemplate(Template),
}

impl Assignment {
    /// The attribute being given; `None` for a template, which is no attribute of the
    /// CLI's table.
    pub fn attribute(&self) -> Option<Attribute> {
        match self {
            Assignment::Flag(flag, _) => Some(Attribute::Flag(*flag)),
            Assignment::Label(_) => Some(Attribute::Label),
            Assignment::Id(_) => Some(Attribute::Id),
            Assignment::Fixed(attribute) => Some(*attribute),
            Assignment::WrapTemplate(_) | Assignment::UnwrapTemplate(_) => None,
        }
    }

    /// The name of what is being given, as refusals name it.
    pub fn name(&self) -> &'static str {
        match self {
            Assignment::WrapTemplate(_) => "wrap-template",
            Assignment::UnwrapTemplate(_) => "unwrap-template",
            other => other.attribute().map_or("", Attribute::name),
        }
    }
}

/// Applies one assignment to `attrs` of a key of this type and class, with the rules of
/// `setting`. `hsm2m` tells whether the cluster's HSMs are hsm2m.medium (on hsm1.medium `id`
/// cannot be set, nor `derive` on RSA keys).
pub fn apply(
    attrs: &mut Settable,
    key_type: KeyType,
    class: KeyClass,
    assignment: &Assignment,
    setting: Setting,
    hsm2m: bool,
) -> Result<(), KeyError> {
    let name = assignment.name();
    let read_only = || KeyError::ReadOnlyAttribute {
        name: name.to_string(),
    };
    let (flag, v) = match assignment {
        // Templates come only with a new key made through PKCS#11.
        Assignment::WrapTemplate(_) | Assignment::UnwrapTemplate(_)
            if setting != Setting::Template =>
        {
            return Err(read_only())
        }
        Assignment::WrapTemplate(t) => {
            attrs.wrap_template = t.clone();
            return Ok(());
        }
        Assignment::UnwrapTemplate(t) => {
            attrs.unwrap_template = t.clone();
            return Ok(());
        }
        Assignment::Label(label) => {
            check_label(label)?;
            attrs.label = label.clone();
            return Ok(());
        }
        Assignment::Id(id) => {
            if !hsm2m && setting != Setting::Template {
                return Err(KeyError::AttributeUnsupported {
                    name: name.to_string(),
                    why: "on hsm1.medium clusters",
                });
            }
            attrs.id = id.clone();
            return Ok(());
        }
        Assignment::Fixed(_) => return Err(read_only()),
        Assignment::Flag(flag, v) => (*flag, *v),
    };
    let refuse = || KeyError::OneWayAttribute {
        name: name.to_string(),
        value: v.to_string(),
    };
    match (flag, setting) {
        (Flag::Token, Setting::Creation | Setting::Template) => {
            return Err(KeyError::TokenInAttributes)
        }
        (Flag::Trusted, Setting::Template) if !v => return Ok(()),
        (Flag::AlwaysSensitive | Flag::Local | Flag::NeverExtractable, _)
        | (Flag::Trusted, Setting::Creation | Setting::Template)
        | (Flag::Private, Setting::Modification) => return Err(read_only()),
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
    if setting.creates() {
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

/// Every key attribute, by what it is rather than by any front end's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attribute {
    KeyType,
    Label,
    Id,
    CheckValue,
    Class,
    Flag(Flag),
    MlDsaAlgorithm,
    KeyLengthBytes,
    PublicExponent,
    Modulus,
    ModulusSizeBits,
    EcPoint,
    Curve,
}

/// What kind of value an attribute holds, and so how it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// Free text, compared exactly (`label`).
    Text,
    /// A byte string, compared byte for byte (`id`: leading zero bytes count).
    Bytes,
    /// A byte string compared as an unsigned big-endian number: leading zero bytes do not
    /// count (`check-value`, `modulus`, `public-exponent`, `ec-point`).
    Number,
    /// An unsigned integer (`key-length-bytes`, `modulus-size-bits`).
    Integer,
    KeyType,
    Class,
    Curve,
    MlDsaAlgorithm,
}

/// Who may give an attribute a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// At creation and by `key set-attribute`, within the rules of [`apply`].
    Settable,
    /// Never: the HSM sets it (`local`, `always-sensitive`, ...) or the key's type and
    /// material fix it (`key-type`, `modulus`, ...).
    ReadOnly,
}

/// One row of [`ATTRIBUTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeInfo {
    pub attribute: Attribute,
    /// The CLI's name (`wrap-with-trusted`, `key-type`, ...).
    pub cli_name: &'static str,
    pub kind: Kind,
    pub access: Access,
}

const fn row(
    attribute: Attribute,
    cli_name: &'static str,
    kind: Kind,
    access: Access,
) -> AttributeInfo {
    AttributeInfo {
        attribute,
        cli_name,
        kind,
        access,
    }
}

const fn flag(flag: Flag, cli_name: &'static str, access: Access) -> AttributeInfo {
    row(Attribute::Flag(flag), cli_name, Kind::Bool, access)
}

/// THE attribute table: every attribute, its CLI name, its kind of value and who may set it,
/// in the order the CLI prints a key's attributes. Names map both ways through it
/// ([`Attribute::name`], [`Attribute::from_name`]); another front end maps its own ids onto
/// [`Attribute`] with [`AttributeIds`], so that it adds a column rather than a second list.
pub const ATTRIBUTES: [AttributeInfo; 30] = {
    use Access::{ReadOnly, Settable};
    [
        row(Attribute::KeyType, "key-type", Kind::KeyType, ReadOnly),
        row(Attribute::Label, "label", Kind::Text, Settable),
        row(Attribute::Id, "id", Kind::Bytes, Settable),
        row(Attribute::CheckValue, "check-value", Kind::Number, ReadOnly),
        row(Attribute::Class, "class", Kind::Class, ReadOnly),
        flag(Flag::Encrypt, "encrypt", Settable),
        flag(Flag::Decrypt, "decrypt", Settable),
        flag(Flag::Token, "token", Settable),
        flag(Flag::AlwaysSensitive, "always-sensitive", ReadOnly),
        flag(Flag::Derive, "derive", Settable),
        flag(Flag::Destroyable, "destroyable", Settable),
        flag(Flag::Extractable, "extractable", Settable),
        flag(Flag::Local, "local", ReadOnly),
        flag(Flag::Modifiable, "modifiable", Settable),
        flag(Flag::NeverExtractable, "never-extractable", ReadOnly),
        flag(Flag::Private, "private", Settable),
        row(
            Attribute::MlDsaAlgorithm,
            "mldsa-algorithm",
            Kind::MlDsaAlgorithm,
            ReadOnly,
        ),
        flag(Flag::Sensitive, "sensitive", Settable),
        flag(Flag::Sign, "sign", Settable),
        flag(Flag::Trusted, "trusted", Settable),
        flag(Flag::Unwrap, "unwrap", Settable),
        flag(Flag::Verify, "verify", Settable),
        flag(Flag::Wrap, "wrap", Settable),
        flag(Flag::WrapWithTrusted, "wrap-with-trusted", Settable),
        row(
            Attribute::KeyLengthBytes,
            "key-length-bytes",
            Kind::Integer,
            ReadOnly,
        ),
        row(
            Attribute::PublicExponent,
            "public-exponent",
            Kind::Number,
            ReadOnly,
        ),
        row(Attribute::Modulus, "modulus", Kind::Number, ReadOnly),
        row(
            Attribute::ModulusSizeBits,
            "modulus-size-bits",
            Kind::Integer,
            ReadOnly,
        ),
        row(Attribute::EcPoint, "ec-point", Kind::Number, ReadOnly),
        row(Attribute::Curve, "curve", Kind::Curve, ReadOnly),
    ]
};

impl Attribute {
    /// Every attribute, in the CLI's print order.
    pub fn all() -> impl Iterator<Item = Attribute> {
        ATTRIBUTES.iter().map(|r| r.attribute)
    }

    /// This attribute's row of [`ATTRIBUTES`].
    pub fn info(self) -> &'static AttributeInfo {
        // Every attribute has a row (a test checks it); `key-type`'s row stands in otherwise.
        ATTRIBUTES
            .iter()
            .find(|r| r.attribute == self)
            .unwrap_or(&ATTRIBUTES[0])
    }

    /// The CLI's name.
    pub fn name(self) -> &'static str {
        self.info().cli_name
    }

    /// The attribute the CLI calls `name`.
    pub fn from_name(name: &str) -> Option<Attribute> {
        ATTRIBUTES
            .iter()
            .find(|r| r.cli_name == name)
            .map(|r| r.attribute)
    }

    pub fn kind(self) -> Kind {
        self.info().kind
    }

    pub fn access(self) -> Access {
        self.info().access
    }
}

/// Another front end's ids for the attributes (the PKCS#11 module's `CKA_*`): it gives the
/// id of each [`Attribute`] (an exhaustive match, so a new attribute does not go unnoticed),
/// and the way back is derived from the table.
pub trait AttributeIds {
    type Id: PartialEq + Copy;

    /// The id of `attribute`, or `None` where this front end has none.
    fn id(attribute: Attribute) -> Option<Self::Id>;

    /// The attribute of `id`.
    fn attribute(id: Self::Id) -> Option<Attribute> {
        Attribute::all().find(|a| Self::id(*a) == Some(id))
    }
}

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Bool(bool),
    Text(String),
    /// [`Kind::Bytes`] and [`Kind::Number`] values.
    Bytes(Vec<u8>),
    Integer(u64),
    KeyType(KeyType),
    Class(KeyClass),
    Curve(Curve),
    MlDsaAlgorithm(MlDsaAlgorithm),
}

impl Value {
    /// Whether this value is one an attribute of `kind` holds.
    pub fn fits(&self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (Value::Bool(_), Kind::Bool)
                | (Value::Text(_), Kind::Text)
                | (Value::Bytes(_), Kind::Bytes | Kind::Number)
                | (Value::Integer(_), Kind::Integer)
                | (Value::KeyType(_), Kind::KeyType)
                | (Value::Class(_), Kind::Class)
                | (Value::Curve(_), Kind::Curve)
                | (Value::MlDsaAlgorithm(_), Kind::MlDsaAlgorithm)
        )
    }

    /// Whether this value equals `other` as values of `kind` compare.
    pub fn same_as(&self, other: &Value, kind: Kind) -> bool {
        match (self, other) {
            (Value::Bytes(a), Value::Bytes(b)) if kind == Kind::Number => {
                strip_leading_zeros(a) == strip_leading_zeros(b)
            }
            _ => self == other,
        }
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

/// Whether `name` is the CLI name of an attribute nobody sets.
pub fn is_read_only_name(name: &str) -> bool {
    Attribute::from_name(name).is_some_and(|a| a.access() == Access::ReadOnly)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aes() -> Settable {
        Settable::new(
            "k".into(),
            Vec::new(),
            defaults(KeyType::Aes, KeyClass::SecretKey, true),
        )
    }

    /// The CLI's `NAME=VALUE`, parsed as the session parses it.
    fn given(name: &str, value: &str) -> Result<Assignment, KeyError> {
        crate::session::key_syntax::parse_assignment(name, value)
    }

    fn set(a: &mut Settable, name: &str, value: &str, s: Setting) -> Result<(), KeyError> {
        apply(
            a,
            KeyType::Aes,
            KeyClass::SecretKey,
            &given(name, value)?,
            s,
            true,
        )
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
        let mut pubk = Settable::new(
            String::new(),
            vec![],
            defaults(KeyType::Ec, KeyClass::PublicKey, true),
        );
        let ec_public = |a: &mut Settable, name: &str| {
            apply(
                a,
                KeyType::Ec,
                KeyClass::PublicKey,
                &given(name, "true")?,
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
            let mut a = Settable::new(
                String::new(),
                vec![],
                defaults(KeyType::Rsa, KeyClass::PrivateKey, true),
            );
            apply(
                &mut a,
                KeyType::Rsa,
                KeyClass::PrivateKey,
                &Assignment::Flag(Flag::Derive, true),
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
    fn every_attribute_has_one_row_and_every_flag_is_in_it() {
        for (i, row) in ATTRIBUTES.iter().enumerate() {
            assert_eq!(row.attribute.info(), row, "{}", row.cli_name);
            let again = ATTRIBUTES.iter().skip(i + 1);
            assert!(again.clone().all(|r| r.attribute != row.attribute));
            assert!(again.clone().all(|r| r.cli_name != row.cli_name));
        }
        for flag in Flag::ALL {
            assert_eq!(Flag::parse(flag.name()), Some(flag));
            assert_eq!(Attribute::Flag(flag).kind(), Kind::Bool);
        }
        let read_only: Vec<_> = ATTRIBUTES
            .iter()
            .filter(|r| r.access == Access::ReadOnly)
            .map(|r| r.cli_name)
            .collect();
        assert_eq!(
            read_only,
            [
                "key-type",
                "check-value",
                "class",
                "always-sensitive",
                "local",
                "never-extractable",
                "mldsa-algorithm",
                "key-length-bytes",
                "public-exponent",
                "modulus",
                "modulus-size-bits",
                "ec-point",
                "curve"
            ]
        );
    }

    /// A front end's own ids map both ways through the table.
    #[test]
    fn another_front_end_maps_its_ids_onto_the_table() {
        struct Numbered;
        impl AttributeIds for Numbered {
            type Id = usize;
            fn id(attribute: Attribute) -> Option<usize> {
                ATTRIBUTES.iter().position(|r| r.attribute == attribute)
            }
        }
        for attribute in Attribute::all() {
            let id = Numbered::id(attribute);
            assert_eq!(id.and_then(Numbered::attribute), Some(attribute));
        }
    }

    /// Rows written before templates existed read; a key without templates is written as
    /// before; a template survives the store.
    #[test]
    fn templates_keep_the_stored_form_compatible() {
        let old = r#"{"label":"k","id":[],"flags":FLAGS}"#.replace(
            "FLAGS",
            &serde_json::to_string(&defaults(KeyType::Aes, KeyClass::SecretKey, true)).unwrap(),
        );
        let read: Settable = serde_json::from_str(&old).unwrap();
        assert!(read.wrap_template.is_empty() && read.unwrap_template.is_empty());
        assert_eq!(serde_json::to_string(&read).unwrap(), old);
        let mut a = aes();
        let t = Template::new(vec![
            (Attribute::Flag(Flag::Encrypt), Value::Bool(true)),
            (Attribute::Class, Value::Class(KeyClass::SecretKey)),
            (Attribute::KeyType, Value::KeyType(KeyType::Aes)),
            (Attribute::Id, Value::Bytes(vec![0, 1])),
            (Attribute::KeyLengthBytes, Value::Integer(32)),
        ])
        .unwrap();
        let given = Assignment::WrapTemplate(t.clone());
        let apply_as =
            |a: &mut Settable, s| apply(a, KeyType::Aes, KeyClass::SecretKey, &given, s, true);
        // Only a PKCS#11 template gives one.
        assert!(apply_as(&mut a, Setting::Creation).is_err());
        assert!(apply_as(&mut a, Setting::Modification).is_err());
        apply_as(&mut a, Setting::Template).unwrap();
        let back: Settable = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back.wrap_template, t);
        // An attribute twice, or a value of another kind, is no template.
        let twice = vec![
            (Attribute::Label, Value::Text("a".into())),
            (Attribute::Label, Value::Text("b".into())),
        ];
        assert!(Template::new(twice).is_err());
        assert!(Template::new(vec![(Attribute::Label, Value::Bool(true))]).is_err());
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
