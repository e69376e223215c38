//! `host`: hostname, FQDN, time zone, locale and NTP servers.
//!
//! cloud-init sets a locale by running `locale-gen LOCALE`, but Debian's `locale-gen`
//! ignores its arguments and builds only what /etc/locale.gen enables, so the locale
//! step fails there. On apt systems (and `os: any`) the locale's line is appended to
//! /etc/locale.gen early in the boot, before cloud-init's locale step.

use super::Ctx;
use crate::cloud_config::{Ntp, WriteFile};
use crate::diag::{Code, Diagnostic};
use crate::spec::Os;

/// Locales every system has without generating them.
const BUILT_IN_LOCALES: &[&str] = &["C", "POSIX", "C.UTF-8", "C.utf8"];

pub(super) fn compile(ctx: &mut Ctx) {
    let host = &ctx.spec.host;
    let mut set = |key: &str, field: &Option<crate::source::Spanned<String>>| {
        field.as_ref().map(|v| {
            ctx.prov.record(format!("/{key}"), v.span);
            v.value.clone()
        })
    };
    let hostname = set("hostname", &host.hostname);
    let fqdn = set("fqdn", &host.fqdn);
    let timezone = set("timezone", &host.timezone);
    let locale = set("locale", &host.locale);
    if let Some(name) = host.fqdn.as_ref().or(host.hostname.as_ref()) {
        // Only the 127.0.1.1 line, so `hostname -f` and sudo resolve the name; the rest
        // of /etc/hosts stays the image's.
        ctx.prov.record("/manage_etc_hosts", name.span);
        ctx.out.manage_etc_hosts = Some("localhost");
    }
    ctx.out.hostname = hostname;
    ctx.out.fqdn = fqdn;
    ctx.out.timezone = timezone;
    ctx.out.locale = locale;
    if let Some(l) = &host.locale
        && matches!(ctx.os, Os::Debian | Os::Ubuntu | Os::Any)
        && !BUILT_IN_LOCALES.contains(&l.value.as_str())
    {
        let utf8 = ["UTF-8", "utf8"]
            .iter()
            .any(|c| l.value.split_once('.').is_some_and(|(_, cs)| cs == *c));
        if utf8 {
            let line = format!("{} UTF-8\n", l.value);
            ctx.write_file(
                WriteFile {
                    append: true,
                    ..WriteFile::root("/etc/locale.gen", line, "0644")
                },
                l.span,
            );
        } else {
            ctx.error(
                Diagnostic::warning(
                    Code::InvalidValue,
                    format!("ctxgen cannot enable `{}` in /etc/locale.gen", l.value),
                )
                .with_span(l.span)
                .with_hint(
                    "use a UTF-8 locale such as `en_US.UTF-8`, or an image where this locale is generated",
                ),
            );
        }
    }
    if let Some(first) = host.ntp_servers.first() {
        ctx.prov.record("/ntp", first.span);
        ctx.out.ntp = Some(Ntp {
            enabled: true,
            servers: host.ntp_servers.iter().map(|s| s.value.clone()).collect(),
        });
    }
}
