//! The YAML 1.1 loader against its oracle: every document in `tests/fixtures/yaml11`
//! is loaded by PyYAML's `yaml.safe_load` (what cloud-init uses, run by
//! `/usr/bin/python3`) and by `ctxgen::source::yaml11::load`; both must give the same
//! JSON, key order included, or both must fail. Fixtures named `err_*` must fail in
//! both; those named `refused_*` are the loader's deliberate differences (PyYAML reads
//! them, ctxgen refuses them), each listed in [`REFUSED`] with its reason.
//!
//! The oracle prints what `json.dumps(yaml.safe_load(text), default=str)` would, with
//! the representation choices `to_json` documents: NaN and infinities as strings,
//! sets as sorted arrays, date and bytes keys as their `str()`. A missing oracle fails
//! the test: it never passes by skipping.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ctxgen::source::yaml11::{
    self, ALIAS_BUDGET, Loaded, MAX_DEPTH, NodeKind, ScalarStyle, TimeOfDay, Timestamp, load, to_json,
};
use ctxgen::{Severity, Sources};
use serde_json::Value;

/// Loads every file given, printing one JSON line per file: `{"ok": value}` or
/// `{"error": "ExceptionType: first line"}`. Floats (and integers beyond 64 bits) are
/// written `{"$float": repr}`, so that the comparison reads Python's digits exactly.
const ORACLE: &str = r#"
import json, math, sys, yaml

def non_finite(f):
    if f != f: return 'NaN'
    if math.isinf(f): return 'Infinity' if f > 0 else '-Infinity'
    return None

def key_text(k):
    if isinstance(k, str): return k
    if isinstance(k, bool): return 'true' if k else 'false'
    if k is None: return 'null'
    if isinstance(k, float): return non_finite(k) or repr(k)
    return str(k)

def key(k):
    if isinstance(k, (str, int, type(None))): return k
    return key_text(k)

