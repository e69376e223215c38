//! Every output field has a source: for each example and feature fixture, every leaf
//! of the generated document (a scalar, or an empty list or map) is located by the
//! provenance table at a span that lies inside a text the build read. That is what
//! lets an error found in the output point at the user's line.

mod common;

use serde_json::Value;

#[test]
fn every_output_leaf_has_a_source() {
    let specs = common::spec_files();
    assert!(!specs.is_empty(), "no specs found");
    let mut problems = Vec::new();
    let mut leaves = 0;
    for spec in &specs {
        let (artifact, sources) = match common::build_file(spec) {
            Ok(built) => built,
            Err(d) => {
                problems.push(format!("{}: does not build:\n{d}", spec.label));
                continue;
            }
        };
        let mut pointers = Vec::new();
        collect_leaves(&artifact.json, String::new(), &mut pointers);
        leaves += pointers.len();
        for pointer in pointers {
            match artifact.provenance.locate(&pointer) {
                None => problems.push(format!("{}: `{pointer}` has no source", spec.label)),
                Some(span) => {
                    let text_len = sources.get(span.file).map(|f| f.text.len());
                    if text_len.is_none_or(|len| span.start > span.end || span.end > len) {
                        problems.push(format!(
                            "{}: `{pointer}` points at {span:?}, outside every source the build read",
                            spec.label
                        ));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {leaves} output leaves are not located:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// JSON pointers (RFC 6901) of every leaf under `value`.
fn collect_leaves(value: &Value, pointer: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                let key = key.replace('~', "~0").replace('/', "~1");
                collect_leaves(child, format!("{pointer}/{key}"), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, child) in items.iter().enumerate() {
                collect_leaves(child, format!("{pointer}/{i}"), out);
            }
        }
        _ => out.push(pointer),
    }
}

#[test]
fn pointers_escape_keys() {
    let mut out = Vec::new();
    collect_leaves(
        &serde_json::json!({"a/b": {"c~d": [1, []]}, "e": {}}),
        String::new(),
        &mut out,
    );
    assert_eq!(out, ["/a~1b/c~0d/0", "/a~1b/c~0d/1", "/e"]);
}
