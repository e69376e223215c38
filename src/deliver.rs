//! Stage `deliver`: the checked `#cloud-config` text into the bytes the provider
//! receives (`output.format`, `output.compression`, the provider's size budget).
//!
//! Input: the emitted YAML and its JSON value, the spec's output settings and provider,
//! and the provenance table (to name what is large). Output: the payload, and what was
//! done to it. The encodings themselves are [`crate::userdata::write`]; what is written
//! is read back with [`crate::userdata::read`] (cloud-init's reading rules) before it
//! is handed out, so a payload cloud-init would read differently never leaves.
//!
//! - **Format.** `cloud-config` is the YAML as it is. `multipart` is a MIME multipart
//!   whose every part carries an explicit `Merge-Type` (see [`MERGE_TYPE`]). The
//!   compiler merges every feature into one document (shell steps and `script:` files
//!   become `runcmd` entries, whose order and `sh -eu` they keep), so today the
//!   multipart has one cloud-config part and `auto` means `cloud-config`: nothing
//!   needs a part of its own.
//! - **Compression.** `gzip` always; `auto` only when the provider's budget is
//!   exceeded; `none` never. Gzip is deterministic (no name, time 0).
//! - **Text.** Where the provider needs text and the payload is gzip (GCE: metadata
//!   values are strings), the payload is base64 and the caller is told to set
//!   `user-data-encoding: base64`. Other providers' clients take the binary file.
//! - **Budget.** Still over after compression: an error that names the largest
//!   contributors (write_files paths, `runcmd`/`bootcmd` entries by their spec
//!   line, other top-level keys) with their sizes, never their values.

use serde_json::Value;

use crate::Provenance;
use crate::diag::{Code, Diagnostic};
use crate::source::Sources;
use crate::spec::{Compression, Output, OutputFormat, Provider};
use crate::userdata::write::{self, Budget, MERGE_TYPE, OutPart};
use crate::userdata::{self, ContentType};

/// The file name of the cloud-config part of a multipart output.
pub const CLOUD_CONFIG_PART: &str = "cloud-config.yaml";

/// How the payload was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Whether the payload is a MIME multipart (else the `#cloud-config` text).
    pub multipart: bool,
    /// Whether the payload is gzip-compressed.
    pub gzip: bool,
    /// Whether the (gzip) payload is base64-encoded for a provider that needs text.
    pub base64: bool,
    /// The payload's size as the provider counts it (after base64 for OpenStack).
    pub size: usize,
    /// The provider's budget, if it has one.
    pub budget: Option<Budget>,
    /// What the operator must know to hand the payload over (printed by the CLI).
    pub notes: Vec<String>,
}

/// What the spec asks for, and where the numbers come from.
pub(crate) struct Request<'a> {
    pub output: &'a Output,
    pub provider: Provider,
    pub provenance: &'a Provenance,
    /// The span provenance gives output that comes from ctxgen's defaults (the spec's
    /// `version`): such entries are named as defaults, not by that line.
    pub defaults: crate::source::Span,
    pub sources: &'a Sources,
}

/// The parts of a multipart output. The compiler has merged everything into one
/// cloud-config document; a feature that needs a part of its own (a boothook, a
/// per-boot script) adds it here, and `auto` then chooses multipart.
fn parts(yaml: &str) -> Vec<OutPart> {
    vec![OutPart {
        content_type: ContentType::CloudConfig,
        filename: CLOUD_CONFIG_PART.to_string(),
        body: yaml.as_bytes().to_vec(),
    }]
}

/// The payload of `yaml` (whose JSON value is `doc`) as `request` asks for it.
pub(crate) fn deliver(
    yaml: &str,
    doc: &Value,
    request: &Request<'_>,
) -> Result<(Vec<u8>, Delivery), Diagnostic> {
    let parts = parts(yaml);
    let multipart = match request.output.format.value {
        OutputFormat::Multipart => true,
        OutputFormat::CloudConfig => false,
        OutputFormat::Auto => parts.len() > 1,
    };
    let plain = if multipart {
        write::multipart(&parts)
    } else {
        yaml.as_bytes().to_vec()
    };
    let budget = Budget::of(request.provider);
    let fits = |n: usize| budget.is_none_or(|b| b.fits(n));
    let compress = match request.output.compression.value {
        Compression::Gzip => true,
        Compression::None => false,
        Compression::Auto => !fits(plain.len()),
    };
    let mut delivery = Delivery {
        multipart,
        gzip: compress,
        base64: false,
        size: 0,
        budget,
        notes: Vec::new(),
    };
    let payload = if compress {
        let gz = write::gzip(&plain);
        if budget.is_some_and(|b| b.needs_text) {
            delivery.base64 = true;
            delivery.notes.push(format!(
                "the output is base64 text of gzip data, because {} metadata values are text: \
                 set the instance metadata `user-data-encoding: base64` next to `user-data` \
                 (cloud-init's GCE datasource decodes it)",
                budget.map_or("the provider's", |b| b.provider)
            ));
            write::base64(&gz)
        } else {
            gz
        }
    } else {
        plain
    };
    delivery.size = budget.map_or(payload.len(), |b| b.measure(payload.len()));
    read_back(&payload, yaml, multipart)?;
    if let Some(b) = budget
        && !b.fits(payload.len())
    {
        return Err(over_budget(&b, &delivery, doc, request));
    }
    Ok((payload, delivery))
}

