//! Turning the YAML library's errors into located diagnostics with fix hints.

use super::*;

/// True when some line is more than blanks, comments and document markers.
pub(super) fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        !(l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
    })
}

/// For syntax errors that have no better hint: where such errors usually come from.
const SYNTAX_HINT: &str = "check this line and the lines above it for an unclosed `[`, `{` or quote, \
                           or a key indented differently from the keys next to it";
/// For shape errors that have no better hint.
const SCHEMA_HINT: &str = "compare with the schema that `ctxgen schema spec` prints";
const LIST_HINT: &str = "write a list: `[a, b]` on one line, or one `- item` line per entry";
const MAPPING_HINT: &str = "write `key: value` lines indented under the key, or `{ key: value }` on one line";
const ROOT_HINT: &str =
    "a spec is a mapping of `key: value` lines, starting with `version: 1` and `name: <name>`";
const SCALAR_HINT: &str = "write one value here (text, a number, true or false), not a list or a mapping";

/// Turns a YAML library error into a located diagnostic with a fix hint.
pub(super) fn diagnostic_of(err: &serde_saphyr::Error, id: FileId, text: &str) -> Diagnostic {
    use serde_saphyr::Error as E;
    let outer = err.without_snippet();
    let mut span = outer.location().filter(|l| l.line() > 0).map(|l| {
        // The library counts columns after a leading byte order mark; we count bytes.
        let bom = if l.line() == 1 && text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        let start = bom + offset_of(&text[bom..], l.line() as usize, l.column() as usize);
        let len = usize::try_from(l.span().byte_len().unwrap_or(0)).unwrap_or(0);
        Span::new(id, start, ceil_char_boundary(text, start + len.max(1)))
    });
    let mut notes = Vec::new();
    let (code, message, hint) = match original(outer) {
        E::SerdeUnknownField { field, expected, .. } => (
            Code::SpecShape,
            format!("unknown field `{field}`"),
            unknown_field_hint(field, expected),
        ),
        E::SerdeMissingField { field, .. } => (
            Code::SpecShape,
            format!("missing field `{field}`"),
            missing_field_hint(field, text, span),
        ),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            Code::SpecShape,
            format!("unknown value `{variant}`"),
            one_of_hint(variant, expected),
        ),
        E::DuplicateMappingKey { key, .. } => {
            if let (Some(key), Some(s)) = (key, span)
                && let Some(line) = earlier_key_line(text, s.start, key)
            {
                notes.push(format!("`{key}` is first given on line {line}"));
            }
            (
                Code::YamlSyntax,
                format!(
                    "duplicate key{}",
                    key.as_deref().map(|k| format!(" `{k}`")).unwrap_or_default()
                ),
                "each key may appear once in a mapping; merge the two entries".to_string(),
            )
        }
        E::Budget { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => (
            Code::YamlSyntax,
            "the document expands too far (anchors and aliases, or nesting)".to_string(),
            "write the values out instead of repeating them through aliases".to_string(),
        ),
        E::Unexpected { expected, .. } => {
            let (what, hint) = match *expected {
                "sequence start" => ("a list", LIST_HINT),
                "mapping start" if is_root(text, span) => ("a mapping", ROOT_HINT),
                "mapping start" => ("a mapping", MAPPING_HINT),
                "string scalar" | "scalar" => ("a single value", SCALAR_HINT),
                other => (other, SYNTAX_HINT),
            };
            (
                Code::SpecShape,
                format!("expected {what}, found {}", found(text, span)),
                hint.to_string(),
            )
        }
        E::InvalidScalar { ty, .. } => {
            let (what, hint) = scalar_kind(ty);
            (
                Code::SpecShape,
                format!("expected {what}, found {}", found(text, span)),
                hint.to_string(),
            )
        }
        E::NullIntoString { .. } => (
            Code::SpecShape,
            "expected a value, found nothing".to_string(),
            "write a value after the `:`, or remove the key".to_string(),
        ),
        E::SerdeInvalidType {
            unexpected, expected, ..
        }
        | E::SerdeInvalidValue {
            unexpected, expected, ..
        } => (
            Code::SpecShape,
            format!("expected {expected}, found {unexpected}"),
            model_hint(expected).map_or_else(|| format!("replace it with {expected}"), str::to_string),
        ),
        E::Message { msg, .. } => (
            Code::SpecShape,
            msg.clone(),
            model_hint(msg).unwrap_or(SCHEMA_HINT).to_string(),
        ),
        E::MultipleDocuments { .. } => (
            Code::YamlSyntax,
            "the file holds more than one YAML document".to_string(),
            "a spec is one document: remove this `---` and merge what follows into the first part"
                .to_string(),
        ),
        E::UnknownAnchor { .. } => (
            Code::YamlSyntax,
            "this alias refers to an anchor that is not defined before it".to_string(),
            "define the anchor (`&name`) on an earlier value, or write the value out".to_string(),
        ),
        other => {
            let raw = other.to_string();
            let message = strip_location(&raw);
            let syntax = is_syntax(other);
            let hint = if message.contains("tabs") {
                span = span.map(|s| tab_span(text, s));
                "YAML indents with spaces only; replace the tab with spaces"
            } else if message.contains("unclosed quote") {
                "close the quote on the same line; for text over several lines write `key: |` \
                 and indent the text below it"
            } else if message.contains("unclosed bracket") {
                "close every `[` with `]` and every `{` with `}`"
            } else if syntax {
                SYNTAX_HINT
            } else {
                SCHEMA_HINT
            };
            let code = if syntax { Code::YamlSyntax } else { Code::SpecShape };
            (code, message, hint.to_string())
        }
    };
    let mut d = Diagnostic::error(code, message).with_hint(hint);
    if let Some(span) = span {
        d = d.with_span(span);
    }
    for note in notes {
        d = d.with_note(note);
    }
    d
}

