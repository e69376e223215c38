//! Stage `compile`: a validated [`Spec`] into a typed [`CloudConfig`].
//!
//! Input: the spec, the local-file sandbox, and the source table (files read here are
//! registered so their errors can be shown). Output: the document, plus a provenance
//! table from output paths (JSON pointers) to the spec spans that produced them, plus
//! every diagnostic found on the way. One file per feature; features run in a fixed
//! order that is also the order of the boot commands they add. It never prints.

mod commands;
mod config_management;
mod cvmfs;
mod files;
mod firewall;
mod host;
mod packages;
mod runtime;
mod services;
mod ssh;
mod users;
mod volumes;

use serde_json::Value;

use crate::cloud_config::{CloudConfig, Command, WriteFile};
use crate::diag::{Diagnostic, Diagnostics};
use crate::local::LocalFiles;
use crate::secrets::Resolved;
use crate::source::{Sources, Span};
use crate::spec::{InstanceValues, Os, Spec};

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
    /// The secrets it used (the others get a warning, once every user-data of the spec
    /// is compiled).
    pub used_secrets: std::collections::BTreeSet<String>,
}

/// The values templates see: `instance` only while an instance is built.
#[derive(serde::Serialize)]
struct TemplateValues<'a> {
    vars: &'a indexmap::IndexMap<String, Value>,
    secrets: indexmap::IndexMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<&'a InstanceValues>,
}

/// Shared state of one compilation.
pub(crate) struct Ctx<'a> {
    pub spec: &'a Spec,
    pub os: Os,
    pub files: &'a LocalFiles,
    pub sources: &'a mut Sources,
    pub secrets: &'a Resolved,
    /// Secrets something referenced (the others get a warning).
    pub used_secrets: std::collections::BTreeSet<String>,
    /// Whether the last template rendered used a secret.
    pub rendered_secret: bool,
    pub diags: Diagnostics,
    pub out: CloudConfig,
    pub prov: Provenance,
    /// Packages features need (firewall tools, curl), installed after the user's.
    pub extra_packages: Vec<String>,
    /// `--templates DIR`: bootstrap scripts found there replace the embedded ones of
    /// the same file name.
    pub templates: Option<&'a std::path::Path>,
    /// The instance being built, if any.
    pub instance: Option<&'a InstanceValues>,
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

    /// Renders a template with the spec's template values. Marks the secrets it uses.
    pub fn render(&mut self, name: &str, text: &str, origin: crate::render::Origin) -> Option<String> {
        let used = crate::render::secrets_used(text);
        self.rendered_secret = !used.is_empty();
        self.used_secrets.extend(used);
        let values = TemplateValues {
            vars: &self.spec.vars,
            secrets: self
                .secrets
                .values
                .iter()
                .map(|(k, v)| (k.as_str(), v.expose()))
                .collect(),
            instance: self.instance,
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

impl Ctx<'_> {
    /// Renders bootstrap shell template `file_name` (the embedded text, or the file of
    /// that name in `--templates DIR`) with `values`, every value shell-quoted. Errors
    /// point into the override file, or at `span` for the embedded one.
    pub fn render_template(
        &mut self,
        file_name: &str,
        embedded: &str,
        values: &serde_json::Value,
        span: Span,
    ) -> Option<String> {
        let overridden = self
            .templates
            .map(|dir| dir.join(file_name))
            .filter(|p| p.is_file());
        let (text, origin) = match overridden {
            Some(path) => {
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        let id = self.sources.add(path.display().to_string(), text.clone());
                        (text, crate::render::Origin::File(id))
                    }
                    Err(e) => {
                        self.error(
                        Diagnostic::error(
                            crate::diag::Code::LocalFile,
                            format!("cannot read template `{}`: {e}", path.display()),
                        )
                        .with_span(span)
                        .with_hint("fix the file in the `--templates` folder, or remove it to use the built-in one"),
                    );
                        return None;
                    }
                }
            }
            None => (embedded.to_string(), crate::render::Origin::Inline(span)),
        };
        match crate::render::render_shell(self.sources, file_name, &text, origin, values) {
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

/// The secrets of `spec` that no user-data used: probably a typo somewhere, or a
/// leftover. `used`: the names any of the spec's user-data used.
pub fn unused_secrets(spec: &Spec, used: &std::collections::BTreeSet<String>) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for (name, decl) in &spec.secrets {
        if !used.contains(name) {
            diags.push(
                Diagnostic::warning(
                    crate::diag::Code::Secret,
                    format!("secret `{name}` is declared but never used"),
                )
                .with_span(decl.span)
                .with_hint("use it as `{ secret: NAME }` or `{{ secrets.NAME }}`, or remove it"),
            );
        }
    }
    diags
}

/// A path written twice: cloud-init would keep the last write, silently. Two spec
/// entries clash is caught by validation; here a spec file takes a path that a feature
/// writes (the SSH drop-in, the firewall ruleset or unit, a repository key).
fn same_path_twice(ctx: &mut Ctx) {
    let mut seen = std::collections::HashMap::new();
    let mut clashes = Vec::new();
    for (i, f) in ctx.out.write_files.iter().enumerate() {
        if let Some(first) = seen.insert(f.path.as_str(), i) {
            clashes.push((first, i, f.path.clone()));
        }
    }
    for (first, second, path) in clashes {
        let located: Vec<Span> = [first, second]
            .iter()
            .filter_map(|i| ctx.prov.locate(&format!("/write_files/{i}")))
            .collect();
        // Point at the user's own entry when one of the two is in `files:`.
        let span = located
            .iter()
            .find(|s| ctx.spec.files.iter().any(|f| f.span == **s))
            .or(located.last())
            .copied();
        let mut d = Diagnostic::error(
            crate::diag::Code::InvalidValue,
            format!("`{path}` is written twice: by this entry and by ctxgen for another section"),
        )
        .with_hint(
            "write the file somewhere else, or configure it through its section (ssh, firewall, packages)",
        );
        if let Some(span) = span {
            d = d.with_span(span);
        }
        ctx.error(d);
    }
}

/// What a compilation reads besides the spec.
pub struct Inputs<'a> {
    pub files: &'a LocalFiles,
    pub secrets: &'a Resolved,
    /// `--templates DIR`.
    pub templates: Option<&'a std::path::Path>,
    /// The instance being built, if any.
    pub instance: Option<&'a InstanceValues>,
}

