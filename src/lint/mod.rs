//! Lint: security and correctness rules for user-data, beyond what cloud-init's schema
//! says. Stage of `check`, after schema validation.
//!
//! Input: the parts of one user-data input as `check` decoded them: each cloud-config
//! document as a loaded YAML 1.1 tree ([`Doc`]), each other text part (scripts,
//! boothooks) as text ([`Text`]), and a summary of the whole input ([`Whole`]).
//! Output: [`Finding`]s, each from one [`Rule`] with a stable code (`CL001`…), a
//! kebab-case name, a default severity and documentation that `ctxgen explain` shows.
//!
//! Rules live in `rules/`, one rule a file, each with a true-positive and a
//! false-positive fixture under `tests/fixtures/lint/<rule-name>/`. A finding never
//! contains the value it is about when that value may be a credential: messages name
//! what was found (kind of token, key, file path) and where.

use crate::cloud_config::Release;
use crate::cloud_config::validate::Seg;
use crate::diag::Severity;
use crate::source::yaml11::Node;
use crate::source::{FileId, Sources, Span};
use crate::spec::Provider;

pub mod rules;

/// A rule's identity and documentation.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable code, `CL` and three digits. Never reused for another meaning.
    pub code: &'static str,
    /// Stable kebab-case name, also accepted wherever a code is.
    pub name: &'static str,
    /// Severity unless configured otherwise.
    pub default_severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Why it is bad (a paragraph).
    pub why: &'static str,
    /// A user-data snippet that triggers it.
    pub example: &'static str,
    /// What to write instead (a paragraph, may include a snippet).
    pub instead: &'static str,
}

/// One finding of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule's code.
    pub code: &'static str,
    pub message: String,
    /// Where: the key or value concerned, in the part's own source.
    pub span: Span,
    /// cloud-init's dotted path of the value (empty for a whole part or text).
    pub path: Vec<Seg>,
    pub hint: Option<String>,
}

/// Where a part sits in the input, for messages ("part 2 (setup.sh)").
#[derive(Debug, Clone, Default)]
pub struct PartInfo {
    /// 1-based position among the input's parts; 0 when the input is a single part.
    pub index: usize,
    /// The part's file name (MIME `filename`), if any.
    pub filename: Option<String>,
    /// Its content type (`text/cloud-config`, `text/x-shellscript`, ...).
    pub content_type: String,
}

/// One cloud-config document.
pub struct Doc<'a> {
    pub sources: &'a Sources,
    /// The document's text in `sources`.
    pub file: FileId,
    pub root: &'a Node,
    pub part: &'a PartInfo,
    /// The cloud-init release the input is checked for.
    pub release: Release,
}

/// One part that is not cloud-config: a script, a boothook, an include list.
pub struct Text<'a> {
    pub sources: &'a Sources,
    pub file: FileId,
    pub text: &'a str,
    pub part: &'a PartInfo,
}

/// The whole input.
pub struct Whole<'a> {
    pub sources: &'a Sources,
    /// The input's text as read (the first file registered for it), for spans.
    pub file: FileId,
    /// Bytes of the input exactly as the provider would receive it.
    pub raw_len: usize,
    /// Whether the input was gzip-compressed and/or base64-encoded as given.
    pub compressed: bool,
    pub base64: bool,
    pub parts: &'a [PartInfo],
    /// The cloud-config documents, in part order, with their part's merge settings
    /// (the MIME `Merge-Type` header or the document's `merge_how`/`merge_type`).
    pub docs: &'a [(&'a Node, Option<String>)],
    /// `--provider`, deciding the size budget.
    pub provider: Option<Provider>,
}

/// A lint rule.
pub trait Rule: Sync + Send {
    fn meta(&self) -> &'static RuleMeta;
    /// Called for each cloud-config document.
    fn doc(&self, _doc: &Doc<'_>, _out: &mut Vec<Finding>) {}
    /// Called for each non-cloud-config text part.
    fn text(&self, _text: &Text<'_>, _out: &mut Vec<Finding>) {}
    /// Called once per input.
    fn whole(&self, _whole: &Whole<'_>, _out: &mut Vec<Finding>) {}
}

/// The number of a rule code (`CL012` is 12), as diagnostics carry it.
pub fn number_of(code: &str) -> u16 {
    code.get(2..).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The code of rule number `n` (`CL???` for a number no rule has).
pub fn code_of(n: u16) -> &'static str {
    rules::all()
        .iter()
        .map(|r| r.meta().code)
        .find(|c| number_of(c) == n)
        .unwrap_or("CL???")
}

/// Finds a rule by code (`CL006`) or name (`secret-file-mode`), case-insensitively.
pub fn find(code_or_name: &str) -> Option<&'static dyn Rule> {
    rules::all().iter().copied().find(|r| {
        r.meta().code.eq_ignore_ascii_case(code_or_name) || r.meta().name.eq_ignore_ascii_case(code_or_name)
    })
}
