//! Stage `userdata`, reading side (the writing side is [`mod@write`]): the bytes of one
//! user-data input in, the list of parts cloud-init would hand to its handlers out,
//! each with its content type, body, and how it was wrapped. `check` then loads and
//! checks each part.
//!
//! It never fetches (`#include` URLs are listed, not read), never prints, never reads
//! files, and knows nothing of what a cloud-config means.
//!
//! # cloud-init's rules (identical in 22.4, 25.1 and 26.2)
//!
//! `UserDataProcessor.process`, `handlers.type_from_starts_with` and the `email`
//! package, read in each release's sources; the three agree on everything below.
//!
//! 1. **Gzip**: the whole input is decompressed when it is gzip (checked by trying; a
//!    failure keeps the bytes as they are). Only once: gzip inside gzip stays binary.
//! 2. **MIME**: when `mime-version:` (any case) occurs in the first 4096 bytes, the
//!    input must be UTF-8 (else cloud-init raises) and is parsed as a message; only
//!    that header triggers it, `Content-Type:` alone does not. Otherwise the input is
//!    one part of type `text/x-not-multipart`.
//! 3. **Parts**: every non-multipart part, depth first (a `message/*` part is a part
//!    and also holds one). Its body is undone from `base64` or `quoted-printable`
//!    transfer encoding. A part of a gzip type (`application/gzip`, `x-gzip`,
//!    `x-compress`, ...) is decompressed and must give UTF-8, else cloud-init raises;
//!    it becomes `text/plain` and loses every header but its file name and
//!    `Launch-Index`.
//! 4. **Type from content** only for parts typed `text/plain`, `text/x-not-multipart`
//!    or `text/x-shellscript`: the text is lower-cased, stripped of leading whitespace
//!    (Python's: also U+001C..U+001F and U+00A0, not a byte-order mark), and matched
//!    against `#include-once`, `#include`, `#!`, `#cloud-config-archive`,
//!    `#cloud-config-jsonp`, `#cloud-config`, `#part-handler`, `#cloud-boothook`,
//!    `## template: jinja`, and the MIME-only names `text/x-shellscript-per-boot`,
//!    `-per-instance`, `-per-once` (longest first; a prefix needs no word boundary:
//!    `#cloud-configs` is cloud-config). No match keeps the declared type. A part whose
//!    type changes loses a `name=` given in its `Content-Type`.
//! 5. **Include** parts are replaced by what their URLs return; **archive** parts by
//!    their entries (see `archive.rs`); entries are not read further.
//! 6. **Kept parts**: named by `Content-Disposition` `filename`, else `Content-Type`
//!    `name`, else `part-001`, `part-002`... in the order cloud-init keeps them; given a
//!    second `Launch-Index` header, `str(int(...))` of the first one or, for
//!    cloud-config, of its `launch-index` key. A `message/*` part is kept with its
//!    message inside, so the handlers' walk meets that message's parts twice
//!    ([`FindingKind::MessagePartsRepeated`]).
//! 7. **Text**: handlers get text decoded as UTF-8 whatever the declared charset. The
//!    `email` package first turns non-ASCII text into Latin-1 bytes and `\uXXXX`
//!    escapes when it holds it as text: a MIME part sent without transfer encoding, the
//!    text of a gzip part, an archive entry of a non-text type
//!    ([`FindingKind::NonAsciiMangled`]).
//! 8. **Jinja**: the jinja handler renders only when the first line itself is
//!    `## template: jinja` (`##`, optional space, any case), and types the rendered
//!    text again with rule 4.
//! 9. **Quirks kept**: each part kept from a message rewrites the whole message's
//!    `Content-Type` (so a single-part message loses its `name=`, and a `message/*`
//!    root ends up typed like the last part kept); an `#include-once` URL with bytes
//!    that are not UTF-8 makes cloud-init fail; an `#include` line's comment must start
//!    the line.
//!
//! Handlers exist for cloud-config, jsonp, shell scripts (and the three per-frequency
//! kinds, added in 22.1), boothooks, jinja and part-handlers; upstart jobs lost theirs
//! in 22.2 (and `#upstart-job` was never a recognised first line in these releases).
//! Anything else is logged as unhandled and skipped.
//!
//! # Where ctxgen differs, deliberately
//!
//! - Whole-input **base64** is not cloud-init's: datasources decode it (EC2 from 23.3,
//!   Hetzner, Azure, GCE, OpenNebula, ...), each with its own rule. ctxgen decodes an
//!   input that is only base64 (line breaks allowed, strict padding) when what it
//!   decodes to is recognised (gzip, MIME, a known first line, a spec).
//! - Decompression stops with [`Error::TooLarge`] past [`MAX_DECOMPRESSED`] bytes in
//!   all; cloud-init has no bound. MIME nesting stops with [`Error::TooDeep`].
//! - `#include` URLs are never fetched; the include part stays in the list (with no
//!   file name), where cloud-init would put what the URLs return, which would also
//!   shift the `part-NNN` names of later parts.
//! - A **ctxgen spec** (YAML with top-level `version` and `name`, no known first line)
//!   is reported as [`ContentType::Spec`]; cloud-init sees unknown text.
//! - Not modelled: a valid `uuencode` transfer encoding (read as plain), RFC 2231
//!   charsets other than UTF-8, ASCII and Latin-1, the order of a `!!set` archive
//!   (Python's depends on string hashing; ctxgen keeps document order), archive file
//!   names that are collections (rendered as JSON, not Python's `repr`), and a
//!   cloud-config `launch-index: .inf` (which makes cloud-init fail).
//! - Python's `email` package changes between versions; the rules above are those of
//!   CPython 3.11, which the oracle tests run all three releases on (Debian runs 25.1
//!   and 26.2 on Python 3.13).

