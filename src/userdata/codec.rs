//! Byte and text conversions as Python's standard library performs them on the way from
//! user-data bytes to what cloud-init's handlers receive: base64 (`binascii`), quoted-
//! printable (`binascii.a2b_qp`), the `raw-unicode-escape` codec the `email` package
//! falls back to, and `str.isspace`/`str.strip`.
//!
//! Written from the documented and observed behaviour of CPython 3.11 (the Python the
//! oracles run on); nothing here is Python's code.

/// Python's `str.isspace()` for one character: Unicode `White_Space` plus the four
/// information separators U+001C..U+001F, which Python also counts as whitespace.
pub(crate) fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` with no argument.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// The value of one base64 alphabet byte, or `None` for any other byte.
fn b64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// `binascii.a2b_base64(data, strict_mode=strict)` of CPython 3.11.
///
/// Lenient mode skips bytes outside the alphabet and stops at the first complete
/// padding. Strict mode (what `base64.b64decode(..., validate=True)` uses) refuses a
/// leading `=`, any byte outside the alphabet, data after a `=`, and data after the
/// padding that completes a group. Both refuse a final group of one character, and a
/// final group of two or three characters without enough padding. Unused low bits of
/// the last character are ignored, as Python ignores them.
pub(crate) fn a2b_base64(data: &[u8], strict: bool) -> Option<Vec<u8>> {
    if strict && data.first() == Some(&b'=') {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 3);
    let mut quad = 0u8;
    let mut left = 0u8;
    let mut pads = 0u8;
    let mut padding_started = false;
    for (i, &byte) in data.iter().enumerate() {
        if byte == b'=' {
            padding_started = true;
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    if strict && i + 1 < data.len() {
                        return None;
                    }
                    return Some(out);
                }
            }
            continue;
        }
        let Some(value) = b64_value(byte) else {
            if strict {
                return None;
            }
            continue;
        };
        if strict && padding_started {
            return None;
        }
        pads = 0;
        match quad {
            0 => {
                left = value;
                quad = 1;
            }
            1 => {
                out.push((left << 2) | (value >> 4));
                left = value & 0x0f;
                quad = 2;
            }
            2 => {
                out.push((left << 4) | (value >> 2));
                left = value & 0x03;
                quad = 3;
            }
            _ => {
                out.push((left << 6) | value);
                quad = 0;
            }
        }
    }
    (quad == 0).then_some(out)
}

/// What `email.message.Message.get_payload(decode=True)` does with a part whose
/// `Content-Transfer-Encoding` is `base64` (the `_encoded_words.decode_b` recovery
/// chain): line breaks are removed; the text is decoded strictly with the missing
/// padding added, else leniently as it is, else leniently with `==` added; if all
/// three fail, the text itself is the result.
pub(crate) fn decode_transfer_base64(raw: &[u8]) -> Vec<u8> {
    let joined: Vec<u8> = raw
        .iter()
        .copied()
        .filter(|&b| b != b'\n' && b != b'\r')
        .collect();
    let missing = (4 - joined.len() % 4) % 4;
    let mut padded = joined.clone();
    padded.extend(std::iter::repeat_n(b'=', missing));
    if let Some(out) = a2b_base64(&padded, true) {
        return out;
    }
    if let Some(out) = a2b_base64(&joined, false) {
        return out;
    }
    let mut extra = joined.clone();
    extra.extend_from_slice(b"==");
    a2b_base64(&extra, false).unwrap_or(joined)
}

/// `binascii.a2b_qp(data)`: `=XX` (either case) is a byte, `=` before a line break is
/// a soft break (with `=\r`, everything up to the next `\n` goes), `==` is one `=`, a
/// final lone `=` is dropped, and any other `=` stays as it is.
pub(crate) fn decode_quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] != b'=' {
            out.push(data[i]);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&next) = data.get(i) else { break };
        let hex = |b: u8| (b as char).to_digit(16);
        match next {
            b'\n' | b'\r' => {
                while i < data.len() && data[i] != b'\n' {
                    i += 1;
                }
                i += 1;
            }
            b'=' => {
                out.push(b'=');
                i += 1;
            }
            _ => match (hex(next), data.get(i + 1).and_then(|&b| hex(b))) {
                (Some(high), Some(low)) => {
                    // Two hex digits make one byte: the value is below 256.
                    out.push(u8::try_from(high * 16 + low).unwrap_or(b'='));
                    i += 2;
                }
                _ => out.push(b'='),
            },
        }
    }
    out
}

/// Python's `raw-unicode-escape` codec: characters up to U+00FF become one byte each
/// (Latin-1), others `\uXXXX` or `\UXXXXXXXX` in lower-case hex. The `email` package
/// uses it for a part whose text is not ASCII, which is how cloud-init's handlers end
/// up with mangled text.
pub(crate) fn raw_unicode_escape(text: &str) -> Vec<u8> {
    if text.is_ascii() {
        return text.as_bytes().to_vec();
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let code = u32::from(c);
        match u8::try_from(code) {
            Ok(byte) => out.push(byte),
            Err(_) if code <= 0xffff => out.extend_from_slice(format!("\\u{code:04x}").as_bytes()),
            Err(_) => out.extend_from_slice(format!("\\U{code:08x}").as_bytes()),
        }
    }
    out
}

/// Whole user-data given as base64, as several datasources decode it before cloud-init
/// reads it. ASCII whitespace may wrap the text anywhere; the rest must be the standard
/// alphabet with correct padding (`=` only at the end, at most two, a length that is a
/// multiple of four). Returns the decoded bytes, or `None` for anything else.
pub(crate) fn decode_whole_base64(data: &[u8]) -> Option<Vec<u8>> {
    let compact: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.is_empty() || !compact.len().is_multiple_of(4) {
        return None;
    }
    let pads = compact.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &compact[..compact.len() - pads];
    if pads > 2 || !body.iter().all(|&b| b64_value(b).is_some()) {
        return None;
    }
    a2b_base64(&compact, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lenient(s: &str) -> Option<Vec<u8>> {
        a2b_base64(s.as_bytes(), false)
    }

    fn strict(s: &str) -> Option<Vec<u8>> {
        a2b_base64(s.as_bytes(), true)
    }

    #[test]
    fn base64_matches_binascii_of_python_3_11() {
        // Each case was run through binascii.a2b_base64 of CPython 3.11.2.
        assert_eq!(strict("QUJD=").as_deref(), Some(&b"ABC"[..]));
        assert_eq!(strict("QUJD===").as_deref(), Some(&b"ABC"[..]));
        assert_eq!(strict("Q="), None);
        assert_eq!(strict("QQ=A"), None);
        assert_eq!(lenient("QQ=A"), None);
        assert_eq!(strict("QQ==A"), None);
        assert_eq!(lenient("QQ==A").as_deref(), Some(&b"A"[..]));
        assert_eq!(strict("QUI=").as_deref(), Some(&b"AB"[..]));
        assert_eq!(strict("QUI=="), None);
        assert_eq!(lenient("QUI=A").as_deref(), Some(&b"AB"[..]));
        assert_eq!(strict("QQ"), None);
        assert_eq!(strict("QR==").as_deref(), Some(&b"A"[..]));
        assert_eq!(strict("=QQ=="), None);
        assert_eq!(strict("QQ\n=="), None);
        assert_eq!(lenient("QQ=\n=").as_deref(), Some(&b"A"[..]));
        assert_eq!(strict("").as_deref(), Some(&b""[..]));
    }

    #[test]
    fn transfer_base64_recovers_like_the_email_package() {
        assert_eq!(decode_transfer_base64(b"aGVs\nbG8="), b"hello");
        assert_eq!(decode_transfer_base64(b"aGVsbG8"), b"hello");
        assert_eq!(decode_transfer_base64(b"aGVs bG8="), b"hello");
        assert_eq!(decode_transfer_base64(b"aGVsb"), b"aGVsb");
    }

    #[test]
    fn quoted_printable_matches_a2b_qp() {
        assert_eq!(
            decode_quoted_printable(b"caf=C3=A9 =3d=\nx"),
            "café =x".as_bytes()
        );
        assert_eq!(decode_quoted_printable(b"a=\r\nb"), b"ab");
        assert_eq!(decode_quoted_printable(b"a==b=G1="), b"a=b=G1");
        assert_eq!(decode_quoted_printable(b"a= \nb"), b"a= \nb");
    }

    #[test]
    fn raw_unicode_escape_is_latin1_or_escapes() {
        assert_eq!(raw_unicode_escape("é€😀"), b"\xe9\\u20ac\\U0001f600");
    }

    #[test]
    fn whole_base64_needs_clean_padding() {
        assert_eq!(decode_whole_base64(b"aGVsbG8=\n").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_whole_base64(b"aGVs\r\nbG8="), Some(b"hello".to_vec()));
        assert_eq!(decode_whole_base64(b"aGVsbG8"), None);
        assert_eq!(decode_whole_base64(b"aGVsbG8=x==="), None);
        assert_eq!(decode_whole_base64(b"#!/bin/sh"), None);
        assert_eq!(decode_whole_base64(b" \n"), None);
    }

    #[test]
    fn python_whitespace_includes_information_separators() {
        assert!(py_isspace('\u{1c}') && py_isspace('\u{a0}') && py_isspace('\u{3000}'));
        assert!(!py_isspace('\u{feff}') && !py_isspace('\u{200b}'));
        assert_eq!(py_strip("\u{1f} a \u{85}"), "a");
    }
}
