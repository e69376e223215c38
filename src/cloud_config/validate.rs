//! Checking a loaded cloud-config document against the model, for one release, with
//! the rules cloud-init's own validator follows, so that the verdict (valid, valid with
//! deprecations, invalid) and the paths of the errors are the ones `cloud-init schema`
//! of that release prints.
//!
//! Input: the root [`Node`] of a document loaded by `source::yaml11`, the [`Model`], a
//! [`Release`]. Output: [`Problem`]s, each with cloud-init's dotted path (what its
//! messages and our JSON report show) and the span of the offending key or value.
//!
//! cloud-init validates with a draft-04 JSON Schema validator to which it adds three
//! behaviours, and they shape what is reported:
//!
//! - `deprecated` and `changed` annotations report a deprecation whenever a value is
//!   checked against the annotated part, and never make a value invalid;
//! - in `oneOf`/`anyOf`, deprecations count only from the first alternative that holds;
//! - when no alternative of a `oneOf` holds, 22.4 reports one error at the value, later
//!   releases report the deepest errors of all alternatives instead (and for an object
//!   with a `type` key, only the errors about that key or of the alternative that names
//!   its type); a failing `anyOf` also reports the most relevant error of its
//!   alternatives from 24.1 on.
//!
//! Messages are our own and never quote a value (it may be a credential): they name
//! the types, keys and allowed words involved.

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use serde_json::Value;

use super::Release;
use super::modules::Model;
use super::ty::{Array, Extra, Format, Kind, Life, Object, Prop, Str, Ty};
use crate::source::Span;
use crate::source::yaml11::{Node, NodeKind};

/// One finding of schema validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// cloud-init's path of the finding, element by element.
    pub path: Vec<Seg>,
    pub message: String,
    /// The value (or, for an unexpected key, the key) the finding is about.
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The document is invalid for this release.
    Error,
    /// Accepted, but deprecated (or changed in meaning) in this release.
    Deprecation,
}

/// One step of a path: a mapping key (as Python's `str()` prints it) or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl fmt::Display for Seg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seg::Key(k) => f.write_str(k),
            Seg::Index(i) => write!(f, "{i}"),
        }
    }
}

/// A path as cloud-init prints it: `write_files.0.permissions`.
pub fn dotted(path: &[Seg]) -> String {
    path.iter().map(ToString::to_string).collect::<Vec<_>>().join(".")
}

/// The behaviours of cloud-init's validator that changed between releases.
#[derive(Debug, Clone, Copy)]
struct Rules {
    /// Unknown top-level keys are errors (23.4 on).
    closed_top: bool,
    /// An unknown top-level key's error is named by the key rather than by the empty
    /// path of the document (24.3 on).
    top_key_path: bool,
    /// A failing `oneOf` reports the deepest errors of its alternatives, a failing
    /// `anyOf` its most relevant one as well (24.1 on).
    deepest: bool,
}

impl Rules {
    fn of(release: Release) -> Rules {
        Rules {
            closed_top: release >= Release::new(23, 4),
            top_key_path: release >= Release::new(24, 3),
            deepest: release >= Release::new(24, 1),
        }
    }
}

/// Validates `root` (a whole cloud-config document) for `release`.
pub fn validate(model: &Model, root: &Node, release: Release) -> Vec<Problem> {
    let mut v = Validator {
        model,
        release,
        rules: Rules::of(release),
    };
    let mut path = Vec::new();
    let mut out = v.top(root, &mut path);
    out.sort_by_key(|p| (p.span.start, p.kind as u8));
    out
}

/// Whether `node` is valid against `ty` in `release` (deprecations do not count).
pub fn is_valid(model: &Model, node: &Node, ty: &Ty, release: Release) -> bool {
    let mut v = Validator {
        model,
        release,
        rules: Rules::of(release),
    };
    !v.check(node, ty, &mut Vec::new())
        .iter()
        .any(|p| p.raw.kind == ProblemKind::Error)
}

/// A problem while it bubbles up, with what `oneOf` needs to pick the deepest ones.
#[derive(Debug, Clone)]
struct Raw {
    raw: Problem,
    /// For errors raised by an object's own keywords (required, unexpected keys):
    /// the allowed values of that object's `type` key, if it names them.
    origin_type_values: Option<Vec<Value>>,
    /// Raised by a `oneOf`/`anyOf` itself (weak in jsonschema's relevance order).
    weak: bool,
}