mod archive;
mod codec;
mod detect;
mod gzip;
mod mime;
mod params;
mod reader;
pub mod write;

use std::fmt;
use std::ops::Range;

use crate::diag::Severity;

pub use detect::{IncludeUrl, detect};

use reader::{NOT_MULTIPART, Reader};

/// The most bytes all gzip layers of one input may decompress to.
pub const MAX_DECOMPRESSED: usize = 64 << 20;

/// What a part is, as far as cloud-init's handlers are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// `#cloud-config`, `text/cloud-config`.
    CloudConfig,
    /// `#cloud-config-jsonp`: a JSON patch applied to the merged cloud-config.
    CloudConfigJsonp,
    /// `#cloud-config-archive`: only seen as an entry of another archive (cloud-init
    /// does not expand those, and has no handler for it).
    CloudConfigArchive,
    /// `#!`, `text/x-shellscript`: run once per instance.
    ShellScript,
    /// `text/x-shellscript-per-boot` (MIME type only, since 22.1).
    ShellScriptPerBoot,
    /// `text/x-shellscript-per-instance` (MIME type only, since 22.1).
    ShellScriptPerInstance,
    /// `text/x-shellscript-per-once` (MIME type only, since 22.1).
    ShellScriptPerOnce,
    /// `#cloud-boothook`: run early on every boot.
    CloudBoothook,
    /// `#part-handler`: Python code that handles further types.
    PartHandler,
    /// `#include`: URLs fetched on every boot.
    IncludeUrl,
    /// `#include-once`: URLs fetched once and cached.
    IncludeOnceUrl,
    /// `## template: jinja`: rendered with instance data, then typed again.
    Jinja,
    /// `text/upstart-job`: no handler since cloud-init 22.2.
    UpstartJob,
    /// A ctxgen spec (not a cloud-init type: cloud-init sees unknown text).
    Spec,
    /// Anything else: cloud-init logs it as unhandled and skips it.
    Unknown,
}

