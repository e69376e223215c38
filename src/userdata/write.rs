//! Stage `userdata`, writing side: parts into a MIME multipart, gzip, base64, and the
//! providers' size budgets. Everything written here reads back through [`super::read`]
//! (the reading side's rules, numbered in the module documentation) as exactly the
//! parts given, with no finding; the tests prove it, and `tests/delivery.rs` proves
//! it with cloud-init's own reader.
//!
//! Deterministic: the same parts give the same bytes (the boundary is derived from a
//! hash of the content; gzip has no name and no timestamp).

use std::io::Write;

use base64::Engine;
use flate2::{Compression, GzBuilder};

use super::ContentType;
use crate::spec::Provider;

/// The `Merge-Type` every part carries: lists append, maps merge key by key (recursing
/// into lists) without replacing what an earlier part set, strings are kept. Without
/// it cloud-init merges with `dict(replace)+list()+str()`, where a later part's
/// `runcmd` replaces an earlier one's. Syntax: cloud-init's `mergers`
/// (`string_extract_mergers`; `recurse_list` is `recurse_array`), the same in 22.4,
/// 25.1 and 26.2; <https://cloudinit.readthedocs.io/en/latest/reference/merging.html>.
pub const MERGE_TYPE: &str = "list(append)+dict(no_replace,recurse_list)+str()";

/// One part to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutPart {
    /// What cloud-init's handlers are to do with it (its MIME type).
    pub content_type: ContentType,
    /// The file name handlers receive (`Content-Disposition` `filename`): ASCII
    /// letters, digits, `.`, `-`, `_`.
    pub filename: String,
    /// The part's bytes (text for every type cloud-init handles).
    pub body: Vec<u8>,
}

/// A multipart/mixed message of `parts`, in order, each with [`MERGE_TYPE`].
///
/// ASCII bodies go as they are (`7bit`); any other body goes base64-encoded, because
/// Python's `email` package hands non-ASCII text sent without transfer encoding to the
/// handlers as Latin-1 bytes and `\u` escapes (reading rule 7). The boundary is
/// `ctxgen-` and 32 hex digits of a hash of every part, re-hashed in the (unlikely)
/// event that a body contains it.
pub fn multipart(parts: &[OutPart]) -> Vec<u8> {
    let boundary = boundary(parts);
    let mut out = Vec::new();
    out.extend_from_slice(
        format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\nMIME-Version: 1.0\n\n").as_bytes(),
    );
    for part in parts {
        let ascii = part.body.is_ascii();
        out.extend_from_slice(
            format!(
                "--{boundary}\n\
                 Content-Type: {}; charset=\"{}\"\n\
                 MIME-Version: 1.0\n\
                 Content-Transfer-Encoding: {}\n\
                 Content-Disposition: attachment; filename=\"{}\"\n\
                 Merge-Type: {MERGE_TYPE}\n\n",
                part.content_type.mime(),
                if ascii { "us-ascii" } else { "utf-8" },
                if ascii { "7bit" } else { "base64" },
                part.filename,
            )
            .as_bytes(),
        );
        if ascii {
            out.extend_from_slice(&part.body);
        } else {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&part.body);
            for line in encoded.as_bytes().chunks(76) {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
        // The line break before a boundary belongs to the boundary, so a body that
        // ends with one keeps it only when a second follows.
        out.push(b'\n');
    }
    out.extend_from_slice(format!("--{boundary}--\n").as_bytes());
    out
}

/// A boundary no body contains, derived from the parts alone.
fn boundary(parts: &[OutPart]) -> String {
    let mut salt = 0u64;
    loop {
        let mut a = Fnv::new(salt);
        let mut b = Fnv::new(salt ^ 0x5bd1_e995);
        for part in parts {
            for h in [&mut a, &mut b] {
                h.write(part.content_type.mime().as_bytes());
                h.write(&[0]);
                h.write(part.filename.as_bytes());
                h.write(&[0]);
                h.write(&(part.body.len() as u64).to_le_bytes());
                h.write(&part.body);
            }
        }
        let candidate = format!("ctxgen-{:016x}{:016x}", a.0, b.0);
        if !parts
            .iter()
            .any(|p| p.body.windows(candidate.len()).any(|w| w == candidate.as_bytes()))
        {
            return candidate;
        }
        salt += 1;
    }
}

/// FNV-1a, 64 bits, seeded: stable across Rust releases and platforms (unlike
/// `std::hash`), which the boundary needs to keep outputs byte-identical.
struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.write(&seed.to_le_bytes());
        h
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Deterministic gzip (one member, best compression, no file name, modification time
/// 0): what cloud-init decompresses whole (reading rule 1).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzBuilder::new().mtime(0).write(Vec::new(), Compression::best());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// Standard base64 with padding, on one line.
pub fn base64(bytes: &[u8]) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .into_bytes()
}

/// The length of `n` bytes once base64-encoded with padding: `4 * ceil(n / 3)`.
pub fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// How much user-data a provider takes, in bytes of what it receives (SPEC.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The provider's name, for messages.
    pub provider: &'static str,
    /// The most bytes it takes.
    pub limit: usize,
    /// Whether the limit counts the base64-encoded size (OpenStack: Nova's API takes
    /// `user_data` base64-encoded and limits that text to 65535 bytes; its clients
    /// encode the file they are given).
    pub counts_base64: bool,
    /// Whether the payload must be text: GCE metadata values are strings, so binary
    /// (gzip) user-data goes base64-encoded, with the instance metadata key
    /// `user-data-encoding: base64`, which cloud-init's GCE datasource decodes. The
    /// other providers' clients take a binary file (`fileb://` for the AWS CLI;
    /// OpenStack, Azure and OCI clients base64-encode the file themselves).
    pub needs_text: bool,
}

