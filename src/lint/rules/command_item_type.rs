//! CL008 `command-item-type`: a `runcmd`/`bootcmd` item that is neither a string nor
//! a list of strings.
//!
//! cloud-init turns these lists into a shell script with `util.shellify`: a string
//! goes in as it is, a list is quoted word by word (each word through Python's
//! `str()`), an empty item is skipped, and anything else (a mapping, a number, a
//! boolean) raises a `TypeError`, so none of the commands run. YAML makes such items
//! easily: `- echo: hi` is a mapping, `- 42` a number. In a list, a word YAML 1.1
//! typed is passed as Python writes it: `[chmod, 0755, f]` runs `chmod 493 f`.

use super::{finding, get, items, join, key, kind_name};
use crate::cloud_config::validate::{Seg, dotted};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};
use crate::source::yaml11::{Node, NodeKind, python_float_repr};

/// The rule.
pub struct CommandItemType;

/// The rule's registry entry.
pub static RULE: CommandItemType = CommandItemType;

static META: RuleMeta = RuleMeta {
    code: "CL008",
    name: "command-item-type",
    default_severity: Severity::Warning,
    summary: "a `runcmd`/`bootcmd` item is not a string or a list of strings",
    why: "cloud-init writes `runcmd` and `bootcmd` into a shell script. An item that is \
          neither a string nor a list (often a command with `: ` in it, which YAML reads \
          as a mapping) makes cloud-init fail with a TypeError, and none of the commands \
          run. Inside a list, a word YAML 1.1 reads as a number or boolean reaches the \
          command as Python prints it: `0755` becomes `493`, `yes` becomes `True`.",
    example: "runcmd:\n  - echo: hi\n  - [chmod, 0755, /usr/local/bin/tool]\n",
    instead: "Quote strings that contain `: ` or start with a YAML indicator, and quote \
              list words that YAML 1.1 would type:\n\nruncmd:\n  - 'echo: hi'\n  - [chmod, '0755', /usr/local/bin/tool]\n",
};

impl super::super::Rule for CommandItemType {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        for module in ["bootcmd", "runcmd"] {
            let Some(list) = get(doc.root, module) else {
                continue;
            };
            match &list.kind {
                NodeKind::Seq(_) | NodeKind::Null => {}
                _ => {
                    out.push(finding(
                        &META,
                        format!(
                            "`{module}` is {}, not a list: cloud-init fails on it and runs none of it",
                            kind_name(list)
                        ),
                        list.span,
                        vec![key(module)],
                        Some(format!("make `{module}` a list, one command an item")),
                    ));
                    continue;
                }
            }
            for (i, item) in items(list).iter().enumerate() {
                let path = vec![key(module), Seg::Index(i)];
                check_item(module, item, &path, out);
            }
        }
    }
}

fn check_item(module: &str, item: &Node, path: &[Seg], out: &mut Vec<Finding>) {
    match &item.kind {
        NodeKind::Str(_) | NodeKind::Null => {}
        NodeKind::Seq(words) => {
            for (j, word) in words.iter().enumerate() {
                if let Some(problem) = word_problem(word) {
                    let path = join(path, [Seg::Index(j)]);
                    out.push(finding(
                        &META,
                        format!("`{}` {problem}", dotted(&path)),
                        word.span,
                        path,
                        Some("quote the word so it stays the text you wrote".to_string()),
                    ));
                }
            }
        }
        _ => {
            let mapping = matches!(item.kind, NodeKind::Map(_));
            let why = if mapping {
                " (YAML reads `key: value` as a mapping)"
            } else {
                ""
            };
            out.push(finding(
                &META,
                format!(
                    "`{}` is {}{why}, not a command: cloud-init fails on it and runs none of `{module}`",
                    dotted(path),
                    kind_name(item)
                ),
                item.span,
                path.to_vec(),
                Some(if mapping {
                    "quote the whole command (`- 'echo: hi'`), or write it as a list of words".to_string()
                } else {
                    "quote it, or write the command as a list of words".to_string()
                }),
            ));
        }
    }
}

/// The longest word a message quotes back.
const MAX_QUOTED: usize = 5;

/// What is wrong with one word of a list command, if anything.
fn word_problem(word: &Node) -> Option<String> {
    let written = word.scalar.as_ref().map(|s| s.text.as_str());
    let python = match &word.kind {
        NodeKind::Str(_) => return None,
        NodeKind::Int(n) => n.to_string(),
        NodeKind::BigInt(digits) => digits.clone(),
        NodeKind::Bool(b) => (if *b { "True" } else { "False" }).to_string(),
        NodeKind::Null => "None".to_string(),
        NodeKind::Float(f) => python_float_repr(*f),
        _ => {
            return Some(format!(
                "is {} inside a command: cloud-init passes its Python representation as one word",
                kind_name(word)
            ));
        }
    };
    if written == Some(python.as_str()) {
        return None;
    }
    // Short words only: a long number in a command may be a credential.
    let quoted = match written {
        Some(w) if w.chars().count() <= MAX_QUOTED && python.chars().count() <= MAX_QUOTED + 2 => {
            format!(", so the command gets `{python}` instead of `{w}`")
        }
        _ => ", so the command gets Python's text for it, not what is written".to_string(),
    };
    Some(format!("is read by YAML 1.1 as {}{quoted}", kind_name(word)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    #[test]
    fn items_that_are_not_commands() {
        let long = testing::doc(&RULE, "runcmd:\n  - [mysql, -p, 01234567]\n");
        assert!(!long[0].message.contains("01234567"), "{}", long[0].message);
        let yaml = "bootcmd: echo hi\nruncmd:\n  - echo: hi\n  - 42\n  - [chmod, 0755, /x]\n  - [sleep, 10]\n  - [test, yes]\n  - ''\n  -\n  - echo fine\n";
        let found = testing::doc(&RULE, yaml);
        let paths: Vec<String> = found.iter().map(|f| dotted(&f.path)).collect();
        assert_eq!(
            paths,
            ["bootcmd", "runcmd.0", "runcmd.1", "runcmd.2.1", "runcmd.4.1"]
        );
        assert!(
            found[3].message.contains("gets `493` instead of `0755`"),
            "{}",
            found[3].message
        );
        assert!(found[4].message.contains("`True`"));
        assert_eq!(testing::spanned(yaml, &found[1]), "echo: hi");
    }

    #[test]
    fn strings_and_lists_of_strings_are_fine() {
        let yaml = "runcmd:\n  - [systemctl, enable, --now, nginx]\n  - 'echo: quoted'\n  - [sysctl, -w, vm.swappiness=10]\n";
        assert!(testing::doc(&RULE, yaml).is_empty());
    }
}
