//! The lint rules, one a file. `all()` lists them in code order.
//!
//! Besides the registry, this module holds what several rules need: reading a
//! cloud-config tree the way cloud-init reads it (users with hyphenated keys, the
//! content of a `write_files` entry once its encoding is undone, Python's and
//! cloud-init's truth tests), naming parts, and building findings. Nothing here
//! prints or registers sources; nothing here puts a value into a message.

use std::borrow::Cow;
use std::io::Read;

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, PAD_INDIFFERENT};

use super::{Finding, PartInfo, Rule, RuleMeta};
use crate::cloud_config::validate::Seg;
use crate::source::yaml11::{Node, NodeKind};
use crate::source::{Sources, Span};

pub mod command_item_type;
pub mod credential_in_user_data;
pub mod host_private_key;
pub mod insecure_download;
pub mod multipart_key_replaced;
pub mod password_unlocked;
pub mod permissions_format;
pub mod plaintext_password;
pub mod root_login_allowed;
pub mod secret_file_mode;
pub mod shell_interpolation;
pub mod size_over_budget;
pub mod ssh_password_auth;
pub mod weak_authorized_key;

/// Every rule, in code order.
static ALL: [&dyn Rule; 14] = [
    &credential_in_user_data::RULE,
    &plaintext_password::RULE,
    &ssh_password_auth::RULE,
    &root_login_allowed::RULE,
    &password_unlocked::RULE,
    &secret_file_mode::RULE,
    &permissions_format::RULE,
    &command_item_type::RULE,
    &shell_interpolation::RULE,
    &insecure_download::RULE,
    &host_private_key::RULE,
    &weak_authorized_key::RULE,
    &multipart_key_replaced::RULE,
    &size_over_budget::RULE,
];

/// Every rule, in code order.
pub fn all() -> &'static [&'static dyn Rule] {
    &ALL
}

/// A finding of the rule described by `meta`.
pub(crate) fn finding(
    meta: &RuleMeta,
    message: String,
    span: Span,
    path: Vec<Seg>,
    hint: Option<String>,
) -> Finding {
    Finding {
        code: meta.code,
        message,
        span,
        path,
        hint,
    }
}

/// A path segment for a mapping key.
pub(crate) fn key(name: &str) -> Seg {
    Seg::Key(name.to_string())
}

/// `base` with `more` appended.
pub(crate) fn join(base: &[Seg], more: impl IntoIterator<Item = Seg>) -> Vec<Seg> {
    let mut path = base.to_vec();
    path.extend(more);
    path
}

/// The text of a string node.
/// A list command's words joined with blanks, remembering where each word starts, so
/// that what a scan finds in the line can be traced back to its word.
pub(crate) struct Joined {
    pub line: String,
    starts: Vec<usize>,
}

impl Joined {
    pub fn new(words: &[Node]) -> Joined {
        let mut line = String::new();
        let mut starts = Vec::new();
        for word in words {
            starts.push(line.len());
            line.push_str(str_of(word).unwrap_or(""));
            line.push(' ');
        }
        Joined { line, starts }
    }

    /// The index of the word that holds byte `offset` of the line.
    pub fn word_at(&self, offset: usize) -> usize {
        self.starts.partition_point(|s| *s <= offset).saturating_sub(1)
    }
}

pub(crate) fn str_of(node: &Node) -> Option<&str> {
    match &node.kind {
        NodeKind::Str(s) => Some(s),
        _ => None,
    }
}

/// The entries of a mapping; none for anything else.
pub(crate) fn entries(node: &Node) -> &[(Node, Node)] {
    match &node.kind {
        NodeKind::Map(entries) => entries,
        _ => &[],
    }
}

/// The items of a list; none for anything else.
pub(crate) fn items(node: &Node) -> &[Node] {
    match &node.kind {
        NodeKind::Seq(items) => items,
        _ => &[],
    }
}

/// The key and value of `map` under the string key `name`.
pub(crate) fn entry<'a>(map: &'a Node, name: &str) -> Option<(&'a Node, &'a Node)> {
    entries(map)
        .iter()
        .find(|(k, _)| str_of(k) == Some(name))
        .map(|(k, v)| (k, v))
}

/// The value of `map` under the string key `name`.
pub(crate) fn get<'a>(map: &'a Node, name: &str) -> Option<&'a Node> {
    entry(map, name).map(|(_, v)| v)
}

/// The span of `token` inside the scalar at `span`, where the scalar's source holds it
/// as is (no escapes or folding in between); else the whole scalar. Credential rules
/// use it so that a renderer can mask exactly the credential.
pub(crate) fn narrow(sources: &Sources, span: Span, token: &str) -> Span {
    let found = sources
        .get(span.file)
        .and_then(|f| f.text.get(span.start..span.end))
        .and_then(|source| source.find(token));
    match found {
        Some(at) if !token.is_empty() => Span::new(span.file, span.start + at, span.start + at + token.len()),
        _ => span,
    }
}

