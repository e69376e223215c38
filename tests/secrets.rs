//! Build-time secrets as a user meets them through the `ctxgen` binary: every source,
//! located errors that name the secret and never its value, password hashes that the
//! system's `crypt()` verifies, files that take a secret kept private, `--redact`,
//! `--secrets-out`, runtime secrets in the output, and credentials written into a spec.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

const ALICE_KEY: &str = include_str!("fixtures/keys/alice_ed25519.pub");

/// Values the tests hand to ctxgen; none may ever appear in what it prints.
const ENV_VALUE: &str = "env-Value-7f3a91c2";
const FILE_VALUE: &str = "file-Value-b81e4d07";
const CMD_VALUE: &str = "cmd-Value-5c2d9e6a";
const TOKEN_VALUE: &str = "hvs.CAESIWrapped0123456789abcdefghij";

fn spec(extra: &str) -> String {
    format!(
        "version: 1\nname: app\n\
         secrets:\n\
         \x20 db_password: {{ from: env, name: CTXGEN_TEST_DB }}\n\
         \x20 admin_password: {{ from: file, path: secrets/admin.pw }}\n\
         \x20 api_key: {{ from: command, argv: [printf, '{CMD_VALUE}\\n'] }}\n\
         \x20 app_token: {{ generate: {{ length: 40, charset: alnum }} }}\n\
         users:\n\
         \x20 - name: alice\n\
         \x20   password: {{ secret: admin_password }}\n\
         \x20   ssh_keys: [\"{}\"]\n\
         files:\n\
         \x20 - path: /etc/app/env\n\
         \x20   owner: alice\n\
         \x20   template: true\n\
         \x20   content: \"DB={{{{ secrets.db_password }}}}\\nKEY={{{{ secrets.api_key }}}}\\nTOKEN={{{{ secrets.app_token }}}}\\n\"\n\
         {extra}",
        ALICE_KEY.trim()
    )
}

fn folder(spec_text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::create_dir(dir.path().join("secrets")).expect("secrets folder");
    std::fs::write(
        dir.path().join("secrets/admin.pw"),
        format!("{FILE_VALUE}\nignored second line\n"),
    )
    .expect("secret file");
    std::fs::write(dir.path().join("app.yaml"), spec_text).expect("spec");
    dir
}

fn ctxgen(dir: &Path) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("ctxgen");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CTXGEN_TEST_DB");
    cmd
}

/// `ctxgen build app.yaml` in `dir`, with the database password in the environment.
fn build(dir: &Path) -> Output {
    ctxgen(dir)
        .env("CTXGEN_TEST_DB", ENV_VALUE)
        .args(["build", "app.yaml"])
        .output()
        .expect("run")
}

fn all_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_no_values(text: &str) {
    for v in [ENV_VALUE, FILE_VALUE, CMD_VALUE, TOKEN_VALUE] {
        assert!(!text.contains(v), "a secret value was printed:\n{text}");
    }
}