struct Validator<'m> {
    model: &'m Model,
    release: Release,
    rules: Rules,
}

type Out = Vec<Raw>;

impl Validator<'_> {
    fn err(&self, out: &mut Out, path: &[Seg], span: Span, message: String) {
        out.push(Raw {
            raw: Problem {
                kind: ProblemKind::Error,
                path: path.to_vec(),
                message,
                span,
            },
            origin_type_values: None,
            weak: false,
        });
    }

    fn top(&mut self, root: &Node, path: &mut Vec<Seg>) -> Vec<Problem> {
        let mut out = Out::new();
        let NodeKind::Map(entries) = &root.kind else {
            self.err(
                &mut out,
                path,
                root.span,
                format!(
                    "a cloud-config document must be a mapping of keys, not {}",
                    describe(root)
                ),
            );
            return out.into_iter().map(|r| r.raw).collect();
        };
        let mut unknown = Vec::new();
        for (key, value) in entries {
            let name = key_text(key);
            let props: Vec<&Prop> = match &key.kind {
                NodeKind::Str(s) => self
                    .model
                    .top_level(s)
                    .filter(|p| p.life.exists_in(self.release))
                    .collect(),
                _ => Vec::new(),
            };
            if props.is_empty() {
                unknown.push((name, key.span));
                continue;
            }
            path.push(Seg::Key(name));
            for prop in props {
                self.prop(value, prop, path, &mut out);
            }
            path.pop();
        }
        if self.rules.closed_top {
            // cloud-init reports all unknown keys in one error at the document; from
            // 24.3 a single unknown key is named by its own path instead.
            let single = unknown.len() == 1 && self.rules.top_key_path;
            for (name, span) in &unknown {
                let p = if single {
                    vec![Seg::Key(name.clone())]
                } else {
                    Vec::new()
                };
                let msg = self.unknown_key_message(name, None);
                self.err(&mut out, &p, *span, msg);
            }
        }
        out.into_iter().map(|r| r.raw).collect()
    }

    fn unknown_key_message(&self, name: &str, known: Option<&Object>) -> String {
        let candidates: Vec<&str> = match known {
            Some(o) => o
                .props
                .iter()
                .filter(|p| p.life.exists_in(self.release))
                .map(|p| p.name)
                .collect(),
            None => self
                .model
                .top_level_names()
                .filter(|n| self.model.top_level(n).any(|p| p.life.exists_in(self.release)))
                .collect(),
        };
        let mut msg = format!("unknown key `{name}`");
        if let Some(best) = crate::source::did_you_mean(name, candidates.iter().copied()) {
            msg.push_str(&format!("; did you mean `{best}`?"));
        } else if known.is_none() {
            msg.push_str(&format!(
                " (cloud-init {} has no module that reads it)",
                self.release
            ));
        }
        msg
    }

    /// A present key: its own version facts, then its type.
    fn prop(&mut self, node: &Node, prop: &Prop, path: &mut Vec<Seg>, out: &mut Out) {
        self.life_notes(&prop.life, node, path, out);
        let errs = self.check(node, &prop.ty, path);
        out.extend(errs);
    }

    fn life_notes(&self, life: &Life, node: &Node, path: &[Seg], out: &mut Out) {
        if let Some(d) = life.deprecated_in(self.release) {
            out.push(note(
                path,
                node.span,
                format!("deprecated in cloud-init {}. {}", d.since, d.note),
            ));
        }
        if let Some(c) = life.changed_in(self.release) {
            out.push(note(
                path,
                node.span,
                format!("changed in cloud-init {}. {}", c.since, c.note),
            ));
        }
    }

    /// All problems of `node` against `ty`, at `path`.
    fn check(&mut self, node: &Node, ty: &Ty, path: &mut Vec<Seg>) -> Out {
        let mut out = Out::new();
        match ty {
            Ty::Any => {}
            Ty::Null
            | Ty::Bool
            | Ty::Int { .. }
            | Ty::Num { .. }
            | Ty::Str(_)
            | Ty::Array(_)
            | Ty::Object(_) => self.typed(node, ty, path, &mut out),
            Ty::Enum(values) => {
                if !values.iter().any(|v| equals_value(node, v)) {
                    self.err(&mut out, path, node.span, not_one_of(values));
                }
            }
            Ty::Union(members) => match members
                .iter()
                .find(|m| m.kind().is_some_and(|k| is_kind(node, k)))
            {
                Some(member) => self.typed(node, member, path, &mut out),
                None => {
                    let kinds: Vec<Kind> = members.iter().filter_map(Ty::kind).collect();
                    self.err(&mut out, path, node.span, type_message(node, &kinds));
                }
            },
            Ty::OneOf(alts) => self.one_of(node, alts, path, &mut out),
            Ty::AnyOf(alts) => self.any_of(node, alts, path, &mut out),
            Ty::AllOf(parts) => {
                for part in parts {
                    let errs = self.check(node, part, path);
                    out.extend(errs);
                }
            }
            Ty::Not(inner) => {
                if self.holds(node, inner, path) {
                    self.err(
                        &mut out,
                        path,
                        node.span,
                        "this value is not allowed here".to_string(),
                    );
                }
            }
            Ty::Requires(keys) => {
                if let NodeKind::Map(entries) = &node.kind {
                    for k in keys {
                        if !has_key(entries, k) {
                            self.err(&mut out, path, node.span, format!("missing required key `{k}`"));
                        }
                    }
                }
            }
            Ty::Ref(name) => {
                let model = self.model;
                match model.def(name) {
                    Some(def) => return self.check(node, def, path),
                    None => self.err(
                        &mut out,
                        path,
                        node.span,
                        format!("internal: unknown definition `{name}`"),
                    ),
                }
            }
            Ty::Life(inner, life) => {
                if life.exists_in(self.release) {
                    self.life_notes(life, node, path, &mut out);
                    out.extend(self.check(node, inner, path));
                } else {
                    let when = match (life.added, life.removed) {
                        (Some(a), _) if a > self.release => format!("only from cloud-init {a} on"),
                        (_, Some(r)) => format!("only before cloud-init {r}"),
                        _ => "not in this release".to_string(),
                    };
                    self.err(
                        &mut out,
                        path,
                        node.span,
                        format!("this form of value is accepted {when}"),
                    );
                }
            }
            Ty::Since(steps) => {
                if let Some(ty) = Ty::step_for(steps, self.release) {
                    return self.check(node, ty, path);
                }
            }
        }
        out
    }

    /// Whether `node` satisfies `ty` (errors only; deprecations do not count).
    fn holds(&mut self, node: &Node, ty: &Ty, path: &mut Vec<Seg>) -> bool {
        !self
            .check(node, ty, path)
            .iter()
            .any(|p| p.raw.kind == ProblemKind::Error)
    }

    fn one_of(&mut self, node: &Node, alts: &[Ty], path: &mut Vec<Seg>, out: &mut Out) {
        let mut all_errors = Vec::new();
        let mut first_valid = None;
        for (i, alt) in alts.iter().enumerate() {
            let res = self.check(node, alt, path);
            let (errs, notes): (Vec<_>, Vec<_>) =
                res.into_iter().partition(|p| p.raw.kind == ProblemKind::Error);
            if errs.is_empty() {
                first_valid = Some((i, notes));
                break;
            }
            all_errors.extend(errs);
        }
        let Some((i, notes)) = first_valid else {
            if self.rules.deepest {
                out.extend(deepest(all_errors, node, path.len()));
            } else {
                self.err(out, path, node.span, self.none_matched(node));
                if let Some(last) = out.last_mut() {
                    last.weak = true;
                }
            }
            return;
        };
        let also = alts[i + 1..].iter().any(|alt| self.holds(node, alt, path));
        if also {
            self.err(
                out,
                path,
                node.span,
                "this value matches more than one of the forms allowed here, and must match exactly one"
                    .into(),
            );
        } else {
            out.extend(notes);
        }
    }

    fn any_of(&mut self, node: &Node, alts: &[Ty], path: &mut Vec<Seg>, out: &mut Out) {
        let mut all_errors = Vec::new();
        for alt in alts {
            let res = self.check(node, alt, path);
            let (errs, notes): (Vec<_>, Vec<_>) =
                res.into_iter().partition(|p| p.raw.kind == ProblemKind::Error);
            if errs.is_empty() {
                out.extend(notes);
                return;
            }
            all_errors.extend(errs);
        }
        if self.rules.deepest
            && let Some(best) = best_match(all_errors, path.len())
        {
            out.push(best);
        }
        self.err(out, path, node.span, self.none_matched(node));
        if let Some(last) = out.last_mut() {
            last.weak = true;
        }
    }

    fn none_matched(&self, node: &Node) -> String {
        format!("{} does not match any of the forms allowed here", describe(node))
    }

    /// A type-bearing variant: the kind first; constraints only when the kind holds.
    fn typed(&mut self, node: &Node, ty: &Ty, path: &mut Vec<Seg>, out: &mut Out) {
        let Some(kind) = ty.kind() else { return };
        if !is_kind(node, kind) {
            self.err(out, path, node.span, type_message(node, &[kind]));
            // jsonschema still applies keywords that ignore the type: an enum beside a
            // type reports too.
            if let Ty::Str(s) = ty
                && let Some(values) = &s.one_of
            {
                let values: Vec<Value> = values.iter().map(|v| Value::from(*v)).collect();
                if !values.iter().any(|v| equals_value(node, v)) {
                    self.err(out, path, node.span, not_one_of(&values));
                }
            }
            return;
        }
        match ty {
            Ty::Int { min, max } => {
                self.bounds(node, min.map(|m| m as f64), max.map(|m| m as f64), path, out)
            }
            Ty::Num { min } => self.bounds(node, *min, None, path, out),
            Ty::Str(s) => self.string(node, s, path, out),
            Ty::Array(a) => self.array(node, a, path, out),
            Ty::Object(o) => self.object(node, o, path, out),
            Ty::Life(inner, _) => self.typed(node, inner, path, out),
            _ => {}
        }
    }

    fn bounds(&self, node: &Node, min: Option<f64>, max: Option<f64>, path: &[Seg], out: &mut Out) {
        let Some(x) = as_f64(node) else { return };
        if let Some(m) = min
            && x < m
        {
            self.err(out, path, node.span, format!("must be at least {}", fmt_num(m)));
        }
        if let Some(m) = max
            && x > m
        {
            self.err(out, path, node.span, format!("must be at most {}", fmt_num(m)));
        }
    }

    fn string(&self, node: &Node, s: &Str, path: &[Seg], out: &mut Out) {
        let text = match &node.kind {
            NodeKind::Str(t) => t.as_str(),
            // `!!binary` bytes count as a string for the type, but cloud-init's other
            // string keywords skip non-`str` values.
            _ => return,
        };
        let chars = text.chars().count();
        if let Some(min) = s.min_len
            && chars < min
        {
            let msg = if min == 1 {
                "must not be empty".to_string()
            } else {
                format!("must be at least {min} characters long")
            };
            self.err(out, path, node.span, msg);
        }
        if let Some(max) = s.max_len
            && chars > max
        {
            self.err(
                out,
                path,
                node.span,
                format!("must be at most {max} characters long"),
            );
        }
        if let Some(p) = s.pattern
            && !regex(p).is_match(text)
        {
            self.err(out, path, node.span, format!("does not match the pattern `{p}`"));
        }
        if let Some(values) = &s.one_of
            && !values.contains(&text)
        {
            let values: Vec<Value> = values.iter().map(|v| Value::from(*v)).collect();
            self.err(out, path, node.span, not_one_of(&values));
        }
        if s.format == Some(Format::Date) && !is_iso_date(text) {
            self.err(out, path, node.span, "is not a date (YYYY-MM-DD)".to_string());
        }
    }

    fn array(&mut self, node: &Node, a: &Array, path: &mut Vec<Seg>, out: &mut Out) {
        let items: Vec<&Node> = match &node.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            // `!!omap`/`!!pairs` load as a list of 2-tuples; ctxgen has no node for a
            // tuple, so their items are not checked further.
            _ => return,
        };
        if let Some(min) = a.min_items
            && items.len() < min
        {
            let msg = if min == 1 {
                "must not be empty".to_string()
            } else {
                format!("must have at least {min} items")
            };
            self.err(out, path, node.span, msg);
        }
        if let Some(max) = a.max_items
            && items.len() > max
        {
            self.err(out, path, node.span, format!("must have at most {max} items"));
        }
        if a.unique && has_duplicates(&items) {
            self.err(
                out,
                path,
                node.span,
                "has repeated items; each must be unique".to_string(),
            );
        }
        for (i, item) in items.iter().enumerate() {
            let ty = if a.prefix.is_empty() {
                a.items.as_ref()
            } else if i < a.prefix.len() {
                Some(&a.prefix[i])
            } else if a.extra_items {
                a.items.as_ref()
            } else {
                None
            };
            if let Some(ty) = ty {
                path.push(Seg::Index(i));
                let errs = self.check(item, ty, path);
                out.extend(errs);
                path.pop();
            }
        }
        if !a.prefix.is_empty() && !a.extra_items && items.len() > a.prefix.len() {
            self.err(
                out,
                path,
                node.span,
                format!("must have at most {} items", a.prefix.len()),
            );
        }
    }

    fn object(&mut self, node: &Node, o: &Object, path: &mut Vec<Seg>, out: &mut Out) {
        let NodeKind::Map(entries) = &node.kind else {
            return;
        };
        let origin = type_values(o);
        let mut own = Out::new();
        for (key, value) in entries {
            let name = key_text(key);
            let prop = match &key.kind {
                NodeKind::Str(s) => o
                    .props
                    .iter()
                    .find(|p| p.name == s && p.life.exists_in(self.release)),
                _ => None,
            };
            let patterns: Vec<&Ty> = match &key.kind {
                NodeKind::Str(s) => o
                    .patterns
                    .iter()
                    .filter(|(p, _)| regex(p).is_match(s))
                    .map(|(_, t)| t)
                    .collect(),
                _ => Vec::new(),
            };
            path.push(Seg::Key(name.clone()));
            if let Some(prop) = prop {
                self.prop(value, prop, path, out);
            }
            for ty in &patterns {
                let errs = self.check(value, ty, path);
                out.extend(errs);
            }
            if prop.is_none() && patterns.is_empty() {
                match &o.extra {
                    Extra::Allow => {}
                    Extra::Ty(ty) => {
                        let errs = self.check(value, ty, path);
                        out.extend(errs);
                    }
                    Extra::Deny => {
                        path.pop();
                        let msg = self.unknown_key_message(&name, Some(o));
                        self.err(&mut own, path, key.span, msg);
                        continue;
                    }
                }
            }
            path.pop();
        }
        for r in &o.required {
            if !has_key(entries, r) {
                self.err(&mut own, path, node.span, format!("missing required key `{r}`"));
            }
        }
        if let Some(min) = o.min_props
            && entries.len() < min
        {
            self.err(
                &mut own,
                path,
                node.span,
                format!("must have at least {min} keys"),
            );
        }
        for mut e in own {
            e.origin_type_values = origin.clone();
            out.push(e);
        }
    }
}

