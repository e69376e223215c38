//! Rendering check results: for people (rustc-style snippets), for programs (JSON),
//! for code scanning (SARIF 2.1.0), for GitHub Actions (workflow commands), and as the
//! annotated source `cloud-init schema --annotate` prints.
//!
//! Every renderer takes the reports in input order and returns text; the CLI prints it.
//! None prints a value the finding is about: messages never hold one.

use serde_json::{Value, json};

use super::{Finding, Report};
use crate::diag::Severity;
use crate::lint;
use crate::source::{Sources, Span};

/// Totals over all reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Files found in folders that are not user-data or specs.
    pub skipped: usize,
}

impl Summary {
    pub fn of(reports: &[Report], skipped: usize) -> Summary {
        Summary {
            files: reports.len(),
            errors: reports.iter().map(Report::errors).sum(),
            warnings: reports.iter().map(Report::warnings).sum(),
            skipped,
        }
    }

    fn line(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut line = format!(
            "checked {}: {}, {}",
            plural(self.files, "file"),
            plural(self.errors, "error"),
            plural(self.warnings, "warning")
        );
        if self.skipped > 0 {
            line.push_str(&format!(
                " ({} in the folders given not recognised as user-data and skipped)",
                plural(self.skipped, "file")
            ));
        }
        line
    }
}

/// Line and column (1-based, columns in characters) of a finding's start and end.
fn region(sources: &Sources, f: &Finding) -> Option<(usize, usize, usize, usize)> {
    let span = f.diag.span?;
    sources.get(span.file)?;
    let (line, col) = sources.line_col(span.file, span.start);
    let (end_line, end_col) = sources.line_col(span.file, span.end);
    Some((line, col, end_line, end_col))
}

/// Whether the finding's span is in the input file itself (not in a decoded part).
fn in_input(r: &Report, f: &Finding) -> bool {
    f.diag.span.is_some_and(|s| s.file == r.input)
}

/// Lint rules whose span is a credential: renderers that show source text blank it.
const CREDENTIAL_RULES: [&str; 3] = ["CL001", "CL002", "CL011"];

/// The report's texts with every credential a finding points at replaced by `*`
/// (byte for byte, so every span stays valid), for renderers that quote the source.
fn masked(r: &Report) -> Sources {
    let spans: Vec<Span> = r
        .findings
        .iter()
        .filter(|f| f.diag.masked || CREDENTIAL_RULES.contains(&f.diag.code.as_str()))
        .filter_map(|f| f.diag.span)
        .collect();
    let mut out = Sources::new();
    for (id, file) in r.sources.iter() {
        let mut bytes = file.text.clone().into_bytes();
        for span in spans.iter().filter(|s| s.file == id) {
            let end = span.end.min(bytes.len());
            for b in &mut bytes[span.start.min(end)..end] {
                if *b != b'\n' {
                    *b = b'*';
                }
            }
        }
        // Whole characters were replaced byte by byte: still UTF-8.
        out.add(file.name.clone(), String::from_utf8_lossy(&bytes).into_owned());
    }
    out
}

/// People: each file's findings as rustc-style snippets, then the summary.
pub fn human(reports: &[Report], skipped: usize, color: bool) -> String {
    let mut out = String::new();
    for r in reports {
        let sources = masked(r);
        for f in &r.findings {
            let mut d = f.diag.clone();
            if let Some(part) = &f.part
                && !in_input(r, f)
            {
                d = d.with_note(format!("in {part}"));
            }
            if d.span.is_none() {
                d = d.with_note(format!("in `{}`", r.name));
            }
            out.push_str(&d.render(&sources, color));
            out.push_str("\n\n");
        }
    }
    out.push_str(&Summary::of(reports, skipped).line());
    out.push('\n');
    out
}

