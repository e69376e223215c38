//! Scalars: which YAML 1.1 type a plain scalar has, and reading a scalar's text as a
//! value of a type, with the rules (and the leniencies) of PyYAML's `SafeLoader`.
//! Timestamps are in [`super::timestamp`].
//!
//! Plain-scalar typing follows the YAML 1.1 type definitions (yaml.org/type) in the
//! narrower forms PyYAML accepts; reading follows PyYAML's documented behaviour, which
//! for `!!int` and `!!float` hands the text (without `_`) to Python's `int()` and
//! `float()`. Each matcher below is written against that description, not ported.

use super::timestamp;

/// The types a node can be given, named after their `tag:yaml.org,2002:` tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    Null,
    Bool,
    Int,
    Float,
    Binary,
    Timestamp,
    Omap,
    Pairs,
    Set,
    Str,
    Seq,
    Map,
    /// `<<`: only meaningful as a mapping key.
    Merge,
    /// `=`: read as the string `=` when a mapping key, refused elsewhere.
    Value,
}

/// The prefix of YAML's own tags (`!!int` is `tag:yaml.org,2002:int`).
pub(super) const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

impl Tag {
    /// The type a full tag names, if the safe loader knows it.
    pub(super) fn from_tag(tag: &str) -> Option<Tag> {
        let name = tag.strip_prefix(YAML_TAG_PREFIX)?;
        Some(match name {
            "null" => Tag::Null,
            "bool" => Tag::Bool,
            "int" => Tag::Int,
            "float" => Tag::Float,
            "binary" => Tag::Binary,
            "timestamp" => Tag::Timestamp,
            "omap" => Tag::Omap,
            "pairs" => Tag::Pairs,
            "set" => Tag::Set,
            "str" => Tag::Str,
            "seq" => Tag::Seq,
            "map" => Tag::Map,
            "merge" => Tag::Merge,
            "value" => Tag::Value,
            _ => return None,
        })
    }

    /// The short form authors write (`!!int`).
    pub(super) fn short(self) -> &'static str {
        match self {
            Tag::Null => "!!null",
            Tag::Bool => "!!bool",
            Tag::Int => "!!int",
            Tag::Float => "!!float",
            Tag::Binary => "!!binary",
            Tag::Timestamp => "!!timestamp",
            Tag::Omap => "!!omap",
            Tag::Pairs => "!!pairs",
            Tag::Set => "!!set",
            Tag::Str => "!!str",
            Tag::Seq => "!!seq",
            Tag::Map => "!!map",
            Tag::Merge => "!!merge",
            Tag::Value => "!!value",
        }
    }
}

/// The type of a plain (unquoted, untagged) scalar.
///
/// As in Python's regular expressions, where `$` also matches before a final line
/// break, one trailing `\n` is ignored (it only occurs in scalars tagged `!`).
pub(super) fn resolve_plain(text: &str) -> Tag {
    let s = text.strip_suffix('\n').unwrap_or(text);
    if bool_word(s).is_some() {
        Tag::Bool
    } else if is_float(s) {
        Tag::Float
    } else if is_int(s) {
        Tag::Int
    } else if s == "<<" {
        Tag::Merge
    } else if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        Tag::Null
    } else if timestamp::is_timestamp(s) {
        Tag::Timestamp
    } else if s == "=" {
        Tag::Value
    } else {
        Tag::Str
    }
}

/// The booleans YAML 1.1 spells out, in the three capitalizations PyYAML accepts.
fn bool_word(s: &str) -> Option<bool> {
    match s {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Reads a `!!bool` scalar: any capitalization of the six words.
pub(super) fn bool_of(text: &str) -> Option<bool> {
    match text.to_lowercase().as_str() {
        "yes" | "true" | "on" => Some(true),
        "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// A cursor over ASCII bytes, for the matchers.
pub(super) struct Cursor<'a> {
    pub(super) s: &'a [u8],
    pub(super) at: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Cursor {
            s: s.as_bytes(),
            at: 0,
        }
    }
    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }
    pub(super) fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.at += 1;
        }
        hit
    }
    fn eat_sign(&mut self) {
        if !self.eat(b'-') {
            self.eat(b'+');
        }
    }
    /// Consumes bytes while `f` holds; returns how many.
    pub(super) fn run(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.at;
        while self.peek().is_some_and(&f) {
            self.at += 1;
        }
        self.at - start
    }
    fn rest(&self) -> &'a [u8] {
        &self.s[self.at..]
    }
    pub(super) fn done(&self) -> bool {
        self.at == self.s.len()
    }
}

