//! CL006 `secret-file-mode`: a `write_files` entry that looks secret and is readable
//! by other users.
//!
//! An entry looks secret by its content (a credential CL001 recognises, including in
//! encoded content) or by its path: SSH private keys (`id_ed25519`,
//! `ssh_host_*_key`), `.key`/`.p12`/`.pfx` files, credential files (`.netrc`,
//! `.pgpass`, `.git-credentials`, `.my.cnf`, `.vault-token`, `credentials`), names
//! with a `secret`/`credentials`/`password`/`token` word, files under a `secrets` or
//! `private` directory. A path alone does not count for a script (content starting
//! with `#!`, or an executable mode), nor a `.key` whose content is a public key.
//! The mode is the one cloud-init ends up with: 0644 when `permissions` is missing
//! or unreadable.

use super::permissions_format::{self, Mode};
use super::{file_content, finding, get, items, key, str_of};
use crate::cloud_config::validate::Seg;
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};
use crate::source::yaml11::Node;

/// The rule.
pub struct SecretFileMode;

/// The rule's registry entry.
pub static RULE: SecretFileMode = SecretFileMode;

static META: RuleMeta = RuleMeta {
    code: "CL006",
    name: "secret-file-mode",
    default_severity: Severity::Warning,
    summary: "a file that looks secret is written readable by other users",
    why: "`write_files` gives a file mode 0644 unless `permissions` says otherwise, so a \
          private key or credentials file without a mode is readable by every account \
          and every service on the VM; a mode such as 0640 still opens it to a whole \
          group. Tools notice: OpenSSH refuses private keys others can read, and \
          libpq ignores a `.pgpass` that is.",
    example: "write_files:\n  - path: /root/.ssh/id_ed25519\n    content: |\n      -----BEGIN OPENSSH PRIVATE KEY-----\n      ...\n",
    instead: "Give such files `permissions: '0600'` (or '0400') and the owner that needs \
              them; better, do not ship the secret in user-data at all and have the VM \
              fetch it at boot (ctxgen `runtime_secrets` writes each file with its mode \
              before it has content).",
};

impl super::super::Rule for SecretFileMode {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        let Some(files) = get(doc.root, "write_files") else {
            return;
        };
        for (i, entry) in items(files).iter().enumerate() {
            check_entry(entry, i, out);
        }
    }
}

fn check_entry(entry: &Node, i: usize, out: &mut Vec<Finding>) {
    let Some(path_node) = get(entry, "path") else {
        return;
    };
    let Some(file) = str_of(path_node) else {
        return;
    };
    let perms = get(entry, "permissions");
    let mode = permissions_format::decode(perms);
    let bits = mode.effective();
    if bits & 0o044 == 0 {
        return;
    }
    let content = file_content(entry);
    let text = content.as_ref().map_or("", |c| &c.text);
    let Some(reason) = secret_reason(file, text, bits) else {
        return;
    };
    let readers = if bits & 0o004 != 0 {
        "every user on the VM"
    } else {
        "its group"
    };
    let how = match mode {
        Mode::Missing => "has no `permissions`, so cloud-init writes it with mode 0644".to_string(),
        Mode::Unreadable => {
            "has `permissions` cloud-init cannot read, so it writes it with mode 0644".to_string()
        }
        Mode::Bits(b) => format!("is written with mode {}", permissions_format::octal(b)),
    };
    let (span, path) = match perms {
        Some(p) if mode != Mode::Missing => (
            p.span,
            vec![key("write_files"), Seg::Index(i), key("permissions")],
        ),
        _ => (path_node.span, vec![key("write_files"), Seg::Index(i)]),
    };
    let file = if super::credential_in_user_data::scan(file).is_empty() {
        file
    } else {
        "this file"
    };
    out.push(finding(
        &META,
        format!("{file} looks secret ({reason}) but {how}: readable by {readers}"),
        span,
        path,
        Some(
            "add `permissions: '0600'` (and the `owner` that needs it), or fetch the secret at boot"
                .to_string(),
        ),
    ));
}

/// Why a file looks secret, if it does.
fn secret_reason(path: &str, content: &str, mode: i128) -> Option<String> {
    if let Some(hit) = super::credential_in_user_data::scan(content).into_iter().next() {
        return Some(format!("its content holds {}", hit.kind));
    }
    let program = content.starts_with("#!") || mode & 0o111 != 0;
    if program {
        return None;
    }
    let public = content.contains("PUBLIC KEY") && !content.contains("PRIVATE KEY");
    secret_path(path, public).map(str::to_string)
}

