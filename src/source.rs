//! Stage `source`: the only module that knows a YAML library.
//!
//! Input: the bytes of a spec (or any other YAML file ctxgen reads) registered in a
//! [`Sources`] table. Output: typed values deserialized with serde, where fields wrapped
//! in [`Spanned`] remember the byte range they came from, or a located [`Diagnostic`].
//! It never reads files by itself and never prints.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::diag::{Code, Diagnostic};

/// Identifies one text registered in [`Sources`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(u32);

/// A byte range in one registered text. Line and column are computed when rendering.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// A span covering `range` of `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span {
            file,
            start,
            end: end.max(start),
        }
    }

    /// The whole of a file (used for files that are not YAML, such as key files).
    pub fn whole(file: FileId, len: usize) -> Self {
        Span::new(file, 0, len)
    }
}

/// One text that diagnostics may point into: the spec, a template, a key file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// How the file is named in messages (the path as the user gave it).
    pub name: String,
    /// Its text (binary files are registered with a lossy text for display only).
    pub text: String,
}

/// The table of every text a build has read, so that any diagnostic can be rendered.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a text and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
        });
        id
    }

    /// The file behind an id. Ids only come from [`Sources::add`], so this never fails
    /// for ids of this table.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: FileId, offset: usize) -> (usize, usize) {
        let Some(file) = self.get(id) else {
            return (1, 1);
        };
        let offset = floor_char_boundary(&file.text, offset);
        let before = &file.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Byte offset of a 1-based (line, character column) position.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let line_end = rest.find('\n').unwrap_or(rest.len());
    rest[..line_end]
        .char_indices()
        .nth(col.saturating_sub(1))
        .map_or(start + line_end, |(i, _)| start + i)
}

thread_local! {
    /// The file being deserialized, so that [`Spanned`] can name it.
    static CURRENT_FILE: Cell<FileId> = const { Cell::new(FileId(0)) };
}

/// A value with the span of the YAML node it was read from.
#[derive(Clone, Debug, Default)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    /// A value made by ctxgen itself (a default), pointing at `span`.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let inner = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        let span = inner.referenced.span();
        let start = span
            .byte_offset()
            .filter(|&o| o != u64::from(u32::MAX))
            .unwrap_or(span.offset());
        let len = span
            .byte_len()
            .filter(|&l| l != u64::from(u32::MAX))
            .unwrap_or(span.len());
        let file = CURRENT_FILE.with(Cell::get);
        let start = usize::try_from(start).unwrap_or(0);
        let len = usize::try_from(len).unwrap_or(0);
        Ok(Spanned {
            value: inner.value,
            span: Span::new(file, start, start + len),
        })
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// Limits that keep hostile YAML (alias bombs, deep nesting) cheap to reject.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 100_000,
            max_replay_stack_depth: 64,
            max_alias_expansions_per_anchor: 1_000,
        },
        with_snippet: false,
    }
}

/// Deserializes file `id` of `sources` as one YAML document into `T`.
///
/// Every failure (syntax, duplicate key, unknown field, wrong type, alias bomb) comes
/// back as one located diagnostic.
pub fn parse<T: DeserializeOwned>(sources: &Sources, id: FileId) -> Result<T, Diagnostic> {
    let Some(file) = sources.get(id) else {
        return Err(Diagnostic::error(Code::Io, "internal: unknown source file"));
    };
    if file.text.trim().is_empty() {
        return Err(
            Diagnostic::error(Code::SpecShape, format!("`{}` is empty", file.name))
                .with_span(Span::new(id, 0, 0))
                .with_hint("a spec needs at least `version: 1` and `name: <name>`"),
        );
    }
    CURRENT_FILE.with(|c| c.set(id));
    serde_saphyr::from_str_with_options::<T>(&file.text, options())
        .map_err(|e| diagnostic_of(&e, id, &file.text))
}

