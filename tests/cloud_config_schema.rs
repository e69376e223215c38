//! The published cloud-config schema (`schemas/cloud-config.schema.json`, cloud-init
//! 26.2): it is current, it is a valid draft-07 schema with a description on every key,
//! and, run by Python's `jsonschema` on the verdict corpus as PyYAML loads it, it
//! accepts exactly the documents ctxgen's validator accepts, at every oracle release.
//!
//! `CTXGEN_BLESS=1 cargo test --test cloud_config_schema` rewrites the committed file.

mod common;

use std::process::Command;

use ctxgen::cloud_config::Release;
use ctxgen::cloud_config::jsonschema::cloud_config_schema_text;
use ctxgen::cloud_config::modules::model;
use ctxgen::cloud_config::validate::{ProblemKind, validate};
use ctxgen::source::{Sources, yaml11};

const COMMITTED: &str = "schemas/cloud-config.schema.json";
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// argv[1]: schema; argv[2:]: YAML files. Prints `valid`, `invalid` or `skip` per file,
/// one a line. Values JSON has no type for (dates, sets) become objects no cloud-config
/// type accepts, as they are for cloud-init's validator; bytes become text. Documents
/// draft-07 cannot judge as draft-04 does are skipped: a float with an integral value
/// (an integer in draft-07, not in draft-04) or a mapping key that is not text (JSON
/// keys are).
const VALIDATE_PY: &str = r#"
import datetime, json, sys, yaml
from jsonschema import Draft7Validator, FormatChecker
schema = json.load(open(sys.argv[1], encoding="utf-8"))
Draft7Validator.check_schema(schema)
validator = Draft7Validator(schema, format_checker=FormatChecker())
def judgeable(x):
    if isinstance(x, dict):
        return all(isinstance(k, str) and judgeable(v) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return all(judgeable(v) for v in x)
    return not (isinstance(x, float) and x.is_integer())
def plain(x):
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, bytes):
        return x.decode("latin-1")
    if isinstance(x, (datetime.date, set)):
        return {"\u0000not-json": str(x)}
    return x
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path, encoding="utf-8"))
    if not judgeable(doc):
        print("skip")
        continue
    print("valid" if validator.is_valid(plain(doc)) else "invalid")
"#;

#[test]
fn committed_schema_is_current() {
    common::assert_committed(
        COMMITTED,
        &cloud_config_schema_text(Release::NEWEST),
        "cloud_config_schema",
    );
}

#[test]
fn every_key_has_a_description() {
    let schema: serde_json::Value =
        serde_json::from_str(&cloud_config_schema_text(Release::NEWEST)).expect("JSON");
    let props = schema["properties"].as_object().expect("properties");
    // cloud-init 26.2's schema names 99 top-level keys.
    assert_eq!(props.len(), 99, "top-level keys of the model for 26.2");
    let missing: Vec<&String> = props
        .iter()
        .filter(|(_, v)| v["description"].as_str().is_none_or(|d| d.trim().is_empty()))
        .map(|(k, _)| k)
        .collect();
    assert!(missing.is_empty(), "keys without a description: {missing:?}");
}

#[test]
fn schema_and_validator_agree_on_the_corpus() {
    let files = common::corpus_files(None);
    assert!(
        files.len() >= 300,
        "the corpus has only {} documents",
        files.len()
    );
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut problems = Vec::new();
    for text in ["22.4", "25.1", "26.2"] {
        let release = Release::parse(text).expect("release");
        let schema_path = dir.path().join(format!("{text}.json"));
        std::fs::write(&schema_path, cloud_config_schema_text(release)).expect("write schema");
        let out = Command::new(SYSTEM_PYTHON)
            .arg("-c")
            .arg(VALIDATE_PY)
            .arg(&schema_path)
            .args(&files)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {SYSTEM_PYTHON}: {e}"));
        assert!(
            out.status.success(),
            "jsonschema validation did not run (install python3-jsonschema and python3-yaml):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verdicts: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(verdicts.len(), files.len(), "one verdict per file");
        for (file, theirs) in files.iter().zip(&verdicts) {
            if theirs == "skip" {
                continue;
            }
            let source = std::fs::read_to_string(file).expect("read");
            let mut sources = Sources::new();
            let id = sources.add(file.display().to_string(), source);
            let Ok(loaded) = yaml11::load(&sources, id) else {
                continue;
            };
            if !matches!(loaded.root.kind, yaml11::NodeKind::Map(_)) {
                continue;
            }
            let ours = if validate(model(), &loaded.root, release)
                .iter()
                .any(|p| p.kind == ProblemKind::Error)
            {
                "invalid"
            } else {
                "valid"
            };
            if ours != theirs {
                problems.push(format!(
                    "{text} {}: validator says {ours}, generated schema says {theirs}",
                    file.strip_prefix(common::root()).unwrap_or(file).display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