/// The error itself, without the alias and snippet wrappers around it.
fn original(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. } | serde_saphyr::Error::WithSnippet { error, .. } =
        err
    {
        err = error;
    }
    err
}

/// True for errors in the YAML itself, false for YAML that does not fit the model.
fn is_syntax(err: &serde_saphyr::Error) -> bool {
    use serde_saphyr::Error as E;
    !matches!(
        err,
        E::SerdeInvalidLength { .. }
            | E::SerdeVariantId { .. }
            | E::TaggedEnumMismatch { .. }
            | E::InvalidBooleanStrict { .. }
    )
}

/// Where to add a missing field: the error points at the last key of its mapping.
fn missing_field_hint(field: &str, text: &str, span: Option<Span>) -> String {
    let at_top = span.is_some_and(|s| s.start == 0 || text[..s.start].ends_with('\n'));
    match span.and_then(|s| leading_key(&text[s.start..])) {
        _ if at_top => format!("add `{field}: ...` at the top level of the file"),
        Some(key) => format!("add `{field}: ...` to the mapping that holds `{key}`"),
        None => format!("add `{field}: ...` to this mapping"),
    }
}

/// What a scalar of type `ty` must look like, and how to write one.
fn scalar_kind(ty: &str) -> (String, &'static str) {
    let whole = "write a whole number without quotes or units, such as `4000`";
    match ty {
        "boolean" => ("true or false".into(), "write `true` or `false`"),
        "u8" | "u16" | "u32" | "u64" => (format!("a whole number that fits in {ty}"), whole),
        "i8" | "i16" | "i32" | "i64" => (format!("a whole number that fits in {ty}"), whole),
        "floating point" => ("a number".into(), "write a number such as `1.5`"),
        other => (format!("a value of type {other}"), SCHEMA_HINT),
    }
}