/// Programs: `{"version": 1, "files": [...], "summary": {...}}` (documented in the
/// README).
pub fn json(reports: &[Report], skipped: usize) -> String {
    let files: Vec<Value> = reports
        .iter()
        .map(|r| {
            let diagnostics: Vec<Value> = r
                .findings
                .iter()
                .map(|f| {
                    let (line, column, end_line, end_column) = match region(&r.sources, f) {
                        Some((l, c, el, ec)) => (json!(l), json!(c), json!(el), json!(ec)),
                        None => (Value::Null, Value::Null, Value::Null, Value::Null),
                    };
                    json!({
                        "code": f.diag.code.as_str(),
                        "category": f.category,
                        "severity": f.diag.severity,
                        "message": f.diag.message,
                        "path": f.path,
                        "line": line,
                        "column": column,
                        "end_line": end_line,
                        "end_column": end_column,
                        "part": f.part,
                        "in_part": !in_input(r, f) && f.diag.span.is_some(),
                        "hint": f.diag.hint,
                    })
                })
                .collect();
            json!({"path": r.name, "kind": r.kind, "diagnostics": diagnostics})
        })
        .collect();
    let s = Summary::of(reports, skipped);
    let doc = json!({
        "version": 1,
        "files": files,
        "summary": {"files": s.files, "errors": s.errors, "warnings": s.warnings, "skipped": s.skipped},
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Code scanning: SARIF 2.1.0, one run, rules for every code that occurs.
pub fn sarif(reports: &[Report]) -> String {
    let mut rule_ids: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.findings.iter().map(|f| f.diag.code.as_str()))
        .collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let (name, text, help) = match lint::find(id) {
                Some(rule) => {
                    let m = rule.meta();
                    (
                        m.name.to_string(),
                        m.summary.to_string(),
                        format!("{}\n\n{}", m.why, m.instead),
                    )
                }
                None => (
                    id.to_string(),
                    code_summary(id).to_string(),
                    code_summary(id).to_string(),
                ),
            };
            json!({
                "id": id,
                "name": name,
                "shortDescription": {"text": text},
                "help": {"text": help},
            })
        })
        .collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r.findings.iter().map(move |f| {
                let mut message = f.diag.message.clone();
                if !f.path.is_empty() {
                    message.push_str(&format!(" (at `{}`)", f.path));
                }
                if let Some(part) = &f.part {
                    message.push_str(&format!(" [{part}]"));
                }
                if let Some(hint) = &f.diag.hint {
                    message.push_str(&format!(". Fix: {hint}"));
                }
                let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": uri(&r.name)}}});
                if in_input(r, f)
                    && let Some((l, c, el, ec)) = region(&r.sources, f)
                {
                    location["physicalLocation"]["region"] =
                        json!({"startLine": l, "startColumn": c, "endLine": el, "endColumn": ec.max(1)});
                }
                json!({
                    "ruleId": f.diag.code.as_str(),
                    "level": match f.diag.severity { Severity::Error => "error", Severity::Warning => "warning" },
                    "message": {"text": message},
                    "locations": [location],
                    "properties": {"category": f.category},
                })
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ctxgen",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// A relative path as a SARIF URI (forward slashes, percent-encoded where needed).
fn uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// GitHub Actions: one workflow command per finding, then the summary as a notice.
pub fn github(reports: &[Report], skipped: usize) -> String {
    let mut out = String::new();
    for r in reports {
        for f in &r.findings {
            let level = match f.diag.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let mut props = vec![format!("file={}", escape_property(&r.name))];
            if in_input(r, f)
                && let Some((l, c, el, ec)) = region(&r.sources, f)
            {
                props.push(format!("line={l}"));
                props.push(format!("col={c}"));
                props.push(format!("endLine={el}"));
                props.push(format!("endColumn={ec}"));
            }
            props.push(format!("title={}", escape_property(f.diag.code.as_str())));
            let mut message = f.diag.message.clone();
            if !f.path.is_empty() {
                message.push_str(&format!(" (at `{}`)", f.path));
            }
            if let Some(hint) = &f.diag.hint {
                message.push_str(&format!("\nhelp: {hint}"));
            }
            out.push_str(&format!(
                "::{level} {}::{}\n",
                props.join(","),
                escape_data(&message)
            ));
        }
    }
    out.push_str(&format!(
        "::notice title=ctxgen check::{}\n",
        escape_data(&Summary::of(reports, skipped).line())
    ));
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The source of each file with `# E1`/`# W1` markers at the end of the lines that
/// have findings, and a footer listing them, as `cloud-init schema --annotate` does.
/// Findings in decoded parts are listed under the part's text.
pub fn annotate(reports: &[Report]) -> String {
    let mut out = String::new();
    for r in reports {
        if reports.len() > 1 {
            out.push_str(&format!("# ==> {} <==\n", r.name));
        }
        let masked = masked(r);
        let mut files: Vec<_> = r
            .findings
            .iter()
            .filter_map(|f| f.diag.span.map(|s| s.file))
            .collect();
        files.dedup();
        let mut seen = Vec::new();
        for file in files {
            if seen.contains(&file) {
                continue;
            }
            seen.push(file);
            let Some(source) = r.sources.get(file) else {
                continue;
            };
            if source.name != r.name {
                out.push_str(&format!("# --- {} ---\n", source.name));
            }
            let here: Vec<&Finding> = r
                .findings
                .iter()
                .filter(|f| f.diag.span.is_some_and(|s| s.file == file))
                .collect();
            let text = masked.get(file).map_or("", |f| f.text.as_str());
            annotate_text(&masked, file, text, &here, &mut out);
        }
        let loose: Vec<&Finding> = r.findings.iter().filter(|f| f.diag.span.is_none()).collect();
        if !loose.is_empty() {
            out.push_str("# Findings without a location: -------------\n");
            for f in loose {
                out.push_str(&format!("# {}: {}\n", f.diag.code.as_str(), f.diag.message));
            }
        }
        if r.findings.is_empty() {
            out.push_str(&format!("# {}: no findings\n", r.name));
        }
    }
    out
}

fn annotate_text(
    sources: &Sources,
    file: crate::source::FileId,
    text: &str,
    findings: &[&Finding],
    out: &mut String,
) {
    let mut marks: Vec<(usize, String, &Finding)> = Vec::new();
    let (mut e, mut w) = (0, 0);
    for f in findings {
        let Some(span) = f.diag.span else { continue };
        let (line, _) = sources.line_col(file, span.start);
        let label = match f.diag.severity {
            Severity::Error => {
                e += 1;
                format!("E{e}")
            }
            Severity::Warning => {
                w += 1;
                format!("W{w}")
            }
        };
        marks.push((line, label, f));
    }
    for (i, line) in text.lines().enumerate() {
        out.push_str(line);
        let labels: Vec<&str> = marks
            .iter()
            .filter(|(l, _, _)| *l == i + 1)
            .map(|(_, label, _)| label.as_str())
            .collect();
        if !labels.is_empty() {
            out.push_str(&format!("\t\t# {}", labels.join(",")));
        }
        out.push('\n');
    }
    for (title, prefix) in [("Errors", 'E'), ("Warnings", 'W')] {
        let listed: Vec<_> = marks.iter().filter(|(_, l, _)| l.starts_with(prefix)).collect();
        if listed.is_empty() {
            continue;
        }
        out.push_str(&format!("\n# {title}: -------------\n"));
        for (_, label, f) in listed {
            let at = if f.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", f.path)
            };
            out.push_str(&format!(
                "# {label}: {at}{} [{}]\n",
                f.diag.message,
                f.diag.code.as_str()
            ));
        }
    }
    out.push('\n');
}

/// One line about each of ctxgen's own codes, for SARIF rule descriptions.
pub fn code_summary(code: &str) -> &'static str {
    match code {
        "CG001" => "The YAML is malformed or ambiguous",
        "CG002" => "The spec does not have the expected shape",
        "CG003" => "The spec's version is missing or unknown",
        "CG004" => "A value is not allowed",
        "CG005" => "A local file is missing or outside the spec's folder",
        "CG006" => "A template does not render",
        "CG007" => "An SSH key is malformed, private or weak",
        "CG009" => "Generated output failed ctxgen's gate",
        "CG010" => "Reading or writing failed",
        "CG011" => "cloud-init's schema rejects this value",
        "CG012" => "cloud-init reports this as deprecated",
        "CG013" => "cloud-init would skip, mangle or fail on this user-data",
        "CG014" => "A secret cannot be read or is misused, or a credential is written in a spec",
        "CG015" => "The user-data is larger than the provider takes, even compressed",
        _ => "ctxgen finding",
    }
}

/// Whether a finding fails the run: errors always, warnings with `--strict`.
pub fn fails(f: &Finding, strict: bool) -> bool {
    strict || f.diag.is_error()
}