fn note(path: &[Seg], span: Span, message: String) -> Raw {
    Raw {
        raw: Problem {
            kind: ProblemKind::Deprecation,
            path: path.to_vec(),
            message,
            span,
        },
        origin_type_values: None,
        weak: false,
    }
}

/// The values an object's `type` key may take, when the object names them (the hint
/// cloud-init's `oneOf` uses to pick the alternative meant).
fn type_values(o: &Object) -> Option<Vec<Value>> {
    let prop = o.props.iter().find(|p| p.name == "type")?;
    match &prop.ty {
        Ty::Enum(values) => Some(values.clone()),
        Ty::Str(s) => s
            .one_of
            .as_ref()
            .map(|v| v.iter().map(|s| Value::from(*s)).collect()),
        _ => None,
    }
}

/// cloud-init's choice among the errors of a failing `oneOf` (24.1 on).
fn deepest(errors: Vec<Raw>, node: &Node, base: usize) -> Vec<Raw> {
    let type_key = match &node.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .find(|(k, _)| matches!(&k.kind, NodeKind::Str(s) if s == "type"))
            .map(|(_, v)| v),
        _ => None,
    };
    let mut best = Vec::new();
    let mut depth = 0;
    for e in errors {
        let rel = &e.raw.path[base.min(e.raw.path.len())..];
        if let Some(type_value) = type_key {
            if e.origin_type_values
                .as_ref()
                .is_some_and(|vals| vals.iter().any(|v| equals_value(type_value, v)))
            {
                return vec![e];
            }
            if matches!(rel.last(), Some(Seg::Key(k)) if k.ends_with("type")) {
                best.push(e);
            }
        } else if rel.len() == depth {
            best.push(e);
        } else if rel.len() > depth {
            depth = rel.len();
            best = vec![e];
        }
    }
    best
}