def plain(o):
    if isinstance(o, float):
        return non_finite(o) or {'$float': repr(o)}
    if isinstance(o, int) and not isinstance(o, bool) and not -2**63 <= o < 2**64:
        try: return plain(float(o))
        except OverflowError: return str(o)
    if isinstance(o, dict):
        return {key(k): plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [plain(x) for x in o]
    if isinstance(o, (set, frozenset)):
        return [plain(x) for x in sorted(o, key=key_text)]
    return o

for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8')
    try:
        out = {'ok': plain(yaml.safe_load(text))}
        line = json.dumps(out, default=str, allow_nan=False)
    except Exception as e:
        line = json.dumps({'error': type(e).__name__ + ': ' + str(e).split('\n')[0]})
    print(line, flush=True)
"#;

/// Fixtures (named `refused_*`) that PyYAML loads and the loader deliberately refuses,
/// each with the reason; `ctxgen::source::yaml11`'s documentation lists them too.
const REFUSED: &[(&str, &str)] = &[
    (
        "refused_merge_self",
        "a mapping that merges itself: PyYAML's result depends on the order it edits the mapping in",
    ),
    (
        "refused_nel_in_quoted",
        "U+0085 in quoted text: PyYAML folds it as a line break, YAML 1.2 keeps it",
    ),
    (
        "refused_anchor_then_colon",
        "`&x:`: YAML 1.1 ends the anchor name at `:` (an anchored empty key), YAML 1.2 reads `x:` as the name",
    ),
    (
        "refused_flow_bare_question",
        "a bare `?` entry in a flow collection: YAML 1.1 reads an empty key, YAML 1.2 the text `?`",
    ),
    (
        "refused_block_top_unindented_comment",
        "a top-level block scalar followed by a comment at column 0: YAML 1.1 reads an empty \
         scalar and a comment, YAML 1.2 the comment as the scalar's text",
    ),
    (
        "refused_seq_entry_block_at_dash_column",
        "a sequence entry whose block scalar starts on the next line at the dash's column: \
         YAML 1.1 allows it, YAML 1.2 does not",
    ),
    (
        "refused_bom_before_dash",
        "a byte order mark after the first line: PyYAML reads `\\u{feff}- a` as text, YAML 1.2 skips it",
    ),
];

const PYTHON: &str = "/usr/bin/python3";

fn fixtures() -> Vec<PathBuf> {
    let dir = common::root().join("tests/fixtures/yaml11");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn load_text(text: &str) -> (Sources, Result<Loaded, ctxgen::Diagnostic>) {
    let mut sources = Sources::new();
    let id = sources.add("doc.yaml", text);
    let loaded = load(&sources, id);
    (sources, loaded)
}

fn canonical(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Whether the oracle's value equals ours, key order included; `{"$float": repr}` in
/// the oracle's equals a float number whose bits are those of `repr` read back.
fn same(expected: &Value, got: &Value) -> bool {
    match (expected, got) {
        (Value::Object(e), _) if e.len() == 1 && e.contains_key("$float") => {
            let want = e["$float"].as_str().and_then(|t| t.parse::<f64>().ok());
            let have = got.as_f64().filter(|_| got.is_f64());
            matches!((want, have), (Some(w), Some(h)) if w.to_bits() == h.to_bits())
        }
        (Value::Object(e), Value::Object(g)) => {
            e.len() == g.len()
                && e.iter()
                    .zip(g)
                    .all(|((ke, ve), (kg, vg))| ke == kg && same(ve, vg))
        }
        (Value::Array(e), Value::Array(g)) => e.len() == g.len() && e.iter().zip(g).all(|(x, y)| same(x, y)),
        _ => expected == got,
    }
}

#[test]
fn pyyaml_agrees_on_every_fixture() {
    let files = fixtures();
    assert!(files.len() >= 150, "only {} fixtures", files.len());
    let output = Command::new(PYTHON)
        .arg("-c")
        .arg(ORACLE)
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {PYTHON} (PyYAML is the oracle): {e}; {}",
                common::INSTALL_HINT
            )
        });
    assert!(
        output.status.success(),
        "the PyYAML oracle failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        common::INSTALL_HINT
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "the oracle printed one line per file");

    let mut failures = Vec::new();
    let mut errors = 0;
    let mut refused = 0;
    for (path, line) in files.iter().zip(lines) {
        let name = name(path);
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let oracle: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: oracle line {line:?}: {e}"));
        let (sources, ours) = load_text(&text);
        match (oracle.get("ok"), ours) {
            (Some(expected), Ok(loaded)) => {
                let got = to_json(&loaded.root);
                if !same(expected, &got) {
                    failures.push(format!(
                        "{name}: PyYAML reads {}\n  ctxgen reads {}",
                        canonical(expected),
                        canonical(&got)
                    ));
                }
                if name.starts_with("err_") || name.starts_with("refused_") {
                    failures.push(format!("{name}: named err_ or refused_ but both load it"));
                }
            }
            (Some(_), Err(_)) if REFUSED.iter().any(|(n, _)| *n == name) => refused += 1,
            (Some(expected), Err(d)) => failures.push(format!(
                "{name}: PyYAML reads {}\n  ctxgen fails: {}",
                canonical(expected),
                d.render(&sources, false)
            )),
            (None, Ok(loaded)) => failures.push(format!(
                "{name}: PyYAML fails ({})\n  ctxgen reads {}",
                oracle["error"],
                canonical(&to_json(&loaded.root))
            )),
            (None, Err(d)) => {
                errors += 1;
                if d.span.is_none() {
                    failures.push(format!("{name}: the error has no location: {}", d.message));
                }
                if !name.starts_with("err_") {
                    failures.push(format!(
                        "{name}: both fail, but the name does not start with err_"
                    ));
                }
            }
        }
    }
    let unused: Vec<_> = REFUSED
        .iter()
        .filter(|(n, _)| !files.iter().any(|f| self::name(f) == *n))
        .collect();
    assert!(
        unused.is_empty(),
        "REFUSED names fixtures that do not exist: {unused:?}"
    );
    eprintln!(
        "PyYAML and ctxgen agree on {} of {} fixtures ({errors} refused by both); \
         {refused} deliberately refused by ctxgen only",
        files.len() - failures.len() - refused,
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The node at `path` (map keys as text, list indices as numbers) of a loaded root.
fn at<'a>(loaded: &'a Loaded, path: &[&str]) -> &'a yaml11::Node {
    let mut node = &loaded.root;
    for step in path {
        node = match &node.kind {
            NodeKind::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(&k.kind, NodeKind::Str(s) if s == step))
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("no key {step}")),
            NodeKind::Seq(items) => &items[step.parse::<usize>().expect("an index")],
            other => panic!("cannot step into {other:?}"),
        };
    }
    node
}

fn key<'a>(loaded: &'a Loaded, path: &[&str], name: &str) -> &'a yaml11::Node {
    let NodeKind::Map(pairs) = &at(loaded, path).kind else {
        panic!("not a mapping");
    };
    pairs
        .iter()
        .map(|(k, _)| k)
        .find(|k| matches!(&k.kind, NodeKind::Str(s) if s == name))
        .unwrap_or_else(|| panic!("no key {name}"))
}

