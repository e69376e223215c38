#!/usr/bin/python3
# ctxgen runtime-secrets: the boot step that fetches runtime secrets from HashiCorp Vault
# (or OpenBao, or an EGI `fedcloud secret locker`) ON THE VM and writes them to files.
#
# Run by cloud-init (runcmd) as
#     python3 /usr/local/lib/ctxgen/runtime-secrets.py /etc/ctxgen/runtime-secrets.json
# The JSON config holds no secret; the bootstrap token is read from the root-only file
# that the config names, never from argv or the environment. Standard library only,
# Python 3.9 or later. Exit status: 0 done (or already done on an earlier boot),
# 1 failed (fail closed: no partial files), 2 bad config or usage.
#
# What it does, in order:
#   1. state_file exists -> "already done": remove a leftover token file, exit 0,
#      without a single request to Vault.
#   2. Check the config, resolve every owner/group, refuse http:// and a token file that
#      is group/other-accessible or not owned by us.
#   3. wrapped: look the wrapping token up (sys/wrapping/lookup, retried), refuse unless
#      its creation_path equals expected_creation_path, then unwrap it once
#      (sys/wrapping/unwrap) to get the client token.
#      locker: the token itself reads the items from its cubbyhole.
#   4. Read every item (retried on connection errors, 5xx and 429) into memory.
#   5. Write every dest to a temp file beside it (created O_EXCL with the final mode,
#      chowned before any byte is written, fsynced), then rename them all into place.
#   6. Write state_file, delete token_file; revoke the unwrapped client token.
#
# Retries: only requests that cannot consume anything are retried (the wrapping lookup,
# item reads), with exponential backoff and jitter until deadline_seconds. The unwrap is
# single-use: it is retried only when the connection failed before the request was sent,
# or when no response came back AND a new lookup proves the wrapping token is still
# unused. Any received response to the unwrap is final.
#
# Messages never contain the token, the client token or a secret value: items are named
# by key, field and dest only, and every text that leaves this program is scrubbed of
# the sensitive strings it has seen.

import errno
import grp
import http.client
import json
import os
import pwd
import random
import socket
import ssl
import stat
import sys
import time
import urllib.parse

PREFIX = "ctxgen runtime-secrets:"
EXIT_FAILED = 1
EXIT_CONFIG = 2

# Backoff between retries: first wait, factor, largest wait (seconds).
BACKOFF_FIRST = 0.5
BACKOFF_FACTOR = 2.0
BACKOFF_MAX = 10.0
# Longest wait for one request (bounded further by the deadline).
REQUEST_TIMEOUT = 30.0

CONFIG_KEYS = {
    "address", "ca_file", "token_file", "token_kind", "expected_creation_path",
    "items", "state_file", "deadline_seconds",
}
ITEM_KEYS = {"key", "field", "kv", "dest", "owner", "group", "mode"}

# Strings that must never be printed (tokens, secret values); filled as they are seen.
_SENSITIVE = []


def _remember(value):
    if isinstance(value, str) and value and value not in _SENSITIVE:
        _SENSITIVE.append(value)


def scrub(text):
    text = str(text)
    for value in sorted(_SENSITIVE, key=len, reverse=True):
        text = text.replace(value, "<redacted>")
    return text


def say(message):
    print(scrub("%s %s" % (PREFIX, message)), flush=True)


def warn(message):
    print(scrub("%s warning: %s" % (PREFIX, message)), file=sys.stderr, flush=True)


class Failure(Exception):
    """A failure reported on stderr; the run exits non-zero."""

    def __init__(self, message, code=EXIT_FAILED):
        Exception.__init__(self, message)
        self.code = code


class ConfigError(Failure):
    def __init__(self, message):
        Failure.__init__(self, "config: " + message, EXIT_CONFIG)


# --------------------------------------------------------------------------- config


