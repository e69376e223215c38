//! Node graph to typed tree, as PyYAML's `SafeConstructor` turns nodes into Python
//! objects: tags pick the type (plain scalars are typed by their text), merge keys are
//! flattened, equal keys keep the last value, and list or mapping keys are refused.

use std::collections::HashMap;

use super::compose::{Body, Graph, Raw};
use super::keys::{key_hash, python_eq};
use super::scalar::{self, Int, Tag};
use super::timestamp::timestamp_of;
use super::{ALIAS_BUDGET, MAX_DEPTH, Node, NodeKind, Scalar, ScalarStyle, Span};
use crate::diag::{Code, Diagnostic};
use crate::source::FileId;

/// Builds the typed tree of `graph`, with the warnings found on the way.
pub(super) fn construct(
    graph: &Graph,
    text: &str,
    file: FileId,
) -> Result<(Node, Vec<Diagnostic>), Diagnostic> {
    let Some(root) = graph.root else {
        let empty = Node {
            kind: NodeKind::Null,
            span: Span::new(file, 0, 0),
            scalar: None,
        };
        return Ok((empty, Vec::new()));
    };
    check_expansion(graph)?;
    let mut b = Builder {
        graph,
        text,
        findings: Vec::new(),
        work: 0,
        limit: graph.nodes.len().saturating_add(ALIAS_BUDGET),
        active: vec![false; graph.nodes.len()],
        merging: vec![false; graph.nodes.len()],
        str_keys: vec![false; graph.nodes.len()],
        depth: 0,
        alias: None,
    };
    let node = b.node(root)?;
    Ok((node, b.findings))
}

/// Refuses, before building anything, a document whose aliases would copy more than
/// [`ALIAS_BUDGET`] nodes: each node's size once expanded is counted over the graph
/// (merge keys count as the mappings they copy), so an alias bomb costs microseconds.
/// The builder still counts exactly as it goes.
fn check_expansion(graph: &Graph) -> Result<(), Diagnostic> {
    const OPEN: u64 = u64::MAX;
    let mut size: Vec<Option<u64>> = vec![None; graph.nodes.len()];
    let Some(root) = graph.root else {
        return Ok(());
    };
    // Depth-first without recursion: a node's size is known once its children's are.
    let mut stack = vec![(root, false)];
    while let Some((index, children_done)) = stack.pop() {
        let raw = &graph.nodes[index];
        let children: &[usize] = match &raw.body {
            Body::Scalar { .. } => &[],
            Body::Alias(target) => std::slice::from_ref(target),
            Body::Seq(items) => items,
            Body::Map(pairs) => pairs.as_flattened(),
        };
        if children_done {
            let sum = children
                .iter()
                .map(|&c| match size[c] {
                    Some(OPEN) | None => 1, // an alias into its own node: the builder reports it
                    Some(n) => n,
                })
                .fold(0u64, u64::saturating_add);
            let own = u64::from(!matches!(raw.body, Body::Alias(_)));
            size[index] = Some(sum.saturating_add(own));
            continue;
        }
        if size[index].is_some() {
            continue;
        }
        size[index] = Some(OPEN);
        stack.push((index, true));
        stack.extend(
            children
                .iter()
                .filter(|&&c| size[c].is_none())
                .map(|&c| (c, false)),
        );
    }
    let limit = graph.nodes.len().saturating_add(ALIAS_BUDGET) as u64;
    if size[root].is_some_and(|n| n <= limit) {
        return Ok(());
    }
    // Point at the alias that expands the most (the first of equals).
    let worst = graph
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, raw)| matches!(raw.body, Body::Alias(_)))
        .max_by_key(|&(i, _)| (size[i].unwrap_or(0), std::cmp::Reverse(i)))
        .map_or(graph.nodes[root].span, |(_, raw)| raw.span);
    Err(over_budget(worst))
}

/// One key-value pair of a mapping after merge keys are flattened.
#[derive(Clone, Copy)]
struct Entry {
    key: usize,
    value: usize,
    /// Written in this mapping (not brought in by `<<`).
    own: bool,
}

