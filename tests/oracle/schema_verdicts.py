#!/usr/bin/python3
"""In-process part of tests/oracle/schema-verdicts: run it through that wrapper.

    schema_verdicts.py RELEASE COPY_DIR NAME...

COPY_DIR/1 .. COPY_DIR/N are private copies of the N files named on the wrapper's
command line; NAME... are those names, used as keys in the output and put back in
cloud-init's messages in place of the copies' paths.

For every file this does what `cloud-init schema -c FILE` (no --annotate) of the
imported release does: cloudinit.config.schema.validate_cloudconfig_file() with the
full schema, then the exception handling of handle_schema_args().  The CLI entry point
itself is not used: from 25.1 on it first looks for a datasource and reads or writes
instance data under /run/cloud-init.  All files are checked in this one process.

Output: one JSON document on stdout, see main().  Exit 2, with a message on stderr,
on any failure of the harness (wrong release, cloud-init or jsonschema missing, the
self-test failing, an unexpected kind of outcome): a file is never reported valid
unless cloud-init itself accepted it.
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import time
import traceback

import yaml  # PyYAML, which cloud-init loads user-data with

# Where jinja templates look for instance data.  The CLI uses
# /run/cloud-init/instance-data.json; this path never exists (it is Debian's home for
# nobody), so templates fail to render exactly as the CLI's do on a machine without
# cloud-init instance data, without looking under /run.
NO_INSTANCE_DATA = "/nonexistent/instance-data.json"

# Exceptions that point at this harness or a broken oracle, never at the input.
HARNESS_BUGS = (ImportError, NameError, AttributeError, SyntaxError, AssertionError)

# What 25.1+ print when they return without validating (the CLI then exits 0).
NOT_VALIDATED = ("Nothing to validate.", "not currently evaluated by cloud-init schema")


class HarnessError(Exception):
    pass


def die(message):
    print(f"schema-verdicts: {message}", file=sys.stderr)
    sys.exit(2)


def text(value):
    # Names and messages may carry undecodable bytes (as surrogates): keep JSON valid.
    return str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class Oracle:
    """One cloud-init release's `schema -c FILE`, callable per file."""

    def __init__(self, release, schema):
        self.release = release
        self.schema = schema
        self.full_schema = schema.get_schema()
        # validate_cloudconfig_file() prints the deprecations instead of raising them
        # when there is no error.  Wrap the module-level function it calls (looked up
        # by name at call time) to keep the SchemaValidationError it raised.
        self.raised = []
        real = schema.validate_cloudconfig_schema

        def spy(*args, **kwargs):
            try:
                return real(*args, **kwargs)
            except schema.SchemaValidationError as e:
                self.raised.append(e)
                raise

        schema.validate_cloudconfig_schema = spy

    def _validate(self, path):
        """True if cloud-init validated the file; raises as cloud-init raises."""
        if self.release == "22.4":
            # 22.4: (config_path, schema, annotate); it validates or raises.
            self.schema.validate_cloudconfig_file(path, self.full_schema, annotate=False)
            return True
        # 25.1+: returns False when it skipped the file (empty, or not #cloud-config).
        return self.schema.validate_cloudconfig_file(
            path, self.full_schema, self.schema.SchemaType.CLOUD_CONFIG, False, NO_INSTANCE_DATA
        )

    def check(self, path, name):
        def own(message):  # cloud-init's message, naming the file as the caller did
            return text(str(message).replace(path, name))

        def problems(items):  # SchemaProblem (NamedTuple) in all three; plain tuples tolerated
            return [{"path": own(p[0]), "message": own(p[1])} for p in items or []]

        self.raised.clear()
        out, err = io.StringIO(), io.StringIO()
        result = {"verdict": "invalid", "errors": [], "deprecations": [], "note": "", "validated": True}
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                performed = self._validate(path)
        except self.schema.SchemaValidationError as e:
            # CLI: prints "Error: Cloud config schema errors: ...", exits 1.
            result["errors"] = problems(e.schema_errors)
            if not result["errors"]:
                raise HarnessError(f"{name}: SchemaValidationError without errors: {e}")
            if isinstance(e.__cause__, yaml.YAMLError):
                result["note"] = "not valid YAML"
            elif all(p["path"].startswith("format-l") for p in result["errors"]):
                # 22.4: no "#cloud-config" first line; 25.1+: unknown header, or a
                # "## template: jinja" file that is no template.
                result["note"] = "user-data header rejected"
        except RuntimeError as e:
            # CLI: "Cloud-config is not a YAML dict." (22.4) / "cloud-config FILE is not
            # a YAML dict." (25.1+), exit 1.
            result["errors"] = [{"path": "", "message": own(e)}]
            result["note"] = "not a YAML dict" if "not a YAML dict" in str(e) else own(f"{type(e).__name__}: {e}")
        except SystemExit as e:
            # cloud-init's error(..., sys_exit=True): 25.1+ for jinja templates that
            # cannot be rendered (no instance data, jinja syntax error).
            if e.code in (None, 0):
                raise HarnessError(f"{name}: cloud-init exited 0 in the middle of validation")
            message = err.getvalue().strip()
            message = message[len("Error:"):].strip() if message.startswith("Error:") else message
            result["errors"] = [{"path": "", "message": own(message)}]
            result["note"] = own("cloud-init exited %s: %s" % (e.code, message.splitlines()[0] if message else ""))
        except HARNESS_BUGS:
            raise
        except Exception as e:
            # The CLI dies with a traceback (exit 1), e.g. UnicodeDecodeError on a file
            # that is not UTF-8 (25.1+), TypeError on mixed int/str keys (25.1+).
            result["errors"] = [{"path": "", "message": own(f"{type(e).__name__}: {e}")}]
            result["note"] = "cloud-init crashed (the CLI prints a traceback and exits 1)"
        else:
            printed = out.getvalue().strip()
            if performed is not True:
                if performed is False and any(s in printed for s in NOT_VALIDATED):
                    result["validated"] = False
                    result["note"] = own(printed)
                else:  # e.g. "Skipping ... Jsonschema dependency missing."
                    raise HarnessError(f"{name}: cloud-init did not validate: {printed!r} ({performed!r})")
            result["verdict"] = "valid"

        if len(self.raised) > 1:
            raise HarnessError(f"{name}: validate_cloudconfig_schema ran {len(self.raised)} times")
        if self.raised:
            deprecations = self.raised[0].schema_deprecations or []
            result["deprecations"] = problems(deprecations)
            if deprecations:
                # Cross-check with what the CLI prints.
                line = "Cloud config schema deprecations: " + ", ".join(f"{p[0]}: {p[1]}" for p in deprecations)
                if line not in out.getvalue():
                    raise HarnessError(f"{name}: deprecations not printed as expected")
                if result["verdict"] == "valid":
                    result["verdict"] = "deprecated"
        return result