class Item(object):
    def __init__(self, index, raw, token_kind):
        where = "items[%d]" % index
        if not isinstance(raw, dict):
            raise ConfigError("%s is not an object" % where)
        unknown = sorted(set(raw) - ITEM_KEYS)
        if unknown:
            raise ConfigError("%s: unknown key(s) %s" % (where, ", ".join(unknown)))
        self.key = _string(raw, "key", where).strip("/")
        self.field = _string(raw, "field", where)
        self.dest = _string(raw, "dest", where)
        if not os.path.isabs(self.dest) or self.dest.endswith("/"):
            raise ConfigError("%s: dest %s is not an absolute file path" % (where, self.dest))
        self.dest = os.path.normpath(self.dest)
        self.label = "%s#%s -> %s" % (self.key, self.field, self.dest)
        if token_kind == "locker":
            if raw.get("kv") is not None:
                raise ConfigError("%s: kv does not apply to a locker (cubbyhole) item" % where)
            if self.key.startswith("cubbyhole/"):
                self.key = self.key[len("cubbyhole/"):]
            self.kv = None
            self.api_path = "cubbyhole/" + self.key
        else:
            kv = raw.get("kv")
            if kv is None:
                kv = 2 if "/data/" in self.key else 1
            if kv not in (1, 2) or isinstance(kv, bool):
                raise ConfigError("%s: kv must be 1 or 2" % where)
            if kv == 2 and "/data/" not in self.key:
                raise ConfigError(
                    "%s: a KV v2 key is the API path <mount>/data/<path>, e.g. secret/data/app; got %s"
                    % (where, self.key))
            self.kv = kv
            self.api_path = self.key
        if not self.key:
            raise ConfigError("%s: key is empty" % where)
        owner = raw.get("owner")
        owner = "root" if owner is None else owner
        group = raw.get("group")
        mode = raw.get("mode")
        mode = "0600" if mode is None else mode
        if not isinstance(owner, str) or not isinstance(group, (str, type(None))):
            raise ConfigError("%s: owner and group must be names" % where)
        if not isinstance(mode, str):
            raise ConfigError('%s: mode must be an octal string such as "0400"' % where)
        try:
            self.mode = int(mode, 8)
        except ValueError:
            raise ConfigError('%s: mode %r is not an octal string such as "0400"' % (where, mode))
        if self.mode > 0o777 or self.mode < 0:
            raise ConfigError("%s: mode %s has bits beyond 0777" % (where, mode))
        try:
            entry = pwd.getpwnam(owner)
        except KeyError:
            raise Failure("item %s: owner %s does not exist on this machine" % (self.label, owner))
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid
        if group is not None:
            try:
                self.gid = grp.getgrnam(group).gr_gid
            except KeyError:
                raise Failure("item %s: group %s does not exist on this machine" % (self.label, group))


def _string(raw, key, where):
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError("%s: %s must be a non-empty string" % (where, key))
    return value


class Config(object):
    def __init__(self, raw):
        if not isinstance(raw, dict):
            raise ConfigError("the top level is not an object")
        unknown = sorted(set(raw) - CONFIG_KEYS)
        if unknown:
            raise ConfigError("unknown key(s) %s" % ", ".join(unknown))
        self.address = _string(raw, "address", "config")
        self.token_file = _string(raw, "token_file", "config")
        self.state_file = _string(raw, "state_file", "config")
        self.token_kind = raw.get("token_kind")
        if self.token_kind not in ("wrapped", "locker"):
            raise ConfigError('token_kind must be "wrapped" or "locker"')
        self.ca_file = raw.get("ca_file")
        if self.ca_file is not None and (not isinstance(self.ca_file, str) or not self.ca_file):
            raise ConfigError("ca_file must be a path or null")
        self.expected_creation_path = raw.get("expected_creation_path")
        if self.token_kind == "wrapped":
            if not isinstance(self.expected_creation_path, str) or not self.expected_creation_path:
                raise ConfigError("a wrapped token needs expected_creation_path (e.g. auth/token/create)")
            self.expected_creation_path = self.expected_creation_path.strip("/")
        elif self.expected_creation_path is not None:
            raise ConfigError("expected_creation_path applies only to token_kind wrapped")
        deadline = raw.get("deadline_seconds", 300)
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or deadline <= 0:
            raise ConfigError("deadline_seconds must be a positive number")
        self.deadline_seconds = float(deadline)
        items = raw.get("items")
        if not isinstance(items, list) or not items:
            raise ConfigError("items must be a non-empty list")
        self.items = [Item(i, item, self.token_kind) for i, item in enumerate(items)]
        dests = [item.dest for item in self.items]
        for dest in dests:
            if dests.count(dest) > 1:
                raise ConfigError("dest %s appears more than once" % dest)

        url = urllib.parse.urlsplit(self.address)
        if url.scheme != "https":
            raise ConfigError(
                "address %s is not https://: the token and the secrets never travel unencrypted"
                % self.address)
        if url.username or url.password or url.query or url.fragment or not url.hostname:
            raise ConfigError("address must be https://HOST[:PORT][/PREFIX] with nothing else")
        self.host = url.hostname
        try:
            self.port = url.port or 443
        except ValueError:
            raise ConfigError("address has a bad port")
        self.prefix = url.path.rstrip("/")


