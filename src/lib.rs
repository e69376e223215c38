//! # ctxgen — the contextualization compiler for cloud-init
//!
//! ctxgen compiles an application spec (users, SSH keys, packages, files and
//! templates, services, commands, volumes, firewall, CernVM-FS, runtime secrets,
//! configuration management bootstraps) into cloud-init user-data that cloud-init
//! accepts at every release from the spec's `target.cloud_init` to the newest, and
//! that reads back under YAML 1.1 exactly as intended.
//!
//! ```no_run
//! use ctxgen::{BuildOptions, Sources};
//!
//! let mut sources = Sources::new();
//! let text = std::fs::read_to_string("examples/webserver/webserver.yaml").unwrap();
//! let id = sources.add("examples/webserver/webserver.yaml", text);
//! let options = BuildOptions::new("examples/webserver");
//! match ctxgen::build(&mut sources, id, &options) {
//!     Ok(artifact) => print!("{}", artifact.yaml),
//!     Err(diagnostics) => eprint!("{}", diagnostics.render(&sources, false)),
//! }
//! ```
//!
//! The pipeline, one module a stage: [`source`] (YAML with spans) → [`spec`] (the
//! input model and its checks) → `compile` (one file per feature, recording
//! provenance) → [`cloud_config`] (the typed output model and the gate that checks it)
//! → [`emit`] (one emitter for YAML and JSON) → `deliver` (multipart, gzip, base64,
//! the provider's size budget, with [`userdata::write`]). The library never prints, never exits
//! and reads no environment; the `ctxgen` binary does those.

pub mod check;
pub mod cloud_config;
mod compile;
mod deliver;
pub mod diag;
pub mod emit;
pub mod lint;
mod local;
mod render;
pub mod schema;
pub mod secrets;
pub mod seed;
pub mod source;
pub mod spec;
mod sshkey;
pub mod userdata;

use std::path::PathBuf;

pub use compile::Provenance;
pub use deliver::{CLOUD_CONFIG_PART, Delivery};
pub use diag::{Code, Diagnostic, Diagnostics, Severity};
pub use source::{FileId, Sources, Span, Spanned};

use cloud_config::Release;
use local::LocalFiles;

/// Where local files are found, and how far they may be.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The spec's folder: local paths are relative to it.
    pub base_dir: PathBuf,
    /// A folder that contains `base_dir` and that local files may come from
    /// (`--files-dir`). `None`: only the spec's folder.
    pub files_root: Option<PathBuf>,
    /// How secrets get their values: from their sources (with the environment the
    /// caller hands in), or redacted (`--redact`).
    pub secrets: secrets::SecretsMode,
    /// A folder of bootstrap templates (`--templates`): a file there replaces the
    /// built-in template of the same name (`ansible-pull.sh`). `None`: built-in only.
    pub templates_dir: Option<PathBuf>,
}

impl BuildOptions {
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            base_dir: base_dir.into(),
            files_root: None,
            secrets: secrets::SecretsMode::default(),
            templates_dir: None,
        }
    }
}

/// A compiled spec.
#[derive(Debug)]
pub struct Artifact {
    /// The spec's name.
    pub name: String,
    /// The `#cloud-config` text (the cloud-config part of a multipart payload).
    pub yaml: String,
    /// What the provider receives (`output.format` and `output.compression`): the
    /// `#cloud-config` text, a MIME multipart, either gzip-compressed, and base64 text
    /// where the provider needs text. What `ctxgen build` writes.
    pub bytes: Vec<u8>,
    /// How `bytes` was made from `yaml`, and its size as the provider counts it.
    pub delivery: Delivery,
    /// The same document as a JSON value.
    pub json: serde_json::Value,
    /// Output paths to the spec spans that produced them.
    pub provenance: Provenance,
    /// Findings that did not stop the build.
    pub warnings: Diagnostics,
    /// The values of `generate` secrets, for `--secrets-out` (they print redacted).
    pub generated: Vec<secrets::Secret>,
}

/// Compiles spec file `spec` of `sources` (files read on the way are added to
/// `sources`, so every diagnostic can be rendered). On failure, every error found is
/// returned, located.
pub fn build(sources: &mut Sources, spec: FileId, options: &BuildOptions) -> Result<Artifact, Diagnostics> {
    let spec::Parsed {
        spec: parsed,
        mut warnings,
    } = spec::parse(sources, spec)?;
    let files = LocalFiles::new(&options.base_dir, options.files_root.clone());
    let resolved = secrets::resolve(&parsed.secrets, &options.secrets, &files)?;
    let compiled = compile::compile(
        &parsed,
        &files,
        sources,
        &resolved,
        options.templates_dir.as_deref(),
    )
    .map_err(|mut d| {
        secrets::scrub(&mut d, &resolved);
        d
    })?;
    warnings.extend(compiled.warnings.0);
    secrets::scrub(&mut warnings, &resolved);
    let json = emit::to_value(&compiled.config);
    let oldest = Release::parse(&parsed.target.cloud_init.value).unwrap_or(Release::OLDEST);
    let yaml = emit::to_yaml(&json, &parsed.name.value).map_err(|e| {
        Diagnostics(vec![Diagnostic::error(
            Code::OutputGate,
            format!("internal: cannot emit YAML: {e}"),
        )])
    })?;
    let mut gate = cloud_config::check(&yaml, oldest, &|p| compiled.provenance.locate(p));
    if gate.has_errors() {
        secrets::scrub(&mut gate, &resolved);
        return Err(gate);
    }
    let request = deliver::Request {
        output: &parsed.output,
        provider: parsed.target.provider,
        provenance: &compiled.provenance,
        defaults: parsed.version.span,
        sources,
    };
    let (bytes, delivery) = deliver::deliver(&yaml, &json, &request).map_err(|d| {
        let mut d = Diagnostics(vec![d]);
        secrets::scrub(&mut d, &resolved);
        d
    })?;
    let generated = resolved
        .generated
        .iter()
        .filter_map(|name| resolved.get(name).cloned())
        .collect();
    Ok(Artifact {
        name: parsed.name.value.clone(),
        yaml,
        bytes,
        delivery,
        json,
        provenance: compiled.provenance,
        warnings,
        generated,
    })
}