impl ContentType {
    /// The MIME type cloud-init uses for this kind (`text/x-not-multipart` for a spec;
    /// `application/octet-stream` for unknown content, whose real type is in
    /// [`Part::mime_type`]).
    pub fn mime(self) -> &'static str {
        match self {
            ContentType::CloudConfig => "text/cloud-config",
            ContentType::CloudConfigJsonp => "text/cloud-config-jsonp",
            ContentType::CloudConfigArchive => "text/cloud-config-archive",
            ContentType::ShellScript => "text/x-shellscript",
            ContentType::ShellScriptPerBoot => "text/x-shellscript-per-boot",
            ContentType::ShellScriptPerInstance => "text/x-shellscript-per-instance",
            ContentType::ShellScriptPerOnce => "text/x-shellscript-per-once",
            ContentType::CloudBoothook => "text/cloud-boothook",
            ContentType::PartHandler => "text/part-handler",
            ContentType::IncludeUrl => "text/x-include-url",
            ContentType::IncludeOnceUrl => "text/x-include-once-url",
            ContentType::Jinja => "text/jinja2",
            ContentType::UpstartJob => "text/upstart-job",
            ContentType::Spec => NOT_MULTIPART,
            ContentType::Unknown => "application/octet-stream",
        }
    }

    /// The kind of a (lower-case) MIME type.
    pub fn from_mime(mime: &str) -> ContentType {
        const KNOWN: [ContentType; 13] = [
            ContentType::CloudConfig,
            ContentType::CloudConfigJsonp,
            ContentType::CloudConfigArchive,
            ContentType::ShellScript,
            ContentType::ShellScriptPerBoot,
            ContentType::ShellScriptPerInstance,
            ContentType::ShellScriptPerOnce,
            ContentType::CloudBoothook,
            ContentType::PartHandler,
            ContentType::IncludeUrl,
            ContentType::IncludeOnceUrl,
            ContentType::Jinja,
            ContentType::UpstartJob,
        ];
        KNOWN
            .into_iter()
            .find(|k| k.mime() == mime)
            .unwrap_or(ContentType::Unknown)
    }

    /// Whether cloud-init 22.4 to 26.2 ship a handler that uses a part of this kind.
    /// Include parts are handled before the handlers run (the URLs' content replaces
    /// them), so they count as handled; an upstart job, an archive entry of archive
    /// type, a spec and unknown content are not.
    pub fn is_handled(self) -> bool {
        !matches!(
            self,
            ContentType::CloudConfigArchive
                | ContentType::UpstartJob
                | ContentType::Spec
                | ContentType::Unknown
        )
    }
}

/// One wrapping a part was found in, outermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// Base64: the whole input (a datasource decodes it), or a MIME part's transfer
    /// encoding when it follows a [`Layer::Mime`].
    Base64,
    /// Quoted-printable transfer encoding of a MIME part.
    QuotedPrintable,
    /// Gzip: the whole input, or a MIME part of a gzip content type.
    Gzip,
    /// Part `index` (from 1) of a multipart, or the message inside a `message/*` part
    /// (index 1), with the file name its headers give.
    Mime {
        /// Position among the container's parts, from 1.
        index: usize,
        /// `get_filename()` of the part as written.
        filename: Option<String>,
    },
    /// Entry `index` (from 1) of a `#cloud-config-archive`, with its file name.
    Archive {
        /// Position in the archive, from 1.
        index: usize,
        /// The name the entry's part is stored with, if any.
        filename: Option<String>,
    },
}

