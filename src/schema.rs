//! JSON Schemas published for editors: the spec schema (draft-07), generated from the
//! spec model so that it can never drift from what `build` accepts.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::spec::Spec;

/// The JSON Schema (draft-07) of spec version 1, with a description on every field.
pub fn spec_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<Spec>();
    schema.to_value()
}

/// [`spec_schema`] as the text committed under `schemas/`.
pub fn spec_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&spec_schema()).unwrap_or_default();
    s.push('\n');
    s
}