/// Reads `payload` back with cloud-init's rules: it must give exactly the
/// cloud-config `yaml`, with no finding.
fn read_back(payload: &[u8], yaml: &str, multipart: bool) -> Result<(), Diagnostic> {
    let internal = |what: String| {
        Diagnostic::error(
            Code::OutputGate,
            format!("internal: the encoded user-data does not read back as written: {what}"),
        )
    };
    let read = userdata::read(payload, "user-data").map_err(|e| internal(e.to_string()))?;
    if let Some(f) = read.findings.first() {
        return Err(internal(f.to_string()));
    }
    let [part] = read.parts.as_slice() else {
        return Err(internal(format!("{} parts", read.parts.len())));
    };
    let merge_ok = !multipart
        || part
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("merge-type") && v == MERGE_TYPE);
    if part.content_type != ContentType::CloudConfig || part.body != yaml.as_bytes() || !merge_ok {
        return Err(internal(format!("part `{}` differs", part.path)));
    }
    Ok(())
}

/// The error for a payload still over budget, naming the largest contributors.
fn over_budget(budget: &Budget, delivery: &Delivery, doc: &Value, request: &Request<'_>) -> Diagnostic {
    let how = match (delivery.gzip, delivery.base64) {
        (true, true) => " gzip-compressed and base64-encoded",
        (true, false) => " gzip-compressed",
        _ => "",
    };
    let counted = if budget.counts_base64 {
        " (counted after base64, as the provider's API takes it)"
    } else {
        ""
    };
    let mut d = Diagnostic::error(
        Code::TooLarge,
        format!(
            "the user-data is {} bytes{how}, over {}'s limit of {} bytes{counted}",
            delivery.size, budget.provider, budget.limit
        ),
    );
    d = d.with_hint(if delivery.gzip {
        "fetch large files at boot (a package, `git clone`, an object store) instead of inlining them, or split the work across roles"
    } else {
        "set `output.compression: auto` (or `gzip`): cloud-init reads gzip-compressed user-data"
    });
    let mut all = contributors(doc, request);
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let shown = all.len().min(MAX_CONTRIBUTORS);
    let mut note = String::from("largest contributors (bytes before compression):");
    for (name, size) in &all[..shown] {
        note.push_str(&format!("\n  {size:>8}  {name}"));
    }
    if all.len() > shown {
        note.push_str(&format!("\n  ... and {} smaller", all.len() - shown));
    }
    d.with_note(note)
}

/// How many contributors the budget error lists.
const MAX_CONTRIBUTORS: usize = 10;

/// Every `write_files` entry, `runcmd` and `bootcmd` entry and other top-level key,
/// named without its value, with its size in the document.
fn contributors(doc: &Value, request: &Request<'_>) -> Vec<(String, usize)> {
    let size = |v: &Value| serde_json::to_string(v).map_or(0, |s| s.len());
    let mut out = Vec::new();
    let Some(map) = doc.as_object() else {
        return out;
    };
    for (key, value) in map {
        match (key.as_str(), value.as_array()) {
            ("write_files", Some(files)) => {
                for f in files {
                    let path = f.get("path").and_then(Value::as_str).unwrap_or("?");
                    let content = f.get("content").and_then(Value::as_str).map_or(0, str::len);
                    let encoding = match f.get("encoding").and_then(Value::as_str) {
                        Some(e) => format!(", {e}"),
                        None => String::new(),
                    };
                    out.push((format!("write_files {path}{encoding}"), content));
                }
            }
            ("runcmd" | "bootcmd", Some(entries)) => {
                for (i, e) in entries.iter().enumerate() {
                    let origin = request
                        .provenance
                        .locate(&format!("/{key}/{i}"))
                        .and_then(|span| {
                            if span == request.defaults {
                                return Some(" (a ctxgen default)".to_string());
                            }
                            let file = request.sources.get(span.file)?;
                            let (line, _) = request.sources.line_col(span.file, span.start);
                            Some(format!(" (from {}:{line})", file.name))
                        })
                        .unwrap_or_default();
                    out.push((format!("{key} entry {}{origin}", i + 1), size(e)));
                }
            }
            _ => out.push((key.clone(), size(value))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contributors_name_paths_and_sizes_not_values() {
        let doc = json!({
            "write_files": [{"path": "/etc/big", "content": "x".repeat(100), "encoding": "gz+b64"}],
            "runcmd": [["echo", "secret-value"]],
            "hostname": "h",
        });
        let prov = Provenance::default();
        let sources = Sources::new();
        let output = Output::default();
        let request = Request {
            output: &output,
            provider: Provider::Aws,
            provenance: &prov,
            defaults: crate::source::Span::default(),
            sources: &sources,
        };
        let found = contributors(&doc, &request);
        assert_eq!(
            found,
            vec![
                ("write_files /etc/big, gz+b64".to_string(), 100),
                ("runcmd entry 1".to_string(), 23),
                ("hostname".to_string(), 3),
            ]
        );
    }
}