/// jsonschema's `best_match`: the shallowest error, preferring ones not raised by an
/// alternative itself. (ctxgen does not descend into an error's own alternatives.)
fn best_match(errors: Vec<Raw>, base: usize) -> Option<Raw> {
    let key = |e: &Raw| (std::cmp::Reverse(e.raw.path.len().saturating_sub(base)), !e.weak);
    let mut best: Option<Raw> = None;
    for e in errors {
        // `max` keeps the first of equals, like Python's `max`.
        if best.as_ref().is_none_or(|b| key(&e) > key(b)) {
            best = Some(e);
        }
    }
    best
}

fn has_key(entries: &[(Node, Node)], name: &str) -> bool {
    entries
        .iter()
        .any(|(k, _)| matches!(&k.kind, NodeKind::Str(s) if s == name))
}

/// A mapping key as Python's `str()` prints it.
pub fn key_text(key: &Node) -> String {
    match &key.kind {
        NodeKind::Str(s) => s.clone(),
        NodeKind::Null => "None".into(),
        NodeKind::Bool(true) => "True".into(),
        NodeKind::Bool(false) => "False".into(),
        NodeKind::Int(i) => i.to_string(),
        NodeKind::BigInt(s) => s.clone(),
        NodeKind::Float(f) => crate::source::yaml11::python_float_repr(*f),
        _ => key.scalar.as_ref().map(|s| s.text.clone()).unwrap_or_default(),
    }
}

