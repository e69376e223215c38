//! CL005 `password-unlocked`: a user's `lock_passwd` is false.
//!
//! cloud-init locks every user's password (`passwd -l`) unless `lock_passwd` (or its
//! old spelling `lock-passwd`) is falsy in Python's sense: `false`, `no`, `0`, an
//! empty value. A non-empty string, even `"false"`, still locks.

use super::{finding, join, key_seg, kind_name, python_truthy, user_field, users};
use crate::cloud_config::validate::dotted;
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};
use crate::source::yaml11::NodeKind;

/// The rule.
pub struct PasswordUnlocked;

/// The rule's registry entry.
pub static RULE: PasswordUnlocked = PasswordUnlocked;

static META: RuleMeta = RuleMeta {
    code: "CL005",
    name: "password-unlocked",
    default_severity: Severity::Warning,
    summary: "`lock_passwd: false` leaves a user's password usable for logins",
    why: "cloud-init locks the passwords of the users it creates, so that the only way \
          in is an SSH key. An unlocked password can be used on the console and, where \
          sshd or PAM allow passwords, over the network; with a weak or leaked password \
          (and user-data leaks easily) that is a way in that no key protects.",
    example: "users:\n  - name: alice\n    lock_passwd: false\n    hashed_passwd: $6$...\n",
    instead: "Remove `lock_passwd: false`: the password stays locked and the user logs in \
              with `ssh_authorized_keys`; sudo can be given without a password \
              (`sudo: ALL=(ALL) NOPASSWD:ALL`). If console access is really needed, keep \
              a strong hashed password and `ssh_pwauth: false`.",
};

impl super::super::Rule for PasswordUnlocked {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        for user in users(doc.root) {
            let Some((k, value)) = user_field(user.map, "lock_passwd") else {
                continue;
            };
            if python_truthy(value) {
                continue;
            }
            let path = join(&user.path, [key_seg(k)]);
            let read = match &value.kind {
                NodeKind::Bool(false) => String::new(),
                _ => format!(" (cloud-init reads {} here as false)", kind_name(value)),
            };
            out.push(finding(
                &META,
                format!("`{}` leaves this user's password unlocked{read}", dotted(&path)),
                value.span,
                path,
                Some("remove `lock_passwd: false` and log in with SSH keys".to_string()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    #[test]
    fn unlocked_users_are_found() {
        let yaml = "user: {name: admin, lock_passwd: no}\nusers:\n  - default\n  - name: a\n    lock_passwd: false\n  - name: b\n    lock-passwd: 0\n  - name: c\n    lock_passwd: 'false'\n  - name: d\n";
        let found = testing::doc(&RULE, yaml);
        let paths: Vec<String> = found.iter().map(|f| dotted(&f.path)).collect();
        assert_eq!(
            paths,
            ["user.lock_passwd", "users.1.lock_passwd", "users.2.lock-passwd"]
        );
        assert_eq!(testing::spanned(yaml, &found[1]), "false");
    }

    #[test]
    fn users_as_a_mapping() {
        let found = testing::doc(&RULE, "users:\n  alice: {lock_passwd: false}\n");
        assert_eq!(dotted(&found[0].path), "users.alice.lock_passwd");
    }
}
