//! The `ctxgen` binary as a user runs it: what goes to stdout and stderr, exit codes
//! (0 ok, 1 errors in the input, 2 usage or I/O), output files and their modes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

const ALICE_KEY: &str = include_str!("fixtures/keys/alice_ed25519.pub");

/// A spec that compiles: a user with a key, a package, a file.
fn good_spec() -> String {
    format!(
        "version: 1\n\
         name: webapp\n\
         target:\n  os: debian\n\
         users:\n  - name: alice\n    sudo: nopasswd\n    ssh_keys:\n      - {}\n\
         packages:\n  install: [nginx, git]\n\
         files:\n  - path: /etc/motd\n    content: \"welcome\\n\"\n",
        ALICE_KEY.trim()
    )
}

/// A spec with errors in it.
const BAD_SPEC: &str = "version: 1\nname: webapp\npakages:\n  install: [nginx]\n";

/// A temporary folder holding `app.yaml` with `text`.
fn spec_dir(text: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let spec = dir.path().join("app.yaml");
    std::fs::write(&spec, text).expect("the spec is written");
    (dir, spec)
}

fn ctxgen() -> Command {
    assert_cmd::cargo::cargo_bin_cmd!("ctxgen")
}

/// Runs ctxgen with `args`, returning its output.
fn run(args: &[&str]) -> Output {
    ctxgen().args(args).output().expect("ctxgen runs")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("UTF-8 output")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// The names in `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the folder is readable")
        .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn build_prints_cloud_config_first() {
    let (_dir, spec) = spec_dir(&good_spec());
    let out = run(&["build", path_str(&spec)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("#cloud-config\n"),
        "{}",
        text(&out.stdout)
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn json_output_means_the_same_as_yaml() {
    let (_dir, spec) = spec_dir(&good_spec());
    let yaml = run(&["build", path_str(&spec)]);
    let json = run(&["build", "--json", path_str(&spec)]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    let from_json: Value = serde_json::from_slice(&json.stdout).expect("--json prints JSON");
    let from_yaml: Value = serde_saphyr::from_str(text(&yaml.stdout)).expect("build prints YAML");
    assert_eq!(from_json, from_yaml);

    let users = from_json["users"].as_array().expect("users is a list");
    assert!(users.iter().any(|u| u["name"] == "alice"), "{users:?}");
    let alice = users.iter().find(|u| u["name"] == "alice").expect("alice");
    assert_eq!(alice["ssh_authorized_keys"][0], ALICE_KEY.trim());
    let packages = from_json["packages"].as_array().expect("packages is a list");
    assert!(packages.iter().any(|p| p == "nginx"), "{packages:?}");
    let files = from_json["write_files"]
        .as_array()
        .expect("write_files is a list");
    assert!(
        files
            .iter()
            .any(|f| f["path"] == "/etc/motd" && f["content"] == "welcome\n"),
        "{files:?}"
    );
}

#[test]
fn dash_reads_the_spec_from_stdin() {
    let (_dir, spec) = spec_dir(&good_spec());
    let from_file = run(&["build", path_str(&spec)]);
    let from_stdin = ctxgen()
        .args(["build", "-"])
        .write_stdin(good_spec())
        .output()
        .expect("ctxgen runs");
    assert_eq!(from_stdin.status.code(), Some(0), "{}", text(&from_stdin.stderr));
    assert_eq!(text(&from_stdin.stdout), text(&from_file.stdout));
}

#[test]
fn output_file_is_private_and_stdout_stays_empty() {
    let (dir, spec) = spec_dir(&good_spec());
    let target = dir.path().join("user-data");
    let out = run(&["build", path_str(&spec), "-o", path_str(&target)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let written = std::fs::read_to_string(&target).expect("the output file exists");
    assert!(written.starts_with("#cloud-config\n"));
    assert_eq!(written, text(&run(&["build", path_str(&spec)]).stdout));
    let mode = std::fs::metadata(&target).expect("metadata").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    assert_eq!(entries(dir.path()), ["app.yaml", "user-data"]);
}

#[test]
fn failed_build_leaves_no_output_file() {
    let (dir, spec) = spec_dir(BAD_SPEC);
    let target = dir.path().join("user-data");
    let out = run(&["build", path_str(&spec), "-o", path_str(&target)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("unknown field `pakages`"),
        "{}",
        text(&out.stderr)
    );
    assert!(!target.exists());
    assert_eq!(entries(dir.path()), ["app.yaml"], "no temporary file is left");
}

#[test]
fn missing_spec_file_is_an_io_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("nope.yaml");
    let out = run(&["build", path_str(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("nope.yaml"), "{stderr}");
    assert!(stderr.contains("cannot read"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = run(&["build", "--frobnicate", "app.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--frobnicate"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_and_version_succeed() {
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("build"), "{}", text(&help.stdout));
    let build_help = run(&["build", "--help"]);
    assert_eq!(build_help.status.code(), Some(0));
    assert!(text(&build_help.stdout).contains("--json"));
    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        text(&version.stdout).trim(),
        format!("ctxgen {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn schema_spec_is_draft_07_json() {
    let out = run(&["schema", "spec"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let schema: Value = serde_json::from_slice(&out.stdout).expect("the schema is JSON");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["type"], "object");
    assert!(schema["properties"]["version"].is_object());
}

#[test]
fn output_is_deterministic() {
    let (_dir, spec) = spec_dir(&good_spec());
    for flags in [&[][..], &["--json"][..]] {
        let mut args = vec!["build", path_str(&spec)];
        args.extend_from_slice(flags);
        let first = run(&args);
        let second = run(&args);
        assert_eq!(first.status.code(), Some(0));
        assert_eq!(first.stdout, second.stdout, "{flags:?}");
    }
}

#[test]
fn color_never_has_no_escapes_and_always_has_them() {
    let (_dir, spec) = spec_dir(BAD_SPEC);
    let plain = run(&["--color", "never", "build", path_str(&spec)]);
    assert_eq!(plain.status.code(), Some(1));
    assert!(
        text(&plain.stderr).contains("error[CG002]"),
        "{}",
        text(&plain.stderr)
    );
    assert!(!plain.stderr.contains(&0x1b), "{}", text(&plain.stderr));
    let colored = run(&["build", "--color", "always", path_str(&spec)]);
    assert_eq!(colored.status.code(), Some(1));
    assert!(colored.stderr.contains(&0x1b));
}

#[test]
fn warning_alone_still_succeeds_and_is_shown() {
    let spec = "version: 1\nname: webapp\ntarget:\n  os: debian\nusers:\n  - name: bob\n    sudo: password\n";
    let (_dir, spec) = spec_dir(spec);
    let out = run(&["--color", "never", "build", path_str(&spec)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(text(&out.stdout).starts_with("#cloud-config\n"));
    assert!(stderr.contains("warning"), "no warning on stderr: {stderr:?}");
    assert!(stderr.contains("sudo: password"), "{stderr}");
    assert!(stderr.contains("app.yaml:"), "the warning is located: {stderr}");
}

#[test]
fn build_templates_dir_replaces_a_bootstrap_script() {
    let (dir, spec) = spec_dir(
        "version: 1\nname: a\nconfig_management:\n  ansible:\n    pull: { url: \"https://git.example.org/infra.git\", playbook: site.yml }\n",
    );
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).expect("a templates folder");
    std::fs::write(
        templates.join("ansible-pull.sh"),
        "#!/bin/sh\nexec my-pull {{ url }} {{ playbook }}\n",
    )
    .expect("the template is written");
    let out = run(&[
        "build",
        path_str(&spec),
        "--json",
        "--templates",
        path_str(&templates),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let script = doc["write_files"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["path"] == "/usr/local/lib/ctxgen/ansible-pull.sh")
        })
        .expect("the script is written");
    assert_eq!(
        script["content"],
        "#!/bin/sh\nexec my-pull 'https://git.example.org/infra.git' 'site.yml'\n"
    );
}
