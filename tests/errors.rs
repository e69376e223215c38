//! Bad specs and what the user sees about them.
//!
//! Every `tests/fixtures/errors/err_*.yaml` is built through the library. Each must
//! fail with at least one error (not just warnings), without panicking, and every
//! error must be located (file, line, column, snippet) and carry a fix hint. The
//! rendered text is snapshotted, so a change in wording shows up in review.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use ctxgen::{Artifact, BuildOptions, Diagnostics, Sources};

/// The result of one build, the sources it read, and how long it took.
struct Outcome {
    result: Result<Vec<Artifact>, Diagnostics>,
    sources: Sources,
    elapsed: Duration,
}

/// Builds `text` (every role and instance), registered as `name`, with local files
/// looked up in `dir`.
fn build(name: &str, text: String, dir: &Path) -> Outcome {
    let mut sources = Sources::new();
    let id = sources.add(name, text);
    let options = BuildOptions::new(dir);
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| ctxgen::build_all(&mut sources, id, &options)))
        .unwrap_or_else(|_| panic!("{name}: the build panicked"));
    Outcome {
        result,
        sources,
        elapsed: started.elapsed(),
    }
}

/// Builds one fixture, which must fail; returns its diagnostics, sources and timing.
fn build_failing(path: &Path) -> (Diagnostics, Sources, Duration) {
    let name = path.file_name().expect("a fixture file").to_string_lossy();
    let text = std::fs::read_to_string(path).expect("fixture is readable UTF-8");
    let dir = path.parent().expect("fixtures live in a folder");
    let outcome = build(&name, text, dir);
    match outcome.result {
        Ok(artifacts) => panic!(
            "{name}: expected errors, but it compiled (warnings: {})",
            artifacts
                .iter()
                .map(|a| a.warnings.render(&outcome.sources, false))
                .collect::<String>()
        ),
        Err(diagnostics) => (diagnostics, outcome.sources, outcome.elapsed),
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/errors")
        .join(name)
}

#[test]
fn error_fixtures() {
    insta::glob!("fixtures/errors/err_*.yaml", |path| {
        let (diagnostics, sources, _) = build_failing(path);
        let rendered = diagnostics.render(&sources, false);
        let name = path.display();
        assert!(diagnostics.has_errors(), "{name}: only warnings:\n{rendered}");
        for d in diagnostics.iter().filter(|d| d.is_error()) {
            assert!(
                d.location(&sources).is_some(),
                "{name}: an error without a location:\n{rendered}"
            );
            assert!(
                d.hint.as_deref().is_some_and(|h| !h.trim().is_empty()),
                "{name}: an error without a hint:\n{rendered}"
            );
        }
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn alias_bomb_fails_fast() {
    let (diagnostics, _, elapsed) = build_failing(&fixture("err_alias_bomb.yaml"));
    assert!(diagnostics.has_errors());
    assert!(
        elapsed < Duration::from_secs(1),
        "rejecting the alias bomb took {elapsed:?}"
    );
}

#[test]
fn several_errors_are_all_reported() {
    let (diagnostics, _, _) = build_failing(&fixture("err_many.yaml"));
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    assert!(errors >= 3, "expected every error of err_many.yaml, got {errors}");
}

/// `mode: 0644` without quotes is the octal number 420 under YAML 1.1, but a spec
/// field of type string keeps the digits as written, so it means what the user meant
/// and the output carries the quoted string "0644".
#[test]
fn unquoted_mode_keeps_its_octal_digits() {
    let text =
        "version: 1\nname: webapp\nfiles:\n  - path: /etc/motd\n    content: \"hi\\n\"\n    mode: 0644\n";
    let outcome = build("mode.yaml", text.to_string(), Path::new("."));
    let artifact = outcome
        .result
        .unwrap_or_else(|d| panic!("unquoted mode is refused:\n{}", d.render(&outcome.sources, false)))
        .pop()
        .expect("one user-data");
    let motd = artifact.json["write_files"]
        .as_array()
        .and_then(|files| files.iter().find(|f| f["path"] == "/etc/motd"))
        .expect("/etc/motd is written");
    assert_eq!(motd["permissions"], "0644");
    assert!(artifact.yaml.contains("permissions: \"0644\"") || artifact.yaml.contains("permissions: '0644'"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Whatever the bytes, a build returns (an artifact or located diagnostics that
    /// render) and never panics: YAML-ish noise with multi-byte characters and tabs.
    #[test]
    fn arbitrary_yaml_never_panics(
        body in "(version: 1\nname: a\n)?([a-z_ \t:\\-\\[\\]{},\"'&*#|>!é€\n]|users|files|mode|ssh_keys){0,80}",
    ) {
        let outcome = build("noise.yaml", body, Path::new("."));
        if let Err(diagnostics) = outcome.result {
            let rendered = diagnostics.render(&outcome.sources, false);
            proptest::prop_assert!(diagnostics.iter().all(|d| d.hint.is_some()), "{}", rendered);
        }
    }
}