fn digit_or_underscore(b: u8) -> bool {
    b.is_ascii_digit() || b == b'_'
}

/// `(:SS)+` of sexagesimal numbers: each part one digit, or two with the first 0-5.
fn sexagesimal_tail(c: &mut Cursor) -> bool {
    let mut parts = 0;
    while c.eat(b':') {
        let start = c.at;
        let n = c.run(|b| b.is_ascii_digit());
        let ok = n == 1 || (n == 2 && c.s[start] <= b'5');
        if !ok {
            return false;
        }
        parts += 1;
    }
    parts > 0
}

/// YAML 1.1 floats as PyYAML types plain scalars: `1.5`, `1.`, `1.5e+3` (a dot is
/// required, and an exponent needs a sign), `.5` (no sign), `1:20.5`, `.inf`, `-.inf`,
/// `.nan`, with `_` allowed among the digits.
fn is_float(s: &str) -> bool {
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan"
        | ".NaN" | ".NAN" => return true,
        _ => {}
    }
    let mut c = Cursor::new(s);
    if c.peek() == Some(b'.') {
        // `.5`, `.5e-3`: a digit first, and no sign before the dot.
        c.at += 1;
        if !c.peek().is_some_and(|b| b.is_ascii_digit()) {
            return false;
        }
        c.run(digit_or_underscore);
        return exponent_then_end(&mut c);
    }
    c.eat_sign();
    if !c.peek().is_some_and(|b| b.is_ascii_digit()) {
        return false;
    }
    c.run(digit_or_underscore);
    if c.peek() == Some(b':') {
        // Sexagesimal: `190:20:30.15`; the fraction part takes no exponent.
        if !sexagesimal_tail(&mut c) || !c.eat(b'.') {
            return false;
        }
        c.run(digit_or_underscore);
        return c.done();
    }
    if !c.eat(b'.') {
        return false;
    }
    c.run(digit_or_underscore);
    exponent_then_end(&mut c)
}

/// An optional `e+3` / `E-10` (the sign is required) and then the end.
fn exponent_then_end(c: &mut Cursor) -> bool {
    if c.eat(b'e') || c.eat(b'E') {
        if !(c.eat(b'+') || c.eat(b'-')) {
            return false;
        }
        if c.run(|b| b.is_ascii_digit()) == 0 {
            return false;
        }
    }
    c.done()
}

/// YAML 1.1 integers as PyYAML types plain scalars: `0b1010`, `0644` (octal), `0x1F`
/// (lowercase `x`), `123`, `1:20` (sexagesimal, no leading zero), each with an optional
/// sign and `_` among the digits.
fn is_int(s: &str) -> bool {
    let mut c = Cursor::new(s);
    c.eat_sign();
    match c.rest() {
        [b'0', b'b', rest @ ..] => !rest.is_empty() && rest.iter().all(|&b| matches!(b, b'0' | b'1' | b'_')),
        [b'0', b'x', rest @ ..] => {
            !rest.is_empty() && rest.iter().all(|&b| b.is_ascii_hexdigit() || b == b'_')
        }
        [b'0'] => true,
        [b'0', rest @ ..] => rest.iter().all(|&b| matches!(b, b'0'..=b'7' | b'_')),
        [b'1'..=b'9', ..] => {
            c.run(digit_or_underscore);
            c.done() || (sexagesimal_tail(&mut c) && c.done())
        }
        _ => false,
    }
}

