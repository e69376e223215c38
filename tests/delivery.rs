//! Delivery formats of `ctxgen build`: `output.format` (cloud-config, multipart),
//! `output.compression` (none, gzip, auto against the provider's budget) and base64
//! where the provider needs text.
//!
//! - cloud-init's own reader (`tests/oracle/userdata-merge`: `UserDataProcessor`, the
//!   handlers' walk and the cloud-config handler's merge, Merge-Type included) reads
//!   every encoded output of every example back as exactly ctxgen's JSON, on 22.4,
//!   25.1 and 26.2; parts written with ctxgen's multipart writer merge as intended;
//! - `ctxgen check` reads every output format with zero errors;
//! - budgets: `auto` compresses only when over, the error names the largest
//!   contributors and no values;
//! - every format is deterministic.
//!
//! A missing oracle fails the test: it never passes by skipping.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde_json::{Value, json};

use ctxgen::Artifact;
use ctxgen::check::{Options, check_bytes};
use ctxgen::spec::Provider;
use ctxgen::userdata::write::{MERGE_TYPE, OutPart, multipart};
use ctxgen::userdata::{ContentType, read};

use common::INSTALL_HINT;

const RELEASES: [&str; 3] = ["22.4", "25.1", "26.2"];

/// One way of delivering a spec: `output.format`, `output.compression`, provider.
#[derive(Clone, Copy, Debug)]
struct Variant {
    format: &'static str,
    compression: &'static str,
    provider: &'static str,
}

const VARIANTS: [Variant; 5] = [
    Variant {
        format: "multipart",
        compression: "none",
        provider: "openstack",
    },
    Variant {
        format: "cloud-config",
        compression: "gzip",
        provider: "aws",
    },
    Variant {
        format: "multipart",
        compression: "gzip",
        provider: "nocloud",
    },
    Variant {
        format: "multipart",
        compression: "gzip",
        provider: "gcp",
    },
    Variant {
        format: "auto",
        compression: "auto",
        provider: "generic",
    },
];

/// `text` (a spec) with `output` and `target.provider` set as `v` says.
fn with_variant(text: &str, v: Variant) -> String {
    let mut doc: Value = serde_saphyr::from_str(text).expect("example spec is YAML");
    let map = doc.as_object_mut().expect("a spec is a mapping");
    map.insert(
        "output".into(),
        json!({"format": v.format, "compression": v.compression}),
    );
    let target = map.entry("target").or_insert_with(|| json!({}));
    target["provider"] = json!(v.provider);
    serde_saphyr::to_string(&doc).expect("spec back to YAML")
}

fn build_variant(spec: &common::SpecFile, v: Variant) -> Artifact {
    let text = std::fs::read_to_string(&spec.path).expect("read example");
    let base = spec.path.parent().unwrap_or(Path::new("."));
    match common::build_text_unit(
        &spec.path.display().to_string(),
        &with_variant(&text, v),
        base,
        spec.unit.clone(),
    ) {
        Ok((artifact, _)) => artifact,
        Err(e) => panic!("{} as {v:?} does not build:\n{e}", spec.label),
    }
}

fn examples() -> Vec<common::SpecFile> {
    let specs: Vec<_> = common::spec_files()
        .into_iter()
        .filter(|s| s.label.starts_with("examples/"))
        .collect();
    assert!(!specs.is_empty(), "no examples found");
    specs
}

/// Runs `userdata-merge RELEASE FILE [--base64]`: the merged cloud-config as JSON, or
/// `Err` with cloud-init's complaint. A missing oracle panics.
fn cloud_init_merge(release: &str, file: &Path, base64: bool) -> Result<Value, String> {
    let script = common::root().join("tests/oracle/userdata-merge");
    let mut cmd = Command::new(&script);
    cmd.arg(release).arg(file);
    if base64 {
        cmd.arg("--base64");
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {INSTALL_HINT}", script.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("unreadable JSON from the oracle ({e}): {stderr}")),
        Some(1) => Err(format!(
            "cloud-init {release}: {stderr}{}",
            String::from_utf8_lossy(&out.stdout)
        )),
        _ => panic!(
            "the userdata-merge oracle did not run ({}):\n{stderr}\n{INSTALL_HINT}",
            out.status
        ),
    }
}