/// What kind of value YAML 1.1 made of a node, for messages ("an integer").
pub(crate) fn kind_name(node: &Node) -> &'static str {
    match &node.kind {
        NodeKind::Null => "null (an empty value)",
        NodeKind::Bool(_) => "a boolean",
        NodeKind::Int(_) | NodeKind::BigInt(_) => "an integer",
        NodeKind::Float(_) => "a float",
        NodeKind::Str(_) => "a string",
        NodeKind::Timestamp(_) => "a date",
        NodeKind::Binary(_) => "binary data",
        NodeKind::Seq(_) => "a list",
        NodeKind::Map(_) => "a mapping",
        NodeKind::Set(_) => "a set",
        NodeKind::Pairs(_) => "a list of pairs",
    }
}

/// Python's truth test (`bool(value)`) of what YAML 1.1 made of a node.
pub(crate) fn python_truthy(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Null => false,
        NodeKind::Bool(b) => *b,
        NodeKind::Int(i) => *i != 0,
        NodeKind::BigInt(_) | NodeKind::Timestamp(_) => true,
        NodeKind::Float(f) => *f != 0.0,
        NodeKind::Str(s) => !s.is_empty(),
        NodeKind::Binary(b) => !b.is_empty(),
        NodeKind::Seq(v) | NodeKind::Set(v) => !v.is_empty(),
        NodeKind::Map(m) | NodeKind::Pairs(m) => !m.is_empty(),
    }
}

/// cloud-init's `util.is_true`: a boolean as it is, anything else by its `str()`
/// lower-cased and stripped being `true`, `1`, `on` or `yes`.
pub(crate) fn cloud_init_is_true(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Bool(b) => *b,
        NodeKind::Int(i) => *i == 1,
        NodeKind::Str(s) => matches!(s.trim().to_lowercase().as_str(), "true" | "1" | "on" | "yes"),
        _ => false,
    }
}

/// cloud-init's `util.translate_bool` (behind `get_cfg_option_bool`): a falsy value is
/// false, a boolean is itself, anything else is [`cloud_init_is_true`].
pub(crate) fn cloud_init_bool(node: &Node) -> bool {
    python_truthy(node) && cloud_init_is_true(node)
}

/// One user's configuration mapping and where it is.
pub(crate) struct User<'a> {
    pub path: Vec<Seg>,
    pub map: &'a Node,
}

/// The users cloud-init creates or configures from a document: the mapping items of
/// `users` (a list, or a mapping of name to settings) and the `user` mapping (the
/// default user's settings).
pub(crate) fn users(root: &Node) -> Vec<User<'_>> {
    let mut out = Vec::new();
    if let Some(user) = get(root, "user")
        && matches!(user.kind, NodeKind::Map(_))
    {
        out.push(User {
            path: vec![key("user")],
            map: user,
        });
    }
    match get(root, "users").map(|n| &n.kind) {
        Some(NodeKind::Seq(list)) => {
            for (i, item) in list.iter().enumerate() {
                if matches!(item.kind, NodeKind::Map(_)) {
                    out.push(User {
                        path: vec![key("users"), Seg::Index(i)],
                        map: item,
                    });
                }
            }
        }
        Some(NodeKind::Map(by_name)) => {
            for (name, settings) in by_name {
                if let (Some(name), NodeKind::Map(_)) = (str_of(name), &settings.kind) {
                    out.push(User {
                        path: vec![key("users"), key(name)],
                        map: settings,
                    });
                }
            }
        }
        _ => {}
    }
    out
}

/// A user's setting as cloud-init reads it: `-` in a key counts as `_` (so
/// `lock-passwd` is `lock_passwd`), and of two spellings the later one wins. Returns
/// the key as written and the value.
pub(crate) fn user_field<'a>(user: &'a Node, name: &str) -> Option<(&'a Node, &'a Node)> {
    entries(user)
        .iter()
        .rev()
        .find(|(k, _)| str_of(k).is_some_and(|k| k.replace('-', "_").trim() == name))
        .map(|(k, v)| (k, v))
}

/// The key of a mapping entry as a path segment (its text for a key that is not a
/// string).
pub(crate) fn key_seg(k: &Node) -> Seg {
    match (&k.kind, &k.scalar) {
        (NodeKind::Str(s), _) => Seg::Key(s.clone()),
        (_, Some(scalar)) => Seg::Key(scalar.text.clone()),
        _ => Seg::Key(String::new()),
    }
}

