//! The user-data reader against its fixtures and against cloud-init's own reader.
//!
//! - Every file in `tests/fixtures/userdata/` is read and what `check` would get (parts,
//!   their types, names, wrappings, bodies, and the findings) is snapshotted next to
//!   the fixtures, so any change shows up in review.
//! - The fixtures together cover every [`ContentType`] and every [`FindingKind`].
//! - The oracle test runs cloud-init's `UserDataProcessor().process()` of 22.4, 25.1
//!   and 26.2 on every fixture (network fetches stubbed out) and requires the same
//!   parts: content type, file name, body bytes and headers, in order; the same
//!   include URLs; and a failure exactly where ctxgen reports that cloud-init fails. A
//!   missing oracle fails the test: it never passes by skipping.
//! - A compression bomb and a nesting bomb fail fast; arbitrary bytes never panic.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use serde_json::Value;

use ctxgen::Severity;
use ctxgen::userdata::{self, ContentType, Error, FindingKind, Layer, Part, UserData};

fn fixture_dir() -> PathBuf {
    common::root().join("tests/fixtures/userdata")
}

/// Every input fixture (files directly in the folder, except the README), sorted.
fn fixtures() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixture folder")
        .map(|e| e.expect("readable folder").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    paths.sort();
    paths
}

fn file_name(path: &Path) -> String {
    path.file_name().expect("a file").to_string_lossy().into_owned()
}

