//! Stage `compile`: a validated [`Spec`] into a typed [`CloudConfig`].
//!
//! Input: the spec, the local-file sandbox, and the source table (files read here are
//! registered so their errors can be shown). Output: the document, plus a provenance
//! table from output paths (JSON pointers) to the spec spans that produced them, plus
//! every diagnostic found on the way. One file per feature; features run in a fixed
//! order that is also the order of the boot commands they add. It never prints.

mod commands;
mod cvmfs;
mod files;
mod firewall;
mod host;
mod packages;
mod services;
mod ssh;
mod users;
mod volumes;

use serde_json::Value;

use crate::cloud_config::{CloudConfig, Command, WriteFile};
use crate::diag::{Diagnostic, Diagnostics};
use crate::local::LocalFiles;
use crate::source::{Sources, Span};
use crate::spec::{Os, Spec};

/// Output path (JSON pointer) to the spec span it came from.
#[derive(Clone, Debug, Default)]
pub struct Provenance(Vec<(String, Span)>);

impl Provenance {
    pub fn record(&mut self, pointer: impl Into<String>, span: Span) {
        self.0.push((pointer.into(), span));
    }

    /// The span of the longest recorded pointer that is `pointer` or one of its parents.
    pub fn locate(&self, pointer: &str) -> Option<Span> {
        self.0
            .iter()
            .filter(|(p, _)| {
                pointer == p || (pointer.starts_with(p.as_str()) && pointer[p.len()..].starts_with('/'))
            })
            .max_by_key(|(p, _)| p.len())
            .map(|(_, s)| *s)
    }
}

/// What compiling produced.
#[derive(Debug)]
pub struct Compiled {
    pub config: CloudConfig,
    pub provenance: Provenance,
    /// Findings that do not stop the build.
    pub warnings: Diagnostics,
}

/// The values templates see. Later stages add `secrets` and `instance`.
#[derive(serde::Serialize)]
struct TemplateValues<'a> {
    vars: &'a indexmap::IndexMap<String, Value>,
}

/// Shared state of one compilation.
pub(crate) struct Ctx<'a> {
    pub spec: &'a Spec,
    pub os: Os,
    pub files: &'a LocalFiles,
    pub sources: &'a mut Sources,
    pub diags: Diagnostics,
    pub out: CloudConfig,
    pub prov: Provenance,
    /// Packages features need (firewall tools, curl), installed after the user's.
    pub extra_packages: Vec<String>,
    daemon_reloaded: bool,
}

impl Ctx<'_> {
    /// Span of the whole spec, for output that comes from defaults.
    pub fn spec_span(&self) -> Span {
        self.spec.version.span
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Adds a `write_files` entry produced by `span`.
    pub fn write_file(&mut self, file: WriteFile, span: Span) {
        self.prov
            .record(format!("/write_files/{}", self.out.write_files.len()), span);
        self.out.write_files.push(file);
    }

    /// Adds a `runcmd` entry produced by `span`.
    pub fn runcmd(&mut self, cmd: Command, span: Span) {
        self.prov
            .record(format!("/runcmd/{}", self.out.runcmd.len()), span);
        self.out.runcmd.push(cmd);
    }

    /// Adds a `bootcmd` entry produced by `span`.
    pub fn bootcmd(&mut self, cmd: Command, span: Span) {
        self.prov
            .record(format!("/bootcmd/{}", self.out.bootcmd.len()), span);
        self.out.bootcmd.push(cmd);
    }

    /// `systemctl daemon-reload`, once, before the first command that needs new units.
    pub fn daemon_reload(&mut self, span: Span) {
        if !self.daemon_reloaded {
            self.daemon_reloaded = true;
            self.runcmd(Command::argv(["systemctl", "daemon-reload"]), span);
        }
    }

    pub fn need_package(&mut self, name: &str) {
        if !self.extra_packages.iter().any(|p| p == name) {
            self.extra_packages.push(name.to_string());
        }
    }

    /// Renders a template with the spec's template values.
    pub fn render(&mut self, name: &str, text: &str, origin: crate::render::Origin) -> Option<String> {
        let values = TemplateValues {
            vars: &self.spec.vars,
        };
        match crate::render::render(self.sources, name, text, origin, &values) {
            Ok(s) => Some(s),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }
}

/// The line that makes a boot-command script stop at the first failing command, so
/// that a failure is visible in `cloud-init status` instead of being hidden by the
/// commands after it.
const STOP_ON_ERROR: &str = "set -e";

/// Compiles `spec`. Errors are collected from every feature before returning.
pub fn compile(spec: &Spec, files: &LocalFiles, sources: &mut Sources) -> Result<Compiled, Diagnostics> {
    let mut ctx = Ctx {
        spec,
        os: spec.target.os,
        files,
        sources,
        diags: Diagnostics::default(),
        out: CloudConfig::default(),
        prov: Provenance::default(),
        extra_packages: Vec::new(),
        daemon_reloaded: false,
    };
    let span = ctx.spec_span();
    ctx.runcmd(Command::Fixed(STOP_ON_ERROR), span);
    ctx.bootcmd(Command::Fixed(STOP_ON_ERROR), span);

    host::compile(&mut ctx);
    users::compile(&mut ctx);
    ssh::compile(&mut ctx);
    files::compile(&mut ctx);
    firewall::compile(&mut ctx);
    volumes::compile(&mut ctx);
    cvmfs::compile(&mut ctx);
    services::compile(&mut ctx);
    commands::compile(&mut ctx);
    packages::compile(&mut ctx);

    for list in [&mut ctx.out.runcmd, &mut ctx.out.bootcmd] {
        if list.len() == 1 {
            list.clear();
        }
    }
    if ctx.diags.has_errors() {
        return Err(ctx.diags);
    }
    Ok(Compiled {
        config: ctx.out,
        provenance: ctx.prov,
        warnings: ctx.diags,
    })
}
