//! `config_management`: hand the VM to a configuration management tool at first boot.
//!
//! Ansible runs in pull mode from our own script (`templates/ansible-pull.sh`), not
//! through cloud-init's `ansible` module, whose `pull` changed shape in 25.2 (an
//! object before, a list after, the object deprecated): no single form of it is valid
//! without a deprecation from 22.4 to 26.2. The script is a shell template rendered
//! with every value shell-quoted ([`crate::render::render_shell`]). Emitted:
//! `ansible-core` and `git` in `packages` (same names on apt and dnf families, so
//! `target.os: any` works too); root-only `write_files`: the script (0700), the
//! extra vars as JSON (0600, passed as `--extra-vars @FILE`: no quoting involved) and
//! the deploy key (0600); `known_hosts` lines are appended to ssh's global known-hosts
//! file (where Ansible's git module checks too); one `runcmd` entry that runs the script
//! (under the leading `set -e`, so a failed run stops the boot step and shows in
//! `cloud-init status`). With `schedule`, a oneshot service and a timer
//! (`OnBootSec` and `OnUnitActiveSec` = the span) re-run the same script; the script
//! holds a lock so the timer and a running first-boot run never overlap.
//!
//! Puppet, Salt and Chef also use our own scripts (`templates/puppet-agent.sh`,
//! `salt-minion.sh`, `chef-client.sh`) rather than cloud-init's modules, for the same
//! reason of one form on every release and so that credentials land in root-only files
//! with the modes we choose. Their settings files are written from typed values with
//! quoting of their own language (JSON for YAML settings, single-quoted Ruby strings);
//! each script runs from one `runcmd` entry.

use serde_json::json;

use super::Ctx;
use crate::cloud_config::{Command, WriteFile};
use crate::diag::{Code, Diagnostic};
use crate::secrets::Secret;
use crate::source::{Span, Spanned};
use crate::spec::{Ansible, Chef, ChefLicense, ConfigManagement, Puppet, Salt, SecretRef};

const ANSIBLE_TEMPLATE: &str = "ansible-pull.sh";
const ANSIBLE_SCRIPT: &str = include_str!("../../templates/ansible-pull.sh");
const ANSIBLE_SCRIPT_PATH: &str = "/usr/local/lib/ctxgen/ansible-pull.sh";
const ANSIBLE_VARS_PATH: &str = "/etc/ctxgen/ansible/extra-vars.json";
const ANSIBLE_KEY_PATH: &str = "/etc/ctxgen/ansible/deploy-key";
/// ssh's global known-hosts file, which Ansible's git module also checks before it
/// clones (it refuses an unknown host unless told to accept it).
const ANSIBLE_KNOWN_HOSTS_PATH: &str = "/etc/ssh/ssh_known_hosts";
const ANSIBLE_UNIT: &str = "ctxgen-ansible-pull";
const CHEF_TEMPLATE: &str = "chef-client.sh";
const CHEF_SCRIPT: &str = include_str!("../../templates/chef-client.sh");
const CHEF_SCRIPT_PATH: &str = "/usr/local/lib/ctxgen/chef-client.sh";
const SALT_TEMPLATE: &str = "salt-minion.sh";
const SALT_SCRIPT: &str = include_str!("../../templates/salt-minion.sh");
const SALT_SCRIPT_PATH: &str = "/usr/local/lib/ctxgen/salt-minion.sh";
const PUPPET_TEMPLATE: &str = "puppet-agent.sh";
const PUPPET_SCRIPT: &str = include_str!("../../templates/puppet-agent.sh");
const PUPPET_SCRIPT_PATH: &str = "/usr/local/lib/ctxgen/puppet-agent.sh";
const PUPPET_CSR_PATH: &str = "/etc/puppetlabs/puppet/csr_attributes.yaml";
/// The OID of the PKCS#9 challenge password, which Puppet's policy-based autosigning
/// reads from the CSR.
const CHALLENGE_PASSWORD_OID: &str = "1.2.840.113549.1.9.7";

pub(super) fn compile(ctx: &mut Ctx) {
    let Some(cm) = &ctx.spec.config_management else {
        return;
    };
    let c: &ConfigManagement = &cm.value;
    if let Some(ansible) = &c.ansible {
        self::ansible(ctx, ansible);
    }
    if let Some(puppet) = &c.puppet {
        self::puppet(ctx, puppet);
    }
    if let Some(salt) = &c.salt {
        self::salt(ctx, salt);
    }
    if let Some(chef) = &c.chef {
        self::chef(ctx, chef);
    }
}

/// The value of secret reference `r`, marked as used (its placeholder when validation
/// already reported the name as undeclared).
fn secret_value(ctx: &mut Ctx, r: &Spanned<SecretRef>) -> String {
    let name = &r.value.secret.value;
    ctx.used_secrets.insert(name.clone());
    ctx.secrets
        .get(name)
        .map_or_else(|| Secret::placeholder(name), |s| s.expose().to_string())
}

