//! Stage `spec`: the input model, version 1 (`SPEC.md`).
//!
//! Input: a spec file registered in [`Sources`]. Output: a [`Spec`] whose fields carry
//! spans, after shape checks (serde, unknown fields rejected) and value checks
//! (the `validate` module). It reads `version` first and dispatches, so a later spec version
//! gets its own model without touching this one. It reads no other file.

mod credentials;
mod csv;
mod fleet;
mod merge;
mod model;
mod validate;

pub use fleet::{Instance, InstanceValues, Layout, Select, Unit, layout};
pub use model::*;
pub use validate::parse_cidr;

use serde::Deserialize;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{self, FileId, Sources, Span, Spanned};

/// The spec versions this ctxgen reads.
pub const SUPPORTED_VERSIONS: &[u64] = &[1];

/// The field read before anything else.
#[derive(Deserialize)]
struct Probe {
    version: Option<Spanned<serde_json::Value>>,
}

/// A parsed spec and the warnings its checks found.
#[derive(Debug)]
pub struct Parsed {
    pub spec: Spec,
    pub warnings: Diagnostics,
}

/// Parses and validates file `id` as a spec. All value errors are collected.
pub fn parse(sources: &Sources, id: FileId) -> Result<Parsed, Diagnostics> {
    let checked = check_file(sources, id)?;
    parse_text(sources, id, None, None, checked)
}

/// Parses and validates the spec of one unit of `layout`: the spec itself, or the top
/// level merged with the unit's role and its instance's `vars`.
pub fn parse_unit(
    sources: &mut Sources,
    id: FileId,
    layout: &Layout,
    unit: Unit,
) -> Result<Parsed, Diagnostics> {
    fleet::parse_unit(sources, id, layout, unit)
}

/// What is checked once per spec file, whatever it describes: a `version` this ctxgen
/// reads (or the error), and credentials written in the file (its findings).
fn check_file(sources: &Sources, id: FileId) -> Result<Diagnostics, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let probe: Probe = source::parse(sources, id).map_err(one)?;
    match probe.version {
        None => Err(one(Diagnostic::error(
            Code::SpecVersion,
            "missing field `version`",
        )
        .with_span(Span::new(id, 0, 0))
        .with_hint("start the spec with `version: 1`"))),
        Some(v) if v.value.as_u64().is_some_and(|n| SUPPORTED_VERSIONS.contains(&n)) => {
            Ok(credentials::check(sources, id))
        }
        Some(v) => Err(one(Diagnostic::error(
            Code::SpecVersion,
            format!("unsupported spec version {}", v.value),
        )
        .with_span(v.span)
        .with_hint(if v.value.as_str() == Some("1") {
            "write the number without quotes: `version: 1`"
        } else {
            "this ctxgen reads `version: 1`"
        }))),
    }
}

/// Parses text `id` as a spec: the user's file, or a text assembled from it whose
/// pieces `map` locates. `instance`: the template values of the instance built.
/// `checked`: the findings of [`check_file`] on the user's file, added to the result.
fn parse_text(
    sources: &Sources,
    id: FileId,
    map: Option<source::SpanMap>,
    instance: Option<&InstanceValues>,
    checked: Diagnostics,
) -> Result<Parsed, Diagnostics> {
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let mut spec: Spec = match map {
        Some(map) => source::parse_mapped(sources, id, map),
        None => source::parse(sources, id),
    }
    .map_err(one)?;
    render_host_names(sources, &mut spec, instance).map_err(one)?;
    let mut diags = validate::validate(&spec);
    diags.extend(checked.0);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(Parsed {
            spec,
            warnings: diags,
        })
    }
}

/// `host.hostname` and `host.fqdn` may be templates (`web-{{ instance.index }}`),
/// rendered with `vars` and `instance` before they are checked.
fn render_host_names(
    sources: &Sources,
    spec: &mut Spec,
    instance: Option<&InstanceValues>,
) -> Result<(), Diagnostic> {
    #[derive(serde::Serialize)]
    struct Values<'a> {
        vars: &'a indexmap::IndexMap<String, serde_json::Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        instance: Option<&'a InstanceValues>,
    }
    let values = Values {
        vars: &spec.vars,
        instance,
    };
    let mut rendered = Vec::new();
    for (what, field) in [
        ("host.hostname", &spec.host.hostname),
        ("host.fqdn", &spec.host.fqdn),
    ] {
        if let Some(f) = field
            .as_ref()
            .filter(|f| f.value.contains("{{") || f.value.contains("{%"))
        {
            let text = crate::render::render(
                sources,
                what,
                &f.value,
                crate::render::Origin::Inline(f.span),
                &values,
            )?;
            rendered.push((what, Spanned::new(text.trim().to_string(), f.span)));
        }
    }
    for (what, value) in rendered {
        let field = if what == "host.hostname" {
            &mut spec.host.hostname
        } else {
            &mut spec.host.fqdn
        };
        *field = Some(value);
    }
    Ok(())
}
