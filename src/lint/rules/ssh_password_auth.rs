//! CL003 `ssh-password-auth`: `ssh_pwauth` turns SSH password logins on.
//!
//! cloud-init reads `ssh_pwauth` with `util.is_true`: the boolean `true`, or a string
//! (or number) whose text is `true`, `yes`, `on` or `1` in any case, sets sshd's
//! `PasswordAuthentication yes`.

use super::{cloud_init_is_true, entry, finding, key};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};
use crate::source::yaml11::NodeKind;

/// The rule.
pub struct SshPasswordAuth;

/// The rule's registry entry.
pub static RULE: SshPasswordAuth = SshPasswordAuth;

static META: RuleMeta = RuleMeta {
    code: "CL003",
    name: "ssh-password-auth",
    default_severity: Severity::Warning,
    summary: "`ssh_pwauth` enables password logins over SSH",
    why: "With `PasswordAuthentication yes`, anyone who can reach port 22 can guess \
          passwords, and a VM on a public address is probed within minutes. Passwords \
          are also phished, reused and shared in ways SSH keys are not. Most cloud \
          images turn password logins off on purpose.",
    example: "ssh_pwauth: true\n",
    instead: "Log in with SSH keys (`ssh_authorized_keys`, or the cloud's key pair) and \
              leave `ssh_pwauth` out or set it to `false`. For console access when the \
              network is broken, a hashed password works without enabling SSH passwords.",
};

impl super::super::Rule for SshPasswordAuth {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        let Some((_, value)) = entry(doc.root, "ssh_pwauth") else {
            return;
        };
        if !cloud_init_is_true(value) {
            return;
        }
        let read = match &value.kind {
            NodeKind::Bool(_) => String::new(),
            NodeKind::Str(_) => " (cloud-init reads this string as true)".to_string(),
            _ => " (cloud-init reads this number as true)".to_string(),
        };
        out.push(finding(
            &META,
            format!("`ssh_pwauth` turns on password logins over SSH{read}"),
            value.span,
            vec![key("ssh_pwauth")],
            Some("log in with SSH keys and set `ssh_pwauth: false` (or leave it out)".to_string()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    #[test]
    fn truthy_values_are_found() {
        for value in ["true", "yes", "on", "'True'", "\" yes \"", "'1'", "1"] {
            let yaml = format!("ssh_pwauth: {value}\n");
            let found = testing::doc(&RULE, &yaml);
            assert_eq!(found.len(), 1, "{value}");
            assert_eq!(testing::spanned(&yaml, &found[0]), value);
        }
    }

    #[test]
    fn other_values_are_not() {
        for value in ["false", "no", "'unchanged'", "~", "'n'", "0"] {
            assert!(
                testing::doc(&RULE, &format!("ssh_pwauth: {value}\n")).is_empty(),
                "{value}"
            );
        }
    }
}
