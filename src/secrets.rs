//! Stage `secrets`: the values behind the names declared under `secrets:`, read at
//! build time and nowhere else.
//!
//! Input: the declarations, how to read them ([`SecretsMode`]: from their sources, or
//! redacted), the local-file sandbox. Output: a [`Secret`] per name, whose `Debug` and
//! `Display` print `<secret:NAME>` and never the value, or located diagnostics that
//! name the secret and its source, never a value.
//!
//! Sources: `env` (through a lookup the caller hands in: the library never reads the
//! environment itself), `file` (the first line, its line break cut; inside the spec's
//! sandbox), `command` (argv without a shell, standard output without its final line
//! break, a time limit, a non-zero exit is an error), `generate` (fresh random text at
//! every build). An empty value is an error. `--redact` resolves every secret to the
//! text `<secret:NAME>` without reading any source, so a build is reproducible without
//! credentials.
//!
//! Also here: SHA-512 crypt hashing of passwords (`$6$`, a 12-byte random salt, which
//! libxcrypt's `crypt()` verifies), and [`scrub`], which removes every secret value
//! from diagnostics before anyone sees them.

use std::fmt;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::local::LocalFiles;
use crate::source::{Span, Spanned};
use crate::spec::{Charset, Generate, SecretDecl, SecretFrom};

/// A secret value. It prints as `<secret:NAME>`; only [`Secret::expose`] gives the
/// value, for the few places that must write it (a template, a hash, a token file).
#[derive(Clone)]
pub struct Secret {
    name: String,
    value: String,
}

impl Secret {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value itself.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The text `--redact` writes in place of the value.
    pub fn placeholder(name: &str) -> String {
        format!("<secret:{name}>")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Secret::placeholder(&self.name))
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Secret::placeholder(&self.name))
    }
}

/// Looks an environment variable up (the CLI passes `std::env::var`).
pub type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// How a build gets secret values.
#[derive(Clone)]
pub enum SecretsMode {
    /// Read each from its source.
    Resolve(Arc<EnvLookup>),
    /// Use `<secret:NAME>` for every value, reading nothing: deterministic output.
    Redact,
}

impl Default for SecretsMode {
    /// Resolve, with an empty environment.
    fn default() -> Self {
        SecretsMode::Resolve(Arc::new(|_| None))
    }
}

impl fmt::Debug for SecretsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretsMode::Resolve(_) => f.write_str("Resolve"),
            SecretsMode::Redact => f.write_str("Redact"),
        }
    }
}

/// The secrets of one build.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    pub values: IndexMap<String, Secret>,
    /// Names of the generated ones (for `--secrets-out`).
    pub generated: Vec<String>,
    pub redacted: bool,
}

impl Resolved {
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.values.get(name)
    }

    /// The same values, with new ones for the `generate` secrets: each user-data of an
    /// application (each role, each instance) gets its own.
    pub fn regenerated(
        &self,
        decls: &IndexMap<String, Spanned<SecretDecl>>,
    ) -> Result<Resolved, Diagnostics> {
        let mut out = self.clone();
        if self.redacted {
            return Ok(out);
        }
        for name in &self.generated {
            let Some((decl, g)) = decls
                .get(name)
                .and_then(|d| d.value.generate.as_ref().map(|g| (d, g)))
            else {
                continue;
            };
            let value = generated(name, decl, g).map_err(|d| Diagnostics(vec![d]))?;
            out.values.insert(
                name.clone(),
                Secret {
                    name: name.clone(),
                    value,
                },
            );
        }
        Ok(out)
    }
}

/// A new value for generated secret `name`.
fn generated(name: &str, decl: &Spanned<SecretDecl>, g: &Spanned<Generate>) -> Result<String, Diagnostic> {
    generate(g.value.length.value as usize, g.value.charset).map_err(|e| {
        Diagnostic::error(Code::Secret, format!("secret `{name}`: no random numbers: {e}"))
            .with_span(decl.span)
            .with_hint("check the system's entropy source")
    })
}