/// Hints for the messages and expectations of the spec model's own deserializers
/// (ports, commands, SSH keys), matched by the words they use.
fn model_hint(text: &str) -> Option<&'static str> {
    const HINTS: &[(&str, &str)] = &[
        (
            "port",
            "write a port from 1 to 65535, such as `443`, or a range with the lower port first, \
             in quotes, such as \"8000-8100\"",
        ),
        (
            "argv list",
            "split the command into words, such as `[systemctl, restart, nginx]`; for pipes, `&&` \
             or redirections write `{ shell: \"...\" }`, which runs under `sh -eu`",
        ),
        (
            "step map",
            "write `{ shell: \"...\" }` for inline shell text, or `{ script: FILE }` for a script \
             next to the spec",
        ),
        (
            "SSH public key",
            "paste the whole line of the `.pub` file, or write `{ file: keys/NAME.pub }`",
        ),
    ];
    HINTS
        .iter()
        .find(|(words, _)| has_words(text, words))
        .map(|(_, hint)| *hint)
}

/// True when `words` occur in `text` as whole words ("port", not "support").
fn has_words(text: &str, words: &str) -> bool {
    text.match_indices(words).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + words.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Describes the node at `span` for "expected X, found Y" messages.
fn found(text: &str, span: Option<Span>) -> String {
    let Some(span) = span else {
        return "something else".to_string();
    };
    let rest = &text[span.start..];
    let line = rest.lines().next().unwrap_or("");
    if line.starts_with('[') || line == "-" || line.starts_with("- ") {
        return "a list".to_string();
    }
    if line.starts_with('{') || leading_key(rest).is_some() {
        return "a mapping".to_string();
    }
    let value = text[span.start..span.end].trim();
    match value.chars().count() {
        0 => "nothing".to_string(),
        n if n > 40 => format!("`{}...`", value.chars().take(40).collect::<String>()),
        _ => format!("`{value}`"),
    }
}

/// The plain key that `text` starts with, when it starts with `key:` (a block mapping).
fn leading_key(text: &str) -> Option<&str> {
    let line = text.lines().next()?;
    let (key, rest) = line.split_once(':')?;
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    (plain && (rest.is_empty() || rest.starts_with([' ', '\t']))).then_some(key)
}

/// True when nothing but comments and a `---` marker comes before `span`: the error is
/// about the document itself.
fn is_root(text: &str, span: Option<Span>) -> bool {
    span.is_none_or(|s| {
        text[..s.start].lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l.starts_with("---")
        })
    })
}

/// Narrows a tab error to the first tab on its line.
fn tab_span(text: &str, span: Span) -> Span {
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    match text[line_start..line_end].find('\t') {
        Some(i) => Span::new(span.file, line_start + i, line_start + i + 1),
        None => span,
    }
}

/// The 1-based line of an earlier `key:` in the same block mapping as the key at
/// `offset`, found by walking up through lines indented at least as far.
fn earlier_key_line(text: &str, offset: usize, key: &str) -> Option<usize> {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count();
    let mut lines: Vec<&str> = text[..line_start].lines().collect();
    while let Some(line) = lines.pop() {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        // `- key:` starts a mapping inside a list: its first key sits two columns in.
        let (at, content) = match content.strip_prefix("- ") {
            Some(rest) => (indent + 2, rest),
            None => (indent, content),
        };
        if at < column {
            return None;
        }
        if at == column && leading_key(content) == Some(key) {
            return Some(lines.len() + 1);
        }
        if indent < column {
            return None;
        }
    }
    None
}

/// The library's messages start with "error: line L column C: "; we print our own
/// location, so the prefix goes.
fn strip_location(raw: &str) -> String {
    let mut s = raw.trim();
    s = s.strip_prefix("error: ").unwrap_or(s);
    if let Some(rest) = s.strip_prefix("line ")
        && let Some(i) = rest.find(": ")
        && rest[..i]
            .split(' ')
            .next()
            .is_some_and(|n| n.parse::<u64>().is_ok())
    {
        s = &rest[i + 2..];
    }
    if let Some(i) = s.find(" at line ") {
        s = &s[..i];
    }
    s.lines().next().unwrap_or(s).trim().to_string()
}

