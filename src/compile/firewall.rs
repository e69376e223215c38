//! `firewall`: default-deny inbound on IPv4 and IPv6, established traffic and loopback
//! allowed, SSH open unless closed, the listed ports and sources open.
//!
//! Backends: nftables (a ruleset in its own table, loaded by a small unit that starts
//! before the network on every boot, and on first boot by an early boot step as soon
//! as `nft` exists — before packages are installed and start services), ufw, or
//! firewalld (zone `drop` plus rules), turned on first thing in the first boot's
//! commands.

use std::fmt::Write;

use super::Ctx;
use crate::cloud_config::{Command, WriteFile};
use crate::spec::parse_cidr;
use crate::spec::{AllowRule, FirewallBackend, Os, PortRange};

const RULESET_PATH: &str = "/etc/ctxgen/firewall.nft";
/// Loads the ruleset given as `$1` when `nft` is installed; on an image without it,
/// the unit installed after the packages takes over.
const EARLY_LOAD: &str = "if command -v nft >/dev/null 2>&1; then printf '%s' \"$1\" | nft -f /dev/stdin; fi";
const UNIT: &str = "ctxgen-firewall.service";

/// The backend `auto` means on each OS family.
fn backend(choice: FirewallBackend, os: Os) -> FirewallBackend {
    match (choice, os) {
        (FirewallBackend::Auto, Os::Ubuntu) => FirewallBackend::Ufw,
        (FirewallBackend::Auto, Os::Rhel | Os::Fedora) => FirewallBackend::Firewalld,
        (FirewallBackend::Auto, _) => FirewallBackend::Nftables,
        (chosen, _) => chosen,
    }
}

pub(super) fn compile(ctx: &mut Ctx) {
    let fw = &ctx.spec.firewall;
    if !fw.enabled {
        return;
    }
    let span = ctx.spec_span();
    let rules: Vec<&AllowRule> = fw.allow.iter().map(|r| &r.value).collect();
    match backend(fw.backend.value, ctx.os) {
        FirewallBackend::Ufw => {
            ctx.need_package("ufw");
            for cmd in ufw(fw.allow_ssh, &rules) {
                ctx.runcmd(cmd, span);
            }
        }
        FirewallBackend::Firewalld => {
            ctx.need_package("firewalld");
            for cmd in firewalld(fw.allow_ssh, &rules) {
                ctx.runcmd(cmd, span);
            }
        }
        FirewallBackend::Nftables | FirewallBackend::Auto => {
            ctx.need_package("nftables");
            let ruleset = nftables(&ctx.spec.name.value, fw.allow_ssh, &rules);
            ctx.bootcmd(
                Command::argv(["sh", "-c", EARLY_LOAD, "ctxgen-firewall", &ruleset]),
                span,
            );
            ctx.write_file(WriteFile::root(RULESET_PATH, ruleset, "0600"), span);
            ctx.write_file(
                WriteFile::root(format!("/etc/systemd/system/{UNIT}"), unit(), "0644"),
                span,
            );
            ctx.daemon_reload(span);
            ctx.runcmd(Command::argv(["systemctl", "enable", UNIT]), span);
            ctx.runcmd(Command::argv(["systemctl", "restart", UNIT]), span);
        }
    }
}

fn unit() -> String {
    format!(
        "# Written by ctxgen: loads the inbound firewall before the network comes up.\n\
         [Unit]\n\
         Description=ctxgen inbound firewall\n\
         DefaultDependencies=no\n\
         Before=network-pre.target shutdown.target\n\
         Wants=network-pre.target\n\
         After=nftables.service\n\
         Conflicts=shutdown.target\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         RemainAfterExit=yes\n\
         ExecStart=/usr/sbin/nft -f {RULESET_PATH}\n\
         ExecStop=/usr/sbin/nft delete table inet ctxgen\n\
         \n\
         [Install]\n\
         WantedBy=sysinit.target\n"
    )
}

/// True for an IPv6 network (validation has made sure every source parses).
fn is_ipv6(cidr: &str) -> bool {
    parse_cidr(cidr).is_some_and(|(addr, _)| addr.is_ipv6())
}

/// `443` or `8000-8100` as nft writes them.
fn nft_ports(p: PortRange) -> String {
    if p.first == p.last {
        p.first.to_string()
    } else {
        format!("{}-{}", p.first, p.last)
    }
}

/// The nftables ruleset. It lives in its own table, so it neither flushes nor is
/// flushed by other tables; a packet dropped by any base chain stays dropped.
fn nftables(name: &str, allow_ssh: bool, rules: &[&AllowRule]) -> String {
    let mut s = format!(
        "#!/usr/sbin/nft -f\n\
         # Written by ctxgen for `{name}`: inbound default-deny on IPv4 and IPv6.\n\
         table inet ctxgen\n\
         delete table inet ctxgen\n\
         table inet ctxgen {{\n\
         \tchain input {{\n\
         \t\ttype filter hook input priority 0; policy drop;\n\
         \t\tct state established,related accept\n\
         \t\tct state invalid drop\n\
         \t\tiifname \"lo\" accept\n\
         \t\tmeta l4proto icmp accept\n\
         \t\tmeta l4proto ipv6-icmp accept\n\
         \t\tip6 saddr fe80::/10 udp dport 546 accept\n"
    );
    if allow_ssh {
        s.push_str("\t\ttcp dport 22 accept\n");
    }
    for rule in rules {
        let proto = rule.protocol.as_str();
        let ports = nft_ports(rule.port.value);
        if rule.from.is_empty() {
            let _ = writeln!(s, "\t\t{proto} dport {ports} accept");
        }
        for cidr in &rule.from {
            let family = if is_ipv6(&cidr.value) { "ip6" } else { "ip" };
            let _ = writeln!(
                s,
                "\t\t{family} saddr {} {proto} dport {ports} accept",
                cidr.value
            );
        }
    }
    s.push_str("\t}\n}\n");
    s
}

