//! The published spec schema (`schemas/ctxgen-spec.schema.json`): it is current, it is
//! draft-07 with a description on every property (editors show them on hover), and it
//! accepts every example and feature fixture that ctxgen builds.
//!
//! `CTXGEN_BLESS=1 cargo test --test schema` rewrites the committed file.

mod common;

use std::process::Command;

use serde_json::Value;

const COMMITTED: &str = "schemas/ctxgen-spec.schema.json";
const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// The Python that cloud-init runs on; its `jsonschema` comes with cloud-init.
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// Validates instance files (argv[2:]) against a draft-07 schema (argv[1]), after
/// checking the schema itself against the draft-07 meta-schema. Exit 0 all valid,
/// 1 some invalid (one line per error), 2 when jsonschema is missing.
const VALIDATE_PY: &str = r#"
import json, os, sys
try:
    from jsonschema import Draft7Validator
except ImportError as e:
    print("python3 jsonschema is missing: %s" % e)
    sys.exit(2)
schema = json.load(open(sys.argv[1], encoding="utf-8"))
Draft7Validator.check_schema(schema)
validator = Draft7Validator(schema)
bad = 0
for path in sys.argv[2:]:
    instance = json.load(open(path, encoding="utf-8"))
    name = os.path.basename(path)[:-5].replace("__", "/")
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        bad += 1
        where = "/" + "/".join(map(str, error.absolute_path))
        print("%s: at %s: %s" % (name, where, error.message))
sys.exit(1 if bad else 0)
"#;

#[test]
fn committed_schema_is_current() {
    common::assert_committed(COMMITTED, &ctxgen::schema::spec_schema_text(), "schema");
}

#[test]
fn schema_is_draft_07_with_descriptions() {
    let schema = ctxgen::schema::spec_schema();
    assert_eq!(schema["$schema"], DRAFT_07);
    let mut missing = Vec::new();
    undescribed(&schema, "#", &mut missing);
    if let Some(Value::Object(definitions)) = schema.get("definitions") {
        for (name, definition) in definitions {
            if !has_description(definition) {
                missing.push(format!("#/definitions/{name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "these schema entries have no `description` (add a doc comment to the field or type):\n{}",
        missing.join("\n")
    );
}

/// Collects the location of every property, at any depth, without a description.
fn undescribed(schema: &Value, at: &str, missing: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            for (key, child) in map {
                let child_at = format!("{at}/{key}");
                if key == "properties"
                    && let Value::Object(properties) = child
                {
                    for (name, property) in properties {
                        if !has_description(property) {
                            missing.push(format!("{child_at}/{name}"));
                        }
                    }
                }
                undescribed(child, &child_at, missing);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                undescribed(item, &format!("{at}/{i}"), missing);
            }
        }
        _ => {}
    }
}

fn has_description(schema: &Value) -> bool {
    schema
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

#[test]
fn schema_accepts_every_spec_that_builds() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let schema_path = dir.path().join("schema.json");
    std::fs::write(&schema_path, ctxgen::schema::spec_schema_text()).expect("write schema");
    let mut instances = Vec::new();
    let mut problems = Vec::new();
    for spec in common::spec_files() {
        if let Err(d) = common::build_file(&spec) {
            problems.push(format!("{}: does not build:\n{d}", spec.label));
            continue;
        }
        // Read as ctxgen reads it (YAML 1.2), not as PyYAML would.
        let text = std::fs::read_to_string(&spec.path).expect("read spec");
        let doc: Value = match serde_saphyr::from_str(&text) {
            Ok(doc) => doc,
            Err(e) => {
                problems.push(format!(
                    "{}: builds, but does not load as JSON data: {e}",
                    spec.label
                ));
                continue;
            }
        };
        let path = dir.path().join(format!("{}.json", spec.stem()));
        std::fs::write(&path, serde_json::to_string(&doc).expect("serialize")).expect("write instance");
        instances.push(path);
    }
    assert!(!instances.is_empty(), "no specs found");

    let out = Command::new(SYSTEM_PYTHON)
        .arg("-c")
        .arg(VALIDATE_PY)
        .arg(&schema_path)
        .args(&instances)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {SYSTEM_PYTHON}: {e}; {}", common::INSTALL_HINT));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => {}
        Some(1) => problems.push(format!(
            "the schema rejects specs that ctxgen builds (schema and build disagree):\n{said}"
        )),
        _ => panic!(
            "jsonschema validation did not run ({}):\n{said}\n{}",
            out.status,
            common::INSTALL_HINT
        ),
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
