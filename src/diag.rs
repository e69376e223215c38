//! Diagnostics: findings about the input, each with a stable code, a severity, a
//! message that says what is wrong, an optional primary span, and a fix hint.
//!
//! Input: what the stages found. Output: text rendered rustc-style (file:line:col, a
//! snippet, the hint) or data for JSON reports. A diagnostic never carries a secret
//! value: stages build messages from names and paths, not from values.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde::Serialize;

use crate::source::{Sources, Span, floor_char_boundary};

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// Stable diagnostic codes. Codes never change meaning once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// The YAML itself is malformed (syntax, tabs, duplicate keys, alias bombs).
    YamlSyntax,
    /// The spec does not have the expected shape (unknown field, wrong type, missing).
    SpecShape,
    /// `version` is missing or not one this ctxgen reads.
    SpecVersion,
    /// A value has the right type but is not allowed (pattern, range, conflict).
    InvalidValue,
    /// A local file is missing, unreadable, or outside the spec folder.
    LocalFile,
    /// A template failed to render (undefined name, syntax error).
    Template,
    /// An SSH public key is malformed, private, or too weak.
    SshKey,
    /// The generated document failed ctxgen's own cloud-config gate.
    OutputGate,
    /// Reading or writing failed.
    Io,
    /// A cloud-config value that cloud-init's schema rejects (for the release checked).
    Schema,
    /// A cloud-config key or value form that cloud-init reports as deprecated.
    Deprecated,
    /// User-data that cloud-init would skip, mangle or fail on (unknown content,
    /// broken MIME or gzip, a template that does not render).
    UserData,
    /// A secret cannot be read, is empty, or is used where it cannot go; or a
    /// credential is written in the spec itself.
    Secret,
    /// The user-data is larger than the provider takes, even compressed.
    TooLarge,
    /// A finding of a lint rule, by the number of the rule's own code (`CL001` is 1).
    Lint(u16),
}

impl Code {
    /// Every code of ctxgen itself (lint rules list theirs in `lint::rules`), for the
    /// uniqueness test and the documentation. `CG008` ("not available in this version
    /// of ctxgen") is retired: every part of spec version 1 is available.
    pub const ALL: [Code; 14] = [
        Code::YamlSyntax,
        Code::SpecShape,
        Code::SpecVersion,
        Code::InvalidValue,
        Code::LocalFile,
        Code::Template,
        Code::SshKey,
        Code::OutputGate,
        Code::Io,
        Code::Schema,
        Code::Deprecated,
        Code::UserData,
        Code::Secret,
        Code::TooLarge,
    ];

    /// The stable identifier printed in messages and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::YamlSyntax => "CG001",
            Code::SpecShape => "CG002",
            Code::SpecVersion => "CG003",
            Code::InvalidValue => "CG004",
            Code::LocalFile => "CG005",
            Code::Template => "CG006",
            Code::SshKey => "CG007",
            Code::OutputGate => "CG009",
            Code::Io => "CG010",
            Code::Schema => "CG011",
            Code::Deprecated => "CG012",
            Code::UserData => "CG013",
            Code::Secret => "CG014",
            Code::TooLarge => "CG015",
            Code::Lint(number) => crate::lint::code_of(number),
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub span: Option<Span>,
    /// What to do about it.
    pub hint: Option<String>,
    /// Extra context (for example, which output field a gate error came from).
    pub notes: Vec<String>,
    /// The spanned text is a credential: renderings blank it.
    pub masked: bool,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: None,
            hint: None,
            notes: Vec::new(),
            masked: false,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    #[must_use]
    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Marks the spanned text as a credential, never to be shown.
    #[must_use]
    pub fn masked(mut self) -> Self {
        self.masked = true;
        self
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders rustc-style: a title with the code, `--> file:line:col`, the snippet with
    /// the span underlined, then notes and the hint. `color` adds ANSI styles.
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level.primary_title(&self.message).id(self.code.as_str());
        let file = self.span.and_then(|s| sources.get(s.file).map(|f| (s, f)));
        let text;
        let mut groups = vec![match file {
            Some((span, f)) => {
                // A span that ends inside a character would make the renderer panic.
                let start = floor_char_boundary(&f.text, span.start);
                let end = floor_char_boundary(&f.text, span.end.max(start));
                // A masked credential is shown as asterisks, one a character.
                let blank_end;
                (text, blank_end) = if self.masked {
                    let blank: String = f.text[start..end]
                        .chars()
                        .map(|c| if c == '\n' { c } else { '*' })
                        .collect();
                    (
                        format!("{}{blank}{}", &f.text[..start], &f.text[end..]),
                        start + blank.len(),
                    )
                } else {
                    (f.text.clone(), end)
                };
                let end = blank_end;
                title.element(
                    Snippet::source(text.as_str())
                        .path(f.name.as_str())
                        .annotation(AnnotationKind::Primary.span(start..end)),
                )
            }
            None => Group::with_title(title),
        }];
        for note in &self.notes {
            groups.push(Group::with_title(Level::NOTE.secondary_title(note)));
        }
        if let Some(hint) = &self.hint {
            groups.push(Group::with_title(Level::HELP.secondary_title(hint)));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&groups).to_string()
    }