fn ufw(allow_ssh: bool, rules: &[&AllowRule]) -> Vec<Command> {
    let mut cmds = vec![
        Command::argv(["ufw", "default", "deny", "incoming"]),
        Command::argv(["ufw", "default", "allow", "outgoing"]),
    ];
    if allow_ssh {
        cmds.push(Command::argv(["ufw", "allow", "22/tcp"]));
    }
    for rule in rules {
        let p = rule.port.value;
        let ports = if p.first == p.last {
            p.first.to_string()
        } else {
            format!("{}:{}", p.first, p.last)
        };
        let proto = rule.protocol.as_str();
        if rule.from.is_empty() {
            cmds.push(Command::argv(["ufw", "allow", &format!("{ports}/{proto}")]));
        }
        for cidr in &rule.from {
            cmds.push(Command::argv([
                "ufw",
                "allow",
                "proto",
                proto,
                "from",
                &cidr.value,
                "to",
                "any",
                "port",
                &ports,
            ]));
        }
    }
    cmds.push(Command::argv(["ufw", "--force", "enable"]));
    cmds
}

fn firewalld(allow_ssh: bool, rules: &[&AllowRule]) -> Vec<Command> {
    let zone = "--zone=drop";
    let mut cmds = vec![
        Command::argv(["firewall-offline-cmd", "--set-default-zone=drop"]),
        // ICMPv6 carries neighbour discovery: without it IPv6 stops working.
        Command::argv(["firewall-offline-cmd", zone, "--add-protocol=ipv6-icmp"]),
        // Replies to the DHCPv6 client, as the nftables ruleset allows them.
        Command::argv(["firewall-offline-cmd", zone, "--add-service=dhcpv6-client"]),
    ];
    if allow_ssh {
        cmds.push(Command::argv(["firewall-offline-cmd", zone, "--add-service=ssh"]));
    }
    for rule in rules {
        let p = rule.port.value;
        let ports = nft_ports(p);
        let proto = rule.protocol.as_str();
        if rule.from.is_empty() {
            cmds.push(Command::argv([
                "firewall-offline-cmd",
                zone,
                &format!("--add-port={ports}/{proto}"),
            ]));
        }
        for cidr in &rule.from {
            let family = if is_ipv6(&cidr.value) { "ipv6" } else { "ipv4" };
            let rich = format!(
                "rule family=\"{family}\" source address=\"{}\" port port=\"{ports}\" protocol=\"{proto}\" accept",
                cidr.value
            );
            cmds.push(Command::argv([
                "firewall-offline-cmd",
                zone,
                &format!("--add-rich-rule={rich}"),
            ]));
        }
    }
    cmds.push(Command::argv(["systemctl", "enable", "firewalld"]));
    cmds.push(Command::argv(["systemctl", "restart", "firewalld"]));
    cmds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Spanned;
    use crate::spec::Protocol;

    fn rule(port: u16, from: &[&str]) -> AllowRule {
        AllowRule {
            port: Spanned::new(
                PortRange {
                    first: port,
                    last: port,
                },
                Default::default(),
            ),
            protocol: Protocol::Tcp,
            from: from
                .iter()
                .map(|f| Spanned::new((*f).to_string(), Default::default()))
                .collect(),
        }
    }

    #[test]
    fn nftables_ruleset_is_default_deny_with_listed_ports() {
        let r1 = rule(443, &[]);
        let r2 = rule(9100, &["10.0.0.0/8", "fd00::/8"]);
        let text = nftables("app", true, &[&r1, &r2]);
        assert!(text.contains("policy drop;"));
        assert!(text.contains("tcp dport 22 accept"));
        assert!(text.contains("tcp dport 443 accept"));
        assert!(text.contains("ip saddr 10.0.0.0/8 tcp dport 9100 accept"));
        assert!(text.contains("ip6 saddr fd00::/8 tcp dport 9100 accept"));
        assert!(!nftables("app", false, &[]).contains("dport 22"));
    }

    #[test]
    fn auto_backend_follows_os() {
        assert_eq!(backend(FirewallBackend::Auto, Os::Ubuntu), FirewallBackend::Ufw);
        assert_eq!(
            backend(FirewallBackend::Auto, Os::Fedora),
            FirewallBackend::Firewalld
        );
        assert_eq!(backend(FirewallBackend::Auto, Os::Any), FirewallBackend::Nftables);
        assert_eq!(
            backend(FirewallBackend::Nftables, Os::Ubuntu),
            FirewallBackend::Nftables
        );
    }
}