fn slice(text: &str, span: ctxgen::Span) -> &str {
    &text[span.start..span.end]
}

#[test]
fn spans_point_at_keys_and_values() {
    let text = "# c\nwrite_files:\n  - path: /etc/x\n    permissions: 0644\n    content: |\n      hi\nname: \"quoted\"\nlist: [a, &x b, *x]\n";
    let (_, loaded) = load_text(text);
    let loaded = loaded.expect("loads");
    let perm_key = key(&loaded, &["write_files", "0"], "permissions");
    assert_eq!(slice(text, perm_key.span), "permissions");
    let perm = at(&loaded, &["write_files", "0", "permissions"]);
    assert_eq!(slice(text, perm.span), "0644");
    assert_eq!(perm.kind, NodeKind::Int(420));
    let scalar = perm.scalar.as_ref().expect("a scalar");
    assert_eq!((scalar.text.as_str(), scalar.style), ("0644", ScalarStyle::Plain));
    assert_eq!(slice(text, key(&loaded, &[], "write_files").span), "write_files");
    let name = at(&loaded, &["name"]);
    assert_eq!(slice(text, name.span), "\"quoted\"");
    assert_eq!(
        name.scalar.as_ref().map(|s| s.style),
        Some(ScalarStyle::DoubleQuoted)
    );
    let content = at(&loaded, &["write_files", "0", "content"]);
    assert_eq!(
        content.scalar.as_ref().map(|s| s.style),
        Some(ScalarStyle::Literal)
    );
    assert!(slice(text, content.span).contains("hi"));
    assert_eq!(slice(text, at(&loaded, &["list"]).span), "[a, &x b, *x]");
    // A value reached through an alias points at the anchored text.
    assert_eq!(slice(text, at(&loaded, &["list", "2"]).span), "b");
    let item = at(&loaded, &["write_files", "0"]);
    assert!(slice(text, item.span).starts_with("path: /etc/x"));
    assert!(slice(text, item.span).ends_with("hi\n") || slice(text, item.span).ends_with("hi"));
}

#[test]
fn errors_point_at_the_offending_text() {
    let cases = [
        ("a: 1\nb:\t2\n", "\t"),
        ("a: !foo x\n", "x"),
        ("a: 1\n---\nb: 2\n", "-"),
        ("[a, b]: c\n", "[a, b]"),
        ("a: &x 1\nb: &x 2\n", "&x"),
        ("a: 2030-02-30\n", "2030-02-30"),
    ];
    for (text, expected) in cases {
        let (_, result) = load_text(text);
        let d = result.expect_err(text);
        let span = d.span.expect("located");
        assert!(
            slice(text, span).starts_with(expected),
            "{text:?}: points at {:?}",
            slice(text, span)
        );
        assert!(d.hint.is_some(), "{text:?}: no hint");
    }
    // The second `&x`, not the first.
    let text = "a: &x 1\nb: &x 2\n";
    let (_, result) = load_text(text);
    assert_eq!(result.unwrap_err().span.map(|s| s.start), Some(11));
}