/// The default time a `command` source may take.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads every declared secret. All failures are collected.
pub fn resolve(
    decls: &IndexMap<String, Spanned<SecretDecl>>,
    mode: &SecretsMode,
    files: &LocalFiles,
) -> Result<Resolved, Diagnostics> {
    let mut out = Resolved {
        redacted: matches!(mode, SecretsMode::Redact),
        ..Resolved::default()
    };
    let mut diags = Diagnostics::default();
    for (name, decl) in decls {
        if decl.value.generate.is_some() {
            out.generated.push(name.clone());
        }
        let value = match mode {
            SecretsMode::Redact => Ok(Secret::placeholder(name)),
            SecretsMode::Resolve(env) => read(name, decl, env.as_ref(), files),
        };
        match value {
            Ok(value) if value.is_empty() => diags.push(
                Diagnostic::error(
                    Code::Secret,
                    format!("secret `{name}` is empty ({})", source_words(&decl.value)),
                )
                .with_span(decl.span)
                .with_hint("give the source a value; an empty credential is never what was meant"),
            ),
            Ok(value) => {
                out.values.insert(
                    name.clone(),
                    Secret {
                        name: name.clone(),
                        value,
                    },
                );
            }
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(out) }
}

/// `environment variable DB_PASSWORD`, `file secrets/x`, ...: for messages.
fn source_words(d: &SecretDecl) -> String {
    match (&d.from, &d.generate) {
        (Some(f), _) => match f.value {
            SecretFrom::Env => format!(
                "environment variable `{}`",
                d.name.as_ref().map_or("", |n| &n.value)
            ),
            SecretFrom::File => format!("file `{}`", d.path.as_ref().map_or("", |n| &n.value)),
            SecretFrom::Command => format!(
                "command `{}`",
                d.argv.as_ref().and_then(|a| a.first()).map_or("", |n| &n.value)
            ),
        },
        _ => "generated".to_string(),
    }
}

fn read(
    name: &str,
    decl: &Spanned<SecretDecl>,
    env: &EnvLookup,
    files: &LocalFiles,
) -> Result<String, Diagnostic> {
    let d = &decl.value;
    let fail = |message: String, hint: &str| {
        Diagnostic::error(Code::Secret, message)
            .with_span(decl.span)
            .with_hint(hint.to_string())
    };
    if let Some(g) = &d.generate {
        return generated(name, decl, g);
    }
    let from = d.from.as_ref().map(|f| f.value);
    match from {
        Some(SecretFrom::Env) => {
            let var = d.name.as_ref().map_or("", |n| n.value.as_str());
            match env(var) {
                Some(v) => Ok(v),
                None => Err(fail(
                    format!("secret `{name}`: environment variable `{var}` is not set"),
                    "export it before running ctxgen, or build with `--redact` to check the spec without credentials",
                )),
            }
        }
        Some(SecretFrom::File) => {
            let Some(path) = &d.path else {
                return Err(fail(format!("secret `{name}` names no file"), "add `path:`"));
            };
            let text = files.read_text(path, &format!("secret `{name}`: file"))?;
            let first = text.split('\n').next().unwrap_or("");
            Ok(first.strip_suffix('\r').unwrap_or(first).to_string())
        }
        Some(SecretFrom::Command) => {
            let argv: Vec<&str> = d.argv.iter().flatten().map(|a| a.value.as_str()).collect();
            let timeout = d
                .timeout_seconds
                .as_ref()
                .map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs(t.value));
            run(&argv, timeout, files).map_err(|why| {
                fail(
                    format!(
                        "secret `{name}`: command `{}` {why}",
                        argv.first().copied().unwrap_or("")
                    ),
                    "run the command by hand to see what it says (its output is never shown here)",
                )
            })
        }
        None => Err(fail(
            format!("secret `{name}` has no source"),
            "add `from:` or `generate:`",
        )),
    }
}

/// Runs `argv` in the spec's folder and returns its standard output without the final
/// line break. Standard error is discarded (it may echo the value); the reason for a
/// failure never includes output.
fn run(argv: &[&str], timeout: Duration, files: &LocalFiles) -> Result<String, String> {
    let (program, args) = argv.split_first().ok_or("is empty")?;
    let mut child = Command::new(program)
        .args(args)
        .current_dir(files.base())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot be started: {}", e.kind()))?;
    let mut stdout = child.stdout.take().ok_or("has no output")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "took longer than {} s and was stopped",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("could not be waited for: {}", e.kind())),
        }
    };
    let out = reader
        .join()
        .map_err(|_| "output could not be read".to_string())?
        .map_err(|e| format!("output could not be read: {}", e.kind()))?;
    if !status.success() {
        return Err(match status.code() {
            Some(code) => format!("failed (exit status {code})"),
            None => "was killed by a signal".to_string(),
        });
    }
    let text = String::from_utf8(out).map_err(|_| "printed something that is not UTF-8 text".to_string())?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    Ok(text.strip_suffix('\r').unwrap_or(text).to_string())
}