fn is_kind(node: &Node, kind: Kind) -> bool {
    matches!(
        (kind, &node.kind),
        (Kind::Null, NodeKind::Null)
            | (Kind::Boolean, NodeKind::Bool(_))
            | (Kind::Integer, NodeKind::Int(_) | NodeKind::BigInt(_))
            | (
                Kind::Number,
                NodeKind::Int(_) | NodeKind::BigInt(_) | NodeKind::Float(_)
            )
            | (Kind::String, NodeKind::Str(_) | NodeKind::Binary(_))
            | (Kind::Array, NodeKind::Seq(_) | NodeKind::Pairs(_))
            | (Kind::Object, NodeKind::Map(_))
    )
}

/// What a node is, in words, for messages.
pub fn describe(node: &Node) -> &'static str {
    match &node.kind {
        NodeKind::Null => "an empty value (null)",
        NodeKind::Bool(_) => "a boolean",
        NodeKind::Int(_) | NodeKind::BigInt(_) => "an integer",
        NodeKind::Float(_) => "a number",
        NodeKind::Str(_) => "a string",
        NodeKind::Binary(_) => "binary data",
        NodeKind::Seq(_) | NodeKind::Pairs(_) => "a list",
        NodeKind::Map(_) => "a mapping",
        NodeKind::Set(_) => "a set",
        NodeKind::Timestamp(t) if t.time.is_none() => "a date",
        NodeKind::Timestamp(_) => "a timestamp",
    }
}

fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "null",
        Kind::Boolean => "a boolean",
        Kind::Integer => "an integer",
        Kind::Number => "a number",
        Kind::String => "a string",
        Kind::Array => "a list",
        Kind::Object => "a mapping",
    }
}

fn type_message(node: &Node, kinds: &[Kind]) -> String {
    let wanted: Vec<&str> = kinds.iter().map(|k| kind_words(*k)).collect();
    let wanted = match wanted.as_slice() {
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => "something else".to_string(),
    };
    format!("expected {wanted}, found {}", describe(node))
}

fn not_one_of(values: &[Value]) -> String {
    let shown: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("must be one of {}", shown.join(", "))
}

fn as_f64(node: &Node) -> Option<f64> {
    match &node.kind {
        NodeKind::Int(i) => Some(*i as f64),
        NodeKind::BigInt(s) => s.parse().ok(),
        NodeKind::Float(f) => Some(*f),
        _ => None,
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// Python equality between a loaded value and a JSON literal, with jsonschema's rule
/// that booleans never equal numbers.
fn equals_value(node: &Node, v: &Value) -> bool {
    match (&node.kind, v) {
        (NodeKind::Null, Value::Null) => true,
        (NodeKind::Bool(a), Value::Bool(b)) => a == b,
        (NodeKind::Int(_) | NodeKind::BigInt(_) | NodeKind::Float(_), Value::Number(n)) => {
            match (&node.kind, n.as_i64()) {
                (NodeKind::Int(a), Some(b)) => *a == b as i128,
                _ => as_f64(node).is_some_and(|a| n.as_f64().is_some_and(|b| a == b)),
            }
        }
        (NodeKind::Str(a), Value::String(b)) => a == b,
        (NodeKind::Seq(items), Value::Array(vs)) => {
            items.len() == vs.len() && items.iter().zip(vs).all(|(i, v)| equals_value(i, v))
        }
        (NodeKind::Map(entries), Value::Object(m)) => {
            entries.len() == m.len()
                && entries.iter().all(|(k, val)| match &k.kind {
                    NodeKind::Str(k) => m.get(k).is_some_and(|v| equals_value(val, v)),
                    _ => false,
                })
        }
        _ => false,
    }
}

/// Python equality between two loaded values (bools apart from numbers), for
/// `uniqueItems`.
fn equals_node(a: &Node, b: &Node) -> bool {
    use NodeKind as K;
    match (&a.kind, &b.kind) {
        (K::Null, K::Null) => true,
        (K::Bool(x), K::Bool(y)) => x == y,
        (K::Int(x), K::Int(y)) => x == y,
        (K::Int(_) | K::BigInt(_) | K::Float(_), K::Int(_) | K::BigInt(_) | K::Float(_)) => {
            matches!((&a.kind, &b.kind), (K::BigInt(x), K::BigInt(y)) if x == y)
                || (as_f64(a).is_some_and(|x| as_f64(b) == Some(x))
                    && !matches!((&a.kind, &b.kind), (K::BigInt(_), _) | (_, K::BigInt(_))))
        }
        (K::Str(x), K::Str(y)) => x == y,
        (K::Binary(x), K::Binary(y)) => x == y,
        (K::Timestamp(x), K::Timestamp(y)) => x == y,
        (K::Seq(x), K::Seq(y)) | (K::Set(x), K::Set(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equals_node(p, q))
        }
        (K::Map(x), K::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| equals_node(k, k2) && equals_node(v, v2)))
        }
        _ => false,
    }
}