/// File names that hold credentials by convention.
const CREDENTIAL_FILES: &[&str] = &[
    ".netrc",
    "_netrc",
    ".pgpass",
    ".git-credentials",
    ".my.cnf",
    ".vault-token",
    "credentials",
    "credentials.json",
    "credentials.yaml",
    "credentials.yml",
    "credentials.toml",
];

/// SSH private key file names.
const SSH_KEYS: &[&str] = &[
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_ecdsa_sk",
    "id_ed25519_sk",
];

/// Words in a file name that say it holds a secret.
const SECRET_WORDS: &[&str] = &[
    "secret",
    "secrets",
    "credential",
    "credentials",
    "password",
    "passwords",
    "token",
    "tokens",
];

/// Extensions of programs and unit files, which may be named after the secrets they
/// handle without holding them.
const CODE_EXTENSIONS: &[&str] = &[
    "sh", "bash", "py", "rb", "pl", "js", "service", "timer", "socket", "path", "target", "mount", "desktop",
    "md", "j2",
];

/// Why a path looks like a secret file by its name, if it does.
fn secret_path(path: &str, public_content: bool) -> Option<&'static str> {
    let lower = path.to_lowercase();
    let mut components: Vec<&str> = lower.split('/').filter(|c| !c.is_empty()).collect();
    let name = components.pop()?;
    if SSH_KEYS.contains(&name) || (name.starts_with("ssh_host_") && name.ends_with("_key")) {
        return Some("an SSH private key by its name");
    }
    if CREDENTIAL_FILES.contains(&name) {
        return Some("a credentials file by its name");
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    if matches!(ext, Some("key" | "p12" | "pfx" | "jks" | "keystore")) && !public_content {
        return Some("a private key by its extension");
    }
    if components
        .iter()
        .any(|c| matches!(*c, "secret" | "secrets" | "private" | "credentials"))
    {
        return Some("it is in a directory for secrets");
    }
    if ext.is_some_and(|e| CODE_EXTENSIONS.contains(&e)) {
        return None;
    }
    let words = name.split(['-', '_', '.']);
    words
        .into_iter()
        .any(|w| SECRET_WORDS.contains(&w))
        .then_some("its name says it holds a secret")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud_config::validate::dotted;
    use crate::lint::rules::testing;

    fn found(entry: &str) -> Vec<Finding> {
        testing::doc(&RULE, &format!("write_files:\n  - {entry}\n"))
    }

    #[test]
    fn secret_files_without_a_tight_mode() {
        let f = found("{path: /root/.netrc, content: 'machine x login y password z'}");
        assert_eq!(f.len(), 1);
        assert_eq!(dotted(&f[0].path), "write_files.0");
        assert!(f[0].message.contains("no `permissions`"), "{}", f[0].message);
        let f = found("{path: /etc/ssl/private/site.pem, permissions: '0640'}");
        assert_eq!(dotted(&f[0].path), "write_files.0.permissions");
        assert!(f[0].message.contains("readable by its group"));
        assert_eq!(
            found("{path: /home/a/.ssh/id_ed25519, permissions: '0644'}").len(),
            1
        );
        assert_eq!(found("{path: /etc/app/db_password, permissions: bad}").len(), 1);
        assert_eq!(found("{path: /etc/tls/app.key}").len(), 1);
        let key = "{path: /etc/app/signing.pem, content: \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n\"}";
        let f = found(key);
        assert!(
            f[0].message.contains("its content holds a private key block"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn not_secret_or_tight_enough() {
        for entry in [
            "{path: /root/.netrc, permissions: '0600'}",
            "{path: /etc/ssl/private/site.key, permissions: '0400'}",
            "{path: /home/a/.ssh/id_ed25519.pub}",
            "{path: /etc/apt/keyrings/repo.key, content: \"-----BEGIN PGP PUBLIC KEY BLOCK-----\\nxx\\n\"}",
            "{path: /usr/local/bin/fetch-secrets, permissions: '0755'}",
            "{path: /etc/systemd/system/secret-sync.service}",
            "{path: /usr/local/sbin/get-token, content: \"#!/bin/sh\\nexit 0\\n\"}",
            "{path: /etc/nginx/conf.d/app.conf}",
            "{path: /etc/passwd-extra}",
        ] {
            assert!(found(entry).is_empty(), "{entry}");
        }
    }
}
