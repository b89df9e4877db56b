//! Key filters: `key-reference=0x...` and `attr.NAME=VALUE` terms, ANDed
//! (AWS CloudHSM User Guide, "Filter keys using CloudHSM CLI").

use super::{is_attribute_name, Flag, Key, KeyError};

/// One term of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Reference(u64),
    Attribute { name: String, value: String },
}

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
pub fn parse(items: &[String]) -> Result<Vec<Term>, KeyError> {
    items
        .iter()
        .map(|item| {
            let malformed = || KeyError::MalformedFilter { term: item.clone() };
            let (lhs, value) = item.split_once('=').ok_or_else(malformed)?;
            if lhs == "key-reference" {
                return Ok(Term::Reference(parse_reference(value)?));
            }
            let name = lhs.strip_prefix("attr.").ok_or_else(malformed)?;
            if !is_attribute_name(name) {
                return Err(KeyError::UnknownAttribute {
                    name: name.to_string(),
                });
            }
            if Flag::parse(name).is_some() {
                super::attributes::parse_bool(name, value)?;
            }
            Ok(Term::Attribute {
                name: name.to_string(),
                value: value.to_string(),
            })
        })
        .collect()
}

/// The label a filter requires, if any (lets the store narrow its query).
pub fn label(terms: &[Term]) -> Option<&str> {
    terms.iter().find_map(|t| match t {
        Term::Attribute { name, value } if name == "label" => Some(value.as_str()),
        _ => None,
    })
}

/// The reference a filter requires, if any.
pub fn reference(terms: &[Term]) -> Option<u64> {
    terms.iter().find_map(|t| match t {
        Term::Reference(r) => Some(*r),
        _ => None,
    })
}

/// Whether `key` satisfies every term.
pub fn matches(terms: &[Term], key: &Key) -> bool {
    terms.iter().all(|term| match term {
        Term::Reference(r) => key.reference == *r,
        Term::Attribute { name, value } => key
            .attribute(name)
            .is_some_and(|actual| same_value(name, &actual, value)),
    })
}

/// Whether an attribute's printed value matches a filter's value. The values of enumerated
/// attributes (booleans, `key-type`, `class`, `curve`, `mldsa-algorithm`) compare without
/// regard to case (`attr.key-type=RSA` finds RSA keys, as `attr.sign=TRUE` finds signing keys);
/// binary values compare as numbers; labels, and everything else, exactly.
fn same_value(name: &str, actual: &str, wanted: &str) -> bool {
    if is_enumerated(name) {
        return actual.eq_ignore_ascii_case(wanted);
    }
    match name {
        // An id is a byte string: the same bytes, whatever the case of the hex digits, but
        // leading zero bytes count (0x000a is not 0x0a).
        "id" => {
            let bytes = |v: &str| super::attributes::parse_hex("id", v).ok();
            bytes(actual).is_some_and(|a| Some(a) == bytes(wanted))
        }
        "check-value" | "modulus" | "public-exponent" | "ec-point" => {
            normalize_hex(actual) == normalize_hex(wanted)
        }
        _ => actual == wanted,
    }
}

/// Attributes whose values come from a fixed set of names.
fn is_enumerated(name: &str) -> bool {
    Flag::parse(name).is_some()
        || matches!(name, "key-type" | "class" | "curve" | "mldsa-algorithm")
}

fn normalize_hex(v: &str) -> String {
    let digits = v
        .strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .unwrap_or(v);
    let trimmed = digits.trim_start_matches('0');
    trimmed.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let t = parse(&s(&[
            "key-reference=0x10",
            "attr.label=a=b",
            "attr.sign=true",
        ]))
        .unwrap();
        assert_eq!(t[0], Term::Reference(16));
        assert_eq!(
            t[1],
            Term::Attribute {
                name: "label".into(),
                value: "a=b".into()
            }
        );
        assert!(matches!(
            parse(&s(&["label=x"])),
            Err(KeyError::MalformedFilter { .. })
        ));
        assert!(matches!(
            parse(&s(&["attr.colour=red"])),
            Err(KeyError::UnknownAttribute { .. })
        ));
        assert!(matches!(
            parse(&s(&["attr.sign=maybe"])),
            Err(KeyError::InvalidAttributeValue { .. })
        ));
        assert!(matches!(
            parse(&s(&["nothing"])),
            Err(KeyError::MalformedFilter { .. })
        ));
    }

    #[test]
    fn hex_comparison() {
        assert!(same_value("public-exponent", "0x010001", "0x10001"));
        assert!(same_value("check-value", "0xABCDEF", "0xabcdef"));
        assert!(!same_value("label", "A", "a"));
        assert!(same_value("sign", "true", "TRUE"));
        assert!(same_value("key-type", "rsa", "RSA"));
        assert!(same_value("class", "private-key", "Private-Key"));
        assert!(same_value("curve", "secp224r1", "SECP224R1"));
        assert!(same_value("mldsa-algorithm", "ML-DSA-44", "ml-dsa-44"));
        assert!(!same_value("key-type", "rsa", "ec"));
        assert!(same_value("id", "0x0a1b", "0x0A1B"));
        assert!(same_value("id", "0x", ""));
        assert!(!same_value("id", "0x000a", "0x0a"));
        assert!(!same_value("id", "0x0a", "0x0g"));
    }
}
