//! What cloud-init reads from the start of a part's text: its content type
//! (`handlers.type_from_starts_with`), the include list of an `#include` part
//! (`UserDataProcessor._do_include`), and whether the jinja handler accepts a template's
//! first line (`templater.detect_template`).

use std::ops::Range;

use super::ContentType;
use super::codec::{py_isspace, py_strip};

/// The prefixes cloud-init 22.4 to 26.2 recognise, longest first (cloud-init tries them
/// in that order), with the type each one gives. The last three name MIME types: their
/// "prefix" is only there so that `make-mime` knows them, but a text that starts with
/// one is given that type all the same.
const PREFIXES: [(&str, ContentType); 12] = [
    (
        "text/x-shellscript-per-instance",
        ContentType::ShellScriptPerInstance,
    ),
    ("text/x-shellscript-per-boot", ContentType::ShellScriptPerBoot),
    ("text/x-shellscript-per-once", ContentType::ShellScriptPerOnce),
    ("#cloud-config-archive", ContentType::CloudConfigArchive),
    ("#cloud-config-jsonp", ContentType::CloudConfigJsonp),
    ("## template: jinja", ContentType::Jinja),
    ("#cloud-boothook", ContentType::CloudBoothook),
    ("#include-once", ContentType::IncludeOnceUrl),
    ("#cloud-config", ContentType::CloudConfig),
    ("#part-handler", ContentType::PartHandler),
    ("#include", ContentType::IncludeUrl),
    ("#!", ContentType::ShellScript),
];

/// The characters of `bytes` with their offsets, decoded as UTF-8 the way Python's
/// `surrogateescape` error handler does: an undecodable byte becomes a character that
/// is neither whitespace nor a letter (`None` here). Decodes lazily, so that looking at
/// the start of a large body costs nothing.
fn chars_escaped(bytes: &[u8]) -> impl Iterator<Item = (usize, Option<char>)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= bytes.len() {
            return None;
        }
        let start = pos;
        let decoded = (1..=4)
            .filter(|width| start + width <= bytes.len())
            .find_map(|width| std::str::from_utf8(&bytes[start..start + width]).ok())
            .and_then(|s| s.chars().next());
        pos += decoded.map_or(1, char::len_utf8);
        Some((start, decoded))
    })
}

/// Python's `str.lower()` of one character when the result is a single ASCII
/// character, which is all a prefix can match: ASCII letters, and the Kelvin sign
/// (U+212A), which lower-cases to `k`.
fn ascii_lower(c: char) -> Option<char> {
    match c {
        '\u{212a}' => Some('k'),
        c if c.is_ascii() => Some(c.to_ascii_lowercase()),
        _ => None,
    }
}

/// The content type cloud-init gives a text by its start, and the byte range of the
/// line that decided it (from the prefix to the end of its line, without the line
/// break).
///
/// cloud-init lower-cases the whole text, strips leading whitespace (Python's
/// definition: Unicode whitespace plus U+001C..U+001F; a byte-order mark is not
/// whitespace) and tries each prefix. Bytes that are not UTF-8 match nothing (the text
/// comes to `type_from_starts_with` decoded with `surrogateescape`).
pub fn detect(bytes: &[u8]) -> Option<(ContentType, Range<usize>)> {
    let start = chars_escaped(bytes)
        .find(|(_, c)| !c.is_some_and(py_isspace))
        .map(|(i, _)| i)?;
    let rest = &bytes[start..];
    PREFIXES.iter().find_map(|&(prefix, kind)| {
        let mut text = chars_escaped(rest).map(|(_, c)| c.and_then(ascii_lower));
        let matches = prefix.chars().all(|p| text.next() == Some(Some(p)));
        matches.then(|| {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let end = if end > 0 && rest[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            (kind, start..start + end)
        })
    })
}

/// One URL of an include part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeUrl {
    /// The URL as cloud-init would fetch it (undecodable bytes shown as U+FFFD).
    pub url: String,
    /// Fetched once and cached (`#include-once` mode) rather than on every boot.
    pub once: bool,
}

/// The URLs cloud-init would fetch for an include part, in order, and whether an
/// `#include-once` URL holds bytes that are not UTF-8 (cloud-init fails hashing it).
///
/// Line by line (Python's `str.splitlines`: also `\v`, `\f`, U+001C..U+001E, U+0085,
/// U+2028, U+2029): a line starting with `#include-once` (any case) switches once-mode
/// on and keeps what follows it; `#include` switches it off likewise; then a line that
/// starts with `#` is a comment, and what is left, stripped, is a URL unless empty. A
/// comment must start the line: ` # note` is the URL `# note`.
pub(crate) fn include_urls(body: &[u8]) -> (Vec<IncludeUrl>, bool) {
    // Undecodable bytes become characters of the last private-use plane, one a byte,
    // as Python's `surrogateescape` gives one surrogate a byte.
    let text: String = chars_escaped(body)
        .map(|(i, c)| c.unwrap_or_else(|| char::from_u32(ESCAPED + u32::from(body[i])).unwrap_or('\u{fffd}')))
        .collect();
    let is_escaped = |c: char| (ESCAPED..ESCAPED + 0x100).contains(&u32::from(c));
    let mut once = false;
    let mut once_undecodable = false;
    let mut urls = Vec::new();
    for line in text.split_inclusive(is_python_line_break) {
        let line = line.strip_suffix(is_python_line_break).unwrap_or(line);
        let line = if let Some(rest) = strip_prefix_ignore_case(line, "#include-once") {
            once = true;
            rest.trim_start_matches(py_isspace)
        } else if let Some(rest) = strip_prefix_ignore_case(line, "#include") {
            once = false;
            rest.trim_start_matches(py_isspace)
        } else {
            line
        };
        if line.starts_with('#') {
            continue;
        }
        let url = py_strip(line);
        if !url.is_empty() {
            once_undecodable |= once && url.chars().any(is_escaped);
            urls.push(IncludeUrl {
                url: url
                    .chars()
                    .map(|c| if is_escaped(c) { '\u{fffd}' } else { c })
                    .collect(),
                once,
            });
        }
    }
    (urls, once_undecodable)
}

