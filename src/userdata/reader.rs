//! The walk over one input: cloud-init's `convert_string`, `_process_msg` and
//! `_attach_part`, then the order in which its handlers walk the result.

use std::ops::Range;

use crate::source::Sources;
use crate::source::yaml11::{self, NodeKind};

use super::archive::{self, Outcome};
use super::codec::{self, py_strip};
use super::detect::{self, detect};
use super::gzip::{self, GzipError};
use super::mime::{self, Body, Message};
use super::params::stored_filename;
use super::{ContentType, Error, Finding, FindingKind, Layer, MAX_DECOMPRESSED, Part, UserData};

pub(crate) const NOT_MULTIPART: &str = "text/x-not-multipart";

/// Content types cloud-init decompresses.
const GZIP_TYPES: [&str; 8] = [
    "application/gzip",
    "application/gzip-compressed",
    "application/gzipped",
    "application/x-compress",
    "application/x-compressed",
    "application/x-gunzip",
    "application/x-gzip",
    "application/x-gzip-compressed",
];

/// Declared types cloud-init replaces with the one the content's start gives.
const RETYPED: [&str; 3] = ["text/plain", NOT_MULTIPART, "text/x-shellscript"];

/// How a part is in cloud-init's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Attached: handlers get it.
    Kept,
    /// An include part: replaced by what its URLs return.
    Include,
    /// Inside a `message/*` part that was attached whole: handlers get it again.
    Repeat,
}

/// A part cloud-init processes, before typing (`_process_msg`'s loop body).
struct Leaf {
    /// The declared type (`get_content_type()`).
    mime: String,
    /// The text cloud-init types, and reads includes and archives from.
    text: Vec<u8>,
    /// What handlers get (differs from `text` when the `email` package mangles it).
    body: Vec<u8>,
    mangled: bool,
    /// `get_filename()`, and the `Content-Disposition` name alone (what remains if the
    /// type changes).
    filename: Option<String>,
    disposition_filename: Option<String>,
    headers: Vec<(String, String)>,
}

pub(crate) struct Reader<'a> {
    name: &'a str,
    budget: usize,
    kept: usize,
    parts: Vec<(Part, Role)>,
    findings: Vec<Finding>,
    /// The type of the last part kept from a message, which cloud-init also writes
    /// into the whole message's `Content-Type`.
    last_kept_type: Option<String>,
}

impl<'a> Reader<'a> {
    pub fn new(name: &'a str) -> Self {
        Reader {
            name,
            budget: MAX_DECOMPRESSED,
            kept: 0,
            parts: Vec::new(),
            findings: Vec::new(),
            last_kept_type: None,
        }
    }

    /// Whether what was read is a single part of unknown text straight from the input
    /// (after a whole-input base64 layer at most).
    pub fn is_unknown_text(&self) -> bool {
        matches!(self.parts.as_slice(), [(p, _)] if p.content_type == ContentType::Unknown
            && p.layers.iter().all(|l| *l == Layer::Base64))
    }

    /// The result. Repeated parts without a name get the one the handlers' walk gives
    /// them: `part-NNN` by their position (from 0) among the parts walked.
    pub fn finish(self) -> UserData {
        let mut walked = 0;
        let mut parts = Vec::with_capacity(self.parts.len());
        for (mut part, role) in self.parts {
            if role != Role::Include {
                if part.filename.as_deref().is_none_or(str::is_empty) {
                    part.filename = Some(format!("part-{walked:03}"));
                }
                walked += 1;
            }
            parts.push(part);
        }
        UserData {
            parts,
            findings: self.findings,
        }
    }

    fn find(&mut self, layers: &[Layer], kind: FindingKind) {
        self.findings.push(Finding {
            path: self.path(layers),
            kind,
        });
    }

    /// `name (part 2.1, entry 3: file)`.
    fn path(&self, layers: &[Layer]) -> String {
        let mut numbers = Vec::new();
        let mut entry = None;
        let mut filename = None;
        for layer in layers {
            match layer {
                Layer::Mime { index, filename: f } => {
                    numbers.push(index.to_string());
                    filename = f.as_deref();
                }
                Layer::Archive { index, filename: f } => {
                    entry = Some(*index);
                    filename = f.as_deref();
                }
                _ => {}
            }
        }
        let mut place = Vec::new();
        if !numbers.is_empty() {
            place.push(format!("part {}", numbers.join(".")));
        }
        if let Some(index) = entry {
            place.push(format!("entry {index}"));
        }
        if place.is_empty() {
            return self.name.to_string();
        }
        let file = filename
            .filter(|f| !f.is_empty())
            .map(|f| format!(": {f}"))
            .unwrap_or_default();
        format!("{} ({}{file})", self.name, place.join(", "))
    }

