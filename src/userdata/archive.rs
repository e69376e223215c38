//! `#cloud-config-archive`: a YAML list whose entries cloud-init turns into parts
//! (`UserDataProcessor._explode_archive`), read with the project's PyYAML-compatible
//! loader so that every value has the type PyYAML gives it.
//!
//! cloud-init's rules, kept: the document must be a list (or a `!!set`, or empty: no
//! parts); a string entry is `{content: it}`; entries that are neither a string nor a
//! mapping are skipped; `content` defaults to empty text; without a (truthy) `type`,
//! the type comes from the content's start, defaulting to `text/cloud-config` (or
//! `application/octet-stream` for `!!binary` content); a `text/*` entry is stored as
//! text (binary content must then be UTF-8), any other as a payload that the `email`
//! package later turns back into bytes; `filename` is Python's `str()` of the value;
//! `launch-index` becomes a `Launch-Index` header; every other key becomes a header
//! except `content`, `filename`, `type`, `launch-index`, `content-disposition`,
//! `number-attachments` and `content-type` (any case). Entries are not read any
//! further: an `#include` or archive inside an archive is a part of that type.
//!
//! Where cloud-init's reader raises instead (a non-text content without a type, a type
//! that is not a string with a `/`, binary content that is not UTF-8 in a text type,
//! a key or header value that is not a string), the entry gives an error and no part.

use crate::source::Sources;
use crate::source::yaml11::{self, Node, NodeKind};

use super::codec::raw_unicode_escape;
use super::detect;
use super::mime::{decode_transfer, normalize_type};
use super::params::{param_collapsed, stored_filename};

/// One archive entry turned into a part.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// 1-based position in the archive.
    pub index: usize,
    /// The content type string the part gets.
    pub mime: String,
    pub body: Vec<u8>,
    /// The name stored with the part, when it has one (else cloud-init numbers it).
    pub filename: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The type came from the content's first line.
    pub detected: bool,
    /// The text was not ASCII and was stored under a type that is not `text/*`.
    pub mangled: bool,
    /// The content is neither text nor binary (under a type that is not `text/*`):
    /// cloud-init keeps the part with that value as its payload, `body` is empty.
    pub not_text: bool,
}

/// What became of one archive entry.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Part(Entry),
    /// Neither a string nor a mapping: skipped by cloud-init.
    Skipped(usize),
    /// cloud-init's reader raises here: the reason.
    Fails(usize, String),
}

/// Expands archive text `body`. `Err` holds why cloud-init would ignore the archive
/// (it logs a warning and produces no part).
pub(crate) fn expand(body: &[u8]) -> Result<Vec<Outcome>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the archive is not UTF-8 text".to_string())?;
    let mut sources = Sources::new();
    let id = sources.add("archive", text);
    let loaded = yaml11::load(&sources, id).map_err(|d| match d.span {
        Some(span) => {
            let (line, col) = sources.line_col(id, span.start);
            format!("line {line}, column {col}: {}", d.message)
        }
        None => d.message,
    })?;
    let entries = match loaded.root.kind {
        NodeKind::Null => return Ok(Vec::new()),
        NodeKind::Seq(items) | NodeKind::Set(items) => items,
        NodeKind::Pairs(pairs) => return Ok((1..=pairs.len()).map(Outcome::Skipped).collect()),
        _ => return Err("the archive is not a YAML list".to_string()),
    };
    Ok(entries
        .into_iter()
        .enumerate()
        .map(|(i, node)| entry(i + 1, node))
        .collect())
}

fn entry(index: usize, node: Node) -> Outcome {
    let pairs = match node.kind {
        NodeKind::Str(text) => vec![(
            str_node("content"),
            Node {
                kind: NodeKind::Str(text),
                ..node
            },
        )],
        NodeKind::Map(pairs) => pairs,
        _ => return Outcome::Skipped(index),
    };
    match build(index, &pairs) {
        Ok(entry) => Outcome::Part(entry),
        Err(reason) => Outcome::Fails(index, reason),
    }
}

fn str_node(text: &str) -> Node {
    Node {
        kind: NodeKind::Str(text.to_string()),
        span: crate::Span::default(),
        scalar: None,
    }
}

fn get<'a>(pairs: &'a [(Node, Node)], key: &str) -> Option<&'a NodeKind> {
    pairs
        .iter()
        .find(|(k, _)| matches!(&k.kind, NodeKind::Str(s) if s == key))
        .map(|(_, v)| &v.kind)
}

/// Keys that never become headers (compared in lower case).
const NOT_HEADERS: [&str; 7] = [
    "content",
    "filename",
    "type",
    "launch-index",
    "content-disposition",
    "number-attachments",
    "content-type",
];

