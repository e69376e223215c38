//! Roles and instances: the structural merge (lists appended, mappings merged, other
//! values replaced), instance template values, per-instance generated secrets,
//! `--instances` (CSV and YAML), `build --out-dir`, `build/seed --instance`, and the
//! errors of each, through the library and the binary.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ctxgen::spec::Select;
use ctxgen::{Artifact, BuildOptions, Sources};
use serde_json::{Value, json};

const APP: &str = r#"version: 1
name: shop
vars:
  domain: example.org
  tier: { size: small, zones: [a] }
host:
  hostname: "{{ instance.name | default('shop') }}"
  timezone: UTC
packages:
  install: [git]
files:
  - path: /etc/motd
    content: "{{ instance.name }} is {{ instance.role }} #{{ instance.index }} ({{ vars.tier.size }}, {{ vars.tier.zones | join(',') }})\n"
    template: true
    mode: 0644
firewall:
  allow: [{ port: 9100, protocol: tcp }]
roles:
  web:
    host: { timezone: Europe/Amsterdam }
    packages: { install: [nginx], upgrade: true }
    firewall: { allow: [{ port: 443, protocol: tcp }] }
    vars: { tier: { size: large, zones: [b] } }
  db:
    files:
      - { path: /etc/db.conf, content: "x\n", mode: 0600 }
instances:
  - { name: web-01, role: web }
  - { name: web-02, role: web, vars: { tier: { zones: [c] } } }
  - { name: db-01, role: db }
"#;

fn build(text: &str, select: Option<Select>) -> Result<Artifact, String> {
    common::build_text_unit("shop.yaml", text, Path::new("."), select).map(|(a, _)| a)
}

fn instance(name: &str) -> Value {
    build(APP, Some(Select::Instance(name.into())))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .json
}

fn motd(doc: &Value, path: &str) -> Option<Value> {
    doc["write_files"]
        .as_array()?
        .iter()
        .find(|f| f["path"] == path)
        .cloned()
}

