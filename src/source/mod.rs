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

mod errors;
pub mod yaml11;

pub use errors::did_you_mean;
use errors::{diagnostic_of, has_content};

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

    /// Every file with its id, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// The file behind an id. Ids only come from [`Sources::add`], so this never fails
    /// for ids of this table.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The part of `span` on the line that holds `-----BEGIN` (or its first line), so a
    /// diagnostic about a key block shows one line of it, never the key material.
    pub fn begin_line(&self, span: Span) -> Span {
        let Some(file) = self.get(span.file) else {
            return span;
        };
        let start = floor_char_boundary(&file.text, span.start);
        let end = floor_char_boundary(&file.text, span.end.max(start));
        let inside = &file.text[start..end];
        let line_start = inside.find("-----BEGIN").unwrap_or(0);
        let rest = &inside[line_start..];
        let line_end = rest.find('\n').unwrap_or(rest.len());
        Span::new(span.file, start + line_start, start + line_start + line_end)
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

pub(crate) fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The first char boundary at or after `offset` (at most the text's length).
fn ceil_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset += 1;
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
    /// While a text that ctxgen put together is deserialized (a role merged into the
    /// top level), where each of its pieces was written, so that [`Spanned`] values
    /// point at the user's files.
    static CURRENT_MAP: std::cell::RefCell<Option<std::rc::Rc<SpanMap>>> =
        const { std::cell::RefCell::new(None) };
}

/// Where the pieces of a text that ctxgen assembled came from: ranges of the
/// assembled text, each with the span it was copied or translated from.
#[derive(Debug, Default)]
pub struct SpanMap {
    /// `(start, end, origin)`, in the order written: a parent before its children.
    pieces: Vec<(usize, usize, Span)>,
}

impl SpanMap {
    /// Starts a piece at `start` of the assembled text that stands for `origin`.
    /// Pieces are opened in text order, a container before what it contains.
    pub fn open(&mut self, start: usize, origin: Span) -> usize {
        self.pieces.push((start, usize::MAX, origin));
        self.pieces.len() - 1
    }

    /// Ends piece `piece` (from [`SpanMap::open`]) at `end`.
    pub fn close(&mut self, piece: usize, end: usize) {
        if let Some(p) = self.pieces.get_mut(piece) {
            p.1 = end;
        }
    }

    /// The span of the innermost recorded piece holding `offset` of the assembled text.
    pub fn origin(&self, offset: usize) -> Option<Span> {
        let after = self.pieces.partition_point(|p| p.0 <= offset);
        self.pieces[..after]
            .iter()
            .rev()
            .find(|p| offset < p.1)
            .map(|p| p.2)
    }
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
        let mapped = CURRENT_MAP.with(|m| m.borrow().as_ref().and_then(|m| m.origin(start)));
        Ok(Spanned {
            value: inner.value,
            span: mapped.unwrap_or(Span::new(file, start, start + len)),
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
/// back as one located diagnostic with a fix hint.
/// The start of the error a literal gets where `{ secret: NAME }` belongs.
pub const CREDENTIAL_LITERAL: &str = "a credential cannot be written in the spec";

pub fn parse<T: DeserializeOwned>(sources: &Sources, id: FileId) -> Result<T, Diagnostic> {
    let Some(file) = sources.get(id) else {
        return Err(Diagnostic::error(Code::Io, "internal: unknown source file"));
    };
    if !has_content(&file.text) {
        let what = if file.text.trim().is_empty() {
            "is empty"
        } else {
            "has only comments"
        };
        return Err(
            Diagnostic::error(Code::SpecShape, format!("`{}` {what}", file.name))
                .with_span(Span::new(id, 0, 0))
                .with_hint("a spec needs at least `version: 1` and `name: <name>`"),
        );
    }
    CURRENT_FILE.with(|c| c.set(id));
    serde_saphyr::from_str_with_options::<T>(&file.text, options()).map_err(|e| {
        let d = diagnostic_of(&e, id, &file.text);
        // A literal where a secret reference belongs is probably the credential.
        if d.message.contains(CREDENTIAL_LITERAL) {
            d.masked()
        } else {
            d
        }
    })
}

/// [`parse`] for a text that ctxgen assembled from pieces of the user's files: every
/// span, of the values and of the error, points where `map` says the piece came from.
pub fn parse_mapped<T: DeserializeOwned>(
    sources: &Sources,
    id: FileId,
    map: SpanMap,
) -> Result<T, Diagnostic> {
    let map = std::rc::Rc::new(map);
    CURRENT_MAP.with(|m| *m.borrow_mut() = Some(map.clone()));
    let parsed = parse(sources, id);
    CURRENT_MAP.with(|m| *m.borrow_mut() = None);
    parsed.map_err(|mut d| {
        if let Some(span) = d.span.filter(|s| s.file == id) {
            d.span = map.origin(span.start);
        }
        d
    })
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
    fn spans_end_on_char_boundaries() {
        assert_eq!(ceil_char_boundary("é:", 1), 2);
        assert_eq!(ceil_char_boundary("é", 9), 2);
        assert_eq!(ceil_char_boundary("ab", 1), 1);
    }

    #[test]
    fn offsets_round_trip() {
        let text = "a: é\nbb: x\n";
        assert_eq!(offset_of(text, 2, 5), 10);
        assert_eq!(offset_of(text, 9, 1), text.len());
    }
}