/// The value of an integer: within 128 bits, or beyond as decimal digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Int {
    Small(i128),
    Big(String),
}

/// Python refuses to turn integers longer than this many decimal digits into text, so
/// `json.dumps` fails on them; the loader refuses them too.
const MAX_INT_DIGITS: usize = 4300;

/// Reads an `!!int` scalar (plain ones typed int, or tagged ones) as PyYAML does:
/// drop every `_`, take one sign, then `0` is zero, `0b…` binary, `0x…` hex, another
/// leading `0` octal, a `:` sexagesimal, else decimal, each part read by Python's
/// `int()` (which ignores surrounding blanks and takes its own sign).
pub(super) fn int_of(text: &str) -> Option<Int> {
    let v: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match v.as_bytes().first()? {
        b'-' => (true, &v[1..]),
        b'+' => (false, &v[1..]),
        _ => (false, v.as_str()),
    };
    let magnitude = if body == "0" {
        Int::Small(0)
    } else if let Some(digits) = body.strip_prefix("0b") {
        python_int(digits, 2)?
    } else if let Some(digits) = body.strip_prefix("0x") {
        python_int(digits, 16)?
    } else if body.starts_with('0') {
        python_int(body, 8)?
    } else if body.contains(':') {
        let mut total: i128 = 0;
        for part in body.split(':') {
            let Int::Small(p) = python_int(part, 10)? else {
                return None;
            };
            total = total.checked_mul(60)?.checked_add(p)?;
        }
        Int::Small(total)
    } else {
        python_int(body, 10)?
    };
    Some(if negative { negate(magnitude) } else { magnitude })
}

fn negate(n: Int) -> Int {
    match n {
        // Only i128::MIN has no negation in 128 bits: it becomes 2^127.
        Int::Small(v) => v
            .checked_neg()
            .map_or_else(|| Int::Big(v.unsigned_abs().to_string()), Int::Small),
        Int::Big(s) => match s.strip_prefix('-') {
            Some(positive) => Int::Big(positive.to_string()),
            // Big magnitudes are beyond 128 bits, except 2^127, whose negation fits.
            None => s
                .parse::<u128>()
                .ok()
                .filter(|&m| m == 1 << 127)
                .map_or_else(|| Int::Big(format!("-{s}")), |_| Int::Small(i128::MIN)),
        },
    }
}

/// Python's `int(text, base)` for bases 2, 8, 10 and 16: blanks around, one sign, an
/// optional `0b`/`0o`/`0x` prefix matching the base, then at least one digit. (The
/// callers have already removed `_`.)
fn python_int(text: &str, base: u32) -> Option<Int> {
    let t = text.trim();
    let (negative, t) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let prefix = match base {
        2 => ["0b", "0B"],
        8 => ["0o", "0O"],
        16 => ["0x", "0X"],
        _ => ["", ""],
    };
    let t = prefix
        .iter()
        .filter(|p| !p.is_empty())
        .find_map(|p| t.strip_prefix(p))
        .unwrap_or(t);
    if t.is_empty() || !t.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    let magnitude = digits_value(t, base)?;
    Some(if negative { negate(magnitude) } else { magnitude })
}

/// The value of ASCII digits in `base`, exact at any length up to Python's limit.
fn digits_value(digits: &str, base: u32) -> Option<Int> {
    let mut small: i128 = 0;
    let mut overflowed = false;
    for c in digits.chars() {
        let d = i128::from(c.to_digit(base)?);
        match small.checked_mul(i128::from(base)).and_then(|v| v.checked_add(d)) {
            Some(v) => small = v,
            None => {
                overflowed = true;
                break;
            }
        }
    }
    if !overflowed {
        return Some(Int::Small(small));
    }
    // Beyond 128 bits: base-10^9 limbs, least significant first.
    const LIMB: u64 = 1_000_000_000;
    let mut limbs: Vec<u64> = vec![0];
    for c in digits.chars() {
        let mut carry = u64::from(c.to_digit(base)?);
        for limb in &mut limbs {
            let v = *limb * u64::from(base) + carry;
            *limb = v % LIMB;
            carry = v / LIMB;
        }
        while carry > 0 {
            limbs.push(carry % LIMB);
            carry /= LIMB;
        }
        if limbs.len() * 9 > MAX_INT_DIGITS + 9 {
            return None;
        }
    }
    let mut out = String::new();
    for (i, limb) in limbs.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&limb.to_string());
        } else {
            out.push_str(&format!("{limb:09}"));
        }
    }
    (out.len() <= MAX_INT_DIGITS).then_some(Int::Big(out))
}

