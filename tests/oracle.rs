//! Every example (`examples/*/*.yaml`) and feature fixture (`tests/fixtures/features`)
//! is built and judged by the oracles installed by `.ci/install-oracles.sh`:
//!
//! - PyYAML (what cloud-init loads user-data with) reads each output as exactly the
//!   JSON document ctxgen meant, with no anchors, aliases or duplicate keys;
//! - `cloud-init schema` of 22.4, 25.1 and 26.2 accepts each output with no deprecation
//!   notice, for every one of those releases in the spec's target range
//!   (`target.cloud_init` up to the newest);
//! - building twice gives the same bytes, and the first line is `#cloud-config`.
//!
//! A missing oracle fails the test: it never passes by skipping.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ctxgen::cloud_config::Release;

use common::{INSTALL_HINT, SpecFile};

/// The releases `tests/oracle/cloud-init-schema` can run.
const ORACLE_RELEASES: [&str; 3] = ["22.4", "25.1", "26.2"];

/// Oracle runs at once. `cloud-init schema` spends most of its time starting Python,
/// so a few more runs than cores keep the machine busy; `CTXGEN_ORACLE_JOBS` overrides.
const DEFAULT_WORKERS: usize = 4;

/// One `cloud-init-schema RELEASE FILE` run.
struct Job {
    label: String,
    release: &'static str,
    file: PathBuf,
}

#[test]
fn every_spec_passes_the_oracles() {
    let specs = common::spec_files();
    assert!(
        specs.iter().any(|s| s.label.starts_with("features/")),
        "no feature fixtures found under tests/fixtures/features"
    );
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut failures = Vec::new();
    let mut jobs = Vec::new();
    for spec in &specs {
        match build_checked(spec) {
            Ok((artifact, oldest)) => {
                common::write_pair(dir.path(), &spec.stem(), &artifact);
                let file = dir.path().join(format!("{}.yaml", spec.stem()));
                for release in releases_from(oldest) {
                    jobs.push(Job {
                        label: spec.label.clone(),
                        release,
                        file: file.clone(),
                    });
                }
            }
            Err(problem) => failures.push(format!("{}: {problem}", spec.label)),
        }
    }

    if let Err(report) = common::roundtrip_batch(dir.path()) {
        failures.push(format!(
            "PyYAML reads these outputs differently from their JSON (file names are the spec labels with `/` as `__`):\n{report}"
        ));
    }

    let workers = std::env::var("CTXGEN_ORACLE_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(DEFAULT_WORKERS);
    let started = Instant::now();
    failures.extend(run_schema_oracles(&jobs, workers));
    eprintln!(
        "cloud-init-schema: {} runs for {} specs on {workers} workers in {:.1} s",
        jobs.len(),
        specs.len(),
        started.elapsed().as_secs_f64()
    );

    assert!(
        failures.is_empty(),
        "{} oracle failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Builds a spec twice and checks what does not need an oracle: it builds, the two
/// builds agree byte for byte, and the output starts with `#cloud-config`. Returns the
/// artifact and the oldest release of the spec's target range.
fn build_checked(spec: &SpecFile) -> Result<(ctxgen::Artifact, Release), String> {
    let (first, _) = common::build_file(spec).map_err(|d| format!("does not build:\n{d}"))?;
    // Secrets (generated values, password salts) differ at every build by design;
    // with `--redact` the output must be the same bytes every time.
    let (one, _) = common::build_file_redacted(spec).map_err(|d| format!("redacted build failed:\n{d}"))?;
    let (two, _) = common::build_file_redacted(spec).map_err(|d| format!("second build failed:\n{d}"))?;
    if one.yaml != two.yaml || one.json != two.json {
        return Err("two redacted builds of the same spec differ (output must be deterministic)".into());
    }
    if first.yaml.lines().next() != Some("#cloud-config") {
        return Err(format!(
            "the first line is {:?}, not `#cloud-config`",
            first.yaml.lines().next().unwrap_or("")
        ));
    }
    Ok((first, target_release(spec)?))
}

/// `target.cloud_init` of a spec, or the default.
fn target_release(spec: &SpecFile) -> Result<Release, String> {
    let text = std::fs::read_to_string(&spec.path).map_err(|e| e.to_string())?;
    let doc: serde_json::Value = serde_saphyr::from_str(&text).map_err(|e| e.to_string())?;
    match doc.pointer("/target/cloud_init") {
        None => Ok(Release::OLDEST),
        Some(v) => v
            .as_str()
            .and_then(Release::parse)
            .ok_or_else(|| format!("built, but `target.cloud_init` {v} is not a release")),
    }
}

/// The oracle releases from `oldest` to the newest.
fn releases_from(oldest: Release) -> Vec<&'static str> {
    ORACLE_RELEASES
        .into_iter()
        .filter(|r| Release::parse(r).is_some_and(|r| r >= oldest))
        .collect()
}

/// Runs every job on `workers` threads; returns one message per failing job.
fn run_schema_oracles(jobs: &[Job], workers: usize) -> Vec<String> {
    let script = common::root().join("tests/oracle/cloud-init-schema");
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers.min(jobs.len()) {
            scope.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Some(message) = run_schema_oracle(&script, job) {
                        failures.lock().expect("no worker panics").push(message);
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().expect("no worker panics");
    failures.sort();
    failures
}

/// `None` when cloud-init `release` accepts the file with no deprecation.
fn run_schema_oracle(script: &std::path::Path, job: &Job) -> Option<String> {
    let out = match Command::new(script).arg(job.release).arg(&job.file).output() {
        Ok(out) => out,
        Err(e) => {
            return Some(format!(
                "{} at cloud-init {}: cannot run {}: {e}; {INSTALL_HINT}",
                job.label,
                job.release,
                script.display()
            ));
        }
    };
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let said = said.trim_end();
    match out.status.code() {
        Some(0) => None,
        Some(1) => Some(format!(
            "{} is rejected by cloud-init {}:\n{said}",
            job.label, job.release
        )),
        _ => Some(format!(
            "{}: the cloud-init {} oracle is missing or broken ({}):\n{said}\n{INSTALL_HINT}",
            job.label, job.release, out.status
        )),
    }
}