fn ansible(ctx: &mut Ctx, ansible: &Spanned<Ansible>) {
    let a = &ansible.value;
    let pull = &a.pull.value;
    let span = ansible.span;
    ctx.need_package("ansible-core");
    ctx.need_package("git");
    let ssh = !pull.url.value.starts_with("https://");

    if let Some(key) = &pull.private_key {
        let mut text = secret_value(ctx, key);
        if !text.ends_with('\n') {
            // OpenSSH refuses a key file whose last line has no line break.
            text.push('\n');
        }
        ctx.write_file(WriteFile::root(ANSIBLE_KEY_PATH, text, "0600"), key.span);
    }
    if !pull.known_hosts.is_empty() {
        let text: String = pull
            .known_hosts
            .iter()
            .map(|l| format!("{}\n", l.value))
            .collect();
        ctx.write_file(
            WriteFile {
                append: true,
                ..WriteFile::root(ANSIBLE_KNOWN_HOSTS_PATH, text, "0644")
            },
            pull.known_hosts[0].span,
        );
    } else if ssh {
        ctx.error(
            Diagnostic::warning(
                Code::InvalidValue,
                "the first connection to the git server trusts whatever host key it is shown",
            )
            .with_span(pull.url.span)
            .with_hint("add `known_hosts:` with the server's key lines (`ssh-keyscan HOST`)"),
        );
    }
    if !a.extra_vars.is_empty() {
        let vars: serde_json::Map<String, serde_json::Value> = a
            .extra_vars
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        let mut text = serde_json::to_string_pretty(&vars).unwrap_or_default();
        text.push('\n');
        let vars_span = a.extra_vars.values().next().map_or(span, |v| v.span);
        ctx.write_file(WriteFile::root(ANSIBLE_VARS_PATH, text, "0600"), vars_span);
    }

    let values = json!({
        "url": pull.url.value,
        "checkout": pull.checkout.as_ref().map(|c| &c.value),
        "playbook": pull.playbook.value,
        "ssh": ssh,
        "private_key": pull.private_key.is_some(),
        "known_hosts": !pull.known_hosts.is_empty(),
        "extra_vars": !a.extra_vars.is_empty(),
    });
    let Some(script) = ctx.render_template(ANSIBLE_TEMPLATE, ANSIBLE_SCRIPT, &values, span) else {
        return;
    };
    ctx.write_file(WriteFile::root(ANSIBLE_SCRIPT_PATH, script, "0700"), a.pull.span);
    ctx.runcmd(Command::argv([ANSIBLE_SCRIPT_PATH]), a.pull.span);

    if let Some(schedule) = &pull.schedule {
        timer(ctx, schedule);
    }
}

/// The service and timer that re-run ansible-pull every `schedule`, enabled after the
/// first-boot run succeeded.
fn timer(ctx: &mut Ctx, schedule: &Spanned<String>) {
    let every = schedule.value.trim();
    let service = format!(
        "# Written by ctxgen: re-runs ansible-pull (see {ANSIBLE_UNIT}.timer).\n\
         [Unit]\n\
         Description=ctxgen: apply the Ansible playbook again (ansible-pull)\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={ANSIBLE_SCRIPT_PATH}\n"
    );
    let timer = format!(
        "# Written by ctxgen: runs {ANSIBLE_UNIT}.service every {every}.\n\
         [Unit]\n\
         Description=ctxgen: run ansible-pull every {every}\n\
         \n\
         [Timer]\n\
         OnBootSec={every}\n\
         OnUnitActiveSec={every}\n\
         RandomizedDelaySec=60\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n"
    );
    let span: Span = schedule.span;
    ctx.write_file(
        WriteFile::root(
            format!("/etc/systemd/system/{ANSIBLE_UNIT}.service"),
            service,
            "0644",
        ),
        span,
    );
    ctx.write_file(
        WriteFile::root(format!("/etc/systemd/system/{ANSIBLE_UNIT}.timer"), timer, "0644"),
        span,
    );
    ctx.daemon_reload(span);
    ctx.runcmd(
        Command::argv([
            "systemctl".to_string(),
            "enable".to_string(),
            "--now".to_string(),
            format!("{ANSIBLE_UNIT}.timer"),
        ]),
        span,
    );
}

/// Puppet: our script (`templates/puppet-agent.sh`) installs the agent, configures
/// server, environment, certname and the CSR attributes file, runs the agent once in
/// the foreground (a failure fails the boot step), then enables the agent service.
/// The challenge password goes to `csr_attributes.yaml` (0600) for policy-based
/// autosigning.
fn puppet(ctx: &mut Ctx, puppet: &Spanned<Puppet>) {
    let p = &puppet.value;
    let span = puppet.span;
    if let Some(challenge) = &p.challenge_password {
        let password = secret_value(ctx, challenge);
        // A JSON string is a YAML double-quoted scalar: any password stays one value.
        let text = format!(
            "# Written by ctxgen: read by the Puppet agent when it makes its certificate request.\n\
             custom_attributes:\n  {CHALLENGE_PASSWORD_OID}: {}\n",
            serde_json::Value::from(password)
        );
        ctx.write_file(WriteFile::root(PUPPET_CSR_PATH, text, "0600"), challenge.span);
    }
    let certname = p.certname.as_ref().map(|c| c.value.clone()).or_else(|| {
        let host = &ctx.spec.host;
        host.fqdn
            .as_ref()
            .or(host.hostname.as_ref())
            .map(|h| h.value.to_lowercase())
    });
    let values = json!({
        "server": p.server.value,
        "environment": p.environment.as_ref().map_or("production", |e| e.value.as_str()),
        "certname": certname,
        "csr_attributes": p.challenge_password.is_some(),
    });
    let Some(script) = ctx.render_template(PUPPET_TEMPLATE, PUPPET_SCRIPT, &values, span) else {
        return;
    };
    ctx.write_file(WriteFile::root(PUPPET_SCRIPT_PATH, script, "0700"), span);
    ctx.runcmd(Command::argv([PUPPET_SCRIPT_PATH]), span);
}

