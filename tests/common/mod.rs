//! Helpers shared by the oracle, round-trip, schema and provenance suites: where the
//! specs live, building one, writing an output pair, and running the PyYAML oracle.
//!
//! Each test crate includes this module and uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ctxgen::secrets::SecretsMode;
use ctxgen::{Artifact, BuildOptions, Sources};

/// What to tell someone whose machine lacks an oracle.
pub const INSTALL_HINT: &str = "install the oracles with `sudo .ci/install-oracles.sh` (see its header)";

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The documents of the verdict corpus (`tests/fixtures/check/corpus`, or `dir`),
/// sorted.
pub fn corpus_files(dir: Option<PathBuf>) -> Vec<PathBuf> {
    let top = dir.unwrap_or_else(|| root().join("tests/fixtures/check/corpus"));
    let mut files = Vec::new();
    let mut stack = vec![top.clone()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty(), "no corpus documents under {}", top.display());
    files
}

/// Asserts the committed generated file `relative` equals `fresh`, or rewrites it
/// when `CTXGEN_BLESS=1`; `test` names the test to run to regenerate it.
pub fn assert_committed(relative: &str, fresh: &str, test: &str) {
    let path = root().join(relative);
    if std::env::var_os("CTXGEN_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, fresh).expect("write the generated file");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{relative} is stale: the model it is generated from changed. Regenerate it with\n\
         \n    CTXGEN_BLESS=1 cargo test --test {test}\n\
         \nand commit the result."
    );
}

/// A spec file the suites run over: one user-data of it.
#[derive(Debug, Clone)]
pub struct SpecFile {
    pub path: PathBuf,
    /// Short name for messages: `features/storage`, `examples/webserver/webserver`, or
    /// `examples/three-tier/three-tier@app-01` for one instance (or role) of a spec.
    pub label: String,
    /// The instance or role, for a spec that describes several user-data.
    pub unit: Option<ctxgen::spec::Select>,
}

impl SpecFile {
    /// A file-name-safe form of the label, unique among the specs.
    pub fn stem(&self) -> String {
        self.label.replace('/', "__")
    }
}

/// Every user-data of every `examples/*/*.yaml` and `tests/fixtures/features/*.yaml`
/// (one per instance, or role, of a spec that has them), found when the test runs (so
/// new examples are picked up without touching the tests), sorted.
pub fn spec_files() -> Vec<SpecFile> {
    let mut files = Vec::new();
    for dir in sorted_entries(&root().join("examples")) {
        if dir.is_dir() {
            let name = file_stem(&dir);
            for file in yaml_files(&dir) {
                files.push((format!("examples/{name}/{}", file_stem(&file)), file));
            }
        }
    }
    for file in yaml_files(&root().join("tests/fixtures/features")) {
        files.push((format!("features/{}", file_stem(&file)), file));
    }
    files
        .into_iter()
        .flat_map(|(label, path)| {
            let units = units_of(&path);
            if units.is_empty() {
                return vec![SpecFile {
                    path,
                    label,
                    unit: None,
                }];
            }
            units
                .into_iter()
                .map(|(name, unit)| SpecFile {
                    path: path.clone(),
                    label: format!("{label}@{name}"),
                    unit: Some(unit),
                })
                .collect()
        })
        .collect()
}

/// The instances (else the roles) of a spec, each with how to select it.
fn units_of(path: &Path) -> Vec<(String, ctxgen::spec::Select)> {
    use ctxgen::spec::{Select, Unit};
    let mut sources = Sources::new();
    let id = sources.add(
        path.display().to_string(),
        std::fs::read_to_string(path).unwrap_or_default(),
    );
    let Ok(layout) = ctxgen::spec::layout(&sources, id, None) else {
        return Vec::new();
    };
    layout
        .units()
        .into_iter()
        .filter_map(|unit| {
            let name = layout.unit_name(unit)?.to_string();
            let select = match unit {
                Unit::Instance(_) => Select::Instance(name.clone()),
                _ => Select::Role(name.clone()),
            };
            Some((name, select))
        })
        .collect()
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    paths.sort();
    paths
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir)
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
        .collect()
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The environment specs see in tests: every variable is set, to a value that names
/// it (`test-value-of-DB_PASSWORD`), so `from: env` secrets resolve.
pub fn test_env() -> SecretsMode {
    SecretsMode::Resolve(std::sync::Arc::new(|name| Some(format!("test-value-of-{name}"))))
}

/// Builds a spec file (its unit, if it has one), with local paths relative to its
/// folder and secrets from [`test_env`]. On failure, the diagnostics rendered as the CLI
/// shows them.
pub fn build_file(spec: &SpecFile) -> Result<(Artifact, Sources), String> {
    build_file_with(spec, test_env())
}

/// Builds a spec file with `--redact`: the same bytes at every build, secrets or not.
pub fn build_file_redacted(spec: &SpecFile) -> Result<(Artifact, Sources), String> {
    build_file_with(spec, SecretsMode::Redact)
}

fn build_file_with(spec: &SpecFile, secrets: SecretsMode) -> Result<(Artifact, Sources), String> {
    let path = &spec.path;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    build_text_with(
        &path.display().to_string(),
        &text,
        base,
        secrets,
        spec.unit.clone(),
    )
}

/// Builds spec text registered under `name`, with local paths relative to `base`.
pub fn build_text(name: &str, text: &str, base: &Path) -> Result<(Artifact, Sources), String> {
    build_text_with(name, text, base, test_env(), None)
}

/// [`build_text`] for one unit (instance or role) of the spec.
pub fn build_text_unit(
    name: &str,
    text: &str,
    base: &Path,
    unit: Option<ctxgen::spec::Select>,
) -> Result<(Artifact, Sources), String> {
    build_text_with(name, text, base, test_env(), unit)
}

fn build_text_with(
    name: &str,
    text: &str,
    base: &Path,
    secrets: SecretsMode,
    select: Option<ctxgen::spec::Select>,
) -> Result<(Artifact, Sources), String> {
    let mut sources = Sources::new();
    let id = sources.add(name, text);
    let options = BuildOptions {
        secrets,
        select,
        ..BuildOptions::new(base)
    };
    match ctxgen::build(&mut sources, id, &options) {
        Ok(artifact) => Ok((artifact, sources)),
        Err(diags) => Err(diags.render(&sources, false)),
    }
}

/// Writes `STEM.yaml` (the user-data) and `STEM.json` (the document it must mean).
pub fn write_pair(dir: &Path, stem: &str, artifact: &Artifact) {
    std::fs::write(dir.join(format!("{stem}.yaml")), &artifact.yaml).expect("write YAML output");
    std::fs::write(
        dir.join(format!("{stem}.json")),
        ctxgen::emit::to_json(&artifact.json),
    )
    .expect("write JSON output");
}

/// Runs `yaml_roundtrip.py --batch DIR` once. `Ok` when PyYAML reads every YAML file
/// as exactly its JSON twin; `Err` with one line per failing pair. A missing or broken
/// oracle panics with the install hint: it must never pass for a success.
pub fn roundtrip_batch(dir: &Path) -> Result<(), String> {
    let script = root().join("tests/oracle/yaml_roundtrip.py");
    let out = Command::new(&script)
        .arg("--batch")
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {INSTALL_HINT}", script.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(text),
        _ => panic!(
            "the PyYAML oracle did not run ({}):\n{text}\n{INSTALL_HINT}",
            out.status
        ),
    }
}