/// Reads a `!!float` scalar as PyYAML does: drop every `_`, lowercase, take one sign;
/// then `.inf`, `.nan`, sexagesimal parts (`1:20.5`), or Python's `float()` of the rest
/// (which also takes `1e3`, `inf`, `nan` and surrounding blanks).
pub(super) fn float_of(text: &str) -> Option<f64> {
    let v: String = text
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, body) = match v.as_bytes().first()? {
        b'-' => (-1.0, &v[1..]),
        b'+' => (1.0, &v[1..]),
        _ => (1.0, v.as_str()),
    };
    if body == ".inf" {
        return Some(sign * f64::INFINITY);
    }
    if body == ".nan" {
        return Some(f64::NAN);
    }
    if body.contains(':') {
        // Least significant part first, in floating point, as PyYAML adds them up.
        let mut total = 0.0;
        let mut base: Option<u128> = Some(1);
        let mut base_f = 1.0_f64;
        for part in body.rsplit(':') {
            let p = python_float(part)?;
            let b = base.map_or(base_f, |b| b as f64);
            total += p * b;
            base = base.and_then(|b| b.checked_mul(60));
            base_f = b * 60.0;
        }
        return Some(sign * total);
    }
    Some(sign * python_float(body)?)
}

/// Python's `float()` of a string: blanks around, then a decimal number, `inf`,
/// `infinity` or `nan` in any case, with an optional sign.
fn python_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let ascii_number = t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-'));
    if !ascii_number {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Reads `!!binary` text as Python's lenient base64 decoder does: characters outside
/// the alphabet are skipped, `=` ends the data once it completes a group, and a group
/// left incomplete is an error.
pub(super) fn binary_of(text: &str) -> Result<Vec<u8>, &'static str> {
    if !text.is_ascii() {
        return Err("base64 text must be ASCII");
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut quad = 0; // base64 characters in the current group of four
    let mut pads = 0; // `=` seen since the last base64 character
    let mut acc: u32 = 0;
    for b in text.bytes() {
        if b == b'=' {
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    return Ok(out);
                }
            }
            continue;
        }
        let Some(v) = base64_value(b) else {
            continue;
        };
        pads = 0;
        acc = (acc << 6) | v;
        quad += 1;
        match quad {
            2 => out.push((acc >> 4) as u8),
            3 => out.push((acc >> 2) as u8),
            4 => {
                out.push(acc as u8);
                quad = 0;
                acc = 0;
            }
            _ => {}
        }
    }
    match quad {
        0 => Ok(out),
        1 => Err("the base64 text has one character too many"),
        _ => Err("the base64 text is not padded with `=`"),
    }
}