impl Budget {
    /// The budget of `provider`; `None` for nocloud and generic (no limit).
    pub fn of(provider: Provider) -> Option<Budget> {
        let (name, limit, counts_base64, needs_text) = match provider {
            Provider::Aws => ("aws", 16384, false, false),
            Provider::Openstack => ("openstack", 65535, true, false),
            Provider::Azure => ("azure", 65535, false, false),
            Provider::Gcp => ("gcp", 262_144, false, true),
            Provider::Oci => ("oci", 32000, false, false),
            Provider::Nocloud | Provider::Generic => return None,
        };
        Some(Budget {
            provider: name,
            limit,
            counts_base64,
            needs_text,
        })
    }

    /// The size the provider counts for a payload of `n` bytes.
    pub fn measure(&self, n: usize) -> usize {
        if self.counts_base64 { base64_len(n) } else { n }
    }

    /// Whether a payload of `n` bytes fits.
    pub fn fits(&self, n: usize) -> bool {
        self.measure(n) <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Layer, read};
    use super::*;

    fn part(kind: ContentType, name: &str, body: &str) -> OutPart {
        OutPart {
            content_type: kind,
            filename: name.into(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn multipart_reads_back_as_the_parts_given() {
        let parts = vec![
            part(
                ContentType::CloudConfig,
                "cloud-config",
                "#cloud-config\nruncmd: [[a]]\n",
            ),
            part(ContentType::CloudConfig, "more", "#cloud-config\nruncmd: [[b]]"),
            part(ContentType::ShellScript, "setup.sh", "#!/bin/sh\necho Zoë\n"),
        ];
        let bytes = multipart(&parts);
        let read = read(&bytes, "user-data").unwrap();
        assert_eq!(read.findings, Vec::new());
        assert_eq!(read.parts.len(), 3);
        for (got, want) in read.parts.iter().zip(&parts) {
            assert_eq!(got.content_type, want.content_type);
            assert_eq!(got.filename.as_deref(), Some(want.filename.as_str()));
            assert_eq!(got.body, want.body);
            assert!(
                got.headers
                    .iter()
                    .any(|(k, v)| k == "Merge-Type" && v == MERGE_TYPE)
            );
        }
        assert!(matches!(read.parts[0].layers[0], Layer::Mime { index: 1, .. }));
        assert_eq!(multipart(&parts), bytes, "deterministic");
        let other = multipart(&parts[..2]);
        assert_ne!(&other[..60], &bytes[..60], "the boundary follows the content");
    }

    #[test]
    fn gzip_is_deterministic_and_reads_back() {
        let text = b"#cloud-config\nhostname: x\n".repeat(50);
        let gz = gzip(&text);
        assert_eq!(gz, gzip(&text));
        assert_eq!(&gz[3..8], &[0, 0, 0, 0, 0], "no flags (no name), mtime 0");
        let plain = read(&gz, "u").unwrap();
        assert_eq!(plain.parts[0].body, text);
        assert_eq!(plain.parts[0].layers, vec![Layer::Gzip]);
        let b64 = read(&base64(&gz), "u").unwrap();
        assert_eq!(b64.findings, Vec::new());
        assert_eq!(b64.parts[0].body, text);
        assert_eq!(b64.parts[0].layers, vec![Layer::Base64, Layer::Gzip]);
    }

    #[test]
    fn budgets() {
        assert_eq!(base64_len(49149), 65532);
        assert_eq!(base64_len(49152), 65536);
        let os = Budget::of(Provider::Openstack).unwrap();
        assert!(os.fits(49149) && !os.fits(49152));
        let aws = Budget::of(Provider::Aws).unwrap();
        assert!(aws.fits(16384) && !aws.fits(16385));
        assert!(Budget::of(Provider::Generic).is_none() && Budget::of(Provider::Nocloud).is_none());
        assert!(Budget::of(Provider::Gcp).unwrap().needs_text);
    }
}
