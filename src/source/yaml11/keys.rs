//! Mapping keys as Python's `dict` compares them: `1`, `1.0` and `True` are one key;
//! a date and a datetime never are; aware datetimes compare as instants; `nan` equals
//! nothing. Equal keys keep the first key and the last value.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::NodeKind;
use super::timestamp::instant;

/// A number, for Python's equality between `bool`, `int` and `float`.
enum Number<'a> {
    Int(i128),
    Big(&'a str),
    Float(f64),
}

fn number(kind: &NodeKind) -> Option<Number<'_>> {
    match kind {
        NodeKind::Bool(b) => Some(Number::Int(i128::from(*b))),
        NodeKind::Int(i) => Some(Number::Int(*i)),
        NodeKind::BigInt(s) => Some(Number::Big(s)),
        NodeKind::Float(f) => Some(match integral(*f) {
            Some(i) => Number::Int(i),
            None => Number::Float(*f),
        }),
        _ => None,
    }
}

/// The integer a float equals, if it is whole and within 128 bits.
fn integral(f: f64) -> Option<i128> {
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0; // 2^127
    (f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i128)
}

/// Whether Python's `dict` treats two keys as the same key: `1`, `1.0` and `True` are
/// one key; a date and a datetime never are; aware datetimes compare as instants;
/// `nan` equals nothing.
pub(super) fn python_eq(a: &NodeKind, b: &NodeKind) -> bool {
    if let (Some(x), Some(y)) = (number(a), number(b)) {
        return match (x, y) {
            (Number::Int(x), Number::Int(y)) => x == y,
            (Number::Big(x), Number::Big(y)) => x == y,
            (Number::Float(x), Number::Float(y)) => x == y,
            _ => false,
        };
    }
    match (a, b) {
        (NodeKind::Null, NodeKind::Null) => true,
        (NodeKind::Str(x), NodeKind::Str(y)) => x == y,
        (NodeKind::Binary(x), NodeKind::Binary(y)) => x == y,
        (NodeKind::Timestamp(x), NodeKind::Timestamp(y)) => instant(x) == instant(y),
        _ => false,
    }
}

/// A hash consistent with [`python_eq`].
pub(super) fn key_hash(kind: &NodeKind) -> u64 {
    let mut h = DefaultHasher::new();
    if let Some(n) = number(kind) {
        match n {
            Number::Int(i) => (0u8, i).hash(&mut h),
            Number::Big(s) => (1u8, s).hash(&mut h),
            Number::Float(f) => (2u8, f.to_bits()).hash(&mut h),
        }
        return h.finish();
    }
    match kind {
        NodeKind::Str(s) => (3u8, s).hash(&mut h),
        NodeKind::Binary(b) => (4u8, b).hash(&mut h),
        NodeKind::Timestamp(t) => (5u8, instant(t)).hash(&mut h),
        _ => 6u8.hash(&mut h),
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_key_equality() {
        let one = NodeKind::Int(1);
        assert!(python_eq(&one, &NodeKind::Bool(true)));
        assert!(python_eq(&one, &NodeKind::Float(1.0)));
        assert!(!python_eq(&one, &NodeKind::Str("1".into())));
        assert!(python_eq(&NodeKind::Float(-0.0), &NodeKind::Bool(false)));
        assert!(!python_eq(&NodeKind::Float(f64::NAN), &NodeKind::Float(f64::NAN)));
        assert_eq!(key_hash(&one), key_hash(&NodeKind::Float(1.0)));
        assert_eq!(key_hash(&NodeKind::Bool(false)), key_hash(&NodeKind::Float(-0.0)));
    }

    #[test]
    fn aware_timestamps_compare_as_instants() {
        let t = |text: &str| NodeKind::Timestamp(super::super::timestamp::timestamp_of(text).unwrap());
        assert!(python_eq(
            &t("2001-12-14 21:59:43-05:00"),
            &t("2001-12-15 02:59:43Z")
        ));
        assert!(!python_eq(&t("2001-12-15 02:59:43"), &t("2001-12-15 02:59:43Z")));
        assert!(!python_eq(&t("2001-12-15"), &t("2001-12-15 00:00:00")));
    }
}
