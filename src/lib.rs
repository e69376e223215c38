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
    /// A registered CSV or YAML file of instances that replace the spec's
    /// (`--instances`).
    pub instances: Option<FileId>,
    /// Which user-data to build of a spec with roles or instances (`--role`,
    /// `--instance`). `None`: every one ([`build_all`]), or the spec's only one.
    pub select: Option<spec::Select>,
}

impl BuildOptions {
    pub fn new(base_dir: impl Into<PathBuf>) -> Self {
        BuildOptions {
            base_dir: base_dir.into(),
            files_root: None,
            secrets: secrets::SecretsMode::default(),
            templates_dir: None,
            instances: None,
            select: None,
        }
    }
}

/// A compiled spec: one user-data.
#[derive(Debug)]
pub struct Artifact {
    /// The spec's name.
    pub name: String,
    /// The role or instance this user-data is for (`None` for a spec without roles or
    /// instances): the name of its file in `--out-dir`.
    pub unit: Option<String>,
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

/// Compiles the one user-data that `options` selects of spec file `spec` of
/// `sources`: the spec itself, or the role or instance `options.select` names (files
/// read on the way are added to `sources`, so every diagnostic can be rendered). A spec
/// that describes several user-data, with none selected, is an error that names them:
/// [`build_all`] builds them all. On failure, every error found is returned, located.
pub fn build(sources: &mut Sources, spec: FileId, options: &BuildOptions) -> Result<Artifact, Diagnostics> {
    let layout = spec::layout(sources, spec, options.instances)?;
    let units = units(&layout, options)?;
    if units.len() > 1 {
        let (what, flag) = if layout.instances.is_empty() {
            ("roles", "--role")
        } else {
            ("instances", "--instance")
        };
        return Err(Diagnostics(vec![
            Diagnostic::error(
                Code::InvalidValue,
                format!("the spec describes {} {what}: one user-data each", units.len()),
            )
            .with_hint(format!(
                "build one with `{flag} NAME`, or all of them with `--out-dir DIR`"
            )),
        ]));
    }
    let mut built = build_units(sources, spec, options, &layout, &units)?;
    built.pop().ok_or_else(|| Diagnostics(Vec::new()))
}

/// Compiles every user-data of spec file `spec` (one per instance, else one per role,
/// else the spec's one), or only the one `options.select` names. Values of `generate`
/// secrets are new for each; other secrets are read once. On failure, the errors of
/// every user-data, each given once with a note naming the roles or instances.
pub fn build_all(
    sources: &mut Sources,
    spec: FileId,
    options: &BuildOptions,
) -> Result<Vec<Artifact>, Diagnostics> {
    let layout = spec::layout(sources, spec, options.instances)?;
    let units = units(&layout, options)?;
    build_units(sources, spec, options, &layout, &units)
}

/// The units `options` asks for.
fn units(layout: &spec::Layout, options: &BuildOptions) -> Result<Vec<spec::Unit>, Diagnostics> {
    match &options.select {
        Some(select) => Ok(vec![layout.select(select).map_err(|d| Diagnostics(vec![d]))?]),
        None => Ok(layout.units()),
    }
}

fn build_units(
    sources: &mut Sources,
    spec: FileId,
    options: &BuildOptions,
    layout: &spec::Layout,
    units: &[spec::Unit],
) -> Result<Vec<Artifact>, Diagnostics> {
    let files = LocalFiles::new(&options.base_dir, options.files_root.clone());
    let mut secrets: Option<secrets::Resolved> = None;
    let mut built = Vec::with_capacity(units.len());
    // Each unit's errors (none for those that built), for one grouped report.
    let mut outcomes = Vec::with_capacity(units.len());
    let mut failed = false;
    let mut used = std::collections::BTreeSet::new();
    let mut first: Option<spec::Spec> = None;
    for &unit in units {
        let label = match (unit, layout.unit_name(unit)) {
            (spec::Unit::Instance(_), Some(name)) => format!("instance `{name}`"),
            (_, Some(name)) => format!("role `{name}`"),
            (_, None) => String::from("the spec"),
        };
        match build_unit(sources, spec, layout, unit, &files, &mut secrets, options) {
            Ok((artifact, parsed, used_here)) => {
                built.push(artifact);
                used.extend(used_here);
                first.get_or_insert(parsed);
                outcomes.push((label, Diagnostics::default()));
            }
            Err(d) => {
                failed = true;
                outcomes.push((label, d));
            }
        }
    }
    if failed {
        return Err(Diagnostics::of_units(outcomes));
    }
    // A secret is unused only when no user-data of the spec used it.
    if let Some(parsed) = first {
        let unused = compile::unused_secrets(&parsed, &used);
        for artifact in &mut built {
            artifact.warnings.extend(unused.0.iter().cloned());
        }
    }
    Ok(built)
}

/// Compiles one unit. `secrets`: the values read for the first unit, reused (with new
/// generated ones) by the next.
fn build_unit(
    sources: &mut Sources,
    spec: FileId,
    layout: &spec::Layout,
    unit: spec::Unit,
    files: &LocalFiles,
    secrets: &mut Option<secrets::Resolved>,
    options: &BuildOptions,
) -> Result<(Artifact, spec::Spec, std::collections::BTreeSet<String>), Diagnostics> {
    let spec::Parsed {
        spec: parsed,
        mut warnings,
    } = spec::parse_unit(sources, spec, layout, unit)?;
    let resolved = match secrets.as_ref() {
        Some(first) => first.regenerated(&parsed.secrets)?,
        None => secrets::resolve(&parsed.secrets, &options.secrets, files)?,
    };
    secrets.get_or_insert_with(|| resolved.clone());
    let instance = layout.instance_values(unit);
    let inputs = compile::Inputs {
        files,
        secrets: &resolved,
        templates: options.templates_dir.as_deref(),
        instance: instance.as_ref(),
    };
    let compiled = compile::compile(&parsed, sources, &inputs).map_err(|mut d| {
        secrets::scrub(&mut d, &resolved);
        d
    })?;
    warnings.extend(compiled.warnings.0);
    secrets::scrub(&mut warnings, &resolved);
    let json = emit::to_value(&compiled.config);
    let oldest = Release::parse(&parsed.target.cloud_init.value).unwrap_or(Release::OLDEST);
    let unit_name = layout.unit_name(unit).map(str::to_string);
    let title = match (&unit_name, unit) {
        (Some(name), spec::Unit::Instance(_)) => match layout.role_of(unit) {
            Some(role) => format!("{}`, instance `{name}`, role `{role}", parsed.name.value),
            None => format!("{}`, instance `{name}", parsed.name.value),
        },
        (Some(name), _) => format!("{}`, role `{name}", parsed.name.value),
        (None, _) => parsed.name.value.clone(),
    };
    let yaml = emit::to_yaml(&json, &title).map_err(|e| {
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
    let artifact = Artifact {
        name: parsed.name.value.clone(),
        unit: unit_name,
        yaml,
        bytes,
        delivery,
        json,
        provenance: compiled.provenance,
        warnings,
        generated,
    };
    Ok((artifact, parsed, compiled.used_secrets))
}
