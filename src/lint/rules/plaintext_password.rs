//! CL002 `plaintext-password`: a password written in clear where cloud-init sets it.
//!
//! Covers the places cloud-init takes passwords from: `users[].plain_text_passwd`,
//! `users[].passwd` and `hashed_passwd` that are not crypt hashes, the top-level
//! `password` (the default user's), and `chpasswd`'s `list` (`user:password` lines)
//! and `users` (`type: text`, or a `password` that is not a hash). `R`/`RANDOM` ask
//! cloud-init for a random password and are fine. Findings never quote the password.

use super::{
    entry, finding, get, items, join, key, kind_name, narrow, python_truthy, str_of, user_field, users,
};
use crate::cloud_config::validate::{Seg, dotted};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};
use crate::source::Sources;
use crate::source::yaml11::{Node, NodeKind};

/// The rule.
pub struct PlaintextPassword;

/// The rule's registry entry.
pub static RULE: PlaintextPassword = PlaintextPassword;

static META: RuleMeta = RuleMeta {
    code: "CL002",
    name: "plaintext-password",
    default_severity: Severity::Error,
    summary: "a password is given in clear text rather than as a crypt hash",
    why: "cloud-init hands a clear-text password to `chpasswd` as it is, and the clear \
          text stays in the user-data: in the metadata service (readable by every process \
          on the VM), in /var/lib/cloud, in the cloud's API and wherever the file is kept. \
          Anyone who reads it can log in as that user, on this VM and on every other \
          machine where the same password is used.",
    example: "users:\n  - name: alice\n    plain_text_passwd: correct-horse\n",
    instead: "Log in with SSH keys and leave the password locked (cloud-init's default). \
              When a console password is needed, give its SHA-512 or yescrypt hash \
              (`mkpasswd -m sha-512`, `openssl passwd -6`) in `hashed_passwd`, or in \
              `chpasswd.users` with `type: hash`; or `type: RANDOM` for a random one.",
};

const HINT: &str = "give a crypt hash instead (`mkpasswd -m sha-512` or `openssl passwd -6`), or log in with SSH keys and leave the password locked";

impl super::super::Rule for PlaintextPassword {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        let root = doc.root;
        for user in users(root) {
            if let Some((k, v)) = user_field(user.map, "plain_text_passwd")
                && python_truthy(v)
            {
                let path = join(&user.path, [super::key_seg(k)]);
                report(
                    out,
                    v,
                    &path,
                    format!("`{}` is a clear-text password", dotted(&path)),
                );
            }
            for field in ["passwd", "hashed_passwd"] {
                if let Some((k, v)) = user_field(user.map, field)
                    && python_truthy(v)
                    && !str_of(v).is_some_and(|h| is_crypt_hash(h) || is_redacted(h))
                {
                    let path = join(&user.path, [super::key_seg(k)]);
                    let what = match &v.kind {
                        NodeKind::Str(_) => "a string that is not a crypt hash".to_string(),
                        _ => kind_name(v).to_string(),
                    };
                    report(
                        out,
                        v,
                        &path,
                        format!(
                            "`{}` takes a crypt hash but holds {what}: a clear-text password",
                            dotted(&path)
                        ),
                    );
                }
            }
        }
        if let Some(v) = get(root, "password")
            && python_truthy(v)
            && !str_of(v).is_some_and(|p| is_crypt_hash(p) || is_random(p))
        {
            report(
                out,
                v,
                &[key("password")],
                "`password` sets the default user's password in clear text".to_string(),
            );
        }
        if let Some(chpasswd) = get(root, "chpasswd") {
            chpasswd_list(doc.sources, chpasswd, out);
            chpasswd_users(chpasswd, out);
        }
    }
}

fn report(out: &mut Vec<Finding>, value: &Node, path: &[Seg], message: String) {
    out.push(finding(
        &META,
        message,
        value.span,
        path.to_vec(),
        Some(HINT.to_string()),
    ));
}

/// `chpasswd.list`: a list of `user:password` strings, or the same as lines of one
/// string.
fn chpasswd_list(sources: &Sources, chpasswd: &Node, out: &mut Vec<Finding>) {
    let Some(list) = get(chpasswd, "list") else {
        return;
    };
    let base = [key("chpasswd"), key("list")];
    match &list.kind {
        NodeKind::Seq(lines) => {
            for (i, line) in lines.iter().enumerate() {
                if let Some(text) = str_of(line)
                    && clear_line(text)
                {
                    let path = join(&base, [Seg::Index(i)]);
                    let password = text.split_once(':').map_or(text, |(_, p)| p);
                    out.push(finding(
                        &META,
                        format!("`{}` gives a user's password in clear text", dotted(&path)),
                        narrow(sources, line.span, password),
                        path,
                        Some(HINT.to_string()),
                    ));
                }
            }
        }
        NodeKind::Str(text) => {
            let clear: Vec<&str> = text.lines().filter(|l| clear_line(l)).collect();
            if let Some(first) = clear.first() {
                let noun = if clear.len() == 1 {
                    "line gives a password"
                } else {
                    "lines give passwords"
                };
                // Points at the first one's password.
                let password = first.split_once(':').map_or(*first, |(_, p)| p);
                out.push(finding(
                    &META,
                    format!("{} {noun} in clear text in `chpasswd.list`", clear.len()),
                    narrow(sources, list.span, password),
                    base.to_vec(),
                    Some(HINT.to_string()),
                ));
            }
        }
        _ => {}
    }
}

