//! Stage `spec`: the input model, version 1 (`SPEC.md`).
//!
//! Input: a spec file registered in [`Sources`]. Output: a [`Spec`] whose fields carry
//! spans, after shape checks (serde, unknown fields rejected) and value checks
//! ([`validate`]). It reads `version` first and dispatches, so a later spec version
//! gets its own model without touching this one. It reads no other file.

mod model;
mod validate;

pub use model::*;
pub use validate::parse_cidr;

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{self, FileId, Sources, Span, Spanned};

/// The spec versions this ctxgen reads.
pub const SUPPORTED_VERSIONS: &[u64] = &[1];

/// Only the `version` field, read before anything else.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<Spanned<serde_json::Value>>,
}

/// Parses and validates file `id` as a spec. All value errors are collected.
pub fn parse(sources: &Sources, id: FileId) -> Result<Spec, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let probe: VersionProbe = source::parse(sources, id).map_err(one)?;
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
            .with_hint("this ctxgen reads `version: 1`")));
        }
    }
    let spec: Spec = source::parse(sources, id).map_err(one)?;
    let diags = validate::validate(&spec);
    if diags.has_errors() { Err(diags) } else { Ok(spec) }
}
