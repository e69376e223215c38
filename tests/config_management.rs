//! `config_management`: what the compiled user-data holds (packages, files and their
//! modes, the boot commands and their order), that the rendered bootstrap scripts
//! parse (`bash -n` and `sh -n` on every script of every example and feature fixture)
//! and behave (the ansible-pull script run with stub tools gets exactly the arguments
//! meant), that `--templates DIR` replaces a built-in script, and that bad values are
//! refused with located errors.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use ctxgen::secrets::SecretsMode;
use ctxgen::{BuildOptions, Sources};
use serde_json::{Value, json};

const SCRIPT: &str = "/usr/local/lib/ctxgen/ansible-pull.sh";

/// Builds `yaml` (secrets from the test environment); the JSON document or the
/// rendered errors.
fn build_with(yaml: &str, templates: Option<&Path>) -> Result<(Value, Vec<String>), String> {
    let mut sources = Sources::new();
    let id = sources.add("spec.yaml", yaml);
    let options = BuildOptions {
        secrets: common::test_env(),
        templates_dir: templates.map(Path::to_path_buf),
        ..BuildOptions::new(".")
    };
    match ctxgen::build(&mut sources, id, &options) {
        Ok(a) => Ok((a.json, a.warnings.iter().map(|d| d.message.clone()).collect())),
        Err(d) => Err(d.render(&sources, false)),
    }
}

fn build(yaml: &str) -> Value {
    build_with(yaml, None)
        .unwrap_or_else(|e| panic!("does not build:\n{e}"))
        .0
}

fn file<'a>(doc: &'a Value, path: &str) -> &'a Value {
    doc["write_files"]
        .as_array()
        .and_then(|files| files.iter().find(|f| f["path"] == path))
        .unwrap_or_else(|| panic!("no write_files entry for {path}"))
}

fn has_file(doc: &Value, path: &str) -> bool {
    doc["write_files"]
        .as_array()
        .is_some_and(|files| files.iter().any(|f| f["path"] == path))
}

const HTTPS: &str = "version: 1\nname: a\ntarget: { os: debian }\nconfig_management:\n  ansible:\n    pull:\n      url: https://github.com/example/infra.git\n      checkout: main\n      playbook: site.yml\n      schedule: 30min\n    extra_vars: { env: prod, \"on\": \"yes\", n: 3 }\n";

const SSH: &str = "version: 1\nname: a\nsecrets:\n  deploy: { from: env, name: DEPLOY_KEY }\nconfig_management:\n  ansible:\n    pull:\n      url: git@git.example.org:infra/site.git\n      playbook: vm.yml\n      private_key: { secret: deploy }\n      known_hosts: [\"git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\"]\n";

