//! The syntax rules PyYAML (YAML 1.1) enforces and the YAML 1.2 parser does not, each
//! turned into a located error: characters PyYAML refuses, tabs, the Unicode line
//! breaks, stray byte order marks, a leading `...`, anchor names, keys and their `:`,
//! and `?` and `:` in flow collections.

use super::{Body, Composer, error};
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};

/// Parts of the text where PyYAML allows characters it refuses elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Region {
    /// A quoted scalar, quotes included: tabs and the Unicode line breaks are content.
    Quoted,
    /// A block scalar's content; tabs are allowed after its indentation.
    Block { indent: usize },
    /// A comment: tabs are allowed.
    Comment,
    /// A plain scalar: no tab (PyYAML ends the scalar at one, then refuses it).
    Plain,
}

/// The byte order mark, which PyYAML skips only as the first character.
pub(super) const BOM: char = '\u{feff}';

/// PyYAML refuses the whole text if it holds a character outside YAML's printable set
/// (control characters other than tab and line breaks, DEL, C1 controls other than
/// U+0085, U+FFFE, U+FFFF), wherever it is, comments included.
pub(super) fn check_characters(text: &str, file: FileId) -> Result<(), Diagnostic> {
    let printable = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let suspicious = (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b >= 0x7F;
        if !suspicious || !text.is_char_boundary(i) {
            continue;
        }
        let Some(c) = text[i..].chars().next() else {
            continue;
        };
        if !printable(c) {
            return Err(error(
                file,
                text,
                i,
                format!("the character U+{:04X} is not allowed in YAML", u32::from(c)),
                "PyYAML refuses the whole file; remove the character, or write it as an escape \
                 (`\\x..`) inside a double-quoted string",
            ));
        }
    }
    Ok(())
}

/// PyYAML reads a `...` before any document as an empty document missing its content.
pub(super) fn check_leading_document_end(text: &str, file: FileId) -> Result<(), Diagnostic> {
    let body = text.strip_prefix(BOM).unwrap_or(text);
    let offset = text.len() - body.len();
    let mut at = offset;
    for line in body.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            at += line.len();
            continue;
        }
        let after = content.get(3..4);
        if content.starts_with("...") && after.is_none_or(|c| c == " " || c == "\t") {
            return Err(error(
                file,
                text,
                at,
                "a document end marker `...` comes before any document".to_string(),
                "remove this `...`, or put the document before it",
            ));
        }
        break;
    }
    Ok(())
}

