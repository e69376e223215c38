//! CL001 `credential-in-user-data`: a credential written into the user-data.
//!
//! Looks at every string of every cloud-config document (keys and values, and the
//! content of `write_files` entries once their `b64`/`gz+b64` encoding is undone) and
//! at every other text part (scripts, boothooks). Two kinds of evidence count: a token
//! whose format is its own signature (a private key block, `ghp_…`, `AKIA…`, a JWT…),
//! and a value under a key whose name says it is a credential (`token`, `password`,
//! `secret_access_key`…) in cloud-config. Values that are clearly not the credential
//! itself (`${VAULT_TOKEN}`, `$(cat /run/secret)`, `<token>`, `xxxx`, examples) are
//! left alone.
//!
//! Findings name the kind of credential and where it is; they never quote it. Host
//! keys under `ssh_keys` are left to CL011, passwords of users and `chpasswd` to CL002.

use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

use base64::Engine;
use regex::Regex;

use super::{
    Joined, command_items, file_content, finding, get, items, join, key, key_seg, narrow, part_label, str_of,
};
use crate::cloud_config::validate::{Seg, dotted};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta, Text};
use crate::source::Span;
use crate::source::yaml11::{Node, NodeKind};

/// The rule.
pub struct CredentialInUserData;

/// The rule's registry entry.
pub static RULE: CredentialInUserData = CredentialInUserData;

static META: RuleMeta = RuleMeta {
    code: "CL001",
    name: "credential-in-user-data",
    default_severity: Severity::Error,
    summary: "a private key, access token, API key or password is written into the user-data",
    why: "User-data is not a secret store. On the VM any local process can read it from the \
          metadata service, cloud-init keeps copies under /var/lib/cloud and in its logs, \
          and outside the VM it sits in the cloud's API, in templates, in CI logs and in \
          version control. A credential in user-data has to be treated as published: \
          anyone who can read any of those places can use it.",
    example: "write_files:\n  - path: /root/.config/gh/hosts.yml\n    content: |\n      github.com:\n        oauth_token: ghp_<36 characters>\n",
    instead: "Revoke the credential, then let the VM fetch it at boot from a secret store \
              with a short-lived, single-use token: in a ctxgen spec, `runtime_secrets` \
              (a Vault or OpenBao response-wrapped token, or the EGI secret locker). For \
              SSH access give public keys only; for passwords give crypt hashes.",
};

const HINT: &str = "anyone who can read the user-data can use this: revoke it, and have the VM fetch it at boot instead (ctxgen `runtime_secrets`, a Vault response-wrapped token)";

impl super::super::Rule for CredentialInUserData {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        let mut path = Vec::new();
        walk(doc, doc.root, &mut path, None, out);
        encoded_files(doc, out);
        list_commands(doc, out);
    }

    fn text(&self, text: &Text<'_>, out: &mut Vec<Finding>) {
        let label = part_label(text.part);
        for hit in scan(text.text) {
            out.push(finding(
                &META,
                format!("{} in {label}", hit.kind),
                Span::new(text.file, hit.range.start, hit.range.end),
                Vec::new(),
                Some(HINT.to_string()),
            ));
        }
    }
}

