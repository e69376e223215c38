#!/usr/bin/env python3
"""Check the probe reports of a smoke run against what specs/smoke.yaml asks for.

    tests/e2e/check_smoke.py OUT_DIR [IMAGE_DIR]

OUT_DIR is what boot.sh filled: boot-1/ (first boot) and, when present, boot-2/ (the
same disks booted again). IMAGE_DIR (default: the one recorded in OUT_DIR/image) has
the image's own SSH host key fingerprints, which the VM must not keep.

Every expectation prints one line, PASS or FAIL, with the evidence when it fails
(and with -v always); the last line is "N passed, N failed". Exit status 1 when
anything failed. Expected values come from the spec and its files where they can,
so editing the spec does not silently leave stale expectations behind.
"""
import hashlib
import json
import os
import re
import sys

import yaml  # PyYAML: the test oracles install it (python3-yaml)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import checks  # noqa: E402
from checks import check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_DIR = os.path.join(HERE, "specs")
ARGS = [a for a in sys.argv[1:] if a != "-v"]


def load(path):
    with open(path) as f:
        return json.load(f)


def marker_lines(report):
    text = (report.get("markers") or {}).get("/var/lib/smoke/marker") or ""
    return text.splitlines()


def short_boot_id(report):
    return report["probe"]["boot_id"].replace("-", "")[:8]


def keys_in(path):
    lines = open(os.path.join(SPEC_DIR, path)).read().splitlines()
    return [l.strip() for l in lines if l.strip() and not l.startswith("#")]


def data_disk(boot_dir):
    facts = {}
    try:
        text = open(os.path.join(boot_dir, "data-disk.txt")).read()
    except OSError:
        return facts
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep and k in ("Filesystem UUID", "Filesystem created", "Mount count", "Filesystem volume name"):
            facts[k] = v.strip()
    facts["first-boot.txt"] = "first-boot.txt" in text
    return facts


def common_checks(tag, r, spec):
    """What must hold on every boot."""
    checks.cloud_init(tag, r)

    # Host.
    check(f"{tag}: hostname is {spec['host']['hostname']}",
          r["host"]["hostname"] == spec["host"]["hostname"], r["host"])
    # `hostname -f` needs the name in /etc/hosts (there is no DNS in the VM).
    check(f"{tag}: `hostname -f` gives the spec's fqdn {spec['host']['fqdn']}",
          r["host"]["fqdn"] == spec["host"]["fqdn"],
          f"hostname -f: {r['host']['fqdn']!r}\n/etc/hosts:\n" + (r["files"]["/etc/hosts"].get("text") or ""))

    tz = spec["host"].get("timezone")
    if tz:
        check(f"{tag}: timezone {tz}", r["host"]["timezone"].endswith("/" + tz), r["host"]["timezone"])
    loc = spec["host"].get("locale")
    if loc:
        check(f"{tag}: locale {loc} is the system default (/etc/default/locale)",
              re.search(rf"^LANG={re.escape(loc)}$", r["host"]["locale"] or "", re.M), r["host"]["locale"])
        norm = loc.replace("UTF-8", "utf8")
        check(f"{tag}: locale {loc} generated (locale -a)", norm in r["host"].get("locales_available", []),
              " ".join(r["host"].get("locales_available", [])))

    # Firewall: the ctxgen table, default drop, the spec's rules; the SSH policy as
    # sshd sees it.
    checks.firewall(tag, r, spec)
    checks.sshd(tag, r)

    # Units.
    u = r["units"]
    for name in ("ctxgen-firewall.service", "smoke-oneshot.service", "ssh.service"):
        p = u.get(name, {})
        check(f"{tag}: {name} enabled and active",
              p.get("is_enabled") == "enabled" and p.get("is_active") == "active",
              json.dumps(p))
    p = u.get("smoke-started-only.service", {})
    check(f"{tag}: smoke-started-only.service (enabled: false) not enabled",
          p.get("is_enabled") == "disabled", json.dumps(p))
    p = u.get("smoke-enabled-only.service", {})
    check(f"{tag}: smoke-enabled-only.service (enabled: true) enabled",
          p.get("is_enabled") == "enabled", json.dumps(p))
    p = u.get("rpcbind.service", {})
    check(f"{tag}: rpcbind.service (not installed) is not active",
          p.get("is_active") != "active" and p.get("LoadState") == "not-found", json.dumps(p))

    # Volume and swap.
    m = checks.mounts(r).get("/data", {})
    check(f"{tag}: /data mounted from /dev/vdb, ext4",
          m.get("source") == "/dev/vdb" and m.get("fstype") == "ext4", json.dumps(m))
    fstab = r["files"]["/etc/fstab"].get("text", "")
    data_lines = [l for l in fstab.splitlines() if not l.startswith("#") and len(l.split()) > 1 and l.split()[1] == "/data"]
    check(f"{tag}: exactly one /etc/fstab line for /data, by LABEL=data",
          len(data_lines) == 1 and data_lines[0].split()[0] == "LABEL=data", fstab)
    check(f"{tag}: blkid shows /dev/vdb ext4 labelled data",
          any(l.startswith("/dev/vdb:") and 'LABEL="data"' in l and 'TYPE="ext4"' in l for l in r["blkid"]),
          "\n".join(r["blkid"]))
    # swapon counts the usable size (the file less its one-page header): check the
    # file's own size instead.
    swap_path = spec["swap"].get("path", "/swap.img")
    check(f"{tag}: swap file {swap_path} active",
          re.search(rf"^{re.escape(swap_path)}\s+file\s", r["swapon"], re.M), r["swapon"] or r["proc_swaps"])
    sf = r["files"].get(swap_path, {})
    check(f"{tag}: swap file is 256 MiB, mode 0600, owned by root",
          sf.get("size") == 256 * 2**20 and sf.get("mode") == "0600" and sf.get("owner") == "root",
          json.dumps({k: sf.get(k) for k in ("exists", "size", "mode", "owner")}))


