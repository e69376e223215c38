#!/usr/bin/env python3
"""The e2e network scenario: specs/network.yaml on a real boot, against services that
run on this machine's loopback only.

    tests/e2e/net.py OUT_DIR --ctxgen BIN --debs DEBS_DIR [--image IMAGE_DIR] [-v]

Made for each run, under OUT_DIR/world/ (nothing outside OUT_DIR is written):
  * a CA and one server certificate it signed, for 10.0.2.100 (the VM's name for this
    machine) and 127.0.0.1 (openssl);
  * an OpenPGP signing key in a throw-away GNUPGHOME (gpg), and with it a signed apt
    repository (InRelease, Release.gpg) holding a package built here with dpkg-deb,
    ctxgen-e2e-hello, and the trixie .debs of ansible-core and git that
    build-image.sh --debs cached (the VM has no other way to packages);
  * a bare git repository with a playbook, served over smart HTTPS (git http-backend);
  * a seed for the Vault API fixture (tests/fixtures/vault/server.py): a
    response-wrapped token, the client token inside it, KV v1 and v2 secrets.
The spec folder is copied to OUT_DIR/spec/ and the public key and CA go to its
generated/ folder, where specs/network.yaml expects them. `ctxgen seed` builds the
NoCloud seed with the wrapped token in CTXGEN_E2E_VAULT_TOKEN, and boot.sh boots it
with guest ports 80 (apt), 443 (git) and 8200 (Vault) forwarded to the services'
loopback ports, and nothing else reachable.

After the boot: the probe's report, the services' request logs, and the Vault fixture
itself (the same wrapped token unwrapped again must be refused; the client token,
revoked by the VM, must be refused) are checked. One line per assertion; the last line
is `N passed, M failed`; exit status 1 when anything failed.
"""
import argparse
import datetime
import functools
import gzip
import hashlib
import http.client
import http.server
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

import yaml  # PyYAML: the test oracles install it (python3-yaml)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import checks  # noqa: E402
from checks import check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPEC_DIR = os.path.join(HERE, "specs")
VAULT_FIXTURE = os.path.join(ROOT, "tests", "fixtures", "vault", "server.py")
GUEST_HOST = "10.0.2.100"
TAG = "network"
WRAP_INVALID = "wrapping token is not valid or does not exist"


def log(msg):
    print(f"[net] {msg}", file=sys.stderr, flush=True)


def run(argv, **kw):
    """Run argv, failing loudly (the scenario cannot go on without it)."""
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return p.stdout


# --------------------------------------------------------------------------- world