fn has_duplicates(items: &[&Node]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, a)| items[i + 1..].iter().any(|b| equals_node(a, b)))
}

/// `datetime.date.fromisoformat` of Python 3.11 (what jsonschema's `date` format uses):
/// `YYYY-MM-DD`, `YYYYMMDD`, and ISO week dates `YYYY-Www-D` / `YYYYWwwD`.
fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r.clone()).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    let is_leap =
        |year: u32| year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let calendar = |year: u32, month: u32, day: u32| {
        let leap = is_leap(year);
        let last = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        year >= 1 && (1..=last).contains(&day)
    };
    let week = |year: u32, w: u32, d: u32| {
        // A year has 53 ISO weeks when it starts on a Thursday, or is a leap year
        // starting on a Wednesday.
        let y = year as i64 - 1;
        let jan1 = (1 + 5 * (y % 4) + 4 * (y % 100) + 6 * (y % 400)) % 7; // 0 = Sunday
        let leap = is_leap(year);
        let weeks = if jan1 == 4 || (leap && jan1 == 3) { 53 } else { 52 };
        year >= 1 && (1..=weeks).contains(&w) && (1..=7).contains(&d)
    };
    match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10) => {
            calendar(num(0..4), num(5..7), num(8..10))
        }
        8 if digits(0..8) => calendar(num(0..4), num(4..6), num(6..8)),
        10 if b[4] == b'-'
            && b[5] == b'W'
            && b[8] == b'-'
            && digits(0..4)
            && digits(6..8)
            && digits(9..10) =>
        {
            week(num(0..4), num(6..8), num(9..10))
        }
        8 if b[4] == b'W' && digits(0..4) && digits(5..8) => week(num(0..4), num(5..7), num(7..8)),
        _ => false,
    }
}

