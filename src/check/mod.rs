//! Stage `check`: one user-data input (or ctxgen spec) in, located findings out, as
//! cloud-init of one release would judge it, plus lint.
//!
//! Input: the bytes of one file and [`Options`]. The bytes go through `userdata` (gzip,
//! base64, MIME, archives, first-line detection, exactly as cloud-init splits them);
//! each cloud-config part is loaded with `source::yaml11` (PyYAML's YAML 1.1) and
//! validated against the hand-written model (`cloud_config::validate`); `## template:
//! jinja` parts are rendered against a stub instance-data (or the one given) first;
//! scripts and other parts go to lint only; a ctxgen spec is compiled as `build`
//! would. Then the lint rules run. Output: a [`Report`] holding the texts its spans
//! point into and the [`Finding`]s, each with a category (`syntax`, `schema`,
//! `deprecation`, `lint`) and cloud-init's dotted path.
//!
//! Nothing here prints, reads the environment or touches files other than a spec's
//! own local files (through `build`).

pub mod external;
mod jinja;
pub mod report;

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::cloud_config::Release;
use crate::cloud_config::modules::model;
use crate::cloud_config::validate::{self, Problem, ProblemKind, dotted};
use crate::diag::{Code, Diagnostic, Diagnostics, Severity};
use crate::lint::{self, PartInfo};
use crate::source::yaml11::{self, Node, NodeKind, ScalarStyle};
use crate::source::{FileId, Sources, Span};
use crate::spec::Provider;
use crate::userdata::{self, ContentType, Layer, Part};

/// How to check.
#[derive(Debug, Clone)]
pub struct Options {
    /// The cloud-init release to judge by.
    pub release: Release,
    /// The provider whose size budget applies (`--provider`).
    pub provider: Option<Provider>,
    /// Instance data for `## template: jinja` parts; `None`: a stub.
    pub instance_data: Option<Value>,
    /// Lint severities by rule code, overriding the rules' defaults.
    pub levels: HashMap<&'static str, Level>,
    /// Validate cloud-config against this schema file instead of ctxgen's model
    /// (`--schema FILE`).
    pub schema: Option<std::sync::Arc<external::ExternalSchema>>,
    /// Where a spec's relative local paths start when the input has no folder of its
    /// own (standard input).
    pub base_dir: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            release: Release::NEWEST,
            provider: None,
            instance_data: None,
            levels: HashMap::new(),
            schema: None,
            base_dir: PathBuf::from("."),
        }
    }
}

/// A configured lint severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    Warning,
    Error,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The text cannot be read as intended (YAML, MIME, gzip, template, encoding).
    Syntax,
    /// cloud-init's schema rejects a value (or a spec is invalid).
    Schema,
    /// cloud-init accepts it but reports it as deprecated.
    Deprecation,
    /// A lint rule: security or correctness beyond the schema.
    Lint,
}

/// One finding, located.
#[derive(Debug, Clone)]
pub struct Finding {
    pub diag: Diagnostic,
    pub category: Category,
    /// cloud-init's dotted path (`write_files.0.permissions`); empty when the finding
    /// is about a whole document or part.
    pub path: String,
    /// The part it is in, for multipart inputs: `part 2 (setup.sh)`.
    pub part: Option<String>,
}

/// The findings of one input, with the texts their spans point into.
#[derive(Debug)]
pub struct Report {
    /// The input's name as given (a path, or `<stdin>`).
    pub name: String,
    /// What the input is: `cloud-config`, `multipart`, `gzip+cloud-config`, `spec`,
    /// `script`, ...
    pub kind: String,
    pub sources: Sources,
    /// The input's own text in `sources`, as read (decoded parts are other files).
    pub input: FileId,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.diag.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }

    /// Whether the input was recognised as user-data or a spec at all.
    pub fn is_recognised(&self) -> bool {
        !self.kind.ends_with("unknown")
    }
}

