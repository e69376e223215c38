//! SSH public key checks shared by `build` (authorized keys in a spec) and, later,
//! `check` (keys in user-data): public keys only, no DSA, RSA of at least 3072 bits.

use std::fmt;

use ssh_key::{Algorithm, PublicKey};

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 3072;

/// Why a key line is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProblem {
    /// The text is a private key.
    Private,
    /// The line does not parse as an OpenSSH public key.
    Malformed(String),
    /// DSA keys are insecure and refused by current OpenSSH.
    Dsa,
    /// An RSA key with fewer than [`MIN_RSA_BITS`] bits.
    WeakRsa(usize),
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProblem::Private => f.write_str("this is a private key; only public keys belong in user-data"),
            KeyProblem::Malformed(why) => write!(f, "not an SSH public key ({why})"),
            KeyProblem::Dsa => f.write_str("DSA keys are insecure and refused by current OpenSSH"),
            KeyProblem::WeakRsa(bits) => {
                write!(f, "RSA key of {bits} bits is too short (at least {MIN_RSA_BITS})")
            }
        }
    }
}

impl KeyProblem {
    /// What to do instead.
    pub fn hint(&self) -> &'static str {
        match self {
            KeyProblem::Private => "use the matching `.pub` file, and treat this private key as exposed",
            KeyProblem::Malformed(_) => {
                "paste the whole line of the `.pub` file: `ssh-ed25519 AAAA... comment`"
            }
            KeyProblem::Dsa | KeyProblem::WeakRsa(_) => "make a new key with `ssh-keygen -t ed25519`",
        }
    }
}

/// Key types that may open an authorized_keys line (after optional options).
const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Splits an authorized_keys line into its options (empty when there are none) and
/// the `type base64 [comment]` part. Options end at the first blank outside quotes,
/// as sshd reads them.
fn split_options(line: &str) -> (&str, &str) {
    let first = line.split_whitespace().next().unwrap_or("");
    if KEY_TYPES.contains(&first) {
        return ("", line);
    }
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' if !escaped => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return (&line[..i], line[i..].trim_start()),
            _ => {}
        }
        escaped = c == '\\' && !escaped;
    }
    (line, "")
}

/// Checks one authorized-keys line (options such as `from="..."` are allowed).
pub fn check(line: &str) -> Result<(), KeyProblem> {
    let line = line.trim();
    if line.contains("PRIVATE KEY") {
        return Err(KeyProblem::Private);
    }
    let (_, key_part) = split_options(line);
    let key = PublicKey::from_openssh(key_part).map_err(|e| KeyProblem::Malformed(e.to_string()))?;
    match key.algorithm() {
        Algorithm::Dsa => Err(KeyProblem::Dsa),
        Algorithm::Rsa { .. } => {
            let bits = key.key_data().rsa().map_or(0, |k| {
                k.n.as_positive_bytes().map_or(0, |b| {
                    b.first()
                        .map_or(0, |top| b.len() * 8 - top.leading_zeros() as usize)
                })
            });
            if bits < MIN_RSA_BITS {
                Err(KeyProblem::WeakRsa(bits))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED25519: &str = include_str!("../tests/fixtures/keys/alice_ed25519.pub");

    #[test]
    fn accepts_modern_keys_and_options() {
        assert_eq!(check(ED25519), Ok(()));
        assert_eq!(
            check(include_str!("../tests/fixtures/keys/bob_ecdsa.pub")),
            Ok(())
        );
        assert_eq!(
            check(include_str!("../tests/fixtures/keys/carol_rsa3072.pub")),
            Ok(())
        );
        let with_opts = format!("from=\"10.0.0.0/8\" {ED25519}");
        assert_eq!(check(&with_opts), Ok(()));
        let bare = ED25519.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        assert_eq!(check(&format!("no-pty {bare}")), Ok(()), "options and no comment");
        assert_eq!(
            check(&format!("command=\"echo hi\",no-pty {ED25519}")),
            Ok(()),
            "a quoted option with a blank"
        );
    }

    #[test]
    fn refuses_weak_private_and_garbage() {
        assert_eq!(
            check(include_str!("../tests/fixtures/keys/old_dsa.pub")),
            Err(KeyProblem::Dsa)
        );
        assert_eq!(
            check(include_str!("../tests/fixtures/keys/weak_rsa2048.pub")),
            Err(KeyProblem::WeakRsa(2048))
        );
        assert_eq!(
            check(include_str!("../tests/fixtures/keys/leaked_private")),
            Err(KeyProblem::Private)
        );
        assert!(matches!(
            check("ssh-ed25519 notbase64"),
            Err(KeyProblem::Malformed(_))
        ));
        assert!(matches!(check("hello"), Err(KeyProblem::Malformed(_))));
    }
}