/// Visits every node, scanning string keys and values.
fn walk(doc: &Doc<'_>, node: &Node, path: &mut Vec<Seg>, under: Option<&str>, out: &mut Vec<Finding>) {
    match &node.kind {
        NodeKind::Str(s) => {
            if is_host_key(path) {
                return;
            }
            let mut found: Vec<(String, Span)> = scan(s)
                .into_iter()
                .map(|h| {
                    let span = if h.pem {
                        doc.sources.begin_line(node.span)
                    } else {
                        narrow(doc.sources, node.span, &s[h.range])
                    };
                    (h.kind, span)
                })
                .collect();
            if found.is_empty()
                && let Some(name) = under
                && let Some(kind) = named_credential(name, s, path)
            {
                found.push((kind, node.span));
            }
            let place = format!("at `{}`", dotted(path));
            report(path, &found, &place, out);
        }
        NodeKind::Map(pairs) | NodeKind::Pairs(pairs) => {
            for (k, v) in pairs {
                let found: Vec<(String, Span)> = str_of(k)
                    .map(|text| {
                        scan(text)
                            .into_iter()
                            .map(|h| {
                                let span = narrow(doc.sources, k.span, &text[h.range]);
                                (h.kind, span)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if found.is_empty() {
                    path.push(key_seg(k));
                    walk(doc, v, path, str_of(k), out);
                } else {
                    // The key is the credential: it stays out of paths and messages.
                    let place = if path.is_empty() {
                        "in a top-level key".to_string()
                    } else {
                        format!("in a mapping key under `{}`", dotted(path))
                    };
                    report(path, &found, &place, out);
                    path.push(Seg::Key(REDACTED_KEY.to_string()));
                    walk(doc, v, path, None, out);
                }
                path.pop();
            }
        }
        NodeKind::Seq(list) | NodeKind::Set(list) => {
            for (i, item) in list.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(doc, item, path, None, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The path segment that stands for a mapping key that is itself a credential.
const REDACTED_KEY: &str = "<credential>";

/// One finding per kind of credential found in one scalar, each at its span; `place`
/// says where ("at `runcmd.0`").
fn report(path: &[Seg], found: &[(String, Span)], place: &str, out: &mut Vec<Finding>) {
    let mut seen: Vec<&str> = Vec::new();
    for (kind, span) in found {
        if seen.contains(&kind.as_str()) {
            continue;
        }
        seen.push(kind);
        out.push(finding(
            &META,
            format!("{kind} {place}"),
            *span,
            path.to_vec(),
            Some(HINT.to_string()),
        ));
    }
}

/// `ssh_keys.<type>_private`: CL011's.
fn is_host_key(path: &[Seg]) -> bool {
    matches!(path, [Seg::Key(top), Seg::Key(k)] if top == "ssh_keys" && k.ends_with("_private"))
}

/// Write_files entries whose content is encoded: the decoded text is scanned, and a
/// credential in it is reported at the content scalar.
fn encoded_files(doc: &Doc<'_>, out: &mut Vec<Finding>) {
    let Some(files) = get(doc.root, "write_files") else {
        return;
    };
    for (i, entry) in items(files).iter().enumerate() {
        let Some(content) = file_content(entry) else {
            continue;
        };
        let (Some(encoding), Some(node)) = (content.encoding, get(entry, "content")) else {
            continue;
        };
        let path = join(&[key("write_files"), Seg::Index(i)], [key("content")]);
        let target = get(entry, "path")
            .and_then(str_of)
            .filter(|p| scan(p).is_empty())
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let found: Vec<(String, Span)> = scan(&content.text)
            .into_iter()
            .map(|h| (h.kind, node.span))
            .collect();
        let place = format!(
            "at `{}`, found inside its `{encoding}`-encoded content{target}",
            dotted(&path)
        );
        report(&path, &found, &place, out);
    }
}

/// Commands written as lists (`[curl, -u, user:password, URL]`): the words are
/// joined and scanned again, for credentials that only their neighbours reveal, and
/// reported at the word that holds them.
fn list_commands(doc: &Doc<'_>, out: &mut Vec<Finding>) {
    for (path, item) in command_items(doc.root) {
        let words = items(item);
        if words.is_empty() {
            continue;
        }
        let joined = Joined::new(words);
        let line = &joined.line;
        for hit in scan(line) {
            let j = joined.word_at(hit.range.start);
            let alone = str_of(&words[j]).map(scan).unwrap_or_default();
            if alone.iter().any(|h| h.kind == hit.kind) {
                continue; // the walk reported it
            }
            let word_path = join(&path, [Seg::Index(j)]);
            let place = format!("at `{}`", dotted(&word_path));
            let span = narrow(doc.sources, words[j].span, &line[hit.range]);
            report(&word_path, &[(hit.kind, span)], &place, out);
        }
    }
}

/// Key names (lower case, `-` read as `_`) whose string value is a credential.
const CREDENTIAL_KEYS: &[&str] = &[
    "access_token",
    "activation_key",
    "api_key",
    "apikey",
    "application_credential_secret",
    "auth_token",
    "aws_secret_access_key",
    "bearer_token",
    "challengepassword",
    "client_secret",
    "os_password",
    "passwd",
    "password",
    "private_key",
    "refresh_token",
    "registration_key",
    "secret",
    "secret_access_key",
    "secret_key",
    "token",
];

/// Key name suffixes that say the same.
const CREDENTIAL_SUFFIXES: &[&str] = &["_password", "_secret", "_token", "_secret_key"];

/// The kind of credential a value under key `name` is, when the key says it is one and
/// the value is not a placeholder, a path or a crypt hash. Passwords CL002 reports
/// (users, `chpasswd`, top-level `password`) are left to it.
fn named_credential(name: &str, value: &str, path: &[Seg]) -> Option<String> {
    let norm = name.trim().to_lowercase().replace('-', "_");
    let named =
        CREDENTIAL_KEYS.contains(&norm.as_str()) || CREDENTIAL_SUFFIXES.iter().any(|s| norm.ends_with(s));
    if !named || left_to_plaintext_password(path) {
        return None;
    }
    let v = value.trim();
    if placeholder(v) || v.starts_with('/') || v.starts_with("file:") || v.contains('\n') {
        return None;
    }
    let aws_shaped = v.len() == 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if norm.contains("secret_access_key") && aws_shaped {
        return Some("an AWS secret access key".to_string());
    }
    Some(format!("a credential under the key `{name}`"))
}

/// What credential `value`, held under mapping key `key` if any, looks like: for texts
/// other than user-data (a spec), with the same detectors.
pub(crate) fn looks_like_credential(key: Option<&str>, value: &str) -> Option<String> {
    if let Some(hit) = scan(value).into_iter().next() {
        return Some(hit.kind);
    }
    key.and_then(|k| named_credential(k, value, &[]))
}

/// The paths CL002 reports passwords at.
fn left_to_plaintext_password(path: &[Seg]) -> bool {
    match path {
        [Seg::Key(top)] => top == "password",
        [Seg::Key(top), ..] if top == "chpasswd" => true,
        [Seg::Key(top), .., Seg::Key(last)] if top == "users" || top == "user" => {
            let last = last.replace('-', "_");
            matches!(last.as_str(), "passwd" | "plain_text_passwd" | "hashed_passwd")
        }
        _ => false,
    }
}

/// One credential found in a text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    /// What it is, as said in messages: "a GitHub personal access token".
    pub kind: String,
    /// The credential's bytes in the text (for a key block, its `-----BEGIN` line).
    pub range: Range<usize>,
    /// Whether it is a private key block.
    pub pem: bool,
}

/// How a pattern's match is confirmed: given the text and the range of the pattern's
/// `s` group, the range to report, or `None` when it is not a credential after all.
type Confirm = fn(&str, Range<usize>) -> Option<Range<usize>>;

/// A credential format: a regex whose `s` group is the credential.
struct Pattern {
    kind: &'static str,
    re: &'static str,
    /// Lowercase text of which every match holds at least one (compared without
    /// regard to ASCII case): a text with none of them cannot match, so the regex is
    /// neither compiled nor run on it. Compiling every pattern costs milliseconds,
    /// which a pre-commit hook checking one file pays at every run.
    needles: &'static [&'static str],
    confirm: Confirm,
    /// A private key block: reported by its `-----BEGIN` line, which the kind quotes.
    pem: bool,
}

/// The formats, most specific first: a later match that overlaps an earlier one is
/// dropped.
const PATTERNS: &[Pattern] = &[
    Pattern {
        kind: "a Google service-account private key",
        re: r#""private_key"\s*:\s*"(?P<s>-----BEGIN [A-Z ]*PRIVATE KEY-----)"#,
        needles: &["\"private_key\""],
        confirm: pem_body,
        pem: true,
    },
    Pattern {
        kind: "a private key block",
        re: r"(?P<s>-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)",
        needles: &["private key"],
        confirm: pem_body,
        pem: true,
    },
    Pattern {
        kind: "a private key in a kubeconfig (client-key-data)",
        re: r#"client-key-data["']?[ \t]*:[ \t]*["']?(?P<s>LS0tLS1CRUdJTi[A-Za-z0-9+/=]{16,})"#,
        needles: &["client-key-data"],
        confirm: whole,
        pem: false,
    },
    Pattern {
        kind: "an AWS access key id",
        re: r"\b(?P<s>(?:AKIA|ASIA)[A-Z2-7]{16})\b",
        needles: &["akia", "asia"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "an AWS secret access key",
        re: r#"(?i)aws_?secret_?access_?key["']?[ \t]*[:=][ \t]*["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        needles: &["secret"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a GitHub token",
        re: r"\b(?P<s>gh[pousr]_[A-Za-z0-9]{36,})\b",
        needles: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a GitHub fine-grained personal access token",
        re: r"\b(?P<s>github_pat_[A-Za-z0-9_]{60,})",
        needles: &["github_pat_"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a GitLab personal access token",
        re: r"\b(?P<s>glpat-[A-Za-z0-9_\-]{20,})",
        needles: &["glpat-"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a Slack token",
        re: r"\b(?P<s>xox[abposr]-[A-Za-z0-9-]{10,})",
        needles: &["xox"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a Slack webhook URL",
        re: r"(?P<s>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/]{20,})",
        needles: &["hooks.slack.com"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a Google API key",
        re: r"\b(?P<s>AIza[0-9A-Za-z_\-]{35})",
        needles: &["aiza"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "an npm access token",
        re: r"\b(?P<s>npm_[A-Za-z0-9]{36})\b",
        needles: &["npm_"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "an npm registry token (_authToken)",
        re: r#":_authToken[ \t]*=[ \t]*(?P<s>[^\s"']{16,})"#,
        needles: &[":_authtoken"],
        confirm: literal_value,
        pem: false,
    },
    Pattern {
        kind: "a PyPI API token",
        re: r"\b(?P<s>pypi-AgE[A-Za-z0-9_\-]{50,})",
        needles: &["pypi-age"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "an Azure storage account key (AccountKey= in a connection string)",
        re: r"(?:AccountKey|SharedAccessKey)\s*=\s*(?P<s>[A-Za-z0-9+/]{40,}={0,2})",
        needles: &["accountkey", "sharedaccesskey"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a HashiCorp Vault token",
        re: r"\b(?P<s>hv[sb]\.[A-Za-z0-9_\-]{24,})",
        needles: &["hvs.", "hvb."],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a HashiCorp Vault token (legacy s. format)",
        re: r"\b(?P<s>s\.[A-Za-z0-9]{24})\b",
        needles: &["s."],
        confirm: mixed_case_and_digits,
        pem: false,
    },
    Pattern {
        kind: "an OpenStack password (OS_PASSWORD)",
        re: r#"\bOS_PASSWORD[ \t]*=[ \t]*(?P<s>"[^"\n]*"|'[^'\n]*'|[^\s;&|"']+)"#,
        needles: &["os_password"],
        confirm: literal_value,
        pem: false,
    },
    Pattern {
        kind: "an OpenStack application credential secret",
        re: r#"(?i)\b(?:OS_APPLICATION_CREDENTIAL_SECRET[ \t]*=|application_credential_secret["']?[ \t]*:)[ \t]*(?P<s>"[^"\n]*"|'[^'\n]*'|[^\s;&|"',}]+)"#,
        needles: &["application_credential_secret"],
        confirm: literal_value,
        pem: false,
    },
    Pattern {
        kind: "a WireGuard private or preshared key",
        re: r"(?m)^[ \t]*(?:PrivateKey|PresharedKey)[ \t]*=[ \t]*(?P<s>[A-Za-z0-9+/]{42,43}=)",
        needles: &["privatekey", "presharedkey"],
        confirm: random_tail,
        pem: false,
    },
    Pattern {
        kind: "a JSON Web Token",
        re: r"\b(?P<s>ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})",
        needles: &["ey"],
        confirm: jwt,
        pem: false,
    },
    Pattern {
        kind: "a registry credential in a Docker config (auths.*.auth)",
        re: r#""auth"\s*:\s*"(?P<s>[A-Za-z0-9+/=]{8,})""#,
        needles: &["\"auth\""],
        confirm: docker_auth,
        pem: false,
    },
    Pattern {
        kind: "a registry password in a Docker config",
        re: r#""(?:password|identitytoken)"\s*:\s*"(?P<s>[^"\n]+)""#,
        needles: &["\"password\"", "\"identitytoken\""],
        confirm: docker_password,
        pem: false,
    },
    Pattern {
        kind: "a token in a kubeconfig",
        re: r#"(?m)^[ \t]*(?:- )?token:[ \t]*["']?(?P<s>[^\s"'#]{16,})"#,
        needles: &["token:"],
        confirm: kubeconfig_token,
        pem: false,
    },
    Pattern {
        kind: "a password in a URL (scheme://user:password@host)",
        re: r#"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@'"]*:(?P<s>[^\s/@'"]+)@[A-Za-z0-9\[]"#,
        needles: &["://"],
        confirm: literal_value,
        pem: false,
    },
    Pattern {
        kind: "a password on a curl command line (-u user:password)",
        re: r#"\bcurl\b[^\n]*?\s(?:-u|--user)(?:[ \t]+|=)(?P<s>"[^"\n]*"|'[^'\n]*'|[^\s"']+)"#,
        needles: &["curl"],
        confirm: user_password,
        pem: false,
    },
    Pattern {
        kind: "a password on a wget command line",
        re: r#"\bwget\b[^\n]*?\s--(?:http-|ftp-)?password(?:[ \t]+|=)(?P<s>"[^"\n]*"|'[^'\n]*'|[^\s"']+)"#,
        needles: &["wget"],
        confirm: literal_value,
        pem: false,
    },
];

/// Each pattern's regex, compiled the first time a text may hold a match.
static COMPILED: [OnceLock<Regex>; PATTERNS.len()] = [const { OnceLock::new() }; PATTERNS.len()];

impl Pattern {
    /// Whether `lowercase` (a text, ASCII-lowercased) holds one of the needles.
    fn may_match(&self, lowercase: &str) -> bool {
        self.needles.iter().any(|n| lowercase.contains(n))
    }
}

fn compiled(index: usize) -> &'static Regex {
    COMPILED[index].get_or_init(|| {
        let p = &PATTERNS[index];
        Regex::new(p.re).unwrap_or_else(|e| panic!("pattern for {}: {e}", p.kind))
    })
}

static STANDALONE_40: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Za-z0-9/+])(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)")
        .unwrap_or_else(|e| panic!("{e}"))
});

/// How far from an AWS access key id a bare 40-character secret key may be.
const AWS_PAIR_DISTANCE: usize = 300;

/// Every credential found in `text`, in text order.
pub(crate) fn scan(text: &str) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    let lowercase = text.to_ascii_lowercase();
    for (index, pattern) in PATTERNS.iter().enumerate() {
        if !pattern.may_match(&lowercase) {
            continue;
        }
        for caps in compiled(index).captures_iter(text) {
            let Some(s) = caps.name("s") else { continue };
            let Some(range) = (pattern.confirm)(text, s.range()) else {
                continue;
            };
            if hits
                .iter()
                .any(|h| h.range.start < range.end && range.start < h.range.end)
            {
                continue;
            }
            let kind = if pattern.pem {
                format!("{} ({})", pattern.kind, s.as_str().trim_matches('-'))
            } else {
                pattern.kind.to_string()
            };
            hits.push(Hit {
                kind,
                pem: pattern.pem,
                range,
            });
        }
    }
    aws_secret_near_id(text, &mut hits);
    hits.sort_by_key(|h| h.range.start);
    hits
}

/// A bare 40-character AWS secret key written next to an access key id.
fn aws_secret_near_id(text: &str, hits: &mut Vec<Hit>) {
    let ids: Vec<Range<usize>> = hits
        .iter()
        .filter(|h| h.kind == "an AWS access key id")
        .map(|h| h.range.clone())
        .collect();
    if ids.is_empty() {
        return;
    }
    for caps in STANDALONE_40.captures_iter(text) {
        let Some(s) = caps.name("s") else { continue };
        let range = s.range();
        let near = ids.iter().any(|id| {
            range.start.abs_diff(id.end) <= AWS_PAIR_DISTANCE
                || id.start.abs_diff(range.end) <= AWS_PAIR_DISTANCE
        });
        let overlaps = hits
            .iter()
            .any(|h| h.range.start < range.end && range.start < h.range.end);
        if near && !overlaps && mixed_case_and_digits(text, range.clone()).is_some() {
            hits.push(Hit {
                kind: "an AWS secret access key".to_string(),
                range,
                pem: false,
            });
        }
    }
}

/// Accepts the match as it is.
fn whole(_: &str, range: Range<usize>) -> Option<Range<usize>> {
    Some(range)
}

/// A private key header followed by key material (a line of base64 after optional
/// `Name: value` headers), not a template or prose. Reports the header.
fn pem_body(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let after = &text[range.end..];
    let window: String = after.chars().take(600).collect();
    let window = window.replace("\\n", "\n").replace("\\r", "");
    for line in window.lines() {
        let line = line.trim();
        if line.is_empty() || line.contains(": ") {
            continue;
        }
        let run = line
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            .count();
        return (run >= 20).then_some(range);
    }
    None
}

/// A token whose variable part (after its fixed prefix) looks random rather than like
/// an example: not one repeated character, no `EXAMPLE`/`xxxx`-style filler, and at
/// least two of lower case, upper case and digits.
fn random_tail(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let token = &text[range.clone()];
    let tail = token
        .find(['_', '-', '.'])
        .filter(|&i| i <= 11)
        .map_or(token, |i| &token[i + 1..]);
    let tail = tail
        .strip_prefix("AKIA")
        .or_else(|| tail.strip_prefix("ASIA"))
        .unwrap_or(tail);
    looks_random(tail).then_some(range)
}

/// A 24-character legacy Vault token or bare AWS secret: upper case, lower case and
/// digits all present (so words and hex digests do not count).
fn mixed_case_and_digits(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let t = &text[range.clone()];
    let ok = t.bytes().any(|b| b.is_ascii_lowercase())
        && t.bytes().any(|b| b.is_ascii_uppercase())
        && t.bytes().any(|b| b.is_ascii_digit())
        && looks_random(t);
    ok.then_some(range)
}

/// A value written literally (quotes removed), not a placeholder or a variable.
fn literal_value(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let range = unquote(text, range);
    (!placeholder(&text[range.clone()])).then_some(range)
}

/// `user:password` with a literal password; reports the password.
fn user_password(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let range = unquote(text, range);
    let value = &text[range.clone()];
    if value.contains('$') || value.contains('`') {
        return None;
    }
    let colon = value.find(':')?;
    let password = (range.start + colon + 1)..range.end;
    (!placeholder(&text[password.clone()])).then_some(password)
}

/// A JWT: its first segment decodes to a JSON object with an `alg` member.
fn jwt(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let header = text[range.clone()].split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD_INDIFFERENT
        .decode(header)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("alg").is_some().then_some(range)
}

/// The `auth` of a Docker config: base64 of `user:password`, in a text with `auths`.
fn docker_auth(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    if !text.contains("\"auths\"") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
        .decode(&text[range.clone()])
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    (!user.is_empty() && !placeholder(password)).then_some(range)
}

/// A `password` or `identitytoken` in a text with Docker's `auths`.
fn docker_password(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    if !text.contains("\"auths\"") {
        return None;
    }
    literal_value(text, range)
}

/// `token:` in a text that is a kubeconfig.
fn kubeconfig_token(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let kubeconfig = text.contains("clusters:")
        && (text.contains("contexts:") || text.contains("kind: Config") || text.contains("current-context"));
    if !kubeconfig {
        return None;
    }
    literal_value(text, range)
}

/// `range` without the quotes around it, if it is quoted.
fn unquote(text: &str, range: Range<usize>) -> Range<usize> {
    let s = &text[range.clone()];
    let quoted = s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')));
    if quoted {
        range.start + 1..range.end - 1
    } else {
        range
    }
}

/// Words that stand for a credential in examples and documentation.
const PLACEHOLDER_WORDS: &[&str] = &[
    "password", "passwd", "pass", "pwd", "secret", "token", "none", "null", "redacted", "hidden", "masked",
    "value",
];

/// Fragments that mark an example value.
const PLACEHOLDER_FRAGMENTS: &[&str] = &[
    "example",
    "placeholder",
    "redacted",
    "your_",
    "your-",
    "yourpass",
    "yourtoken",
    "xxxx",
    "****",
    "dummy",
    "sample",
];

/// A value that is not a credential itself: empty, a variable or command substitution
/// (`$X`, `${X}`, `$(…)`, backticks, `%X%`), a template (`{{ x }}`), a `<…>`
/// placeholder, filler (`xxxx`, `****`, `...`), or a word such as `password`.
pub(crate) fn placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    if v.starts_with('$')
        || v.starts_with('%')
        || v.contains("${")
        || v.contains("$(")
        || v.contains("{{")
        || v.contains("{%")
        || v.contains('`')
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('[') && v.ends_with(']'))
    {
        return true;
    }
    let lower = v.to_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str()) || PLACEHOLDER_FRAGMENTS.iter().any(|f| lower.contains(f))
    {
        return true;
    }
    let first = v.chars().next().unwrap_or(' ');
    v.chars().all(|c| c == first)
        || v.chars()
            .all(|c| matches!(c, 'x' | 'X' | '*' | '.' | '?' | '-' | '_' | '#'))
}

/// Whether the variable part of a token looks random rather than made up.
fn looks_random(tail: &str) -> bool {
    if tail.len() < 8 || placeholder(tail) {
        return false;
    }
    let classes = [
        tail.bytes().any(|b| b.is_ascii_lowercase()),
        tail.bytes().any(|b| b.is_ascii_uppercase()),
        tail.bytes().any(|b| b.is_ascii_digit()),
    ];
    classes.iter().filter(|c| **c).count() >= 2
}

/// The credential kinds `scan` finds in a text (for tests of other rules).
#[cfg(test)]
pub(crate) fn kinds(text: &str) -> Vec<String> {
    scan(text).into_iter().map(|h| h.kind).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    /// Every match of every pattern, in every lint fixture, check corpus document and
    /// test of this module, holds one of the pattern's needles: the prefilter never
    /// hides a credential the regex finds.
    #[test]
    fn needles_are_in_every_match() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut texts = vec![include_str!("credential_in_user_data.rs").to_string()];
        let mut dirs = vec![root.join("lint"), root.join("check"), root.join("userdata")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    texts.push(text);
                }
            }
        }
        assert!(texts.len() > 500, "fixtures found: {}", texts.len());
        let mut matches = 0;
        for text in &texts {
            for (index, pattern) in PATTERNS.iter().enumerate() {
                for m in compiled(index).find_iter(text) {
                    matches += 1;
                    assert!(
                        pattern.may_match(&m.as_str().to_ascii_lowercase()),
                        "{}: no needle in a match: {:?}",
                        pattern.kind,
                        m.as_str()
                    );
                }
            }
        }
        assert!(matches > 50, "matches: {matches}");
    }

    /// Fake credentials made up for these tests: right format, no real account.
    const AWS_ID: &str = "AKIA4QWERTY7ZXCVB2NM";
    const AWS_SECRET: &str = "q8Vb2Lk9Rt0Wz5Xy1Nm3Pc7Hd4Jf6Gs8Ta2Ue0Io";
    const GHP: &str = "ghp_Zq3Xw8Rt2Yb6Nm1Kp9Lc4Vd7Hs5Jf0Ga3Qe1";
    const GLPAT: &str = "glpat-Xr4Tn8Wq2Zp6Lm9Vb3Kd";
    const SLACK: &str = "xoxb-2048736150-9283746501-Qw3Er5Ty7Ui9Op1As";
    const GOOGLE: &str = "AIzaSyQ3w9R7t5Y1u3I5o7P9a2S4d6F8g0H2j4K";
    const NPM: &str = "npm_Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0Xc2Vb4";
    const VAULT: &str = "hvs.CAESIKq3Zt8Rw2Yx6Nb1Mp9Lc4Vd7Hs5Jf0Ga3";
    const VAULT_LEGACY: &str = "s.Qw3Er5Ty7Ui9Op1As2Df4Gh6";

    #[test]
    fn finds_token_formats_and_never_quotes_them() {
        for (token, kind) in [
            (AWS_ID, "an AWS access key id"),
            (GHP, "a GitHub token"),
            (GLPAT, "a GitLab personal access token"),
            (SLACK, "a Slack token"),
            (GOOGLE, "a Google API key"),
            (NPM, "an npm access token"),
            (VAULT, "a HashiCorp Vault token"),
            (VAULT_LEGACY, "a HashiCorp Vault token (legacy s. format)"),
        ] {
            let yaml = format!("runcmd:\n  - echo {token} > /tmp/t\n");
            let found = testing::doc(&RULE, &yaml);
            assert_eq!(found.len(), 1, "{token}: {found:?}");
            assert!(found[0].message.starts_with(kind), "{}", found[0].message);
            assert!(
                !found[0].message.contains(token) && !found[0].hint.as_deref().unwrap_or("").contains(token)
            );
            assert_eq!(testing::spanned(&yaml, &found[0]), token);
            let script = format!("#!/bin/sh\nexport T={token}\n");
            let found = testing::text(&RULE, &script);
            assert_eq!(found.len(), 1, "{token} in a script");
            assert_eq!(testing::spanned(&script, &found[0]), token);
        }
    }

    #[test]
    fn aws_secret_next_to_its_id() {
        let script =
            format!("aws configure set aws_access_key_id {AWS_ID}\naws configure set x {AWS_SECRET}\n");
        assert_eq!(
            kinds(&script),
            ["an AWS access key id", "an AWS secret access key"]
        );
        let named = format!("AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n");
        assert_eq!(kinds(&named), ["an AWS secret access key"]);
        // Without an id nearby, a 40-character string is just a string.
        assert!(kinds(&format!("checksum {AWS_SECRET}\n")).is_empty());
        // The documented example key is not a credential.
        assert!(kinds("AKIAIOSFODNN7EXAMPLE").is_empty());
    }

    #[test]
    fn private_keys_point_at_the_begin_line() {
        let yaml = "write_files:\n  - path: /etc/ssl/private/site.key\n    content: |\n      -----BEGIN EC PRIVATE KEY-----\n      MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oBXyWxyzQWERoAoGCCqGSM49\n      -----END EC PRIVATE KEY-----\n";
        let found = testing::doc(&RULE, yaml);
        assert_eq!(found.len(), 1);
        assert_eq!(
            testing::spanned(yaml, &found[0]),
            "-----BEGIN EC PRIVATE KEY-----"
        );
        assert!(!found[0].message.contains("MHcCAQ"));
        assert_eq!(dotted(&found[0].path), "write_files.0.content");
    }

    #[test]
    fn near_misses_are_not_credentials() {
        for text in [
            "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1234567890abcdefghij\n-----END PUBLIC KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 alice@host",
            "export VAULT_TOKEN=${VAULT_TOKEN}",
            "Vault tokens start with hvs. and are short-lived",
            "OS_PASSWORD=$(cat /run/secret)",
            "OS_PASSWORD=\"$OS_PASSWORD\"",
            "curl -u \"$USER:$PASS\" https://example.org",
            "curl -u alice https://example.org",
            "git clone https://alice@git.example.org/repo.git",
            "https://user:<password>@db.example.org",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "token: <token>",
            "sha1 3f786850e387550fdab836ed7e6dc881de23001b",
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
        }
    }

    #[test]
    fn structured_formats() {
        let docker = r#"{"auths": {"registry.example.org": {"auth": "YWxpY2U6UXczRXI1VHk3VWk5"}}}"#;
        assert_eq!(
            kinds(docker),
            ["a registry credential in a Docker config (auths.*.auth)"]
        );
        let kube = "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: ci\n  user:\n    token: Qw3Er5Ty7Ui9Op1As2Df4Gh6\n";
        assert_eq!(kinds(kube), ["a token in a kubeconfig"]);
        let url = "DATABASE_URL=postgres://app:Qw3Er5Ty7U@db.internal:5432/app";
        let hits = scan(url);
        assert_eq!(&url[hits[0].range.clone()], "Qw3Er5Ty7U");
        let wg = "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n";
        assert_eq!(kinds(wg), ["a WireGuard private or preshared key"]);
        let redis = "redis://:Qw3Er5Ty7U@cache.internal:6379/0";
        assert_eq!(&redis[scan(redis)[0].range.clone()], "Qw3Er5Ty7U");
        let curl = "curl -fsS -u deploy:Qw3Er5Ty7U https://repo.example.org/x";
        assert_eq!(&curl[scan(curl)[0].range.clone()], "Qw3Er5Ty7U");
        let jwt = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8";
        assert_eq!(kinds(jwt), ["a JSON Web Token"]);
        let os = "export OS_PASSWORD='Qw3Er5Ty7U'\nexport OS_APPLICATION_CREDENTIAL_SECRET=Zx9Cv8Bn7M\n";
        assert_eq!(
            kinds(os),
            [
                "an OpenStack password (OS_PASSWORD)",
                "an OpenStack application credential secret"
            ]
        );
    }

    #[test]
    fn credential_named_keys_in_cloud_config() {
        let yaml =
            "ubuntu_advantage:\n  token: C1Qw3Er5Ty7Ui9Op\nrh_subscription:\n  password: ${RH_PASSWORD}\n";
        let found = testing::doc(&RULE, yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(dotted(&found[0].path), "ubuntu_advantage.token");
        assert!(!found[0].message.contains("C1Qw3"));
        // Passwords of users are CL002's.
        assert!(
            testing::doc(
                &RULE,
                "users:\n  - name: a\n    plain_text_passwd: hunter2hunter2\n"
            )
            .is_empty()
        );
        assert!(testing::doc(&RULE, "password: hunter2hunter2\n").is_empty());
    }

    #[test]
    fn a_credential_as_a_key_stays_out_of_paths() {
        let yaml = format!("bootcmd:\n  - {{ {GHP}: true }}\n{GHP}:\n  token: C1Qw3Er5Ty7Ui9Op\n");
        let found = testing::doc(&RULE, &yaml);
        assert_eq!(found.len(), 3, "{found:?}");
        for f in &found {
            assert!(
                !f.message.contains(GHP) && !dotted(&f.path).contains(GHP),
                "{f:?}"
            );
        }
        assert_eq!(
            found[0].message,
            "a GitHub token in a mapping key under `bootcmd.0`"
        );
        assert_eq!(testing::spanned(&yaml, &found[0]), GHP);
        assert_eq!(found[1].message, "a GitHub token in a top-level key");
        assert_eq!(dotted(&found[2].path), "<credential>.token");
    }

    #[test]
    fn list_commands_are_read_as_one_line() {
        let yaml = "runcmd:\n  - [curl, -fsS, -u, 'deploy:Qw3Er5Ty7U', https://repo.example.org/x]\n  - [curl, -u, '$U:$P', https://x]\n";
        let found = testing::doc(&RULE, yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(dotted(&found[0].path), "runcmd.0.3");
        assert_eq!(testing::spanned(yaml, &found[0]), "Qw3Er5Ty7U");
    }

    #[test]
    fn a_key_block_folded_into_one_line_is_still_a_key() {
        let yaml = "write_files:\n  - path: /k\n    content: -----BEGIN RSA PRIVATE KEY-----\n      MIIEowIBAAKCAQEAq3Zt8Rw2Yx6Nb1Mp9Lc4Vd7Hs5Jf0Ga3\n      -----END RSA PRIVATE KEY-----\n";
        let found = testing::doc(&RULE, yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .starts_with("a private key block (BEGIN RSA PRIVATE KEY)")
        );
    }

    #[test]
    fn encoded_write_files_content_is_decoded() {
        let b64 = base64::engine::general_purpose::STANDARD
            .encode(format!("machine github.com\nlogin x\npassword {GHP}\n"));
        let yaml = format!("write_files:\n  - path: /root/.netrc\n    encoding: b64\n    content: {b64}\n");
        let found = testing::doc(&RULE, &yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("inside its `b64`-encoded content"));
        assert_eq!(testing::spanned(&yaml, &found[0]), b64);
    }
}
