//! CL007 `permissions-format`: a `write_files` mode that is not written as a quoted
//! octal string.
//!
//! cloud-init's `decode_perms` uses a number as it is and reads anything else as octal
//! text (`int(str(value), 8)`), falling back to 0644 with only a log line when that
//! fails. An unquoted mode is therefore whatever YAML 1.1 made of it: `0644` is octal
//! (420, mode 0644, by luck of YAML 1.1's octal rule), `644` is decimal (mode 1204),
//! `yes` is a boolean (mode 0001). The rule reports unquoted modes, saying what YAML 1.1
//! read and what mode results, and modes that are not 1 to 4 octal digits.

use super::{finding, get, items, key, kind_name};
use crate::cloud_config::validate::{Seg, dotted};
use crate::diag::Severity;
use crate::lint::{Doc, Finding, RuleMeta};
use crate::source::yaml11::{Node, NodeKind};

/// The rule.
pub struct PermissionsFormat;

/// The rule's registry entry.
pub static RULE: PermissionsFormat = PermissionsFormat;

static META: RuleMeta = RuleMeta {
    code: "CL007",
    name: "permissions-format",
    default_severity: Severity::Warning,
    summary: "a `write_files` permissions value is unquoted, or not an octal mode",
    why: "cloud-init reads YAML 1.1, where an unquoted `0644` is an octal number but `644` \
          is the decimal 644 (mode 1204: sticky bit, owner write only) and `yes` is a \
          boolean. A leading-zero mode only works because of a YAML 1.1 rule that YAML \
          1.2 dropped, so the same file means something else to other tools. A mode \
          cloud-init cannot read as octal (`rw-r--r--`, `0o8`, too many digits) is \
          replaced by 0644 with nothing but a line in its log.",
    example: "write_files:\n  - path: /etc/app/app.conf\n    permissions: 644\n",
    instead: "Quote the mode as 3 or 4 octal digits:\n\nwrite_files:\n  - path: /etc/app/app.conf\n    permissions: '0644'\n",
};

/// The mode cloud-init uses when `permissions` is missing or unreadable.
pub(crate) const DEFAULT_MODE: i128 = 0o644;

/// What cloud-init's `decode_perms` makes of a `permissions` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// No value (or null): the default, 0644.
    Missing,
    /// A value `int(str(value), 8)` refuses: the default, 0644, and a log warning.
    Unreadable,
    /// The mode used.
    Bits(i128),
}

impl Mode {
    /// The mode bits the file ends up with.
    pub(crate) fn effective(self) -> i128 {
        match self {
            Mode::Missing | Mode::Unreadable => DEFAULT_MODE,
            Mode::Bits(b) => b,
        }
    }
}

/// `decode_perms(value, 0o644)`.
pub(crate) fn decode(value: Option<&Node>) -> Mode {
    let Some(value) = value else {
        return Mode::Missing;
    };
    match &value.kind {
        NodeKind::Null => Mode::Missing,
        NodeKind::Bool(b) => Mode::Bits(i128::from(*b)),
        NodeKind::Int(i) => Mode::Bits(*i),
        NodeKind::Float(f) if f.is_finite() => Mode::Bits(f.trunc() as i128),
        NodeKind::Str(s) => python_octal(s).map_or(Mode::Unreadable, Mode::Bits),
        _ => Mode::Unreadable,
    }
}

/// Python's `int(text, 8)`: blanks around, a sign, an optional `0o`, octal digits with
/// single underscores between them.
fn python_octal(text: &str) -> Option<i128> {
    let t = text.trim();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let t = t
        .strip_prefix("0o")
        .or_else(|| t.strip_prefix("0O"))
        .map_or(t, |rest| rest.strip_prefix('_').unwrap_or(rest));
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let mut n: i128 = 0;
    for c in t.chars().filter(|c| *c != '_') {
        let d = c.to_digit(8)?;
        n = n.checked_mul(8)?.checked_add(i128::from(d))?;
    }
    Some(if negative { -n } else { n })
}

/// A mode in octal, as `ls` and `chmod` write it.
pub(crate) fn octal(mode: i128) -> String {
    if mode < 0 {
        format!("-{:04o}", -mode)
    } else {
        format!("{mode:04o}")
    }
}

impl super::super::Rule for PermissionsFormat {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn doc(&self, doc: &Doc<'_>, out: &mut Vec<Finding>) {
        let Some(files) = get(doc.root, "write_files") else {
            return;
        };
        for (i, item) in items(files).iter().enumerate() {
            let Some(value) = get(item, "permissions") else {
                continue;
            };
            let path = vec![key("write_files"), Seg::Index(i), key("permissions")];
            if let Some((message, hint)) = problem(value, &path) {
                out.push(finding(&META, message, value.span, path, Some(hint)));
            }
        }
    }
}