fn build_json(dir: &Path) -> Value {
    let out = ctxgen(dir)
        .env("CTXGEN_TEST_DB", ENV_VALUE)
        .args(["build", "--json", "app.yaml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// The entry of list `doc[list]` whose `key` is `value`.
fn entry<'a>(doc: &'a Value, list: &str, key: &str, value: &str) -> &'a Value {
    doc[list]
        .as_array()
        .and_then(|items| items.iter().find(|i| i[key] == value))
        .unwrap_or_else(|| panic!("no {list} entry with {key} {value}"))
}

#[test]
fn every_source_reaches_the_output_and_only_there() {
    let dir = folder(&spec(""));
    let doc = build_json(dir.path());
    let file = entry(&doc, "write_files", "path", "/etc/app/env");
    let content = file["content"].as_str().unwrap();
    assert!(content.contains(&format!("DB={ENV_VALUE}\n")), "{content}");
    assert!(content.contains(&format!("KEY={CMD_VALUE}\n")), "{content}");
    let token = content.lines().find_map(|l| l.strip_prefix("TOKEN=")).unwrap();
    assert_eq!(token.len(), 40);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
    // A file that takes a secret is private to its owner, and waits for the owner.
    assert_eq!(file["permissions"], "0600");
    assert_eq!(file["defer"], true);

    // A new value for a generated secret at every build.
    let again = build_json(dir.path());
    assert_ne!(doc["write_files"], again["write_files"]);
}

#[test]
fn passwords_are_hashed_and_verify_with_crypt() {
    let dir = folder(&spec(""));
    let doc = build_json(dir.path());
    let user = entry(&doc, "users", "name", "alice");
    assert_eq!(user["lock_passwd"], false);
    let hash = user["hashed_passwd"].as_str().unwrap();
    assert!(hash.starts_with("$6$"), "{hash}");
    let text = serde_json::to_string(&doc).unwrap();
    assert!(
        !text.contains(FILE_VALUE),
        "the clear-text password is in the output"
    );
    // The system's crypt() (libxcrypt, through Python) must verify it.
    let check =
        "import crypt, sys; sys.exit(0 if crypt.crypt(sys.argv[1], sys.argv[2]) == sys.argv[2] else 1)";
    let status = std::process::Command::new("/usr/bin/python3")
        .args(["-W", "ignore", "-c", check, FILE_VALUE, hash])
        .status()
        .expect("python3 runs (install python3)");
    assert!(status.success(), "crypt() does not verify {hash}");
}

#[test]
fn missing_and_failing_sources_are_located_and_never_print_values() {
    let dir = folder(&spec(
        "  - path: /etc/other\n    template: true\n    content: \"{{ secrets.broken }}{{ secrets.slow }}{{ secrets.empty }}\"\n",
    ));
    // Declare three more failing sources.
    let text = std::fs::read_to_string(dir.path().join("app.yaml"))
        .unwrap()
        .replacen(
            "secrets:\n",
            "secrets:\n  broken: { from: command, argv: [sh, -c, 'printf \"%s-%s\" leaked stderr >&2; exit 3'] }\n  \
             slow: { from: command, argv: [sleep, '5'], timeout_seconds: 1 }\n  \
             empty: { from: file, path: secrets/empty }\n",
            1,
        );
    std::fs::write(dir.path().join("app.yaml"), text).unwrap();
    std::fs::write(dir.path().join("secrets/empty"), "\n").unwrap();
    let out = ctxgen(dir.path()).args(["build", "app.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = all_text(&out);
    for expected in [
        "secret `db_password`: environment variable `CTXGEN_TEST_DB` is not set",
        "secret `broken`: command `sh` failed (exit status 3)",
        "secret `slow`: command `sleep` took longer than 1 s",
        "secret `empty` is empty (file `secrets/empty`)",
        "error[CG014]",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    assert!(
        !text.contains("leaked-stderr"),
        "a command's output was printed:\n{text}"
    );
    assert_no_values(&text);
}

#[test]
fn references_must_exist_and_declarations_be_used() {
    let dir = folder(&spec("").replace("{ secret: admin_password }", "{ secret: admin_pasword }"));
    let out = build(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = all_text(&out);
    assert!(text.contains("no secret named `admin_pasword`"), "{text}");
    assert!(text.contains("did you mean `admin_password`?"), "{text}");
    assert!(text.contains("app.yaml:10:"), "located at the reference:\n{text}");

    let unused = folder(&spec("").replacen("secrets:\n", "secrets:\n  spare: { generate: {} }\n", 1));
    let out = build(unused.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(all_text(&out).contains("warning[CG014]: secret `spare` is declared but never used"));
}

#[test]
fn template_errors_while_rendering_secrets_never_show_them() {
    for expr in [
        "{{ secrets.db_password | int }}",
        "{{ secrets.db_password + 1 }}",
        "{{ secrets.db_password.nope }}",
        "{{ secrets.db_password | join(1, 2) }}",
        "{% for c in secrets.db_password %}{{ c + 1 }}{% endfor %}",
    ] {
        let extra = format!("  - path: /etc/t\n    template: true\n    content: \"{expr}\"\n");
        let dir = folder(&spec(&extra));
        let out = ctxgen(dir.path())
            .env("CTXGEN_TEST_DB", ENV_VALUE)
            .args(["build", "app.yaml"])
            .output()
            .unwrap();
        assert_no_values(&all_text(&out));
    }
}

#[test]
fn redact_is_deterministic_and_reads_nothing() {
    // No environment and an unreadable command: --redact needs neither.
    let dir = folder(&spec("").replace("argv: [printf,", "argv: [/nonexistent/pass,"));
    std::fs::remove_file(dir.path().join("secrets/admin.pw")).unwrap();
    let run = || {
        let out = ctxgen(dir.path())
            .args(["build", "--redact", "app.yaml"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert_eq!(first, run(), "--redact gives the same bytes every time");
    for name in ["db_password", "api_key", "app_token", "admin_password"] {
        assert!(first.contains(&format!("<secret:{name}>")), "{name}:\n{first}");
    }
    // And the redacted output passes `check`.
    std::fs::write(dir.path().join("out.yaml"), &first).unwrap();
    let out = ctxgen(dir.path())
        .args(["check", "--severity", "password-unlocked=off", "out.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
}

#[test]
fn secrets_out_holds_generated_values_only() {
    let dir = folder(&spec(""));
    let out = ctxgen(dir.path())
        .env("CTXGEN_TEST_DB", ENV_VALUE)
        .args([
            "build",
            "app.yaml",
            "-o",
            "user-data",
            "--secrets-out",
            "generated.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let manifest = std::fs::read_to_string(dir.path().join("generated.yaml")).unwrap();
    let mode = std::fs::metadata(dir.path().join("generated.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let user_data = std::fs::read_to_string(dir.path().join("user-data")).unwrap();
    let line = manifest.lines().next().unwrap();
    let value = line
        .strip_prefix("app_token: \"")
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    assert!(
        user_data.contains(value),
        "the manifest names the value the output uses"
    );
    assert_eq!(manifest.lines().count(), 1, "only generated secrets:\n{manifest}");
    assert_no_values(&manifest);
}

#[test]
fn runtime_secrets_compile_to_a_boot_step() {
    let extra = "runtime_secrets:\n  vault:\n    address: https://vault.example.org:8200\n    \
                 token: { secret: vault_token }\n    items:\n      \
                 - { key: secret/data/app/db, field: password, dest: /etc/app/db_password, owner: alice, mode: \"0400\" }\n";
    let text = spec(extra).replacen(
        "secrets:\n",
        "secrets:\n  vault_token: { from: env, name: CTXGEN_TEST_TOKEN }\n",
        1,
    );
    let dir = folder(&text);
    let out = ctxgen(dir.path())
        .env("CTXGEN_TEST_DB", ENV_VALUE)
        .env("CTXGEN_TEST_TOKEN", TOKEN_VALUE)
        .args(["build", "--json", "app.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all_text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = |path: &str| entry(&doc, "write_files", "path", path).clone();
    let token = file("/etc/ctxgen/vault-token");
    assert_eq!(
        (token["permissions"].as_str(), token["owner"].as_str()),
        (Some("0600"), Some("root:root"))
    );
    assert_eq!(token["content"], format!("{TOKEN_VALUE}\n"));
    let config: Value = serde_json::from_str(
        file("/etc/ctxgen/runtime-secrets.json")["content"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(config["expected_creation_path"], "auth/token/create");
    assert_eq!(config["items"][0]["dest"], "/etc/app/db_password");
    assert_eq!(
        file("/usr/local/lib/ctxgen/runtime-secrets.py")["permissions"],
        "0700"
    );
    // Right after `set -e`, before anything that may need the files.
    assert_eq!(doc["runcmd"][0], "set -e");
    assert_eq!(doc["runcmd"][1][1], "/usr/local/lib/ctxgen/runtime-secrets.py");

    let bad = folder(&text.replace("https://vault", "http://vault"));
    let out = ctxgen(bad.path())
        .args(["build", "--redact", "app.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(all_text(&out).contains("is not an https:// address"));
}

#[test]
fn credentials_written_in_the_spec_are_errors_that_do_not_show_them() {
    let github = "ghp_0123456789abcdefABCDEF0123456789abcd";
    let dir = folder(&spec(&format!(
        "vars:\n  api_password: {ENV_VALUE}\n  note: \"see {github}\"\n"
    )));
    let out = build(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = all_text(&out);
    assert!(text.contains("this looks like a GitHub"), "{text}");
    assert!(text.contains("credential under the key `api_password`"), "{text}");
    assert!(text.contains("declare the credential under `secrets:`"), "{text}");
    assert!(!text.contains(&github[4..20]), "{text}");
    assert_no_values(&text);

    // A literal where a secret reference belongs.
    let literal = folder(&spec("").replace("{ secret: admin_password }", FILE_VALUE));
    let out = ctxgen(literal.path())
        .args(["build", "--redact", "app.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = all_text(&out);
    assert!(
        text.contains("a credential cannot be written in the spec"),
        "{text}"
    );
    assert_no_values(&text);
}