def first_boot_checks(r, spec, image_dir, out):
    tag = "smoke boot 1"
    u = r["units"]
    check("smoke boot 1: smoke-enabled-only.service (started: false) not started on the first boot",
          u.get("smoke-enabled-only.service", {}).get("is_active") == "inactive",
          json.dumps(u.get("smoke-enabled-only.service")))
    check("smoke boot 1: smoke-started-only.service (started: true) active on the first boot",
          u.get("smoke-started-only.service", {}).get("is_active") == "active",
          json.dumps(u.get("smoke-started-only.service")))

    # packages.update: false can only hold when nothing is installed (ctxgen warns
    # otherwise); when a spec says it, apt must not touch the network.
    try:
        log = open(os.path.join(out, "boot-1", "disk", "cloud-init.log")).read()
    except OSError:
        log = ""
    apt = [l for l in log.splitlines() if "Running command ['apt-get'" in l or "W: Failed to fetch" in l]
    if spec.get("packages", {}).get("update") is False:
        check("smoke boot 1: packages.update false: cloud-init ran no `apt-get update`",
              not any("'update']" in l for l in apt), "\n".join(l[:300] for l in apt))
    # Users.
    users = r["users"]
    check("smoke boot 1: default user `debian` not created (default_user: remove)",
          not users.get("debian", {}).get("exists"), users.get("debian"))
    for su in spec["users"]:
        name = su["name"]
        d = users.get(name, {})
        check(f"smoke boot 1: user {name} exists", d.get("exists"), d.get("getent"))
        if not d.get("exists"):
            continue
        f = d["getent"].split(":")
        if "shell" in su:
            check(f"smoke boot 1: {name} shell {su['shell']}", f[6] == su["shell"], d["getent"])
        if "gecos" in su:
            check(f"smoke boot 1: {name} gecos {su['gecos']!r}", f[4].split(",")[0] == su["gecos"], d["getent"])
        for g in su.get("groups", []):
            check(f"smoke boot 1: {name} in group {g}", re.search(rf"\b\d+\({g}\)", d["id"].split("groups=")[-1]), d["id"])
        check(f"smoke boot 1: {name} password locked (passwd -S says L)",
              len(d["passwd_S"].split()) > 1 and d["passwd_S"].split()[1] == "L",
              d["passwd_S"] + f"\nshadow: {d['shadow']}")
        sudo = d["sudo_l"]["out"]
        if su.get("sudo") == "nopasswd":
            check(f"smoke boot 1: {name} may run anything with sudo, no password",
                  "(ALL) NOPASSWD: ALL" in sudo, sudo)
        else:
            check(f"smoke boot 1: {name} has no sudo rights", "not allowed to run sudo" in sudo, sudo)
        want = []
        for k in su.get("ssh_keys", []):
            want += keys_in(k["file"]) if isinstance(k, dict) else [k]
        ak = d["authorized_keys"]
        have = (ak.get("text") or "").splitlines()
        check(f"smoke boot 1: {name}'s authorized_keys holds exactly the spec's {len(want)} key(s)",
              sorted(have) == sorted(want), ak.get("text") or json.dumps(ak))
        check(f"smoke boot 1: {name}'s authorized_keys owned by {name}, mode 0600",
              ak.get("owner") == name and ak.get("mode") == "0600", json.dumps({k: ak.get(k) for k in ("owner", "group", "mode")}))
        sd = d["ssh_dir"]
        check(f"smoke boot 1: {name}'s ~/.ssh owned by {name}, mode 0700",
              sd.get("owner") == name and sd.get("mode") == "0700", json.dumps({k: sd.get(k) for k in ("owner", "group", "mode")}))

    # Host keys: fresh, not the image's.
    image_fps = set()
    try:
        for line in open(os.path.join(image_dir, "image-host-keys.txt")):
            image_fps.add(line.split()[1])
    except OSError:
        pass
    vm_fps = {l.split()[1]: l for l in r["ssh"]["host_keys"] if len(l.split()) > 1}
    check("smoke boot 1: SSH host keys ed25519, ecdsa and rsa present",
          {t for t in ("ED25519", "ECDSA", "RSA") if any(f"({t})" in l for l in vm_fps.values())} == {"ED25519", "ECDSA", "RSA"},
          "\n".join(vm_fps.values()))
    check("smoke boot 1: SSH host keys are fresh (none is the image's)",
          image_fps and not (image_fps & set(vm_fps)),
          "image: " + " ".join(sorted(image_fps)) + "\nvm:    " + " ".join(sorted(vm_fps)))
    dropin = r["ssh"]["dropins"].get("01-ctxgen.conf", {})
    check("smoke boot 1: sshd drop-in 01-ctxgen.conf present", dropin.get("exists"), json.dumps(r["ssh"]["dropins"])[:2000])

    # Files.
    files = {f["path"]: f for f in spec["files"]}
    for path, f in files.items():
        facts = r["files"].get(path, {})
        want_owner = f.get("owner", "root:root")
        want_user, _, want_group = want_owner.partition(":")
        want_group = want_group or want_user
        want_mode = f.get("mode", "0644")
        check(f"smoke boot 1: {path} mode {want_mode}, owner {want_user}:{want_group}",
              facts.get("mode") == want_mode and facts.get("owner") == want_user and facts.get("group") == want_group,
              json.dumps({k: facts.get(k) for k in ("exists", "mode", "owner", "group", "error")}))
        if "content" in f:
            want = f["content"].encode()
        elif f.get("template"):
            want = None  # rendered text is checked below
        else:
            want = open(os.path.join(SPEC_DIR, f["source"]), "rb").read()
        if want is not None:
            check(f"smoke boot 1: {path} content exact (sha256)",
                  facts.get("sha256") == hashlib.sha256(want).hexdigest(),
                  f"want {hashlib.sha256(want).hexdigest()}\nhave {facts.get('sha256')}\n{facts.get('text', '')}")
    tpl = r["files"].get("/etc/smoke/templated.conf", {}).get("text")
    v = spec["vars"]
    want_tpl = ("# smoke template, rendered at build time by ctxgen\n"
                f"site = {v['site']}\nport = {v['port']}\n"
                "# values that YAML 1.1 would misread if they were not kept as text\n"
                f"flags = {','.join(v['flags'])}\n" + "".join(f"peer = {p}\n" for p in v["peers"]))
    check("smoke boot 1: templated file rendered with vars", tpl == want_tpl, f"want:\n{want_tpl}have:\n{tpl}")
    fw = r["files"].get("/etc/ctxgen/firewall.nft", {})
    check("smoke boot 1: /etc/ctxgen/firewall.nft mode 0600", fw.get("mode") == "0600", json.dumps(fw)[:500])

    # Commands and their order.
    b = short_boot_id(r)
    lines = marker_lines(r)
    tags = [l.split()[0] for l in lines]
    check("smoke boot 1: every_boot argv step ran with its argument intact",
          f"every_boot-argv {b} [it's \"quoted\"; $HOME #x yes 0644 22:30]" in lines, "\n".join(lines))
    check("smoke boot 1: every_boot shell step ran after the volume was mounted and the firewall loaded",
          f"every_boot-shell {b} data=mounted firewall=up" in lines, "\n".join(lines))
    check("smoke boot 1: first_boot argv step ran with its argument intact",
          f"first_boot-argv {b} [a  b;c]" in lines, "\n".join(lines))
    check("smoke boot 1: new unit started before the first_boot commands (first_boot saw it active)",
          f"first_boot-shell {b} unit=active" in lines, "\n".join(lines))
    want_order = ["every_boot-argv", "every_boot-shell", "unit", "unit-started-only",
                  "first_boot-argv", "first_boot-shell", "first_boot-script"]
    check("smoke boot 1: marker order every_boot < services in spec order < first_boot", tags == want_order,
          "want " + " ".join(want_order) + "\nhave " + " ".join(tags))
    check("smoke boot 1: first_boot step wrote to the volume (/data/first-boot.txt)",
          r["files"].get("/data/first-boot.txt", {}).get("exists"), json.dumps(r["files"].get("/data/first-boot.txt")))