def make_pki(d):
    """A CA, and a server certificate for the VM's and this machine's names of it."""
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=ctxgen e2e test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"], cwd=d)
    run(["openssl", "req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
         "-subj", f"/CN={GUEST_HOST}"], cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write(f"subjectAltName=IP:{GUEST_HOST},IP:127.0.0.1\n"
                "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid:always\n")
    run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-set_serial", "2", "-days", "2", "-extfile", "server.ext", "-out", "server.pem"], cwd=d)
    return {k: os.path.join(d, f) for k, f in
            (("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"))}


def make_hello_deb(d, version):
    """ctxgen-e2e-hello: a package that exists only in this run's repository."""
    pkg = os.path.join(d, "ctxgen-e2e-hello")
    os.makedirs(os.path.join(pkg, "DEBIAN"))
    os.makedirs(os.path.join(pkg, "usr", "bin"))
    os.makedirs(os.path.join(pkg, "usr", "share", "ctxgen-e2e-hello"))
    with open(os.path.join(pkg, "DEBIAN", "control"), "w") as f:
        f.write(f"Package: ctxgen-e2e-hello\nVersion: {version}\nArchitecture: all\n"
                "Maintainer: ctxgen e2e <e2e@ctxgen.invalid>\nSection: misc\nPriority: optional\n"
                "Description: ctxgen e2e test package\n"
                " Served to the e2e VM from a local apt repository; exists nowhere else.\n")
    with open(os.path.join(pkg, "usr", "bin", "ctxgen-e2e-hello"), "w") as f:
        f.write("#!/bin/sh\necho 'hello from ctxgen-e2e-hello " + version + "'\n")
    os.chmod(os.path.join(pkg, "usr", "bin", "ctxgen-e2e-hello"), 0o755)
    with open(os.path.join(pkg, "usr", "share", "ctxgen-e2e-hello", "hello.txt"), "w") as f:
        f.write(f"ctxgen-e2e-hello {version}\n")
    deb = os.path.join(d, f"ctxgen-e2e-hello_{version}_all.deb")
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", pkg, deb])
    return deb


def make_apt_repo(www, debs, gnupg, suite="e2e"):
    """A signed apt repository at www/debian: dists/SUITE/{InRelease,Release,Release.gpg},
    dists/SUITE/main/binary-amd64/Packages(.gz), pool/main/*.deb."""
    top = os.path.join(www, "debian")
    pool = os.path.join(top, "pool", "main")
    os.makedirs(pool)
    for deb in debs:
        shutil.copy(deb, pool)
    bin_dir = os.path.join(top, "dists", suite, "main", "binary-amd64")
    os.makedirs(bin_dir)
    packages = run(["dpkg-scanpackages", "-m", "pool", "/dev/null"], cwd=top).encode()
    with open(os.path.join(bin_dir, "Packages"), "wb") as f:
        f.write(packages)
    with open(os.path.join(bin_dir, "Packages.gz"), "wb") as f:
        f.write(gzip.compress(packages, mtime=0))
    dist = os.path.join(top, "dists", suite)
    lines = []
    for rel in ("main/binary-amd64/Packages", "main/binary-amd64/Packages.gz"):
        data = open(os.path.join(dist, rel), "rb").read()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {rel}")
    now = datetime.datetime.now(datetime.timezone.utc)
    release = (f"Origin: ctxgen-e2e\nLabel: ctxgen-e2e\nSuite: {suite}\nCodename: {suite}\n"
               f"Date: {now.strftime('%a, %d %b %Y %H:%M:%S UTC')}\n"
               "Architectures: amd64\nComponents: main\n"
               "Description: ctxgen e2e local repository\nSHA256:\n" + "\n".join(lines) + "\n")
    with open(os.path.join(dist, "Release"), "w") as f:
        f.write(release)
    env = dict(os.environ, GNUPGHOME=gnupg)
    run(["gpg", "--batch", "--yes", "--clearsign", "-o", "InRelease", "Release"], cwd=dist, env=env)
    run(["gpg", "--batch", "--yes", "--armor", "--detach-sign", "-o", "Release.gpg", "Release"],
        cwd=dist, env=env)
    return packages.decode()


def make_gpg_key(gnupg, out):
    os.makedirs(gnupg, mode=0o700)
    env = dict(os.environ, GNUPGHOME=gnupg)
    run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
         "ctxgen e2e repository <e2e@ctxgen.invalid>", "ed25519", "sign", "2d"], env=env)
    with open(out, "w") as f:
        f.write(run(["gpg", "--armor", "--export"], env=env))


PLAYBOOK = """\
# ctxgen e2e: pulled by the VM's ansible-pull from the test machine's git server.
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: the runtime secret is there already (runtime-secrets runs before ansible)
      ansible.builtin.stat:
        path: /etc/e2e/app-password
      register: secret
    - name: a folder for the marker
      ansible.builtin.file:
        path: /var/lib/e2e-ansible
        state: directory
        mode: "0755"
    - name: the marker
      ansible.builtin.copy:
        dest: /var/lib/e2e-ansible/marker
        content: "site.yml ran; e2e_word={{ e2e_word }}; secret_present={{ secret.stat.exists }}\\n"
        mode: "0644"
"""


