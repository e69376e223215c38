//! Text to node graph: the YAML parser's events become a graph of untyped nodes where
//! an alias is an edge to its anchored node, as PyYAML's composer builds it; plus the
//! syntax rules PyYAML enforces and a YAML 1.2 parser does not (tabs, characters,
//! anchor names, `?` and `:` in flow collections, a leading `...`, one document).

use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{ErrorKind, Event, Marker, Parser, ScalarStyle as ParserStyle, StructureStyle};

use super::{ScalarStyle, Span};
use crate::diag::{Code, Diagnostic};
use crate::source::FileId;

/// An untyped node, as written.
#[derive(Debug)]
pub(super) struct Raw {
    pub body: Body,
    /// The full tag written on the node (`tag:yaml.org,2002:int`, `!`, `!local`).
    pub tag: Option<String>,
    pub span: Span,
}

#[derive(Debug)]
pub(super) enum Body {
    Scalar {
        text: String,
        style: ScalarStyle,
    },
    Seq(Vec<usize>),
    /// Key-value pairs, each `[key, value]`.
    Map(Vec<[usize; 2]>),
    /// An alias, pointing at the node its anchor is on.
    Alias(usize),
}

/// The nodes of one document; children and aliases are indices into `nodes`.
#[derive(Debug, Default)]
pub(super) struct Graph {
    pub nodes: Vec<Raw>,
    /// `None` when the text holds no document (only comments, or nothing).
    pub root: Option<usize>,
}

/// Parts of the text where PyYAML allows characters it refuses elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    /// A quoted scalar, quotes included: tabs and the Unicode line breaks are content.
    Quoted,
    /// A block scalar's content; tabs are allowed after its indentation.
    Block { indent: usize },
    /// A comment: tabs are allowed.
    Comment,
    /// A plain scalar: only spaces.
    Plain,
}

const BOM: char = '\u{feff}';

/// A collection being filled.
struct Open {
    node: usize,
    flow: bool,
    children: Vec<usize>,
}

const SYNTAX_HINT: &str = "PyYAML (YAML 1.1, as cloud-init reads it) cannot parse this; check this \
                           line and the ones above for an unclosed bracket or quote, or a key \
                           indented differently from its neighbours";

/// How many times the text is patched (see [`Fix`]) and parsed again before giving up.
const MAX_REPARSES: usize = 32;

/// Parses `text` into the graph of its one document, or the first syntax error.
pub(super) fn compose(text: &str, file: FileId) -> Result<Graph, Diagnostic> {
    check_characters(text, file)?;
    check_leading_document_end(text, file)?;
    let mut source = Cow::Borrowed(text);
    let mut dashes = Vec::new();
    let mut reparses = 0;
    loop {
        let (fix, at, diagnostic) = match parse(&source, &dashes, file) {
            Ok(graph) => return Ok(graph),
            Err(Stop::Error(diagnostic)) => return Err(diagnostic),
            Err(Stop::Retry(fix, at, diagnostic)) => (fix, at, diagnostic),
        };
        let patched = (reparses < MAX_REPARSES)
            .then(|| fix.apply(&source, at))
            .flatten();
        let Some(patched) = patched else {
            return Err(diagnostic);
        };
        reparses += 1;
        if fix == Fix::Dash {
            dashes.push(at);
        }
        source = Cow::Owned(patched);
    }
}

/// Where PyYAML reads a token the YAML 1.2 parser refuses, the parser is shown a text
/// patched to read the same way, with every offset kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    /// A `#` right after a token (`"a"#c`, `[a,#c`): PyYAML starts a comment wherever a
    /// token may start, YAML 1.2 wants a blank first. The comment becomes spaces.
    Comment,
    /// A `-` right before `,`, `]` or `}` in a flow collection: the text `-` to PyYAML.
    /// It becomes `x` for the parser, and `-` again in the scalar.
    Dash,
}