/// One part, as cloud-init's handlers would receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Where it is, for messages: the input's name, plus the MIME part numbers (`2.1`
    /// for the first part of a multipart that is part 2), the archive entry, and the
    /// file name: `user-data (part 2: setup.sh)`, `user-data (entry 3)`.
    pub path: String,
    /// What the part is for cloud-init's handlers (or [`ContentType::Spec`]).
    pub content_type: ContentType,
    /// The MIME type cloud-init gives the part (`text/x-not-multipart` for text with no
    /// known first line outside MIME).
    pub mime_type: String,
    /// The file name cloud-init's handlers receive: the part's own, else `part-NNN`
    /// counted over the parts cloud-init keeps. `None` for an include part, which
    /// cloud-init replaces with what its URLs return.
    pub filename: Option<String>,
    /// The bytes handlers get (text parts as UTF-8, decoded by them with
    /// `surrogateescape`).
    pub body: Vec<u8>,
    /// How the part was wrapped, outermost first.
    pub layers: Vec<Layer>,
    /// The line of `body` whose start decided the type (from the marker to the end of
    /// the line, without the line break); `None` when a MIME or archive type did.
    pub header: Option<Range<usize>>,
    /// The part's headers other than `Content-Type`, `Content-Transfer-Encoding`,
    /// `Content-Disposition` and `MIME-Version` (such as `Merge-Type`), in order.
    pub headers: Vec<(String, String)>,
    /// For an include part cloud-init would process, the URLs it would fetch. Only
    /// `#include-once` lines make URLs fetch-once: a part declared
    /// `text/x-include-once-url` without one fetches on every boot.
    pub includes: Vec<IncludeUrl>,
    /// For a jinja part whose header cloud-init accepts, the kind its template starts
    /// as before rendering (cloud-init types the rendered text).
    pub inner: Option<ContentType>,
}

impl Part {
    /// The template of a jinja part (the text after its first line), when cloud-init's
    /// jinja handler accepts the header.
    pub fn template(&self) -> Option<&[u8]> {
        if self.content_type != ContentType::Jinja {
            return None;
        }
        detect::jinja_template_start(&self.body).map(|start| &self.body[start..])
    }
}

/// Something about the input that changes what cloud-init does with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where, named as [`Part::path`] names parts.
    pub path: String,
    /// What was found.
    pub kind: FindingKind,
}

/// What a [`Finding`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// `MIME-Version:` in the first 4096 bytes, but the input is not UTF-8: cloud-init
    /// raises and uses none of the user-data.
    MimeNotUtf8,
    /// A multipart without a `boundary` parameter or without its first boundary line:
    /// it has no parts.
    EmptyMultipart,
    /// The input starts like gzip but does not decompress: cloud-init reads the bytes
    /// as they are.
    CorruptGzip {
        /// What is wrong with the gzip data.
        reason: &'static str,
    },
    /// A MIME part of a gzip type that does not decompress to UTF-8 text: cloud-init
    /// raises and uses none of the user-data.
    GzipPartFailed {
        /// What is wrong with the gzip data or its text.
        reason: &'static str,
    },
    /// Non-ASCII text that Python's `email` package hands over as Latin-1 bytes and
    /// `\uXXXX` escapes (a MIME part without base64 or quoted-printable transfer
    /// encoding, a gzip part's text, an archive entry of a non-text type).
    NonAsciiMangled,
    /// A `#cloud-config-archive` cloud-init ignores (it logs a warning).
    ArchiveUnreadable {
        /// Why: not UTF-8, a YAML error (with its line and column), or not a list.
        reason: String,
    },
    /// An archive entry that is neither text nor a mapping: cloud-init skips it.
    ArchiveEntrySkipped,
    /// An archive entry whose content is neither text nor binary, under a non-text
    /// type: cloud-init keeps a part whose payload is that value (the part's `body` is
    /// empty here); no handler can use it, and logging it fails in cloud-init.
    ArchiveEntryNotText,
    /// An archive entry that makes cloud-init raise: none of the user-data is used.
    ArchiveEntryFails {
        /// What in the entry cloud-init cannot handle.
        reason: String,
    },
    /// A jinja part whose first line the renderer refuses (leading whitespace, or a
    /// renderer other than `jinja`): the handler fails and the part is skipped.
    JinjaHeaderRejected,
    /// A `message/*` part: cloud-init keeps it with its message inside, so handlers
    /// get the parts of that message twice (and run scripts in it twice).
    MessagePartsRepeated,
    /// An `#include-once` URL with bytes that are not UTF-8: cloud-init fails naming
    /// its cache file and uses none of the user-data.
    IncludeOnceUrlUndecodable,
}

