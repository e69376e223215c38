//! `packages`: index update, upgrade, installs (the spec's, then what other features
//! need), and extra repositories whose signing keys are embedded: apt sources with
//! `signed-by` a key file under /etc/apt/keyrings, or yum repositories with `gpgkey`
//! under /etc/pki/rpm-gpg. Key files are written early in the boot, before cloud-init
//! configures the package manager, so no gpg tool is needed on the image.

use base64::Engine;

use super::Ctx;
use crate::cloud_config::{Apt, AptSource, Encoding, WriteFile, YumRepo};
use crate::diag::{Code, Diagnostic};
use crate::source::Spanned;
use crate::spec::{Repository, TextSource};

pub(super) fn compile(ctx: &mut Ctx) {
    let spec = ctx.spec;
    let p = &spec.packages;
    let update = p.update.as_ref().is_none_or(|u| u.value);
    ctx.out.package_update = Some(update || !p.repositories.is_empty());
    ctx.out.package_upgrade = Some(p.upgrade);
    ctx.prov.record("/package_update", ctx.spec_span());
    ctx.prov.record("/package_upgrade", ctx.spec_span());
    let mut packages: Vec<String> = p.install.iter().map(|n| n.value.clone()).collect();
    for extra in std::mem::take(&mut ctx.extra_packages) {
        if !packages.contains(&extra) {
            packages.push(extra);
        }
    }
    if !packages.is_empty() {
        ctx.prov
            .record("/packages", p.install.first().map_or(ctx.spec_span(), |n| n.span));
    }
    if let Some(u) = &p.update
        && !u.value
        && !packages.is_empty()
    {
        ctx.error(
            Diagnostic::warning(
                Code::InvalidValue,
                format!("`update: false` has no effect: cloud-init refreshes the package index to install {}", packages.join(", ")),
            )
            .with_span(u.span)
            .with_hint("remove `update: false`, or install nothing (the firewall and CernVM-FS install packages too)"),
        );
    }
    ctx.out.packages = packages;
    for repo in &p.repositories {
        repository(ctx, repo);
    }
}

fn repository(ctx: &mut Ctx, repo: &Spanned<Repository>) {
    let r = &repo.value;
    let name = &r.name.value;
    let key = match &r.key {
        Some(k) => match key_bytes(ctx, k) {
            Some(bytes) => Some(bytes),
            None => return,
        },
        None => None,
    };
    if ctx.os.is_apt() {
        let mut options = String::new();
        if let Some((bytes, armored)) = key {
            let path = format!(
                "/etc/apt/keyrings/ctxgen-{name}.{}",
                if armored { "asc" } else { "gpg" }
            );
            ctx.write_file(key_file(&path, &bytes, armored), repo.span);
            options = format!("[signed-by={path}] ");
        }
        let suite = r.suite.as_ref().map_or("", |s| s.value.as_str());
        let components: Vec<&str> = r.components.iter().map(|c| c.value.as_str()).collect();
        let source = format!("deb {options}{} {suite} {}", r.url.value, components.join(" "));
        if ctx.out.apt.is_none() {
            ctx.prov.record("/apt", repo.span);
        }
        let apt = ctx.out.apt.get_or_insert_with(Apt::default);
        ctx.prov.record(format!("/apt/sources/{name}"), repo.span);
        apt.sources.insert(
            name.clone(),
            AptSource {
                source: source.trim_end().to_string(),
            },
        );
    } else {
        let gpgkey = key.map(|(bytes, armored)| {
            let path = format!("/etc/pki/rpm-gpg/ctxgen-{name}");
            ctx.write_file(key_file(&path, &bytes, armored), repo.span);
            format!("file://{path}")
        });
        ctx.prov.record(format!("/yum_repos/{name}"), repo.span);
        ctx.out.yum_repos.insert(
            name.clone(),
            YumRepo {
                name: name.clone(),
                baseurl: r.url.value.clone(),
                enabled: true,
                gpgcheck: true,
                gpgkey,
            },
        );
    }
}

fn key_file(path: &str, bytes: &[u8], armored: bool) -> WriteFile {
    let (encoding, content) = if armored {
        (None, String::from_utf8_lossy(bytes).into_owned())
    } else {
        (
            Some(Encoding::Base64),
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )
    };
    WriteFile {
        encoding,
        ..WriteFile::root(path, content, "0644")
    }
}

/// True when `bytes` start with an OpenPGP public-key packet (tag 6), in the old
/// packet format (one to four length bytes: 0x98..=0x9b) or the new one (0xc6).
fn is_public_key_packet(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(0x98..=0x9b | 0xc6))
}

/// The key's bytes and whether they are ASCII-armored; a private key is refused.
fn key_bytes(ctx: &mut Ctx, key: &Spanned<TextSource>) -> Option<(Vec<u8>, bool)> {
    let (bytes, span) = match (&key.value.file, &key.value.content) {
        (Some(file), _) => (ctx.files.read(file).map_err(|d| ctx.error(d)).ok()?, file.span),
        (None, Some(content)) => (content.value.clone().into_bytes(), content.span),
        (None, None) => return None,
    };
    let text = String::from_utf8_lossy(&bytes);
    let problem = if text.contains("PRIVATE KEY BLOCK") {
        Some((
            "this is an OpenPGP private key",
            "use the public key: `gpg --export --armor KEYID`",
        ))
    } else if text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
        return Some((bytes, true));
    } else if is_public_key_packet(&bytes) {
        return Some((bytes, false));
    } else {
        Some((
            "this is not an OpenPGP public key",
            "give the ASCII-armored key (`-----BEGIN PGP PUBLIC KEY BLOCK-----`) or a binary .gpg key",
        ))
    };
    if let Some((message, hint)) = problem {
        ctx.error(
            Diagnostic::error(Code::InvalidValue, message)
                .with_span(span)
                .with_hint(hint),
        );
    }
    None
}