impl Composer<'_> {
    /// PyYAML's anchor and alias names are ASCII letters, digits, `-` and `_`, followed
    /// by a blank, a line break, or one of `?`, `:`, `,`, `]`, `}`, `%`, `@` and a
    /// backquote.
    pub(super) fn check_anchor_name(&self, span: Span, what: &str) -> Result<(), Diagnostic> {
        let name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        // Where PyYAML's name ends: at a blank or line break, or one of these.
        let ends_name = |c: char| {
            matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
                || "?:,]}%@`".contains(c)
        };
        let token = &self.text[span.start..span.end];
        let name = token.get(1..).unwrap_or("");
        let after = self.text[span.end..].chars().next();
        let (at, c) = match name.char_indices().find(|&(_, c)| !name_char(c)) {
            Some((i, c)) => (span.start + 1 + i, c),
            None => match after.filter(|&c| !ends_name(c)) {
                Some(c) => (span.end, c),
                None => return Ok(()),
            },
        };
        let (message, hint) = if ends_name(c) {
            (
                format!("YAML 1.1 ends this {what} name before `{c}`, YAML 1.2 does not"),
                "put a space after the name",
            )
        } else {
            (
                format!("an {what} name may only hold ASCII letters, digits, `-` and `_`"),
                "PyYAML refuses other characters in anchor and alias names: rename the anchor \
                 and its aliases",
            )
        };
        Err(error(self.file, self.text, at, message, hint))
    }

    /// A scalar about to be added as a mapping key: unless introduced by `?`, PyYAML
    /// wants one before `:` (an anchor or tag will do), on the same line as the `:`.
    pub(super) fn check_key(&self, span: Span) -> Result<(), Diagnostic> {
        let Some(open) = self.stack.last() else {
            return Ok(());
        };
        let is_key = matches!(self.graph.nodes[open.node].body, Body::Map(_)) && open.children.len() % 2 == 0;
        if !is_key {
            return Ok(());
        }
        let prefix = self.key_prefix(span.start);
        if prefix.explicit {
            return Ok(());
        }
        if span.start == span.end && !prefix.properties && self.text[span.start..].starts_with(':') {
            return Err(error(
                self.file,
                self.text,
                span.start,
                "YAML 1.1 needs a key before this `:`".to_string(),
                "write the key (`null:` or `\"\":`), or `? ` on the line before for an empty one",
            ));
        }
        // PyYAML looks for a key's `:` on the line where the key ends, and wants the key on
        // one line: a key without a `:` (`{a}`) may span lines.
        let after = &self.text[span.end..];
        let gap = after.len() - after.trim_start_matches([' ', '\t', '\r', '\n']).len();
        if after[gap..].starts_with(':') {
            let key_break = self.text[span.start..span.end]
                .find(['\n', '\r'])
                .map(|i| span.start + i);
            let colon_break = after[..gap].find(['\n', '\r']).map(|i| span.end + i);
            // In a flow collection, PyYAML's key starts at its tag or anchor.
            let properties_break = (open.flow && prefix.properties_above).then_some(span.start);
            if let Some(at) = key_break.or(colon_break).or(properties_break) {
                return Err(error(
                    self.file,
                    self.text,
                    at,
                    "YAML 1.1 needs a key and its `:` on one line".to_string(),
                    "write the key and `:` on one line, or put `? ` before a key that spans lines",
                ));
            }
        }
        Ok(())
    }

    /// In a flow collection, PyYAML reads `?` anywhere in a plain scalar, and `:` at its
    /// start, as indicators, where YAML 1.2 reads them as text.
    pub(super) fn check_plain(&self, span: Span) -> Result<(), Diagnostic> {
        let Some(open) = self.stack.last() else {
            return Ok(());
        };
        let raw = &self.text[span.start..span.end];
        if !open.flow {
            return Ok(());
        }
        let at = if raw.starts_with(':') {
            Some(0)
        } else {
            raw.find('?')
        };
        match at {
            None => Ok(()),
            Some(i) => Err(error(
                self.file,
                self.text,
                span.start + i,
                format!(
                    "inside `[...]` or `{{...}}`, YAML 1.1 reads `{}` here as an indicator, not text",
                    &raw[i..=i]
                ),
                "quote the value: PyYAML cannot read it unquoted inside a flow collection",
            )),
        }
    }

    /// What comes before a key at `at`, past blanks and comments.
    fn key_prefix(&self, at: usize) -> KeyPrefix {
        let mut end = at;
        let mut prefix = KeyPrefix::default();
        let mut same_line = true;
        loop {
            let trimmed = self.text[..end].trim_end_matches([' ', '\t', '\r', '\n']).len();
            same_line &= !self.text[trimmed..end].contains(['\n', '\r']);
            end = trimmed;
            if let Some(&start) = self.comment_ends.get(&end) {
                end = start;
                continue;
            }
            let before = &self.text[..end];
            let word_start = before
                .rfind([' ', '\t', '\r', '\n', '[', '{', ','])
                .map_or(0, |i| i + 1);
            let word = &before[word_start..];
            if word.starts_with(['&', '!']) {
                if same_line {
                    prefix.properties = true;
                } else {
                    prefix.properties_above = true;
                }
                end = word_start;
                continue;
            }
            prefix.explicit = word == "?";
            return prefix;
        }
    }

    /// Characters PyYAML reads otherwise than YAML 1.2, wherever they are not text:
    ///
    /// - a tab, allowed only in quoted scalars, comments, and block scalar content past
    ///   its indentation (PyYAML refuses it wherever a token may start);
    /// - U+0085, U+2028 and U+2029, line breaks to PyYAML and text to YAML 1.2: U+0085 is
    ///   refused everywhere (PyYAML folds it in quoted text too), the others outside
    ///   quoted scalars;
    /// - a byte order mark past the first character outside scalars and comments, which
    ///   the parser skips and PyYAML reads as text.
    pub(super) fn check_regions(&mut self) -> Result<(), Diagnostic> {
        if !self.regions.is_sorted_by_key(|r| r.0) {
            self.regions.sort_unstable_by_key(|r| r.0);
        }
        let bytes = self.text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let odd = match b {
                b'\t' => Odd::Tab,
                0xC2 if bytes.get(i + 1) == Some(&0x85) => Odd::NextLine,
                0xE2 if bytes[i..].starts_with("\u{2028}".as_bytes())
                    || bytes[i..].starts_with("\u{2029}".as_bytes()) =>
                {
                    Odd::LineSeparator
                }
                0xEF if i > 0 && bytes[i..].starts_with(BOM.to_string().as_bytes()) => Odd::Bom,
                _ => continue,
            };
            let k = self.regions.partition_point(|r| r.0 <= i);
            let region = k
                .checked_sub(1)
                .map(|k| self.regions[k])
                .filter(|r| i < r.1)
                .map(|r| r.2);
            let allowed = match (odd, region) {
                (Odd::NextLine, _) => false,
                (Odd::LineSeparator, region) => region == Some(Region::Quoted),
                (Odd::Bom, region) => region.is_some(),
                (Odd::Tab, Some(Region::Quoted | Region::Comment)) => true,
                (Odd::Tab, Some(Region::Block { indent })) => {
                    let line_start = self.text[..i].rfind('\n').map_or(0, |j| j + 1);
                    let lead = &self.text[line_start..i];
                    !lead.bytes().all(|c| c == b' ') || lead.len() >= indent
                }
                (Odd::Tab, _) => false,
            };
            if !allowed {
                let (message, hint) = match odd {
                    Odd::Tab => (
                        "a tab where YAML 1.1 allows only spaces",
                        "PyYAML refuses tabs for indentation and between tokens: replace the \
                         tab with spaces",
                    ),
                    Odd::NextLine | Odd::LineSeparator => (
                        "PyYAML reads this Unicode character as a line break",
                        "remove it, or write it as an escape (`\\x85`, `\\u2028`) inside double quotes",
                    ),
                    Odd::Bom => (
                        "a byte order mark inside the document",
                        "PyYAML reads it as text at the start of what follows: remove it (only \
                         the first character of a file may be one)",
                    ),
                };
                return Err(error(self.file, self.text, i, message.to_string(), hint));
            }
        }
        Ok(())
    }
}

/// What precedes a mapping key ([`Composer::key_prefix`]).
#[derive(Debug, Default, Clone, Copy)]
struct KeyPrefix {
    /// An anchor or tag on the key's line.
    properties: bool,
    /// An anchor or tag on an earlier line.
    properties_above: bool,
    /// The key follows `?`.
    explicit: bool,
}

/// Characters [`Composer::check_regions`] looks at.
#[derive(Clone, Copy)]
enum Odd {
    Tab,
    NextLine,
    LineSeparator,
    Bom,
}
