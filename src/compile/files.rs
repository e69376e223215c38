//! `files`: `write_files` entries from inline content or local files, rendered when
//! `template: true`, with the smallest faithful encoding (plain, b64 or gz+b64).

use crate::userdata::write::gzip;
use base64::Engine;

use super::Ctx;
use crate::cloud_config::{Encoding, WriteFile};
use crate::diag::{Code, Diagnostic};
use crate::render::Origin;
use crate::source::Spanned;
use crate::spec::FileEntry;

pub(super) fn compile(ctx: &mut Ctx) {
    for file in &ctx.spec.files {
        if let Some(wf) = entry(ctx, &file.value) {
            ctx.write_file(wf, file.span);
        }
    }
}

fn entry(ctx: &mut Ctx, f: &FileEntry) -> Option<WriteFile> {
    ctx.rendered_secret = false;
    let bytes = content(ctx, f)?;
    // A file that takes a secret is readable by its owner only, unless the spec says.
    let default_mode = if ctx.rendered_secret { "0600" } else { "0644" };
    let (owner, defer) = ownership(ctx, f)?;
    let (encoding, content) = encode(&bytes);
    Some(WriteFile {
        path: f.path.value.clone(),
        encoding,
        content,
        owner,
        permissions: normalize_mode(f.mode.as_ref().map_or(default_mode, |m| m.value.as_str())),
        append: false,
        defer,
    })
}

/// The file's bytes: read, and rendered when it is a template.
fn content(ctx: &mut Ctx, f: &FileEntry) -> Option<Vec<u8>> {
    match (&f.source, &f.content) {
        (Some(source), _) => {
            let bytes = ctx.files.read(source).map_err(|d| ctx.error(d)).ok()?;
            if !f.template {
                return Some(bytes);
            }
            let text = String::from_utf8(bytes)
                .map_err(|_| {
                    ctx.error(
                        Diagnostic::error(
                            Code::LocalFile,
                            format!("template `{}` is not UTF-8 text", source.value),
                        )
                        .with_span(source.span)
                        .with_hint("templates must be UTF-8; remove `template: true` for binary files"),
                    );
                })
                .ok()?;
            let id = ctx.sources.add(source.value.clone(), text.clone());
            ctx.render(&source.value, &text, Origin::File(id))
                .map(String::into_bytes)
        }
        (None, Some(content)) if f.template => ctx
            .render(&f.path.value, &content.value, Origin::Inline(content.span))
            .map(String::into_bytes),
        (None, Some(content)) => Some(content.value.clone().into_bytes()),
        (None, None) => None,
    }
}

/// Owner and whether the write waits for users and packages. A file owned by a user of
/// this spec is deferred unless the spec says otherwise, and then it is an error:
/// cloud-init would write it before the user exists.
fn ownership(ctx: &mut Ctx, f: &FileEntry) -> Option<(String, bool)> {
    let owner = f
        .owner
        .as_ref()
        .map_or("root:root", |o| o.value.as_str())
        .to_string();
    let user = owner.split(':').next().unwrap_or_default();
    let spec_user = ctx.spec.users.iter().any(|u| u.value.name.value == user);
    match &f.defer {
        Some(Spanned { value: false, span }) if spec_user => {
            ctx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "`{}` is owned by `{user}`, a user this spec creates, but is not deferred",
                        f.path.value
                    ),
                )
                .with_span(*span)
                .with_hint("remove `defer: false`: the file must be written after its owner exists"),
            );
            None
        }
        Some(d) => Some((owner, d.value)),
        None => Some((owner, spec_user)),
    }
}

/// "644" and "0644" both mean rw-r--r--; cloud-init gets four digits.
fn normalize_mode(mode: &str) -> String {
    format!("{mode:0>4}")
}

/// Bytes an encoding must save before readable text gives way to it: reviewing and
/// diffing user-data matters more than a few hundred bytes.
const WORTH_ENCODING: usize = 1024;

/// Chooses the encoding that carries the bytes exactly: UTF-8 text stays plain unless
/// an encoding is clearly smaller (by [`WORTH_ENCODING`] bytes and a quarter); other
/// bytes take the smaller of b64 and gz+b64.
pub(super) fn encode(bytes: &[u8]) -> (Option<Encoding>, String) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let gz = gzip(bytes);
    let plain_len = std::str::from_utf8(bytes).ok().map(plain_cost);
    let b64_len = bytes.len().div_ceil(3) * 4;
    let gz_len = gz.len().div_ceil(3) * 4;
    let clearly_smaller = |p: usize| {
        let best = b64_len.min(gz_len);
        best + WORTH_ENCODING <= p && best * 4 <= p * 3
    };
    match plain_len {
        Some(p) if !clearly_smaller(p) => (None, String::from_utf8_lossy(bytes).into_owned()),
        _ if gz_len < b64_len => (Some(Encoding::GzipBase64), b64.encode(gz)),
        _ => (Some(Encoding::Base64), b64.encode(bytes)),
    }
}

/// Bytes a text takes in the YAML output: escapes cost more than one byte.
fn plain_cost(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => 1,
            c if c.is_control() => 4,
            c => c.len_utf8(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stays_plain() {
        assert_eq!(
            encode(b"server_name example.org;\n"),
            (None, "server_name example.org;\n".into())
        );
        let page = "<p>hello</p>\n".repeat(60);
        assert_eq!(encode(page.as_bytes()).0, None, "a small page stays readable");
    }

    #[test]
    fn binary_and_repetitive_content_is_encoded() {
        let (enc, _) = encode(&[0xff, 0x00, 0x01]);
        assert_eq!(enc, Some(Encoding::Base64));
        let big = "x".repeat(10_000);
        let (enc, text) = encode(big.as_bytes());
        assert_eq!(enc, Some(Encoding::GzipBase64));
        assert!(text.len() < 200);
    }

    #[test]
    fn gzip_is_deterministic() {
        assert_eq!(gzip(b"abc"), gzip(b"abc"));
    }

    #[test]
    fn modes_get_four_digits() {
        assert_eq!(normalize_mode("644"), "0644");
        assert_eq!(normalize_mode("0600"), "0600");
        assert_eq!(normalize_mode("1777"), "1777");
    }
}