fn unknown_field_hint(field: &str, expected: &[&str]) -> String {
    match did_you_mean(field, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None if expected.is_empty() => "this mapping takes no fields".to_string(),
        None => format!("expected one of: {}", expected.join(", ")),
    }
}

fn one_of_hint(value: &str, expected: &[&str]) -> String {
    match did_you_mean(value, expected.iter().copied()) {
        Some(best) => format!("did you mean `{best}`? (one of: {})", expected.join(", ")),
        None => format!("use one of: {}", expected.join(", ")),
    }
}

/// The closest candidate within an edit distance that still reads as a typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= typo_budget(c.len().max(word.len())))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// How many edits still read as a typo of a word this long: one for short words, so
/// that `base` does not suggest `name`.
fn typo_budget(len: usize) -> usize {
    if len <= 5 { 1 } else { (len / 3).max(2) }
}

/// Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`:
/// the optimal string alignment distance, so `nmae` is one edit from `name`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between the first i chars of `a` and the first j of `b`.
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j - 1] + cost).min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn typos_are_recognised() {
        assert_eq!(did_you_mean("nmae", ["name", "users"]), Some("name"));
        assert_eq!(did_you_mean("pakages", ["packages", "files"]), Some("packages"));
        assert_eq!(did_you_mean("zzz", ["packages", "files"]), None);
        assert_eq!(did_you_mean("debain", ["debian", "ubuntu"]), Some("debian"));
        assert_eq!(did_you_mean("base", ["name", "vars"]), None);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn comment_only_text_has_no_content() {
        assert!(!has_content("# only\n\n---\n  # more\n"));
        assert!(has_content("# c\nversion: 1\n"));
    }

    #[test]
    fn found_describes_the_node() {
        let text = "a: [1]\nb: {c: 1}\nd:\n  e: 1\nf: nginx\n";
        let at = |needle: &str, len: usize| {
            let start = text.find(needle).unwrap();
            Some(Span::new(FileId(0), start, start + len))
        };
        assert_eq!(found(text, at("[1]", 1)), "a list");
        assert_eq!(found(text, at("{c", 1)), "a mapping");
        assert_eq!(found(text, at("e: 1", 1)), "a mapping");
        assert_eq!(found(text, at("nginx", 5)), "`nginx`");
    }

    #[test]
    fn words_match_whole() {
        assert!(has_words("port 0 is out of range", "port"));
        assert!(has_words("`x` is not a port", "port"));
        assert!(!has_words("unsupported value", "port"));
    }

    #[test]
    fn earlier_duplicate_is_found_in_the_same_mapping() {
        let text = "users:\n  - name: a\n    shell: x\n  - name: b\n    name: c\n";
        let second = text.rfind("name: c").unwrap();
        assert_eq!(earlier_key_line(text, second, "name"), Some(4));
        let block = "host:\n  hostname: a\n  timezone: UTC\n  hostname: b\n";
        assert_eq!(
            earlier_key_line(block, block.rfind("hostname").unwrap(), "hostname"),
            Some(2)
        );
        let other = "a:\n  k: 1\nb:\n  k: 2\n";
        assert_eq!(earlier_key_line(other, other.rfind('k').unwrap(), "k"), None);
    }

    #[test]
    fn tab_errors_point_at_the_tab() {
        let text = "a:\n\tb: 1\n";
        let span = tab_span(text, Span::new(FileId(0), 4, 5));
        assert_eq!((span.start, span.end), (3, 4));
    }

    #[test]
    fn location_prefix_is_removed() {
        assert_eq!(
            strip_location("error: line 3 column 9: invalid u16"),
            "invalid u16"
        );
        assert_eq!(
            strip_location("unexpected end at line 1, column 1"),
            "unexpected end"
        );
    }
}