/// How a part is named in messages: "part 2 (setup.sh)", or "the user-data" for an
/// input that is a single part.
pub(crate) fn part_label(part: &PartInfo) -> String {
    match (part.index, &part.filename) {
        (0, _) => "the user-data".to_string(),
        (i, Some(name)) => format!("part {i} ({name})"),
        (i, None) => format!("part {i}"),
    }
}

/// The content of a `write_files` entry as cloud-init writes it.
pub(crate) struct FileContent<'a> {
    /// The text (decoded bytes are read as UTF-8, invalid sequences replaced).
    pub text: Cow<'a, str>,
    /// The encoding that was undone to get it, as cloud-init names it (`b64`,
    /// `gz+b64`, `gz`, `!!binary`); `None` for plain text.
    pub encoding: Option<&'static str>,
}

/// The most bytes [`file_content`] decompresses; the rest of a larger file is not
/// looked at.
const MAX_DECODED: u64 = 8 << 20;

/// The content of `write_files` entry `entry`, with its `encoding` undone as
/// cloud-init's `canonicalize_extraction` and `extract_contents` undo it. `None` when
/// there is no content, or the encoding does not decode (cloud-init fails on it).
pub(crate) fn file_content(entry: &Node) -> Option<FileContent<'_>> {
    let content = get(entry, "content")?;
    let encoding = get(entry, "encoding")
        .and_then(str_of)
        .map(|e| e.trim().to_lowercase())
        .unwrap_or_default();
    let (gzip, b64) = match encoding.as_str() {
        "gz" | "gzip" => (true, false),
        "gz+base64" | "gzip+base64" | "gz+b64" | "gzip+b64" => (true, true),
        "b64" | "base64" => (false, true),
        _ => (false, false),
    };
    let bytes: Cow<'_, [u8]> = match &content.kind {
        NodeKind::Str(s) if !gzip && !b64 => {
            return Some(FileContent {
                text: Cow::Borrowed(s),
                encoding: None,
            });
        }
        NodeKind::Str(s) => Cow::Borrowed(s.as_bytes()),
        NodeKind::Binary(b) => Cow::Borrowed(b),
        _ => return None,
    };
    let binary = matches!(content.kind, NodeKind::Binary(_));
    let mut bytes = bytes.into_owned();
    if b64 {
        bytes = python_b64decode(&bytes)?;
    }
    if gzip {
        bytes = gunzip(&bytes)?;
    }
    let name = match (gzip, b64) {
        (true, true) => "gz+b64",
        (true, false) => "gz",
        (false, true) => "b64",
        (false, false) if binary => "!!binary",
        (false, false) => return None,
    };
    Some(FileContent {
        text: Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        encoding: Some(name),
    })
}

/// Python's `base64.b64decode` without `validate`: characters outside the alphabet
/// are skipped, padding may be missing, stray bits at the end are ignored.
pub(crate) fn python_b64decode(input: &[u8]) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        PAD_INDIFFERENT.with_decode_allow_trailing_bits(true),
    );
    let clean: Vec<u8> = input
        .iter()
        .copied()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
        .collect();
    LENIENT.decode(clean).ok()
}

/// Gzip-decompressed bytes (at most [`MAX_DECODED`]).
fn gunzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_DECODED)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// The commands of `runcmd` and `bootcmd`: each item with its path.
pub(crate) fn command_items(root: &Node) -> Vec<(Vec<Seg>, &Node)> {
    let mut out = Vec::new();
    for module in ["bootcmd", "runcmd"] {
        if let Some(list) = get(root, module) {
            for (i, item) in items(list).iter().enumerate() {
                out.push((vec![key(module), Seg::Index(i)], item));
            }
        }
    }
    out
}

/// Test helpers: run a rule on YAML or text the way `check` hands it over.
#[cfg(test)]
pub(crate) mod testing {
    use super::super::{Doc, Finding, PartInfo, Rule, Text};
    use crate::cloud_config::Release;
    use crate::source::Sources;
    use crate::source::yaml11;

    /// The findings of `rule` on one cloud-config document.
    pub fn doc(rule: &dyn Rule, yaml: &str) -> Vec<Finding> {
        let mut sources = Sources::new();
        let file = sources.add("user-data", yaml);
        let loaded = yaml11::load(&sources, file).expect("test YAML loads");
        let part = PartInfo {
            index: 0,
            filename: None,
            content_type: "text/cloud-config".to_string(),
        };
        let doc = Doc {
            sources: &sources,
            file,
            root: &loaded.root,
            part: &part,
            release: Release::NEWEST,
        };
        let mut out = Vec::new();
        rule.doc(&doc, &mut out);
        out
    }

    /// The findings of `rule` on one script part.
    pub fn text(rule: &dyn Rule, text: &str) -> Vec<Finding> {
        let mut sources = Sources::new();
        let file = sources.add("setup.sh", text);
        let part = PartInfo {
            index: 2,
            filename: Some("setup.sh".to_string()),
            content_type: "text/x-shellscript".to_string(),
        };
        let t = Text {
            sources: &sources,
            file,
            text,
            part: &part,
        };
        let mut out = Vec::new();
        rule.text(&t, &mut out);
        out
    }

