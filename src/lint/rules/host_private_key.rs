//! CL011 `host-private-key`: an SSH host private key handed over in `ssh_keys`.
//!
//! cloud-init's `ssh` module installs `ssh_keys.<type>_private` (`rsa_private`,
//! `ecdsa_private`, `ed25519_private`, `dsa_private`) as the host's key instead of
//! generating one. The finding points at the key's `-----BEGIN` line only.

use super::{entries, finding, get, key, str_of};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};

/// The rule.
pub struct HostPrivateKey;

/// The rule's registry entry.
pub static RULE: HostPrivateKey = HostPrivateKey;

static META: RuleMeta = RuleMeta {
    code: "CL011",
    name: "host-private-key",
    default_severity: Severity::Error,
    summary: "`ssh_keys` gives the VM an SSH host private key through user-data",
    why: "A host key proves to SSH clients that they reach this machine. Shipped in \
          user-data it is readable from the metadata service by any process on the VM, \
          stays in the cloud's API and in cloud-init's caches, and is usually shared by \
          every VM made from the same user-data: whoever reads it once can impersonate \
          all of them and read the sessions of users who trust the key.",
    example: "ssh_keys:\n  ed25519_private: |\n    -----BEGIN OPENSSH PRIVATE KEY-----\n    ...\n",
    instead: "Let every VM generate its own host keys (cloud-init's default), and learn \
              them safely: cloud-init prints the fingerprints to the serial console, and \
              `ssh_publish_hostkeys` hands the public keys to the cloud. If a fixed \
              identity is really needed, fetch the key at boot from a secret store, or \
              use SSH host certificates signed by a CA.",
};

impl super::super::Rule for HostPrivateKey {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        let Some(keys) = get(doc.root, "ssh_keys") else {
            return;
        };
        for (k, value) in entries(keys) {
            let Some(name) = str_of(k).filter(|n| n.ends_with("_private")) else {
                continue;
            };
            if str_of(value).is_none_or(|v| v.trim().is_empty()) {
                continue;
            }
            let algorithm = name.trim_end_matches("_private").to_uppercase();
            out.push(finding(
                &META,
                format!("`ssh_keys.{name}` hands the VM a fixed {algorithm} SSH host private key through user-data"),
                doc.sources.begin_line(value.span),
                vec![key("ssh_keys"), key(name)],
                Some("leave host keys out: each VM generates its own; treat this key as exposed and replace it".to_string()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    #[test]
    fn private_host_keys_are_found_public_ones_not() {
        let yaml = "ssh_keys:\n  rsa_private: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIEowIBAAKCAQEAq3Zt8Rw2Yx6Nb1Mp9Lc4Vd7Hs5Jf0Ga3\n    -----END RSA PRIVATE KEY-----\n  rsa_public: ssh-rsa AAAAB3NzaC1yc2E host\n  ed25519_private: ''\n";
        let found = testing::doc(&RULE, yaml);
        assert_eq!(found.len(), 1);
        assert_eq!(
            testing::spanned(yaml, &found[0]),
            "-----BEGIN RSA PRIVATE KEY-----"
        );
        assert!(!found[0].message.contains("MIIE"));
    }
}
