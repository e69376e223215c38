"""Assertions shared by the e2e checkers (check_smoke.py, net.py).

Every assertion prints one line, `PASS  name` or `FAIL  name`, followed by its evidence
(indented, `|`) when it fails, or always with -v / CTXGEN_E2E_VERBOSE=1. `summary()`
prints the last line, `N passed, M failed`.
"""
import json
import os
import re
import sys

VERBOSE = "-v" in sys.argv or os.environ.get("CTXGEN_E2E_VERBOSE") == "1"

results = []


def check(name, ok, evidence=""):
    results.append(bool(ok))
    print(f"{'PASS' if ok else 'FAIL'}  {name}", flush=True)
    if evidence and (not ok or VERBOSE):
        for line in str(evidence).rstrip("\n").splitlines():
            print(f"        | {line}")
    return bool(ok)


def summary():
    """Print `N passed, M failed` (run.sh, which adds up several checkers, sets
    CTXGEN_E2E_PART to have it printed as a subtotal instead); return the exit status:
    0 when something was checked and nothing failed."""
    passed = sum(results)
    line = f"{passed} passed, {len(results) - passed} failed"
    part = os.environ.get("CTXGEN_E2E_PART")
    print(f"-- {part}: {line}" if part else line, flush=True)
    return 0 if results and passed == len(results) else 1


def load_report(path):
    with open(path) as f:
        return json.load(f)


def cloud_init(tag, r):
    """cloud-init finished the boot cleanly, as it sees it itself."""
    ci = r["cloud_init"]
    sl = ci["status_long"]
    sj = ci.get("status_json") or {}
    check(f"{tag}: cloud-init status is done, exit 0",
          sl["rc"] == 0 and sj.get("status") == "done", sl["out"] + sl["err"])
    errs = sj.get("errors") or []
    rec = sj.get("recoverable_errors") or {}
    check(f"{tag}: no cloud-init errors or recoverable errors (not degraded)",
          not errs and not rec, json.dumps({"errors": errs, "recoverable_errors": rec}, indent=1))
    issues = ci["log_issues_this_boot"]
    check(f"{tag}: no WARNING/ERROR/Traceback in cloud-init.log this boot", not issues,
          "\n".join(issues[:40]))
    sch = ci["schema_system"]
    check(f"{tag}: `cloud-init schema --system` accepts the user-data",
          sch["rc"] == 0, (sch["out"] + sch["err"])[-3000:])
    check(f"{tag}: no failed units", not r["failed_units"], "\n".join(r["failed_units"]))


def sshd(tag, r):
    """The effective sshd policy: no passwords, no root login."""
    eff = r["ssh"]["effective"]
    for k in ("passwordauthentication", "permitrootlogin", "kbdinteractiveauthentication"):
        check(f"{tag}: sshd -T {k} no", eff.get(k) == "no",
              json.dumps(eff) + "\n" + r["ssh"]["sshd_T_err"])


def firewall_rules(spec):
    """The nft rule texts the spec's firewall section asks for (ctxgen's syntax)."""
    fw = spec.get("firewall") or {}
    rules = []
    if fw.get("allow_ssh", True):
        rules.append("tcp dport 22 accept")
    for a in fw.get("allow", []):
        proto = a.get("protocol", "tcp")
        port = str(a["port"])
        if a.get("from"):
            for cidr in a["from"]:
                fam = "ip6" if ":" in cidr else "ip"
                rules.append(f"{fam} saddr {cidr} {proto} dport {port} accept")
        else:
            rules.append(f"{proto} dport {port} accept")
    return rules


def firewall(tag, r, spec):
    """ctxgen's table: family inet (IPv4 and IPv6 alike), input policy drop, the
    spec's ports open and nothing else accepted by port."""
    nft = r["nft"]["out"]
    table = nft[nft.find("table inet ctxgen"):] if "table inet ctxgen" in nft else ""
    # The table ends at the first line that closes it.
    m = re.search(r"^}\s*$", table, re.M)
    table = table[:m.end()] if m else table
    check(f"{tag}: nft table inet ctxgen (IPv4 and IPv6) loaded, input hook policy drop",
          re.search(r"type filter hook input priority (0|filter); policy drop;", table),
          nft or r["nft"]["err"])
    want = firewall_rules(spec)
    for rule in want + ['iifname "lo" accept', "ct state established,related accept"]:
        check(f"{tag}: nft rule `{rule}`", rule in table, table)
    extra = [l.strip() for l in table.splitlines()
             if "dport" in l and l.strip() not in want
             and not l.strip().startswith("ip6 saddr fe80::/10 udp dport 546")]
    check(f"{tag}: no port open beyond the spec's (and DHCPv6 replies)", not extra,
          "\n".join(extra))
    if (spec.get("firewall") or {}).get("allow_ssh", True) is False:
        check(f"{tag}: SSH closed", "tcp dport 22 accept" not in table, table)


def mounts(r):
    found = {}

    def walk(fs):
        for f in fs:
            found[f["target"]] = f
            walk(f.get("children", []))
    walk((r.get("findmnt") or {}).get("filesystems", []))
    return found


def unit(r, name):
    return r["units"].get(name, {})


def enabled_active(tag, r, name):
    p = unit(r, name)
    check(f"{tag}: {name} enabled and active",
          p.get("is_enabled") == "enabled" and p.get("is_active") == "active", json.dumps(p))


def file_is(tag, r, path, mode=None, owner=None, group=None, content=None, sha256=None):
    """One line for mode/owner, one for content, each only when asked."""
    f = r["files"].get(path, {})
    if mode or owner or group:
        ok = f.get("exists") and (mode is None or f.get("mode") == mode) \
            and (owner is None or f.get("owner") == owner) \
            and (group is None or f.get("group") == group)
        want = " ".join(x for x in (f"mode {mode}" if mode else "",
                                    f"owner {owner}" if owner else "",
                                    f"group {group}" if group else "") if x)
        check(f"{tag}: {path} {want}", ok,
              json.dumps({k: f.get(k) for k in ("exists", "mode", "owner", "group", "error")}))
    if content is not None:
        check(f"{tag}: {path} content exact", f.get("text") == content,
              f"want {content!r}\nhave {f.get('text')!r}")
    if sha256 is not None:
        check(f"{tag}: {path} content exact (sha256)", f.get("sha256") == sha256,
              f"want {sha256}\nhave {f.get('sha256')}")
    return f