def self_test(oracle):
    """Three known answers, through the same code path as the real files."""
    cases = {
        "valid": "#cloud-config\nruncmd: [ls]\n",
        "deprecated": "#cloud-config\napt_update: true\n",  # deprecated in 22.4 .. 26.2
        "invalid": "#cloud-config\nruncmd: 5\n",
    }
    with tempfile.TemporaryDirectory(prefix="schema-verdicts-selftest.") as tmp:
        for expected, content in cases.items():
            path = os.path.join(tmp, expected)
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
            got = oracle.check(path, expected)
            paths = {p["path"] for p in got["errors"] + got["deprecations"]}
            want = {"valid": set(), "deprecated": {"apt_update"}, "invalid": {"runcmd"}}[expected]
            if got["verdict"] != expected or paths != want:
                raise HarnessError(f"self-test: expected {expected} ({sorted(want)}), got {got}")


def main():
    if len(sys.argv) < 4:
        die("usage: schema_verdicts.py RELEASE COPY_DIR NAME...  (run tests/oracle/schema-verdicts)")
    release, copy_dir, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the JSON only
        try:
            import jsonschema  # noqa: F401  (without it cloud-init skips validation)
            from cloudinit import version
            from cloudinit.config import schema
        except Exception as e:
            die(f"cannot import cloud-init {release} and jsonschema: {e!r}")
    have = version.version_string()
    if have != release and not have.startswith(release + "."):
        die(f"asked for cloud-init {release}, imported {have} from {os.path.dirname(schema.__file__)}")

    try:
        oracle = Oracle(release, schema)
        self_test(oracle)
        setup = time.perf_counter() - started
        files = {}
        t0 = time.perf_counter()
        for i, name in enumerate(names, 1):
            files[text(name)] = oracle.check(os.path.join(copy_dir, str(i)), name)
        seconds = time.perf_counter() - t0
    except HarnessError as e:
        die(str(e))
    except Exception:
        traceback.print_exc()
        die("internal failure (traceback above)")

    json.dump(
        {
            "release": release,
            "cloud_init_version": have,
            "files": files,
            "seconds": round(seconds, 6),  # the loop over the files only
            "per_file_ms": round(seconds * 1000 / len(names), 3),
            "setup_seconds": round(setup, 6),  # imports, schema load, self-test
        },
        sys.stdout,
        indent=1,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
