//! The CLI's syntax for keys, parsed into and printed from `hsm`'s typed vocabulary:
//! `--filter key-reference=0x... attr.NAME=VALUE` becomes [`Term`]s, `--attributes NAME=VALUE`
//! and `key set-attribute --name --value` become [`Assignment`]s, and attribute values are
//! printed as the AWS guide shows them. The names come from the one attribute table,
//! `hsm::key::attributes::ATTRIBUTES`.

use serde_json::Value as Json;

use crate::hsm::crypto::{Curve, MlDsaAlgorithm};
use crate::hsm::key::attributes::{hex, parse_bool, parse_hex};
use crate::hsm::key::{Assignment, Attribute, KeyClass, KeyError, KeyType, Kind, Term, Value};

/// Parses a key reference: `0x` + hex (short forms accepted) or decimal.
pub fn parse_reference(value: &str) -> Result<u64, KeyError> {
    let bad = || KeyError::InvalidReference {
        value: value.to_string(),
    };
    let parsed = match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) if !hex.is_empty() => u64::from_str_radix(hex, 16),
        Some(_) => return Err(bad()),
        None => value.parse::<u64>(),
    };
    parsed.map_err(|_| bad())
}

/// Parses the values of a `--filter` option.
pub fn parse_filter(items: &[String]) -> Result<Vec<Term>, KeyError> {
    items
        .iter()
        .map(|item| {
            let malformed = || KeyError::MalformedFilter { term: item.clone() };
            let (lhs, value) = item.split_once('=').ok_or_else(malformed)?;
            if lhs == "key-reference" {
                return Ok(Term::Reference(parse_reference(value)?));
            }
            let name = lhs.strip_prefix("attr.").ok_or_else(malformed)?;
            let attribute =
                Attribute::from_name(name).ok_or_else(|| KeyError::UnknownAttribute {
                    name: name.to_string(),
                })?;
            Ok(match filter_value(attribute, value)? {
                Some(wanted) => Term::Is(attribute, wanted),
                None => Term::Never(attribute),
            })
        })
        .collect()
}

/// The value a filter term asks for; `None` for a value no key can have. A boolean must be
/// `true` or `false`; the values of enumerated attributes (booleans, `key-type`, `class`,
/// `curve`, `mldsa-algorithm`) are read without regard to case (`attr.key-type=RSA` finds
/// RSA keys, as `attr.sign=TRUE` finds signing keys); an id is hex bytes; the other binary
/// values are hex numbers (`0x10001` finds the exponent printed as `0x010001`); numbers are
/// decimal as printed.
fn filter_value(attribute: Attribute, value: &str) -> Result<Option<Value>, KeyError> {
    let name = attribute.name();
    let lower = value.to_ascii_lowercase();
    Ok(match attribute.kind() {
        Kind::Bool => Some(Value::Bool(parse_bool(name, value)?)),
        Kind::Text => Some(Value::Text(value.to_string())),
        Kind::Bytes => parse_hex(name, value).ok().map(Value::Bytes),
        Kind::Number => hex_number(value).map(Value::Bytes),
        Kind::Integer => value
            .parse::<u64>()
            .ok()
            .filter(|n| n.to_string() == value)
            .map(Value::Integer),
        Kind::KeyType => KeyType::parse(&lower).map(Value::KeyType),
        Kind::Class => KeyClass::parse(&lower).map(Value::Class),
        Kind::Curve => Curve::from_name(&lower).ok().map(Value::Curve),
        Kind::MlDsaAlgorithm => MlDsaAlgorithm::from_name(&value.to_ascii_uppercase())
            .ok()
            .map(Value::MlDsaAlgorithm),
    })
}

/// Hex digits (`0x` optional, any number of them, either case) as big-endian bytes.
fn hex_number(value: &str) -> Option<Vec<u8>> {
    let digits = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or(value);
    let padded = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits.to_string()
    };
    if !padded.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    parse_hex("", &padded).ok()
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

/// Parses the `NAME=VALUE` items of `--attributes`.
pub fn parse_assignments(items: &[String]) -> Result<Vec<Assignment>, KeyError> {
    split_assignments(items)?
        .iter()
        .map(|(name, value)| parse_assignment(name, value))
        .collect()
}

/// Parses one attribute given a value (`--attributes NAME=VALUE`, or `key set-attribute`'s
/// `--name` and `--value`). Whether the key takes it is `hsm`'s rule
/// (`hsm::key::attributes::apply`).
pub fn parse_assignment(name: &str, value: &str) -> Result<Assignment, KeyError> {
    let attribute = Attribute::from_name(name).ok_or_else(|| KeyError::UnknownAttribute {
        name: name.to_string(),
    })?;
    Ok(match attribute {
        Attribute::Label => Assignment::Label(value.to_string()),
        Attribute::Id => {
            Assignment::Id(parse_hex(name, value).map_err(|_| KeyError::InvalidId {
                value: value.to_string(),
            })?)
        }
        Attribute::Flag(flag) => Assignment::Flag(flag, parse_bool(name, value)?),
        fixed => Assignment::Fixed(fixed),
    })
}