/// Runs `jobs` (label, release, file, base64, expected) on a few threads; the failures.
fn run_merges(jobs: Vec<(String, &'static str, PathBuf, bool, Value)>) -> Vec<String> {
    let jobs = Mutex::new(jobs);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let Some((label, release, file, base64, expected)) = jobs.lock().unwrap().pop() else {
                        break;
                    };
                    let problem = match cloud_init_merge(release, &file, base64) {
                        Ok(got) if got == expected => continue,
                        Ok(got) => format!("merged differently:\n  got:  {got}\n  want: {expected}"),
                        Err(e) => e,
                    };
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{label} on {release}: {problem}"));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    failures
}

#[test]
fn cloud_init_reads_every_format_back_as_the_json() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut jobs = Vec::new();
    for spec in examples() {
        for (i, v) in VARIANTS.into_iter().enumerate() {
            let artifact = build_variant(&spec, v);
            let file = dir.path().join(format!("{}.{i}", spec.stem()));
            std::fs::write(&file, &artifact.bytes).expect("write output");
            let label = format!("{} ({} {} {})", spec.label, v.format, v.compression, v.provider);
            for release in RELEASES {
                jobs.push((
                    label.clone(),
                    release,
                    file.clone(),
                    artifact.delivery.base64,
                    artifact.json.clone(),
                ));
            }
        }
    }
    let failures = run_merges(jobs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The writer's Merge-Type is what makes several parts add up: a document split over
/// two parts (lists halved, other keys shared out) merges back into the whole; without
/// the header, cloud-init's default lets the second part's lists replace the first's.
#[test]
fn parts_with_merge_type_add_up_in_cloud_init() {
    let spec = examples()
        .into_iter()
        .find(|s| s.label.ends_with("webserver"))
        .expect("the webserver example");
    let whole = build_variant(
        &spec,
        Variant {
            format: "cloud-config",
            compression: "none",
            provider: "generic",
        },
    )
    .json;
    let map = whole.as_object().unwrap();
    let (mut first, mut second) = (serde_json::Map::new(), serde_json::Map::new());
    let mut split_lists = 0;
    for (i, (k, v)) in map.iter().enumerate() {
        match v.as_array() {
            Some(items) if items.len() >= 2 => {
                let (a, b) = items.split_at(items.len() / 2);
                first.insert(k.clone(), Value::Array(a.to_vec()));
                second.insert(k.clone(), Value::Array(b.to_vec()));
                split_lists += 1;
            }
            _ if i % 2 == 0 => {
                first.insert(k.clone(), v.clone());
            }
            _ => {
                second.insert(k.clone(), v.clone());
            }
        }
    }
    assert!(split_lists >= 2, "the example has too few lists to split");
    let part = |name: &str, doc: serde_json::Map<String, Value>| OutPart {
        content_type: ContentType::CloudConfig,
        filename: name.into(),
        body: ctxgen::emit::to_yaml(&Value::Object(doc), "split")
            .unwrap()
            .into_bytes(),
    };
    let bytes = multipart(&[part("one.yaml", first), part("two.yaml", second)]);
    let dir = tempfile::tempdir().expect("temporary folder");
    let with = dir.path().join("with-merge-type");
    std::fs::write(&with, &bytes).unwrap();
    let without = dir.path().join("without-merge-type");
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.matches(MERGE_TYPE).count(), 2);
    std::fs::write(&without, text.replace(&format!("Merge-Type: {MERGE_TYPE}\n"), "")).unwrap();

    let jobs = RELEASES
        .into_iter()
        .map(|r| {
            (
                "split webserver".to_string(),
                r,
                with.clone(),
                false,
                whole.clone(),
            )
        })
        .collect();
    let failures = run_merges(jobs);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for release in RELEASES {
        let merged = cloud_init_merge(release, &without, false).expect("merges without the header too");
        assert_ne!(
            merged, whole,
            "without Merge-Type, cloud-init {release} should let the second part's lists replace the first's"
        );
    }
}

#[test]
fn check_reads_every_format_with_zero_errors() {
    for spec in examples() {
        for v in VARIANTS {
            let artifact = build_variant(&spec, v);
            let provider = serde_json::from_value::<Provider>(json!(v.provider)).unwrap();
            let options = Options {
                provider: Some(provider),
                ..Options::default()
            };
            let findings = |bytes: &[u8]| -> Vec<String> {
                check_bytes("user-data", bytes, &options)
                    .findings
                    .iter()
                    .map(|f| {
                        format!(
                            "{} {}: {} at {}",
                            if f.diag.is_error() { "error" } else { "warning" },
                            f.diag.code,
                            f.diag.message,
                            f.path
                        )
                    })
                    .collect()
            };
            // The encoding adds nothing: the findings are those of the cloud-config
            // text itself (none for most examples; webapp-secrets built with secrets in
            // clear has a password in a URL, which check rightly reports).
            let found = findings(&artifact.bytes);
            // The plain text may be over the budget (CL014) that the payload fits.
            let mut plain = findings(artifact.yaml.as_bytes());
            plain.retain(|f| !f.contains(" CL014: "));
            assert_eq!(found, plain, "{} as {v:?}", spec.label);
            assert!(
                !found
                    .iter()
                    .any(|f| f.contains(" CG013: ") || f.contains(" CL014: ")),
                "{} as {v:?}: {found:#?}",
                spec.label
            );
            if !spec.label.contains("secrets") {
                assert!(
                    !found.iter().any(|f| f.starts_with("error")),
                    "{} as {v:?}: {found:#?}",
                    spec.label
                );
            }
            let parts = read(&artifact.bytes, "user-data").unwrap();
            assert_eq!(parts.parts.len(), 1);
            assert!(
                parts.parts[0].body == artifact.yaml.as_bytes(),
                "{} as {v:?}",
                spec.label
            );
        }
    }
}

#[test]
fn every_format_is_deterministic_and_shaped_as_asked() {
    let spec = &examples()[0];
    for v in VARIANTS {
        let a = build_variant(spec, v);
        let b = build_variant(spec, v);
        assert_eq!(a.bytes, b.bytes, "{v:?}");
        let d = &a.delivery;
        assert_eq!(d.multipart, v.format == "multipart", "{v:?}");
        assert_eq!(d.gzip, v.compression == "gzip", "{v:?}");
        assert_eq!(d.base64, v.provider == "gcp" && d.gzip, "{v:?}");
        let bytes = &a.bytes;
        match (d.multipart, d.gzip, d.base64) {
            (_, true, false) => {
                assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0], "gzip, no name: {v:?}");
                assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "mtime 0: {v:?}");
            }
            (_, true, true) => {
                assert!(
                    bytes
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b))
                );
                assert!(bytes.starts_with(b"H4sI"), "base64 of gzip: {v:?}");
                assert!(d.notes.iter().any(|n| n.contains("user-data-encoding: base64")));
            }
            (true, false, _) => {
                let text = std::str::from_utf8(bytes).unwrap();
                assert!(text.starts_with("Content-Type: multipart/mixed; boundary=\"ctxgen-"));
                assert!(text.contains(&format!("Merge-Type: {MERGE_TYPE}\n")));
                assert!(text.contains("filename=\"cloud-config.yaml\""));
            }
            (false, false, _) => assert_eq!(bytes, a.yaml.as_bytes()),
        }
    }
}

