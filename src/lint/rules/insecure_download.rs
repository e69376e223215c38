//! CL010 `insecure-download`: a command or script that downloads without protection.
//!
//! Three patterns, in `runcmd`/`bootcmd` (strings and lists), in script parts, and in
//! `write_files` content that is a script (`#!`):
//!
//! - a plain `http://` URL given to a download tool (`curl`, `wget`, `apt-key`,
//!   `rpm`, `git`, `pip`, `dnf`/`yum`…), except loopback, link-local (the metadata
//!   service) and proxy settings;
//! - TLS verification turned off: `curl -k`/`--insecure`, `wget
//!   --no-check-certificate`, `git -c http.sslVerify=false`, `GIT_SSL_NO_VERIFY`;
//! - a download piped or substituted straight into a shell or interpreter
//!   (`curl … | sh`, `… | python3 -`, `sh -c "$(curl …)"`, `bash <(wget …)`); an
//!   interpreter given its program with `-c`/`-e` only reads the download as data.
//!
//! Script lines starting with `#` are comments and are skipped.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::{Joined, command_items, file_content, finding, get, items, join, key, part_label};
use crate::cloud_config::validate::{Seg, dotted};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta, Text};
use crate::source::Span;
use crate::source::yaml11::NodeKind;

/// The rule.
pub struct InsecureDownload;

/// The rule's registry entry.
pub static RULE: InsecureDownload = InsecureDownload;

static META: RuleMeta = RuleMeta {
    code: "CL010",
    name: "insecure-download",
    default_severity: Severity::Warning,
    summary: "a download over plain HTTP, without TLS checks, or piped into a shell",
    why: "What a boot script downloads runs as root. Over plain HTTP, or with \
          certificate checks off, anyone on the network path (a compromised router, a \
          hostile Wi-Fi, a DNS spoof) can replace it. Piping a download into `sh` \
          also runs a half-transferred script when the connection drops, and leaves \
          nothing on disk to check or audit.",
    example: "runcmd:\n  - curl -fsSL http://get.example.org/install.sh | sh\n",
    instead: "Use https:// with certificate checks on (give a private CA with `--cacert` \
              rather than `-k`), download to a file, check a pinned checksum or \
              signature, then run it:\n\nruncmd:\n  - [curl, -fsSLo, /tmp/install.sh, https://get.example.org/install.sh]\n  - [sh, -c, 'echo \"<sha256>  /tmp/install.sh\" | sha256sum -c']\n  - [sh, /tmp/install.sh]\n",
};

/// One problem found on a command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Issue {
    pub range: Range<usize>,
    pub message: &'static str,
    pub hint: &'static str,
}

const HTTP: (&str, &str) = (
    "downloads from a plain http:// URL: anyone on the network path can change what arrives",
    "use https://, and check a pinned checksum or signature of what you download",
);
const NO_TLS: (&str, &str) = (
    "turns off TLS certificate verification for a download",
    "remove it; for a private CA pass it explicitly (`curl --cacert FILE`, `wget --ca-certificate=FILE`)",
);
const PIPE: (&str, &str) = (
    "runs a downloaded script straight in a shell, unchecked",
    "download to a file, verify its checksum or signature, then run the file",
);

/// Download tools whose URL arguments are fetched.
const TOOLS: &str = r"curl|wget|fetch|aria2c|apt-key|rpm|git|pip|pip3|dnf|yum|yum-config-manager|zypper|Invoke-WebRequest|iwr";

static TOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?:^|[\s;&|(`'\x22/])(?P<tool>{TOOLS})(?:\s|$)")).unwrap_or_else(|e| panic!("{e}"))
});
static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\bhttp://[^\s'"<>|;)`]+"#).unwrap_or_else(|e| panic!("{e}")));
static INSECURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:^|\s)(?P<o>--insecure|--no-check-certificate|-[A-Za-z]*k[A-Za-z]*|http\.sslVerify=false|GIT_SSL_NO_VERIFY=(?:1|true))(?:\s|$|["'])"#,
    )
    .unwrap_or_else(|e| panic!("{e}"))
});
static PIPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:curl|wget)\b[^|;&\n]*(?P<p>\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+)?(?:/usr/bin/|/bin/|/usr/local/bin/)?(?:(?:sh|bash|zsh|dash|ksh)\b|(?:python3?|perl|ruby)(?:\s+-)?\s*$))",
    )
    .unwrap_or_else(|e| panic!("{e}"))
});
static SUBSTITUTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?P<p>\b(?:sh|bash|zsh|dash|ksh)\s+(?:-\S+\s+)*["']?(?:\$\(|<\()\s*(?:curl|wget)\b)"#)
        .unwrap_or_else(|e| panic!("{e}"))
});