fn build(index: usize, pairs: &[(Node, Node)]) -> Result<Entry, String> {
    let empty = NodeKind::Str(String::new());
    let content = get(pairs, "content").unwrap_or(&empty);
    let given_type = get(pairs, "type").filter(|t| truthy(t));
    let detected = given_type.is_none();
    let mtype = match given_type {
        Some(NodeKind::Str(t)) => t.clone(),
        Some(_) => return Err("`type` is not a string".into()),
        None => default_type(content)?,
    };
    let Some((main, sub)) = mtype.split_once('/') else {
        return Err(format!("type {mtype:?} has no `/`"));
    };
    let ctype_header = format!("{main}/{sub}");
    let mut headers = Vec::new();
    let mut mangled = false;
    let text_body = if main == "text" {
        let text = match content {
            NodeKind::Str(s) => s.clone(),
            NodeKind::Binary(b) => String::from_utf8(b.clone())
                .map_err(|_| "binary content of a text type is not UTF-8".to_string())?,
            _ => return Err("`content` of a text type is not a string".into()),
        };
        Some(text.into_bytes())
    } else {
        match content {
            NodeKind::Str(s) => {
                mangled = !s.is_ascii();
                Some(raw_unicode_escape(s))
            }
            NodeKind::Binary(b) => Some(b.clone()),
            _ => None,
        }
    };
    let filename = match get(pairs, "filename") {
        Some(value) => Some(stored_filename(&py_str(value))),
        None => param_collapsed(&ctype_header, "name"),
    };
    if let Some(value) = get(pairs, "launch-index") {
        headers.push(("Launch-Index".to_string(), py_str(value)));
    }
    let mut transfer = None;
    for (key, value) in pairs {
        let key = match &key.kind {
            NodeKind::Str(k) => k,
            NodeKind::Binary(_) => continue,
            _ => return Err("an entry key is not a string".into()),
        };
        if NOT_HEADERS.contains(&key.to_lowercase().as_str()) {
            continue;
        }
        let value = match &value.kind {
            NodeKind::Str(v) => v.clone(),
            NodeKind::Null => String::new(),
            _ => return Err(format!("header `{key}` is not a string")),
        };
        if key.eq_ignore_ascii_case("content-transfer-encoding") && transfer.is_none() {
            transfer = Some(value.to_lowercase());
        }
        headers.push((key.clone(), value));
    }
    let not_text = text_body.is_none();
    let mut body = text_body.unwrap_or_default();
    if main != "text" {
        // Only a non-text part lacks its own transfer encoding header, so only there
        // does a user-given one apply.
        if let Some(encoding) = transfer {
            body = decode_transfer(&encoding, body);
        }
    }
    let filename = filename.filter(|f| !f.is_empty());
    Ok(Entry {
        index,
        mime: normalize_type(&ctype_header),
        body,
        filename,
        headers,
        detected,
        mangled,
        not_text,
    })
}

/// The type cloud-init picks for an entry without one.
fn default_type(content: &NodeKind) -> Result<String, String> {
    let (bytes, fallback): (&[u8], _) = match content {
        NodeKind::Str(s) => (s.as_bytes(), "text/cloud-config"),
        NodeKind::Binary(b) => match std::str::from_utf8(b) {
            Ok(_) => (b.as_slice(), "application/octet-stream"),
            Err(_) => return Ok("application/octet-stream".into()),
        },
        _ => return Err("`content` is neither text nor binary and no `type` is given".into()),
    };
    Ok(detect(bytes)
        .map_or(fallback, |(kind, _)| kind.mime())
        .to_string())
}

/// Python's truth value of a YAML value.
fn truthy(kind: &NodeKind) -> bool {
    match kind {
        NodeKind::Null => false,
        NodeKind::Bool(b) => *b,
        NodeKind::Int(i) => *i != 0,
        NodeKind::Float(f) => *f != 0.0,
        NodeKind::Str(s) => !s.is_empty(),
        NodeKind::Binary(b) => !b.is_empty(),
        NodeKind::Seq(v) | NodeKind::Set(v) => !v.is_empty(),
        NodeKind::Map(v) | NodeKind::Pairs(v) => !v.is_empty(),
        NodeKind::BigInt(_) | NodeKind::Timestamp(_) => true,
    }
}

/// Python's `str()` of a YAML scalar. Collections and binary values (which nobody uses
/// as a file name) are rendered as JSON, not as Python's `repr`.
fn py_str(kind: &NodeKind) -> String {
    match kind {
        NodeKind::Null => "None".into(),
        NodeKind::Bool(true) => "True".into(),
        NodeKind::Bool(false) => "False".into(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::BigInt(digits) => digits.clone(),
        NodeKind::Float(f) => crate::source::yaml11::python_float_repr(*f),
        NodeKind::Str(s) => s.clone(),
        NodeKind::Timestamp(t) => t.to_string(),
        other => {
            let node = Node {
                kind: other.clone(),
                span: crate::Span::default(),
                scalar: None,
            };
            yaml11::to_json(&node).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        for (f, text) in [
            (1.0, "1.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (-2.5e-7, "-2.5e-07"),
            (123.456, "123.456"),
            (0.0, "0.0"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(crate::source::yaml11::python_float_repr(f), text);
        }
    }

    #[test]
    fn truth_follows_python() {
        assert!(!truthy(&NodeKind::Str(String::new())));
        assert!(!truthy(&NodeKind::Int(0)));
        assert!(truthy(&NodeKind::Str("text/plain".into())));
    }

    #[test]
    fn entries_that_make_cloud_init_raise() {
        let cases = [
            "- {content: 5}\n",
            "- {type: textplain, content: x}\n",
            "- {type: 5, content: x}\n",
            "- {content: x, X-Foo: 5}\n",
            "- {content: x, 5: y}\n",
            "- {type: text/plain, content: !!binary /w==}\n",
            "- {type: text/plain, content: null}\n",
        ];
        for case in cases {
            let got = expand(case.as_bytes()).expect("a list");
            assert!(
                matches!(got.as_slice(), [Outcome::Fails(1, _)]),
                "{case}: {got:?}"
            );
        }
    }
}