#[test]
fn ansible_pull_over_https_with_a_schedule() {
    let doc = build(HTTPS);
    let packages = doc["packages"].as_array().unwrap();
    assert!(packages.contains(&json!("ansible-core")) && packages.contains(&json!("git")));

    let script = file(&doc, SCRIPT);
    assert_eq!(
        (&script["owner"], &script["permissions"]),
        (&json!("root:root"), &json!("0700"))
    );
    let text = script["content"].as_str().unwrap();
    assert!(text.starts_with("#!/bin/sh\n"), "{text}");
    assert!(
        text.contains(
            "set -- --url 'https://github.com/example/infra.git' --directory /var/lib/ctxgen/ansible-pull\n"
        ),
        "{text}"
    );
    assert!(text.contains("set -- \"$@\" --checkout 'main'\n"), "{text}");
    assert!(
        text.contains("--extra-vars @/etc/ctxgen/ansible/extra-vars.json\n"),
        "{text}"
    );
    assert!(text.ends_with("exec ansible-pull \"$@\" 'site.yml'\n"), "{text}");
    assert!(!text.contains("GIT_SSH_COMMAND"), "no SSH for an https URL");

    let vars = file(&doc, "/etc/ctxgen/ansible/extra-vars.json");
    assert_eq!(vars["permissions"], "0600");
    let parsed: Value = serde_json::from_str(vars["content"].as_str().unwrap()).unwrap();
    assert_eq!(parsed, json!({"env": "prod", "on": "yes", "n": 3}));

    let timer = file(&doc, "/etc/systemd/system/ctxgen-ansible-pull.timer");
    let timer = timer["content"].as_str().unwrap();
    assert!(
        timer.contains("OnBootSec=30min\nOnUnitActiveSec=30min\n"),
        "{timer}"
    );
    let service = file(&doc, "/etc/systemd/system/ctxgen-ansible-pull.service");
    assert!(
        service["content"]
            .as_str()
            .unwrap()
            .contains(&format!("ExecStart={SCRIPT}\n"))
    );

    // The first run comes before the timer, under the leading `set -e`.
    let runcmd = doc["runcmd"].as_array().unwrap();
    assert_eq!(runcmd[0], "set -e");
    let run = runcmd
        .iter()
        .position(|c| *c == json!([SCRIPT]))
        .expect("runs the script");
    let enable = runcmd
        .iter()
        .position(|c| *c == json!(["systemctl", "enable", "--now", "ctxgen-ansible-pull.timer"]))
        .expect("enables the timer");
    let reload = runcmd
        .iter()
        .position(|c| *c == json!(["systemctl", "daemon-reload"]))
        .expect("reloads units");
    assert!(run < enable && reload < enable, "{runcmd:?}");
    assert!(
        doc.get("ansible").is_none(),
        "cloud-init's ansible module is not used"
    );
}

#[test]
fn ansible_pull_over_ssh_with_a_deploy_key() {
    let (doc, warnings) = build_with(SSH, None).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let key = file(&doc, "/etc/ctxgen/ansible/deploy-key");
    assert_eq!(key["permissions"], "0600");
    assert_eq!(key["owner"], "root:root");
    assert_eq!(
        key["content"], "test-value-of-DEPLOY_KEY\n",
        "ends with a line break"
    );
    assert_eq!(file(&doc, "/etc/ssh/ssh_known_hosts")["append"], true);
    let text = file(&doc, SCRIPT)["content"].as_str().unwrap().to_string();
    assert!(
        text.contains("-i /etc/ctxgen/ansible/deploy-key -o IdentitiesOnly=yes"),
        "{text}"
    );
    assert!(
        text.contains(
            "-o IdentitiesOnly=yes\"\nGIT_SSH_COMMAND=\"$GIT_SSH_COMMAND -o StrictHostKeyChecking=yes\"\n"
        ),
        "{text}"
    );
    assert!(!text.contains("--checkout"), "{text}");
    assert!(!has_file(&doc, "/etc/ctxgen/ansible/extra-vars.json"));
    assert!(!has_file(&doc, "/etc/systemd/system/ctxgen-ansible-pull.timer"));
    let runcmd = doc["runcmd"].as_array().unwrap();
    assert!(
        !runcmd
            .iter()
            .any(|c| c[0] == "systemctl" && c[3] == "ctxgen-ansible-pull.timer")
    );

    // Without known_hosts: trust on first use, said as a warning.
    let tofu = SSH.replace("      known_hosts:", "      #");
    let (doc, warnings) = build_with(&tofu, None).unwrap();
    assert!(
        warnings.iter().any(|w| w.contains("trusts whatever host key")),
        "{warnings:?}"
    );
    let text = file(&doc, SCRIPT)["content"].as_str().unwrap().to_string();
    assert!(text.contains("StrictHostKeyChecking=accept-new"), "{text}");
    assert!(text.contains("set -- \"$@\" --accept-host-key\n"), "{text}");
    assert!(!has_file(&doc, "/etc/ssh/ssh_known_hosts"));
}

