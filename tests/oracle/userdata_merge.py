#!/usr/bin/python3
"""Read user-data with cloud-init's own code and print the cloud-config it merges.

    userdata_merge.py FILE [--base64]        (run by tests/oracle/userdata-merge)

The path is the one cloud-init takes at boot, called on the same objects:

1. With --base64, the bytes are first decoded with base64.b64decode, as the GCE
   datasource does when the metadata says `user-data-encoding: base64`.
2. cloudinit.user_data.UserDataProcessor(paths).process(bytes): whole-input gzip,
   MIME, type detection, gzip parts (convert_string and _process_msg).
3. cloudinit.handlers.walk(message, callback, data): every part with its file name
   and headers, payload decoded as handlers receive it.
4. Each part of a type CloudConfigPartHandler lists goes through
   cloudinit.handlers.run_part to that handler (version 3: with its headers, so the
   part's Merge-Type is honoured; cloud-init's default without one is
   dict(replace)+list()+str()).
5. The handler's merged buffer (what it writes to instance/cloud-config.txt at
   CONTENT_END) is printed as JSON on standard output.

Unhandled parts are listed on standard error ("unhandled: TYPE FILENAME") and make the
exit status 1, as does a part the handler fails on (cloud-init logs a warning and goes
on; here it is a failure).  The API is the same in 22.4, 25.1 and 26.2 (read in each
release's cloudinit/user_data.py, handlers/__init__.py, handlers/cloud_config.py).

Everything cloud-init writes goes under a private temporary folder (helpers.Paths with
cloud_dir and run_dir there); nothing under /var/lib/cloud or /run is touched.
"""

import base64
import json
import logging
import sys
import tempfile


def main():
    args = sys.argv[1:]
    use_base64 = "--base64" in args
    args = [a for a in args if a != "--base64"]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    with open(args[0], "rb") as f:
        blob = f.read()
    if use_base64:
        blob = base64.b64decode(blob)

    from cloudinit import handlers, helpers, user_data
    from cloudinit.handlers.cloud_config import CloudConfigPartHandler
    from cloudinit.settings import PER_INSTANCE

    failures = []

    class Catch(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                failures.append(record.getMessage())

    logging.getLogger().addHandler(Catch())
    logging.getLogger().setLevel(logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        class Datasource:  # the instance id is all Paths asks of it
            def get_instance_id(self):
                return "iid-ctxgen-oracle"

        paths = helpers.Paths(
            {"cloud_dir": tmp + "/cloud", "run_dir": tmp + "/run"}, ds=Datasource()
        )
        message = user_data.UserDataProcessor(paths).process(blob)
        handler = CloudConfigPartHandler(paths)
        types = set(handler.list_types())
        handler.handle_part(None, handlers.CONTENT_START, None, None, None, None)
        unhandled = []

        def callback(_data, filename, payload, headers):
            ctype = headers["Content-Type"]
            if ctype in types:
                handlers.run_part(handler, None, filename, payload, PER_INSTANCE, headers)
            else:
                unhandled.append("%s %s" % (ctype, filename))

        handlers.walk(message, callback, {})
        merged = handler.cloud_buf
    for u in unhandled:
        sys.stderr.write("unhandled: %s\n" % u)
    for f in failures:
        sys.stderr.write("cloud-init warned: %s\n" % f)
    if merged is None:
        sys.stderr.write("no cloud-config part was merged\n")
        return 1
    json.dump(merged, sys.stdout, sort_keys=True, default=repr)
    sys.stdout.write("\n")
    return 1 if unhandled or failures else 0


if __name__ == "__main__":
    sys.exit(main())