/// A spec in `dir` with `files` (path, content) and the given output settings.
fn budget_spec(
    dir: &Path,
    provider: &str,
    compression: &str,
    files: &[(String, String)],
) -> Result<Artifact, String> {
    let mut spec = format!(
        "version: 1\nname: big\ntarget: {{ provider: {provider} }}\noutput: {{ compression: {compression} }}\nfiles:\n"
    );
    for (i, (path, content)) in files.iter().enumerate() {
        let local = format!("f{i}.txt");
        std::fs::write(dir.join(&local), content).unwrap();
        spec.push_str(&format!("  - {{ path: {path}, source: {local} }}\n"));
    }
    spec.push_str(&format!(
        "commands:\n  first_boot: [[echo, hello, {}]]\n",
        noise(2500, 9).replace('\n', "")
    ));
    common::build_text("big.yaml", &spec, dir).map(|(a, _)| a)
}

/// Text of `n` bytes that gzip cannot shrink much (letters from a fixed LCG).
fn noise(n: usize, seed: u64) -> String {
    let mut x = seed;
    (0..n)
        .map(|i| {
            if i % 64 == 63 {
                return '\n';
            }
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (b'a' + ((x >> 33) % 26) as u8) as char
        })
        .collect()
}

/// Many small, plain, compressible files (each too small for write_files to encode).
fn many_small(count: usize) -> Vec<(String, String)> {
    (0..count)
        .map(|i| {
            let content: String = (0..12)
                .map(|l| format!("setting_{l} = value for file {i}, line {l}\n"))
                .collect();
            (format!("/etc/app/conf.d/{i:03}.conf"), content)
        })
        .collect()
}