/// Salt: the minion's settings (`master`, `grains`) in a `minion.d` drop-in, the
/// pre-seeded key pair when given (private 0400, public 0644), and our script
/// (`templates/salt-minion.sh`) that installs and starts the minion.
fn salt(ctx: &mut Ctx, salt: &Spanned<Salt>) {
    let s = &salt.value;
    let span = salt.span;
    // JSON is YAML: every value keeps its type and cannot start a new key.
    let mut conf = format!(
        "# Written by ctxgen: Salt minion settings.\nmaster: {}\n",
        serde_json::Value::from(s.master.value.as_str())
    );
    if !s.grains.is_empty() {
        let grains: serde_json::Map<String, serde_json::Value> = s
            .grains
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        conf.push_str(&format!("grains: {}\n", serde_json::Value::Object(grains)));
    }
    ctx.write_file(
        WriteFile::root("/etc/salt/minion.d/ctxgen.conf", conf, "0644"),
        span,
    );
    if let Some(keys) = &s.keys {
        let mut private = secret_value(ctx, &keys.value.private);
        let mut public = secret_value(ctx, &keys.value.public);
        for key in [&mut private, &mut public] {
            if !key.ends_with('\n') {
                key.push('\n');
            }
        }
        ctx.write_file(
            WriteFile::root("/etc/salt/pki/minion/minion.pem", private, "0400"),
            keys.value.private.span,
        );
        ctx.write_file(
            WriteFile::root("/etc/salt/pki/minion/minion.pub", public, "0644"),
            keys.value.public.span,
        );
    }
    let Some(script) = ctx.render_template(SALT_TEMPLATE, SALT_SCRIPT, &json!({}), span) else {
        return;
    };
    ctx.write_file(WriteFile::root(SALT_SCRIPT_PATH, script, "0700"), span);
    ctx.runcmd(Command::argv([SALT_SCRIPT_PATH]), span);
}

/// `text` as a single-quoted Ruby string (no interpolation; `\\` and `'` escaped).
fn ruby_quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Chef: `client.rb` (server, validator, node name), the validator key (0600), the
/// run list as first-boot JSON attributes, and our script (`templates/chef-client.sh`)
/// that runs the client once and then deletes the validator key.
fn chef(ctx: &mut Ctx, chef: &Spanned<Chef>) {
    let c = &chef.value;
    let span = chef.span;
    let mut key = secret_value(ctx, &c.validation_key);
    if !key.ends_with('\n') {
        key.push('\n');
    }
    ctx.write_file(
        WriteFile::root("/etc/chef/validation.pem", key, "0600"),
        c.validation_key.span,
    );
    let node_name = c.node_name.as_ref().map(|n| n.value.clone()).or_else(|| {
        let host = &ctx.spec.host;
        host.fqdn
            .as_ref()
            .or(host.hostname.as_ref())
            .map(|h| h.value.to_lowercase())
    });
    let mut client = format!(
        "# Written by ctxgen: Chef Infra client settings.\n\
         chef_server_url {}\n\
         validation_client_name {}\n\
         validation_key '/etc/chef/validation.pem'\n",
        ruby_quote(&c.server_url.value),
        ruby_quote(&c.validation_name.value),
    );
    if let Some(node) = &node_name {
        client.push_str(&format!("node_name {}\n", ruby_quote(node)));
    }
    ctx.write_file(WriteFile::root("/etc/chef/client.rb", client, "0644"), span);
    let run_list: Vec<&str> = c.run_list.iter().map(|r| r.value.as_str()).collect();
    let mut attributes = serde_json::to_string_pretty(&json!({ "run_list": run_list })).unwrap_or_default();
    attributes.push('\n');
    ctx.write_file(
        WriteFile::root("/etc/chef/first-boot.json", attributes, "0644"),
        span,
    );
    let license = c.license.as_ref().map(|l| match l.value {
        ChefLicense::Accept => "accept",
        ChefLicense::AcceptNoPersist => "accept-no-persist",
    });
    let values = json!({ "license": license });
    let Some(script) = ctx.render_template(CHEF_TEMPLATE, CHEF_SCRIPT, &values, span) else {
        return;
    };
    ctx.write_file(WriteFile::root(CHEF_SCRIPT_PATH, script, "0700"), span);
    ctx.runcmd(Command::argv([CHEF_SCRIPT_PATH]), span);
}