    /// `file:line:col` of the primary span, when there is one.
    pub fn location(&self, sources: &Sources) -> Option<(String, usize, usize)> {
        let span = self.span?;
        let file = sources.get(span.file)?;
        let (line, col) = sources.line_col(span.file, span.start);
        Some((file.name.clone(), line, col))
    }
}

/// The diagnostics of one run, errors and warnings together.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// The diagnostics of several user-data of one spec (roles, instances), each list
    /// labelled (`instance web-01`), as one list: a diagnostic found in several is given
    /// once, with a note naming where.
    pub fn of_units(units: Vec<(String, Diagnostics)>) -> Diagnostics {
        let total = units.len();
        let mut grouped: Vec<(Diagnostic, Vec<String>)> = Vec::new();
        for (label, diags) in units {
            for d in diags.0 {
                let same = grouped.iter_mut().find(|(g, _)| {
                    (g.severity, g.code, &g.message, g.span) == (d.severity, d.code, &d.message, d.span)
                });
                match same {
                    Some((_, labels)) => labels.push(label.clone()),
                    None => grouped.push((d, vec![label.clone()])),
                }
            }
        }
        let out = grouped.into_iter().map(|(d, labels)| match labels.len() {
            _ if total < 2 => d,
            n if n == total => d.with_note(format!("in every user-data of the spec ({n})")),
            n if n <= 3 => d.with_note(format!("in {}", labels.join(", "))),
            n => d.with_note(format!("in {} and {} more", labels[..3].join(", "), n - 3)),
        });
        Diagnostics(out.collect())
    }

    /// Renders all diagnostics, separated by blank lines.
    pub fn render(&self, sources: &Sources, color: bool) -> String {
        let mut out = String::new();
        for d in &self.0 {
            out.push_str(&d.render(sources, color));
            out.push_str("\n\n");
        }
        out
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<I: IntoIterator<Item = Diagnostic>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique() {
        let set: HashSet<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(set.len(), Code::ALL.len());
    }

    #[test]
    fn renders_file_line_column_and_hint() {
        let mut sources = Sources::new();
        let id = sources.add("app.yaml", "version: 1\nnmae: web\n");
        let d = Diagnostic::error(Code::SpecShape, "unknown field `nmae`")
            .with_span(Span::new(id, 11, 15))
            .with_hint("did you mean `name`?");
        let text = d.render(&sources, false);
        assert!(text.contains("error[CG002]: unknown field `nmae`"), "{text}");
        assert!(text.contains("app.yaml:2:1"), "{text}");
        assert!(text.contains("help: did you mean `name`?"), "{text}");
        assert_eq!(d.location(&sources), Some(("app.yaml".into(), 2, 1)));
    }
}