impl Fix {
    /// `text` patched at `at`; `None` when PyYAML would not read it differently there
    /// either (a `#` right after a block scalar's `|` or `>` header is an error to both).
    fn apply(self, text: &str, at: usize) -> Option<String> {
        let mut bytes = text.as_bytes().to_vec();
        match self {
            Fix::Comment => {
                if bytes.get(at) != Some(&b'#') {
                    return None;
                }
                let header =
                    text[..at].trim_end_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit());
                if header.ends_with(['|', '>']) {
                    return None;
                }
                let end = text[at..].find(['\n', '\r']).map_or(text.len(), |i| at + i);
                bytes[at..end].fill(b' ');
            }
            Fix::Dash => {
                if bytes.get(at) != Some(&b'-') {
                    return None;
                }
                bytes[at] = b'x';
            }
        }
        String::from_utf8(bytes).ok()
    }
}

/// Why parsing stopped.
enum Stop {
    /// At something a [`Fix`] makes the parser read as PyYAML does.
    Retry(Fix, usize, Diagnostic),
    Error(Diagnostic),
}

impl From<Diagnostic> for Stop {
    fn from(d: Diagnostic) -> Self {
        Stop::Error(d)
    }
}

/// Parses a text, where `dashes` are the offsets of `-` that [`Fix::Dash`] replaced.
fn parse(text: &str, dashes: &[usize], file: FileId) -> Result<Graph, Stop> {
    let options = granit_parser::options! {
        // PyYAML ends a block scalar at the end of the text without adding a line break,
        block_scalar_eof_without_line_feed: true,
        // and reads a byte order mark past the first character as text.
        bom_inside_document_as_content: true,
        emit_anchor_events: true,
    };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut c = Composer {
        text,
        file,
        dashes,
        graph: Graph {
            // About one node per 12 bytes of typical YAML: fewer copies as it grows.
            nodes: Vec::with_capacity(text.len() / 12),
            root: None,
        },
        stack: Vec::new(),
        anchors: HashMap::new(),
        anchor_names: HashMap::new(),
        last: None,
        documents: 0,
        regions: Vec::new(),
        comment_ends: HashMap::new(),
    };
    while let Some(item) = parser.next_event() {
        let (event, span) = match item {
            Ok(item) => item,
            Err(e) => {
                let at = byte_at(text, e.marker());
                let message = format!("YAML syntax error: {}", e.info());
                let diagnostic = error(file, text, at, message, SYNTAX_HINT);
                return Err(match e.kind() {
                    ErrorKind::CommentNotSeparated => Stop::Retry(Fix::Comment, at, diagnostic),
                    ErrorKind::PlainScalarStartsWithDashFlowIndicator => {
                        Stop::Retry(Fix::Dash, at, diagnostic)
                    }
                    _ => Stop::Error(diagnostic),
                });
            }
        };
        let span = Span::new(file, byte_at(text, &span.start), byte_at(text, &span.end));
        c.event(event, span)?;
    }
    c.check_regions()?;
    Ok(c.graph)
}

/// The byte offset of a parser position.
fn byte_at(text: &str, m: &Marker) -> usize {
    m.byte_offset()
        .unwrap_or_else(|| text.char_indices().nth(m.index()).map_or(text.len(), |(i, _)| i))
}

/// A located syntax error covering the character at `at`.
fn error(file: FileId, text: &str, at: usize, message: String, hint: &str) -> Diagnostic {
    let at = super::super::floor_char_boundary(text, at);
    let len = text[at..].chars().next().map_or(0, char::len_utf8);
    Diagnostic::error(Code::YamlSyntax, message)
        .with_span(Span::new(file, at, at + len))
        .with_hint(hint)
}