    /// Decompresses within the budget: `Ok(Err(reason))` when it is not gzip.
    fn gunzip(&mut self, data: &[u8]) -> Result<Result<Vec<u8>, &'static str>, Error> {
        match gzip::decompress(data, self.budget) {
            Ok(out) => {
                self.budget -= out.len();
                Ok(Ok(out))
            }
            Err(GzipError::TooLarge) => Err(Error::TooLarge {
                limit: MAX_DECOMPRESSED,
            }),
            Err(GzipError::Invalid(reason)) => Ok(Err(reason)),
        }
    }

    /// `convert_string` then `_process_msg`: the whole input.
    pub fn input(&mut self, bytes: &[u8], mut layers: Vec<Layer>) -> Result<(), Error> {
        let mut data = bytes.to_vec();
        if gzip::has_magic(bytes) {
            match self.gunzip(bytes)? {
                Ok(out) => {
                    data = out;
                    layers.push(Layer::Gzip);
                }
                Err(reason) => self.find(&layers, FindingKind::CorruptGzip { reason }),
            }
        }
        let head = data[..data.len().min(4096)].to_ascii_lowercase();
        if head.windows(13).any(|w| w == b"mime-version:") {
            let Ok(text) = std::str::from_utf8(&data) else {
                self.find(&layers, FindingKind::MimeNotUtf8);
                return Ok(());
            };
            let message = mime::parse(text).map_err(|_| Error::TooDeep {
                limit: mime::MAX_DEPTH,
            })?;
            let first = self.parts.len();
            self.walk(&message, &layers, true)?;
            // A root that is a `message/*` part was kept first; each part kept after it
            // rewrote its type.
            let root_kept = message.content_type().starts_with("message/");
            if let (true, Some(mime), Some((root, _))) =
                (root_kept, self.last_kept_type.take(), self.parts.get_mut(first))
            {
                root.content_type = ContentType::from_mime(&mime);
                root.mime_type = mime;
            }
            return Ok(());
        }
        let leaf = Leaf {
            mime: NOT_MULTIPART.to_string(),
            text: data.clone(),
            body: data,
            mangled: false,
            filename: None,
            disposition_filename: None,
            headers: Vec::new(),
        };
        self.leaf(leaf, layers).map(drop)
    }

    /// `Message.walk()`: multiparts are containers; every other part is processed, and
    /// a `message/*` part's message is walked after it. Returns the parts of this
    /// subtree as they are left once processed (which is what handlers see when they
    /// walk a `message/*` part that cloud-init attached whole).
    fn walk(&mut self, msg: &Message, layers: &[Layer], root: bool) -> Result<Vec<Part>, Error> {
        let is_multipart = msg.content_type().starts_with("multipart/");
        let mut states = Vec::new();
        if !is_multipart {
            states.extend(self.mime_leaf(msg, layers, root)?);
        }
        let children = match &msg.body {
            Body::Parts(children) => children,
            Body::Text(_) if is_multipart => {
                self.find(layers, FindingKind::EmptyMultipart);
                return Ok(states);
            }
            Body::Text(_) => return Ok(states),
        };
        let at = self.parts.len();
        let mut inner_states = Vec::new();
        for (i, child) in children.iter().enumerate() {
            let mut inner = layers.to_vec();
            inner.push(Layer::Mime {
                index: i + 1,
                filename: child.filename(),
            });
            inner_states.extend(self.walk(child, &inner, false)?);
        }
        if !is_multipart && !inner_states.is_empty() {
            // cloud-init attached the message part with its message inside: walking
            // it, the handlers meet that message's parts right after it, and again
            // where they were attached themselves.
            self.find(layers, FindingKind::MessagePartsRepeated);
            let repeats = inner_states.iter().cloned().map(|p| (p, Role::Repeat));
            self.parts.splice(at..at, repeats);
        }
        states.extend(inner_states);
        Ok(states)
    }

    /// One MIME part: transfer decoding, and gzip for a gzip type. Returns the part as
    /// left in the message tree, unless cloud-init fails on it. `root`: the part is the
    /// whole message, whose `Content-Type` cloud-init rewrites (without parameters, so
    /// without `name`) before keeping it.
    fn mime_leaf(&mut self, msg: &Message, layers: &[Layer], root: bool) -> Result<Option<Part>, Error> {
        let mut layers = layers.to_vec();
        match msg.transfer_encoding().as_str() {
            "base64" => layers.push(Layer::Base64),
            "quoted-printable" => layers.push(Layer::QuotedPrintable),
            _ => {}
        }
        let mangled = matches!(&msg.body, Body::Text(t) if !t.is_ascii());
        let decoded = msg.decoded_body().unwrap_or_default();
        let mime = msg.content_type();
        let headers = plain_headers(&msg.headers);
        if !GZIP_TYPES.contains(&mime.as_str()) {
            let disposition_filename = msg.disposition_filename();
            let leaf = Leaf {
                mime,
                text: decoded.clone(),
                body: decoded,
                mangled,
                filename: if root {
                    disposition_filename.clone()
                } else {
                    msg.filename()
                },
                disposition_filename,
                headers,
            };
            return self.leaf(leaf, layers).map(Some);
        }
        // The compressed part stays in the tree as it was; a new part replaces it.
        let original = Part {
            path: self.path(&layers),
            content_type: ContentType::Unknown,
            mime_type: mime,
            filename: msg.filename(),
            body: decoded.clone(),
            layers: layers.clone(),
            header: None,
            headers,
            includes: Vec::new(),
            inner: None,
        };
        let text = match self.gunzip(&decoded)? {
            Ok(out) => String::from_utf8(out).map_err(|_| "not UTF-8"),
            Err(reason) => Err(reason),
        };
        let text = match text {
            Ok(text) => text,
            Err(reason) => {
                self.find(&layers, FindingKind::GzipPartFailed { reason });
                return Ok(None);
            }
        };
        layers.push(Layer::Gzip);
        // Only the file name and Launch-Index survive, and the new part hands its text
        // over through `raw-unicode-escape`.
        let filename = msg.filename().map(|f| stored_filename(&f));
        let headers = msg
            .header("launch-index")
            .map(|v| vec![("Launch-Index".to_string(), v.to_string())])
            .unwrap_or_default();
        let leaf = Leaf {
            mime: "text/plain".to_string(),
            mangled: !text.is_ascii(),
            body: codec::raw_unicode_escape(&text),
            text: text.into_bytes(),
            disposition_filename: filename.clone(),
            filename,
            headers,
        };
        self.leaf(leaf, layers)?;
        Ok(Some(original))
    }

    /// Types a part and keeps it, or expands it (include, archive). Returns the part as
    /// left in the message tree.
    fn leaf(&mut self, leaf: Leaf, layers: Vec<Layer>) -> Result<Part, Error> {
        let detected = if RETYPED.contains(&leaf.mime.as_str()) {
            detect(&leaf.text).map(|(kind, _)| kind.mime())
        } else {
            None
        };
        let mime = detected.map_or_else(|| leaf.mime.clone(), str::to_string);
        let filename = if mime == leaf.mime {
            leaf.filename
        } else {
            leaf.disposition_filename
        };
        if leaf.mangled {
            self.find(&layers, FindingKind::NonAsciiMangled);
        }
        let kind = ContentType::from_mime(&mime);
        let mut part = Part {
            path: self.path(&layers),
            content_type: kind,
            mime_type: mime,
            filename: filename.filter(|f| !f.is_empty()),
            header: header_of(&leaf.body, kind, detected.is_some()),
            body: leaf.body,
            layers,
            headers: leaf.headers,
            includes: Vec::new(),
            inner: None,
        };
        match kind {
            ContentType::IncludeUrl | ContentType::IncludeOnceUrl => {
                let (includes, once_undecodable) = detect::include_urls(&leaf.text);
                if once_undecodable {
                    self.find(&part.layers, FindingKind::IncludeOnceUrlUndecodable);
                }
                let include = Part {
                    filename: None,
                    includes,
                    ..part.clone()
                };
                self.parts.push((include, Role::Include));
                Ok(part)
            }
            ContentType::CloudConfigArchive => {
                self.archive(&leaf.text, &part.layers);
                Ok(part)
            }
            _ => {
                if part.mime_type == NOT_MULTIPART && is_spec(&part.body) {
                    part.content_type = ContentType::Spec;
                }
                self.last_kept_type = Some(part.mime_type.clone());
                Ok(self.keep(part))
            }
        }
    }

    /// Attaches a part as cloud-init does (`_process_before_attach`): named if it has
    /// no name, and given a `Launch-Index` header when it has an index. Returns it.
    fn keep(&mut self, mut part: Part) -> Part {
        self.kept += 1;
        if part.filename.is_none() {
            part.filename = Some(format!("part-{:03}", self.kept));
        }
        if let Some(index) = launch_index(&part) {
            part.headers.push(("Launch-Index".to_string(), index));
        }
        if part.content_type == ContentType::Jinja {
            match part.template() {
                Some(template) => part.inner = detect(template).map(|(k, _)| k),
                None => self.find(&part.layers, FindingKind::JinjaHeaderRejected),
            }
        }
        self.parts.push((part.clone(), Role::Kept));
        part
    }

    fn archive(&mut self, text: &[u8], layers: &[Layer]) {
        let outcomes = match archive::expand(text) {
            Ok(outcomes) => outcomes,
            Err(reason) => {
                self.find(layers, FindingKind::ArchiveUnreadable { reason });
                return;
            }
        };
        for outcome in outcomes {
            let (index, filename, problem) = match &outcome {
                Outcome::Part(entry) => (entry.index, entry.filename.clone(), None),
                Outcome::Skipped(i) => (*i, None, Some(FindingKind::ArchiveEntrySkipped)),
                Outcome::Fails(i, reason) => (
                    *i,
                    None,
                    Some(FindingKind::ArchiveEntryFails {
                        reason: reason.clone(),
                    }),
                ),
            };
            let mut inner = layers.to_vec();
            inner.push(Layer::Archive { index, filename });
            if let Some(kind) = problem {
                self.find(&inner, kind);
                continue;
            }
            let Outcome::Part(entry) = outcome else { continue };
            if entry.mangled {
                self.find(&inner, FindingKind::NonAsciiMangled);
            }
            if entry.not_text {
                self.find(&inner, FindingKind::ArchiveEntryNotText);
            }
            let kind = ContentType::from_mime(&entry.mime);
            let part = Part {
                path: self.path(&inner),
                content_type: kind,
                header: header_of(&entry.body, kind, entry.detected),
                mime_type: entry.mime,
                filename: entry.filename,
                body: entry.body,
                layers: inner,
                headers: plain_headers(&entry.headers),
                includes: Vec::new(),
                inner: None,
            };
            self.keep(part);
        }
    }
}