/// Checks one input.
pub fn check_bytes(name: &str, bytes: &[u8], options: &Options) -> Report {
    let mut c = Checker {
        options,
        report: Report {
            name: name.to_string(),
            kind: String::new(),
            sources: Sources::new(),
            input: FileId::default(),
            findings: Vec::new(),
        },
    };
    let input_text = String::from_utf8_lossy(bytes).into_owned();
    let input_id = c.report.sources.add(name, input_text);
    c.report.input = input_id;
    let ud = match userdata::read(bytes, name) {
        Ok(ud) => ud,
        Err(e) => {
            c.report.kind = "unknown".into();
            c.push(
                Diagnostic::error(Code::UserData, format!("cannot read this user-data: {e}")),
                Category::Syntax,
                String::new(),
                None,
            );
            return c.report;
        }
    };
    c.report.kind = input_kind(&ud.parts);
    let multi = ud.parts.len() > 1 || ud.parts.iter().any(|p| p.layers.iter().any(is_container));
    for f in &ud.findings {
        let d = match f.kind.severity() {
            Severity::Error => Diagnostic::error(Code::UserData, f.kind.to_string()),
            Severity::Warning => Diagnostic::warning(Code::UserData, f.kind.to_string()),
        };
        c.push(d, Category::Syntax, String::new(), Some(f.path.clone()));
    }

    let mut docs: Vec<(Node, FileId, PartInfo, Option<String>)> = Vec::new();
    let mut texts: Vec<(FileId, PartInfo)> = Vec::new();
    let mut moves: Vec<(FileId, usize)> = Vec::new();
    for (i, part) in ud.parts.iter().enumerate() {
        let info = PartInfo {
            index: if multi { i + 1 } else { 0 },
            filename: part.filename.clone(),
            content_type: part.content_type.mime().to_string(),
        };
        let label = multi.then(|| part.path.clone());
        let source_name = label.clone().unwrap_or_else(|| name.to_string());
        let Some(text) = c.part_text(part, &source_name, input_id, label.clone()) else {
            continue;
        };
        // A single, unwrapped part is the input itself: spans point into it.
        let id = if part.layers.is_empty() {
            input_id
        } else {
            // A MIME part sent as is appears verbatim in the input: findings in it are
            // moved back into the input at the end, so lines are the file's own.
            let verbatim = part.layers.iter().all(|l| matches!(l, Layer::Mime { .. }));
            let at = verbatim.then(|| c.report.sources.get(input_id).and_then(|f| f.text.find(&text)));
            let id = c.report.sources.add(source_name, text);
            if let Some(Some(offset)) = at {
                moves.push((id, offset));
            }
            id
        };
        match c.part(part, id, label.clone()) {
            Handled::Doc(root, file) => {
                let merge = merge_setting(part, &root);
                docs.push((root, file, info, merge));
            }
            Handled::Text(file) => texts.push((file, info)),
            Handled::Nothing => {}
        }
    }
    c.lint(&docs, &texts, input_id, bytes.len(), &ud.parts);
    for f in &mut c.report.findings {
        if let Some(span) = &mut f.diag.span
            && let Some(&(_, offset)) = moves.iter().find(|(id, _)| *id == span.file)
        {
            *span = Span::new(input_id, span.start + offset, span.end + offset);
        }
    }
    c.report
}

enum Handled {
    Doc(Node, FileId),
    Text(FileId),
    Nothing,
}

struct Checker<'o> {
    options: &'o Options,
    report: Report,
}