/// PyYAML refuses the whole text if it holds a character outside YAML's printable set
/// (control characters other than tab and line breaks, DEL, C1 controls other than
/// U+0085, U+FFFE, U+FFFF), wherever it is, comments included.
fn check_characters(text: &str, file: FileId) -> Result<(), Diagnostic> {
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
                format!(
                    "the control character U+{:04X} is not allowed in YAML",
                    u32::from(c)
                ),
                "PyYAML refuses the whole file; remove the character, or write it as an escape \
                 (`\\x..`) inside a double-quoted string",
            ));
        }
    }
    Ok(())
}

/// PyYAML reads a `...` before any document as an empty document missing its content.
fn check_leading_document_end(text: &str, file: FileId) -> Result<(), Diagnostic> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
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

struct Composer<'t> {
    text: &'t str,
    file: FileId,
    /// Offsets of `-` the parser was shown as `x` ([`Fix::Dash`]).
    dashes: &'t [usize],
    graph: Graph,
    stack: Vec<Open>,
    /// Anchor id (from the parser) to the node it is on.
    anchors: HashMap<usize, usize>,
    /// Anchor names seen in the document, with where, for PyYAML's duplicate check.
    anchor_names: HashMap<String, Span>,
    /// The node the next `Anchor` event belongs to.
    last: Option<usize>,
    documents: usize,
    regions: Vec<(usize, usize, Region)>,
    /// Where each comment ends, to where it starts.
    comment_ends: HashMap<usize, usize>,
}

impl Composer<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Diagnostic> {
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(error(
                        self.file,
                        self.text,
                        span.start,
                        "a second YAML document starts here".to_string(),
                        "cloud-init reads exactly one document: remove this `---` and what \
                         follows, or merge it into the first document",
                    ));
                }
            }
            Event::Scalar(value, style, _, tag) => {
                let style = match style {
                    ParserStyle::Plain => ScalarStyle::Plain,
                    ParserStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    ParserStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    ParserStyle::Literal => ScalarStyle::Literal,
                    ParserStyle::Folded => ScalarStyle::Folded,
                };
                let mut span = span;
                // The parser spells an absent value `~`; PyYAML reads it as empty text.
                let mut text = if style == ScalarStyle::Plain && span.start == span.end {
                    String::new()
                } else {
                    value.into_owned()
                };
                match style {
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                        self.regions.push((span.start, span.end, Region::Quoted));
                    }
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        let line_start = self.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
                        let indent = span.start - line_start;
                        if indent == 0 && !text.trim().is_empty() && self.stack.is_empty() {
                            return Err(error(
                                self.file,
                                self.text,
                                span.start,
                                "YAML 1.1 needs the lines of a top-level block scalar indented".to_string(),
                                "indent the text under `|` or `>` by at least one space",
                            ));
                        }
                        self.regions
                            .push((span.start, span.end, Region::Block { indent }));
                    }
                    ScalarStyle::Plain => {
                        if self.dashes.contains(&span.start) {
                            text.replace_range(..1, "-");
                        }
                        // The parser skips a byte order mark where a document may start,
                        // PyYAML only as the first character: elsewhere it begins the text.
                        let covered = |at: usize, regions: &[(usize, usize, Region)]| regions.last().is_some_and(|r| r.1 > at);
                        while span.start > BOM.len_utf8()
                            && self.text[..span.start].ends_with(BOM)
                            && !covered(span.start - BOM.len_utf8(), &self.regions)
                        {
                            span.start -= BOM.len_utf8();
                            text.insert(0, BOM);
                        }
                        self.check_plain(span)?;
                        self.regions.push((span.start, span.end, Region::Plain));
                    }
                }
                if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    // A block scalar can only be an explicit key.
                    self.check_key(span)?;
                }
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                self.add(Body::Scalar { text, style }, tag, span);
            }
            Event::SequenceStart(structure, _, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                self.open(Body::Seq(Vec::new()), structure, tag, span);
            }
            Event::MappingStart(structure, _, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                self.open(Body::Map(Vec::new()), structure, tag, span);
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span)?,
            Event::Alias(id) => {
                let Some(&target) = self.anchors.get(&id) else {
                    return Err(error(
                        self.file,
                        self.text,
                        span.start,
                        "internal: an alias to an unknown anchor".to_string(),
                        SYNTAX_HINT,
                    ));
                };
                self.check_anchor_name(span, "alias")?;
                self.add(Body::Alias(target), None, span);
            }
            Event::Anchor(id, name) => {
                self.check_anchor_name(span, "anchor")?;
                if let Some(first) = self.anchor_names.get(name.as_ref()) {
                    let line = line_of(self.text, first.start);
                    return Err(Diagnostic::error(
                        Code::YamlSyntax,
                        format!("the anchor `&{name}` is defined twice"),
                    )
                    .with_span(span)
                    .with_hint(
                        "PyYAML refuses a second anchor of the same name in a document: rename \
                         one of them and the aliases that mean it",
                    )
                    .with_note(format!("`&{name}` is first defined on line {line}")));
                }
                self.anchor_names.insert(name.into_owned(), span);
                if let Some(node) = self.last {
                    self.anchors.insert(id, node);
                }
            }
            Event::Comment(..) => {
                self.regions.push((span.start, span.end, Region::Comment));
                self.comment_ends.insert(span.end, span.start);
            }
            _ => {}
        }
        Ok(())
    }
}