/// What is wrong with a `permissions` value, if anything: the message and the hint.
fn problem(value: &Node, path: &[Seg]) -> Option<(String, String)> {
    let at = dotted(path);
    let written = value.scalar.as_ref().map(|s| s.text.as_str()).unwrap_or("");
    let quote = "quote it as 3 or 4 octal digits, such as `permissions: '0644'`".to_string();
    let outcome = |mode: Mode| match mode {
        Mode::Bits(b) if (0..=0o7777).contains(&b) => format!("mode {}", octal(b)),
        Mode::Bits(_) => "a number that is not a file mode (chmod fails)".to_string(),
        Mode::Missing | Mode::Unreadable => "the default mode 0644".to_string(),
    };
    let mode = decode(Some(value));
    match &value.kind {
        NodeKind::Null => None,
        NodeKind::Int(n) => {
            let digits = written.trim_start_matches(['+', '-']);
            let octal_text = digits.len() > 1
                && digits.starts_with('0')
                && digits.bytes().all(|b| (b'0'..=b'7').contains(&b));
            let how = if octal_text {
                "as an octal number"
            } else if digits.starts_with("0x") || digits.starts_with("0b") || digits.contains(':') {
                "in its own notation"
            } else {
                "as a decimal number"
            };
            let mut message = format!(
                "`{at}: {written}` is unquoted: YAML 1.1 reads it {how}, the integer {n}, which cloud-init uses as {}",
                outcome(mode)
            );
            if !octal_text && let Some(meant) = python_octal(digits).filter(|m| Mode::Bits(*m) != mode) {
                message.push_str(&format!(", not mode {}", octal(meant)));
            }
            Some((message, quote))
        }
        NodeKind::Bool(_) | NodeKind::Float(_) | NodeKind::BigInt(_) => Some((
            format!(
                "`{at}: {written}` is unquoted: YAML 1.1 reads it as {}, which cloud-init uses as {}",
                kind_name(value),
                outcome(mode)
            ),
            quote,
        )),
        NodeKind::Str(s) => {
            let t = s.trim();
            let digits = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")).unwrap_or(t);
            match mode {
                Mode::Unreadable => Some((
                    format!(
                        "`{at}` is not an octal mode: cloud-init logs a warning and writes the file with mode 0644"
                    ),
                    quote,
                )),
                Mode::Bits(_) if digits.len() > 4 => Some((
                    format!(
                        "`{at}` has {} digits; a mode has at most 4 (setuid/setgid/sticky, owner, group, other)",
                        digits.len()
                    ),
                    quote,
                )),
                _ => None,
            }
        }
        _ => Some((
            format!(
                "`{at}` is {}, not a mode: cloud-init logs a warning and writes the file with mode 0644",
                kind_name(value)
            ),
            quote,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::rules::testing;

    fn messages(perms: &str) -> Vec<String> {
        let yaml = format!("write_files:\n  - path: /etc/x\n    permissions: {perms}\n");
        let found = testing::doc(&RULE, &yaml);
        for f in &found {
            assert_eq!(testing::spanned(&yaml, f), perms);
        }
        found.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn unquoted_modes_say_what_yaml_read() {
        assert_eq!(
            messages("0644"),
            [
                "`write_files.0.permissions: 0644` is unquoted: YAML 1.1 reads it as an octal number, the integer 420, which cloud-init uses as mode 0644"
            ]
        );
        assert_eq!(
            messages("644"),
            [
                "`write_files.0.permissions: 644` is unquoted: YAML 1.1 reads it as a decimal number, the integer 644, which cloud-init uses as mode 1204, not mode 0644"
            ]
        );
        assert_eq!(
            messages("yes"),
            [
                "`write_files.0.permissions: yes` is unquoted: YAML 1.1 reads it as a boolean, which cloud-init uses as mode 0001"
            ]
        );
        assert!(messages("0o644").is_empty(), "YAML 1.1 keeps 0o644 a string");
    }

    #[test]
    fn invalid_modes() {
        assert_eq!(messages("'rw-r--r--'").len(), 1);
        assert_eq!(messages("'0899'").len(), 1);
        assert!(messages("'00644'")[0].contains("5 digits"));
        assert_eq!(messages("[1]").len(), 1);
        for good in ["'0644'", "\"600\"", "'0o755'", "' 0640 '", "~"] {
            assert!(messages(good).is_empty(), "{good}");
        }
    }

    #[test]
    fn decode_follows_cloud_init() {
        let mode = |s: &str| python_octal(s);
        assert_eq!(mode("0644"), Some(0o644));
        assert_eq!(mode("0o6_44"), Some(0o644));
        assert_eq!(mode("8"), None);
        assert_eq!(mode(""), None);
        assert_eq!(decode(None).effective(), 0o644);
    }
}