#[test]
fn auto_compresses_only_when_over_budget() {
    let dir = tempfile::tempdir().unwrap();
    let files = many_small(40);
    let a = budget_spec(dir.path(), "aws", "auto", &files).unwrap();
    assert!(
        a.yaml.len() > 16384,
        "the test spec must be over aws's budget raw"
    );
    assert!(a.delivery.gzip && !a.delivery.base64);
    assert!(a.bytes.len() <= 16384 && a.delivery.size == a.bytes.len());
    // Under the budget: left alone.
    let a = budget_spec(dir.path(), "openstack", "auto", &files).unwrap();
    assert!(!a.delivery.gzip);
    assert_eq!(a.delivery.size, a.bytes.len().div_ceil(3) * 4);
    // No budget: never compressed by auto.
    let a = budget_spec(dir.path(), "nocloud", "auto", &many_small(200)).unwrap();
    assert!(!a.delivery.gzip && a.delivery.budget.is_none());
    // `none` over budget: an error that suggests compressing.
    let e = budget_spec(dir.path(), "aws", "none", &files).unwrap_err();
    assert!(e.contains("error[CG015]"), "{e}");
    assert!(e.contains("over aws's limit of 16384 bytes"), "{e}");
    assert!(e.contains("set `output.compression: auto`"), "{e}");
    assert!(e.contains("write_files /etc/app/conf.d/"), "{e}");
}

#[test]
fn openstack_counts_base64() {
    let dir = tempfile::tempdir().unwrap();
    // About 52 KB raw: under 65535 as bytes, over it once base64-encoded.
    let files = vec![("/srv/noise.txt".to_string(), noise(52_000, 7))];
    let e = budget_spec(dir.path(), "openstack", "none", &files).unwrap_err();
    assert!(
        e.contains("over openstack's limit of 65535 bytes (counted after base64"),
        "{e}"
    );
    let a = budget_spec(dir.path(), "openstack", "auto", &files).unwrap();
    assert!(a.delivery.gzip && a.delivery.size <= 65535);
    assert_eq!(a.delivery.size, a.bytes.len().div_ceil(3) * 4);
}

#[test]
fn still_over_budget_names_the_largest_contributors_without_values() {
    let dir = tempfile::tempdir().unwrap();
    let big = noise(40_000, 1);
    let files = vec![
        ("/srv/big.txt".to_string(), big.clone()),
        ("/srv/small.txt".to_string(), noise(3_000, 2)),
    ];
    let e = budget_spec(dir.path(), "aws", "auto", &files).unwrap_err();
    assert!(e.contains("error[CG015]"), "{e}");
    assert!(
        e.contains("gzip-compressed, over aws's limit of 16384 bytes"),
        "{e}"
    );
    assert!(e.contains("largest contributors"), "{e}");
    let big_line = e
        .lines()
        .position(|l| l.contains("write_files /srv/big.txt"))
        .expect(&e);
    let small_line = e
        .lines()
        .position(|l| l.contains("write_files /srv/small.txt"))
        .expect(&e);
    assert!(big_line < small_line, "largest first:\n{e}");
    // The user's step by its line (9: after the header, the two files and
    // `commands:`); entries ctxgen adds by itself as defaults.
    assert!(
        e.lines()
            .any(|l| l.contains(" runcmd entry ") && l.ends_with(" (from big.yaml:9)")),
        "{e}"
    );
    assert!(e.contains(" (a ctxgen default)"), "{e}");
    assert!(!e.contains(&noise(2500, 9)[..40]), "no values:\n{e}");
    assert!(e.contains("40000"), "sizes are given:\n{e}");
    assert!(!e.contains(&big[..40]) && !e.contains("hello"), "no values:\n{e}");
    assert!(e.contains("fetch large files at boot"), "{e}");
}

#[test]
fn cli_writes_the_payload_and_check_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples()
        .into_iter()
        .find(|s| s.label.ends_with("webserver"))
        .unwrap();
    let text = with_variant(
        &std::fs::read_to_string(&spec.path).unwrap(),
        Variant {
            format: "multipart",
            compression: "gzip",
            provider: "gcp",
        },
    );
    let out = dir.path().join("user-data");
    // From standard input, local paths are relative to the current folder.
    let build = assert_cmd::Command::cargo_bin("ctxgen")
        .unwrap()
        .current_dir(spec.path.parent().unwrap())
        .args(["build", "--redact", "-o"])
        .arg(&out)
        .arg("-")
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(String::from_utf8_lossy(&build.stderr).contains("note: the output is base64 text of gzip data"));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"H4sI"));
    let check = assert_cmd::Command::cargo_bin("ctxgen")
        .unwrap()
        .args(["check", "--provider", "gcp"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn explain_knows_the_budget_code() {
    let out = assert_cmd::Command::cargo_bin("ctxgen")
        .unwrap()
        .args(["explain", "CG015"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("larger than the provider takes"));
}
