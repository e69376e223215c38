//! `ctxgen check` as a user runs it: inputs of every kind (files, folders, stdin,
//! multipart, gzip, base64, jinja, specs, scripts, unknown content), the report formats,
//! exit codes, release selection, severities, and `ctxgen explain`.

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn ctxgen() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("ctxgen");
    cmd.env("NO_COLOR", "1");
    cmd
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write input");
    path.display().to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn json_report(args: &[&str], stdin: Option<&[u8]>) -> (Value, i32) {
    let mut cmd = ctxgen();
    cmd.arg("check").arg("--format").arg("json").args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input.to_vec());
    }
    let out = cmd.output().expect("run ctxgen");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (doc, out.status.code().unwrap_or(-1))
}

/// (code, path) of every diagnostic of the first file.
fn codes(doc: &Value) -> Vec<(String, String)> {
    doc["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const GOOD: &str = "#cloud-config\npackages: [nginx]\nruncmd:\n  - [systemctl, enable, --now, nginx]\n";
const BAD: &str = "#cloud-config\nwrite_files:\n  - path: /etc/app.conf\n    permissions: 0644\n";

#[test]
fn a_valid_file_passes_and_an_invalid_one_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.yaml", GOOD.as_bytes());
    let bad = write(dir.path(), "bad.yaml", BAD.as_bytes());
    ctxgen().args(["check", &good]).assert().code(0);

    let (doc, code) = json_report(&[&bad], None);
    assert_eq!(code, 1);
    assert_eq!(doc["version"], 1);
    let d = &doc["files"][0]["diagnostics"][0];
    assert_eq!(d["code"], "CG011");
    assert_eq!(d["category"], "schema");
    assert_eq!(d["path"], "write_files.0.permissions");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(4), Some(18)));
    assert!(
        d["hint"]
            .as_str()
            .unwrap()
            .contains("YAML 1.1 reads `0644` as the integer 420"),
        "{d}"
    );
    assert_eq!(doc["summary"]["errors"], 1);

    let out = ctxgen().args(["check", &bad]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("error[CG011]") && text.contains("bad.yaml:4:18"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("checked 1 file: 1 error, 1 warning") || text.contains("checked 1 file"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "NO_COLOR is honoured");
}

#[test]
fn the_release_decides_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "x.yaml", b"#cloud-config\nnot_a_module_key: 1\n");
    ctxgen()
        .args(["check", "--cloud-init", "22.4", &f])
        .assert()
        .code(0);
    ctxgen()
        .args(["check", "--cloud-init", "26.2", &f])
        .assert()
        .code(1);
    ctxgen()
        .args(["check", "--cloud-init", "21.1", &f])
        .assert()
        .code(2);

    let dep = write(dir.path(), "d.yaml", b"#cloud-config\napt_update: true\n");
    let (doc, code) = json_report(&[&dep], None);
    assert_eq!(code, 0, "deprecations are warnings");
    assert_eq!(codes(&doc), [("CG012".to_string(), "apt_update".to_string())]);
    assert_eq!(doc["files"][0]["diagnostics"][0]["category"], "deprecation");
    ctxgen().args(["check", "--strict", &dep]).assert().code(1);
}

#[test]
fn multipart_gzip_and_base64_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    let mime = format!(
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"XX\"\n\n--XX\n\
         Content-Type: text/cloud-config\nContent-Disposition: attachment; filename=\"a.yaml\"\n\n{BAD}\n\
         --XX\nContent-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"b.sh\"\n\n\
         #!/bin/sh\necho hi\n--XX--\n"
    );
    let m = write(dir.path(), "user-data.mime", mime.as_bytes());
    let (doc, code) = json_report(&[&m], None);
    assert_eq!(code, 1);
    assert_eq!(doc["files"][0]["kind"], "multipart");
    let d = &doc["files"][0]["diagnostics"][0];
    assert_eq!(d["path"], "write_files.0.permissions");
    assert!(d["part"].as_str().unwrap().contains("a.yaml"), "{d}");
    // A part sent as is is located in the input file itself.
    assert_eq!(d["in_part"], false);
    assert_eq!(d["line"].as_u64(), Some(11));

    let gz = write(dir.path(), "user-data.gz", &gzip(BAD.as_bytes()));
    let (doc, code) = json_report(&[&gz], None);
    assert_eq!(
        (code, doc["files"][0]["kind"].as_str()),
        (1, Some("gzip+cloud-config"))
    );
    assert_eq!(doc["files"][0]["diagnostics"][0]["in_part"], true);

    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(gzip(GOOD.as_bytes()));
    let (doc, code) = json_report(&["-"], Some(b64.as_bytes()));
    assert_eq!(
        (code, doc["files"][0]["kind"].as_str()),
        (0, Some("base64+gzip+cloud-config"))
    );
    assert_eq!(doc["files"][0]["path"], "<stdin>");
}