def load_config(path):
    try:
        with open(path, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read()
    except OSError as err:
        raise ConfigError("cannot read %s: %s" % (path, err.strerror))
    if st.st_mode & 0o022:
        raise ConfigError("%s is writable by group or others: refusing it" % path)
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ConfigError("%s is not JSON: %s" % (path, err))
    return Config(raw)


# --------------------------------------------------------------------------- token file


def read_token(path):
    """The bootstrap token, from a regular file only we can read (never argv or env)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        if err.errno == errno.ENOENT:
            raise Failure(
                "token file %s is missing (an earlier failed run may have used it): "
                "give this VM a new token" % path)
        if err.errno == errno.ELOOP:
            raise Failure("token file %s is a symbolic link: refusing it" % path)
        raise Failure("cannot open token file %s: %s" % (path, err.strerror))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Failure("token file %s is not a regular file: refusing it" % path)
        if st.st_uid != os.geteuid():
            raise Failure("token file %s is not owned by uid %d: refusing it" % (path, os.geteuid()))
        if st.st_mode & 0o077:
            raise Failure(
                "token file %s is accessible to group or others (mode %04o): refusing it; "
                "it must be 0600 or 0400" % (path, stat.S_IMODE(st.st_mode)))
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    try:
        token = b"".join(chunks).decode("ascii").strip()
    except UnicodeDecodeError:
        raise Failure("token file %s does not hold a token" % path)
    if not token or any(c.isspace() for c in token):
        raise Failure("token file %s does not hold a token" % path)
    _remember(token)
    return token


def remove_token_file(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        warn("could not delete token file %s: %s" % (path, err.strerror))


# --------------------------------------------------------------------------- HTTP


class Response(object):
    def __init__(self, status, body, retry_after):
        self.status = status
        self.body = body
        self.retry_after = retry_after

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8")) if self.body.strip() else {}
        except (UnicodeDecodeError, ValueError):
            return None

    def errors(self):
        """Vault's error list, scrubbed and short, for a message."""
        doc = self.json()
        errs = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errs, list) and errs:
            text = "; ".join(str(e) for e in errs)
            return ": " + scrub(text)[:200]
        return ""


class NotSent(Exception):
    """The request never left this machine (connect or TLS handshake failed)."""

    def __init__(self, reason, permanent=False):
        Exception.__init__(self, reason)
        self.reason = reason
        self.permanent = permanent


class NoResponse(Exception):
    """The request may have reached the server, but no response came back."""

    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason


