//! Stage `spec`: the input model, version 1 (`SPEC.md`).
//!
//! Input: a spec file registered in [`Sources`]. Output: a [`Spec`] whose fields carry
//! spans, after shape checks (serde, unknown fields rejected) and value checks
//! (the `validate` module). It reads `version` first and dispatches, so a later spec version
//! gets its own model without touching this one. It reads no other file.

mod credentials;
mod model;
mod validate;

pub use model::*;
pub use validate::parse_cidr;

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{self, FileId, Sources, Span, Spanned};

/// The spec versions this ctxgen reads.
pub const SUPPORTED_VERSIONS: &[u64] = &[1];

/// The fields read before anything else: `version`, and the sections of spec
/// version 1 that this ctxgen does not compile yet (so that they get a clear error
/// instead of "unknown field").
#[derive(Deserialize)]
struct Probe {
    version: Option<Spanned<serde_json::Value>>,
    roles: Option<Spanned<serde::de::IgnoredAny>>,
    instances: Option<Spanned<serde::de::IgnoredAny>>,
}

/// A parsed spec and the warnings its checks found.
#[derive(Debug)]
pub struct Parsed {
    pub spec: Spec,
    pub warnings: Diagnostics,
}

/// Parses and validates file `id` as a spec. All value errors are collected.
pub fn parse(sources: &Sources, id: FileId) -> Result<Parsed, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let probe: Probe = source::parse(sources, id).map_err(one)?;
    let later = [("roles", &probe.roles), ("instances", &probe.instances)];
    let unsupported: Vec<Diagnostic> = later
        .iter()
        .filter_map(|(name, field)| {
            field.as_ref().map(|f| {
                Diagnostic::error(
                    Code::Unsupported,
                    format!("`{name}` is part of spec version 1 but not available in this version of ctxgen"),
                )
                .with_span(f.span)
                .with_hint(format!(
                    "remove `{name}` for now; ctxgen {} compiles the other sections",
                    env!("CARGO_PKG_VERSION")
                ))
            })
        })
        .collect();
    if !unsupported.is_empty() {
        return Err(Diagnostics(unsupported));
    }
    match probe.version {
        None => {
            return Err(one(Diagnostic::error(
                Code::SpecVersion,
                "missing field `version`",
            )
            .with_span(Span::new(id, 0, 0))
            .with_hint("start the spec with `version: 1`")));
        }
        Some(v) if v.value.as_u64().is_some_and(|n| SUPPORTED_VERSIONS.contains(&n)) => {}
        Some(v) => {
            return Err(one(Diagnostic::error(
                Code::SpecVersion,
                format!("unsupported spec version {}", v.value),
            )
            .with_span(v.span)
            .with_hint(if v.value.as_str() == Some("1") {
                "write the number without quotes: `version: 1`"
            } else {
                "this ctxgen reads `version: 1`"
            })));
        }
    }
    let spec: Spec = source::parse(sources, id).map_err(one)?;
    let mut diags = validate::validate(&spec);
    diags.extend(credentials::check(sources, id).0);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(Parsed {
            spec,
            warnings: diags,
        })
    }
}
