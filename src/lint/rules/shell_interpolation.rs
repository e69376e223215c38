//! CL009 `shell-interpolation`: a `runcmd`/`bootcmd` string that the shell expands.
//!
//! A string item goes to `sh` as it is, so `$VAR`, `${…}`, `$(…)` and backticks in it
//! are expanded, and unless quoted what they expand to is split into words and
//! globbed. A list item is quoted word by word and reaches the command unchanged.
//! Text in single quotes is not expanded and does not count; lists are never
//! reported.

use super::{command_items, finding, str_of};
use crate::cloud_config::validate::dotted;
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};

/// The rule.
pub struct ShellInterpolation;

/// The rule's registry entry.
pub static RULE: ShellInterpolation = ShellInterpolation;

static META: RuleMeta = RuleMeta {
    code: "CL009",
    name: "shell-interpolation",
    default_severity: Severity::Warning,
    summary: "a string command expands variables or command output in the shell",
    why: "cloud-init runs string commands through `sh`. Whatever `$VAR`, `${…}`, `$(…)` \
          or backticks expand to is split on blanks and globbed unless it is quoted, so a \
          value with a space or a `*` in it turns into several arguments or into file \
          names. Quoting inside one long YAML string is easy to get wrong and hard to \
          review. A list item (`[cmd, arg]`) is quoted by cloud-init and reaches the \
          command exactly as written.",
    example: "runcmd:\n  - mkdir -p /srv/$APP_NAME && chown $APP_USER /srv/$APP_NAME\n",
    instead: "Write commands as lists where no shell is needed. Where one is (pipes, \
              redirections), pass the values as arguments rather than pasting them in:\n\nruncmd:\n  - [mkdir, -p, /srv/app]\n  - [sh, -c, 'chown \"$1\" /srv/app', sh, appuser]\n",
};

impl super::super::Rule for ShellInterpolation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        for (path, item) in command_items(doc.root) {
            let Some(command) = str_of(item) else {
                continue;
            };
            let found = expansions(command);
            if found.is_empty() {
                continue;
            }
            out.push(finding(
                &META,
                format!(
                    "`{}` is a shell string with {}; unquoted, what it expands to is split and globbed",
                    dotted(&path),
                    found.join(" and ")
                ),
                item.span,
                path,
                Some("write it as a list (`- [cmd, arg, …]`), or pass values as arguments: `- [sh, -c, 'cmd \"$1\"', sh, value]`".to_string()),
            ));
        }
    }
}

/// The kinds of expansion in a shell string outside single quotes, in a fixed order.
pub(crate) fn expansions(command: &str) -> Vec<&'static str> {
    let mut variable = false;
    let mut substitution = false;
    let mut single = false;
    let mut escaped = false;
    let bytes = command.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        if single {
            single = b != b'\'';
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b'\'' => single = !inside_double(bytes, i),
            b'`' => substitution = true,
            b'$' => match bytes.get(i + 1) {
                Some(b'(') => substitution = true,
                Some(b'{') => variable = true,
                Some(c) if c.is_ascii_alphabetic() || *c == b'_' => variable = true,
                _ => {}
            },
            _ => {}
        }
    }
    let mut kinds = Vec::new();
    if variable {
        kinds.push("variable expansion (`$NAME`, `${…}`)");
    }
    if substitution {
        kinds.push("command substitution (`$(…)`, backticks)");
    }
    kinds
}

/// Whether byte `at` is inside double quotes (a `'` there is an ordinary character).
fn inside_double(bytes: &[u8], at: usize) -> bool {
    let mut double = false;
    let mut single = false;
    let mut escaped = false;
    for &b in &bytes[..at] {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if !single => escaped = true,
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            _ => {}
        }
    }
    double
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    #[test]
    fn expansions_outside_single_quotes() {
        assert_eq!(expansions("echo $HOME"), ["variable expansion (`$NAME`, `${…}`)"]);
        assert_eq!(expansions("echo ${A:-b}").len(), 1);
        assert_eq!(
            expansions("hostname > /x; echo $(hostname)"),
            ["command substitution (`$(…)`, backticks)"]
        );
        assert_eq!(expansions("echo `id -u` $U").len(), 2);
        assert_eq!(expansions("echo \"it's $HOME\"").len(), 1);
        assert!(expansions("echo '$HOME' '$(x)'").is_empty());
        assert!(expansions("echo \\$HOME costs $5").is_empty());
        assert!(expansions("systemctl restart nginx").is_empty());
    }

    #[test]
    fn only_string_items_are_reported() {
        let yaml = "runcmd:\n  - echo $HOSTNAME > /etc/motd\n  - [sh, -c, 'echo $1', sh, x]\n  - echo '$literal'\nbootcmd:\n  - mkdir -p /srv/$(hostname)\n";
        let found = testing::doc(&RULE, yaml);
        let paths: Vec<String> = found.iter().map(|f| dotted(&f.path)).collect();
        assert_eq!(paths, ["bootcmd.0", "runcmd.0"]);
        assert_eq!(testing::spanned(yaml, &found[1]), "echo $HOSTNAME > /etc/motd");
    }
}