impl Checker<'_> {
    fn push(&mut self, diag: Diagnostic, category: Category, path: String, part: Option<String>) {
        self.report.findings.push(Finding {
            diag,
            category,
            path,
            part,
        });
    }

    /// The part's text, or a finding when it is not UTF-8 (cloud-init's YAML loader
    /// and script handlers both need text).
    fn part_text(
        &mut self,
        part: &Part,
        source_name: &str,
        input: FileId,
        label: Option<String>,
    ) -> Option<String> {
        match String::from_utf8(part.body.clone()) {
            Ok(text) => Some(text),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(&part.body).into_owned();
                let id = self.report.sources.add(source_name, text);
                let span = if part.layers.is_empty() {
                    Span::new(input, valid, valid + 1)
                } else {
                    Span::new(id, valid, valid + 1)
                };
                if part.content_type.is_handled() {
                    self.push(
                        Diagnostic::error(Code::UserData, "this part is not UTF-8 text; cloud-init cannot read it")
                            .with_span(span)
                            .with_hint("save the file as UTF-8, or send binary content base64-encoded inside write_files"),
                        Category::Syntax,
                        String::new(),
                        label,
                    );
                }
                None
            }
        }
    }

    /// Handles one part whose text is file `id`.
    fn part(&mut self, part: &Part, id: FileId, label: Option<String>) -> Handled {
        let text = self
            .report
            .sources
            .get(id)
            .map(|f| f.text.clone())
            .unwrap_or_default();
        match part.content_type {
            ContentType::CloudConfig => match self.cloud_config(id, label) {
                Some(root) => Handled::Doc(root, id),
                None => Handled::Nothing,
            },
            ContentType::Jinja => self.jinja(part, id, label),
            ContentType::Spec => {
                self.spec(id, label);
                Handled::Nothing
            }
            ContentType::Unknown | ContentType::UpstartJob | ContentType::CloudConfigArchive => {
                let what = if part.content_type == ContentType::UpstartJob {
                    "an upstart job, which cloud-init has not run since 22.2"
                } else {
                    "content cloud-init does not recognise"
                };
                let start = text.len() - text.trim_start().len();
                let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
                self.push(
                    Diagnostic::warning(Code::UserData, format!("this is {what}; cloud-init skips it"))
                        .with_span(Span::new(id, start, end.max(start)))
                        .with_hint(
                            "start cloud-config with `#cloud-config` on the first line, scripts with `#!`; \
                             for multipart, set each part's Content-Type",
                        ),
                    Category::Syntax,
                    String::new(),
                    label,
                );
                Handled::Nothing
            }
            _ => Handled::Text(id),
        }
    }

    /// Loads and validates one cloud-config document; returns its tree for lint.
    fn cloud_config(&mut self, id: FileId, label: Option<String>) -> Option<Node> {
        let loaded = match yaml11::load(&self.report.sources, id) {
            Ok(loaded) => loaded,
            Err(d) => {
                self.push(d, Category::Syntax, String::new(), label);
                return None;
            }
        };
        for d in loaded.findings {
            self.push(d, Category::Syntax, String::new(), label.clone());
        }
        let root = loaded.root;
        if matches!(root.kind, NodeKind::Null) && self.options.release >= Release::new(25, 1) {
            // cloud-init 25.1 and later accept an empty document without validating it.
            return Some(root);
        }
        let problems = match &self.options.schema {
            Some(schema) => schema.validate(&root),
            None => validate::validate(model(), &root, self.options.release),
        };
        for problem in problems {
            let (d, category) = self.schema_diagnostic(&root, &problem);
            self.push(d, category, dotted(&problem.path), label.clone());
        }
        Some(root)
    }

    fn schema_diagnostic(&self, root: &Node, p: &Problem) -> (Diagnostic, Category) {
        let (mut d, category) = match p.kind {
            ProblemKind::Error => (Diagnostic::error(Code::Schema, &p.message), Category::Schema),
            ProblemKind::Deprecation => (
                Diagnostic::warning(Code::Deprecated, &p.message),
                Category::Deprecation,
            ),
        };
        d = d.with_span(p.span);
        let at = dotted(&p.path);
        if !at.is_empty() {
            d = d.with_note(format!("at `{at}` (cloud-init {})", self.options.release));
        }
        if p.kind == ProblemKind::Error
            && let Some(hint) = yaml11_hint(root, p)
        {
            d = d.with_hint(hint);
        }
        (d, category)
    }

    /// Renders a jinja part and handles what it renders to as cloud-init would: typed
    /// again by its first line.
    fn jinja(&mut self, part: &Part, id: FileId, label: Option<String>) -> Handled {
        if part.template().is_none() {
            return Handled::Nothing;
        }
        let rendered = match jinja::render(&self.report.sources, id, self.options.instance_data.as_ref()) {
            Ok(text) => text,
            Err(d) => {
                self.push(d, Category::Syntax, String::new(), label);
                return Handled::Nothing;
            }
        };
        let content_type = userdata::detect(rendered.as_bytes()).map_or(ContentType::Unknown, |(t, _)| t);
        if content_type == ContentType::Jinja {
            return Handled::Nothing;
        }
        let name = format!(
            "{} (rendered)",
            self.report.sources.get(id).map(|f| f.name.as_str()).unwrap_or("")
        );
        let rendered_id = self.report.sources.add(name, rendered);
        let rendered_part = Part {
            content_type,
            body: Vec::new(),
            ..part.clone()
        };
        self.part(&rendered_part, rendered_id, label)
    }

    fn spec(&mut self, id: FileId, label: Option<String>) {
        let base = self
            .report
            .sources
            .get(id)
            .map(|f| std::path::Path::new(&f.name).parent().map(|p| p.to_path_buf()))
            .and_then(|p| p.filter(|p| !p.as_os_str().is_empty() && p.is_dir()))
            .unwrap_or_else(|| self.options.base_dir.clone());
        // Specs are checked without credentials: secrets are not read.
        let options = crate::BuildOptions {
            secrets: crate::secrets::SecretsMode::Redact,
            ..crate::BuildOptions::new(base)
        };
        // Every role and instance, as `build --out-dir` would.
        let result = crate::build_all(&mut self.report.sources, id, &options);
        let diags = match result {
            Ok(artifacts) => Diagnostics::of_units(
                artifacts
                    .into_iter()
                    .map(|a| (a.unit.unwrap_or_default(), a.warnings))
                    .collect(),
            ),
            Err(diags) => diags,
        };
        for d in diags.0 {
            let category = if d.code == Code::YamlSyntax {
                Category::Syntax
            } else {
                Category::Schema
            };
            self.push(d, category, String::new(), label.clone());
        }
    }

    fn lint(
        &mut self,
        docs: &[(Node, FileId, PartInfo, Option<String>)],
        texts: &[(FileId, PartInfo)],
        input: FileId,
        raw_len: usize,
        parts: &[Part],
    ) {
        let mut found: Vec<(lint::Finding, Option<String>)> = Vec::new();
        let release = self.options.release;
        let label = |info: &PartInfo, parts: &[Part]| {
            (info.index > 0).then(|| {
                parts
                    .get(info.index - 1)
                    .map(|p| p.path.clone())
                    .unwrap_or_default()
            })
        };
        for rule in lint::rules::all() {
            if self.level_of(rule.meta()) == Level::Off {
                continue;
            }
            for (root, file, info, _) in docs {
                let doc = lint::Doc {
                    sources: &self.report.sources,
                    file: *file,
                    root,
                    part: info,
                    release,
                };
                let mut out = Vec::new();
                rule.doc(&doc, &mut out);
                found.extend(out.into_iter().map(|f| (f, label(info, parts))));
            }
            for (file, info) in texts {
                let text = self
                    .report
                    .sources
                    .get(*file)
                    .map(|f| f.text.as_str())
                    .unwrap_or_default();
                let t = lint::Text {
                    sources: &self.report.sources,
                    file: *file,
                    text,
                    part: info,
                };
                let mut out = Vec::new();
                rule.text(&t, &mut out);
                found.extend(out.into_iter().map(|f| (f, label(info, parts))));
            }
        }
        let infos: Vec<PartInfo> = docs
            .iter()
            .map(|d| d.2.clone())
            .chain(texts.iter().map(|t| t.1.clone()))
            .collect();
        let doc_refs: Vec<(&Node, Option<String>)> = docs.iter().map(|d| (&d.0, d.3.clone())).collect();
        let whole = lint::Whole {
            sources: &self.report.sources,
            file: input,
            raw_len,
            compressed: parts.first().is_some_and(|p| p.layers.contains(&Layer::Gzip)),
            base64: parts
                .first()
                .is_some_and(|p| p.layers.first() == Some(&Layer::Base64)),
            parts: &infos,
            docs: &doc_refs,
            provider: self.options.provider,
        };
        for rule in lint::rules::all() {
            if self.level_of(rule.meta()) == Level::Off {
                continue;
            }
            let mut out = Vec::new();
            rule.whole(&whole, &mut out);
            found.extend(out.into_iter().map(|f| (f, None)));
        }
        for (f, part) in found {
            let Some(rule) = lint::find(f.code) else { continue };
            let meta = rule.meta();
            let mut d = match self.level_of(meta) {
                Level::Error => Diagnostic::error(Code::Lint(lint::number_of(meta.code)), f.message),
                _ => Diagnostic::warning(Code::Lint(lint::number_of(meta.code)), f.message),
            }
            .with_span(f.span)
            .with_note(format!(
                "lint rule `{}`; `ctxgen explain {}` tells more",
                meta.name, meta.code
            ));
            if let Some(hint) = f.hint {
                d = d.with_hint(hint);
            }
            self.push(d, Category::Lint, dotted(&f.path), part);
        }
    }

    fn level_of(&self, meta: &lint::RuleMeta) -> Level {
        self.options
            .levels
            .get(meta.code)
            .copied()
            .unwrap_or(match meta.default_severity {
                Severity::Error => Level::Error,
                Severity::Warning => Level::Warning,
            })
    }
}