def make_git_repo(work, bare):
    env = dict(os.environ, GIT_AUTHOR_NAME="ctxgen e2e", GIT_AUTHOR_EMAIL="e2e@ctxgen.invalid",
               GIT_COMMITTER_NAME="ctxgen e2e", GIT_COMMITTER_EMAIL="e2e@ctxgen.invalid",
               GIT_CONFIG_NOSYSTEM="1", HOME=work)
    os.makedirs(work)
    run(["git", "init", "-q", "-b", "main", work], env=env)
    with open(os.path.join(work, "site.yml"), "w") as f:
        f.write(PLAYBOOK)
    run(["git", "-C", work, "add", "site.yml"], env=env)
    run(["git", "-C", work, "commit", "-q", "-m", "e2e playbook"], env=env)
    commit = run(["git", "-C", work, "rev-parse", "HEAD"], env=env).strip()
    run(["git", "clone", "-q", "--bare", work, bare], env=env)
    return commit


# --------------------------------------------------------------------------- services


class Log:
    """Requests a service saw, one JSON object a line (and in memory)."""

    def __init__(self, path):
        self.path = path
        self.entries = []
        self.lock = threading.Lock()

    def add(self, **entry):
        entry["time"] = time.time()
        with self.lock:
            self.entries.append(entry)
            with open(self.path, "a") as f:
                f.write(json.dumps(entry) + "\n")


class AptHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        self.server.log.add(method=self.command, path=self.path, status=int(code) if str(code).isdigit() else code)

    def log_message(self, *args):
        pass


class GitHandler(http.server.BaseHTTPRequestHandler):
    """Smart HTTP: every request handed to `git http-backend` as CGI."""
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        self.cgi()

    def do_POST(self):
        self.cgi()

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def cgi(self):
        path, _, query = self.path.partition("?")
        body = self.body()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.server.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": self.server.root,
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.0",
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        p = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        out = p.stdout
        head, rest = b"", out
        for sep in (b"\r\n\r\n", b"\n\n"):
            if sep in out:
                head, rest = out.split(sep, 1)
                break
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k.strip(), v.strip()))
        self.server.log.add(method=self.command, path=self.path, status=status,
                            rc=p.returncode, err=p.stderr.decode("utf-8", "replace")[-500:])
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(rest)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(rest)


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler, context):
        super().__init__(("127.0.0.1", 0), handler)
        self.context = context

    def finish_request(self, request, client_address):
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.log.add(event="tls_error", error=str(e))
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


