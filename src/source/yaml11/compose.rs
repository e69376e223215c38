//! Text to node graph: the YAML parser's events become a graph of untyped nodes where
//! an alias is an edge to its anchored node, as PyYAML's composer builds it; plus the
//! syntax rules PyYAML enforces and a YAML 1.2 parser does not (tabs, characters,
//! anchor names, `?` and `:` in flow collections, a leading `...`, one document).

use std::borrow::Cow;
use std::collections::HashMap;

mod syntax;

use granit_parser::{ErrorKind, Event, Marker, Parser, ScalarStyle as ParserStyle, StructureStyle};

use super::{ScalarStyle, Span};
use crate::diag::{Code, Diagnostic};
use crate::source::FileId;
use syntax::{BOM, Region, check_characters, check_leading_document_end};

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
#[derive(Debug)]
pub(super) struct Graph {
    pub nodes: Vec<Raw>,
    /// `None` when the text holds no document (only comments, or nothing).
    pub root: Option<usize>,
}

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
                        let covered = |at: usize, regions: &[(usize, usize, Region)]| {
                            regions.last().is_some_and(|r| r.1 > at)
                        };
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
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, at: usize) -> usize {
    text[..super::super::floor_char_boundary(text, at)]
        .matches('\n')
        .count()
        + 1
}
