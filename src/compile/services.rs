//! `services`: new units are written to /etc/systemd/system, then each unit is enabled,
//! started, or stopped and disabled with `systemctl`, at the end of the first boot
//! (after packages have installed the units they ship).

use super::Ctx;
use crate::cloud_config::{Command, WriteFile};

/// Unit types systemd knows by suffix; a name without one is a `.service`.
const UNIT_SUFFIXES: &[&str] = &[
    ".service",
    ".socket",
    ".timer",
    ".path",
    ".mount",
    ".automount",
    ".target",
    ".swap",
    ".slice",
];

/// Stop and disable a unit; a unit that does not exist is already as wanted.
const DISABLE_SCRIPT: &str = "systemctl disable --now -- \"$1\" 2>/dev/null || \
     [ \"$(systemctl show --property=LoadState --value -- \"$1\")\" = not-found ]";

/// The full unit name of `name`.
pub(super) fn unit_name(name: &str) -> String {
    if UNIT_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        name.to_string()
    } else {
        format!("{name}.service")
    }
}

pub(super) fn compile(ctx: &mut Ctx) {
    for service in &ctx.spec.services {
        let s = &service.value;
        let unit = unit_name(&s.name.value);
        if let Some(text) = &s.unit {
            let content = match (&text.value.source, &text.value.content) {
                (Some(source), _) => match ctx.files.read_text(source, "unit file") {
                    Ok(t) => t,
                    Err(d) => {
                        ctx.error(d);
                        continue;
                    }
                },
                (None, Some(content)) => content.value.clone(),
                (None, None) => continue,
            };
            ctx.write_file(
                WriteFile::root(format!("/etc/systemd/system/{unit}"), content, "0644"),
                text.span,
            );
            ctx.daemon_reload(service.span);
        }
        for cmd in commands(&unit, s.enabled, s.started) {
            ctx.runcmd(cmd, service.span);
        }
    }
}

/// The systemctl commands that bring `unit` to the wanted state.
fn commands(unit: &str, enabled: bool, started: bool) -> Vec<Command> {
    match (enabled, started) {
        (true, true) => vec![Command::argv(["systemctl", "enable", "--now", "--", unit])],
        (true, false) => vec![Command::argv(["systemctl", "enable", "--", unit])],
        (false, true) => vec![Command::argv(["systemctl", "start", "--", unit])],
        (false, false) => vec![Command::argv([
            "sh",
            "-c",
            DISABLE_SCRIPT,
            "ctxgen-disable",
            unit,
        ])],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_a_type() {
        assert_eq!(unit_name("nginx"), "nginx.service");
        assert_eq!(unit_name("backup.timer"), "backup.timer");
    }
}