fn read_fixture(path: &Path) -> UserData {
    let bytes = std::fs::read(path).expect("readable fixture");
    let name = file_name(path);
    userdata::read(&bytes, &name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A byte string for a snapshot: text as it is, other bytes as `\xNN`.
fn show_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\n    | "),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// What a reader of the snapshot needs to judge the result.
fn render(data: &UserData) -> String {
    let mut out = String::new();
    for part in &data.parts {
        out.push_str(&format!("part {}\n", part.path));
        out.push_str(&format!("  type: {:?} ({})\n", part.content_type, part.mime_type));
        if let Some(name) = &part.filename {
            out.push_str(&format!("  filename: {name}\n"));
        }
        if !part.layers.is_empty() {
            out.push_str(&format!("  layers: {:?}\n", part.layers));
        }
        if let Some(range) = &part.header {
            out.push_str(&format!(
                "  header: {:?}\n",
                String::from_utf8_lossy(&part.body[range.clone()])
            ));
        }
        for (name, value) in &part.headers {
            out.push_str(&format!("  header field: {name}: {value}\n"));
        }
        for url in &part.includes {
            out.push_str(&format!(
                "  include: {}{}\n",
                url.url,
                if url.once { " (once)" } else { "" }
            ));
        }
        if let Some(inner) = part.inner {
            out.push_str(&format!("  template starts as: {inner:?}\n"));
        }
        out.push_str(&format!(
            "  body ({} bytes):\n    | {}\n",
            part.body.len(),
            show_bytes(&part.body)
        ));
    }
    for finding in &data.findings {
        out.push_str(&format!("{:?}: {finding}\n", finding.kind.severity()));
    }
    out
}

#[test]
fn fixtures_read_as_expected() {
    assert!(fixtures().len() >= 40, "at least 40 inputs are expected");
    insta::with_settings!({snapshot_path => "fixtures/userdata/snapshots", prepend_module_to_snapshot => false}, {
        insta::glob!("fixtures/userdata/*.*", |path| {
            if file_name(path) == "README.md" {
                return;
            }
            insta::assert_snapshot!(render(&read_fixture(path)));
        });
    });
}

/// The name of a finding kind, for the coverage test.
fn kind_name(kind: &FindingKind) -> &'static str {
    match kind {
        FindingKind::MimeNotUtf8 => "MimeNotUtf8",
        FindingKind::EmptyMultipart => "EmptyMultipart",
        FindingKind::CorruptGzip { .. } => "CorruptGzip",
        FindingKind::GzipPartFailed { .. } => "GzipPartFailed",
        FindingKind::NonAsciiMangled => "NonAsciiMangled",
        FindingKind::ArchiveUnreadable { .. } => "ArchiveUnreadable",
        FindingKind::ArchiveEntrySkipped => "ArchiveEntrySkipped",
        FindingKind::ArchiveEntryNotText => "ArchiveEntryNotText",
        FindingKind::ArchiveEntryFails { .. } => "ArchiveEntryFails",
        FindingKind::JinjaHeaderRejected => "JinjaHeaderRejected",
        FindingKind::MessagePartsRepeated => "MessagePartsRepeated",
        FindingKind::IncludeOnceUrlUndecodable => "IncludeOnceUrlUndecodable",
    }
}

#[test]
fn fixtures_cover_every_kind_and_finding() {
    let all_kinds = [
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
        ContentType::Spec,
        ContentType::Unknown,
    ];
    let all_findings = [
        "MimeNotUtf8",
        "EmptyMultipart",
        "CorruptGzip",
        "GzipPartFailed",
        "NonAsciiMangled",
        "ArchiveUnreadable",
        "ArchiveEntrySkipped",
        "ArchiveEntryNotText",
        "ArchiveEntryFails",
        "JinjaHeaderRejected",
        "MessagePartsRepeated",
        "IncludeOnceUrlUndecodable",
    ];
    let mut kinds = BTreeSet::new();
    let mut findings = BTreeSet::new();
    let mut layers = BTreeSet::new();
    for path in fixtures() {
        let data = read_fixture(&path);
        for part in &data.parts {
            kinds.insert(format!("{:?}", part.content_type));
            for layer in &part.layers {
                let name = format!("{layer:?}");
                layers.insert(name.split([' ', '{']).next().unwrap_or("").to_string());
            }
        }
        findings.extend(data.findings.iter().map(|f| kind_name(&f.kind)));
    }
    for kind in all_kinds {
        assert!(
            kinds.contains(&format!("{kind:?}")),
            "no fixture gives a {kind:?} part"
        );
        assert_eq!(
            ContentType::from_mime(kind.mime()) == kind,
            kind != ContentType::Spec
        );
    }
    for finding in all_findings {
        assert!(findings.contains(finding), "no fixture gives a {finding} finding");
    }
    for layer in ["Base64", "QuotedPrintable", "Gzip", "Mime", "Archive"] {
        assert!(layers.contains(layer), "no fixture has a {layer} layer");
    }
}

#[test]
fn jinja_parts_expose_their_template() {
    let data = read_fixture(&fixture_dir().join("jinja-cloud-config.yaml"));
    let part = &data.parts[0];
    assert_eq!(
        part.template(),
        Some(&b"#cloud-config\nhostname: {{ v1.local_hostname }}\n"[..])
    );
    assert_eq!(part.inner, Some(ContentType::CloudConfig));
    assert!(part.content_type.is_handled());
    let refused = read_fixture(&fixture_dir().join("jinja-indented.txt"));
    assert_eq!(refused.parts[0].template(), None);
    let other = read_fixture(&fixture_dir().join("cloud-config.yaml"));
    assert_eq!(other.parts[0].template(), None);
    assert!(!ContentType::Unknown.is_handled());
}

#[test]
fn detect_is_cloud_inits_first_line_rule() {
    let (kind, range) = userdata::detect(b"\n #Include-Once\nhttp://x\n").expect("an include");
    assert_eq!((kind, range), (ContentType::IncludeOnceUrl, 2..15));
    assert_eq!(userdata::detect(b"plain"), None);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    std::io::Write::write_all(&mut enc, data).expect("in-memory write");
    enc.finish().expect("in-memory write")
}

#[test]
fn compression_bomb_fails_fast() {
    // 80 MiB of zeros: about 80 KiB compressed, past the 64 MiB limit.
    let bomb = gzip(&vec![0u8; 80 << 20]);
    for input in [bomb.clone(), STANDARD.encode(&bomb).into_bytes()] {
        let started = Instant::now();
        let result = userdata::read(&input, "bomb");
        let elapsed = started.elapsed();
        assert_eq!(
            result,
            Err(Error::TooLarge {
                limit: userdata::MAX_DECOMPRESSED
            })
        );
        assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    }
    // The limit is over all layers: a multipart of gzip parts cannot add up past it.
    let part = STANDARD.encode(gzip(&vec![b'#'; 20 << 20]));
    let mut mime = String::from("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n");
    for _ in 0..4 {
        mime.push_str(&format!(
            "--b\nContent-Type: application/gzip\nContent-Transfer-Encoding: base64\n\n{part}\n"
        ));
    }
    assert!(matches!(
        userdata::read(mime.as_bytes(), "parts"),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn nesting_bomb_fails_fast() {
    let mut text = String::from("MIME-Version: 1.0\n");
    for i in 0..10_000 {
        text.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=b{i}\n\n--b{i}\n"
        ));
    }
    let started = Instant::now();
    assert!(matches!(
        userdata::read(text.as_bytes(), "deep"),
        Err(Error::TooDeep { .. })
    ));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn part_numbers_grow_past_three_digits() {
    let mut text = String::from("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n");
    for i in 0..1200 {
        text.push_str(&format!(
            "--b\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho {i}\n"
        ));
    }
    let data = userdata::read(text.as_bytes(), "many").expect("readable");
    assert_eq!(data.parts.len(), 1200);
    assert_eq!(data.parts[998].filename.as_deref(), Some("part-999"));
    assert_eq!(data.parts[1199].filename.as_deref(), Some("part-1200"));
    assert_eq!(data.parts[1199].path, "many (part 1200)");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let first = userdata::read(&bytes, "input");
        prop_assert_eq!(&first, &userdata::read(&bytes, "input"));
    }

    #[test]
    fn damaged_fixtures_never_panic(index in 0usize..64, cut in 0usize..4000, flip in any::<u8>()) {
        let paths = fixtures();
        let path = &paths[index % paths.len()];
        let mut bytes = std::fs::read(path).expect("readable fixture");
        if !bytes.is_empty() {
            let at = cut % bytes.len();
            bytes[at] ^= flip;
            bytes.truncate(at + (cut % 7) * 50);
        }
        let _ = userdata::read(&bytes, "damaged");
    }
}

// ---------------------------------------------------------------------------------
// The oracle: cloud-init's own reader.
// ---------------------------------------------------------------------------------

/// Runs `UserDataProcessor().process()` on each input listed in the manifest (argv 1:
/// JSON `[[name, path, decode_base64], ...]`) and prints, as one JSON object per
/// input name, either `{"error": ...}` or the parts cloud-init keeps and the URLs it
/// would fetch. Fetching is replaced by a recorder that fails like an unreachable
/// server, and that failure alone is not raised; every other error is.
const ORACLE_SCRIPT: &str = r#"
import base64, json, os, sys
from cloudinit import user_data, util, version
from cloudinit.url_helper import UrlError

class StubPaths:
    def __init__(self, root):
        self.root = root
    def get_ipath_cur(self, name=None):
        return os.path.join(self.root, "instance", name or "")
    def get_cpath(self, name=None):
        return os.path.join(self.root, "cloud", name or "")

fetched, once_next = [], set()

def record_fetch(url, *args, **kwargs):
    fetched.append({"url": url, "once": url in once_next})
    once_next.clear()
    raise UrlError(OSError("offline oracle"), url=url)

real_once_name = user_data.UserDataProcessor._get_include_once_filename
def note_once(self, entry):
    once_next.add(entry)
    return real_once_name(self, entry)

real_handle_error = user_data._handle_error
def handle_error(message, source_exception=None):
    if isinstance(source_exception, UrlError):
        return
    real_handle_error(message, source_exception)

user_data.read_file_or_url = record_fetch
user_data.UserDataProcessor._get_include_once_filename = note_once
user_data._handle_error = handle_error

STRUCTURAL = {"content-type", "content-transfer-encoding", "content-disposition", "mime-version"}

def text(value):
    # Strings may hold undecodable bytes as surrogates: show them as U+FFFD.
    return None if value is None else str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")

def describe(data, root):
    fetched.clear()
    once_next.clear()
    try:
        message = user_data.UserDataProcessor(StubPaths(root)).process(data)
    except Exception as exc:
        return {"error": text("%s: %s" % (type(exc).__name__, exc))}
    parts = []
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        # Named as handlers.walk names parts: their own name, else by position.
        filename = part.get_filename() or "part-%03d" % len(parts)
        payload = util.fully_decoded_payload(part)
        if isinstance(payload, str):
            payload = payload.encode("utf-8", "surrogateescape")
        elif not isinstance(payload, bytes):
            payload = None  # no text: a message/* part, or an archive value
        parts.append({
            "type": part.get_content_type(),
            "filename": text(filename),
            "body": None if payload is None else base64.b64encode(payload).decode(),
            "headers": [[text(k), text(v)] for k, v in part.items() if k.lower() not in STRUCTURAL],
        })
    includes = [{"url": text(f["url"]), "once": f["once"]} for f in fetched]
    return {"parts": parts, "includes": includes}

manifest = json.load(open(sys.argv[1]))
root = sys.argv[2]
out = {"version": version.version_string(), "results": {}}
for name, path, decode in manifest:
    data = open(path, "rb").read()
    if decode:
        data = base64.b64decode(b"".join(data.split()), validate=True)
    out["results"][name] = describe(data, root)
json.dump(out, sys.stdout)
"#;

const RELEASES: [&str; 3] = ["22.4", "25.1", "26.2"];

/// Per-release differences from cloud-init's reader, as (fixture, release, why).
/// Empty: ctxgen agrees with every release on every fixture.
const KNOWN_DIFFERENCES: [(&str, &str, &str); 0] = [];

/// PYTHONPATH for a release, or why it cannot run.
fn oracle_pythonpath(release: &str) -> Result<String, String> {
    let dir = std::env::var("CTXGEN_ORACLE_DIR").unwrap_or_else(|_| "/var/cache/ctxgen-oracles".into());
    match release {
        "22.4" => {
            if Path::new("/usr/lib/python3/dist-packages/cloudinit/user_data.py").is_file() {
                Ok(String::new())
            } else {
                Err(format!(
                    "cloud-init 22.4 is not installed; {}",
                    common::INSTALL_HINT
                ))
            }
        }
        _ => {
            let series = if release == "25.1" { "trixie" } else { "sid" };
            let root = Path::new(&dir).join(format!("cloud-init-{series}"));
            let marker = root.join(".ctxgen-oracle");
            let text = std::fs::read_to_string(&marker).map_err(|_| {
                format!(
                    "cloud-init {release} is not unpacked in {}; {}",
                    root.display(),
                    common::INSTALL_HINT
                )
            })?;
            if !text.lines().any(|l| l == format!("release={release}")) {
                return Err(format!(
                    "{} is not cloud-init {release}; {}",
                    root.display(),
                    common::INSTALL_HINT
                ));
            }
            Ok(root.join("usr/lib/python3/dist-packages").display().to_string())
        }
    }
}

/// Runs the oracle of `release` on every fixture; returns its JSON results.
fn run_oracle(release: &str, inputs: &[(String, PathBuf, bool)], work: &Path) -> Result<Value, String> {
    let pythonpath = oracle_pythonpath(release)?;
    let manifest: Vec<Value> = inputs
        .iter()
        .map(|(name, path, decode)| serde_json::json!([name, path.display().to_string(), decode]))
        .collect();
    let manifest_path = work.join("manifest.json");
    std::fs::write(
        &manifest_path,
        serde_json::to_vec(&manifest).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let script = work.join("oracle.py");
    std::fs::write(&script, ORACLE_SCRIPT).map_err(|e| e.to_string())?;
    let stub_root = work.join("paths");
    // As root, run unprivileged, like tests/oracle/cloud-init-schema: the reader
    // should write nothing, and this makes sure it cannot.
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut cmd = if as_root {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--no-new-privs",
            "--",
            "/usr/bin/python3",
        ]);
        c
    } else {
        Command::new("/usr/bin/python3")
    };
    let output = cmd
        .arg(&script)
        .arg(&manifest_path)
        .arg(&stub_root)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LC_ALL", "C.UTF-8")
        .env("HOME", work)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONPATH", pythonpath)
        .current_dir(work)
        .output()
        .map_err(|e| format!("cannot run /usr/bin/python3: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "the {release} oracle failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let value: Value = serde_json::from_slice(&output.stdout).map_err(|e| format!("oracle output: {e}"))?;
    let version = value["version"].as_str().unwrap_or("");
    if version != release && !version.starts_with(&format!("{release}.")) {
        return Err(format!(
            "asked for cloud-init {release}, the oracle is {version:?}; {}",
            common::INSTALL_HINT
        ));
    }
    Ok(value["results"].clone())
}

/// Whether ctxgen's reading of one fixture agrees with the oracle's; the differences.
fn compare(ours: &UserData, theirs: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let we_fail = ours.findings.iter().any(|f| f.kind.severity() == Severity::Error);
    if let Some(error) = theirs.get("error") {
        if !we_fail {
            problems.push(format!("cloud-init fails ({error}), ctxgen reports no failure"));
        }
        return problems;
    }
    if we_fail {
        problems.push("ctxgen says cloud-init fails, but it does not".into());
        return problems;
    }
    // Include parts (no file name) are replaced by what they fetch: the oracle's
    // stubbed fetch returns nothing.
    let kept: Vec<&Part> = ours.parts.iter().filter(|p| p.filename.is_some()).collect();
    let empty = Vec::new();
    let their_parts = theirs["parts"].as_array().unwrap_or(&empty);
    if kept.len() != their_parts.len() {
        problems.push(format!(
            "{} parts, cloud-init keeps {}",
            kept.len(),
            their_parts.len()
        ));
    }
    for (i, (ours, theirs)) in kept.iter().zip(their_parts).enumerate() {
        let n = i + 1;
        if theirs["type"] != ours.mime_type.as_str() {
            problems.push(format!(
                "part {n}: type {} vs cloud-init's {}",
                ours.mime_type, theirs["type"]
            ));
        }
        if theirs["filename"].as_str() != ours.filename.as_deref() {
            problems.push(format!(
                "part {n}: file name {:?} vs cloud-init's {}",
                ours.filename, theirs["filename"]
            ));
        }
        let body = theirs["body"]
            .as_str()
            .map(|b| STANDARD.decode(b).unwrap_or_default())
            .unwrap_or_default();
        if body != ours.body {
            problems.push(format!(
                "part {n}: body {:?} vs cloud-init's {:?}",
                String::from_utf8_lossy(&ours.body),
                String::from_utf8_lossy(&body)
            ));
        }
        let headers: Vec<(String, String)> = theirs["headers"]
            .as_array()
            .unwrap_or(&empty)
            .iter()
            .map(|h| {
                (
                    h[0].as_str().unwrap_or("").to_string(),
                    h[1].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        if headers != ours.headers {
            problems.push(format!(
                "part {n}: headers {:?} vs cloud-init's {headers:?}",
                ours.headers
            ));
        }
    }
    let our_urls: Vec<(String, bool)> = ours
        .parts
        .iter()
        .flat_map(|p| p.includes.iter().map(|u| (u.url.clone(), u.once)))
        .collect();
    let their_urls: Vec<(String, bool)> = theirs["includes"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|u| {
            (
                u["url"].as_str().unwrap_or("").to_string(),
                u["once"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    if our_urls != their_urls {
        problems.push(format!(
            "include URLs {our_urls:?} vs cloud-init's {their_urls:?}"
        ));
    }
    problems
}

#[test]
fn cloud_init_reads_the_same_parts() {
    let work = tempfile::tempdir().expect("temporary folder");
    set_mode(work.path(), 0o755);
    let mut inputs = Vec::new();
    let mut ours = Vec::new();
    for path in fixtures() {
        let name = file_name(&path);
        let data = read_fixture(&path);
        // A whole-input base64 layer is a datasource's job: cloud-init's reader gets
        // the decoded bytes.
        let decode = data
            .parts
            .first()
            .is_some_and(|p| p.layers.first() == Some(&Layer::Base64));
        let copy = work.path().join(&name);
        std::fs::copy(&path, &copy).expect("copy a fixture");
        set_mode(&copy, 0o644);
        inputs.push((name.clone(), copy, decode));
        ours.push((name, data));
    }
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for release in RELEASES {
        let results = match run_oracle(release, &inputs, work.path()) {
            Ok(results) => results,
            Err(problem) => {
                failures.push(problem);
                continue;
            }
        };
        let mut agree = 0;
        for (name, data) in &ours {
            let known = KNOWN_DIFFERENCES
                .iter()
                .any(|(f, r, _)| f == name && *r == release);
            let problems = compare(data, &results[name.as_str()]);
            match (problems.is_empty(), known) {
                (true, false) => agree += 1,
                (true, true) => failures.push(format!("{release} {name}: listed as a difference but agrees")),
                (false, true) => {}
                (false, false) => failures.push(format!("{release} {name}:\n  {}", problems.join("\n  "))),
            }
        }
        summary.push(format!("{release}: {agree}/{} fixtures agree", ours.len()));
    }
    eprintln!("cloud-init reader oracle: {}", summary.join(", "));
    assert!(
        failures.is_empty(),
        "{} disagreement(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// A small deterministic generator (xorshift) of user-data documents that stress the
/// rules where readers usually differ: header case and folding, parameter quoting and
/// RFC 2231, boundary lines (trailing blanks, repeats, prefixes of each other, missing
/// close), line endings, transfer encodings (good and broken), gzip parts (good and
/// broken), nesting, `message/rfc822`, archives, includes, jinja, non-ASCII text.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn body(&mut self) -> String {
        self.pick(&[
            "#cloud-config\nhostname: gen",
            "  #Cloud-Config\nruncmd: [ls]",
            "#!/bin/sh\necho gen",
            "\u{a0}#!/bin/bash\necho nbsp",
            "#include\nhttp://a.example/x\n #y\n#include-once http://b.example/z",
            "#cloud-config-archive\n- \"#!/bin/sh\\necho a\"\n- {type: text/x-shellscript, content: echo, filename: s.sh}\n- {content: \"x: 1\", Merge-Type: \"list(append)\"}",
            "## template: jinja\n#cloud-config\nhostname: {{ v1.local_hostname }}",
            " ## template: jinja\n#!/bin/sh",
            "#cloud-boothook\necho boot",
            "#part-handler\ndef list_types(): return []",
            "text/x-shellscript-per-once\necho once",
            "#cloud-config\nusers: [{name: Jos\u{e9}, gecos: \"\u{20ac}\"}]",
            "\u{feff}#cloud-config\na: 1",
            "plain words",
            "",
            "#cloud-config\nlaunch-index: 2\nhostname: li",
            "#cloud-config\nlaunch-index: 2.9",
            "#cloud-config\nlaunch-index: true",
            "#cloud-config\nlaunch-index: ' 7 '",
            "#include-once\nhttp://a.example/caf\u{e9}",
            "#cloud-config-archive\n- {filename: 0644, content: 'a: 1'}\n- {filename: 1.5e-7, content: x}\n- {filename: true, content: x}\n- {filename: 2001-02-03, content: x}\n- {type: Text/Plain, content: \"\u{e9}\"}\n- {type: text/x/y, content: x}\n- {type: 'text/plain; name=n.txt', content: x}\n- {content: !!binary aGk=, type: application/x-b}\n- {launch-index: '0_1', content: x}\n- {X-Head: null, content: x, Content-Type: y}\n- [not, an, entry]",
            "#cloud-config-archive\n- {content: !!binary IyEvYmluL3NoCg==}\n- {type: text/plain, content: !!binary aGk=}\n- {type: application/x-t, Content-Transfer-Encoding: base64, content: aGk=}",
        ])
        .to_string()
    }

    fn header_name(&mut self, name: &str) -> String {
        match self.below(4) {
            0 => name.to_lowercase(),
            1 => name.to_uppercase(),
            _ => name.to_string(),
        }
    }

    fn filename_params(&mut self) -> (String, String) {
        let disposition = match self.below(13) {
            9 => "attachment; filename*=iso-8859-1''caf%E9.sh".to_string(),
            10 => "attachment; filename=\"a\\\"b.sh\"; filename=second".to_string(),
            11 => "attachment;filename*0*=utf-8''%C3%A9;filename*1=x".to_string(),
            12 => "attachment; name=\"not-a-filename\"".to_string(),
            0 => "attachment; filename=\"a b.sh\"".to_string(),
            1 => "attachment; filename=plain.yaml".to_string(),
            2 => "attachment; filename=\"<angle.sh>\"".to_string(),
            3 => "attachment; filename*=utf-8''caf%C3%A9.sh".to_string(),
            4 => "attachment; filename*0=\"part\"; filename*1=\"s.sh\"".to_string(),
            5 => "inline; FILENAME=\" spaced \"".to_string(),
            6 => "attachment; filename=\"\"".to_string(),
            _ => String::new(),
        };
        let name = if self.chance(25) {
            "; name=\"ct-name.sh\"".to_string()
        } else {
            String::new()
        };
        (disposition, name)
    }

    fn part(&mut self, nl: &str, depth: usize) -> String {
        if depth < 2 && self.chance(12) {
            return self.multipart(nl, depth + 1, false);
        }
        if depth < 2 && self.chance(4) {
            let inner = self.part(nl, depth + 1);
            return format!("Content-Type: message/rfc822{nl}{nl}{inner}");
        }
        let mut body = self.body();
        let ctype = self.pick(&[
            "text/plain",
            "text/x-shellscript",
            "text/cloud-config",
            "text/x-include-url",
            "text/cloud-config-archive",
            "text/jinja2",
            "application/octet-stream",
            "application/x-gzip",
            "application/gzip",
            "text/x-shellscript-per-boot",
            "cloudconfig",
            "Text/Plain",
            "",
            " TEXT/X-SHELLSCRIPT ;",
            "text/plain ;charset=latin-1",
            "message/delivery-status",
            "application/x-compressed",
        ]);
        let (disposition, name) = self.filename_params();
        let mut headers = Vec::new();
        if !ctype.is_empty() {
            let sep = if self.chance(15) {
                format!(";{nl}\t")
            } else {
                String::new()
            };
            headers.push(format!(
                "{}: {ctype}{name}{sep}",
                self.header_name("Content-Type")
            ));
        }
        if !disposition.is_empty() {
            headers.push(format!(
                "{}: {disposition}",
                self.header_name("Content-Disposition")
            ));
        }
        if self.chance(20) {
            headers.push(format!("Launch-Index: {}", self.pick(&["1", " 2 ", "x", "0_3"])));
        }
        if self.chance(20) {
            headers.push("Merge-Type: list(append)+dict(recurse_str)+str()".to_string());
        }
        if self.chance(6) {
            let odd = self.pick(&[
                "From nobody Mon Jan 1",
                " continued",
                ":nameless",
                "  ",
                "X-Empty:",
            ]);
            let at = self.below(headers.len() + 1);
            headers.insert(at, odd.to_string());
        }
        let gz = ctype.contains("gzip");
        let encoding = if gz {
            "base64"
        } else {
            self.pick(&[
                "",
                "",
                "base64",
                "quoted-printable",
                "7bit",
                "Base64",
                "x-uuencode",
                "base64 ",
            ])
        };
        if gz {
            let data = if self.chance(85) {
                gzip(body.as_bytes())
            } else {
                body.clone().into_bytes()
            };
            body = STANDARD.encode(data);
        } else if encoding.eq_ignore_ascii_case("base64") {
            let mut text = STANDARD.encode(body.as_bytes());
            match self.below(5) {
                0 => text = text.trim_end_matches('=').to_string(),
                1 if text.len() > 10 => text.insert_str(8, nl),
                2 => text.push('!'),
                _ => {}
            }
            body = text;
        } else if encoding == "quoted-printable" {
            body = body
                .replace('=', "=3D")
                .replace("cloud", "clo=\nud")
                .replace('\u{e9}', "=C3=A9");
        }
        if !encoding.is_empty() {
            headers.push(format!("Content-Transfer-Encoding: {encoding}"));
        }
        let body = body.replace('\n', nl);
        format!("{}{nl}{nl}{body}", headers.join(nl))
    }

    fn multipart(&mut self, nl: &str, depth: usize, top: bool) -> String {
        let boundary = format!("{}{}", self.pick(&["b", "==x==", "b2", "Bound ary"]), depth);
        let quoted = if boundary.contains(' ') || self.chance(50) {
            format!("\"{boundary}\"")
        } else {
            boundary.clone()
        };
        let mut out = String::new();
        if top {
            out.push_str(&format!("{}: 1.0{nl}", self.header_name("MIME-Version")));
        }
        out.push_str(&format!(
            "{}: {}; boundary={quoted}{nl}{nl}",
            self.header_name("Content-Type"),
            self.pick(&[
                "multipart/mixed",
                "multipart/alternative",
                "Multipart/Mixed",
                "multipart/digest"
            ])
        ));
        if self.chance(20) {
            out.push_str(&format!("preamble{nl}"));
        }
        for _ in 0..1 + self.below(4) {
            let line_end = if self.chance(15) { " \t" } else { "" };
            out.push_str(&format!("--{boundary}{line_end}{nl}"));
            if self.chance(8) {
                out.push_str(&format!("--{boundary}{nl}"));
            }
            let part = self.part(nl, depth);
            out.push_str(&format!("{part}{nl}"));
        }
        if self.chance(90) {
            out.push_str(&format!("--{boundary}--{nl}"));
        }
        if self.chance(15) {
            out.push_str(&format!("epilogue{nl}"));
        }
        out
    }

    fn document(&mut self) -> Vec<u8> {
        let nl = self.pick(&["\n", "\n", "\n", "\r\n", "\r"]);
        let text = match self.below(10) {
            0 => self.body().replace('\n', nl),
            1 => format!("MIME-Version: 1.0{nl}{}", self.part(nl, 1)),
            _ => self.multipart(nl, 0, true),
        };
        if self.chance(10) {
            gzip(text.as_bytes())
        } else {
            text.into_bytes()
        }
    }
}

#[test]
fn cloud_init_agrees_on_generated_documents() {
    const COUNT: usize = 500;
    let work = tempfile::tempdir().expect("temporary folder");
    set_mode(work.path(), 0o755);
    let mut generator = Generator(0x5eed_c10d_1417);
    let mut inputs = Vec::new();
    let mut ours = Vec::new();
    for i in 0..COUNT {
        let bytes = generator.document();
        let name = format!("gen-{i:03}");
        let path = work.path().join(&name);
        std::fs::write(&path, &bytes).expect("write a document");
        set_mode(&path, 0o644);
        let data = userdata::read(&bytes, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        inputs.push((name.clone(), path, false));
        ours.push((name, data));
    }
    let mut failures = Vec::new();
    for release in RELEASES {
        match run_oracle(release, &inputs, work.path()) {
            Ok(results) => {
                for (name, data) in &ours {
                    let problems = compare(data, &results[name.as_str()]);
                    if !problems.is_empty() {
                        failures.push(format!("{release} {name}:\n  {}", problems.join("\n  ")));
                    }
                }
            }
            Err(problem) => failures.push(problem),
        }
    }
    let shown: Vec<String> = failures.iter().take(8).cloned().collect();
    assert!(
        failures.is_empty(),
        "{} disagreement(s) (documents kept in {}), first ones:\n\n{}",
        failures.len(),
        work.keep().display(),
        shown.join("\n\n")
    );
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