def second_boot_checks(r1, r2, d1, d2):
    b1, b2 = short_boot_id(r1), short_boot_id(r2)
    check("smoke boot 2: a different boot (new boot id), same instance",
          b1 != b2 and r2["probe"]["boot"] == 2, f"{b1} {b2} probe boot {r2['probe']['boot']}")
    check("smoke boot 2: data volume not reformatted (same filesystem UUID and creation time)",
          d1.get("Filesystem UUID") and d1.get("Filesystem UUID") == d2.get("Filesystem UUID")
          and d1.get("Filesystem created") == d2.get("Filesystem created"),
          json.dumps({"boot1": d1, "boot2": d2}, indent=1))
    check("smoke boot 2: the first boot's file on the volume is still there",
          r2["files"].get("/data/first-boot.txt", {}).get("exists") and d2.get("first-boot.txt"),
          json.dumps(r2["files"].get("/data/first-boot.txt")))
    lines = marker_lines(r2)
    mine = [l for l in lines if len(l.split()) > 1 and l.split()[1] == b2]
    tags = sorted(l.split()[0] for l in mine)
    check("smoke boot 2: every_boot steps and the enabled units ran; first_boot steps and the "
          "started-only unit did not",
          tags == sorted(["every_boot-argv", "every_boot-shell", "unit", "unit-enabled-only"]), "\n".join(lines))
    check("smoke boot 2: every_boot shell step saw /data mounted and the firewall up",
          f"every_boot-shell {b2} data=mounted firewall=up" in lines, "\n".join(lines))
    u = r2["units"]
    check("smoke boot 2: smoke-enabled-only.service active (enabled units start on later boots)",
          u.get("smoke-enabled-only.service", {}).get("is_active") == "active",
          json.dumps(u.get("smoke-enabled-only.service")))
    check("smoke boot 2: smoke-started-only.service not started again",
          u.get("smoke-started-only.service", {}).get("is_active") == "inactive",
          json.dumps(u.get("smoke-started-only.service")))
    fw = int(u.get("ctxgen-firewall.service", {}).get("ActiveEnterTimestampMonotonic") or 0)
    net = int(u.get("network-pre.target", {}).get("ActiveEnterTimestampMonotonic") or 0)
    check("smoke boot 2: ctxgen-firewall.service up before network-pre.target",
          fw and net and fw <= net, f"firewall active at {fw} us, network-pre.target at {net} us")
    check("smoke boot 2: SSH host keys kept across the reboot",
          sorted(r1["ssh"]["host_keys"]) == sorted(r2["ssh"]["host_keys"]),
          "\n".join(r1["ssh"]["host_keys"] + ["--"] + r2["ssh"]["host_keys"]))


def main():
    if not ARGS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = ARGS[0]
    image_dir = ARGS[1] if len(ARGS) > 1 else open(os.path.join(out, "image")).read().strip()
    spec = yaml.safe_load(open(os.path.join(SPEC_DIR, "smoke.yaml")))
    r1 = load(os.path.join(out, "boot-1", "report.json"))
    common_checks("smoke boot 1", r1, spec)
    first_boot_checks(r1, spec, image_dir, out)
    if os.path.exists(os.path.join(out, "boot-2", "report.json")):
        r2 = load(os.path.join(out, "boot-2", "report.json"))
        common_checks("smoke boot 2", r2, spec)
        second_boot_checks(r1, r2, data_disk(os.path.join(out, "boot-1")), data_disk(os.path.join(out, "boot-2")))
    sys.exit(checks.summary())


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a report without what the checks read: a failure, said so
        import traceback
        traceback.print_exc()
        check("smoke: the checks ran to their end", False, f"{type(e).__name__}: {e}")
        sys.exit(checks.summary())