fn is_container(layer: &Layer) -> bool {
    matches!(layer, Layer::Mime { .. } | Layer::Archive { .. })
}

/// `cloud-config`, `gzip+multipart`, `base64+gzip+cloud-config`, ...
fn input_kind(parts: &[Part]) -> String {
    let mut kind = Vec::new();
    if let Some(first) = parts.first() {
        for layer in &first.layers {
            match layer {
                Layer::Base64 => kind.push("base64"),
                Layer::Gzip => kind.push("gzip"),
                Layer::Mime { .. } | Layer::Archive { .. } | Layer::QuotedPrintable => break,
            }
        }
    }
    let multi = parts.len() > 1
        || parts
            .iter()
            .any(|p| p.layers.iter().any(|l| matches!(l, Layer::Mime { .. })));
    let archive = parts
        .iter()
        .any(|p| p.layers.iter().any(|l| matches!(l, Layer::Archive { .. })));
    let body = if multi {
        "multipart"
    } else if archive {
        "cloud-config-archive"
    } else {
        match parts.first().map(|p| p.content_type) {
            Some(ContentType::CloudConfig) => "cloud-config",
            Some(ContentType::Spec) => "spec",
            Some(ContentType::Jinja) => "jinja",
            Some(
                ContentType::ShellScript
                | ContentType::ShellScriptPerBoot
                | ContentType::ShellScriptPerInstance
                | ContentType::ShellScriptPerOnce,
            ) => "script",
            Some(ContentType::CloudBoothook) => "boothook",
            Some(ContentType::IncludeUrl | ContentType::IncludeOnceUrl) => "include",
            Some(ContentType::PartHandler) => "part-handler",
            Some(ContentType::CloudConfigJsonp) => "cloud-config-jsonp",
            _ => "unknown",
        }
    };
    kind.push(body);
    kind.join("+")
}