struct Builder<'g> {
    graph: &'g Graph,
    text: &'g str,
    findings: Vec<Diagnostic>,
    /// Nodes built and merge entries copied so far; past `limit`, aliases are copying
    /// more than the budget allows.
    work: usize,
    limit: usize,
    /// Nodes being built: an alias to one of them would make a cycle.
    active: Vec<bool>,
    /// Mappings whose merge keys are being flattened.
    merging: Vec<bool>,
    /// `=` keys, which PyYAML reads as the string `=` once their mapping is read.
    str_keys: Vec<bool>,
    depth: usize,
    /// The outermost alias being expanded, where an expansion error is reported.
    alias: Option<Span>,
}

const ALIAS_HINT: &str = "write the repeated values out, or repeat fewer of them: PyYAML shares aliased values, \
     but every reader after it (JSON, cloud-init's modules) copies them";

fn err(span: Span, message: impl Into<String>, hint: &str) -> Diagnostic {
    Diagnostic::error(Code::YamlSyntax, message)
        .with_span(span)
        .with_hint(hint)
}

/// A scalar node typed `tag`, or why its text cannot be read so.
fn scalar_node(span: Span, text: &str, style: ScalarStyle, tag: Tag) -> Result<Node, Diagnostic> {
    let bad = |why: &str| {
        err(
            span,
            format!("{} cannot read this text: {why}", tag.short()),
            "cloud-init would refuse the whole file: fix the value, or quote it and drop the tag",
        )
    };
    let kind = match tag {
        Tag::Null => NodeKind::Null,
        Tag::Str => NodeKind::Str(text.to_string()),
        Tag::Bool => NodeKind::Bool(
            scalar::bool_of(text).ok_or_else(|| bad("a boolean is yes, no, true, false, on or off"))?,
        ),
        Tag::Int => match scalar::int_of(text).ok_or_else(|| bad("this is not an integer"))? {
            Int::Small(v) => NodeKind::Int(v),
            Int::Big(digits) => NodeKind::BigInt(digits),
        },
        Tag::Float => NodeKind::Float(scalar::float_of(text).ok_or_else(|| bad("this is not a number"))?),
        Tag::Timestamp => NodeKind::Timestamp(timestamp_of(text).map_err(bad)?),
        Tag::Binary => NodeKind::Binary(scalar::binary_of(text).map_err(bad)?),
        Tag::Seq | Tag::Map | Tag::Set | Tag::Omap | Tag::Pairs | Tag::Merge | Tag::Value => {
            return Err(bad("it needs a collection"));
        }
    };
    Ok(Node {
        kind,
        span,
        scalar: Some(Scalar {
            text: text.to_string(),
            style,
        }),
    })
}

#[cold]
fn unhashable(at: Span) -> Diagnostic {
    err(
        at,
        "a list or mapping cannot be a mapping key",
        "PyYAML refuses keys that are collections: use a single value as the key",
    )
}

#[cold]
fn cycle(at: Span) -> Diagnostic {
    err(
        at,
        "this refers to a value that contains it",
        "PyYAML builds a value that contains itself, which neither JSON nor cloud-init can \
         use: write the value out instead",
    )
}

#[cold]
fn too_deep(at: Span) -> Diagnostic {
    err(
        at,
        format!("the document nests more than {MAX_DEPTH} collections deep"),
        "flatten the structure (no cloud-config is this deep), or write out the aliases that nest it",
    )
}

#[cold]
fn over_budget(at: Span) -> Diagnostic {
    err(
        at,
        format!("aliases and merge keys copy more than {ALIAS_BUDGET} values"),
        ALIAS_HINT,
    )
}

#[cold]
fn unknown_tag(at: Span, tag: &str) -> Diagnostic {
    err(
        at,
        format!("PyYAML's safe loader has no type for the tag `{tag}`"),
        "cloud-init would refuse the whole file: remove the tag, or use one of !!str, !!int, \
         !!float, !!bool, !!null, !!binary, !!timestamp, !!seq, !!map, !!set, !!omap, !!pairs",
    )
}