#[test]
fn jinja_templates_are_rendered_then_checked() {
    let dir = tempfile::tempdir().unwrap();
    let ok = write(
        dir.path(),
        "t.yaml",
        b"## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}\n",
    );
    ctxgen().args(["check", &ok]).assert().code(0);
    let undefined = write(
        dir.path(),
        "u.yaml",
        b"## template: jinja\n#cloud-config\nhostname: {{ v1.nope }}\n",
    );
    let (doc, code) = json_report(&[&undefined], None);
    assert_eq!(code, 1);
    assert_eq!(doc["files"][0]["diagnostics"][0]["line"], 3);
    let data = write(dir.path(), "i.json", br#"{"v1": {"nope": "web-1"}}"#);
    ctxgen()
        .args(["check", "--instance-data", &data, &undefined])
        .assert()
        .code(0);
    let renders_bad = write(
        dir.path(),
        "r.yaml",
        b"## template: jinja\n#cloud-config\nruncmd: {{ v1.region }}\n",
    );
    let (doc, code) = json_report(&[&renders_bad], None);
    assert_eq!(code, 1);
    assert_eq!(codes(&doc)[0], ("CG011".to_string(), "runcmd".to_string()));
}

#[test]
fn unknown_content_is_a_finding_but_found_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "plain.yaml", b"just: yaml\n");
    let (doc, code) = json_report(&[&plain], None);
    assert_eq!(code, 0, "a warning");
    assert_eq!(codes(&doc), [("CG013".to_string(), String::new())]);
    assert_eq!(doc["files"][0]["kind"], "unknown");

    // In a folder: user-data by name or content is checked, the rest skipped.
    write(dir.path(), "bad.yaml", BAD.as_bytes());
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    write(&dir.path().join("sub"), "noext", b"#cloud-config\nruncmd: 5\n");
    write(&dir.path().join("sub"), "notes.md", b"# notes\n");
    let (doc, code) = json_report(&[dir.path().to_str().unwrap()], None);
    assert_eq!(code, 1);
    let paths: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(
        paths[0].ends_with("bad.yaml") && paths[1].ends_with("sub/noext"),
        "{paths:?}"
    );
    assert_eq!(doc["summary"]["skipped"], 1);
}

#[test]
fn scripts_and_specs_are_checked_too() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "s.sh", b"#!/bin/sh\necho hello\n");
    let (doc, code) = json_report(&[&script], None);
    assert_eq!((code, doc["files"][0]["kind"].as_str()), (0, Some("script")));

    let spec = write(
        dir.path(),
        "app.yaml",
        b"version: 1\nname: app\npakages: {install: [nginx]}\n",
    );
    let (doc, code) = json_report(&[&spec], None);
    assert_eq!((code, doc["files"][0]["kind"].as_str()), (1, Some("spec")));
    assert_eq!(doc["files"][0]["diagnostics"][0]["code"], "CG002");
}

#[test]
fn yaml_syntax_errors_and_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(dir.path(), "b.yaml", b"#cloud-config\nruncmd: [a\n");
    let (doc, code) = json_report(&[&broken], None);
    assert_eq!(code, 1);
    assert_eq!(doc["files"][0]["diagnostics"][0]["category"], "syntax");
    let missing = dir.path().join("missing.yaml");
    ctxgen()
        .args(["check", missing.to_str().unwrap()])
        .assert()
        .code(2);
    ctxgen()
        .args(["check", "--format", "nope", &broken])
        .assert()
        .code(2);
}

#[test]
fn sarif_github_and_annotate_formats() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.yaml", BAD.as_bytes());
    let out = ctxgen()
        .args(["check", "--format", "sarif", &bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "CG011");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    assert!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "CG011")
    );

    let out = ctxgen()
        .args(["check", "--format", "github", &bad])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("::error file={bad},line=4,col=18,")),
        "{text}"
    );
    assert!(text.contains("title=CG011::"), "{text}");

    let out = ctxgen()
        .args(["check", "--format", "annotate", &bad])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("    permissions: 0644\t\t# E1"), "{text}");
    assert!(
        text.contains("# E1: write_files.0.permissions: expected a string, found an integer"),
        "{text}"
    );
}

#[test]
fn explain_and_schema_commands() {
    ctxgen().args(["explain", "CG011"]).assert().code(0);
    ctxgen().args(["explain", "nope"]).assert().code(2);
    let out = ctxgen()
        .args(["schema", "cloud-config", "--cloud-init", "22.4"])
        .output()
        .unwrap();
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["additionalProperties"], true);
    assert!(schema["properties"]["write_files"].is_object());
    ctxgen()
        .args(["schema", "cloud-config", "--cloud-init", "9.9"])
        .assert()
        .code(2);
}

#[test]
fn schema_file_replaces_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let schema = write(
        dir.path(),
        "s.json",
        br#"{"type": "object", "properties": {"hostname": {"type": "string"}}, "additionalProperties": false}"#,
    );
    let f = write(dir.path(), "x.yaml", b"#cloud-config\nhostname: 5\nother: x\n");
    let (doc, code) = json_report(&["--no-lint", "--schema", &schema, &f], None);
    assert_eq!(code, 1);
    let mut got = codes(&doc);
    got.sort();
    assert_eq!(
        got,
        [
            ("CG011".to_string(), String::new()),
            ("CG011".to_string(), "hostname".to_string())
        ]
    );
    let not_json = write(dir.path(), "n.json", b"{");
    ctxgen()
        .args(["check", "--schema", &not_json, &f])
        .assert()
        .code(2);
}

#[test]
fn no_report_format_prints_a_credential() {
    let dir = tempfile::tempdir().unwrap();
    // A made-up token of GitHub's format (not a real credential).
    let token = "ghp_0123456789abcdefABCDEF0123456789abcd";
    let doc = format!(
        "#cloud-config\nwrite_files:\n  - path: /root/.config/gh\n    permissions: '0600'\n    content: \"token={token}\\n\"\nruncmd:\n  - [echo, {token}]\n"
    );
    let f = write(dir.path(), "leak.yaml", doc.as_bytes());
    for format in ["human", "json", "sarif", "github", "annotate"] {
        let out = ctxgen().args(["check", "--format", format, &f]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("CL001"), "{format}: {all}");
        assert!(!all.contains(&token[4..20]), "{format} prints the token:\n{all}");
    }
}
