//! CL004 `root-login-allowed`: `disable_root` is false, so root may log in over SSH.
//!
//! cloud-init reads `disable_root` with `get_cfg_option_bool` (default true): a falsy
//! value (`false`, `no`, `0`, an empty value) and any string other than
//! `true`/`yes`/`on`/`1` count as false, and then root's `authorized_keys` gets the
//! instance's keys without the "log in as the default user" command in front of them.

use super::{cloud_init_bool, entry, finding, key, kind_name};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};
use crate::source::yaml11::NodeKind;

/// The rule.
pub struct RootLoginAllowed;

/// The rule's registry entry.
pub static RULE: RootLoginAllowed = RootLoginAllowed;

static META: RuleMeta = RuleMeta {
    code: "CL004",
    name: "root-login-allowed",
    default_severity: Severity::Warning,
    summary: "`disable_root: false` lets root log in over SSH",
    why: "By default cloud-init puts a forced command in front of root's SSH keys that \
          prints \"log in as the default user\" and disconnects. With `disable_root` \
          false, the same keys open a root shell directly: no audit trail of who used \
          sudo, and one stolen key is full control of the VM.",
    example: "disable_root: false\n",
    instead: "Leave `disable_root` out (it defaults to true) and log in as a named user \
              with sudo rights:\n\nusers:\n  - name: alice\n    sudo: ALL=(ALL) NOPASSWD:ALL\n    ssh_authorized_keys: [ssh-ed25519 AAAA... alice@laptop]\n",
};

impl super::super::Rule for RootLoginAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        let Some((_, value)) = entry(doc.root, "disable_root") else {
            return;
        };
        if cloud_init_bool(value) {
            return;
        }
        let read = match &value.kind {
            NodeKind::Bool(false) => String::new(),
            _ => format!(" (cloud-init reads {} here as false)", kind_name(value)),
        };
        out.push(finding(
            &META,
            format!("`disable_root` is false, so root can log in over SSH with the instance's keys{read}"),
            value.span,
            vec![key("disable_root")],
            Some("remove `disable_root` (it defaults to true) and log in as a user with sudo".to_string()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    #[test]
    fn false_values_are_found() {
        for value in ["false", "no", "off", "0", "~", "''", "'disabled'"] {
            let yaml = format!("disable_root: {value}\n");
            let found = testing::doc(&RULE, &yaml);
            assert_eq!(found.len(), 1, "{value}");
            assert_eq!(
                testing::spanned(&yaml, &found[0]),
                if value == "~" { "~" } else { value }
            );
        }
    }

    #[test]
    fn true_values_are_not() {
        for value in ["true", "yes", "'1'", "'True'"] {
            assert!(
                testing::doc(&RULE, &format!("disable_root: {value}\n")).is_empty(),
                "{value}"
            );
        }
        assert!(testing::doc(&RULE, "users: [default]\n").is_empty());
    }
}