/// A `user:password` line whose password is neither a hash nor `R`/`RANDOM`.
fn clear_line(line: &str) -> bool {
    line.split_once(':')
        .is_some_and(|(_, p)| !(p.is_empty() || is_crypt_hash(p) || is_random(p)))
}

/// `chpasswd.users`: `{name, password, type}` items; `type` is `hash` unless given.
fn chpasswd_users(chpasswd: &Node, out: &mut Vec<Finding>) {
    let Some(list) = get(chpasswd, "users") else {
        return;
    };
    for (i, item) in items(list).iter().enumerate() {
        let Some((_, password)) = entry(item, "password") else {
            continue;
        };
        let kind = get(item, "type").and_then(str_of).unwrap_or("hash");
        if kind == "RANDOM" || !python_truthy(password) {
            continue;
        }
        let path = join(&[key("chpasswd"), key("users"), Seg::Index(i)], [key("password")]);
        let hashed = str_of(password).is_some_and(is_crypt_hash);
        let message = if kind == "text" {
            format!("`{}` is a clear-text password (`type: text`)", dotted(&path))
        } else if !hashed {
            format!(
                "`{}` is not a crypt hash, so it is a clear-text password whatever its `type` says",
                dotted(&path)
            )
        } else {
            continue;
        };
        report(out, password, &path, message);
    }
}

/// A crypt(3) hash (`$id$…$…`, for the ids glibc and libxcrypt know), or a locked
/// entry (`!`, `*`, `!` before a hash).
/// `<secret:NAME>`: what `ctxgen build --redact` writes where a hash would go.
fn is_redacted(value: &str) -> bool {
    value
        .strip_prefix("<secret:")
        .and_then(|v| v.strip_suffix('>'))
        .is_some_and(|n| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

pub(crate) fn is_crypt_hash(value: &str) -> bool {
    let v = value.trim();
    let v = v.trim_start_matches('!');
    if v.is_empty() || v == "*" {
        return true;
    }
    let mut fields = v.split('$');
    if fields.next() != Some("") {
        return false;
    }
    let id = fields.next().unwrap_or("");
    let known = matches!(
        id,
        "1" | "2a" | "2b" | "2x" | "2y" | "3" | "5" | "6" | "7" | "y" | "gy" | "sha1" | "md5"
    ) || id.starts_with("argon2");
    known && fields.filter(|f| !f.is_empty()).count() >= 2
}

/// `R` or `RANDOM`: cloud-init makes up a random password.
fn is_random(value: &str) -> bool {
    value == "R" || value == "RANDOM"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    const SECRET: &str = "Tr0ub4dor-3x";

    fn paths(yaml: &str) -> Vec<String> {
        let found = testing::doc(&RULE, yaml);
        for f in &found {
            assert!(!f.message.contains(SECRET) && !f.hint.clone().unwrap_or_default().contains(SECRET));
        }
        found.iter().map(|f| dotted(&f.path)).collect()
    }

    #[test]
    fn clear_passwords_are_found() {
        let yaml = format!(
            "password: {SECRET}\nusers:\n  - default\n  - name: a\n    plain_text_passwd: {SECRET}\n  - name: b\n    passwd: {SECRET}\n    hashed-passwd: {SECRET}\nchpasswd:\n  list:\n    - a:{SECRET}\n    - b:RANDOM\n  users:\n    - {{name: c, password: {SECRET}, type: text}}\n    - {{name: d, password: {SECRET}}}\n    - {{name: e, type: RANDOM}}\n"
        );
        assert_eq!(
            paths(&yaml),
            [
                "users.1.plain_text_passwd",
                "users.2.passwd",
                "users.2.hashed-passwd",
                "password",
                "chpasswd.list.0",
                "chpasswd.users.0.password",
                "chpasswd.users.1.password",
            ]
        );
        let found = testing::doc(&RULE, &yaml);
        assert_eq!(testing::spanned(&yaml, &found[0]), SECRET);
        assert_eq!(
            testing::spanned(&yaml, &found[4]),
            SECRET,
            "the password of a user:password line"
        );
    }

    #[test]
    fn hashes_random_and_multiline_lists() {
        let yaml = "password: RANDOM\nusers:\n  - name: a\n    passwd: $6$rounds=4096$saltsalt$3MEaFIFxpLMuDh9N2OTIfZMlF6Ds7uyvNXaQSxq2gF6aUTm5xUoXnDYv7EpVt9Zd3O8r1GRf7b0aC8CJXQ0Gd/\n  - name: b\n    hashed_passwd: $y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7\n    lock_passwd: false\nchpasswd:\n  users:\n    - {name: c, password: $2b$12$abcdefghijklmnopqrstuu5Z1s0Zg0eXyZc7q5TqWyB5mG8D7pWmK, type: hash}\n";
        assert!(paths(yaml).is_empty());
        let multi = format!("chpasswd:\n  list: |\n    a:{SECRET}\n    b:R\n");
        let found = testing::doc(&RULE, &multi);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.starts_with("1 line gives"));
    }

    #[test]
    fn crypt_hash_shapes() {
        assert!(is_redacted("<secret:admin_password>") && !is_redacted("<secret:>"));
        assert!(is_crypt_hash("$6$salt$hash"));
        assert!(is_crypt_hash("!$6$salt$hash"));
        assert!(is_crypt_hash("*"));
        assert!(!is_crypt_hash("$6$"));
        assert!(!is_crypt_hash("$foo$bar$baz"));
        assert!(!is_crypt_hash("password$6$x$y"));
    }
}