class Vault:
    """The Vault API fixture, as tests/runtime_secrets.rs runs it."""

    def __init__(self, seed_path, pki, log_path):
        self.log_path = log_path
        self.proc = subprocess.Popen(
            [sys.executable, VAULT_FIXTURE, "--seed", seed_path, "--cert", pki["cert"],
             "--key", pki["key"], "--log", log_path, "--exit-on-stdin-eof"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.ca = pki["ca"]

    def request(self, method, path, token=None, body=None):
        ctx = ssl.create_default_context(cafile=self.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30)
        headers = {"X-Vault-Request": "true"}
        if token:
            headers["X-Vault-Token"] = token
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, f"/v1/{path}", body=payload, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = data.decode("utf-8", "replace")
        return resp.status, doc

    def entries(self):
        try:
            return [json.loads(l) for l in open(self.log_path) if l.strip()]
        except OSError:
            return []

    def stop(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


# --------------------------------------------------------------------------- checks


def apt_policy(text):
    """`apt-cache policy A B ...` -> {package: [the source lines of the installed
    version (***)]}."""
    found, pkg, in_installed = {}, None, False
    for line in text.splitlines():
        if line and not line.startswith(" "):
            pkg, in_installed = line.rstrip(":"), False
            found[pkg] = []
        elif line.startswith(" *** "):
            in_installed = True
        elif line.startswith("     ") and not line.startswith("        "):
            in_installed = False  # another version's line
        elif in_installed and pkg:
            found[pkg].append(line.strip())
    return found


def report_checks(r, vm, world, spec):
    tag = TAG
    checks.cloud_init(tag, r)
    checks.sshd(tag, r)
    checks.firewall(tag, r, spec)
    checks.enabled_active(tag, r, "ctxgen-firewall.service")
    check(f"{tag}: the VM had an address on QEMU's network (10.0.2.x)",
          any(" 10.0.2." in l for l in r["network"]["addr"]), "\n".join(r["network"]["addr"]))
    check(f"{tag}: hostname is {spec['host']['hostname']}",
          r["host"]["hostname"] == spec["host"]["hostname"], r["host"])

    # Users: the spec's account, the image's default user gone.
    users = r["users"]
    check(f"{tag}: default user `debian` not created (default_user: remove)",
          not users.get("debian", {}).get("exists"), users.get("debian"))
    app = users.get("app", {})
    check(f"{tag}: user app exists, shell /usr/sbin/nologin",
          app.get("exists") and app["getent"].split(":")[6] == "/usr/sbin/nologin", app.get("getent"))
    check(f"{tag}: app's password locked", (app.get("passwd_S") or " ?").split()[1] == "L",
          app.get("passwd_S"))

    # Packages from the local repository.
    pk = {l.split()[0]: l.split() for l in r["packages"] if l.split()}
    for name in ("ctxgen-e2e-hello", "ansible-core", "git"):
        have = pk.get(name, [])
        want_version = world["versions"].get(name)
        check(f"{tag}: package {name} {want_version} installed",
              len(have) >= 3 and have[2] == "ii" and have[1] == want_version, " ".join(have) or "not installed")
    policy = apt_policy(r["extra_commands"][0]["out"])
    for name in ("ctxgen-e2e-hello", "ansible-core", "git"):
        sources = policy.get(name, [])
        check(f"{tag}: apt-cache policy: {name}'s installed version comes from "
              f"http://{GUEST_HOST}/debian e2e/main",
              any(f"http://{GUEST_HOST}/debian e2e/main" in l for l in sources),
              r["extra_commands"][0]["out"])
    hello = r["extra_commands"][1]
    check(f"{tag}: ctxgen-e2e-hello runs",
          hello["rc"] == 0 and hello["out"] == f"hello from ctxgen-e2e-hello {world['versions']['ctxgen-e2e-hello']}\n",
          json.dumps(hello))
    lists = r["extra_commands"][3]["out"].split()
    foreign = [l for l in lists if l not in ("lock", "partial", "auxfiles") and not l.startswith(f"{GUEST_HOST}_debian_")]
    check(f"{tag}: apt's lists come from the local repository only",
          lists and not foreign, "\n".join(lists))
    apt_gets = [e for e in world["apt_log"].entries if e.get("method") == "GET"]
    for name in ("ctxgen-e2e-hello", "ansible-core", "git"):
        got = [e for e in apt_gets if e["path"].startswith(f"/debian/pool/main/{name}_") and e["status"] == 200]
        check(f"{tag}: the VM downloaded {name}'s .deb from the local repository (HTTP 200)", got,
              "\n".join(f"{e['status']} {e['path']}" for e in apt_gets[-40:]))
    check(f"{tag}: the VM fetched the signed InRelease",
          any(e["path"] == "/debian/dists/e2e/InRelease" and e["status"] == 200 for e in apt_gets),
          "\n".join(f"{e['status']} {e['path']}" for e in apt_gets[:20]))
    checks.file_is(tag, r, "/usr/share/ctxgen-e2e-hello/hello.txt", mode="0644", owner="root",
                   content=f"ctxgen-e2e-hello {world['versions']['ctxgen-e2e-hello']}\n")
    src = r["files"].get("/etc/apt/sources.list.d/e2e.list", {}).get("text") or ""
    check(f"{tag}: apt source e2e signed-by the spec's key",
          f"[signed-by=/etc/apt/keyrings/ctxgen-e2e.asc] http://{GUEST_HOST}/debian e2e main" in src, src)

    # Runtime secrets.
    for item in world["vault_items"]:
        checks.file_is(tag, r, item["dest"], mode=item["mode"], owner=item["owner"],
                       group=item["group"], content=item["value"])
    tok = r["files"].get("/etc/ctxgen/vault-token", {})
    check(f"{tag}: the bootstrap token file /etc/ctxgen/vault-token is gone", tok.get("exists") is False,
          json.dumps(tok))
    done = r["files"].get("/var/lib/ctxgen/runtime-secrets.done", {})
    check(f"{tag}: runtime-secrets marked done", done.get("exists"), json.dumps(done))
    out_log = r["cloud_init"].get("output_log_this_boot") or ""
    for item in world["vault_items"]:
        check(f"{tag}: runtime-secrets says it wrote {item['dest']}",
              f"ctxgen runtime-secrets: wrote {item['dest']}" in out_log,
              "\n".join(l for l in out_log.splitlines() if "runtime-secrets" in l))

    # Ansible pull.
    mk = r["files"].get("/var/lib/e2e-ansible/marker", {})
    want = f"site.yml ran; e2e_word={spec['config_management']['ansible']['extra_vars']['e2e_word']}; secret_present=True\n"
    check(f"{tag}: ansible-pull ran site.yml with the spec's extra vars, after the runtime secrets",
          mk.get("text") == want, f"want {want!r}\nhave {mk.get('text')!r}\n"
          + "\n".join(l for l in out_log.splitlines()[-60:]))
    head = r["extra_commands"][2]
    check(f"{tag}: the VM's checkout is the served commit {world['commit'][:12]}",
          head["out"].strip() == world["commit"], json.dumps(head))
    git_posts = [e for e in world["git_log"].entries if e.get("method") == "POST"]
    check(f"{tag}: git fetched over smart HTTPS (git-upload-pack, HTTP 200)",
          any(e["path"].endswith("/git-upload-pack") and e["status"] == 200 for e in git_posts),
          "\n".join(json.dumps(e) for e in world["git_log"].entries[-20:]))


def vault_checks(vault, world):
    tag = TAG
    entries = [e for e in vault.entries() if e.get("event") == "request"]
    unwraps = [e for e in entries if e["path"] == "/v1/sys/wrapping/unwrap"]
    check(f"{tag}: Vault saw exactly one unwrap during the boot, answered 200",
          [e["status"] for e in unwraps] == [200], json.dumps(entries, indent=1))
    check(f"{tag}: Vault saw the wrapping lookup before the unwrap",
          entries and entries[0]["path"] == "/v1/sys/wrapping/lookup" and entries[0]["status"] == 200,
          json.dumps(entries, indent=1))
    check(f"{tag}: the VM revoked its client token (revoke-self 204)",
          any(e["path"] == "/v1/auth/token/revoke-self" and e["status"] == 204 for e in entries),
          json.dumps(entries, indent=1))
    # A replay: the same wrapped token, from here, after the VM used it.
    status, doc = vault.request("POST", "sys/wrapping/unwrap", token=world["wrap_token"])
    check(f"{tag}: the wrapped token, replayed after the boot, is refused (HTTP 400, not valid)",
          status == 400 and WRAP_INVALID in json.dumps(doc), f"HTTP {status}: {doc}")
    status, doc = vault.request("POST", "sys/wrapping/lookup", body={"token": world["wrap_token"]})
    check(f"{tag}: the wrapped token no longer looks up", status == 400, f"HTTP {status}: {doc}")
    status, doc = vault.request("GET", "secret/data/e2e/app", token=world["client_token"])
    check(f"{tag}: the client token the VM used is refused afterwards (HTTP 403)", status == 403,
          f"HTTP {status}")


def leak_checks(vm, world):
    """No token and no secret value in the VM's logs (they are in the user-data and in
    the files, by design, and nowhere else)."""
    tag = TAG
    sensitive = {"wrapped token": world["wrap_token"], "client token": world["client_token"]}
    for item in world["vault_items"]:
        sensitive[f"value of {item['dest']}"] = item["value"]
    disk = os.path.join(vm, "boot-1", "disk")
    for name in ("cloud-init.log", "cloud-init-output.log", "journal-1.txt"):
        path = os.path.join(disk, name)
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError as e:
            check(f"{tag}: {name} read back from the VM's disk", False, str(e))
            continue
        found = [k for k, v in sensitive.items() if v in text]
        check(f"{tag}: no token or secret value in {name}", not found, ", ".join(found))


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--ctxgen", required=True)
    ap.add_argument("--debs", required=True)
    ap.add_argument("--image")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()

    out = os.path.abspath(a.out)
    shutil.rmtree(out, ignore_errors=True)
    world_dir = os.path.join(out, "world")
    os.makedirs(world_dir)

    # The world.
    t0 = time.time()
    pki = make_pki(os.path.join(world_dir, "pki"))
    gnupg = os.path.join(world_dir, "gnupg")
    spec_out = os.path.join(out, "spec")
    shutil.copytree(SPEC_DIR, spec_out)
    gen = os.path.join(spec_out, "generated")
    os.makedirs(gen, exist_ok=True)
    make_gpg_key(gnupg, os.path.join(gen, "apt-key.asc"))
    shutil.copy(pki["ca"], os.path.join(gen, "ca.pem"))
    hello_version = "1.0+" + time.strftime("%Y%m%d%H%M%S")
    hello = make_hello_deb(os.path.join(world_dir, "build"), hello_version)
    cached = sorted(os.path.join(a.debs, f) for f in os.listdir(a.debs) if f.endswith(".deb"))
    if not cached:
        raise RuntimeError(f"no .debs in {a.debs} (build-image.sh --debs makes them)")
    www = os.path.join(world_dir, "www")
    packages = make_apt_repo(www, cached + [hello], gnupg)
    versions = {}
    for stanza in packages.split("\n\n"):
        f = dict(l.split(": ", 1) for l in stanza.splitlines() if ": " in l and not l.startswith(" "))
        if "Package" in f:
            versions[f["Package"]] = f["Version"]
    git_root = os.path.join(world_dir, "git")
    os.makedirs(git_root)
    commit = make_git_repo(os.path.join(world_dir, "git-work"),
                           os.path.join(git_root, "e2e-playbooks.git"))

    spec = yaml.safe_load(open(os.path.join(spec_out, "network.yaml")))
    wrap_token = "hvs.e2e-wrap-" + secrets.token_hex(12)
    client_token = "hvs.e2e-client-" + secrets.token_hex(12)
    password = "e2e-password-" + secrets.token_hex(8)
    api_key = "e2e-api-key-" + secrets.token_hex(8)
    seed = {
        "tokens": {client_token: {"ttl": 3600, "num_uses": 0, "policies": ["e2e"],
                                  "read": ["secret/data/e2e/", "legacy/e2e"]}},
        "wrapping": {wrap_token: {"creation_path": "auth/token/create", "ttl": 3600,
                                  "client_token": client_token}},
        "kv": {"secret": {"version": 2, "data": {"e2e/app": {"password": password}}},
               "legacy": {"version": 1, "data": {"e2e": {"api_key": api_key}}}},
    }
    seed_path = os.path.join(world_dir, "vault-seed.json")
    with open(seed_path, "w") as f:
        json.dump(seed, f)
    values = {("secret/data/e2e/app", "password"): password, ("legacy/e2e", "api_key"): api_key}
    vault_items = []
    for it in spec["runtime_secrets"]["vault"]["items"]:
        owner = it.get("owner", "root")
        vault_items.append({"dest": it["dest"], "mode": it.get("mode", "0600"), "owner": owner,
                            "group": it.get("group", owner), "value": values[(it["key"], it["field"])]})
    log(f"world made in {time.time() - t0:.0f} s: {len(cached) + 1} packages, commit {commit[:12]}")

    # The services, on loopback only.
    apt_server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(AptHandler, directory=www))
    apt_server.daemon_threads = True
    apt_server.log = Log(os.path.join(world_dir, "apt-requests.jsonl"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["cert"], pki["key"])
    git_server = TLSServer(GitHandler, ctx)
    git_server.root = git_root
    git_server.log = Log(os.path.join(world_dir, "git-requests.jsonl"))
    apt_port, git_port = serve(apt_server), serve(git_server)
    vault = Vault(seed_path, pki, os.path.join(world_dir, "vault-requests.jsonl"))
    log(f"services: apt http 127.0.0.1:{apt_port}, git https 127.0.0.1:{git_port}, "
        f"vault https 127.0.0.1:{vault.port}")
    world = {"versions": versions, "commit": commit, "wrap_token": wrap_token,
             "client_token": client_token, "vault_items": vault_items,
             "apt_log": apt_server.log, "git_log": git_server.log}

    try:
        # Sanity of the world itself, from this machine: a failure here is the
        # harness's, not ctxgen's.
        probe_git = subprocess.run(
            ["git", "ls-remote", f"https://127.0.0.1:{git_port}/e2e-playbooks.git"],
            capture_output=True, text=True,
            env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=world_dir, GIT_SSL_CAINFO=pki["ca"]))
        check(f"{TAG}: harness: the git server answers ls-remote on loopback",
              probe_git.returncode == 0 and commit in probe_git.stdout, probe_git.stdout + probe_git.stderr)

        # The seed, exactly as an operator would make it.
        seed_iso = os.path.join(out, "seed.iso")
        p = subprocess.run([a.ctxgen, "seed", os.path.join(spec_out, "network.yaml"), "--out", seed_iso],
                           capture_output=True, text=True,
                           env=dict(os.environ, CTXGEN_E2E_VAULT_TOKEN=wrap_token))
        if not check(f"{TAG}: ctxgen seed builds specs/network.yaml without a diagnostic",
                     p.returncode == 0 and not p.stderr.strip(), p.stdout + p.stderr):
            if p.returncode != 0:
                return checks.summary()

        # The boot.
        vm = os.path.join(out, "vm")
        env = dict(os.environ)
        if a.image:
            env["CTXGEN_E2E_IMAGE"] = a.image
        t = time.time()
        b = subprocess.run([os.path.join(HERE, "boot.sh"),
                            "--probe", os.path.join(SPEC_DIR, "network.probe.json"),
                            "--fwd", f"80={apt_port}", "--fwd", f"443={git_port}",
                            "--fwd", f"8200={vault.port}", seed_iso, vm], env=env)
        seconds = time.time() - t
        print(f"TIME  network boot: {seconds:.0f} s", flush=True)
        report = os.path.join(vm, "boot-1", "report.json")
        if not check(f"{TAG}: the VM booted and the probe reported (boot.sh exit {b.returncode})",
                     b.returncode == 0 and os.path.exists(report)):
            return checks.summary()
        r = checks.load_report(report)
        if "probe_error" in r:
            check(f"{TAG}: the probe ran without error", False, r["probe_error"])
            return checks.summary()
        report_checks(r, vm, world, spec)
        vault_checks(vault, world)
        leak_checks(vm, world)
    finally:
        vault.stop()
        apt_server.shutdown()
        git_server.shutdown()
    return checks.summary()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # the harness itself failed: say so as a result line
        import traceback
        traceback.print_exc()
        check(f"{TAG}: harness: the scenario ran to its end", False, f"{type(e).__name__}: {e}")
        sys.exit(checks.summary())