class Vault(object):
    def __init__(self, config, deadline):
        self.config = config
        self.deadline = deadline
        try:
            self.context = ssl.create_default_context(cafile=config.ca_file)
        except (OSError, ssl.SSLError) as err:
            raise Failure("cannot load ca_file %s: %s" % (config.ca_file, getattr(err, "strerror", None) or err))
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        # create_default_context already verifies the chain and the host name; say it.
        self.context.check_hostname = True
        self.context.verify_mode = ssl.CERT_REQUIRED

    def remaining(self):
        return self.deadline - time.monotonic()

    def request(self, method, path, token=None, body=None):
        """One attempt. Raises NotSent or NoResponse; returns a Response otherwise."""
        timeout = min(REQUEST_TIMEOUT, self.remaining())
        if timeout <= 0:
            raise NotSent("the deadline passed")
        url = "%s/v1/%s" % (self.config.prefix, urllib.parse.quote(path, safe="/"))
        headers = {"Accept": "application/json", "X-Vault-Request": "true",
                   "User-Agent": "ctxgen-runtime-secrets"}
        payload = None
        if token is not None:
            headers["X-Vault-Token"] = token
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPSConnection(
            self.config.host, self.config.port, timeout=timeout, context=self.context)
        try:
            try:
                conn.connect()
            except ssl.SSLCertVerificationError as err:
                raise NotSent("TLS certificate verification failed: %s" % err.verify_message,
                              permanent=True)
            except ssl.SSLError as err:
                raise NotSent("TLS handshake failed: %s" % (err.reason or err.__class__.__name__))
            except socket.timeout:
                raise NotSent("connection timed out")
            except OSError as err:
                raise NotSent("cannot connect: %s" % (err.strerror or err.__class__.__name__))
            try:
                conn.request(method, url, body=payload, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except socket.timeout:
                raise NoResponse("no response before the timeout")
            except (OSError, http.client.HTTPException) as err:
                raise NoResponse("connection lost: %s" % (getattr(err, "strerror", None) or err.__class__.__name__))
            return Response(resp.status, data, resp.getheader("Retry-After"))
        finally:
            conn.close()

    def retrying(self, what, method, path, token=None, body=None):
        """Retry connection errors, 5xx and 429 until the deadline. For requests that
        consume nothing (lookups and reads)."""
        wait = BACKOFF_FIRST
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self.request(method, path, token=token, body=body)
                if resp.status < 500 and resp.status != 429:
                    return resp
                problem = "HTTP %d%s" % (resp.status, resp.errors())
                hint = _retry_after(resp.retry_after)
            except NotSent as err:
                if err.permanent:
                    raise Failure("%s: %s (no retry)" % (what, err.reason))
                problem, hint = err.reason, None
            except NoResponse as err:
                problem, hint = err.reason, None
            pause = max(wait, hint or 0) * (1 + random.random() * 0.25)
            pause = min(pause, BACKOFF_MAX * 1.25)
            if self.remaining() <= pause:
                raise Failure("%s: %s; gave up after %d attempt(s) within the %gs deadline"
                              % (what, problem, attempt, self.config.deadline_seconds))
            say("%s: %s; retrying in %.1fs" % (what, problem, pause))
            time.sleep(pause)
            wait = min(wait * BACKOFF_FACTOR, BACKOFF_MAX)


def _retry_after(value):
    try:
        return min(float(value), BACKOFF_MAX) if value is not None else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- Vault steps


class Consumed(Failure):
    """A failure after the single-use wrapping token was (or may have been) used."""


def lookup_wrapping(vault, token, expected):
    resp = vault.retrying("wrapping token lookup", "POST", "sys/wrapping/lookup", body={"token": token})
    if resp.status != 200:
        raise Failure(
            "the wrapping token is invalid, expired or already unwrapped (lookup: HTTP %d%s). "
            "If no one else unwrapped it, it may have been intercepted: check Vault's audit "
            "log, and give this VM a new token" % (resp.status, resp.errors()))
    doc = resp.json()
    data = doc.get("data") if isinstance(doc, dict) else None
    path = data.get("creation_path") if isinstance(data, dict) else None
    if not isinstance(path, str):
        raise Failure("the wrapping lookup answer has no creation_path")
    if path.strip("/") != expected:
        raise Failure(
            "the wrapping token was created at %r, not at the expected %r: refusing to unwrap "
            "it (a token re-wrapped by someone else looks like this); investigate, and give "
            "this VM a new token" % (path, expected))


def unwrap(vault, token, expected):
    """Unwrap once. Returns the client token."""
    while True:
        try:
            resp = vault.request("POST", "sys/wrapping/unwrap", token=token)
        except NotSent as err:
            # Nothing reached Vault: the token is untouched, so trying again is safe.
            if err.permanent or vault.remaining() <= BACKOFF_FIRST:
                raise Failure("unwrap: %s" % err.reason)
            say("unwrap: %s; the request was not sent, retrying" % err.reason)
            time.sleep(BACKOFF_FIRST)
            continue
        except NoResponse as err:
            # Vault may or may not have unwrapped. A lookup tells: an unused token still
            # looks up; a used one does not. Only then is a second unwrap attempted.
            say("unwrap: %s; checking whether the token was used" % err.reason)
            try:
                lookup_wrapping(vault, token, expected)
            except Failure as lookup_err:
                raise Consumed("unwrap: no response, and the token is no longer valid: %s" % lookup_err)
            continue
        break
    if resp.status != 200:
        raise Consumed(
            "unwrap failed (HTTP %d%s); the token is single-use and is not retried: "
            "give this VM a new token" % (resp.status, resp.errors()))
    doc = resp.json()
    if not isinstance(doc, dict):
        raise Consumed("unwrap: the answer is not JSON")
    auth = doc.get("auth")
    client = auth.get("client_token") if isinstance(auth, dict) else None
    if not client:
        # A token wrapped as data (e.g. `vault write -wrap-ttl=5m sys/wrapping/wrap token=...`).
        data = doc.get("data")
        client = data.get("token") if isinstance(data, dict) else None
    if not isinstance(client, str) or not client:
        raise Consumed("unwrap: the wrapped response holds no token (auth.client_token or data.token)")
    _remember(client)
    return client


def read_items(vault, token, items):
    """Every item's value, as bytes, in item order. One read per distinct path."""
    documents = {}
    values = []
    for item in items:
        if item.api_path not in documents:
            resp = vault.retrying("item %s" % item.label, "GET", item.api_path, token=token)
            if resp.status == 404:
                raise Failure("item %s: not found at %s" % (item.label, item.api_path))
            if resp.status == 403:
                raise Failure("item %s: permission denied (HTTP 403%s): the token may be expired, "
                              "used up, or lack a policy for %s"
                              % (item.label, resp.errors(), item.api_path))
            if resp.status != 200:
                raise Failure("item %s: HTTP %d%s" % (item.label, resp.status, resp.errors()))
            doc = resp.json()
            if not isinstance(doc, dict):
                raise Failure("item %s: the answer is not JSON" % item.label)
            documents[item.api_path] = doc
            _remember_values(doc.get("data"))
        doc = documents[item.api_path]
        data = doc.get("data")
        if item.kv == 2:
            data = data.get("data") if isinstance(data, dict) else None
        if not isinstance(data, dict):
            raise Failure("item %s: the secret has no data (deleted or destroyed version?)" % item.label)
        if item.field not in data or data[item.field] is None:
            raise Failure("item %s: field %s is missing from %s" % (item.label, item.field, item.api_path))
        value = data[item.field]
        if isinstance(value, str):
            values.append(value.encode("utf-8"))
        else:
            values.append(json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return values


def _remember_values(node):
    if isinstance(node, str):
        _remember(node)
    elif isinstance(node, dict):
        for value in node.values():
            _remember_values(value)
    elif isinstance(node, list):
        for value in node:
            _remember_values(value)


def revoke_self(vault, token):
    """Best effort: the client token is never needed again."""
    try:
        resp = vault.request("POST", "auth/token/revoke-self", token=token)
    except (NotSent, NoResponse) as err:
        warn("could not revoke the client token (%s); it lives until its TTL" % err.reason)
        return
    if resp.status not in (200, 204):
        warn("could not revoke the client token (HTTP %d%s); it lives until its TTL"
             % (resp.status, resp.errors()))


# --------------------------------------------------------------------------- files


def ensure_dir(path):
    """Create path and its missing parents, 0755, owned by us (root on a VM)."""
    missing = []
    while not os.path.isdir(path):
        if os.path.lexists(path):
            raise Failure("%s exists and is not a folder" % path)
        missing.append(path)
        path = os.path.dirname(path)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o755)
        except FileExistsError:
            continue
        os.chmod(folder, 0o755)


def write_temp(item, value):
    """The value in a new temp file beside dest: mode and owner set before content."""
    folder = os.path.dirname(item.dest)
    ensure_dir(folder)
    temp = os.path.join(folder, ".%s.ctxgen-%s.tmp" % (os.path.basename(item.dest), os.urandom(6).hex()))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, item.mode)
    try:
        os.fchmod(fd, item.mode)  # the umask may have cleared bits
        os.fchown(fd, item.uid, item.gid)
        view = memoryview(value)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        _unlink_quietly(temp)
        raise
    os.close(fd)
    return temp


def fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def write_all(items, values):
    """All temp files first; only when all are written, rename them into place."""
    temps = []
    try:
        for item, value in zip(items, values):
            try:
                temps.append(write_temp(item, value))
            except OSError as err:
                raise Failure("item %s: cannot write %s: %s" % (item.label, item.dest, err.strerror))
        for item, temp in zip(items, temps):
            if os.path.isdir(item.dest) and not os.path.islink(item.dest):
                raise Failure("item %s: %s is a folder" % (item.label, item.dest))
        for item, temp in zip(items, temps):
            os.replace(temp, item.dest)
        temps = []
        for folder in sorted(set(os.path.dirname(item.dest) for item in items)):
            fsync_dir(folder)
    finally:
        for temp in temps:
            _unlink_quietly(temp)


def write_state(path, items):
    ensure_dir(os.path.dirname(path))
    state = {
        "completed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dests": [item.dest for item in items],
    }
    temp = "%s.ctxgen-%s.tmp" % (path, os.urandom(6).hex())
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, (json.dumps(state, indent=2) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    fsync_dir(os.path.dirname(path))


# --------------------------------------------------------------------------- main


def already_done(config):
    try:
        with open(config.state_file, "rb") as handle:
            state = json.loads(handle.read().decode("utf-8"))
        when = state.get("completed_at", "an earlier boot")
    except (OSError, ValueError, AttributeError):
        when = "an earlier boot"
    if os.path.lexists(config.token_file):
        remove_token_file(config.token_file)
    say("already done (%s, state file %s); nothing to fetch" % (when, config.state_file))


def run(config):
    deadline = time.monotonic() + config.deadline_seconds
    token = read_token(config.token_file)
    vault = Vault(config, deadline)
    client = None
    try:
        if config.token_kind == "wrapped":
            lookup_wrapping(vault, token, config.expected_creation_path)
            client = unwrap(vault, token, config.expected_creation_path)
            # From here on the wrapping token is spent: delete it whatever happens next.
            remove_token_file(config.token_file)
            reader = client
        else:
            reader = token
        values = read_items(vault, reader, config.items)
        write_all(config.items, values)
        write_state(config.state_file, config.items)
        remove_token_file(config.token_file)
        for item in config.items:
            say("wrote %s (%s#%s, mode %04o)" % (item.dest, item.key, item.field, item.mode))
        say("done: %d item(s)" % len(config.items))
    except Consumed:
        remove_token_file(config.token_file)
        raise
    finally:
        if client is not None:
            revoke_self(vault, client)


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: runtime-secrets.py CONFIG.json", file=sys.stderr)
        return EXIT_CONFIG
    try:
        config = load_config(argv[1])
        if os.path.lexists(config.state_file):
            already_done(config)
            return 0
        run(config)
        return 0
    except Failure as err:
        print(scrub("%s FAILED: %s" % (PREFIX, err)), file=sys.stderr, flush=True)
        return err.code
    except Exception as err:  # never a traceback: it could hold a value
        print(scrub("%s FAILED: internal error (%s): %s" % (PREFIX, err.__class__.__name__, err)),
              file=sys.stderr, flush=True)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
