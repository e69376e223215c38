#!/usr/bin/python3
"""Check that a YAML file means exactly what a JSON file says, as cloud-init reads it.

    python3 tests/oracle/yaml_roundtrip.py YAML_FILE JSON_FILE
    python3 tests/oracle/yaml_roundtrip.py --batch DIR     (every X.yaml against X.json)

cloud-init loads user-data with PyYAML's yaml.safe_load (pure-Python SafeLoader,
YAML 1.1 rules), so that is what we use, from the system interpreter /usr/bin/python3
with Debian's python3-yaml when it exists (the script re-executes itself there; set
CTXGEN_YAML_NO_REEXEC=1 to keep the current interpreter).

The YAML is rejected, before any comparison, when it uses
  * anchors or aliases (&a / *a), found in the parser's event stream;
  * duplicate mapping keys (compared after resolution, so `1` and `0x1`, or `yes` and
    `true`, collide as they would in the loaded dict), found on the composed node tree;
  * merge keys (`<<`), which silently rewrite the mapping.
The comparison is strict about types: bool is not int (True != 1), int is not float,
and a date/datetime/bytes/set that PyYAML produced where JSON has a string is a
difference.  Mapping key order is not compared; list order is.

Exit status: 0 equal, 1 different or rejected, 2 usage error / unreadable input /
invalid JSON.  Batch mode prints one line per failing pair and exits 1 if any failed.
"""

import os
import sys

SYSTEM_PYTHON = "/usr/bin/python3"

# Prefer the interpreter (and PyYAML) that cloud-init itself runs on.
if (
    os.environ.get("CTXGEN_YAML_NO_REEXEC") != "1"
    and os.path.exists(SYSTEM_PYTHON)
    and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)
):
    os.environ["CTXGEN_YAML_NO_REEXEC"] = "1"
    os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])

import datetime  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402

try:
    import yaml  # noqa: E402
except ImportError:
    sys.stderr.write(
        "yaml_roundtrip: PyYAML is missing for %s (apt-get install python3-yaml, "
        "or run .ci/install-oracles.sh)\n" % sys.executable
    )
    sys.exit(2)

MERGE_TAG = "tag:yaml.org,2002:merge"


class Mismatch(Exception):
    """The YAML does not denote the JSON value (or is not acceptable at all)."""


class UsageError(Exception):
    """Problem with the inputs themselves (missing file, broken JSON)."""


# --------------------------------------------------------------------------- YAML


def _where(mark):
    return "line %d, column %d" % (mark.line + 1, mark.column + 1) if mark else "?"


def check_no_anchors(text):
    """Reject anchors and aliases, looking at parser events (not at the raw text)."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise Mismatch("alias *%s at %s" % (event.anchor, _where(event.start_mark)))
        if getattr(event, "anchor", None) is not None:
            raise Mismatch("anchor &%s at %s" % (event.anchor, _where(event.start_mark)))


def _key_value(loader, node):
    """Resolve a key node to the Python value safe_load would use as the dict key."""
    value = loader.construct_object(node, deep=True)
    try:
        hash(value)
    except TypeError:
        raise Mismatch("unhashable mapping key at %s" % _where(node.start_mark))
    return value


def check_mapping_keys(text):
    """Reject duplicate keys and merge keys, walking the composed node tree."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        return
    loader = yaml.SafeLoader("")  # only used to construct individual key nodes
    stack, seen_nodes = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = {}
            for key_node, value_node in node.value:
                if key_node.tag == MERGE_TAG:
                    raise Mismatch("merge key '<<' at %s" % _where(key_node.start_mark))
                key = _key_value(loader, key_node)
                if key in keys:
                    raise Mismatch(
                        "duplicate key %r at %s (first at %s)"
                        % (key, _where(key_node.start_mark), _where(keys[key]))
                    )
                keys[key] = key_node.start_mark
                stack.extend((key_node, value_node))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def load_yaml(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e))
    try:
        text = raw.decode("utf-8")  # cloud-init decodes user-data as UTF-8 too
    except UnicodeDecodeError as e:
        raise Mismatch("YAML is not UTF-8: %s" % e)
    try:
        check_no_anchors(text)
        check_mapping_keys(text)
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise Mismatch("YAML does not load: %s" % " ".join(str(e).split()))


# --------------------------------------------------------------------------- JSON


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise UsageError("duplicate key %r in JSON" % k)
        out[k] = v
    return out


def load_json(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=_no_duplicates)
    except OSError as e:
        raise UsageError("cannot read %s: %s" % (path, e))
    except ValueError as e:  # includes JSONDecodeError and UnicodeDecodeError
        raise UsageError("invalid JSON in %s: %s" % (path, e))


# --------------------------------------------------------------------------- compare


def _show(value):
    """repr plus type name, short enough for one line."""
    text = repr(value)
    if len(text) > 120:
        text = text[:117] + "..."
    return "%s (%s)" % (text, type(value).__name__)