/// Turns a YAML library error into a located diagnostic with a fix hint.
fn diagnostic_of(err: &serde_saphyr::Error, id: FileId, text: &str) -> Diagnostic {
    use serde_saphyr::Error as E;
    let err = err.without_snippet();
    let span = err.location().filter(|l| l.line() > 0).map(|l| {
        let start = offset_of(text, l.line() as usize, l.column() as usize);
        let len = usize::try_from(l.span().byte_len().unwrap_or(0))
            .unwrap_or(0)
            .min(text.len() - start);
        Span::new(id, start, start + len.max(1).min(text.len() - start))
    });
    let (code, message, hint) = match err {
        E::SerdeUnknownField { field, expected, .. } => (
            Code::SpecShape,
            format!("unknown field `{field}`"),
            Some(unknown_field_hint(field, expected)),
        ),
        E::SerdeMissingField { field, .. } => (
            Code::SpecShape,
            format!("missing field `{field}`"),
            Some(format!("add `{field}:` here")),
        ),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            Code::SpecShape,
            format!("unknown value `{variant}`"),
            Some(one_of_hint(variant, expected)),
        ),
        E::DuplicateMappingKey { key, .. } => (
            Code::YamlSyntax,
            format!(
                "duplicate key{}",
                key.as_deref().map(|k| format!(" `{k}`")).unwrap_or_default()
            ),
            Some("each key may appear once in a mapping; merge the two entries".to_string()),
        ),
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => (
            Code::YamlSyntax,
            "the document expands too far (anchors and aliases, or nesting)".to_string(),
            Some("write the values out instead of repeating them through aliases".to_string()),
        ),
        other => {
            let raw = other.to_string();
            let message = strip_location(&raw);
            let code = if is_syntax(other) {
                Code::YamlSyntax
            } else {
                Code::SpecShape
            };
            let hint = if message.contains("tab") {
                Some("YAML indents with spaces only; replace the tab with spaces".to_string())
            } else {
                None
            };
            (code, message, hint)
        }
    };
    let mut d = Diagnostic::error(code, message);
    if let Some(span) = span {
        d = d.with_span(span);
    }
    if let Some(hint) = hint {
        d = d.with_hint(hint);
    }
    d
}

fn is_syntax(err: &serde_saphyr::Error) -> bool {
    use serde_saphyr::Error as E;
    !matches!(
        err,
        E::SerdeInvalidType { .. }
            | E::SerdeInvalidValue { .. }
            | E::SerdeInvalidLength { .. }
            | E::Message { .. }
            | E::InvalidScalar { .. }
            | E::NullIntoString { .. }
            | E::Unexpected { .. }
    )
}

/// The library's messages start with "error: line L column C: "; we print our own
/// location, so the prefix goes.
fn strip_location(raw: &str) -> String {
    let mut s = raw.trim();
    s = s.strip_prefix("error: ").unwrap_or(s);
    if let Some(rest) = s.strip_prefix("line ")
        && let Some(i) = rest.find(": ")
        && rest[..i]
            .split(' ')
            .next()
            .is_some_and(|n| n.parse::<u64>().is_ok())
    {
        s = &rest[i + 2..];
    }
    if let Some(i) = s.find(" at line ") {
        s = &s[..i];
    }
    s.lines().next().unwrap_or(s).trim().to_string()
}

fn unknown_field_hint(field: &str, expected: &[&str]) -> String {
    match did_you_mean(field, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if expected.is_empty() => "this mapping takes no fields".to_string(),
        None => format!("expected one of: {}", expected.join(", ")),
    }
}

fn one_of_hint(value: &str, expected: &[&str]) -> String {
    match did_you_mean(value, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`? (one of: {})", expected.join(", ")),
        None => format!("use one of: {}", expected.join(", ")),
    }
}

/// The closest candidate within an edit distance that still reads as a typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= typo_budget(c.len().max(word.len())))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// How many edits still read as a typo of a word this long.
fn typo_budget(len: usize) -> usize {
    if len <= 3 { 1 } else { (len / 3).max(2) }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let mut s = Sources::new();
        let id = s.add("f", "a: é\nbb: x\n");
        assert_eq!(s.line_col(id, 0), (1, 1));
        assert_eq!(s.line_col(id, 6), (2, 1));
        assert_eq!(s.line_col(id, 10), (2, 5));
    }

    #[test]
    fn offsets_round_trip() {
        let text = "a: é\nbb: x\n";
        assert_eq!(offset_of(text, 2, 5), 10);
        assert_eq!(offset_of(text, 9, 1), text.len());
    }

    #[test]
    fn typos_are_recognised() {
        assert_eq!(did_you_mean("nmae", ["name", "users"]), Some("name"));
        assert_eq!(did_you_mean("pakages", ["packages", "files"]), Some("packages"));
        assert_eq!(did_you_mean("zzz", ["packages", "files"]), None);
    }

    #[test]
    fn location_prefix_is_removed() {
        assert_eq!(
            strip_location("error: line 3 column 9: invalid u16"),
            "invalid u16"
        );
        assert_eq!(
            strip_location("unexpected end at line 1, column 1"),
            "unexpected end"
        );
    }
}