/// Hosts a plain-HTTP fetch may use: this machine and the link-local metadata service.
fn local_url(url: &str) -> bool {
    let rest = &url["http://".len()..];
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    let host = host.to_lowercase();
    host == "localhost"
        || host.starts_with("127.")
        || host.starts_with("169.254.")
        || host == "::1"
        || host.starts_with("fe80:")
        || host == "metadata.google.internal"
        || host == "0.0.0.0"
        || host.contains('$')
        || host.contains('{')
}

/// Problems on the lines of `text` (a script, or one command).
pub(crate) fn scan(text: &str) -> Vec<Issue> {
    // Line continuations become blanks of the same length, so offsets stay put.
    let joined = text.replace("\\\n", "  ");
    let mut issues = Vec::new();
    let mut offset = 0;
    for line in joined.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        if line.trim_start().starts_with('#') {
            continue;
        }
        scan_line(line, start, &mut issues);
    }
    issues
}

fn scan_line(line: &str, base: usize, out: &mut Vec<Issue>) {
    let push = |out: &mut Vec<Issue>, r: Range<usize>, (message, hint): (&'static str, &'static str)| {
        out.push(Issue {
            range: base + r.start..base + r.end,
            message,
            hint,
        });
    };
    for tool in TOOL.captures_iter(line) {
        let Some(name) = tool.name("tool") else { continue };
        let segment_end = line[name.end()..]
            .find(['|', ';', '&', ')', '`', '\n'])
            .map_or(line.len(), |i| name.end() + i);
        let segment = &line[name.end()..segment_end];
        for url in URL.find_iter(segment) {
            let before = segment[..url.start()].trim_end();
            let proxy = before.ends_with("-x")
                || before.ends_with("--proxy")
                || before.ends_with("--proxy=")
                || before.ends_with("proxy=")
                || before.ends_with("-e");
            if !proxy && !local_url(url.as_str()) {
                let r = name.end() + url.start()..name.end() + url.end();
                push(out, r, HTTP);
            }
        }
        let tls_off = matches!(name.as_str(), "curl" | "wget" | "git");
        if tls_off {
            for m in INSECURE.captures_iter(segment) {
                let Some(o) = m.name("o") else { continue };
                let short = o.as_str().starts_with('-') && !o.as_str().starts_with("--");
                if short && name.as_str() != "curl" {
                    continue;
                }
                push(out, name.end() + o.start()..name.end() + o.end(), NO_TLS);
            }
        }
    }
    if let Some(m) = line.find("GIT_SSL_NO_VERIFY=")
        && line[m..].starts_with("GIT_SSL_NO_VERIFY=1") | line[m..].starts_with("GIT_SSL_NO_VERIFY=true")
        && !out.iter().any(|i| i.range.start == base + m)
    {
        push(out, m..m + "GIT_SSL_NO_VERIFY=".len() + 1, NO_TLS);
    }
    for re in [&*PIPED, &*SUBSTITUTED] {
        for caps in re.captures_iter(line) {
            if let Some(p) = caps.name("p") {
                push(out, p.range(), PIPE);
            }
        }
    }
}

impl super::super::Rule for InsecureDownload {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        for (path, item) in command_items(doc.root) {
            match &item.kind {
                NodeKind::Str(command) => {
                    for issue in scan(command) {
                        push(out, &path, item.span, &issue);
                    }
                }
                NodeKind::Seq(words) => {
                    let joined = Joined::new(words);
                    for issue in scan(&joined.line) {
                        let j = joined.word_at(issue.range.start);
                        let word_path = join(&path, [Seg::Index(j)]);
                        push(out, &word_path, words[j].span, &issue);
                    }
                }
                _ => {}
            }
        }
        if let Some(files) = get(doc.root, "write_files") {
            for (i, entry) in items(files).iter().enumerate() {
                let (Some(content), Some(node)) = (file_content(entry), get(entry, "content")) else {
                    continue;
                };
                if !content.text.starts_with("#!") {
                    continue;
                }
                let path = vec![key("write_files"), Seg::Index(i), key("content")];
                let mut seen = Vec::new();
                for issue in scan(&content.text) {
                    if !seen.contains(&issue.message) {
                        seen.push(issue.message);
                        push(out, &path, node.span, &issue);
                    }
                }
            }
        }
    }

    fn text(&self, text: &Text<'_>, out: &mut Vec<Finding>) {
        let label = part_label(text.part);
        for issue in scan(text.text) {
            out.push(finding(
                &META,
                format!("{label} {}", issue.message),
                Span::new(text.file, issue.range.start, issue.range.end),
                Vec::new(),
                Some(issue.hint.to_string()),
            ));
        }
    }
}