impl Composer<'_> {
    /// Adds a node to the graph and to the collection being filled (or as the root).
    fn add(&mut self, body: Body, tag: Option<String>, span: Span) -> usize {
        let index = self.graph.nodes.len();
        self.graph.nodes.push(Raw { body, tag, span });
        match self.stack.last_mut() {
            Some(open) => open.children.push(index),
            None => self.graph.root = Some(index),
        }
        self.last = Some(index);
        index
    }

    fn open(&mut self, body: Body, structure: StructureStyle, tag: Option<String>, span: Span) {
        let node = self.add(body, tag, span);
        self.stack.push(Open {
            node,
            flow: structure == StructureStyle::Flow,
            children: Vec::new(),
        });
    }

    /// Ends the innermost collection: a flow collection's span runs to its closing
    /// bracket, a block collection's to the end of its last entry.
    fn close(&mut self, span: Span) -> Result<(), Diagnostic> {
        let Some(open) = self.stack.pop() else {
            return Err(error(
                self.file,
                self.text,
                span.start,
                "internal: a collection ends that never started".to_string(),
                SYNTAX_HINT,
            ));
        };
        let end = if open.flow {
            span.end
        } else {
            open.children
                .last()
                .map_or(span.start, |&c| self.graph.nodes[c].span.end)
        };
        let node = &mut self.graph.nodes[open.node];
        node.span.end = end.max(node.span.start);
        match &mut node.body {
            Body::Seq(items) => *items = open.children,
            Body::Map(pairs) => {
                *pairs = open.children.chunks_exact(2).map(|kv| [kv[0], kv[1]]).collect();
            }
            Body::Scalar { .. } | Body::Alias(_) => {}
        }
        Ok(())
    }

    /// PyYAML's anchor and alias names are ASCII letters, digits, `-` and `_`, and must
    /// be followed by a blank, a line break or one of `?:,]}%@`` ` ``.
    fn check_anchor_name(&self, span: Span, what: &str) -> Result<(), Diagnostic> {
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
    fn check_key(&self, span: Span) -> Result<(), Diagnostic> {
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
    fn check_plain(&self, span: Span) -> Result<(), Diagnostic> {
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
            let word_start = before.rfind([' ', '\t', '\r', '\n', '[', '{', ',']).map_or(0, |i| i + 1);
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
    fn check_regions(&mut self) -> Result<(), Diagnostic> {
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

/// The 1-based line of a byte offset.
fn line_of(text: &str, at: usize) -> usize {
    text[..super::super::floor_char_boundary(text, at)]
        .matches('\n')
        .count()
        + 1
}
