//! `ctxgen check` against cloud-init on the same files: milliseconds per file, and
//! the ratios the project promises (≥ 20× faster than cloud-init validating
//! in-process, ≥ 1000× faster than its `cloud-init schema` command, per file).
//!
//! The files: every document of the verdict corpus (`tests/fixtures/check/corpus`),
//! repeated until there are at least 1,000, copied into a temporary folder.
//!
//! - ctxgen in-process: `check::check_bytes` on every file, one thread, best of 5
//!   rounds (schema, lint and all).
//! - ctxgen CLI: `ctxgen check --format json FOLDER` once over all files (parallel, as
//!   CI runs it), best of 3; and `ctxgen check FILE` started once per file for 20
//!   files.
//! - cloud-init in-process: `tests/oracle/schema-verdicts 26.2` (cloud-init's own
//!   `validate_cloudconfig_file` in one Python process), its reported ms per file.
//! - cloud-init CLI: `tests/oracle/cloud-init-schema 26.2 FILE` for 10 files.
//!
//! Run: `cargo bench --bench check` (needs the oracles: `.ci/install-oracles.sh`).
//! Under `cargo test --benches` it only checks every corpus file once, as a smoke
//! test, without cloud-init.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use ctxgen::check::{Options, check_bytes};

const MIN_FILES: usize = 1000;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let sources = common::corpus_files(None);
    assert!(!sources.is_empty(), "no corpus");
    if !bench {
        let options = Options::default();
        for f in &sources {
            let bytes = std::fs::read(f).expect("read");
            let report = check_bytes(&f.display().to_string(), &bytes, &options);
            assert_eq!(report.kind, "cloud-config", "{}", f.display());
        }
        println!("check smoke test: {} corpus files checked", sources.len());
        return;
    }

    let dir = tempfile::tempdir().expect("temporary folder");
    let mut files = Vec::new();
    let mut round = 0;
    while files.len() < MIN_FILES {
        for src in &sources {
            let name = format!("{round}-{}", files.len());
            let path = dir.path().join(format!("{name}.yaml"));
            std::fs::copy(src, &path).expect("copy");
            files.push(path);
        }
        round += 1;
    }
    let n = files.len() as f64;
    let inputs: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read(f).expect("read")))
        .collect();
    println!(
        "corpus: {} files ({} distinct documents)",
        files.len(),
        sources.len()
    );

    // ctxgen, in-process, one thread.
    let options = Options::default();
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for (name, bytes) in &inputs {
            std::hint::black_box(check_bytes(name, bytes, &options));
        }
        best = best.min(start.elapsed());
    }
    let ctx_inproc = ms(best) / n;
    println!("ctxgen in-process (1 thread):      {ctx_inproc:>9.4} ms/file");

    // ctxgen CLI over the folder, and once per file.
    let exe = env!("CARGO_BIN_EXE_ctxgen");
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let out = Command::new(exe)
            .args(["check", "--format", "json"])
            .arg(dir.path())
            .output()
            .expect("run ctxgen");
        best = best.min(start.elapsed());
        assert!(out.status.code().is_some_and(|c| c <= 1), "ctxgen check failed");
    }
    let ctx_folder = ms(best) / n;
    println!("ctxgen CLI, whole folder:          {ctx_folder:>9.4} ms/file");
    let start = Instant::now();
    for f in files.iter().take(20) {
        Command::new(exe)
            .arg("check")
            .arg(f)
            .output()
            .expect("run ctxgen");
    }
    let ctx_cli_single = ms(start.elapsed()) / 20.0;
    println!("ctxgen CLI, one process per file:  {ctx_cli_single:>9.4} ms/file");

    // cloud-init in-process.
    let out = Command::new(common::root().join("tests/oracle/schema-verdicts"))
        .arg("26.2")
        .args(&files)
        .output()
        .expect("run tests/oracle/schema-verdicts (install the oracles with .ci/install-oracles.sh)");
    assert!(
        out.status.success(),
        "schema-verdicts failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ci_inproc = doc["per_file_ms"].as_f64().expect("per_file_ms");
    println!("cloud-init 26.2 in-process:        {ci_inproc:>9.4} ms/file");

    // cloud-init CLI.
    let sample = 10;
    let start = Instant::now();
    for f in files.iter().take(sample) {
        Command::new(common::root().join("tests/oracle/cloud-init-schema"))
            .arg("26.2")
            .arg(f)
            .output()
            .expect("run cloud-init-schema");
    }
    let ci_cli = ms(start.elapsed()) / sample as f64;
    println!("cloud-init 26.2 CLI (schema -c):   {ci_cli:>9.4} ms/file");

    println!();
    println!(
        "in-process: ctxgen is {:.0}x faster than cloud-init (target >= 20x)",
        ci_inproc / ctx_inproc
    );
    println!(
        "CLI:        ctxgen over a folder is {:.0}x faster per file than `cloud-init schema` (target >= 1000x)",
        ci_cli / ctx_folder
    );
    println!(
        "CLI:        one `ctxgen check FILE` process is {:.0}x faster than one `cloud-init schema` process",
        ci_cli / ctx_cli_single
    );
}