fn push(out: &mut Vec<Finding>, path: &[Seg], span: Span, issue: &Issue) {
    out.push(finding(
        &META,
        format!("`{}` {}", dotted(path), issue.message),
        span,
        path.to_vec(),
        Some(issue.hint.to_string()),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    fn found(text: &str) -> Vec<(&str, &'static str)> {
        scan(text)
            .into_iter()
            .map(|i| (&text[i.range], i.message))
            .collect()
    }

    #[test]
    fn insecure_patterns() {
        assert_eq!(
            found("curl -fsSL http://get.example.org/i.sh | sudo -E bash -\n"),
            [
                ("http://get.example.org/i.sh", HTTP.0),
                ("| sudo -E bash", PIPE.0)
            ]
        );
        assert_eq!(
            found("curl -sSLk https://x.example.org/a -o /tmp/a"),
            [("-sSLk", NO_TLS.0)]
        );
        assert_eq!(
            found("wget --no-check-certificate https://x/a"),
            [("--no-check-certificate", NO_TLS.0)]
        );
        assert_eq!(
            found("wget -qO- \\\n  http://x.example.org/k.asc | apt-key add -")[0].1,
            HTTP.0
        );
        assert_eq!(found("sh -c \"$(curl -fsSL https://x/i.sh)\"")[0].1, PIPE.0);
        assert_eq!(
            found("apt-key adv --fetch-keys http://repo.example.org/key")[0].1,
            HTTP.0
        );
        assert_eq!(found("GIT_SSL_NO_VERIFY=1 git clone https://x/r")[0].1, NO_TLS.0);
    }

    #[test]
    fn near_misses() {
        for text in [
            "curl -fsSL https://get.example.org/i.sh -o /tmp/i.sh",
            "curl http://169.254.169.254/latest/meta-data/instance-id",
            "curl -s http://localhost:8080/health",
            "curl -x http://proxy.example.org:3128 https://example.org",
            "curl -fsSL https://x/key | gpg --dearmor -o /usr/share/keyrings/x.gpg",
            "curl -fsSL https://x/f | sha256sum",
            "echo see http://example.org for docs",
            "# curl http://example.org | sh",
            "curl -H 'X-Kind: k' https://example.org",
            "curl -s https://api.example.org/v1 | python3 -c 'import json, sys; print(1)'",
        ] {
            assert!(found(text).is_empty(), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn cloud_config_locations() {
        let yaml = "runcmd:\n  - [curl, -k, -o, /tmp/x, https://example.org/x]\n  - wget http://example.org/a\nwrite_files:\n  - path: /usr/local/bin/setup\n    permissions: '0755'\n    content: |\n      #!/bin/sh\n      curl http://example.org/a | sh\n";
        let found = testing::doc(&RULE, yaml);
        let paths: Vec<String> = found.iter().map(|f| dotted(&f.path)).collect();
        assert_eq!(
            paths,
            [
                "runcmd.0.1",
                "runcmd.1",
                "write_files.0.content",
                "write_files.0.content"
            ]
        );
        assert_eq!(testing::spanned(yaml, &found[0]), "-k");
    }

    #[test]
    fn script_parts_point_at_the_problem() {
        let script = "#!/bin/bash\nset -e\ncurl -fsSL http://get.example.org/x.sh | bash\n";
        let found = testing::text(&RULE, script);
        assert_eq!(found.len(), 2);
        assert_eq!(testing::spanned(script, &found[0]), "http://get.example.org/x.sh");
        assert!(
            found[0]
                .message
                .starts_with("part 2 (setup.sh) downloads from a plain http:// URL")
        );
    }
}