#[test]
fn roles_merge_structurally() {
    let web = instance("web-01");
    // Lists appended (the role's after the top level's).
    assert_eq!(web["packages"], json!(["git", "nginx", "nftables"]));
    let rules = web["write_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "/etc/ctxgen/firewall.nft")
        .expect("the ruleset")["content"]
        .as_str()
        .unwrap()
        .to_string();
    let (a, b) = (
        rules.find("dport 9100").unwrap(),
        rules.find("dport 443").unwrap(),
    );
    assert!(a < b, "the top level's rule first:\n{rules}");
    // Mappings merged: the role's key added, the top level's others kept.
    assert_eq!(web["package_upgrade"], true);
    assert_eq!(web["package_update"], true);
    // Scalars replaced.
    assert_eq!(web["timezone"], "Europe/Amsterdam");
    // vars: the role's merged into the top level's, then the instance's.
    assert_eq!(
        motd(&web, "/etc/motd").unwrap()["content"],
        "web-01 is web #0 (large, a,b)\n"
    );
    let web2 = instance("web-02");
    assert_eq!(
        motd(&web2, "/etc/motd").unwrap()["content"],
        "web-02 is web #1 (large, a,b,c)\n"
    );
    // The other role is untouched by web's sections.
    let db = instance("db-01");
    assert_eq!(db["packages"], json!(["git", "nftables"]));
    assert_eq!(db["timezone"], "UTC");
    assert_eq!(db["hostname"], "db-01");
    assert_eq!(
        motd(&db, "/etc/motd").unwrap()["content"],
        "db-01 is db #2 (small, a)\n"
    );
}

#[test]
fn merged_values_read_as_written() {
    // `mode: 0644` and `0600` are plain scalars: in a role they keep their digits just
    // as they do at the top level.
    let db = instance("db-01");
    assert_eq!(motd(&db, "/etc/motd").unwrap()["permissions"], "0644");
    assert_eq!(motd(&db, "/etc/db.conf").unwrap()["permissions"], "0600");
    // A role alone (no instance): `instance` is undefined, and says so.
    let err = build(APP, Some(Select::Role("db".into()))).unwrap_err();
    assert!(
        err.contains("`instance` is defined only when an instance is built"),
        "{err}"
    );
}

#[test]
fn a_role_without_instances_is_its_own_user_data() {
    let text = "version: 1\nname: app\npackages: { install: [git] }\nroles:\n  web: { packages: { install: [nginx] } }\n  plain:\n";
    let web = build(text, Some(Select::Role("web".into()))).unwrap();
    assert_eq!(web.unit.as_deref(), Some("web"));
    assert_eq!(web.json["packages"], json!(["git", "nginx", "nftables"]));
    let plain = build(text, Some(Select::Role("plain".into()))).unwrap();
    assert_eq!(plain.json["packages"], json!(["git", "nftables"]));
    assert!(web.yaml.contains("from spec `app`, role `web`."), "{}", web.yaml);
    let err = build(text, None).unwrap_err();
    assert!(err.contains("the spec describes 2 roles"), "{err}");
}

#[test]
fn errors_point_into_the_role_that_has_them() {
    let text = "version: 1\nname: app\nroles:\n  web:\n    files: [{ path: etc/x, content: y }]\n";
    let err = build(text, Some(Select::Role("web".into()))).unwrap_err();
    assert!(err.contains("shop.yaml:5:21"), "{err}");
    assert!(err.contains("is not an absolute path"), "{err}");
}

/// Builds every user-data of `text` with redacted or test secrets.
fn build_all(text: &str, redact: bool) -> Vec<Artifact> {
    let mut sources = Sources::new();
    let id = sources.add("shop.yaml", text);
    let options = BuildOptions {
        secrets: if redact {
            ctxgen::secrets::SecretsMode::Redact
        } else {
            common::test_env()
        },
        ..BuildOptions::new(".")
    };
    ctxgen::build_all(&mut sources, id, &options).unwrap_or_else(|d| panic!("{}", d.render(&sources, false)))
}

const SECRETS: &str =
    "secrets:\n  token: { generate: { length: 24 } }\n  db: { from: env, name: DB_PASSWORD }\n";
const SECRET_FILE: &str =
    "  - { path: /etc/t, content: \"{{ secrets.token }} {{ secrets.db }}\", template: true }\n";

#[test]
fn generated_secrets_are_new_for_every_instance() {
    let text = format!(
        "version: 1\nname: app\n{SECRETS}files:\n{SECRET_FILE}instances:\n  - {{ name: a }}\n  - {{ name: b }}\n  - {{ name: c }}\n"
    );
    let built = build_all(&text, false);
    let tokens: Vec<String> = built
        .iter()
        .map(|a| a.generated[0].expose().to_string())
        .collect();
    assert_eq!(built.len(), 3);
    for (a, token) in built.iter().zip(&tokens) {
        assert_eq!(
            motd(&a.json, "/etc/t").unwrap()["content"],
            format!("{token} test-value-of-DB_PASSWORD")
        );
    }
    assert!(tokens[0] != tokens[1] && tokens[1] != tokens[2] && tokens[0] != tokens[2]);
    // Redacted: the same bytes at every build.
    let first: Vec<Vec<u8>> = build_all(&text, true).into_iter().map(|a| a.bytes).collect();
    let second: Vec<Vec<u8>> = build_all(&text, true).into_iter().map(|a| a.bytes).collect();
    assert_eq!(first, second);
}

// --- through the binary -------------------------------------------------------------

/// Runs ctxgen in `dir` (with `DB_PASSWORD` set), asserting its exit code; returns
/// standard output and standard error.
fn run(dir: &Path, args: &[&str], code: i32) -> (String, String) {
    let out = assert_cmd::cargo::cargo_bin_cmd!("ctxgen")
        .current_dir(dir)
        .env("DB_PASSWORD", "s3cret-db")
        .args(args)
        .output()
        .expect("ctxgen runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "ctxgen {args:?}:\n{stderr}");
    (stdout, stderr)
}

fn expect(haystack: &str, needle: &str) {
    assert!(haystack.contains(needle), "expected `{needle}` in:\n{haystack}");
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("exists").permissions().mode() & 0o777
}

/// A temporary folder holding `shop.yaml` with `text`.
fn spec_dir(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shop.yaml"), text).unwrap();
    dir
}

#[test]
fn out_dir_writes_one_private_file_per_instance() {
    let spec = format!("{APP}{SECRETS}").replacen("files:\n", &format!("files:\n{SECRET_FILE}"), 1);
    let dir = spec_dir(&spec);
    let args = [
        "build",
        "shop.yaml",
        "--out-dir",
        "out",
        "--secrets-out",
        "generated.yaml",
    ];
    run(dir.path(), &args, 0);
    let out_dir = dir.path().join("out");
    assert_eq!(
        files_in(&out_dir),
        ["db-01.user-data", "web-01.user-data", "web-02.user-data"]
    );
    for name in files_in(&out_dir) {
        assert_eq!(mode(&out_dir.join(&name)), 0o600, "{name}");
    }
    assert_eq!(mode(&out_dir), 0o700);
    let web1 = std::fs::read_to_string(out_dir.join("web-01.user-data")).unwrap();
    assert!(web1.starts_with("#cloud-config\n"), "{web1}");
    expect(&web1, "hostname: web-01");
    // The manifest: each instance's generated value, under its name.
    let manifest = std::fs::read_to_string(dir.path().join("generated.yaml")).unwrap();
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(lines.len(), 6, "{manifest}");
    assert_eq!(lines[0], "web-01:");
    expect(lines[1], "  token: \"");
    let token = lines[1].trim_start_matches("  token: \"").trim_end_matches('"');
    expect(&web1, &format!("{token} s3cret-db"));
    assert_eq!(mode(&dir.path().join("generated.yaml")), 0o600);
    // Without --out-dir, one of several is chosen, or it is an error that says how.
    let (_, stderr) = run(dir.path(), &["build", "shop.yaml"], 1);
    expect(&stderr, "the spec describes 3 instances");
    let (stdout, _) = run(dir.path(), &["build", "shop.yaml", "--instance", "web-02"], 0);
    expect(&stdout, "hostname: web-02");
    let (_, stderr) = run(dir.path(), &["build", "shop.yaml", "--instance", "web-03"], 2);
    expect(&stderr, "no instance named `web-03`; did you mean `web-01`?");
}

#[test]
fn nothing_is_written_when_one_instance_fails() {
    // Only db-01's role renders a value that does not exist.
    let dir = spec_dir(&APP.replace(
        "content: \"x\\n\"",
        "content: \"{{ vars.tier.missing }}\", template: true",
    ));
    let (_, stderr) = run(dir.path(), &["build", "shop.yaml", "--out-dir", "out"], 1);
    expect(&stderr, "note: in instance `db-01`");
    assert!(!dir.path().join("out").exists(), "no folder, no partial fleet");
}

#[test]
fn instances_from_csv_and_yaml_replace_the_spec_s() {
    let dir = spec_dir(APP);
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "fleet.csv",
        "name,role,size\nweb-10,web,\"x, \"\"quoted\"\"\"\ndb-10,db,\n",
    );
    let args = [
        "build",
        "shop.yaml",
        "--instances",
        "fleet.csv",
        "--out-dir",
        "csv",
    ];
    run(dir.path(), &args, 0);
    assert_eq!(
        files_in(&dir.path().join("csv")),
        ["db-10.user-data", "web-10.user-data"]
    );
    // A CSV cell is a string; `size` is a top-level var here, set for web-10 only.
    write(
        "shop.yaml",
        &APP.replace("{{ vars.tier.size }}", "{{ vars.size | default('none') }}"),
    );
    let args = [
        "build",
        "shop.yaml",
        "--instances",
        "fleet.csv",
        "--instance",
        "web-10",
    ];
    let (stdout, _) = run(dir.path(), &args, 0);
    expect(&stdout, "web-10 is web #0 (x, \"quoted\", a,b)");
    write("fleet.yaml", "- { name: db-20, role: db, vars: { size: 3 } }\n");
    let args = [
        "build",
        "shop.yaml",
        "--instances",
        "fleet.yaml",
        "--instance",
        "db-20",
    ];
    let (stdout, _) = run(dir.path(), &args, 0);
    expect(&stdout, "db-20 is db #0 (3, a)");

    // Errors in the file name the file, line and column.
    write("bad.csv", "name,role\nweb-11,web\nweb-12,wbe\n");
    let args = ["build", "shop.yaml", "--instances", "bad.csv", "--out-dir", "bad"];
    let (_, stderr) = run(dir.path(), &args, 1);
    expect(&stderr, "no role named `wbe`");
    expect(&stderr, "bad.csv:3:8");
    expect(&stderr, "did you mean `web`?");
    write("bad.csv", "role\nweb\n");
    let (_, stderr) = run(dir.path(), &args, 1);
    expect(&stderr, "the header row has no `name` column");
}

#[test]
fn seed_of_one_instance() {
    let dir = spec_dir(APP);
    run(
        dir.path(),
        &["seed", "shop.yaml", "--instance", "web-02", "--out", "seed"],
        0,
    );
    let meta = std::fs::read_to_string(dir.path().join("seed/meta-data")).unwrap();
    assert!(meta.starts_with("instance-id: \"web-02-"), "{meta}");
    expect(&meta, "local-hostname: \"web-02\"");
    let user_data = std::fs::read_to_string(dir.path().join("seed/user-data")).unwrap();
    expect(&user_data, "web-02 is web #1");
    let (_, stderr) = run(dir.path(), &["seed", "shop.yaml", "--out", "seed2"], 1);
    expect(&stderr, "--instance NAME");
}

#[test]
fn check_reads_every_role_and_instance() {
    let dir = spec_dir(&APP.replace("upgrade: true", "upgrade: maybe"));
    let (stdout, stderr) = run(dir.path(), &["check", "shop.yaml"], 1);
    let report = stdout + &stderr;
    expect(&report, "shop.yaml:21:44");
    expect(&report, "in instance `web-01`, instance `web-02`");
}
