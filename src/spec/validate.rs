//! Value checks that serde's shape checks cannot express: patterns, ranges, exactly-one
//! rules, duplicates, and fields that need `target`. Every finding is collected.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::LazyLock;

use regex::Regex;

use super::model::*;
use crate::cloud_config::Release;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{Span, Spanned};

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect("pattern is valid"));
    };
}

re!(APP_NAME, r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
/// Whether `name` is usable as an application, role or instance name (and so as a
/// file name and a hostname).
pub(super) fn is_name(name: &str) -> bool {
    APP_NAME.is_match(name)
}

re!(HOSTNAME, r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$");
re!(
    FQDN,
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$"
);
re!(
    TIMEZONE,
    r"^([A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}|UTC|Etc/[A-Za-z0-9+-]+)$"
);
re!(
    LOCALE,
    r"^[A-Za-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[a-z]+)?$|^C(\.UTF-8)?$|^POSIX$"
);
re!(USER_NAME, r"^[a-z_][a-z0-9_-]{0,31}$");
re!(MODE, r"^[0-7]{3,4}$");
re!(OWNER, r"^[a-z_][a-z0-9_-]{0,31}(:[a-z_][a-z0-9_-]{0,31})?$");
re!(UNIT_NAME, r"^[A-Za-z0-9:_.@\\-]+$");
re!(REPO_NAME, r"^[A-Za-z0-9][A-Za-z0-9._-]*$");
re!(APT_WORD, r"^[A-Za-z0-9][A-Za-z0-9._/+-]*$");
re!(PACKAGE, r"^[A-Za-z0-9][A-Za-z0-9.+_:~=*-]*$");
re!(
    UUID,
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
);
re!(SWAP_SIZE, r"^[1-9][0-9]*[KMGT]$");
re!(
    CVMFS_REPO,
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
);
re!(URL, r"^https?://[^\s/$.?#][^\s]*$");
re!(DEVICE, r"^/dev/[A-Za-z0-9/_.:-]+$");
re!(PROXY, r"^http://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$");
re!(MOUNT_OPTION, r"^[A-Za-z0-9_.=,:@/+-]+$");
re!(SECRET_NAME, r"^[a-z_][a-z0-9_]{0,63}$");
re!(ENV_NAME, r"^[A-Za-z_][A-Za-z0-9_]*$");
re!(VAULT_PATH, r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.@-]+)*$");
re!(
    GIT_HTTPS_URL,
    r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~/%+-]*$"
);
re!(
    GIT_SCP_URL,
    r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~][A-Za-z0-9._~/-]*$"
);
re!(
    GIT_SSH_URL,
    r"^ssh://([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9._~/-]+$"
);
re!(GIT_REF, r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$");
re!(PLAYBOOK, r"^[A-Za-z0-9_][A-Za-z0-9._/-]*\.ya?ml$");
re!(PUPPET_ENVIRONMENT, r"^[a-z0-9_]+$");
re!(CERTNAME, r"^[a-z0-9][a-z0-9._-]*$");
re!(CHEF_NAME, r"^[A-Za-z0-9][A-Za-z0-9._-]*$");
re!(
    RUN_LIST_ITEM,
    r"^(recipe|role)\[[A-Za-z0-9_.@-]+(::[A-Za-z0-9_.@-]+)?\]$"
);
re!(ANSIBLE_VAR, r"^[A-Za-z_][A-Za-z0-9_]*$");
re!(
    KNOWN_HOST,
    r"^[^\s#][^\s]* (ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|sk-ssh-ed25519@openssh.com|sk-ecdsa-sha2-nistp256@openssh.com) [A-Za-z0-9+/]+=*( [^\n\r]*)?$"
);
re!(
    TIME_SPAN,
    r"^([0-9]+ ?(seconds|second|sec|s|minutes|minute|min|m|hours|hour|hr|h|days|day|d|weeks|week|w) ?)+$"
);
re!(
    HTTPS_URL,
    r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$"
);

/// Collects every value error of `spec`, in the order they appear in the file.
pub fn validate(spec: &Spec) -> Diagnostics {
    let mut v = Validator::default();
    v.spec(spec);
    v.diags.0.sort_by_key(|d| d.span.map(|s| (s.file, s.start)));
    v.diags
}

#[derive(Default)]
struct Validator {
    diags: Diagnostics,
}

impl Validator {
    fn err(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.diags.push(
            Diagnostic::error(Code::InvalidValue, message)
                .with_span(span)
                .with_hint(hint),
        );
    }

    fn pattern(&mut self, value: &Spanned<String>, re: &Regex, what: &str, hint: &str) {
        if !re.is_match(&value.value) {
            self.err(
                value.span,
                format!("`{}` is not a valid {what}", value.value),
                hint,
            );
        }
    }

    fn absolute(&mut self, value: &Spanned<String>, what: &str) {
        let ok = value.value.starts_with('/')
            && !value.value.split('/').any(|c| c == ".." || c == ".")
            && !value.value.contains(['\n', '\0']);
        if !ok {
            self.err(
                value.span,
                format!("{what} `{}` is not an absolute path", value.value),
                "write a path that starts with `/` and has no `.` or `..` parts",
            );
        }
    }

    fn exactly_one(&mut self, span: Span, a: (&str, bool), b: (&str, bool), what: &str) {
        match (a.1, b.1) {
            (true, true) => self.err(
                span,
                format!("{what} has both `{}` and `{}`", a.0, b.0),
                format!("keep one of `{}` and `{}`, and remove the other", a.0, b.0),
            ),
            (false, false) => self.err(
                span,
                format!("{what} has neither `{}` nor `{}`", a.0, b.0),
                format!("add `{}` (a local file) or `{}` (the text itself)", a.0, b.0),
            ),
            _ => {}
        }
    }

    fn duplicates<'a>(&mut self, items: impl IntoIterator<Item = &'a Spanned<String>>, what: &str) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for item in items {
            if seen.insert(item.value.as_str(), item.span).is_some() {
                self.err(
                    item.span,
                    format!("{what} `{}` is given twice", item.value),
                    "merge the two entries into one",
                );
            }
        }
    }

    /// Secret declarations, references to them, and runtime secrets.
    fn secrets(&mut self, spec: &Spec) {
        for (name, decl) in &spec.secrets {
            if !SECRET_NAME.is_match(name) {
                self.err(
                    decl.span,
                    format!("secret name `{name}` is not usable in templates"),
                    "use lowercase letters, digits and `_`, starting with a letter or `_` (at most 64)",
                );
            }
            self.secret_decl(name, decl);
        }
        let mut refs: Vec<&Spanned<String>> = spec
            .users
            .iter()
            .filter_map(|u| u.value.password.as_ref().map(|p| &p.value.secret))
            .collect();
        if let Some(rt) = &spec.runtime_secrets {
            refs.push(&rt.value.vault.value.token.value.secret);
            self.vault(&rt.value.vault);
        }
        if let Some(cm) = &spec.config_management {
            refs.extend(config_management_secrets(&cm.value));
        }
        for r in refs {
            if !spec.secrets.contains_key(&r.value) {
                let mut d = Diagnostic::error(Code::InvalidValue, format!("no secret named `{}`", r.value))
                    .with_span(r.span);
                d = match crate::source::did_you_mean(&r.value, spec.secrets.keys().map(String::as_str)) {
                    Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                    None => d.with_hint(format!(
                        "declare it under `secrets:`, e.g. `{}: {{ from: env, name: VAR }}`",
                        r.value
                    )),
                };
                self.diags.push(d);
            }
        }
    }

    fn secret_decl(&mut self, name: &str, decl: &Spanned<SecretDecl>) {
        let d = &decl.value;
        let given: Vec<&str> = [
            ("name", d.name.is_some()),
            ("path", d.path.is_some()),
            ("argv", d.argv.is_some()),
            ("timeout_seconds", d.timeout_seconds.is_some()),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .collect();
        let wanted: &[&str] = match (&d.from, &d.generate) {
            (Some(_), Some(g)) => {
                self.err(
                    g.span,
                    format!("secret `{name}` has both `from` and `generate`"),
                    "keep one: a secret is read from a source or generated",
                );
                return;
            }
            (None, None) => {
                self.err(
                    decl.span,
                    format!("secret `{name}` says neither where its value comes from nor to generate it"),
                    "write `{ from: env, name: VAR }`, `{ from: file, path: PATH }`, `{ from: command, argv: [...] }` or `{ generate: { length: 32 } }`",
                );
                return;
            }
            (None, Some(g)) => {
                let n = g.value.length.value;
                if !(8..=1024).contains(&n) {
                    self.err(
                        g.value.length.span,
                        format!("secret `{name}`: length {n} is out of range"),
                        "generate between 8 and 1024 characters",
                    );
                }
                &[]
            }
            (Some(from), None) => match from.value {
                SecretFrom::Env => {
                    match &d.name {
                        Some(var) if !ENV_NAME.is_match(&var.value) => self.err(
                            var.span,
                            format!("`{}` is not an environment variable name", var.value),
                            "use letters, digits and `_`, not starting with a digit",
                        ),
                        Some(_) => {}
                        None => self.err(
                            from.span,
                            format!("secret `{name}` reads the environment but names no variable"),
                            "add `name: VARIABLE`",
                        ),
                    }
                    &["name"]
                }
                SecretFrom::File => {
                    if d.path.is_none() {
                        self.err(
                            from.span,
                            format!("secret `{name}` reads a file but names none"),
                            "add `path: secrets/NAME`, relative to the spec",
                        );
                    }
                    &["path"]
                }
                SecretFrom::Command => {
                    match &d.argv {
                        Some(argv) if argv.is_empty() || argv[0].value.is_empty() => self.err(
                            from.span,
                            format!("secret `{name}` runs an empty command"),
                            "write the program and its arguments: `argv: [pass, show, NAME]`",
                        ),
                        Some(_) => {}
                        None => self.err(
                            from.span,
                            format!("secret `{name}` runs a command but gives no `argv`"),
                            "add `argv: [program, arg, ...]` (run without a shell)",
                        ),
                    }
                    if let Some(t) = &d.timeout_seconds
                        && !(1..=600).contains(&t.value)
                    {
                        self.err(
                            t.span,
                            "`timeout_seconds` must be between 1 and 600",
                            "the default is 10",
                        );
                    }
                    &["argv", "timeout_seconds"]
                }
            },
        };
        for extra in given.iter().filter(|k| !wanted.contains(k)) {
            self.err(
                decl.span,
                format!("secret `{name}` has `{extra}`, which its source does not use"),
                "remove it",
            );
        }
    }

    fn vault(&mut self, vault: &Spanned<Vault>) {
        let v = &vault.value;
        if !HTTPS_URL.is_match(&v.address.value) {
            self.err(
                v.address.span,
                format!("`{}` is not an https:// address", v.address.value),
                "runtime secrets are only fetched over TLS: write `https://vault.example.org:8200`",
            );
        }
        if let Some(path) = &v.creation_path {
            if v.token_kind == TokenKind::Locker {
                self.err(
                    path.span,
                    "`creation_path` applies to wrapped tokens only",
                    "remove it for `token_kind: locker`",
                );
            } else if !VAULT_PATH.is_match(&path.value) {
                self.err(
                    path.span,
                    format!("`{}` is not a Vault path", path.value),
                    "write it as Vault shows it, e.g. `auth/token/create`",
                );
            }
        }
        if let Some(d) = &v.deadline_seconds
            && !(10..=3600).contains(&d.value)
        {
            self.err(
                d.span,
                "`deadline_seconds` must be between 10 and 3600",
                "the default is 300",
            );
        }
        if v.items.is_empty() {
            self.err(
                vault.span,
                "`runtime_secrets.vault` fetches no items",
                "add `items:` with `key`, `field` and `dest`",
            );
        }
        let mut dests = std::collections::HashSet::new();
        for item in &v.items {
            let i = &item.value;
            if !VAULT_PATH.is_match(&i.key.value) {
                self.err(
                    i.key.span,
                    format!("`{}` is not a Vault path", i.key.value),
                    "write it as `secret/data/app/db` (KV v2) or `kv/app/db` (KV v1)",
                );
            }
            if let Some(kv) = &i.kv {
                if v.token_kind == TokenKind::Locker {
                    self.err(
                        kv.span,
                        "`kv` does not apply to a locker (it reads the cubbyhole)",
                        "remove it",
                    );
                } else if !matches!(kv.value, 1 | 2) {
                    self.err(
                        kv.span,
                        format!("KV version {} does not exist", kv.value),
                        "write 1 or 2",
                    );
                } else if kv.value == 2 && !i.key.value.contains("/data/") {
                    self.err(
                        i.key.span,
                        "a KV v2 key has `/data/` after the mount",
                        "write `secret/data/app/db`, not `secret/app/db`",
                    );
                }
            }
            if i.field.value.is_empty() {
                self.err(
                    i.field.span,
                    "empty field name",
                    "name the field of the secret to write",
                );
            }
            if !i.dest.value.starts_with('/') || i.dest.value.ends_with('/') || i.dest.value.contains("/../")
            {
                self.err(
                    i.dest.span,
                    format!("`{}` is not an absolute file path", i.dest.value),
                    "write the full path on the VM, such as `/etc/app/db_password`",
                );
            } else if !dests.insert(i.dest.value.as_str()) {
                self.err(
                    i.dest.span,
                    format!("`{}` is written twice", i.dest.value),
                    "give each item its own `dest`",
                );
            }
            for name in [&i.owner, &i.group].into_iter().flatten() {
                self.pattern(
                    name,
                    &USER_NAME,
                    "user or group name",
                    "use a name such as `webapp`",
                );
            }
            if let Some(mode) = &i.mode
                && (!MODE.is_match(&mode.value)
                    || u32::from_str_radix(&mode.value, 8).is_ok_and(|m| m > 0o777))
            {
                self.err(
                    mode.span,
                    format!("`{}` is not a file mode", mode.value),
                    "write an octal mode such as \"0400\" (no set-id bits)",
                );
            }
        }
    }

    fn spec(&mut self, spec: &Spec) {
        self.pattern(
            &spec.name,
            &APP_NAME,
            "name",
            "use lowercase letters, digits and `-` (at most 63), such as `webapp`",
        );
        if Release::parse(&spec.target.cloud_init.value).is_none() {
            self.err(
                spec.target.cloud_init.span,
                format!(
                    "cloud-init release `{}` is not one ctxgen knows",
                    spec.target.cloud_init.value
                ),
                format!("use one of: {}", Release::known_list()),
            );
        }
        self.secrets(spec);
        self.host(&spec.host);
        self.users(spec);
        self.packages(spec);
        self.files(&spec.files);
        self.services(&spec.services);
        self.commands(&spec.commands);
        self.volumes(&spec.volumes);
        if let Some(swap) = &spec.swap {
            self.pattern(
                &swap.value.size,
                &SWAP_SIZE,
                "swap size",
                "write a size such as `512M` or `2G`",
            );
            self.absolute(&swap.value.path, "swap path");
        }
        self.firewall(spec);
        if let Some(cvmfs) = &spec.cvmfs {
            self.cvmfs(cvmfs, spec.target.os);
        }
        if let Some(cm) = &spec.config_management {
            self.config_management(cm);
        }
    }

    /// `config_management`: one tool, and its values.
    fn config_management(&mut self, cm: &Spanned<ConfigManagement>) {
        let c = &cm.value;
        let tools: Vec<(&str, Span)> = [
            ("ansible", c.ansible.as_ref().map(|t| t.span)),
            ("puppet", c.puppet.as_ref().map(|t| t.span)),
            ("salt", c.salt.as_ref().map(|t| t.span)),
            ("chef", c.chef.as_ref().map(|t| t.span)),
        ]
        .into_iter()
        .filter_map(|(name, span)| span.map(|s| (name, s)))
        .collect();
        match tools.as_slice() {
            [] => self.err(
                cm.span,
                "`config_management` names no tool",
                "add one of `ansible`, `puppet`, `salt` or `chef`, or remove the section",
            ),
            [_] => {}
            [(first, _), rest @ ..] => {
                for (name, span) in rest {
                    self.err(
                        *span,
                        format!("`config_management` has both `{first}` and `{name}`"),
                        "a VM is managed by one tool: keep one and remove the others",
                    );
                }
            }
        }
        if let Some(ansible) = &c.ansible {
            self.ansible(&ansible.value);
        }
        if let Some(salt) = &c.salt {
            self.salt(&salt.value);
        }
        if let Some(chef) = &c.chef {
            self.chef(&chef.value);
        }
        if let Some(puppet) = &c.puppet {
            let p = &puppet.value;
            self.host_name(&p.server, "Puppet server");
            if let Some(env) = &p.environment {
                self.pattern(
                    env,
                    &PUPPET_ENVIRONMENT,
                    "Puppet environment name",
                    "use lowercase letters, digits and `_`, such as `production`",
                );
            }
            if let Some(certname) = &p.certname {
                self.pattern(
                    certname,
                    &CERTNAME,
                    "certificate name",
                    "use lowercase letters, digits, `.`, `_` and `-`, such as `web-01.example.org`",
                );
            }
        }
    }

    fn chef(&mut self, c: &Chef) {
        if !HTTPS_URL.is_match(&c.server_url.value) {
            self.err(
                c.server_url.span,
                format!("`{}` is not an https:// Chef server URL", c.server_url.value),
                "write the organization URL, such as `https://chef.example.org/organizations/ex`",
            );
        }
        self.pattern(
            &c.validation_name,
            &CHEF_NAME,
            "Chef client name",
            "use letters, digits, `.`, `_` and `-`, such as `ex-validator`",
        );
        if let Some(node) = &c.node_name {
            self.pattern(
                node,
                &CHEF_NAME,
                "Chef node name",
                "use letters, digits, `.`, `_` and `-`, such as `web-01.example.org`",
            );
        }
        for item in &c.run_list {
            self.pattern(
                item,
                &RUN_LIST_ITEM,
                "run list item",
                "write `recipe[NAME]`, `recipe[COOKBOOK::RECIPE]` or `role[NAME]`",
            );
        }
    }

    fn salt(&mut self, s: &Salt) {
        self.host_name(&s.master, "Salt master");
        for (name, value) in &s.grains {
            if name.is_empty() || name.chars().any(|c| c.is_control() || c == ':') {
                self.err(
                    value.span,
                    format!("`{name}` is not a grain name"),
                    "use a plain name such as `role`",
                );
            }
        }
    }

    /// A host name, FQDN or IP address of a server the VM connects to.
    fn host_name(&mut self, value: &Spanned<String>, what: &str) {
        let ok = value.value.parse::<IpAddr>().is_ok()
            || HOSTNAME.is_match(&value.value)
            || FQDN.is_match(&value.value);
        if !ok {
            self.err(
                value.span,
                format!("`{}` is not a {what} host name or address", value.value),
                "write a host name such as `server.example.org` (no scheme, no port)",
            );
        }
    }

    fn ansible(&mut self, a: &Ansible) {
        let pull = &a.pull.value;
        let url = &pull.url;
        let ssh = GIT_SCP_URL.is_match(&url.value) || GIT_SSH_URL.is_match(&url.value);
        if !ssh && !GIT_HTTPS_URL.is_match(&url.value) {
            let hint = if url.value.starts_with("http://") || url.value.starts_with("git://") {
                "the playbook runs as root: fetch it over https:// or SSH, never in clear"
            } else if url.value.starts_with("https://") && url.value.contains('@') {
                "do not put credentials in the URL: use an SSH URL with `private_key: { secret: NAME }`"
            } else {
                "write `https://host/path.git`, `git@host:path.git` or `ssh://git@host/path.git`"
            };
            self.err(
                url.span,
                format!("`{}` is not a git repository URL ctxgen accepts", url.value),
                hint,
            );
        }
        if !ssh {
            if let Some(key) = &pull.private_key {
                self.err(
                    key.span,
                    "`private_key` is used for SSH URLs only",
                    "write the URL as `git@host:path.git` (SSH), or remove `private_key`",
                );
            }
            if let Some(first) = pull.known_hosts.first() {
                self.err(
                    first.span,
                    "`known_hosts` is used for SSH URLs only",
                    "remove `known_hosts`, or use an SSH URL",
                );
            }
        }
        for line in &pull.known_hosts {
            self.pattern(
                line,
                &KNOWN_HOST,
                "known_hosts line",
                "write `HOST KEYTYPE BASE64`, as `ssh-keyscan HOST` prints it",
            );
        }
        if let Some(checkout) = &pull.checkout
            && (!GIT_REF.is_match(&checkout.value) || checkout.value.contains(".."))
        {
            self.err(
                checkout.span,
                format!("`{}` is not a branch, tag or commit name", checkout.value),
                "write a git ref such as `main`, `v1.2` or a commit hash",
            );
        }
        let playbook = &pull.playbook;
        if !PLAYBOOK.is_match(&playbook.value) || playbook.value.split('/').any(|p| p == "..") {
            self.err(
                playbook.span,
                format!(
                    "`{}` is not a playbook path inside the repository",
                    playbook.value
                ),
                "write a relative path ending in .yml or .yaml, such as `site.yml`",
            );
        }
        if let Some(schedule) = &pull.schedule {
            match time_span_seconds(&schedule.value) {
                None => self.err(
                    schedule.span,
                    format!("`{}` is not a systemd time span", schedule.value),
                    "write an interval such as `30min`, `2h` or `1d`",
                ),
                Some(s) if s < 300 => self.err(
                    schedule.span,
                    format!("`{}` is too often for ansible-pull", schedule.value),
                    "run it at most every 5 minutes (`5min`); a run clones and applies the whole playbook",
                ),
                Some(_) => {}
            }
        }
        for (name, value) in &a.extra_vars {
            if !ANSIBLE_VAR.is_match(name) {
                self.err(
                    value.span,
                    format!("`{name}` is not an Ansible variable name"),
                    "use letters, digits and `_`, not starting with a digit",
                );
            }
        }
    }

    fn host(&mut self, host: &Host) {
        if let Some(h) = &host.hostname {
            let hint = if h.value.contains('.') {
                "the hostname is the short name only, such as `web-01`; put the dotted name in `fqdn`"
            } else {
                "use letters, digits and `-` (at most 63), such as `web-01`"
            };
            self.pattern(h, &HOSTNAME, "hostname", hint);
        }
        if let Some(f) = &host.fqdn {
            self.pattern(
                f,
                &FQDN,
                "FQDN",
                "write a dotted name such as `web-01.example.org`",
            );
        }
        if let Some(t) = &host.timezone {
            self.pattern(
                t,
                &TIMEZONE,
                "time zone",
                "use an IANA name such as `Europe/Amsterdam` or `UTC`",
            );
        }
        if let Some(l) = &host.locale {
            self.pattern(l, &LOCALE, "locale", "use a locale name such as `en_US.UTF-8`");
        }
        for s in &host.ntp_servers {
            let ok =
                s.value.parse::<IpAddr>().is_ok() || HOSTNAME.is_match(&s.value) || FQDN.is_match(&s.value);
            if !ok {
                self.err(
                    s.span,
                    format!("`{}` is not a host name or address", s.value),
                    "write a host name such as `ntp.example.org`",
                );
            }
        }
    }

    fn users(&mut self, spec: &Spec) {
        for user in &spec.users {
            let u = &user.value;
            self.pattern(
                &u.name,
                &USER_NAME,
                "user name",
                "use lowercase letters, digits, `_` and `-`, starting with a letter",
            );
            if let Some(gecos) = &u.gecos
                && gecos.value.chars().any(|c| c == ':' || c.is_control())
            {
                self.err(
                    gecos.span,
                    "`gecos` cannot contain `:`, line breaks or other control characters",
                    "the passwd file separates fields with `:`; use `,` or `-` instead",
                );
            }
            if u.name.value == "root" {
                self.err(
                    u.name.span,
                    "the root account cannot be managed as a user",
                    "use `ssh.permit_root_login` for root; create a named user instead",
                );
            }
            for g in &u.groups {
                self.pattern(
                    g,
                    &USER_NAME,
                    "group name",
                    "use lowercase letters, digits, `_` and `-`",
                );
            }
            if let Some(shell) = &u.shell {
                self.absolute(shell, "shell");
            }
            if u.sudo == SudoPolicy::Password && u.password.is_none() {
                self.diags.push(
                    Diagnostic::warning(
                        Code::InvalidValue,
                        format!("user `{}` has `sudo: password` but no way to set a password", u.name.value),
                    )
                    .with_span(user.span)
                    .with_hint("the password is locked: give the user `password: { secret: NAME }`, or use `sudo: nopasswd`"),
                );
            }
        }
        self.duplicates(spec.users.iter().map(|u| &u.value.name), "user");
    }

    fn packages(&mut self, spec: &Spec) {
        let p = &spec.packages;
        for name in &p.install {
            self.pattern(
                name,
                &PACKAGE,
                "package name",
                "write a package name such as `nginx` (or `nginx=1.26*` on apt)",
            );
        }
        self.duplicates(p.install.iter(), "package");
        for repo in &p.repositories {
            let r = &repo.value;
            self.pattern(
                &r.name,
                &REPO_NAME,
                "repository name",
                "use letters, digits, `.`, `_` and `-`",
            );
            self.pattern(
                &r.url,
                &URL,
                "repository URL",
                "write an http(s) URL such as `https://nginx.org/packages/debian`",
            );
            let os = spec.target.os;
            if os == Os::Any {
                self.err(
                    repo.span,
                    "repositories need `target.os`",
                    "set `target.os` so ctxgen knows whether to write apt sources or yum repositories",
                );
            }
            if os.is_apt() && r.suite.is_none() {
                self.err(
                    repo.span,
                    format!("apt repository `{}` has no `suite`", r.name.value),
                    "add `suite:`, such as `suite: trixie`",
                );
            }
            if os.is_rpm()
                && let Some(s) = &r.suite
            {
                self.err(
                    s.span,
                    "`suite` is for apt repositories only",
                    "remove `suite` (RHEL/Fedora repositories take a `url`)",
                );
            }
            if let Some(s) = &r.suite {
                self.pattern(
                    s,
                    &APT_WORD,
                    "suite",
                    "write a suite name such as `trixie` or `stable`",
                );
            }
            for c in &r.components {
                self.pattern(c, &APT_WORD, "component", "write a component such as `main`");
            }
            if let Some(key) = &r.key {
                self.exactly_one(
                    key.span,
                    ("file", key.value.file.is_some()),
                    ("content", key.value.content.is_some()),
                    &format!("the key of repository `{}`", r.name.value),
                );
            }
        }
        self.duplicates(p.repositories.iter().map(|r| &r.value.name), "repository");
    }

    fn files(&mut self, files: &[Spanned<FileEntry>]) {
        for file in files {
            let f = &file.value;
            self.absolute(&f.path, "file path");
            if f.path.value.ends_with('/') {
                self.err(
                    f.path.span,
                    "a file path cannot end with `/`",
                    "name the file, not its folder",
                );
            }
            self.exactly_one(
                file.span,
                ("source", f.source.is_some()),
                ("content", f.content.is_some()),
                &format!("file `{}`", f.path.value),
            );
            if let Some(mode) = &f.mode {
                self.pattern(
                    mode,
                    &MODE,
                    "mode",
                    "write an octal string in quotes, such as \"0644\" or \"0600\"",
                );
            }
            if let Some(owner) = &f.owner {
                self.pattern(
                    owner,
                    &OWNER,
                    "owner",
                    "write `user:group` or `user`, such as `root:root`",
                );
            }
        }
        self.duplicates(files.iter().map(|f| &f.value.path), "file path");
    }

    fn services(&mut self, services: &[Spanned<Service>]) {
        for service in services {
            let s = &service.value;
            self.pattern(
                &s.name,
                &UNIT_NAME,
                "unit name",
                "write a systemd unit name such as `nginx` or `backup.timer`",
            );
            if let Some(unit) = &s.unit {
                self.exactly_one(
                    unit.span,
                    ("source", unit.value.source.is_some()),
                    ("content", unit.value.content.is_some()),
                    &format!("the unit of service `{}`", s.name.value),
                );
            }
        }
        self.duplicates(services.iter().map(|s| &s.value.name), "service");
    }

    fn commands(&mut self, commands: &Commands) {
        for step in commands.every_boot.iter().chain(&commands.first_boot) {
            match &step.value {
                Step::Argv(argv) if argv.first().is_none_or(|a| a.trim().is_empty()) => {
                    self.err(
                        step.span,
                        "a command needs a program name",
                        "write the program first, such as [systemctl, restart, nginx]",
                    );
                }
                Step::Argv(argv) if argv.iter().any(|a| a.contains('\0')) => {
                    self.err(
                        step.span,
                        "a command argument contains a NUL character",
                        "remove the NUL character",
                    );
                }
                Step::Shell(s) if s.contains('\0') => {
                    self.err(
                        step.span,
                        "the shell step contains a NUL character",
                        "remove the NUL character",
                    );
                }
                Step::Shell(s) if s.trim().is_empty() => {
                    self.err(
                        step.span,
                        "the shell step is empty",
                        "write the shell text, or remove the step",
                    );
                }
                _ => {}
            }
        }
    }

    fn volumes(&mut self, volumes: &[Spanned<Volume>]) {
        for volume in volumes {
            let v = &volume.value;
            self.pattern(
                &v.device,
                &DEVICE,
                "device",
                "write a device path such as `/dev/vdb`",
            );
            self.absolute(&v.mount, "mount point");
            if v.mount.value == "/" {
                self.err(
                    v.mount.span,
                    "a volume cannot be mounted on `/`",
                    "mount it on its own folder, such as `/data`",
                );
            }
            if let Some(label) = &v.label {
                let max = match v.filesystem {
                    Filesystem::Ext4 => 16,
                    Filesystem::Xfs => 12,
                };
                let fs = v.filesystem.as_str();
                let hint = format!("use at most {max} letters, digits, `-` or `_`");
                let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
                if label.value.is_empty() || !label.value.chars().all(allowed) {
                    self.err(
                        label.span,
                        format!("`{}` is not a valid {fs} label", label.value),
                        hint,
                    );
                } else if label.value.len() > max {
                    self.err(
                        label.span,
                        format!(
                            "{fs} label `{}` is {} characters long; {fs} allows {max}",
                            label.value,
                            label.value.len()
                        ),
                        hint,
                    );
                }
            }
            if let Some(uuid) = &v.uuid {
                self.pattern(
                    uuid,
                    &UUID,
                    "filesystem UUID",
                    "write a UUID such as `3f0c1b8e-4a52-4c27-9a1e-0d5b2f6c7e8a`",
                );
                if v.label.is_some() {
                    self.err(
                        uuid.span,
                        "a volume is mounted by label or by UUID, not both",
                        "remove `uuid` or `label`",
                    );
                }
                if v.format == FormatPolicy::IfEmpty {
                    self.err(
                        uuid.span,
                        "`uuid` names an existing filesystem, so `format: if_empty` cannot apply",
                        "use `label` for a volume ctxgen formats",
                    );
                }
            }
            for o in &v.options {
                self.pattern(
                    o,
                    &MOUNT_OPTION,
                    "mount option",
                    "write options such as `defaults`, `nofail`, `noatime`",
                );
            }
        }
        self.duplicates(volumes.iter().map(|v| &v.value.device), "device");
        self.duplicates(volumes.iter().map(|v| &v.value.mount), "mount point");
    }

    fn firewall(&mut self, spec: &Spec) {
        for rule in &spec.firewall.allow {
            for cidr in &rule.value.from {
                if parse_cidr(&cidr.value).is_none() {
                    self.err(
                        cidr.span,
                        format!("`{}` is not a network in CIDR notation", cidr.value),
                        "write an address with a prefix length, such as `10.0.0.0/8` or `fd00::/8`",
                    );
                }
            }
        }
        let backend = spec.firewall.backend.value;
        let os = spec.target.os;
        let clash = match backend {
            FirewallBackend::Ufw => os.is_rpm(),
            FirewallBackend::Firewalld => os.is_apt(),
            _ => false,
        };
        if clash {
            self.diags.push(
                Diagnostic::warning(
                    Code::InvalidValue,
                    format!("firewall backend {backend:?} is unusual on {os:?}"),
                )
                .with_span(spec.firewall.backend.span)
                .with_hint("leave `backend: auto` unless the images really use this backend"),
            );
        }
    }

    fn cvmfs(&mut self, cvmfs: &Spanned<Cvmfs>, os: Os) {
        let c = &cvmfs.value;
        if c.repositories.is_empty() {
            self.err(
                cvmfs.span,
                "cvmfs has no repositories",
                "list the repositories to mount, such as [atlas.cern.ch]",
            );
        }
        for r in &c.repositories {
            self.pattern(
                r,
                &CVMFS_REPO,
                "CernVM-FS repository name",
                "write a repository name such as `sft.cern.ch`",
            );
        }
        self.duplicates(c.repositories.iter(), "repository");
        let proxy_ok = c.http_proxy.value == "DIRECT"
            || c.http_proxy
                .value
                .split([';', '|'])
                .all(|p| p == "DIRECT" || PROXY.is_match(p));
        if !proxy_ok {
            self.err(
                c.http_proxy.span,
                format!("`{}` is not a CernVM-FS proxy list", c.http_proxy.value),
                "write `DIRECT` or proxies such as `http://squid.example.org:3128`",
            );
        }
        if let Some(q) = &c.quota_mb
            && q.value < 1000
        {
            self.err(
                q.span,
                format!("a cache of {} MB is too small for CernVM-FS", q.value),
                "give at least 1000 MB (4000 or more is usual)",
            );
        }
        if os == Os::Any {
            self.err(
                cvmfs.span,
                "cvmfs needs `target.os`",
                "set `target.os` so ctxgen knows how to install the CernVM-FS client",
            );
        }
    }
}