impl FindingKind {
    /// `Error` when cloud-init would stop reading the user-data altogether.
    pub fn severity(&self) -> Severity {
        match self {
            FindingKind::MimeNotUtf8
            | FindingKind::GzipPartFailed { .. }
            | FindingKind::ArchiveEntryFails { .. }
            | FindingKind::IncludeOnceUrlUndecodable => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindingKind::MimeNotUtf8 => f.write_str(
                "the input declares MIME-Version but is not UTF-8; cloud-init fails on it and uses none of the user-data: encode binary parts as base64",
            ),
            FindingKind::EmptyMultipart => f.write_str(
                "this multipart has no boundary parameter or no first boundary line, so cloud-init sees no parts in it",
            ),
            FindingKind::CorruptGzip { reason } => write!(
                f,
                "the input starts like gzip but does not decompress ({reason}); cloud-init reads the compressed bytes as unknown content"
            ),
            FindingKind::GzipPartFailed { reason } => write!(
                f,
                "this gzip part does not decompress to UTF-8 text ({reason}); cloud-init fails on it and uses none of the user-data"
            ),
            FindingKind::NonAsciiMangled => f.write_str(
                "non-ASCII text here reaches cloud-init's handlers as Latin-1 bytes and \\u escapes (Python's email package); keep it ASCII, or send a plain MIME part with Content-Transfer-Encoding: base64",
            ),
            FindingKind::ArchiveUnreadable { reason } => {
                write!(f, "cloud-init ignores this #cloud-config-archive: {reason}")
            }
            FindingKind::ArchiveEntrySkipped => {
                f.write_str("cloud-init skips this archive entry: it is neither text nor a mapping")
            }
            FindingKind::ArchiveEntryNotText => f.write_str(
                "this archive entry's content is not text and its type is not text/*, so no handler can use it",
            ),
            FindingKind::ArchiveEntryFails { reason } => write!(
                f,
                "cloud-init fails on this archive entry and uses none of the user-data: {reason}"
            ),
            FindingKind::JinjaHeaderRejected => f.write_str(
                "cloud-init's jinja handler refuses this header and skips the part; the first line must be exactly `## template: jinja`",
            ),
            FindingKind::IncludeOnceUrlUndecodable => f.write_str(
                "an #include-once URL here is not valid UTF-8; cloud-init fails on it and uses none of the user-data",
            ),
            FindingKind::MessagePartsRepeated => f.write_str(
                "cloud-init hands the parts inside this message part to its handlers twice; put them directly in the multipart instead",
            ),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind)
    }
}

/// Everything read from one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserData {
    /// The parts in cloud-init's order, include parts where cloud-init would insert
    /// what they fetch.
    pub parts: Vec<Part>,
    /// Everything that changes what cloud-init does with the input, in reading order.
    pub findings: Vec<Finding>,
}

/// Why an input could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Gzip layers would decompress to more than the limit.
    #[error("decompressing would give more than {limit} bytes (a compression bomb?)")]
    TooLarge {
        /// [`MAX_DECOMPRESSED`].
        limit: usize,
    },
    /// MIME parts nest deeper than the limit.
    #[error("MIME parts nest more than {limit} levels deep")]
    TooDeep {
        /// How many levels are allowed.
        limit: usize,
    },
}

/// Reads one input named `name` (used in paths) as cloud-init would.
pub fn read(bytes: &[u8], name: &str) -> Result<UserData, Error> {
    if let Some(decoded) = codec::decode_whole_base64(bytes) {
        let mut trial = Reader::new(name);
        trial.input(&decoded, vec![Layer::Base64])?;
        if !trial.is_unknown_text() {
            return Ok(trial.finish());
        }
    }
    let mut reader = Reader::new(name);
    reader.input(bytes, Vec::new())?;
    Ok(reader.finish())
}