/// An attribute value as the CLI prints it in a key's `attributes` object.
pub fn value_json(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::Text(text) => text.clone().into(),
        Value::Bytes(bytes) => hex(bytes).into(),
        Value::Integer(n) => (*n).into(),
        Value::KeyType(t) => t.as_str().into(),
        Value::Class(c) => c.as_str().into(),
        Value::Curve(c) => c.name().into(),
        Value::MlDsaAlgorithm(a) => a.name().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hsm::key::Flag;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn references() {
        assert_eq!(parse_reference("0xabc").unwrap(), 0xabc);
        assert_eq!(parse_reference("0x00000000001c08f1").unwrap(), 0x1c08f1);
        assert_eq!(parse_reference("42").unwrap(), 42);
        for bad in ["0x", "0xzz", "-1", "abc", "0x10000000000000000"] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn terms() {
        let t = parse_filter(&s(&[
            "key-reference=0x10",
            "attr.label=a=b",
            "attr.sign=TRUE",
            "attr.key-type=RSA",
            "attr.key-type=des3",
            "attr.key-type=dsa",
            "attr.curve=SECP224R1",
            "attr.mldsa-algorithm=ml-dsa-44",
            "attr.public-exponent=0x10001",
            "attr.key-length-bytes=032",
            "attr.id=0x0A1B",
            "attr.id=0x0g",
        ]))
        .unwrap();
        assert_eq!(
            t,
            vec![
                Term::Reference(16),
                Term::Is(Attribute::Label, Value::Text("a=b".into())),
                Term::Is(Attribute::Flag(Flag::Sign), Value::Bool(true)),
                Term::Is(Attribute::KeyType, Value::KeyType(KeyType::Rsa)),
                Term::Is(Attribute::KeyType, Value::KeyType(KeyType::Des3)),
                Term::Never(Attribute::KeyType),
                Term::Is(Attribute::Curve, Value::Curve(Curve::Secp224r1)),
                Term::Is(
                    Attribute::MlDsaAlgorithm,
                    Value::MlDsaAlgorithm(MlDsaAlgorithm::MlDsa44)
                ),
                Term::Is(Attribute::PublicExponent, Value::Bytes(vec![1, 0, 1])),
                Term::Never(Attribute::KeyLengthBytes),
                Term::Is(Attribute::Id, Value::Bytes(vec![0x0a, 0x1b])),
                Term::Never(Attribute::Id),
            ]
        );
        assert!(matches!(
            parse_filter(&s(&["label=x"])),
            Err(KeyError::MalformedFilter { .. })
        ));
        assert!(matches!(
            parse_filter(&s(&["attr.colour=red"])),
            Err(KeyError::UnknownAttribute { .. })
        ));
        assert!(matches!(
            parse_filter(&s(&["attr.sign=maybe"])),
            Err(KeyError::InvalidAttributeValue { .. })
        ));
        assert!(matches!(
            parse_filter(&s(&["nothing"])),
            Err(KeyError::MalformedFilter { .. })
        ));
    }

    #[test]
    fn assignments() {
        assert_eq!(
            parse_assignments(&s(&[" encrypt=TRUE", "label=a=b", "id=0x0a", "curve=x"])).unwrap(),
            vec![
                Assignment::Flag(Flag::Encrypt, true),
                Assignment::Label("a=b".into()),
                Assignment::Id(vec![0x0a]),
                Assignment::Fixed(Attribute::Curve),
            ]
        );
        let text = |items: &[&str]| parse_assignments(&s(items)).unwrap_err().to_string();
        assert_eq!(
            text(&["=x"]),
            "Invalid attribute =x: use KEY_ATTRIBUTE_NAME=KEY_ATTRIBUTE_VALUE"
        );
        assert_eq!(text(&["colour=red"]), "Unknown key attribute colour");
        assert_eq!(text(&["sign=yes"]), "Invalid value yes for attribute sign");
        assert!(text(&["id=0xabc"]).starts_with("Invalid value 0xabc for attribute id: "));
    }

    /// Every attribute's name maps to it and back, and every value a key can hold prints
    /// and parses back to itself.
    #[test]
    fn the_attribute_table_round_trips() {
        for attribute in Attribute::all() {
            assert_eq!(Attribute::from_name(attribute.name()), Some(attribute));
        }
        assert_eq!(Attribute::all().count(), 30);
        let sample = |kind: Kind| match kind {
            Kind::Bool => Value::Bool(true),
            Kind::Text => Value::Text("a label".into()),
            Kind::Bytes | Kind::Number => Value::Bytes(vec![0x01, 0x00, 0x01]),
            Kind::Integer => Value::Integer(2048),
            Kind::KeyType => Value::KeyType(KeyType::GenericSecret),
            Kind::Class => Value::Class(KeyClass::PrivateKey),
            Kind::Curve => Value::Curve(Curve::Prime256v1),
            Kind::MlDsaAlgorithm => Value::MlDsaAlgorithm(MlDsaAlgorithm::MlDsa87),
        };
        for attribute in Attribute::all() {
            let value = sample(attribute.kind());
            let printed = match value_json(&value) {
                Json::String(text) => text,
                other => other.to_string(),
            };
            assert_eq!(
                filter_value(attribute, &printed).unwrap(),
                Some(value),
                "{}",
                attribute.name()
            );
        }
    }
}