/// Secret references of a `config_management` section.
fn config_management_secrets(cm: &ConfigManagement) -> Vec<&Spanned<String>> {
    let mut refs = Vec::new();
    if let Some(a) = &cm.ansible
        && let Some(key) = &a.value.pull.value.private_key
    {
        refs.push(&key.value.secret);
    }
    if let Some(p) = &cm.puppet
        && let Some(c) = &p.value.challenge_password
    {
        refs.push(&c.value.secret);
    }
    if let Some(s) = &cm.salt
        && let Some(k) = &s.value.keys
    {
        refs.push(&k.value.public.value.secret);
        refs.push(&k.value.private.value.secret);
    }
    if let Some(c) = &cm.chef {
        refs.push(&c.value.validation_key.value.secret);
    }
    refs
}

/// Seconds in a systemd time span made of `NUMBER UNIT` parts (`1h 30min`), or `None`
/// when it is not one (a bare number is refused: its unit would be a guess).
pub fn time_span_seconds(text: &str) -> Option<u64> {
    if !TIME_SPAN.is_match(text) {
        return None;
    }
    static PART: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"([0-9]+) ?([a-z]+)").expect("pattern is valid"));
    let mut total: u64 = 0;
    for part in PART.captures_iter(text) {
        let n: u64 = part[1].parse().ok()?;
        let unit = match &part[2] {
            "seconds" | "second" | "sec" | "s" => 1,
            "minutes" | "minute" | "min" | "m" => 60,
            "hours" | "hour" | "hr" | "h" => 3600,
            "days" | "day" | "d" => 86_400,
            "weeks" | "week" | "w" => 604_800,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    Some(total)
}

/// Parses `addr/len` into an address and a prefix length valid for its family.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = s.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert!(parse_cidr("10.0.0.0/8").is_some());
        assert!(parse_cidr("fd00::/8").is_some());
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("10.0.0.0").is_none());
        assert!(parse_cidr("host/8").is_none());
    }

    #[test]
    fn time_spans() {
        assert_eq!(time_span_seconds("30min"), Some(1800));
        assert_eq!(time_span_seconds("1h 30min"), Some(5400));
        assert_eq!(time_span_seconds("2 hours"), Some(7200));
        assert_eq!(time_span_seconds("1d"), Some(86_400));
        for bad in [
            "30",
            "",
            "1 fortnight",
            "5min\nExecStart=/bin/sh",
            "-5min",
            "1.5h",
        ] {
            assert_eq!(time_span_seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn git_urls() {
        assert!(GIT_HTTPS_URL.is_match("https://github.com/example/infra.git"));
        assert!(GIT_SCP_URL.is_match("git@github.com:example/infra.git"));
        assert!(GIT_SSH_URL.is_match("ssh://git@git.example.org:2222/infra.git"));
        assert!(!GIT_SCP_URL.is_match("git@github.com:-oProxyCommand=x"));
        assert!(!GIT_HTTPS_URL.is_match("https://x/$(id)"));
        assert!(!GIT_REF.is_match("--upload-pack=x"));
        assert!(PLAYBOOK.is_match("playbooks/site.yaml") && !PLAYBOOK.is_match("/etc/x.yml"));
    }

    #[test]
    fn patterns() {
        assert!(MODE.is_match("0644") && MODE.is_match("644") && !MODE.is_match("0958"));
        assert!(TIMEZONE.is_match("Europe/Amsterdam") && TIMEZONE.is_match("UTC"));
        assert!(TIMEZONE.is_match("America/Argentina/Buenos_Aires"));
        assert!(LOCALE.is_match("en_US.UTF-8") && LOCALE.is_match("C.UTF-8"));
        assert!(FQDN.is_match("web-01.example.org") && !FQDN.is_match("web"));
        assert!(PACKAGE.is_match("nginx=1.26*") && !PACKAGE.is_match("-rf"));
    }
}