/// The rendered script, run with `ansible-pull` and `flock` stubbed in PATH and its
/// state folder moved to a temporary one: the stub gets exactly the arguments meant.
#[test]
fn the_script_passes_arguments_exactly() {
    let doc = build(SSH);
    let text = file(&doc, SCRIPT)["content"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let stub = |name: &str, body: &str| {
        let p = bin.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    stub("flock", "exit 0");
    stub(
        "ansible-pull",
        "printf 'GIT_SSH_COMMAND=%s\\n' \"$GIT_SSH_COMMAND\"; for a in \"$@\"; do printf '<%s>\\n' \"$a\"; done",
    );
    let script = dir.path().join("ansible-pull.sh");
    std::fs::write(
        &script,
        text.replace("/var/lib/ctxgen", &state.display().to_string()),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("sh")
        .arg(&script)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    let dir_arg = format!("<{}/ansible-pull>", state.display());
    let expected = [
        "GIT_SSH_COMMAND=ssh -o BatchMode=yes -i /etc/ctxgen/ansible/deploy-key -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes",
        "<--url>",
        "<git@git.example.org:infra/site.git>",
        "<--directory>",
        &dir_arg,
        "<--private-key>",
        "</etc/ctxgen/ansible/deploy-key>",
        "<vm.yml>",
    ]
    .join("\n");
    assert_eq!(said.trim_end(), expected);
}

/// `--templates DIR`: a file named like a built-in template replaces it, with values
/// still quoted; a template error points into the override file.
#[test]
fn templates_dir_overrides_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ansible-pull.sh"),
        "#!/bin/sh\nset -eu\nexec ansible-pull -U {{ url }} {{ playbook }}\n",
    )
    .unwrap();
    let (doc, _) = build_with(HTTPS, Some(dir.path())).unwrap();
    assert_eq!(
        file(&doc, SCRIPT)["content"],
        "#!/bin/sh\nset -eu\nexec ansible-pull -U 'https://github.com/example/infra.git' 'site.yml'\n"
    );
    std::fs::write(dir.path().join("ansible-pull.sh"), "#!/bin/sh\n{{ nope }}\n").unwrap();
    let err = build_with(HTTPS, Some(dir.path())).unwrap_err();
    assert!(
        err.contains("undefined") && err.contains("ansible-pull.sh:2"),
        "{err}"
    );
}

#[test]
fn bad_values_are_refused_where_they_are() {
    let cases = [
        (
            "url: https://github.com/example/infra.git",
            "url: http://github.com/example/infra.git",
            "never in clear",
        ),
        (
            "url: https://github.com/example/infra.git",
            "url: \"git@host:-oProxyCommand=x\"",
            "not a git repository URL",
        ),
        (
            "checkout: main",
            "checkout: --upload-pack=touch",
            "not a branch, tag or commit",
        ),
        (
            "playbook: site.yml",
            "playbook: ../../etc/x.yml",
            "not a playbook path",
        ),
        (
            "playbook: site.yml",
            "playbook: \"site.yml; id\"",
            "not a playbook path",
        ),
        (
            "schedule: 30min",
            "schedule: \"5min\\nExecStart=/bin/sh\"",
            "not a systemd time span",
        ),
        ("schedule: 30min", "schedule: 1min", "too often"),
        ("schedule: 30min", "schedule: \"30\"", "not a systemd time span"),
        ("env: prod", "bad-name: prod", "not an Ansible variable name"),
    ];
    for (from, to, want) in cases {
        let spec = HTTPS.replace(from, to);
        let err = build_with(&spec, None).expect_err(to);
        assert!(err.contains(want), "{to}: {err}");
        assert!(err.contains("spec.yaml:"), "located: {err}");
    }
    let key_on_https = HTTPS.replace(
        "      checkout: main\n",
        "      checkout: main\n      private_key: { secret: k }\n",
    );
    let err = build_with(&key_on_https, None).unwrap_err();
    assert!(
        err.contains("SSH URLs only") && err.contains("no secret named `k`"),
        "{err}"
    );
    let two = format!("{HTTPS}  puppet: {{ server: puppet.example.org }}\n");
    let err = build_with(&two, None).unwrap_err();
    assert!(err.contains("has both `ansible` and `puppet`"), "{err}");
    let none = "version: 1\nname: a\nconfig_management: {}\n";
    assert!(build_with(none, None).unwrap_err().contains("names no tool"));
    let literal = SSH.replace("{ secret: deploy }", "\"-----BEGIN OPENSSH PRIVATE KEY-----\"");
    let err = build_with(&literal, None).unwrap_err();
    assert!(!err.contains("BEGIN OPENSSH"), "a literal is never echoed: {err}");
}

/// Every script ctxgen renders, in every example and feature fixture, parses under
/// `bash -n` and `sh -n`: `write_files` entries that start with `#!/bin/sh` or
/// `#!/bin/bash`, and the shell text of `sh -eu -c SCRIPT` boot commands.
#[test]
fn every_rendered_script_parses() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for spec in common::spec_files() {
        let (artifact, _) = common::build_file(&spec).unwrap_or_else(|e| panic!("{}: {e}", spec.label));
        let doc = artifact.json;
        let mut scripts: Vec<(String, String)> = Vec::new();
        for f in doc["write_files"].as_array().into_iter().flatten() {
            let content = f["content"].as_str().unwrap_or("");
            if f.get("encoding").is_none()
                && (content.starts_with("#!/bin/sh") || content.starts_with("#!/bin/bash"))
            {
                scripts.push((f["path"].as_str().unwrap_or("").to_string(), content.to_string()));
            }
        }
        for list in ["runcmd", "bootcmd"] {
            for (i, c) in doc[list].as_array().into_iter().flatten().enumerate() {
                if let Some(argv) = c.as_array()
                    && argv.len() > 3
                    && argv[0] == "sh"
                    && argv[2] == "-c"
                {
                    scripts.push((format!("{list}/{i}"), argv[3].as_str().unwrap_or("").to_string()));
                }
            }
        }
        for (name, text) in scripts {
            let file = dir.path().join(format!("script-{checked}.sh"));
            std::fs::write(&file, &text).unwrap();
            for shell in ["bash", "sh"] {
                let out = Command::new(shell)
                    .arg("-n")
                    .arg(&file)
                    .output()
                    .unwrap_or_else(|e| panic!("cannot run {shell}: {e}"));
                if !out.status.success() {
                    failures.push(format!(
                        "{} {name}: {shell} -n: {}",
                        spec.label,
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 3, "only {checked} scripts found");
}

#[test]
fn redacted_builds_keep_the_key_out() {
    let mut sources = Sources::new();
    let id = sources.add("spec.yaml", SSH);
    let options = BuildOptions {
        secrets: SecretsMode::Redact,
        ..BuildOptions::new(".")
    };
    let a = ctxgen::build(&mut sources, id, &options).unwrap();
    assert_eq!(
        file(&a.json, "/etc/ctxgen/ansible/deploy-key")["content"],
        "<secret:deploy>\n"
    );
}

#[test]
fn puppet_agent_with_an_autosign_challenge() {
    let spec = "version: 1\nname: a\nhost: { hostname: web-01 }\nsecrets:\n  autosign: { from: env, name: CHALLENGE }\nconfig_management:\n  puppet: { server: puppet.example.org, challenge_password: { secret: autosign } }\n";
    let doc = build(spec);
    let csr = file(&doc, "/etc/puppetlabs/puppet/csr_attributes.yaml");
    assert_eq!(csr["permissions"], "0600");
    assert!(
        csr["content"]
            .as_str()
            .unwrap()
            .ends_with("custom_attributes:\n  1.2.840.113549.1.9.7: \"test-value-of-CHALLENGE\"\n")
    );
    let script = file(&doc, "/usr/local/lib/ctxgen/puppet-agent.sh");
    assert_eq!(script["permissions"], "0700");
    let text = script["content"].as_str().unwrap();
    assert!(
        text.contains("--section agent server 'puppet.example.org'\n"),
        "{text}"
    );
    assert!(
        text.contains("--section agent environment 'production'\n"),
        "{text}"
    );
    assert!(text.contains("--section main certname 'web-01'\n"), "{text}");
    assert!(
        text.contains("csr_attributes /etc/puppetlabs/puppet/csr_attributes.yaml\n"),
        "{text}"
    );
    let runcmd = doc["runcmd"].as_array().unwrap();
    assert!(runcmd.contains(&json!(["/usr/local/lib/ctxgen/puppet-agent.sh"])));
    // No challenge, no certname: neither is configured.
    let plain = build(
        "version: 1\nname: a\nconfig_management:\n  puppet: { server: puppet.example.org, environment: staging }\n",
    );
    assert!(!has_file(&plain, "/etc/puppetlabs/puppet/csr_attributes.yaml"));
    let text = file(&plain, "/usr/local/lib/ctxgen/puppet-agent.sh")["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !text.contains("certname") && !text.contains("section main csr_attributes"),
        "{text}"
    );
    assert!(text.contains("environment 'staging'"), "{text}");
}

#[test]
fn salt_minion_with_grains_and_keys() {
    let spec = "version: 1\nname: a\nsecrets:\n  pub: { from: env, name: PUB }\n  key: { from: env, name: KEY }\nconfig_management:\n  salt:\n    master: salt.example.org\n    grains: { role: web, \"on\": \"yes\", n: 2 }\n    keys: { public: { secret: pub }, private: { secret: key } }\n";
    let doc = build(spec);
    let conf = file(&doc, "/etc/salt/minion.d/ctxgen.conf");
    assert_eq!(
        conf["content"],
        "# Written by ctxgen: Salt minion settings.\nmaster: \"salt.example.org\"\ngrains: {\"role\":\"web\",\"on\":\"yes\",\"n\":2}\n"
    );
    let private = file(&doc, "/etc/salt/pki/minion/minion.pem");
    assert_eq!(
        (&private["permissions"], &private["content"]),
        (&json!("0400"), &json!("test-value-of-KEY\n"))
    );
    assert_eq!(
        file(&doc, "/etc/salt/pki/minion/minion.pub")["permissions"],
        "0644"
    );
    assert!(
        doc["runcmd"]
            .as_array()
            .unwrap()
            .contains(&json!(["/usr/local/lib/ctxgen/salt-minion.sh"]))
    );
    // Without keys the minion makes its own (accepted on the master).
    let plain = build("version: 1\nname: a\nconfig_management:\n  salt: { master: 10.0.0.5 }\n");
    assert!(!has_file(&plain, "/etc/salt/pki/minion/minion.pem"));
}

#[test]
fn chef_client_registers_and_drops_the_validator_key() {
    let spec = "version: 1\nname: a\nhost: { hostname: web-01 }\nsecrets:\n  v: { from: env, name: V }\nconfig_management:\n  chef:\n    server_url: \"https://chef.example.org/organizations/ex\"\n    validation_name: ex-validator\n    validation_key: { secret: v }\n    run_list: [\"role[web]\", \"recipe[base::ntp]\"]\n    license: accept\n";
    let doc = build(spec);
    let key = file(&doc, "/etc/chef/validation.pem");
    assert_eq!(
        (&key["permissions"], &key["content"]),
        (&json!("0600"), &json!("test-value-of-V\n"))
    );
    assert_eq!(
        file(&doc, "/etc/chef/client.rb")["content"],
        "# Written by ctxgen: Chef Infra client settings.\nchef_server_url 'https://chef.example.org/organizations/ex'\nvalidation_client_name 'ex-validator'\nvalidation_key '/etc/chef/validation.pem'\nnode_name 'web-01'\n"
    );
    let attributes: Value = serde_json::from_str(
        file(&doc, "/etc/chef/first-boot.json")["content"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        attributes,
        json!({"run_list": ["role[web]", "recipe[base::ntp]"]})
    );
    let text = file(&doc, "/usr/local/lib/ctxgen/chef-client.sh")["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("set -- \"$@\" --chef-license 'accept'\n"), "{text}");
    assert!(
        text.ends_with("chef-client \"$@\"\nrm -f /etc/chef/validation.pem\n"),
        "{text}"
    );
    let bad = spec
        .replace("recipe[base::ntp]", "recipe[x]; rm -rf /")
        .replace("https://chef", "http://chef");
    let err = build_with(&bad, None).unwrap_err();
    assert!(
        err.contains("not a valid run list item") && err.contains("not an https:// Chef server URL"),
        "{err}"
    );
}