fn base64_value(b: u8) -> Option<u32> {
    let v = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_yaml_1_1() {
        let cases = [
            ("~", Tag::Null),
            ("", Tag::Null),
            ("NULL", Tag::Null),
            ("nUll", Tag::Str),
            ("yes", Tag::Bool),
            ("OFF", Tag::Bool),
            ("oN", Tag::Str),
            ("y", Tag::Str),
            ("n", Tag::Str),
            ("0644", Tag::Int),
            ("0o644", Tag::Str),
            ("0x1F", Tag::Int),
            ("0X1F", Tag::Str),
            ("0b101", Tag::Int),
            ("1_000", Tag::Int),
            ("+12", Tag::Int),
            ("1:20", Tag::Int),
            ("0:20", Tag::Str),
            ("1:60", Tag::Str),
            ("1:5", Tag::Int),
            ("09", Tag::Str),
            ("1.5", Tag::Float),
            ("1.", Tag::Float),
            ("1e3", Tag::Str),
            ("1.0e3", Tag::Str),
            ("1.0e+3", Tag::Float),
            (".5", Tag::Float),
            ("-.5", Tag::Str),
            ("1:20.5", Tag::Float),
            ("-.inf", Tag::Float),
            ("-.nan", Tag::Str),
            (".NaN", Tag::Float),
            ("2030-01-01", Tag::Timestamp),
            ("2030-1-1", Tag::Str),
            ("2030-1-1 1:02:03", Tag::Timestamp),
            ("2001-12-14t21:59:43.10-05:00", Tag::Timestamp),
            ("2001-12-14 21:59:43 +0530", Tag::Str),
            ("<<", Tag::Merge),
            ("=", Tag::Value),
            ("12\n", Tag::Int),
        ];
        for (text, tag) in cases {
            assert_eq!(resolve_plain(text), tag, "{text:?}");
        }
    }

    #[test]
    fn integers_read_as_python() {
        let small = |s: &str| int_of(s).and_then(|i| if let Int::Small(v) = i { Some(v) } else { None });
        assert_eq!(small("0644"), Some(420));
        assert_eq!(small("-0x1_F"), Some(-31));
        assert_eq!(small("0b101"), Some(5));
        assert_eq!(small("1:20"), Some(80));
        assert_eq!(small("-1:0:0"), Some(-3600));
        assert_eq!(small("0_"), Some(0));
        assert_eq!(small("0o17"), Some(15));
        assert_eq!(small(" 12 "), Some(12));
        assert_eq!(small("--5"), Some(5));
        assert_eq!(int_of("0b_"), None);
        assert_eq!(int_of(""), None);
        assert_eq!(int_of("12a"), None);
        assert_eq!(
            int_of("0x1_0000_0000_0000_0000_0000_0000_0000_0000"),
            Some(Int::Big("340282366920938463463374607431768211456".into()))
        );
        assert_eq!(
            int_of("-170141183460469231731687303715884105728"),
            Some(Int::Small(i128::MIN))
        );
        assert_eq!(
            int_of("-170141183460469231731687303715884105729"),
            Some(Int::Big("-170141183460469231731687303715884105729".into()))
        );
        assert_eq!(int_of(&"9".repeat(5000)), None);
    }

    #[test]
    fn floats_read_as_python() {
        assert_eq!(float_of("1_000.5"), Some(1000.5));
        assert_eq!(float_of("1:20.5"), Some(80.5));
        assert_eq!(float_of("-.INF"), Some(f64::NEG_INFINITY));
        assert!(float_of(".nan").is_some_and(f64::is_nan));
        assert_eq!(float_of("1e3"), Some(1000.0));
        assert_eq!(float_of("inf"), Some(f64::INFINITY));
        assert_eq!(float_of("-0.0").map(f64::is_sign_negative), Some(true));
        assert_eq!(float_of("abc"), None);
        assert_eq!(float_of(""), None);
    }

    #[test]
    fn booleans_read_in_any_case() {
        assert_eq!(bool_of("yEs"), Some(true));
        assert_eq!(bool_of("OFF"), Some(false));
        assert_eq!(bool_of("y"), None);
    }

    #[test]
    fn base64_is_read_leniently() {
        assert_eq!(binary_of("aGVsbG8="), Ok(b"hello".to_vec()));
        assert_eq!(binary_of("aGVs\nbG8=\n"), Ok(b"hello".to_vec()));
        assert_eq!(binary_of("YQ==YQ=="), Ok(b"a".to_vec()));
        assert_eq!(binary_of("Y Q = ="), Ok(b"a".to_vec()));
        assert!(binary_of("YQ").is_err());
        assert!(binary_of("YQ=").is_err());
        assert!(binary_of("Y").is_err());
        assert!(binary_of("é").is_err());
    }
}