def _child(path, key):
    if isinstance(key, str) and key.isidentifier():
        return "%s.%s" % (path, key)
    return "%s[%s]" % (path, json.dumps(key) if isinstance(key, str) else repr(key))


def compare(y, j, path="$"):
    """Raise Mismatch at the first place where YAML value y differs from JSON value j."""
    # Exact type match first: this is what keeps True apart from 1, 1 from 1.0, and a
    # datetime.date or bytes apart from the string the JSON holds.
    if type(y) is not type(j):
        hint = ""
        if isinstance(y, (datetime.date, datetime.datetime)):
            hint = " -- PyYAML read a timestamp; quote it"
        elif isinstance(y, bool) and isinstance(j, str):
            hint = " -- YAML 1.1 boolean word; quote it"
        elif isinstance(y, (int, float)) and isinstance(j, str):
            hint = " -- PyYAML read a number; quote it"
        elif y is None and isinstance(j, str):
            hint = " -- PyYAML read null; quote it"
        raise Mismatch("%s: YAML %s != JSON %s%s" % (path, _show(y), _show(j), hint))
    if isinstance(y, dict):
        for k in y:
            if not isinstance(k, str):
                raise Mismatch("%s: YAML has non-string key %s" % (path, _show(k)))
        only_y = sorted(set(y) - set(j))
        only_j = sorted(set(j) - set(y))
        if only_y or only_j:
            raise Mismatch(
                "%s: keys only in YAML %s, only in JSON %s" % (path, only_y, only_j)
            )
        for k in sorted(y):
            compare(y[k], j[k], _child(path, k))
    elif isinstance(y, list):
        for i, (a, b) in enumerate(zip(y, j)):
            compare(a, b, "%s[%d]" % (path, i))
        if len(y) != len(j):
            raise Mismatch("%s: YAML list has %d items, JSON has %d" % (path, len(y), len(j)))
    elif isinstance(y, float):
        if not (y == j or (math.isnan(y) and math.isnan(j))):
            raise Mismatch("%s: YAML %s != JSON %s" % (path, _show(y), _show(j)))
    elif y != j:
        if isinstance(y, str):
            # Point at the first differing character of long strings.
            i = next((n for n, (a, b) in enumerate(zip(y, j)) if a != b), min(len(y), len(j)))
            raise Mismatch(
                "%s: strings differ at offset %d: YAML %r vs JSON %r"
                % (path, i, y[max(0, i - 20):i + 40], j[max(0, i - 20):i + 40])
            )
        raise Mismatch("%s: YAML %s != JSON %s" % (path, _show(y), _show(j)))


def check_pair(yaml_path, json_path):
    """None when equal, else a one-line reason.  Raises UsageError for bad inputs."""
    expected = load_json(json_path)
    try:
        compare(load_yaml(yaml_path), expected)
    except Mismatch as e:
        return str(e)
    return None


# --------------------------------------------------------------------------- main


def run_batch(directory):
    try:
        names = os.listdir(directory)
    except OSError as e:
        raise UsageError("cannot list %s: %s" % (directory, e))
    stems_y = {n[:-5] for n in names if n.endswith(".yaml")}
    stems_j = {n[:-5] for n in names if n.endswith(".json")}
    if not stems_y and not stems_j:
        raise UsageError("no .yaml/.json files in %s" % directory)
    failures = 0
    for stem in sorted(stems_y | stems_j):
        y = os.path.join(directory, stem + ".yaml")
        j = os.path.join(directory, stem + ".json")
        if stem not in stems_j:
            reason = "no matching %s.json" % stem
        elif stem not in stems_y:
            reason = "no matching %s.yaml" % stem
        else:
            try:
                reason = check_pair(y, j)
            except UsageError as e:
                reason = "bad input: %s" % e
        if reason is not None:
            failures += 1
            print("%s: %s" % (stem, reason.replace("\n", " ")))
    total = len(stems_y | stems_j)
    sys.stderr.write("yaml_roundtrip: %d of %d pairs failed\n" % (failures, total))
    return 1 if failures else 0


def main(argv):
    usage = (
        "usage: yaml_roundtrip.py YAML_FILE JSON_FILE\n"
        "       yaml_roundtrip.py --batch DIR\n"
    )
    try:
        if len(argv) == 2 and argv[0] == "--batch":
            return run_batch(argv[1])
        if len(argv) == 2 and not argv[0].startswith("-"):
            reason = check_pair(argv[0], argv[1])
            if reason is None:
                return 0
            print("%s: %s" % (argv[0], reason))
            return 1
        if argv in (["--version"],):
            print("PyYAML %s on %s" % (yaml.__version__, sys.executable))
            return 0
    except UsageError as e:
        sys.stderr.write("yaml_roundtrip: %s\n" % e)
        return 2
    sys.stderr.write(usage)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
