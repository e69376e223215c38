//! The gate: before anything is written, the generated document is read back as
//! cloud-init reads it (the YAML 1.1 loader) and validated against the model for every
//! release in the spec's target range (`target.cloud_init` to the newest). Any schema
//! error or deprecation notice there is a ctxgen bug or a spec value that slipped past
//! validation, so it is an error, located at the spec field that produced the output
//! (through the provenance table).

use std::collections::BTreeSet;

use super::Release;
use super::modules::model;
use super::validate::{ProblemKind, Seg, dotted, validate};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{Sources, Span, yaml11};

/// Checks `yaml` (the emitted cloud-config) for the releases `oldest..=NEWEST`.
/// `locate` maps an output JSON pointer to the spec span that produced it.
pub fn check(yaml: &str, oldest: Release, locate: &dyn Fn(&str) -> Option<Span>) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let mut sources = Sources::new();
    let id = sources.add("generated cloud-config", yaml);
    let root = match yaml11::load(&sources, id) {
        Ok(loaded) => loaded.root,
        Err(d) => {
            diags.push(
                Diagnostic::error(
                    Code::OutputGate,
                    format!(
                        "the generated cloud-config does not read back under YAML 1.1: {}",
                        d.message
                    ),
                )
                .with_hint("this is a ctxgen bug; please report it with the spec"),
            );
            return diags;
        }
    };
    // The same finding at several releases is reported once, naming the first.
    let mut seen = BTreeSet::new();
    for &release in Release::KNOWN.iter().filter(|r| **r >= oldest) {
        for p in validate(model(), &root, release) {
            let pointer = pointer(&p.path);
            if !seen.insert((pointer.clone(), p.message.clone())) {
                continue;
            }
            let what = match p.kind {
                ProblemKind::Error => "rejects",
                ProblemKind::Deprecation => "reports as deprecated",
            };
            let mut d = Diagnostic::error(
                Code::OutputGate,
                format!(
                    "cloud-init {release} {what} the generated `{}`: {}",
                    dotted(&p.path),
                    p.message
                ),
            )
            .with_hint("this is a ctxgen bug if the spec is valid; please report it with the spec");
            if let Some(span) = locate(&pointer) {
                d = d.with_span(span);
            }
            diags.push(d);
        }
    }
    diags
}

/// A JSON pointer (`/write_files/0/path`) for a path.
fn pointer(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => format!("/{i}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_problems_at_any_release_are_caught() {
        let doc = "#cloud-config\nwrite_files: [{path: /a, permissions: 420}]\nbogus: 1\napt_update: true\n";
        let d = check(doc, Release::OLDEST, &|_| None);
        let messages: Vec<_> = d.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("write_files.0.permissions")),
            "{messages:?}"
        );
        // Unknown top-level keys are rejected from 23.4 on.
        assert!(
            messages.iter().any(|m| m.starts_with("cloud-init 23.4 rejects")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("deprecated")), "{messages:?}");
        assert!(!check("#cloud-config\nruncmd: [[ls]]\n", Release::OLDEST, &|_| None).has_errors());
    }

    #[test]
    fn pointers_escape_keys() {
        assert_eq!(
            pointer(&[Seg::Key("a/b".into()), Seg::Index(2), Seg::Key("~".into())]),
            "/a~1b/2/~0"
        );
    }
}