/// Compiled patterns of the model, compiled once each, with Python's meaning of `$`.
fn regex(pattern: &'static str) -> Regex {
    static CACHE: LazyLock<Mutex<HashMap<&'static str, Regex>>> = LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| Regex::new(&python_dollar(pattern)).expect("model patterns are valid (tested)"))
        .clone()
}

/// Python's `re` lets `$` match before a final newline too (`"2G\n"` matches `^2G$`);
/// Rust's `$` is the very end only. Rewrites each `$` outside escapes and classes.
fn python_dollar(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let (mut escaped, mut class) = (false, false);
    for c in pattern.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                out.push(c);
            }
            '\\' => {
                escaped = true;
                out.push(c);
            }
            '[' => {
                class = true;
                out.push(c);
            }
            ']' => {
                class = false;
                out.push(c);
            }
            '$' if !class => out.push_str("(?:\\n?\\z)"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud_config::ty::*;
    use crate::source::{Sources, yaml11};

    fn mini() -> Model {
        let file = obj([
            prop("path", string(), "where"),
            prop("permissions", string(), "mode"),
            prop("encoding", str_enum(["b64", "gz+b64"]), "enc"),
        ])
        .closed()
        .required(["path"]);
        Model::new(
            [module(
                "cc_test",
                "Test",
                [
                    prop("write_files", array(def("file")).min_items(1), "files"),
                    prop("apt_update", boolean(), "old").deprecated("22.2", "Use `package_update` instead."),
                    prop(
                        "groups",
                        one_of([string(), array(one_of([string(), map_of(array(string()))]))]),
                        "g",
                    ),
                    prop("newer", boolean(), "new").added("25.1"),
                ],
            )],
            [("file", file)],
        )
    }

    fn run(yaml: &str, release: &str) -> Vec<(ProblemKind, String)> {
        let mut sources = Sources::new();
        let id = sources.add("t.yaml", yaml);
        let root = yaml11::load(&sources, id).expect("yaml").root;
        validate(&mini(), &root, Release::parse(release).expect("release"))
            .into_iter()
            .map(|p| (p.kind, dotted(&p.path)))
            .collect()
    }

    #[test]
    fn paths_and_kinds_follow_cloud_init() {
        use ProblemKind::{Deprecation as D, Error as E};
        let doc = "write_files: [{path: /a, permissions: 0644, mode: x}]\napt_update: true\nbogus: 1\n";
        assert_eq!(
            run(doc, "26.2"),
            [
                (E, "write_files.0.permissions".to_string()),
                (E, "write_files.0".to_string()),
                (D, "apt_update".to_string()),
                (E, "bogus".to_string()),
            ]
        );
        // 22.4 accepts unknown top-level keys; 23.4 names them by the empty path.
        assert_eq!(run("bogus: 1\n", "22.4"), []);
        assert_eq!(run("bogus: 1\n", "23.4"), [(E, String::new())]);
        assert_eq!(run("newer: true\n", "24.1"), [(E, String::new())]);
        assert_eq!(run("newer: true\n", "25.1"), []);
    }

    #[test]
    fn one_of_reports_at_the_value_or_the_deepest_errors() {
        use ProblemKind::Error as E;
        let doc = "groups: [{admins: [1]}]\n";
        assert_eq!(run(doc, "22.4"), [(E, "groups".to_string())]);
        assert_eq!(run(doc, "26.2"), [(E, "groups.0.admins.0".to_string())]);
        assert_eq!(run("groups: [a, {b: [c]}]\n", "26.2"), []);
    }

    #[test]
    fn dollar_matches_as_in_python() {
        assert!(regex("^2G$").is_match("2G\n"));
        assert!(!regex("^2G$").is_match("2G\n\n"));
        assert_eq!(python_dollar(r"^[$]\$x$"), r"^[$]\$x(?:\n?\z)");
    }

    #[test]
    fn iso_dates_as_python_reads_them() {
        for ok in ["2024-02-29", "20240229", "2020-W53-7", "2021W011"] {
            assert!(is_iso_date(ok), "{ok}");
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "x",
            "2021-W53-1",
            "0000-01-01",
            "",
        ] {
            assert!(!is_iso_date(bad), "{bad}");
        }
    }
}
