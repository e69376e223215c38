//! Header parameters (`boundary`, `filename`, `name`) as Python's `email.message`
//! `get_param`/`get_filename`/`get_boundary` read them: split at `;` outside quotes,
//! names compared in any case, values unquoted (twice for file names and boundaries, as
//! Python does: `"<a.sh>"` names `a.sh`), RFC 2231 continuations and charsets decoded.
//! The first parameter is taken as written; plain parameters win over RFC 2231 ones.
//!
//! Not modelled: RFC 2231 charsets other than UTF-8, ASCII and Latin-1 (their value is
//! kept undecoded, as Python does for a charset it does not know).

use std::borrow::Cow;

use super::codec::{py_strip, raw_unicode_escape};

/// A parameter value as `get_param` returns it: plain (already unquoted once) or
/// RFC 2231 (charset and percent-decoded octets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamValue {
    Plain(String),
    Extended { charset: Option<String>, octets: String },
}

impl ParamValue {
    /// `email.utils.collapse_rfc2231_value`: a plain value is unquoted once more; an
    /// extended one is decoded from its charset (US-ASCII when none was given).
    pub(crate) fn collapse(&self) -> String {
        match self {
            ParamValue::Plain(v) => unquote(v).to_string(),
            ParamValue::Extended { charset, octets } => {
                let bytes: Vec<u8> = raw_unicode_escape(octets);
                let name = charset
                    .as_deref()
                    .unwrap_or("us-ascii")
                    .to_ascii_lowercase()
                    .replace('_', "-");
                match name.as_str() {
                    "utf-8" | "utf8" => String::from_utf8_lossy(&bytes).into_owned(),
                    "us-ascii" | "ascii" => bytes
                        .iter()
                        .map(|&b| if b < 0x80 { b as char } else { '\u{fffd}' })
                        .collect(),
                    "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" => {
                        bytes.iter().map(|&b| char::from(b)).collect()
                    }
                    _ => unquote(octets).to_string(),
                }
            }
        }
    }
}

/// Parameter `name` of a header value as `get_filename()` returns it: decoded,
/// unquoted and stripped.
pub(crate) fn param_collapsed(header_value: &str, name: &str) -> Option<String> {
    let value = param(header_value, name)?;
    Some(py_strip(&value.collapse()).to_string())
}

/// `email.utils.unquote`.
pub(crate) fn unquote(s: &str) -> Cow<'_, str> {
    if s.chars().count() > 1 {
        if let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            return inner.replace("\\\\", "\\").replace("\\\"", "\"").into();
        }
        if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            return inner.into();
        }
    }
    s.into()
}

/// Splits a header value into parameters at `;` outside double quotes
/// (`email.message._parseparam`), as (name, value) pairs with names lower-cased.
fn split_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = value;
    loop {
        let mut end = None;
        let mut search = 0;
        while let Some(found) = rest[search..].find(';') {
            let at = search + found;
            let quotes = rest[..at].matches('"').count() - rest[..at].matches("\\\"").count();
            if at > 0 && quotes % 2 == 1 {
                search = at + 1;
                continue;
            }
            end = Some(at);
            break;
        }
        let end = end.unwrap_or(rest.len());
        let piece = &rest[..end];
        let pair = match piece.split_once('=') {
            Some((name, val)) => (py_strip(name).to_lowercase(), py_strip(val).to_string()),
            None => (py_strip(piece).to_string(), String::new()),
        };
        out.push(pair);
        if end == rest.len() {
            return out;
        }
        rest = &rest[end + 1..];
    }
}

