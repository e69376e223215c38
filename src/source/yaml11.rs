//! Reading YAML as cloud-init does: PyYAML's `yaml.safe_load`, a YAML 1.1 loader.
//!
//! Stage `source`, for `check`. Input: one text registered in [`Sources`]. Output: a
//! [`Node`] tree whose every key and value keeps its [`Span`] and, for scalars, the text
//! and style it was written in, plus warnings ([`Loaded::findings`]); or the one
//! located [`Diagnostic`] that makes PyYAML refuse the text. [`to_json`] gives the JSON
//! value `json.dumps` would write for what PyYAML returns, which is what schema
//! validation looks at.
//!
//! Plain scalars are typed with YAML 1.1's rules as PyYAML applies them, not YAML
//! 1.2's: `0644` is the integer 420, `yes`/`on`/`off` are booleans (`y`/`n` stay
//! strings), `1:20` is 80, `2030-01-01` is a date, `1e3` is a string (a float needs a
//! dot, and an exponent needs a sign), `=` and a bare `<<` value are refused. Quoted and
//! block scalars are strings unless tagged. Merge keys (`<<`), the `!!set`, `!!omap`,
//! `!!pairs`, `!!binary` and `!!timestamp` tags, and PyYAML's syntax limits (no tab where
//! a token may start, one document, anchors of letters, digits, `-` and `_`, no duplicate
//! anchor) behave as in PyYAML. Where PyYAML keeps the last of two equal keys silently,
//! the loader does the same and adds a warning.
//!
//! Deliberate differences, each a located error where PyYAML would return a value:
//!
//! - aliases and merge keys may not copy more than [`ALIAS_BUDGET`] nodes, nor nest
//!   deeper than [`MAX_DEPTH`] collections (PyYAML shares objects; JSON and the checks
//!   after it copy them);
//! - a value may not contain an alias to itself, nor a mapping merge itself (PyYAML
//!   builds a cyclic object, or one that depends on the order it edits its nodes in);
//! - integers written in `1:20` notation must fit in 128 bits, and the digits of an
//!   explicitly tagged `!!int` or `!!float` must be ASCII;
//! - U+0085 anywhere, and U+2028 or U+2029 outside quoted scalars (line breaks to
//!   PyYAML, text to YAML 1.2); `"\ud800"` escapes that leave half a UTF-16 pair;
//! - text the YAML 1.2 parser splits into other tokens than PyYAML, all of it garbled
//!   in either reading: `?` right before text inside `[...]`/`{...}`, an anchor name
//!   right before `:` or `?`, a byte order mark past the first character outside
//!   scalars, the lines of a top-level block scalar at column 0, a sequence entry whose
//!   block scalar starts at the dash's column.
//!
//! The module never reads files, never prints, and knows nothing of cloud-config: it
//! returns what the YAML says.

use crate::diag::{Code, Diagnostic};

use super::{FileId, Sources, Span};

mod compose;
mod construct;
mod json;
mod keys;
mod scalar;
mod timestamp;

pub(crate) use json::python_float_repr;
pub use json::to_json;

/// How many nodes aliases and merge keys may copy, beyond those written in the text,
/// before loading stops: an alias bomb fails fast instead of exhausting memory.
pub const ALIAS_BUDGET: usize = 100_000;

/// How deeply collections may nest once aliases are expanded: far deeper than any real
/// document, and shallow enough for a 2 MB thread stack even in a debug build. (PyYAML
/// stops near 450 levels written out, at Python's recursion limit.)
pub const MAX_DEPTH: usize = 128;

/// A loaded document: its root node and the warnings found while loading it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The document's root (a null node for an empty document).
    pub root: Node,
    /// Warnings that do not stop loading, such as duplicate keys (PyYAML keeps the last).
    pub findings: Vec<Diagnostic>,
}

/// One value of the document, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value, typed as PyYAML's `SafeLoader` types it.
    pub kind: NodeKind,
    /// The text of the value: a scalar without its tag or anchor (quotes included), or a
    /// whole collection. A value reached through an alias points at the anchored text.
    pub span: Span,
    /// For a scalar, its text and style before typing (`None` for collections).
    pub scalar: Option<Scalar>,
}

/// The value of a [`Node`], one variant per type `yaml.safe_load` returns.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// `None`: `~`, `null`, `Null`, `NULL`, nothing, or `!!null`.
    Null,
    /// `bool`: `yes`/`no`, `true`/`false`, `on`/`off` in three capitalizations.
    Bool(bool),
    /// `int` that fits in 128 bits: decimal, `0b`, `0x`, leading-zero octal, `1:20`.
    Int(i128),
    /// `int` outside 128 bits, as decimal digits with a leading `-` when negative.
    BigInt(String),
    /// `float`: `1.5`, `1.0e+3`, `.inf`, `-.inf`, `.nan`, `1:20.5`.
    Float(f64),
    /// `str`.
    Str(String),
    /// `datetime.date` or `datetime.datetime`.
    Timestamp(Timestamp),
    /// `bytes`, from `!!binary` base64 text.
    Binary(Vec<u8>),
    /// `list`.
    Seq(Vec<Node>),
    /// `dict`, in insertion order: merged keys first, each key once, holding its last
    /// value (the order and values Python's `dict` ends with).
    Map(Vec<(Node, Node)>),
    /// `set`, from `!!set`: its members in document order.
    Set(Vec<Node>),
    /// A list of `(key, value)` tuples, from `!!omap` or `!!pairs`.
    Pairs(Vec<(Node, Node)>),
}

/// The source form of a scalar: what lint rules quote back to the author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The scalar's content after YAML's escapes and line folding, before typing.
    pub text: String,
    /// How it was written.
    pub style: ScalarStyle,
}

/// How a scalar was written. Only plain scalars are typed by their text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|` block
    Literal,
    /// `>` block
    Folded,
}

/// A YAML 1.1 timestamp: a date, or a date and time with an optional UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// 1 to 9999.
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to the month's last day.
    pub day: u8,
    /// `None` for a date (`2030-01-01`).
    pub time: Option<TimeOfDay>,
}

/// The time part of a [`Timestamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeOfDay {
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59 (Python has no leap second).
    pub second: u8,
    /// The fraction of the second, truncated to microseconds as Python keeps it.
    pub microsecond: u32,
    /// Minutes east of UTC; `None` when no zone was written (a naive datetime).
    pub utc_offset_minutes: Option<i32>,
}

/// Loads file `id` of `sources` as `yaml.safe_load` would: exactly one document (or
/// none, giving a null root), typed with YAML 1.1's rules.
///
/// Returns the one error that makes PyYAML refuse the text (a syntax error, a second
/// document, an unknown tag, a list as a key, a value its tag cannot read), located
/// and with a hint; or an error where the loader deliberately stops (see the module
/// documentation).
pub fn load(sources: &Sources, id: FileId) -> Result<Loaded, Diagnostic> {
    let Some(file) = sources.get(id) else {
        return Err(Diagnostic::error(Code::Io, "internal: unknown source file"));
    };
    let graph = compose::compose(&file.text, id)?;
    let (root, findings) = construct::construct(&graph, &file.text, id)?;
    Ok(Loaded { root, findings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_file_is_an_internal_error() {
        let mut sources = Sources::new();
        let id = sources.add("a.yaml", "");
        assert_eq!(load(&Sources::new(), id).map_err(|e| e.code), Err(Code::Io));
        assert_eq!(load(&sources, id).map(|l| l.root.kind), Ok(NodeKind::Null));
    }
}
