//! Compile-time benchmarks: how long `ctxgen::build_all` takes for each spec shipped
//! with the repository (every role and instance of it), with the spec text already in
//! memory; how long a fleet of 1,000 instances of `examples/three-tier` takes (target:
//! under a second); and how long the YAML emitter alone takes on the largest output.
//!
//! Specs are found when the benchmark starts, not when it is compiled:
//! `examples/*/*.yaml`, and `tests/fixtures/features/*.yaml` while there are no
//! examples yet. A spec that does not build is reported on stderr and skipped, so a
//! half-written example never stops the run (the test suite is where it fails).
//!
//! Run: `cargo bench --bench compile` (add `-- NAME` to run only matching ids).
//! Under `cargo test --benches` each benchmark runs once, as a smoke test.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ctxgen::{Artifact, BuildOptions, Sources};

/// One spec to measure, read once before any timing.
struct Case {
    /// Benchmark id: `<example folder>/<file stem>` or `features/<file stem>`.
    id: String,
    /// Path relative to the repository root, as diagnostics name it.
    name: String,
    /// The spec's text.
    text: String,
    /// Build options (the spec's folder, as an absolute path).
    options: BuildOptions,
    /// The largest output of one untimed build, for the emitter benchmark.
    artifact: Artifact,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `*.yaml` files directly inside `dir`, sorted; none when `dir` is missing.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// `examples/*/*.yaml`, sorted by folder then file.
fn example_specs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join("examples")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.iter().flat_map(|d| yaml_files(d)).collect()
}

fn file_label(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn folder_label(path: &Path) -> String {
    path.parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Builds one spec outside the timing; `None` (with a note on stderr) when it cannot
/// be read or does not build.
fn load_case(root: &Path, path: &Path) -> Option<Case> {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("bench: skipping {name}: cannot read it: {e}");
            return None;
        }
    };
    let base = path.parent().unwrap_or(root).to_path_buf();
    // Every `from: env` secret has a value, so specs with secrets are measured too.
    let options = BuildOptions {
        secrets: ctxgen::secrets::SecretsMode::Resolve(std::sync::Arc::new(|name| {
            Some(format!("bench-value-of-{name}"))
        })),
        ..BuildOptions::new(base)
    };
    let mut sources = Sources::new();
    let id = sources.add(name.clone(), text.clone());
    match ctxgen::build_all(&mut sources, id, &options) {
        Ok(artifacts) => Some(Case {
            id: format!("{}/{}", folder_label(path), file_label(path)),
            name,
            text,
            options,
            artifact: artifacts.into_iter().max_by_key(|a| a.yaml.len())?,
        }),
        Err(diagnostics) => {
            eprintln!(
                "bench: skipping {name}: it does not build:\n{}",
                diagnostics.render(&sources, false)
            );
            None
        }
    }
}

fn discover() -> Vec<Case> {
    let root = repo_root();
    let mut paths = example_specs(&root);
    if paths.is_empty() {
        paths = yaml_files(&root.join("tests/fixtures/features"));
    }
    if paths.is_empty() {
        eprintln!("bench: no spec found under examples/*/ or tests/fixtures/features/: nothing to measure");
    }
    paths.iter().filter_map(|p| load_case(&root, p)).collect()
}

fn benches(c: &mut Criterion) {
    let cases = discover();

    let mut group = c.benchmark_group("build");
    for case in &cases {
        group.bench_function(case.id.as_str(), |b| {
            // A fresh source table per call: `build` adds the files it reads to it.
            b.iter_batched(
                || {
                    let mut sources = Sources::new();
                    let id = sources.add(case.name.clone(), case.text.clone());
                    (sources, id)
                },
                |(mut sources, id)| {
                    // Returned, so that dropping them is not timed.
                    let artifacts = ctxgen::build_all(&mut sources, black_box(id), &case.options);
                    (sources, artifacts)
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();

    fleet(c, &cases);

    // The emitter alone, on the largest output document.
    if let Some(largest) = cases.iter().max_by_key(|c| c.artifact.yaml.len()) {
        let mut group = c.benchmark_group("emit_yaml");
        group.throughput(Throughput::Bytes(largest.artifact.yaml.len() as u64));
        group.bench_function(largest.id.as_str(), |b| {
            b.iter(|| ctxgen::emit::to_yaml(black_box(&largest.artifact.json), &largest.artifact.name));
        });
        group.finish();
    }
}

/// Instances in the fleet benchmark.
const FLEET: usize = 1000;

/// `examples/three-tier` with `--instances` of [`FLEET`] rows (a CSV made here: the
/// example's roles in turn, a `workers` variable on each), every user-data built.
fn fleet(c: &mut Criterion, cases: &[Case]) {
    let Some(case) = cases.iter().find(|c| c.id == "three-tier/three-tier") else {
        eprintln!("bench: examples/three-tier/three-tier.yaml is missing: no fleet benchmark");
        return;
    };
    let roles = ["lb", "app", "app", "app", "db"];
    let csv: String = std::iter::once("name,role,workers\n".to_string())
        .chain((0..FLEET).map(|i| {
            let role = roles[i % roles.len()];
            format!("{role}-{i:04},{role},{}\n", i % 7 + 1)
        }))
        .collect();
    let mut group = c.benchmark_group("fleet");
    group.throughput(Throughput::Elements(FLEET as u64));
    group.sample_size(10);
    group.bench_function(format!("three-tier/{FLEET}-instances"), |b| {
        b.iter_batched(
            || {
                let mut sources = Sources::new();
                let id = sources.add(case.name.clone(), case.text.clone());
                let mut options = case.options.clone();
                options.instances = Some(sources.add("fleet.csv", csv.clone()));
                (sources, id, options)
            },
            |(mut sources, id, options)| {
                let artifacts = ctxgen::build_all(&mut sources, black_box(id), &options);
                assert_eq!(artifacts.as_ref().map(Vec::len).unwrap_or(0), FLEET);
                (sources, artifacts)
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = compile;
    config = config();
    targets = benches
}
criterion_main!(compile);
