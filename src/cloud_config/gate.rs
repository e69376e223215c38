//! The gate: before anything is written, the generated document is checked against
//! the model's version facts and value domains. A finding here is a ctxgen bug or a
//! spec value that slipped past validation, so it is reported as an error located at
//! the spec field that produced the output (through the provenance table).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::Release;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::Span;

/// What ctxgen knows of one key: when it appeared, and when it was deprecated or removed.
#[derive(Clone, Copy, Debug)]
pub struct Fact {
    /// Key path: `users[].name`, `apt.sources.*.source` (`*` is any map key).
    pub path: &'static str,
    pub added: Release,
    /// Release that deprecated the key, and what replaces it.
    pub deprecated: Option<(Release, &'static str)>,
    pub removed: Option<Release>,
}

const fn fact(path: &'static str) -> Fact {
    Fact {
        path,
        added: Release::OLDEST,
        deprecated: None,
        removed: None,
    }
}

/// The facts of every key ctxgen emits, keyed by path. All of these exist, undeprecated,
/// from 22.4 to 26.2 (checked against `cloud-init schema` of 22.4, 25.1 and 26.2 by the
/// oracle suite).
pub fn facts() -> &'static BTreeMap<&'static str, Fact> {
    static FACTS: LazyLock<BTreeMap<&'static str, Fact>> = LazyLock::new(|| {
        [
            "hostname",
            "fqdn",
            "manage_etc_hosts",
            "timezone",
            "locale",
            "ntp",
            "ntp.enabled",
            "ntp.servers",
            "users",
            "users[].name",
            "users[].gecos",
            "users[].groups",
            "users[].sudo",
            "users[].shell",
            "users[].lock_passwd",
            "users[].ssh_authorized_keys",
            "ssh_pwauth",
            "disable_root",
            "ssh_deletekeys",
            "ssh_genkeytypes",
            "package_update",
            "package_upgrade",
            "packages",
            "apt",
            "apt.preserve_sources_list",
            "apt.sources",
            "apt.sources.*",
            "apt.sources.*.source",
            "yum_repos",
            "yum_repos.*",
            "yum_repos.*.name",
            "yum_repos.*.baseurl",
            "yum_repos.*.enabled",
            "yum_repos.*.gpgcheck",
            "yum_repos.*.gpgkey",
            "write_files",
            "write_files[].path",
            "write_files[].encoding",
            "write_files[].content",
            "write_files[].owner",
            "write_files[].permissions",
            "write_files[].append",
            "write_files[].defer",
            "swap",
            "swap.filename",
            "swap.size",
            "swap.maxsize",
            "bootcmd",
            "runcmd",
        ]
        .into_iter()
        .map(|p| (p, fact(p)))
        .collect()
    });
    &FACTS
}

static PERMISSIONS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-7]{4}$").expect("pattern is valid"));

/// Checks `doc` (the serialized cloud-config) for the release range `oldest..=NEWEST`.
/// `locate` maps an output JSON pointer to the spec span that produced it.
pub fn check(doc: &Value, oldest: Release, locate: &dyn Fn(&str) -> Option<Span>) -> Diagnostics {
    let mut g = Gate {
        oldest,
        locate,
        diags: Diagnostics::default(),
    };
    g.walk(doc, "", "");
    g.diags
}

struct Gate<'a> {
    oldest: Release,
    locate: &'a dyn Fn(&str) -> Option<Span>,
    diags: Diagnostics,
}

impl Gate<'_> {
    fn report(&mut self, pointer: &str, message: String) {
        let mut d = Diagnostic::error(Code::OutputGate, message)
            .with_note(format!(
                "in the generated cloud-config at `{}`",
                display_pointer(pointer)
            ))
            .with_hint("this is a ctxgen bug if the spec is valid; please report it with the spec");
        if let Some(span) = (self.locate)(pointer) {
            d = d.with_span(span);
        }
        self.diags.push(d);
    }

    fn walk(&mut self, value: &Value, path: &str, pointer: &str) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let exact = join(path, key);
                    let wild = join(path, "*");
                    let facts = facts();
                    let (fact_path, fact) = match facts.get(exact.as_str()) {
                        Some(f) => (exact, *f),
                        None => match facts.get(wild.as_str()) {
                            Some(f) => (wild, *f),
                            None => {
                                self.report(
                                    &format!("{pointer}/{key}"),
                                    format!("key `{exact}` is not in ctxgen's cloud-config model"),
                                );
                                continue;
                            }
                        },
                    };
                    let child_pointer = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                    self.versions(&fact, &child_pointer);
                    self.domain(&fact_path, child, &child_pointer);
                    self.walk(child, &fact_path, &child_pointer);
                }
            }
            Value::Array(items) => {
                let item_path = format!("{path}[]");
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &item_path, &format!("{pointer}/{i}"));
                }
            }
            _ => {}
        }
    }

    fn versions(&mut self, fact: &Fact, pointer: &str) {
        if fact.added > self.oldest {
            self.report(
                pointer,
                format!(
                    "`{}` needs cloud-init {} but the target starts at {}",
                    fact.path, fact.added, self.oldest
                ),
            );
        }
        if let Some((release, replacement)) = fact.deprecated {
            self.report(
                pointer,
                format!(
                    "`{}` is deprecated since cloud-init {release}; use {replacement}",
                    fact.path
                ),
            );
        }
        if let Some(release) = fact.removed {
            self.report(
                pointer,
                format!("`{}` was removed in cloud-init {release}", fact.path),
            );
        }
    }

    fn domain(&mut self, path: &str, value: &Value, pointer: &str) {
        let problem = match (path, value) {
            ("write_files[].permissions", Value::String(s)) if !PERMISSIONS.is_match(s) => {
                Some(format!("permissions `{s}` is not a four-digit octal string"))
            }
            ("users[].name" | "write_files[].path" | "swap.filename", Value::String(s)) if s.is_empty() => {
                Some(format!("`{path}` is empty"))
            }
            ("runcmd" | "bootcmd", Value::Array(items))
                if items.iter().any(|c| c.as_array().is_some_and(Vec::is_empty)) =>
            {
                Some(format!("`{path}` has an empty command"))
            }
            _ => None,
        };
        if let Some(message) = problem {
            self.report(pointer, message);
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn display_pointer(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.parse::<usize>().is_ok() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_keys_and_bad_values_are_caught() {
        let doc = json!({
            "write_files": [{"path": "/a", "content": "", "owner": "root:root", "permissions": "644"}],
            "bogus": 1,
            "runcmd": [[]]
        });
        let d = check(&doc, Release::OLDEST, &|_| None);
        let messages: Vec<_> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("`bogus`")));
        assert!(messages.iter().any(|m| m.contains("permissions `644`")));
        assert!(messages.iter().any(|m| m.contains("empty command")));
    }

    #[test]
    fn wildcard_keys_resolve() {
        let doc = json!({"apt": {"sources": {"nginx": {"source": "deb x y z"}}}});
        assert!(!check(&doc, Release::OLDEST, &|_| None).has_errors());
    }

    #[test]
    fn pointers_display_as_paths() {
        assert_eq!(
            display_pointer("/write_files/2/permissions"),
            "write_files[2].permissions"
        );
        assert_eq!(display_pointer("/apt/sources/a~1b"), "apt.sources.a/b");
    }
}