    /// The text a span covers.
    pub fn spanned<'a>(source: &'a str, f: &Finding) -> &'a str {
        &source[f.span.start..f.span.end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_well_formed_and_in_order() {
        let rules = all();
        for (i, rule) in rules.iter().enumerate() {
            let m = rule.meta();
            assert_eq!(m.code, format!("CL{:03}", i + 1), "code order");
            assert!(
                !m.name.is_empty()
                    && m.name
                        .split('-')
                        .all(|w| !w.is_empty()
                            && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
                "{} is not kebab-case",
                m.name
            );
            for text in [m.summary, m.why, m.example, m.instead] {
                assert!(!text.trim().is_empty(), "{} has empty documentation", m.name);
            }
            assert!(
                rules[..i].iter().all(|r| r.meta().name != m.name),
                "{} twice",
                m.name
            );
            let found = crate::lint::find(m.name).map(|r| r.meta().code);
            assert_eq!(found, Some(m.code));
            assert_eq!(
                crate::lint::find(&m.code.to_lowercase()).map(|r| r.meta().name),
                Some(m.name)
            );
        }
    }

    #[test]
    fn every_rule_has_fixtures_on_disk() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
        for rule in all() {
            let name = rule.meta().name;
            let dir = root.join(name);
            let files: Vec<String> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            assert!(
                files.iter().any(|f| f.starts_with("bad-")),
                "{name} has no bad-* fixture"
            );
            assert!(
                files.iter().any(|f| f.starts_with("good-")),
                "{name} has no good-* fixture"
            );
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        let texts = [
            "",
            "\u{feff}é-----BEGIN PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\\n",
            "curl -u",
            "curl -u 'a:",
            "wget --password=\"",
            "http://",
            "OS_PASSWORD=",
            "eyJ.eyJ.x eyJhbGciOiJIUzI1NiJ9.é.x",
            "ghp_ \u{1F600}AKIA",
            "a://:@[",
            "\\\n\\",
            "$(",
            "`",
            "'\"'\"",
            "\"auths\" \"auth\": \"=====\"",
        ];
        for rule in all() {
            for text in texts {
                let _ = testing::text(*rule, text);
                let q = serde_json::to_string(text).unwrap_or_default();
                let yaml = format!(
                    "runcmd: [{q}, [{q}]]\nwrite_files: [{{path: {q}, content: {q}, encoding: b64}}, {{path: {q}, content: {q}}}]\nusers: [{{name: {q}, passwd: {q}}}]\n{q}: {q}\n"
                );
                let _ = testing::doc(*rule, &yaml);
            }
        }
    }

    #[test]
    fn truth_tests_follow_python_and_cloud_init() {
        let root = crate::source::yaml11::load(
            &{
                let mut s = crate::source::Sources::new();
                s.add("t", "[yes, 'Yes ', '1', 1, 0, '', 'no', ~, 'off', on]");
                s
            },
            crate::source::FileId::default(),
        )
        .unwrap()
        .root;
        let truthy: Vec<bool> = items(&root).iter().map(python_truthy).collect();
        assert_eq!(
            truthy,
            [true, true, true, true, false, false, true, false, true, true]
        );
        let cloud: Vec<bool> = items(&root).iter().map(cloud_init_bool).collect();
        assert_eq!(
            cloud,
            [true, true, true, true, false, false, false, false, false, true]
        );
    }

    #[test]
    fn write_files_content_is_decoded_like_cloud_init() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(b"zipped text").unwrap();
        let gz64 = b64.encode(gz.finish().unwrap());
        let plain64 = b64.encode("plain text");
        let yaml = format!(
            "- {{content: hello}}\n- {{content: '{plain64}', encoding: B64}}\n- {{content: \"{gz64}\", encoding: gzip+base64}}\n- {{content: !!binary '{plain64}'}}\n- {{content: '***', encoding: gz}}\n"
        );
        let mut s = crate::source::Sources::new();
        let id = s.add("t", yaml);
        let root = crate::source::yaml11::load(&s, id).unwrap().root;
        let got: Vec<Option<(String, Option<&str>)>> = items(&root)
            .iter()
            .map(|e| file_content(e).map(|c| (c.text.into_owned(), c.encoding)))
            .collect();
        assert_eq!(
            got,
            [
                Some(("hello".to_string(), None)),
                Some(("plain text".to_string(), Some("b64"))),
                Some(("zipped text".to_string(), Some("gz+b64"))),
                Some(("plain text".to_string(), Some("!!binary"))),
                None,
            ]
        );
    }
}