/// The deciding line of `body`, when the type came from the content.
fn header_of(body: &[u8], kind: ContentType, from_content: bool) -> Option<Range<usize>> {
    if !from_content {
        return None;
    }
    detect(body).filter(|(k, _)| *k == kind).map(|(_, range)| range)
}

/// Headers other than the four structural ones.
fn plain_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    const STRUCTURAL: [&str; 4] = [
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "mime-version",
    ];
    headers
        .iter()
        .filter(|(n, _)| !STRUCTURAL.iter().any(|s| n.eq_ignore_ascii_case(s)))
        .cloned()
        .collect()
}

/// The `Launch-Index` header cloud-init adds when attaching a part: Python's
/// `str(int(...))` of the part's own `Launch-Index` header, or for a cloud-config part
/// without one, of its top-level `launch-index` key. `None` when there is neither or
/// `int()` refuses the value.
fn launch_index(part: &Part) -> Option<String> {
    let header = part
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("launch-index"));
    if let Some((_, value)) = header {
        return python_int(value);
    }
    if part.mime_type != "text/cloud-config" {
        return None;
    }
    let text = std::str::from_utf8(&part.body).ok()?;
    let mut sources = Sources::new();
    let id = sources.add("part", text);
    let NodeKind::Map(pairs) = yaml11::load(&sources, id).ok()?.root.kind else {
        return None;
    };
    let (_, value) = pairs
        .iter()
        .find(|(k, _)| matches!(&k.kind, NodeKind::Str(s) if s == "launch-index"))?;
    match &value.kind {
        NodeKind::Int(i) => Some(i.to_string()),
        NodeKind::BigInt(digits) => Some(digits.clone()),
        NodeKind::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
        NodeKind::Float(f) if f.is_finite() => {
            let text = format!("{:.0}", f.trunc());
            Some(if text == "-0" { "0".to_string() } else { text })
        }
        NodeKind::Str(s) => python_int(s),
        _ => None,
    }
}

