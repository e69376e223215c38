//! `--schema FILE`: validating cloud-config against a schema file instead of ctxgen's
//! model, typically cloud-init's own `schema-cloud-config-v1.json` from an image
//! (`/usr/lib/python3/dist-packages/cloudinit/config/schemas/`), a draft-04 schema
//! with cloud-init's extra annotation keywords, which are ignored here.
//!
//! Validation is the `jsonschema` crate's draft-04, over the document as JSON (what
//! PyYAML loaded, `!!binary` as text). It reports errors only: cloud-init's
//! `deprecated` annotations and its own `oneOf` error selection are the model's
//! business, so a document may be reported with fewer or other paths than
//! `cloud-init schema` prints, but with the same verdict on errors.
//!
//! Messages are built from the kind of error, never from the instance (which may be a
//! credential).

use std::fmt;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::cloud_config::validate::{Problem, ProblemKind, Seg, describe, key_text};
use crate::source::yaml11::{self, Node, NodeKind};

/// A compiled schema file.
pub struct ExternalSchema {
    /// Where it came from, for messages.
    pub name: String,
    validator: jsonschema::Validator,
}

impl fmt::Debug for ExternalSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalSchema")
            .field("name", &self.name)
            .finish()
    }
}

impl ExternalSchema {
    /// Compiles a schema given as JSON text. Errors say why, for the CLI to print.
    pub fn from_json(name: &str, text: &str) -> Result<ExternalSchema, String> {
        let schema: Value = serde_json::from_str(text).map_err(|e| format!("`{name}` is not JSON: {e}"))?;
        let validator = jsonschema::draft4::options()
            .should_validate_formats(false)
            .build(&schema)
            .map_err(|e| format!("`{name}` is not a usable draft-04 schema: {e}"))?;
        Ok(ExternalSchema {
            name: name.to_string(),
            validator,
        })
    }

    /// The errors of one document.
    pub fn validate(&self, root: &Node) -> Vec<Problem> {
        let instance = yaml11::to_json(root);
        let mut out = Vec::new();
        for error in self.validator.iter_errors(&instance) {
            let pointer = error.instance_path().as_str().to_string();
            let (path, node) = resolve(root, &pointer);
            let (message, key) = message(error.kind(), node);
            // An unexpected key is located at the key itself.
            let span = key.and_then(|k| key_node(node, &k)).map_or(node.span, |k| k.span);
            out.push(Problem {
                kind: ProblemKind::Error,
                path,
                message,
                span,
            });
        }
        out.sort_by_key(|p| p.span.start);
        out
    }
}

/// The node at a JSON pointer, with cloud-init's path to it (as far as it resolves).
fn resolve<'n>(root: &'n Node, pointer: &str) -> (Vec<Seg>, &'n Node) {
    let mut node = root;
    let mut path = Vec::new();
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        let next = match &node.kind {
            NodeKind::Seq(items) => seg
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i).map(|n| (Seg::Index(i), n))),
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| key_text(k) == seg)
                .map(|(_, v)| (Seg::Key(seg.clone()), v)),
            _ => None,
        };
        match next {
            Some((s, n)) => {
                path.push(s);
                node = n;
            }
            None => break,
        }
    }
    (path, node)
}

fn key_node<'n>(map: &'n Node, key: &str) -> Option<&'n Node> {
    match &map.kind {
        NodeKind::Map(entries) => entries.iter().map(|(k, _)| k).find(|k| key_text(k) == key),
        _ => None,
    }
}

fn message(kind: &ValidationErrorKind, node: &Node) -> (String, Option<String>) {
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let keys: Vec<String> = unexpected.iter().map(|k| format!("`{k}`")).collect();
            (
                format!("unknown key {}", keys.join(", ")),
                unexpected.first().cloned(),
            )
        }
        ValidationErrorKind::Required { property } => (
            format!("missing required key `{}`", property.as_str().unwrap_or("?")),
            None,
        ),
        ValidationErrorKind::Type { kind } => {
            let wanted = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or "),
            };
            (format!("expected {wanted}, found {}", describe(node)), None)
        }
        ValidationErrorKind::Enum { .. } => ("is not one of the values the schema allows".into(), None),
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => (
            format!(
                "{} does not match any of the forms the schema allows here",
                describe(node)
            ),
            None,
        ),
        ValidationErrorKind::OneOfMultipleValid { .. } => (
            "matches more than one of the forms the schema allows here, and must match exactly one".into(),
            None,
        ),
        other => (format!("fails the schema's `{}` rule", other.keyword()), None),
    }
}