/// `<<` or `=` where a value is expected.
#[cold]
fn special_key(at: Span, tag: Tag) -> Diagnostic {
    let written = if tag == Tag::Merge { "<<" } else { "=" };
    err(
        at,
        format!("YAML 1.1 reads a bare `{written}` as a special key, not a value"),
        "quote it if it is text; PyYAML refuses it unquoted",
    )
}

/// What a node is, in words, for messages.
fn what(body: &Body) -> &'static str {
    match body {
        Body::Scalar { .. } | Body::Alias(_) => "a single value",
        Body::Seq(_) => "a list",
        Body::Map(_) => "a mapping",
    }
}

impl<'g> Builder<'g> {
    /// The node an index means, following an alias.
    fn target(&self, index: usize) -> usize {
        match self.graph.nodes[index].body {
            Body::Alias(t) => t,
            _ => index,
        }
    }

    fn raw(&self, index: usize) -> &'g Raw {
        &self.graph.nodes[index]
    }

    /// The type a node's tag (or, for plain scalars and `!`, its text) gives it:
    /// `Err(tag)` for a tag the safe loader does not know.
    fn tag_of(&self, index: usize) -> Result<Tag, &'g str> {
        let index = self.target(index);
        if self.str_keys[index] {
            return Ok(Tag::Str);
        }
        let raw = self.raw(index);
        let implicit = match &raw.body {
            Body::Scalar { text, style } => match raw.tag.as_deref() {
                None if *style == ScalarStyle::Plain => scalar::resolve_plain(text),
                None => Tag::Str,
                Some("!") => scalar::resolve_plain(text),
                Some(_) => Tag::Str,
            },
            Body::Seq(_) => Tag::Seq,
            Body::Map(_) | Body::Alias(_) => Tag::Map,
        };
        match raw.tag.as_deref() {
            None | Some("!") => Ok(implicit),
            Some(tag) => Tag::from_tag(tag).ok_or(tag),
        }
    }

    /// Builds the node at `index` (an alias builds a copy of its anchored node), typed
    /// by its tag.
    ///
    /// This and the functions it recurses through keep their frames small (messages are
    /// built in cold functions): documents nest up to [`MAX_DEPTH`] deep.
    fn node(&mut self, index: usize) -> Result<Node, Diagnostic> {
        let raw = self.raw(index);
        if let Body::Alias(target) = raw.body {
            return self.alias(raw.span, target);
        }
        if self.active[index] {
            // Reached again from inside itself, through a mapping it merges.
            return Err(cycle(self.alias.unwrap_or(raw.span)));
        }
        self.charge(1, raw.span)?;
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(self.alias.unwrap_or(raw.span)));
        }
        self.depth += 1;
        self.active[index] = true;
        let built = self.build(index);
        self.active[index] = false;
        self.depth -= 1;
        built
    }

    /// A copy of the node an alias at `at` refers to.
    fn alias(&mut self, at: Span, target: usize) -> Result<Node, Diagnostic> {
        if self.active[target] {
            return Err(cycle(at));
        }
        let outer = self.alias.is_none();
        if outer {
            self.alias = Some(at);
        }
        let built = self.node(target);
        if outer {
            self.alias = None;
        }
        built
    }

    /// Counts `n` units of work against the alias budget.
    fn charge(&mut self, n: usize, at: Span) -> Result<(), Diagnostic> {
        self.work = self.work.saturating_add(n);
        if self.work > self.limit {
            return Err(over_budget(self.alias.unwrap_or(at)));
        }
        Ok(())
    }

    fn build(&mut self, index: usize) -> Result<Node, Diagnostic> {
        let raw = self.raw(index);
        let tag = match self.tag_of(index) {
            Ok(tag) => tag,
            Err(unknown) => return Err(unknown_tag(raw.span, unknown)),
        };
        match (&raw.body, tag) {
            (Body::Seq(items), Tag::Seq) => self.seq(raw.span, items),
            (_, Tag::Map | Tag::Set | Tag::Omap | Tag::Pairs) => self.collection(index, tag),
            (_, Tag::Merge | Tag::Value) => Err(special_key(raw.span, tag)),
            (Body::Scalar { text, style }, _) => scalar_node(raw.span, text, *style, tag),
            _ => Err(self.shape(index, tag)),
        }
    }

    fn seq(&mut self, span: Span, items: &[usize]) -> Result<Node, Diagnostic> {
        let mut out = Vec::with_capacity(items.len());
        for &item in items {
            out.push(self.node(item)?);
        }
        Ok(Node {
            kind: NodeKind::Seq(out),
            span,
            scalar: None,
        })
    }

    /// A `!!map`, `!!set`, `!!omap` or `!!pairs` node.
    fn collection(&mut self, index: usize, tag: Tag) -> Result<Node, Diagnostic> {
        let kind = if matches!(tag, Tag::Omap | Tag::Pairs) {
            NodeKind::Pairs(self.pairs(index, tag)?)
        } else {
            let pairs = self.mapping(index, tag)?;
            if tag == Tag::Set {
                NodeKind::Set(pairs.into_iter().map(|(k, _)| k).collect())
            } else {
                NodeKind::Map(pairs)
            }
        };
        Ok(Node {
            kind,
            span: self.raw(index).span,
            scalar: None,
        })
    }

    /// A node whose tag wants another shape (`!!map` on a list, `!!int` on a mapping).
    #[cold]
    fn shape(&self, index: usize, tag: Tag) -> Diagnostic {
        let raw = self.raw(index);
        let wanted = match tag {
            Tag::Seq => "a list",
            Tag::Map | Tag::Set => "a mapping",
            Tag::Omap | Tag::Pairs => "a list of one-pair mappings",
            _ => "a single value",
        };
        err(
            raw.span,
            format!("{} needs {wanted}, but this is {}", tag.short(), what(&raw.body)),
            "cloud-init would refuse the whole file: change the tag or the value",
        )
    }

    /// The pairs of a mapping as Python's `dict` ends up: merged pairs first, then its
    /// own; each key once, in the place it first took, with the last value given.
    fn mapping(&mut self, index: usize, tag: Tag) -> Result<Vec<(Node, Node)>, Diagnostic> {
        /// Up to this many keys, a key is looked up by comparing it with each.
        const SCAN: usize = 16;
        if !matches!(self.raw(index).body, Body::Map(_)) {
            return Err(self.shape(index, tag));
        }
        let entries = self.flatten(index)?;
        let mut out: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
        // Whether each key of `out` was written in this mapping (a merged key may be
        // overridden silently), and for large mappings, key hash to positions.
        let mut own = Vec::with_capacity(entries.len());
        let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
        let large = entries.len() > SCAN;
        for e in entries {
            let key = self.key(e)?;
            let value = self.node(e.value)?;
            let same = |pos: &usize| python_eq(&out[*pos].0.kind, &key.kind);
            let hash = if large { key_hash(&key.kind) } else { 0 };
            let found = if large {
                by_hash
                    .get(&hash)
                    .and_then(|slots| slots.iter().copied().find(same))
            } else {
                (0..out.len()).find(same)
            };
            match found {
                Some(pos) => {
                    if e.own && own[pos] {
                        let warning = self.duplicate(self.raw(e.key).span, out[pos].0.span);
                        self.findings.push(warning);
                    }
                    out[pos].1 = value;
                }
                None => {
                    if large {
                        by_hash.entry(hash).or_default().push(out.len());
                    }
                    own.push(e.own);
                    out.push((key, value));
                }
            }
        }
        Ok(out)
    }

    /// The key of an entry, which Python must be able to hash.
    fn key(&mut self, e: Entry) -> Result<Node, Diagnostic> {
        let key = self.node(e.key)?;
        match key.kind {
            NodeKind::Seq(_) | NodeKind::Map(_) | NodeKind::Set(_) | NodeKind::Pairs(_) => {
                Err(unhashable(self.raw(e.key).span))
            }
            _ => Ok(key),
        }
    }

    /// The warning for a key given again at `at`, first given at `first`.
    #[cold]
    fn duplicate(&self, at: Span, first: Span) -> Diagnostic {
        let offset = crate::source::floor_char_boundary(self.text, first.start);
        let line = self.text[..offset].matches('\n').count() + 1;
        Diagnostic::warning(
            Code::YamlSyntax,
            "duplicate key: this value replaces an earlier one",
        )
        .with_span(at)
        .with_hint("PyYAML keeps only the last value of a repeated key: remove one of them")
        .with_note(format!("the key is first given on line {line}"))
    }

    /// A mapping's pairs with `<<` keys replaced by the pairs they merge: first those of
    /// every merge key in order (of a list of mappings, the later ones first, so the
    /// earlier win), then the mapping's own pairs, which win over all merged ones.
    fn flatten(&mut self, index: usize) -> Result<Vec<Entry>, Diagnostic> {
        let Body::Map(pairs) = &self.raw(index).body else {
            return Ok(Vec::new());
        };
        if self.merging[index] {
            return Err(err(
                self.raw(index).span,
                "this mapping merges itself through `<<`",
                "PyYAML fails on a merge cycle: merge a different mapping",
            ));
        }
        self.merging[index] = true;
        let mut merged = Vec::new();
        let mut own = Vec::with_capacity(pairs.len());
        for &[key, value] in pairs {
            match self.tag_of(key) {
                Ok(Tag::Merge) => {
                    let source = self.target(value);
                    match &self.raw(source).body {
                        Body::Map(_) => merged.extend(self.flatten(source)?),
                        Body::Seq(items) => {
                            let mut parts = Vec::with_capacity(items.len());
                            for &item in items {
                                let item = self.target(item);
                                if !matches!(self.raw(item).body, Body::Map(_)) {
                                    return Err(err(
                                        self.raw(item).span,
                                        format!(
                                            "`<<` merges mappings, but this is {}",
                                            what(&self.raw(item).body)
                                        ),
                                        "list only mappings (or aliases of mappings) after `<<`",
                                    ));
                                }
                                parts.push(self.flatten(item)?);
                            }
                            for part in parts.into_iter().rev() {
                                merged.extend(part);
                            }
                        }
                        other => {
                            return Err(err(
                                self.raw(source).span,
                                format!(
                                    "`<<` merges a mapping or a list of mappings, but this is {}",
                                    what(other)
                                ),
                                "give `<<` an alias of a mapping (`<<: *base`), or quote `\"<<\"` if it is \
                                 an ordinary key",
                            ));
                        }
                    }
                }
                tag => {
                    if tag == Ok(Tag::Value) {
                        // PyYAML retags the key node itself: an alias to it is `=` too.
                        let target = self.target(key);
                        self.str_keys[target] = true;
                    }
                    own.push(Entry {
                        key,
                        value,
                        own: true,
                    });
                }
            }
        }
        self.merging[index] = false;
        let span = self.raw(index).span;
        self.charge(merged.len(), span)?;
        for e in &mut merged {
            e.own = false;
        }
        merged.extend(own);
        Ok(merged)
    }

    /// `!!omap` and `!!pairs`: a list of one-pair mappings, read as (key, value) tuples.
    fn pairs(&mut self, index: usize, tag: Tag) -> Result<Vec<(Node, Node)>, Diagnostic> {
        let Body::Seq(items) = &self.raw(index).body else {
            return Err(self.shape(index, tag));
        };
        let mut out = Vec::with_capacity(items.len());
        for &item in items {
            let item = self.target(item);
            let raw = self.raw(item);
            let Body::Map(pair) = &raw.body else {
                return Err(self.shape(item, tag));
            };
            let &[[key, value]] = pair.as_slice() else {
                return Err(err(
                    raw.span,
                    format!("each entry of {} must be one `key: value` pair", tag.short()),
                    "write one `- key: value` per entry",
                ));
            };
            let key = self.node(key)?;
            let value = self.node(value)?;
            out.push((key, value));
        }
        Ok(out)
    }
}
