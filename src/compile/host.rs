//! `host`: hostname, FQDN, time zone, locale and NTP servers.

use super::Ctx;
use crate::cloud_config::Ntp;

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
    ctx.out.hostname = hostname;
    ctx.out.fqdn = fqdn;
    ctx.out.timezone = timezone;
    ctx.out.locale = locale;
    if let Some(first) = host.ntp_servers.first() {
        ctx.prov.record("/ntp", first.span);
        ctx.out.ntp = Some(Ntp {
            enabled: true,
            servers: host.ntp_servers.iter().map(|s| s.value.clone()).collect(),
        });
    }
}