#[test]
fn duplicate_keys_keep_the_last_value_and_warn() {
    let text = "a: 1\nb: 2\na: 3\nbase: &b {x: 1}\nm:\n  <<: *b\n  x: 2\n";
    let (sources, loaded) = load_text(text);
    let loaded = loaded.expect("loads");
    assert_eq!(to_json(&loaded.root)["a"], Value::from(3));
    assert_eq!(to_json(&loaded.root)["m"]["x"], Value::from(2));
    // One warning: overriding a merged key is what merges are for.
    assert_eq!(loaded.findings.len(), 1, "{:?}", loaded.findings);
    let d = &loaded.findings[0];
    assert_eq!(d.severity, Severity::Warning);
    let span = d.span.expect("located");
    assert_eq!((span.start, slice(text, span)), (10, "a"));
    assert!(d.notes.iter().any(|n| n.contains("line 1")), "{:?}", d.notes);
    assert!(d.render(&sources, false).contains("doc.yaml:3:1"));
    // Python's dict: `1`, `1.0` and `true` are one key, which keeps its first form.
    let (_, loaded) = load_text("1: a\n1.0: b\ntrue: c\n");
    let loaded = loaded.expect("loads");
    assert_eq!(canonical(&to_json(&loaded.root)), r#"{"1":"c"}"#);
    assert_eq!(loaded.findings.len(), 2);
}

#[test]
fn alias_bombs_fail_fast() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let started = Instant::now();
    let (_, result) = load_text(&text);
    let elapsed = started.elapsed();
    let d = result.expect_err("a billion laughs must not load");
    assert!(d.message.contains(&ALIAS_BUDGET.to_string()), "{}", d.message);
    let span = d.span.expect("located");
    assert!(text[span.start..].starts_with("*a"), "points at an alias");
    assert!(elapsed.as_millis() < 100, "took {elapsed:?}");

    // Merge keys copy too.
    let mut text = String::from("m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}\n");
    for i in 1..12 {
        text.push_str(&format!(
            "m{i}: &m{i} {{<<: [*m{0}, *m{0}, *m{0}, *m{0}]}}\n",
            i - 1
        ));
    }
    let started = Instant::now();
    let (_, result) = load_text(&text);
    assert!(result.is_err(), "a merge bomb must not load");
    assert!(
        started.elapsed().as_millis() < 100,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn deep_nesting_through_aliases_is_refused() {
    let mut text = String::from("l0: &l0 [x]\n");
    for i in 1..=200 {
        text.push_str(&format!("l{i}: &l{i} [*l{}]\n", i - 1));
    }
    let (_, result) = load_text(&text);
    let d = result.expect_err("too deep");
    assert!(d.message.contains(&MAX_DEPTH.to_string()), "{}", d.message);
}

#[test]
fn values_have_python_types() {
    let text = "when: 2001-12-14t21:59:43.10-05:00\nday: 2030-01-01\nblob: !!binary aGk=\n\
                big: 0x1_0000_0000_0000_0000_0000_0000_0000_0000\ns: !!set {b, a}\n\
                o: !!omap [x: 1]\nnan: .nan\nmode: 0644\nflag: off\n";
    let (_, loaded) = load_text(text);
    let loaded = loaded.expect("loads");
    let stamp = Timestamp {
        year: 2001,
        month: 12,
        day: 14,
        time: Some(TimeOfDay {
            hour: 21,
            minute: 59,
            second: 43,
            microsecond: 100_000,
            utc_offset_minutes: Some(-300),
        }),
    };
    assert_eq!(at(&loaded, &["when"]).kind, NodeKind::Timestamp(stamp));
    assert_eq!(at(&loaded, &["blob"]).kind, NodeKind::Binary(b"hi".to_vec()));
    assert_eq!(
        at(&loaded, &["big"]).kind,
        NodeKind::BigInt("340282366920938463463374607431768211456".into())
    );
    assert!(matches!(&at(&loaded, &["s"]).kind, NodeKind::Set(m) if m.len() == 2));
    assert!(matches!(&at(&loaded, &["o"]).kind, NodeKind::Pairs(p) if p.len() == 1));
    assert!(matches!(at(&loaded, &["nan"]).kind, NodeKind::Float(f) if f.is_nan()));
    assert_eq!(at(&loaded, &["flag"]).kind, NodeKind::Bool(false));
    let json = to_json(&loaded.root);
    assert_eq!(json["when"], "2001-12-14 21:59:43.100000-05:00");
    assert_eq!(json["day"], "2030-01-01");
    assert_eq!(json["blob"], "b'hi'");
    assert_eq!(json["s"], serde_json::json!(["a", "b"]));
    assert_eq!(json["o"], serde_json::json!([["x", 1]]));
    assert_eq!(json["nan"], "NaN");
    assert_eq!(json["mode"], 420);
}

/// Loads a generated document of a few megabytes and reports the speed; the numbers
/// that matter come from `cargo test --release --test yaml11 -- --nocapture speed`.
#[test]
fn speed_on_a_large_document() {
    let mut text = String::from("#cloud-config\nwrite_files:\n");
    let mut entries = 0;
    while text.len() < 4 << 20 {
        text.push_str(&format!(
            "  - path: /etc/app/{entries}.conf\n    permissions: 0644\n    owner: root:root\n    defer: yes\n    content: |\n      key = value {entries}\n      other = 1:20\n"
        ));
        entries += 1;
    }
    text.push_str("runcmd:\n  - [systemctl, restart, app]\n");
    let started = Instant::now();
    let (_, loaded) = load_text(&text);
    let elapsed = started.elapsed();
    let loaded = loaded.expect("loads");
    let json = to_json(&loaded.root);
    assert_eq!(json["write_files"].as_array().map(Vec::len), Some(entries));
    assert_eq!(json["write_files"][7]["permissions"], Value::from(420));
    let mb = text.len() as f64 / 1e6;
    eprintln!(
        "loaded {mb:.1} MB ({entries} entries) in {:.0} ms: {:.1} MB/s",
        elapsed.as_secs_f64() * 1e3,
        mb / elapsed.as_secs_f64()
    );
}
