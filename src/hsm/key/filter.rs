//! Key selection: typed terms, ANDed. The CLI's `key-reference=0x...` and
//! `attr.NAME=VALUE` syntax (AWS CloudHSM User Guide, "Filter keys using CloudHSM CLI") is
//! parsed into them at its edge (`crate::session::key_syntax`).

use super::attributes::{Attribute, Value};
use super::Key;

/// One term of a key selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// The key with this reference.
    Reference(u64),
    /// Keys whose `Attribute` has this value, compared as the attribute's
    /// [`Kind`](super::Kind) compares.
    Is(Attribute, Value),
    /// A value no key's attribute can have (`attr.id=0xzz`): the
    /// selection is valid and matches nothing.
    Never(Attribute),
}

/// The label a selection requires, if any (lets the store narrow its query).
pub fn label(terms: &[Term]) -> Option<&str> {
    terms.iter().find_map(|t| match t {
        Term::Is(Attribute::Label, Value::Text(label)) => Some(label.as_str()),
        _ => None,
    })
}

/// The reference a selection requires, if any.
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
        Term::Is(attribute, wanted) => key
            .value(*attribute)
            .is_some_and(|actual| actual.same_as(wanted, attribute.kind())),
        Term::Never(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Kind;
    use super::*;

    #[test]
    fn numbers_ignore_leading_zero_bytes_and_byte_strings_do_not() {
        let v = |b: &[u8]| Value::Bytes(b.to_vec());
        assert!(v(&[1, 0, 1]).same_as(&v(&[0, 1, 0, 1]), Kind::Number));
        assert!(v(&[]).same_as(&v(&[0]), Kind::Number));
        assert!(!v(&[0, 0x0a]).same_as(&v(&[0x0a]), Kind::Bytes));
        assert!(v(&[0x0a, 0x1b]).same_as(&v(&[0x0a, 0x1b]), Kind::Bytes));
        assert!(!Value::Text("A".into()).same_as(&Value::Text("a".into()), Kind::Text));
    }
}
