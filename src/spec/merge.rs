//! The structural merge behind roles and instances, and the text it is read from.
//!
//! A role's sections are merged into the top level's (and an instance's `vars` into
//! the result): mappings key by key, recursively; lists appended; any other value
//! replaced. The merged document is written out as one flow-style YAML text that the
//! spec parser reads like any spec, so a role's spec gets exactly the checks and the
//! messages of a spec written out by hand. A [`SpanMap`] records where each piece of
//! that text was written, so every span points into the user's files.
//!
//! Scalars: a plain scalar that YAML may read as something other than a string (`0644`,
//! `true`, `~`, `1.5e3`) is copied as written, so it reads back as in the user's file;
//! every other scalar is a string and is written double-quoted.

use std::sync::LazyLock;

use regex::Regex;

use crate::source::yaml11::{Node, NodeKind, ScalarStyle};
use crate::source::{Span, SpanMap};

/// Merges `over` into `base`: mappings key by key, lists appended, others replaced.
pub(super) fn merge(base: &mut Node, over: Node) {
    let Node { kind, span, scalar } = over;
    match (&mut base.kind, kind) {
        (NodeKind::Map(entries), NodeKind::Map(more)) => {
            for (key, value) in more {
                match entries.iter_mut().find(|(k, _)| same_key(k, &key)) {
                    Some((_, existing)) => merge(existing, value),
                    None => entries.push((key, value)),
                }
            }
        }
        (NodeKind::Seq(items), NodeKind::Seq(more)) => items.extend(more),
        (_, kind) => *base = Node { kind, span, scalar },
    }
}

/// Whether two mapping keys are the same key.
fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.scalar, &b.scalar) {
        (Some(a), Some(b)) => a.text == b.text,
        _ => a.kind == b.kind,
    }
}

/// The text of a scalar key, for looking sections up.
pub(super) fn key_text(key: &Node) -> Option<&str> {
    key.scalar.as_ref().map(|s| s.text.as_str())
}

/// A node for a string ctxgen was given outside YAML (a CSV cell), written at `span`.
pub(super) fn string_node(text: &str, span: Span) -> Node {
    Node {
        kind: NodeKind::Str(text.to_string()),
        span,
        scalar: Some(crate::source::yaml11::Scalar {
            text: text.to_string(),
            style: ScalarStyle::DoubleQuoted,
        }),
    }
}

/// A mapping node of `entries`, written at `span`.
pub(super) fn map_node(entries: Vec<(Node, Node)>, span: Span) -> Node {
    Node {
        kind: NodeKind::Map(entries),
        span,
        scalar: None,
    }
}

/// A document assembled by ctxgen and where its pieces came from.
pub(super) struct Assembled {
    pub text: String,
    pub map: SpanMap,
}

/// Writes `root` as flow-style YAML.
pub(super) fn assemble(root: &Node) -> Assembled {
    let mut out = Assembled {
        text: String::new(),
        map: SpanMap::default(),
    };
    write(root, &mut out);
    out.text.push('\n');
    out
}

/// Plain scalars YAML may read as something other than a string: numbers, booleans,
/// nulls, and words. Copied as written; anything else is written double-quoted.
static TYPED_PLAIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(~|[-+]?[A-Za-z0-9_.][A-Za-z0-9_.+-]*)$").expect("pattern is valid"));

fn write(node: &Node, out: &mut Assembled) {
    let start = out.text.len();
    let piece = out.map.open(start, node.span);
    match &node.kind {
        NodeKind::Map(entries) | NodeKind::Pairs(entries) => {
            out.text.push('{');
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.text.push_str(", ");
                }
                write(key, out);
                out.text.push_str(": ");
                write(value, out);
            }
            out.text.push('}');
        }
        NodeKind::Seq(items) | NodeKind::Set(items) => {
            out.text.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.text.push_str(", ");
                }
                write(item, out);
            }
            out.text.push(']');
        }
        _ => match &node.scalar {
            Some(s) if s.style == ScalarStyle::Plain && s.text.is_empty() => out.text.push('~'),
            Some(s) if s.style == ScalarStyle::Plain && TYPED_PLAIN.is_match(&s.text) => {
                out.text.push_str(&s.text);
            }
            Some(s) => out
                .text
                .push_str(&serde_json::Value::from(s.text.as_str()).to_string()),
            None => out.text.push('~'),
        },
    }
    out.map.close(piece, out.text.len());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Sources, yaml11};

    fn load(sources: &mut Sources, text: &str) -> Node {
        let id = sources.add("t.yaml", text);
        yaml11::load(sources, id).expect("loads").root
    }

    #[test]
    fn lists_append_maps_merge_scalars_replace() {
        let mut sources = Sources::new();
        let mut base = load(
            &mut sources,
            "a: [1, 2]\nm: { x: 1, y: [a] }\ns: old\nkeep: 0644\n",
        );
        let over = load(&mut sources, "a: [3]\nm: { y: [b], z: true }\ns: new\n");
        merge(&mut base, over);
        let text = assemble(&base).text;
        assert_eq!(
            text,
            "{a: [1, 2, 3], m: {x: 1, y: [a, b], z: true}, s: new, keep: 0644}\n"
        );
    }

    #[test]
    fn strings_that_are_not_plain_words_are_quoted() {
        let mut sources = Sources::new();
        let node = load(
            &mut sources,
            "a: 'yes'\nb: |\n  two\n  lines\nc: http://x/y, z\nd:\ne: a b\nf: -.inf\n",
        );
        assert_eq!(
            assemble(&node).text,
            "{a: \"yes\", b: \"two\\nlines\\n\", c: \"http://x/y, z\", d: ~, e: \"a b\", f: -.inf}\n"
        );
    }

    #[test]
    fn every_piece_points_where_it_was_written() {
        let mut sources = Sources::new();
        let text = "name: web\nlist: [a, \"b c\"]\n";
        let node = load(&mut sources, text);
        let assembled = assemble(&node);
        let at = |needle: &str| {
            let offset = assembled.text.find(needle).expect("in the assembled text");
            let span = assembled.map.origin(offset).expect("mapped");
            &text[span.start..span.end]
        };
        assert_eq!(at("web"), "web");
        assert_eq!(at("\"b c\""), "\"b c\"");
        assert_eq!(at("list"), "list");
        assert_eq!(at("[a"), "[a, \"b c\"]");
    }
}
