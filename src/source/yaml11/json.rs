//! The JSON value of a loaded document, as Python's `json.dumps` writes what
//! `yaml.safe_load` returns (with `default=str` for the types JSON lacks).

use serde_json::{Map, Number, Value};

use super::{Node, NodeKind};

/// The JSON value `json.dumps(yaml.safe_load(text), default=str)` writes for `node`,
/// read back by a JSON parser; schema validation looks at this value.
///
/// Where Python has no JSON form, or writes text that is not JSON, the choices are:
///
/// - `NaN`, `Infinity` and `-Infinity` (bare words in Python's output) are strings;
/// - integers beyond 64 bits are the nearest float, as a JSON parser without arbitrary
///   precision (serde_json) reads Python's digits; beyond the float range, the digits
///   as a string;
/// - timestamps are Python's `str()`: `2001-12-14`, `2001-12-14 21:59:43.100000-05:00`;
/// - `!!binary` bytes are Python's `str()` of `bytes`: `b'\x89PNG'` (the bytes
///   themselves are in [`NodeKind::Binary`]);
/// - a `!!set` is an array of its members, sorted by their text as a key would be
///   written (Python's `str()` of a set has no stable order);
/// - `!!omap` and `!!pairs` are arrays of `[key, value]` arrays, as `json.dumps` writes
///   tuples;
/// - mapping keys are text as `json.dumps` writes them (`True` → `"true"`, `1` → `"1"`,
///   `None` → `"null"`, `1.5` → `"1.5"`, `1e16` → `"1e+16"`), and dates and bytes,
///   which `json.dumps` refuses as keys, are their `str()`. Keys that become the same
///   text keep the first place and the last value, as a JSON parser reads Python's
///   output.
pub fn to_json(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(*b),
        NodeKind::Int(i) => int_value(*i),
        NodeKind::BigInt(digits) => match digits.parse::<f64>() {
            Ok(f) if f.is_finite() => float_value(f),
            _ => Value::String(digits.clone()),
        },
        NodeKind::Float(f) => float_value(*f),
        NodeKind::Str(s) => Value::String(s.clone()),
        NodeKind::Timestamp(t) => Value::String(t.to_string()),
        NodeKind::Binary(bytes) => Value::String(python_bytes(bytes)),
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Pairs(pairs) => Value::Array(
            pairs
                .iter()
                .map(|(k, v)| Value::Array(vec![to_json(k), to_json(v)]))
                .collect(),
        ),
        NodeKind::Set(members) => {
            let mut keyed: Vec<(String, Value)> = members.iter().map(|m| (key_text(m), to_json(m))).collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
        }
        NodeKind::Map(pairs) => {
            let mut map = Map::with_capacity(pairs.len());
            for (k, v) in pairs {
                map.insert(key_text(k), to_json(v));
            }
            Value::Object(map)
        }
    }
}

fn int_value(i: i128) -> Value {
    if let Ok(v) = i64::try_from(i) {
        Value::Number(v.into())
    } else if let Ok(v) = u64::try_from(i) {
        Value::Number(v.into())
    } else {
        float_value(i as f64)
    }
}

fn float_value(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None => Value::String(non_finite(f).to_string()),
    }
}

/// How Python's `json` module spells the floats JSON has no number for.
fn non_finite(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// A mapping key as `json.dumps` writes it.
fn key_text(node: &Node) -> String {
    match &node.kind {
        NodeKind::Str(s) => s.clone(),
        NodeKind::Null => "null".to_string(),
        NodeKind::Bool(b) => b.to_string(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::BigInt(digits) => digits.clone(),
        NodeKind::Float(f) => python_float(*f),
        NodeKind::Timestamp(t) => t.to_string(),
        NodeKind::Binary(bytes) => python_bytes(bytes),
        // The loader refuses collections as keys (and so as set members).
        NodeKind::Seq(_) | NodeKind::Map(_) | NodeKind::Set(_) | NodeKind::Pairs(_) => {
            to_json(node).to_string()
        }
    }
}

/// A float key as `json.dumps` writes it: `NaN`/`Infinity` for the non-finite ones,
/// else Python's `repr()`.
fn python_float(f: f64) -> String {
    if f.is_finite() {
        python_float_repr(f)
    } else {
        non_finite(f).to_string()
    }
}

/// Python's `repr()` of a float: `nan`, `inf`, `-inf`, or the shortest digits that
/// read back, positional from 1e-4 up to below 1e16 (with `.0` when whole), else with
/// an exponent of at least two digits (`1e+16`, `1.5e-05`).
pub(crate) fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // Rust's `{:e}` gives the same shortest round-trip digits: `-1.2345e-7`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        if point <= 0 {
            let zeros = "0".repeat(point.unsigned_abs() as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let point = point as usize;
            if digits.len() <= point {
                format!("{sign}{digits}{}.0", "0".repeat(point - digits.len()))
            } else {
                format!("{sign}{}.{}", &digits[..point], &digits[point..])
            }
        }
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

/// Python's `repr()` of `bytes`: `b'...'` with `\t`, `\n`, `\r`, `\\`, the quote, and
/// `\xNN` for other bytes outside printable ASCII; double quotes when the bytes hold a
/// single quote and no double quote.
fn python_bytes(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(char::from(quote));
    for &b in bytes {
        match b {
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\\' => out.push_str("\\\\"),
            _ if b == quote => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(char::from(quote));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (123456789.125, "123456789.125"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (-2.5e300, "-2.5e+300"),
            (0.1, "0.1"),
            (f64::INFINITY, "Infinity"),
            (f64::NAN, "NaN"),
        ];
        for (f, text) in cases {
            assert_eq!(python_float(f), text, "{f:e}");
        }
    }

    #[test]
    fn bytes_print_as_python_repr() {
        assert_eq!(python_bytes(b"hi\n"), "b'hi\\n'");
        assert_eq!(python_bytes(b"\x89PNG\x00"), "b'\\x89PNG\\x00'");
        assert_eq!(python_bytes(b"it's"), "b\"it's\"");
        assert_eq!(python_bytes(b"'\""), "b'\\'\"'");
        assert_eq!(python_bytes(b"a\\b\x7f"), "b'a\\\\b\\x7f'");
    }

    #[test]
    fn keys_print_as_json_dumps() {
        let key = |kind| {
            key_text(&Node {
                kind,
                span: crate::source::Span::default(),
                scalar: None,
            })
        };
        assert_eq!(key(NodeKind::Bool(true)), "true");
        assert_eq!(key(NodeKind::Null), "null");
        assert_eq!(key(NodeKind::Int(-3)), "-3");
        assert_eq!(key(NodeKind::Float(f64::NEG_INFINITY)), "-Infinity");
    }

    #[test]
    fn numbers_beyond_64_bits_become_floats() {
        assert_eq!(int_value(1 << 70), Value::from(1_180_591_620_717_411_303_424.0));
        assert_eq!(int_value(u64::MAX.into()), Value::from(u64::MAX));
        assert_eq!(float_value(f64::NAN), Value::from("NaN"));
    }
}