/// `get_param(name, header=...)` with RFC 2231 continuations (`name*0`, `name*1*`) and
/// extended values (`name*=utf-8''...`) decoded as Python decodes them.
pub(crate) fn param(header_value: &str, name: &str) -> Option<ParamValue> {
    let params = split_params(header_value);
    let mut found: Option<ParamValue> = None;
    // Python keeps the first parameter untouched, then plain parameters in order,
    // then the RFC 2231 ones after all of them.
    if let Some((first, value)) = params.first()
        && first.eq_ignore_ascii_case(name)
    {
        return Some(ParamValue::Plain(unquote(value).into_owned()));
    }
    let mut pieces: Vec<(Option<u32>, String, bool)> = Vec::new();
    for (key, value) in params.iter().skip(1) {
        let encoded = key.ends_with('*');
        match rfc2231_name(key) {
            Some((base, num)) if base.eq_ignore_ascii_case(name) => {
                pieces.push((num, unquote(value).into_owned(), encoded));
            }
            Some(_) => {}
            None if key.eq_ignore_ascii_case(name) && found.is_none() => {
                found = Some(ParamValue::Plain(unquote(value).into_owned()));
            }
            None => {}
        }
    }
    if found.is_some() || pieces.is_empty() {
        return found;
    }
    pieces.sort_by_key(|(num, _, _)| *num);
    let mut joined = String::new();
    let mut extended = false;
    for (_, value, encoded) in pieces {
        if encoded {
            joined.push_str(&percent_decode_latin1(&value));
            extended = true;
        } else {
            joined.push_str(&value);
        }
    }
    if !extended {
        return Some(ParamValue::Plain(joined));
    }
    let mut fields = joined.splitn(3, '\'');
    match (fields.next(), fields.next(), fields.next()) {
        (Some(charset), Some(_language), Some(text)) => Some(ParamValue::Extended {
            charset: Some(charset.to_string()),
            octets: text.to_string(),
        }),
        _ => Some(ParamValue::Extended {
            charset: None,
            octets: joined,
        }),
    }
}

/// Splits an RFC 2231 parameter name (`name*`, `name*0`, `name*0*`) into its base name
/// and section number; `None` for an ordinary name.
fn rfc2231_name(key: &str) -> Option<(&str, Option<u32>)> {
    let (base, rest) = key.split_once('*')?;
    if base.is_empty() || !base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let digits = rest.strip_suffix('*').unwrap_or(rest);
    if digits.is_empty() {
        return (rest.is_empty()).then_some((base, None));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, digits.parse().ok()))
}

/// `urllib.parse.unquote(s, encoding="latin-1")`: `%XX` becomes the character U+00XX.
fn percent_decode_latin1(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(char::from(byte));
                i += 3;
                continue;
            }
        }
        let c = s[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The file name a part ends up with after cloud-init stores `name` with
/// `add_header(..., filename=name)` and reads it back with `get_filename()`: ASCII names
/// are quoted, so one layer of quotes or angle brackets goes; other names are
/// RFC 2231-encoded and come back as they were. Either way, surrounding whitespace
/// goes.
pub(crate) fn stored_filename(name: &str) -> String {
    if name.is_ascii() {
        py_strip(&unquote(name)).to_string()
    } else {
        py_strip(name).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_follow_python() {
        let p = |v: &str, n: &str| param(v, n).map(|p| p.collapse());
        assert_eq!(
            p("attachment; filename=\"a;b.sh\"", "filename").as_deref(),
            Some("a;b.sh")
        );
        assert_eq!(p("attachment; FileName=<x>", "filename").as_deref(), Some("x"));
        assert_eq!(
            p("attachment; filename*=utf-8''caf%C3%A9.sh", "filename").as_deref(),
            Some("café.sh")
        );
        assert_eq!(
            p("attachment; filename*0=\"a\"; filename*1=\"b\"", "filename").as_deref(),
            Some("ab")
        );
        assert_eq!(
            p("attachment; filename=x; filename*=utf-8''y", "filename").as_deref(),
            Some("x")
        );
        assert_eq!(p("attachment", "filename"), None);
    }

    #[test]
    fn stored_file_names_lose_one_quoting() {
        assert_eq!(stored_filename("<a.sh>"), "a.sh");
        assert_eq!(stored_filename(" <a.sh> "), "<a.sh>");
        assert_eq!(stored_filename("\"q\""), "q");
        assert_eq!(stored_filename(" é "), "é");
    }
}