/// A part's explicit merge settings: its `Merge-Type` header, else the document's own
/// `merge_how` / `merge_type` key.
fn merge_setting(part: &Part, root: &Node) -> Option<String> {
    if let Some((_, v)) = part
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("merge-type") || k.eq_ignore_ascii_case("x-merge-type"))
    {
        return Some(v.clone());
    }
    let NodeKind::Map(entries) = &root.kind else {
        return None;
    };
    entries.iter().find_map(|(k, v)| match &k.kind {
        NodeKind::Str(s) if s == "merge_how" || s == "merge_type" => Some(
            v.scalar
                .as_ref()
                .map(|s| s.text.clone())
                .unwrap_or_else(|| "(structured)".into()),
        ),
        _ => None,
    })
}

/// Keys whose values are never quoted back in hints.
const SECRET_WORDS: [&str; 6] = ["pass", "secret", "token", "key", "credential", "auth"];

/// "YAML 1.1 reads `0644` as the integer 420; quote it": for an error at a plain
/// scalar that YAML 1.1 typed as something other than text.
fn yaml11_hint(root: &Node, p: &Problem) -> Option<String> {
    let node = node_at(root, p.span)?;
    let scalar = node.scalar.as_ref()?;
    if scalar.style != ScalarStyle::Plain || matches!(node.kind, NodeKind::Str(_)) {
        return None;
    }
    let read_as = match &node.kind {
        NodeKind::Int(i) => format!("the integer {i}"),
        NodeKind::BigInt(_) => "an integer".to_string(),
        NodeKind::Float(f) => format!("the number {}", yaml11::python_float_repr(*f)),
        NodeKind::Bool(b) => format!("the boolean {b}"),
        NodeKind::Null => "null (no value)".to_string(),
        NodeKind::Timestamp(_) => "a date".to_string(),
        _ => return None,
    };
    let secret = p.path.iter().any(|s| {
        let s = s.to_string().to_ascii_lowercase();
        SECRET_WORDS.iter().any(|w| s.contains(w))
    });
    if secret {
        return Some(format!(
            "YAML 1.1 reads this plain value as {read_as}; quote it if you meant text"
        ));
    }
    let text = &scalar.text;
    let quoted = if text.contains('\'') {
        format!("\"{text}\"")
    } else {
        format!("'{text}'")
    };
    Some(format!(
        "YAML 1.1 reads `{text}` as {read_as}; quote it if you meant text: {quoted}"
    ))
}

/// The node whose span is exactly `span` (a scalar the validator reported).
fn node_at(node: &Node, span: Span) -> Option<&Node> {
    if node.span == span && node.scalar.is_some() {
        return Some(node);
    }
    if !(node.span.start <= span.start && span.end <= node.span.end) && node.span.file == span.file {
        // Aliased values point elsewhere; keep looking only inside the text range.
        if !matches!(node.kind, NodeKind::Seq(_) | NodeKind::Map(_)) {
            return None;
        }
    }
    match &node.kind {
        NodeKind::Seq(items) | NodeKind::Set(items) => items.iter().find_map(|n| node_at(n, span)),
        NodeKind::Map(entries) | NodeKind::Pairs(entries) => entries
            .iter()
            .find_map(|(k, v)| node_at(k, span).or_else(|| node_at(v, span))),
        _ => None,
    }
}