/// Compiles `spec`. Errors are collected from every feature before returning.
pub fn compile(spec: &Spec, sources: &mut Sources, inputs: &Inputs<'_>) -> Result<Compiled, Diagnostics> {
    let Inputs {
        files,
        secrets,
        templates,
        instance,
    } = *inputs;
    let mut ctx = Ctx {
        spec,
        os: spec.target.os,
        files,
        sources,
        secrets,
        used_secrets: std::collections::BTreeSet::new(),
        rendered_secret: false,
        diags: Diagnostics::default(),
        out: CloudConfig::default(),
        prov: Provenance::default(),
        extra_packages: Vec::new(),
        templates,
        instance,
        daemon_reloaded: false,
    };
    let span = ctx.spec_span();
    ctx.runcmd(Command::Fixed(STOP_ON_ERROR), span);
    ctx.bootcmd(Command::Fixed(STOP_ON_ERROR), span);
    // First in runcmd: what later commands and services need is on disk before them.
    runtime::compile(&mut ctx);

    host::compile(&mut ctx);
    users::compile(&mut ctx);
    ssh::compile(&mut ctx);
    files::compile(&mut ctx);
    firewall::compile(&mut ctx);
    volumes::compile(&mut ctx);
    cvmfs::compile(&mut ctx);
    services::compile(&mut ctx);
    // After the spec's services (what a playbook may rely on), before its first-boot
    // commands (which may rely on what the tool set up).
    config_management::compile(&mut ctx);
    commands::compile(&mut ctx);
    packages::compile(&mut ctx);

    same_path_twice(&mut ctx);
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
        used_secrets: ctx.used_secrets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn inputs<'a>(files: &'a LocalFiles, secrets: &'a Resolved) -> Inputs<'a> {
        Inputs {
            files,
            secrets,
            templates: None,
            instance: None,
        }
    }

    /// Compiles `yaml` (a spec) from a temporary folder holding `files`.
    fn compile_spec(yaml: &str, files: &[(&str, &[u8])]) -> Result<(Value, Provenance), Vec<String>> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, bytes) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, bytes).expect("write");
        }
        let mut sources = Sources::new();
        let id = sources.add("spec.yaml", yaml);
        let messages = |d: Diagnostics| d.iter().map(|d| d.message.clone()).collect::<Vec<_>>();
        let spec = crate::spec::parse(&sources, id).map_err(messages)?.spec;
        let local = LocalFiles::new(dir.path(), None);
        let compiled =
            compile(&spec, &mut sources, &inputs(&local, &Resolved::default())).map_err(messages)?;
        Ok((crate::emit::to_value(&compiled.config), compiled.provenance))
    }

    fn ok(yaml: &str) -> Value {
        compile_spec(yaml, &[]).expect("spec compiles").0
    }

    const ALICE: &str = include_str!("../../tests/fixtures/keys/alice_ed25519.pub");

    #[test]
    fn default_user_remove_needs_a_user() {
        let err = compile_spec("version: 1\nname: a\nhost: { default_user: remove }\n", &[]).unwrap_err();
        assert!(err[0].contains("no account"), "{err:?}");
        let doc = ok("version: 1\nname: a\nhost: { default_user: remove }\nusers: [{ name: bob }]\n");
        assert_eq!(doc["users"][0]["name"], "bob");
        let keep = ok("version: 1\nname: a\n");
        assert!(keep.get("users").is_none());
    }

    #[test]
    fn sudo_policies_follow_the_os() {
        let spec = |os: &str, sudo: &str| {
            format!(
                "version: 1\nname: a\ntarget: {{ os: {os} }}\nusers: [{{ name: bob, sudo: {sudo}, groups: [adm] }}]\n"
            )
        };
        let debian = ok(&spec("debian", "password"));
        assert_eq!(debian["users"][1]["groups"], "adm, sudo");
        assert!(debian.get("groups").is_none());
        assert!(debian["users"][1].get("sudo").is_none());
        assert_eq!(
            ok(&spec("fedora", "password"))["users"][1]["groups"],
            "adm, wheel"
        );
        assert_eq!(ok(&spec("any", "password"))["users"][1]["sudo"], "ALL=(ALL) ALL");
        assert_eq!(
            ok(&spec("any", "nopasswd"))["users"][1]["sudo"],
            "ALL=(ALL) NOPASSWD:ALL"
        );
        assert_eq!(ok(&spec("any", "nopasswd"))["users"][0], "default");
        assert_eq!(ok(&spec("any", "none"))["users"][1]["lock_passwd"], true);
    }

    #[test]
    fn keys_inline_and_from_files_are_checked() {
        let yaml = format!(
            "version: 1\nname: a\nusers:\n  - name: bob\n    ssh_keys: [\"{}\", {{ file: k.pub }}]\n",
            ALICE.trim()
        );
        let (doc, _) = compile_spec(&yaml, &[("k.pub", ALICE.as_bytes())]).unwrap();
        assert_eq!(
            doc["users"][1]["ssh_authorized_keys"],
            json!([ALICE.trim(), ALICE.trim()])
        );
        let weak = include_bytes!("../../tests/fixtures/keys/weak_rsa2048.pub");
        let err = compile_spec(&yaml, &[("k.pub", weak)]).unwrap_err();
        assert_eq!(err, vec!["RSA key of 2048 bits is too short (at least 3072)"]);
    }

    #[test]
    fn files_of_spec_users_are_deferred() {
        let base = "version: 1\nname: a\nusers: [{ name: app }]\nfiles:\n";
        let doc = ok(&format!(
            "{base}  - {{ path: /etc/app.env, content: x, owner: \"app:app\", mode: \"600\" }}\n"
        ));
        let f = &doc["write_files"][1];
        assert_eq!(
            (f["defer"].clone(), f["permissions"].clone()),
            (json!(true), json!("0600"))
        );
        let err = compile_spec(
            &format!("{base}  - {{ path: /etc/app.env, content: x, owner: app, defer: false }}\n"),
            &[],
        )
        .unwrap_err();
        assert!(err[0].contains("not deferred"), "{err:?}");
    }

    #[test]
    fn templates_render_vars_and_binary_files_stay_exact() {
        let yaml = "version: 1\nname: a\nvars: { port: 8080 }\nfiles:\n  - { path: /a, content: \"p={{ vars.port }}\", template: true }\n  - { path: /b, source: b.bin }\n";
        let (doc, _) = compile_spec(yaml, &[("b.bin", &[0, 159, 146, 150])]).unwrap();
        assert_eq!(doc["write_files"][1]["content"], "p=8080");
        assert_eq!(doc["write_files"][2]["encoding"], "b64");
        assert_eq!(doc["write_files"][2]["content"], "AJ+Slg==");
        let err = compile_spec(&yaml.replace("vars.port", "vars.prot"), &[("b.bin", b"")]).unwrap_err();
        assert!(err[0].contains("undefined"), "{err:?}");
    }

    #[test]
    fn commands_keep_argv_and_order() {
        let yaml = "version: 1\nname: a\nfirewall: { enabled: false }\ncommands:\n  every_boot: [[sysctl, -w, \"vm.swappiness=10\"]]\n  first_boot: [[echo, \"yes\", \"0644\"], { shell: \"a && b\" }, { script: s.sh }]\n";
        let (doc, _) = compile_spec(yaml, &[("s.sh", b"echo from script\n")]).unwrap();
        assert_eq!(
            doc["bootcmd"],
            json!(["set -e", ["sysctl", "-w", "vm.swappiness=10"]])
        );
        assert_eq!(
            doc["runcmd"],
            json!([
                "set -e",
                ["echo", "yes", "0644"],
                ["sh", "-eu", "-c", "a && b"],
                ["sh", "-eu", "-c", "echo from script\n"]
            ])
        );
    }

    #[test]
    fn services_reach_the_wanted_state() {
        let yaml = "version: 1\nname: a\nfirewall: { enabled: false }\nservices:\n  - { name: web, unit: { content: \"[Service]\\nExecStart=/bin/true\\n\" } }\n  - { name: rpcbind, enabled: false, started: false }\n  - { name: backup.timer, started: false }\n";
        let doc = ok(yaml);
        assert_eq!(doc["write_files"][1]["path"], "/etc/systemd/system/web.service");
        let runcmd = doc["runcmd"].as_array().unwrap();
        assert_eq!(runcmd[1], json!(["systemctl", "daemon-reload"]));
        assert_eq!(
            runcmd[2],
            json!(["systemctl", "enable", "--now", "--", "web.service"])
        );
        assert_eq!(runcmd[3][4], "rpcbind.service");
        assert_eq!(runcmd[4], json!(["systemctl", "enable", "--", "backup.timer"]));
    }

    #[test]
    fn firewall_defaults_to_nftables_first_in_runcmd() {
        let doc = ok("version: 1\nname: a\n");
        assert_eq!(doc["packages"], json!(["nftables"]));
        assert_eq!(
            doc["bootcmd"][1][3], "ctxgen-firewall",
            "loaded early on every boot"
        );
        assert_eq!(doc["runcmd"][1], json!(["systemctl", "daemon-reload"]));
        assert_eq!(
            doc["runcmd"][2],
            json!(["systemctl", "enable", "ctxgen-firewall.service"])
        );
        let ufw = ok(
            "version: 1\nname: a\ntarget: { os: ubuntu }\nfirewall: { allow: [{ port: \"8000-8100\", protocol: udp, from: [\"10.0.0.0/8\"] }] }\n",
        );
        let runcmd = ufw["runcmd"].as_array().unwrap();
        assert!(runcmd.contains(&json!([
            "ufw",
            "allow",
            "proto",
            "udp",
            "from",
            "10.0.0.0/8",
            "to",
            "any",
            "port",
            "8000:8100"
        ])));
        assert_eq!(runcmd.last(), Some(&json!(["ufw", "--force", "enable"])));
    }

    #[test]
    fn volumes_and_swap() {
        let doc = ok(
            "version: 1\nname: a\nvolumes: [{ device: /dev/vdb, mount: /data, label: data, format: if_empty }]\nswap: { size: 2G }\n",
        );
        let step = doc["bootcmd"][2].as_array().unwrap();
        assert_eq!(
            &step[4..],
            &json!([
                "ctxgen-volume",
                "/dev/vdb",
                "ext4",
                "if_empty",
                "data",
                "LABEL=data",
                "/data",
                "defaults,nofail"
            ])
            .as_array()
            .unwrap()[..]
        );
        assert_eq!(
            doc["swap"],
            json!({"filename": "/swap.img", "size": "2G", "maxsize": "2G"})
        );
    }

    #[test]
    fn repositories_embed_their_keys() {
        let key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nabc\n-----END PGP PUBLIC KEY BLOCK-----\n";
        let yaml = "version: 1\nname: a\ntarget: { os: debian }\npackages:\n  repositories: [{ name: nginx, url: \"https://nginx.org/packages/debian\", suite: trixie, components: [nginx], key: { file: k.asc } }]\n";
        let (doc, _) = compile_spec(yaml, &[("k.asc", key.as_bytes())]).unwrap();
        assert_eq!(
            doc["apt"]["sources"]["nginx"]["source"],
            "deb [signed-by=/etc/apt/keyrings/ctxgen-nginx.asc] https://nginx.org/packages/debian trixie nginx"
        );
        assert_eq!(doc["apt"]["preserve_sources_list"], true);
        let rpm = yaml
            .replace("os: debian", "os: rhel")
            .replace(" suite: trixie, components: [nginx],", "");
        let (doc, _) = compile_spec(&rpm, &[("k.asc", key.as_bytes())]).unwrap();
        assert_eq!(
            doc["yum_repos"]["nginx"]["gpgkey"],
            "file:///etc/pki/rpm-gpg/ctxgen-nginx"
        );
        let private = key.replace("PUBLIC", "PRIVATE");
        assert!(compile_spec(yaml, &[("k.asc", private.as_bytes())]).is_err());
    }

    #[test]
    fn a_spec_file_cannot_take_a_path_ctxgen_writes() {
        let err = compile_spec(
            "version: 1\nname: a\nfiles: [{ path: /etc/ssh/sshd_config.d/01-ctxgen.conf, content: x }]\n",
            &[],
        )
        .unwrap_err();
        assert!(err[0].contains("written twice"), "{err:?}");
    }

    #[test]
    fn debian_locales_are_enabled_before_cloud_init_generates_them() {
        let doc = ok("version: 1\nname: a\ntarget: { os: debian }\nhost: { locale: de_DE.UTF-8 }\n");
        let line = doc["write_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "/etc/locale.gen");
        let line = line.expect("locale.gen line");
        assert_eq!(
            (line["content"].clone(), line["append"].clone()),
            (json!("de_DE.UTF-8 UTF-8\n"), json!(true))
        );
        let rhel = ok("version: 1\nname: a\ntarget: { os: rhel }\nhost: { locale: de_DE.UTF-8 }\n");
        assert!(
            rhel["write_files"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["path"] != "/etc/locale.gen")
        );
    }

    #[test]
    fn names_resolve_and_update_false_is_honest() {
        let doc = ok("version: 1\nname: a\nhost: { hostname: web, fqdn: web.example.org }\n");
        assert_eq!(doc["manage_etc_hosts"], "localhost");
        let mut sources = Sources::new();
        let id = sources.add("s.yaml", "version: 1\nname: a\npackages: { update: false }\n");
        let spec = crate::spec::parse(&sources, id).unwrap().spec;
        let local = LocalFiles::new(".", None);
        let compiled = compile(&spec, &mut sources, &inputs(&local, &Resolved::default())).unwrap();
        assert!(
            compiled.warnings.0[0].message.contains("no effect"),
            "nftables is installed"
        );
        let none = ok("version: 1\nname: a\npackages: { update: false }\nfirewall: { enabled: false }\n");
        assert_eq!(none["package_update"], false);
    }

    #[test]
    fn provenance_points_at_the_spec() {
        let yaml = "version: 1\nname: a\nfiles:\n  - { path: /x, content: y }\n";
        let (_, prov) = compile_spec(yaml, &[]).unwrap();
        let span = prov.locate("/write_files/1/content").expect("located");
        assert_eq!(&yaml[span.start..span.start + 1], "{");
        assert!(prov.locate("/nothing").is_none());
    }
}