/// Python's `str(int(text))` for ASCII digits: surrounding whitespace, a sign, and
/// single underscores between digits are allowed.
fn python_int(text: &str) -> Option<String> {
    let text = py_strip(text);
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !well_formed {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let value = clean.trim_start_matches('0');
    Some(match (value.is_empty(), negative) {
        (true, _) => "0".to_string(),
        (false, true) => format!("-{value}"),
        (false, false) => value.to_string(),
    })
}

/// A YAML mapping with top-level `version` and `name`: a ctxgen spec.
fn is_spec(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let mut sources = Sources::new();
    let id = sources.add("spec", text);
    let Ok(loaded) = yaml11::load(&sources, id) else {
        return false;
    };
    let NodeKind::Map(pairs) = loaded.root.kind else {
        return false;
    };
    let has = |key: &str| {
        pairs
            .iter()
            .any(|(k, _)| matches!(&k.kind, NodeKind::Str(s) if s == key))
    };
    has("version") && has("name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_accepts_what_int_accepts() {
        assert_eq!(python_int(" +007 ").as_deref(), Some("7"));
        assert_eq!(python_int("-0").as_deref(), Some("0"));
        assert_eq!(python_int("1_000").as_deref(), Some("1000"));
        assert_eq!(python_int("-12").as_deref(), Some("-12"));
        for bad in ["", "1__0", "_1", "0x1", "1.0", "one"] {
            assert_eq!(python_int(bad), None, "{bad}");
        }
    }
}