/// Random text of `length` characters from `charset`, uniformly (rejection sampling).
fn generate(length: usize, charset: Charset) -> Result<String, getrandom::Error> {
    let alphabet: Vec<u8> = match charset {
        Charset::Alnum => (b'0'..=b'9').chain(b'A'..=b'Z').chain(b'a'..=b'z').collect(),
        Charset::Hex => (b'0'..=b'9').chain(b'a'..=b'f').collect(),
        Charset::Base64url => (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(b'0'..=b'9')
            .chain([b'-', b'_'])
            .collect(),
        Charset::Printable => (b'!'..=b'~').collect(),
    };
    // The largest multiple of the alphabet's size below 256: bytes above it are drawn
    // again, so every character is equally likely.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(length);
    let mut buf = [0u8; 64];
    while out.len() < length {
        getrandom::fill(&mut buf)?;
        for b in buf {
            if (b as usize) < limit && out.len() < length {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    Ok(out)
}

/// SHA-512 crypt (`$6$`) of a password with a fresh 12-byte salt (16 salt characters,
/// the most SHA-crypt uses). Redacted secrets hash to their placeholder.
pub fn hash_password(secret: &Secret, redacted: bool) -> Result<String, Diagnostic> {
    use sha_crypt::{PasswordHasher, ShaCrypt};
    if redacted {
        return Ok(Secret::placeholder(secret.name()));
    }
    let fail = |why: String| {
        Diagnostic::error(
            Code::Secret,
            format!("cannot hash secret `{}`: {why}", secret.name()),
        )
        .with_hint("this is a ctxgen bug; please report it (without the secret)")
    };
    let mut salt = [0u8; 12];
    getrandom::fill(&mut salt).map_err(|e| fail(e.to_string()))?;
    ShaCrypt::SHA512
        .hash_password_with_salt(secret.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| fail(e.to_string()))
}

/// Replaces every secret value (of 4 characters or more) in `diags` with its
/// placeholder: messages, hints and notes. The last line of defence, for errors raised
/// by libraries that quote what they were given (a template filter, say).
pub fn scrub(diags: &mut Diagnostics, secrets: &Resolved) {
    if secrets.redacted {
        return;
    }
    let values: Vec<&Secret> = secrets
        .values
        .values()
        .filter(|s| s.value.chars().count() >= 4)
        .collect();
    let clean = |text: &mut String| {
        for s in &values {
            if text.contains(s.expose()) {
                *text = text.replace(s.expose(), &Secret::placeholder(s.name()));
            }
        }
    };
    for d in &mut diags.0 {
        clean(&mut d.message);
        if let Some(h) = &mut d.hint {
            clean(h);
        }
        for n in &mut d.notes {
            clean(n);
        }
    }
}

/// A located error for a use of a secret in a place that cannot take it.
pub fn misuse(span: Span, message: impl Into<String>, hint: &str) -> Diagnostic {
    Diagnostic::error(Code::Secret, message)
        .with_span(span)
        .with_hint(hint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_print_as_placeholders() {
        let s = Secret {
            name: "db".into(),
            value: "hunter2-very-secret".into(),
        };
        assert_eq!(format!("{s} {s:?}"), "<secret:db> <secret:db>");
        let resolved = Resolved {
            values: [("db".to_string(), s)].into_iter().collect(),
            ..Resolved::default()
        };
        assert!(!format!("{resolved:?}").contains("hunter2"));
    }

    #[test]
    fn generated_text_uses_the_charset() {
        let hex = generate(64, Charset::Hex).unwrap();
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(
            generate(32, Charset::Alnum).unwrap(),
            generate(32, Charset::Alnum).unwrap()
        );
        assert!(
            generate(100, Charset::Printable)
                .unwrap()
                .bytes()
                .all(|b| (b'!'..=b'~').contains(&b))
        );
    }

    #[test]
    fn hashes_are_sha512_crypt_with_short_salts() {
        let s = Secret {
            name: "p".into(),
            value: "correct horse".into(),
        };
        let h = hash_password(&s, false).unwrap();
        let parts: Vec<&str> = h.split('$').collect();
        assert_eq!(parts[1], "6", "{h}");
        let salt = parts.iter().find(|p| p.len() == 16).copied();
        assert!(salt.is_some(), "a 16-character salt: {h}");
        assert_ne!(h, hash_password(&s, false).unwrap(), "fresh salt each time");
        assert_eq!(hash_password(&s, true).unwrap(), "<secret:p>");
    }

    #[test]
    fn scrub_replaces_values() {
        let s = Secret {
            name: "tok".into(),
            value: "abcd1234".into(),
        };
        let resolved = Resolved {
            values: [("tok".to_string(), s)].into_iter().collect(),
            ..Resolved::default()
        };
        let mut diags = Diagnostics(vec![
            Diagnostic::error(Code::Template, "bad value 'abcd1234'").with_hint("x abcd1234"),
        ]);
        scrub(&mut diags, &resolved);
        assert_eq!(diags.0[0].message, "bad value '<secret:tok>'");
        assert_eq!(diags.0[0].hint.as_deref(), Some("x <secret:tok>"));
    }
}
