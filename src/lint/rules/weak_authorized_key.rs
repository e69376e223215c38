//! CL012 `weak-authorized-key`: a DSA key, or an RSA key under 2048 bits, among the
//! keys allowed to log in.
//!
//! Looks at the top-level `ssh_authorized_keys` and at each user's (`users[]`,
//! `user`; `ssh-authorized-keys` too). Each key's blob is parsed to read its
//! algorithm and RSA modulus size; lines that do not parse are left to the schema.

use super::{finding, get, items, join, key, key_seg, str_of, user_field, users};
use crate::cloud_config::validate::{Seg, dotted};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};
use crate::source::yaml11::{Node, NodeKind};
use crate::sshkey::{self, KeyProblem};

/// The rule.
pub struct WeakAuthorizedKey;

/// The rule's registry entry.
pub static RULE: WeakAuthorizedKey = WeakAuthorizedKey;

/// RSA keys shorter than this are reported.
const MIN_RSA_BITS: usize = 2048;

static META: RuleMeta = RuleMeta {
    code: "CL012",
    name: "weak-authorized-key",
    default_severity: Severity::Warning,
    summary: "an authorized SSH key is DSA, or RSA shorter than 2048 bits",
    why: "DSA keys are limited to 1024 bits and a weak signature scheme; OpenSSH has \
          refused them by default since 7.0 and removed them in 9.8, and cloud-init \
          24.1 stopped handling them, so the key may simply not work. RSA keys under \
          2048 bits can be factored with far less effort than stronger keys and are \
          refused by current OpenSSH as well.",
    example: "ssh_authorized_keys:\n  - ssh-dss AAAAB3NzaC1kc3MAAACB... old@laptop\n",
    instead: "Make a new key with `ssh-keygen -t ed25519` (or RSA of 3072 bits or more \
              where ed25519 is not supported) and authorize its `.pub` line.",
};

impl super::super::Rule for WeakAuthorizedKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        if let Some(keys) = get(doc.root, "ssh_authorized_keys") {
            check_keys(keys, &[key("ssh_authorized_keys")], out);
        }
        for user in users(doc.root) {
            if let Some((k, keys)) = user_field(user.map, "ssh_authorized_keys") {
                check_keys(keys, &join(&user.path, [key_seg(k)]), out);
            }
        }
    }
}

fn check_keys(keys: &Node, path: &[Seg], out: &mut Vec<Finding>) {
    match &keys.kind {
        NodeKind::Str(_) => check_key(keys, path.to_vec(), out),
        NodeKind::Seq(_) => {
            for (i, line) in items(keys).iter().enumerate() {
                check_key(line, join(path, [Seg::Index(i)]), out);
            }
        }
        _ => {}
    }
}

fn check_key(line: &Node, path: Vec<Seg>, out: &mut Vec<Finding>) {
    let Some(text) = str_of(line) else {
        return;
    };
    let what = match sshkey::check(text) {
        Err(KeyProblem::Dsa) => "a DSA key (`ssh-dss`), which current OpenSSH refuses".to_string(),
        Err(KeyProblem::WeakRsa(bits)) if bits < MIN_RSA_BITS => {
            format!("an RSA key of only {bits} bits (at least {MIN_RSA_BITS}, better 3072)")
        }
        _ => return,
    };
    out.push(finding(
        &META,
        format!("`{}` is {what}", dotted(&path)),
        line.span,
        path,
        Some("make a new key with `ssh-keygen -t ed25519` and authorize its .pub line".to_string()),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    const DSA: &str = include_str!("../../../tests/fixtures/keys/old_dsa.pub");
    const RSA2048: &str = include_str!("../../../tests/fixtures/keys/weak_rsa2048.pub");
    const ED25519: &str = include_str!("../../../tests/fixtures/keys/alice_ed25519.pub");

    #[test]
    fn dsa_is_weak_rsa_2048_and_ed25519_are_not() {
        let yaml = format!(
            "ssh_authorized_keys:\n  - {}\nusers:\n  - name: a\n    ssh-authorized-keys: ['{}', '{}']\n",
            DSA.trim(),
            RSA2048.trim(),
            ED25519.trim()
        );
        let found = testing::doc(&RULE, &yaml);
        let paths: Vec<String> = found.iter().map(|f| dotted(&f.path)).collect();
        assert_eq!(paths, ["ssh_authorized_keys.0"]);
        assert_eq!(testing::spanned(&yaml, &found[0]), DSA.trim());
    }

    #[test]
    fn rsa_under_2048_bits_is_weak() {
        let yaml = include_str!("../../../tests/fixtures/lint/weak-authorized-key/bad-rsa1024-user.yaml");
        let found = testing::doc(&RULE, yaml);
        assert_eq!(found.len(), 1);
        assert_eq!(dotted(&found[0].path), "users.0.ssh_authorized_keys.1");
        assert!(
            found[0].message.contains("only 1024 bits"),
            "{}",
            found[0].message
        );
    }
}
