//! The verdict corpus: every document under `tests/fixtures/check/corpus` is judged by
//! ctxgen's cloud-config model and by cloud-init's own validation of 22.4, 25.1 and
//! 26.2 (`tests/oracle/schema-verdicts`, installed by `.ci/install-oracles.sh`). For
//! each release, at least 97% of the documents must get the same verdict (valid, valid
//! with deprecations, invalid) and at least 97% the same set of error and deprecation
//! paths. Every disagreement is printed; the deliberate ones are listed in the README.
//!
//! `CTXGEN_CORPUS=DIR` runs a part of the corpus only. A missing oracle fails the
//! test: it never passes by skipping.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use ctxgen::cloud_config::Release;
use ctxgen::cloud_config::modules::model;
use ctxgen::cloud_config::validate::{ProblemKind, dotted, validate};
use ctxgen::source::{Sources, yaml11};
use serde_json::Value;

const RELEASES: [&str; 3] = ["22.4", "25.1", "26.2"];
const REQUIRED_AGREEMENT: f64 = 0.97;

/// A verdict and the paths behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Judgement {
    verdict: &'static str,
    errors: BTreeSet<String>,
    deprecations: BTreeSet<String>,
    /// Set when the verdict is not about the schema (YAML syntax, not a mapping): paths
    /// are then not compared.
    other: bool,
}

fn ctxgen_judgement(file: &Path, release: Release) -> Judgement {
    let text = std::fs::read_to_string(file).expect("corpus files are UTF-8");
    let mut sources = Sources::new();
    let id = sources.add(file.display().to_string(), text);
    let root = match yaml11::load(&sources, id) {
        Ok(loaded) => loaded.root,
        Err(_) => {
            return Judgement {
                verdict: "invalid",
                errors: BTreeSet::new(),
                deprecations: BTreeSet::new(),
                other: true,
            };
        }
    };
    let problems = validate(model(), &root, release);
    let paths = |kind| {
        problems
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| dotted(&p.path))
            .collect::<BTreeSet<_>>()
    };
    let errors = paths(ProblemKind::Error);
    let deprecations = paths(ProblemKind::Deprecation);
    let verdict = if !errors.is_empty() {
        "invalid"
    } else if !deprecations.is_empty() {
        "deprecated"
    } else {
        "valid"
    };
    Judgement {
        verdict,
        errors,
        deprecations,
        other: !matches!(root.kind, yaml11::NodeKind::Map(_)),
    }
}

fn oracle_judgements(release: &str, files: &[PathBuf]) -> BTreeMap<String, Judgement> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/schema-verdicts");
    let out = Command::new(&script)
        .arg(release)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} {release} failed ({}); install the oracles with .ci/install-oracles.sh\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("schema-verdicts prints JSON");
    let paths = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|p| p["path"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    doc["files"]
        .as_object()
        .expect("files object")
        .iter()
        .map(|(name, v)| {
            let verdict = match v["verdict"].as_str() {
                Some("valid") => "valid",
                Some("deprecated") => "deprecated",
                _ => "invalid",
            };
            let note = v["note"].as_str().unwrap_or_default();
            let judgement = Judgement {
                verdict,
                errors: paths(&v["errors"]),
                deprecations: paths(&v["deprecations"]),
                other: !note.is_empty(),
            };
            (name.clone(), judgement)
        })
        .collect()
}

#[test]
fn verdicts_agree_with_cloud_init() {
    let files = common::corpus_files(std::env::var_os("CTXGEN_CORPUS").map(PathBuf::from));
    let mut failed = Vec::new();
    for release_text in RELEASES {
        let release = Release::parse(release_text).expect("known release");
        let oracle = oracle_judgements(release_text, &files);
        let (mut same_verdict, mut same_paths) = (0usize, 0usize);
        let mut report = Vec::new();
        for file in &files {
            let name = file.display().to_string();
            let theirs = oracle
                .get(&name)
                .unwrap_or_else(|| panic!("no oracle verdict for {name}"));
            let ours = ctxgen_judgement(file, release);
            let verdict_ok = ours.verdict == theirs.verdict;
            let paths_ok = verdict_ok
                && (ours.other
                    || theirs.other
                    || (ours.errors == theirs.errors && ours.deprecations == theirs.deprecations));
            same_verdict += usize::from(verdict_ok);
            same_paths += usize::from(paths_ok);
            if !paths_ok {
                let short = file
                    .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .unwrap_or(file)
                    .display()
                    .to_string();
                report.push(format!(
                    "  {short}\n    cloud-init: {} errors {:?} deprecations {:?}\n    ctxgen:     {} errors {:?} deprecations {:?}",
                    theirs.verdict, theirs.errors, theirs.deprecations, ours.verdict, ours.errors, ours.deprecations
                ));
            }
        }
        let n = files.len() as f64;
        let (v, p) = (same_verdict as f64 / n, same_paths as f64 / n);
        println!(
            "cloud-init {release_text}: {} documents, verdicts agree {same_verdict} ({:.1}%), paths agree {same_paths} ({:.1}%)",
            files.len(),
            v * 100.0,
            p * 100.0
        );
        for line in &report {
            println!("{line}");
        }
        if v < REQUIRED_AGREEMENT || p < REQUIRED_AGREEMENT {
            failed.push(release_text);
        }
    }
    assert!(
        failed.is_empty(),
        "agreement below {:.0}% for cloud-init {failed:?} (see the list above)",
        REQUIRED_AGREEMENT * 100.0
    );
}