/// Where undecodable bytes are put while reading an include list.
const ESCAPED: u32 = 0x10_ff00;

/// `\r\n` counts as one break: splitting at `\r` leaves an empty piece that holds only
/// `\n`, which yields no URL, so splitting at each character is equivalent here.
fn is_python_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// `line.lower().startswith(prefix)` for an ASCII `prefix`, returning the rest of the
/// original line.
fn strip_prefix_ignore_case<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let mut chars = line.char_indices();
    for p in prefix.chars() {
        let (_, c) = chars.next()?;
        if ascii_lower(c) != Some(p) {
            return None;
        }
    }
    Some(chars.next().map_or("", |(i, _)| &line[i..]))
}

/// Where the template of a jinja part starts, when cloud-init's jinja handler accepts
/// its first line: the line must be `##`, optional whitespace, `template:` (any case)
/// and `jinja` (any case, whitespace around it), with nothing before it. The template is
/// everything after the first `\n`. `None` when the handler would refuse the part.
pub(crate) fn jinja_template_start(body: &[u8]) -> Option<usize> {
    let newline = body.iter().position(|&b| b == b'\n');
    let first = &body[..newline.unwrap_or(body.len())];
    let first = std::str::from_utf8(first).ok()?;
    let after_hashes = first.strip_prefix("##")?.trim_start_matches(py_isspace);
    let kind = strip_prefix_ignore_case(after_hashes, "template:")?;
    py_strip(kind)
        .eq_ignore_ascii_case("jinja")
        .then_some(newline.map_or(body.len(), |n| n + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &[u8]) -> Option<ContentType> {
        detect(text).map(|(k, _)| k)
    }

    #[test]
    fn prefixes_are_case_blind_after_python_whitespace() {
        assert_eq!(kind(b"#cloud-config\n"), Some(ContentType::CloudConfig));
        assert_eq!(kind(b" \t\n#CLOUD-CONFIG"), Some(ContentType::CloudConfig));
        assert_eq!(kind(b"\x1c#!/bin/sh"), Some(ContentType::ShellScript));
        assert_eq!(kind("\u{3000}#Include".as_bytes()), Some(ContentType::IncludeUrl));
        assert_eq!(
            kind("#cloud-boothoo\u{212a}".as_bytes()),
            Some(ContentType::CloudBoothook)
        );
        assert_eq!(kind("\u{feff}#cloud-config".as_bytes()), None);
        assert_eq!(kind(b"\xff#cloud-config"), None);
        assert_eq!(kind(b"#!\xff"), Some(ContentType::ShellScript));
        assert_eq!(kind(b"#cloud-configuration"), Some(ContentType::CloudConfig));
        assert_eq!(
            kind(b"#cloud-config-archive"),
            Some(ContentType::CloudConfigArchive)
        );
        assert_eq!(
            kind(b"TEXT/X-SHELLSCRIPT-PER-BOOT"),
            Some(ContentType::ShellScriptPerBoot)
        );
        assert_eq!(kind(b"##template: jinja"), None);
        assert_eq!(kind(b""), None);
    }

    #[test]
    fn header_range_covers_the_deciding_line() {
        let (_, range) = detect(b"\n  #cloud-config \r\na: 1\n").expect("detected");
        assert_eq!(range, 3..17);
    }

    #[test]
    fn include_lines_follow_cloud_init() {
        let (urls, bad) = include_urls(
            b"#include\nhttp://a\n#INCLUDE-ONCE http://b\nhttp://c\n# note\n #x\r\n#include  http://d\n",
        );
        assert!(!bad);
        let got: Vec<(&str, bool)> = urls.iter().map(|u| (u.url.as_str(), u.once)).collect();
        assert_eq!(
            got,
            [
                ("http://a", false),
                ("http://b", true),
                ("http://c", true),
                ("#x", true),
                ("http://d", false)
            ]
        );
    }

    #[test]
    fn undecodable_bytes_in_once_urls_are_flagged() {
        let (urls, bad) = include_urls(b"#include http://a\xff\n");
        assert_eq!((urls[0].url.as_str(), bad), ("http://a\u{fffd}", false));
        let (_, bad) = include_urls(b"#include-once http://a\xff\xfe\n");
        assert!(bad);
    }

    #[test]
    fn jinja_header_as_the_renderer_reads_it() {
        assert_eq!(
            jinja_template_start(b"## template: jinja\n#cloud-config\n"),
            Some(19)
        );
        assert_eq!(jinja_template_start(b"##Template:JINJA \r\nx"), Some(19));
        assert_eq!(jinja_template_start(b"## template: jinja"), Some(18));
        assert_eq!(jinja_template_start(b" ## template: jinja\n"), None);
        assert_eq!(jinja_template_start(b"## template: jinja2\n"), None);
        assert_eq!(jinja_template_start(b"## template: basic\n"), None);
    }
}
