//! The lint rules through the real `check` pipeline, on the fixtures under
//! `tests/fixtures/lint/<rule-name>/`: every `bad-*` file gets at least one finding of
//! its rule, every `good-*` file none, spans stay inside the texts they point into, and
//! no finding of any stage ever repeats a credential used in the fixtures.
//!
//! A fixture's provider (for the size budget) is in its name: `bad-aws-...`,
//! `good-openstack-...`; without one, no provider is given.

use std::path::{Path, PathBuf};

use ctxgen::check::{self, Category, Options, Report};
use ctxgen::diag::Code;
use ctxgen::lint;
use ctxgen::spec::Provider;

/// The made-up credentials written in the fixtures, as they appear in the files.
/// None is real: right format, no account behind it.
const FAKE_SECRETS: &[&str] = &[
    // aws_id
    "AKIA4QWERTY7ZXCVB2NM",
    // aws_secret
    "q8Vb2Lk9Rt0Wz5Xy1Nm3Pc7Hd4Jf6Gs8Ta2Ue0Io",
    // ghp
    "ghp_Zq3Xw8Rt2Yb6Nm1Kp9Lc4Vd7Hs5Jf0Ga3Qe1",
    // ghs
    "ghs_Mn4Bv6Cx8Zl0Kj2Hg4Fd6Sa8Qw1Er3Ty5Ui7",
    // gh_pat
    "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7Yy1Tt",
    // glpat
    "glpat-Xr4Tn8Wq2Zp6Lm9Vb3Kd",
    // slack
    "xoxb-2048736150-9283746501-Qw3Er5Ty7Ui9Op1As",
    // slack_hook
    "T0AB12CD3/B0CD34EF5/Qw3Er5Ty7Ui9Op1As2Df4Gh6",
    // google
    "AIzaSyQ3w9R7t5Y1u3I5o7P9a2S4d6F8g0H2j4K",
    // npm
    "npm_Qw3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0Xc2Vb4",
    // npmrc
    "Nk3Lp9Qr2Ws7Ev5Tb1Yh8Uj",
    // pypi
    "pypi-AgEIcHlwaS5vcmcCJDk3ZmQ0NmYxLTQ5MWUtNDYwZi1iZTk1LTA0Y2JmNTYxM2Q3NQACKlszLCJm",
    // azure
    "m9HFVkLPJl23wd1eVQQ7s61N5pgf3QxoW79MrpoVLh8HM1MAPExN02pmNdH5dp+vuqlfae/41v0/27UO8b+SQg==",
    // vault
    "hvs.CAESIKq3Zt8Rw2Yx6Nb1Mp9Lc4Vd7Hs5Jf0Ga3",
    // vault_legacy
    "s.Qw3Er5Ty7Ui9Op1As2Df4Gh6",
    // os_password
    "Bq7-Lm2Wz9Rt",
    // os_app_secret
    "Zx9Cv8Bn7Mq1Wd3Fg5Hj",
    // app_cred_yaml
    "Pt6Yu4Io2Kl8Mn0Bv1Cx",
    // jwt
    "eyJhbGciOiAiUlMyNTYiLCAia2lkIjogImsxIn0.eyJzdWIiOiAic3lzdGVtOnNlcnZpY2VhY2NvdW50OmNpOmRlcGxveWVyIiwgImlhdCI6IDE3MTgwMDAwMDB9.Wq3Er5Ty7Ui9Op1As2Df4Gh6Jk8Lz0Xc2Vb4Nm6Qw8Er0Ty2Ui4Op6As8Df0Gh2",
    // docker_pw
    "Hd8Rk2Vn5Tq",
    // docker_auth
    "ZGVwbG95OkhkOFJrMlZuNVRx",
    // kube_token
    "Kc5Vb7Nm9Qw2Er4Ty6Ui8Op",
    // url_pw
    "Wm4Xs9Lp2Qe",
    // curl_pw
    "Jr5Tn7Kq3Vz",
    // uat
    "C1Qw3Er5Ty7Ui9OpAs2Df4Gh",
    // rh_pw
    "Rh9-Sub7-Pw3",
    // pem_rsa
    "tsa5U7M1+YXpAlXWigTzPD/WXF/FhrnSbbILjcQl6u3kE75A3tPFyEMCn7t0Q5/2",
    // pem_ossh
    "TdIVYMsDJ3RbsP7GTU4QmSUlNsnRfRGjG5bbsewa2oDIlqu3d9B1xMbBJPSRysq5+C3Qwc",
    // pem_ec
    "T3wF+U8XExGEVtIUgNn4X6e/d/FqFaG3OlfKgSnIskSJI2yyEg7Vs9xaLiXj6n1R",
    // pem_enc
    "4AXYLTildQZbaZsE/Sfyk79TXhoBAY0s7ZWtICKpBJeOMsHNtkq6R2FEGUm8jZ3y",
    // pem_pgp
    "DgTT5O5qn1GGL1p+5rN4VaeazbuIkpPpqeOi5MLcZHC9fm/OsjdM+JrJ4+jvO+gc",
    // pem_sa
    "T/0423/p1gGq7jb/BBssO/47UZ5QNfX51mYqiq4tdAb2pG8ISW7UH40unD4Uvw5H",
    // pem_host
    "KJCL5tdmHJ++b0pp7AQnd2DjeNF6MxIdYziuX9s4rCf7r++HpSsE4WBpaOJP63YA/PvGLW",
    // kube_key_data
    "b242ekVYdjRPWWlxdlMySlVFZm1WdkhiQ21TOGxSSXZ5NXZHbEEwY0czMzht",
    // pw_Tr0ub4dor-3x
    "Tr0ub4dor-3x",
    // pw_Corr3ct-Horse-Battery
    "Corr3ct-Horse-Battery",
    // pw_Pa55-w0rd-Ubuntu
    "Pa55-w0rd-Ubuntu",
    // pw_R00t-Pw-Pl41n
    "R00t-Pw-Pl41n",
    // pw_0ps-N0t-4-Hash
    "0ps-N0t-4-Hash",
    // pw_C4rol-Pl41n-Pw
    "C4rol-Pl41n-Pw",
    // pw_D4ve-Pl41n-Pw
    "D4ve-Pl41n-Pw",
];

/// Made-up credentials that appear only inside encoded content (gzip+base64).
const ENCODED_SECRETS: &[&str] = &[
    // pem_gz
    "nH1I1eZjK7nh1nNnsI8znxPjsw8JtW8fhmoMa4mzAEkL5ikudAtja+2Uo7ZKbwbr",
];

/// The shortest piece of a credential that must not appear in any message.
const LEAK_WINDOW: usize = 8;

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

/// Every fixture: (rule folder name, file name, path).
fn fixtures() -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_root())
        .expect("tests/fixtures/lint")
        .map(|e| e.expect("entry").path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let rule = dir.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("rule folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            out.push((rule.clone(), name, file));
        }
    }
    out
}

/// The provider a fixture's name asks for.
fn provider_of(name: &str) -> Option<Provider> {
    [
        ("aws", Provider::Aws),
        ("openstack", Provider::Openstack),
        ("azure", Provider::Azure),
        ("gcp", Provider::Gcp),
        ("oci", Provider::Oci),
        ("nocloud", Provider::Nocloud),
        ("generic", Provider::Generic),
    ]
    .into_iter()
    .find(|(p, _)| name.contains(&format!("-{p}-")))
    .map(|(_, p)| p)
}

fn run(name: &str, path: &Path) -> Report {
    let bytes = std::fs::read(path).expect("read fixture");
    let options = Options {
        provider: provider_of(name),
        ..Options::default()
    };
    check::check_bytes(name, &bytes, &options)
}

/// The lint findings of one rule in a report.
fn of_rule<'r>(report: &'r Report, code: &str) -> Vec<&'r check::Finding> {
    let number = lint::number_of(code);
    report
        .findings
        .iter()
        .filter(|f| f.category == Category::Lint && f.diag.code == Code::Lint(number))
        .collect()
}

/// Everything a finding says, apart from the source snippet its span selects.
fn said(f: &check::Finding) -> String {
    let mut text = vec![f.diag.message.clone(), f.path.clone()];
    text.extend(f.diag.hint.clone());
    text.extend(f.diag.notes.iter().cloned());
    text.extend(f.part.clone());
    text.join("\n")
}

#[test]
fn bad_fixtures_are_found_and_good_ones_are_not() {
    let mut failures = Vec::new();
    for (rule_name, name, path) in fixtures() {
        let rule = lint::find(&rule_name).unwrap_or_else(|| panic!("no rule named {rule_name}"));
        let code = rule.meta().code;
        let report = run(&name, &path);
        let found = of_rule(&report, code);
        if name.starts_with("bad-") && found.is_empty() {
            failures.push(format!("{rule_name}/{name}: no {code} finding"));
        } else if name.starts_with("good-") && !found.is_empty() {
            let messages: Vec<&str> = found.iter().map(|f| f.diag.message.as_str()).collect();
            failures.push(format!("{rule_name}/{name}: unexpected {code}: {messages:?}"));
        } else if !name.starts_with("bad-") && !name.starts_with("good-") {
            failures.push(format!("{rule_name}/{name}: a fixture is named bad-* or good-*"));
        }
        for f in &found {
            let expected = match rule.meta().default_severity {
                ctxgen::Severity::Error => true,
                ctxgen::Severity::Warning => false,
            };
            if f.diag.is_error() != expected {
                failures.push(format!("{rule_name}/{name}: {code} has the wrong severity"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_rule_has_both_kinds_of_fixture() {
    let all = fixtures();
    for rule in lint::rules::all() {
        let name = rule.meta().name;
        for kind in ["bad-", "good-"] {
            assert!(
                all.iter().any(|(r, f, _)| r == name && f.starts_with(kind)),
                "{name} has no {kind}* fixture"
            );
        }
    }
}

#[test]
fn spans_stay_inside_their_texts() {
    for (rule_name, name, path) in fixtures() {
        let report = run(&name, &path);
        for f in report.findings.iter().filter(|f| f.category == Category::Lint) {
            let span = f
                .diag
                .span
                .unwrap_or_else(|| panic!("{rule_name}/{name}: {} has no span", f.diag.message));
            let text = &report.sources.get(span.file).expect("span's file").text;
            assert!(
                span.start <= span.end && span.end <= text.len(),
                "{rule_name}/{name}: span {span:?} outside its text"
            );
            assert!(
                text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
                "{rule_name}/{name}: span {span:?} splits a character"
            );
        }
    }
}

#[test]
fn credential_spans_select_one_line() {
    // So that a report shows (or masks) the credential's line, not a whole file.
    for (rule_name, name, path) in fixtures() {
        let report = run(&name, &path);
        for code in ["CL001", "CL002", "CL011"] {
            for f in of_rule(&report, code) {
                if f.diag.message.contains("encoded content") {
                    continue;
                }
                let span = f.diag.span.expect("span");
                let text = &report.sources.get(span.file).expect("file").text[span.start..span.end];
                assert!(
                    !text.trim_end().contains('\n'),
                    "{rule_name}/{name}: {code} spans several lines"
                );
            }
        }
    }
}

#[test]
fn no_finding_repeats_a_credential() {
    let secrets: Vec<&str> = FAKE_SECRETS.iter().chain(ENCODED_SECRETS).copied().collect();
    let mut leaks = Vec::new();
    for (rule_name, name, path) in fixtures() {
        let report = run(&name, &path);
        for f in &report.findings {
            let text = said(f);
            for secret in &secrets {
                let chars: Vec<char> = secret.chars().collect();
                let window = LEAK_WINDOW.min(chars.len());
                let leaked = chars
                    .windows(window)
                    .map(|w| w.iter().collect::<String>())
                    .find(|piece| text.contains(piece.as_str()));
                if let Some(piece) = leaked {
                    leaks.push(format!("{rule_name}/{name}: {} repeats `{piece}`", f.diag.code));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
}

#[test]
fn every_fake_credential_is_in_a_fixture() {
    let texts: Vec<String> = fixtures()
        .iter()
        .map(|(_, _, p)| String::from_utf8_lossy(&std::fs::read(p).expect("read")).into_owned())
        .collect();
    for secret in FAKE_SECRETS {
        assert!(
            texts.iter().any(|t| t.contains(secret)),
            "{secret} is listed but in no fixture"
        );
    }
    for secret in ENCODED_SECRETS {
        assert!(
            !texts.iter().any(|t| t.contains(secret)),
            "{secret} is listed as encoded but appears as is"
        );
    }
}

#[test]
fn credential_findings_name_the_kind_and_the_place() {
    let path = fixtures_root().join("credential-in-user-data/bad-b64-content.yaml");
    let report = run("bad-b64-content.yaml", &path);
    let found = of_rule(&report, "CL001");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "write_files.0.content");
    assert_eq!(
        found[0].diag.message,
        "a GitHub token at `write_files.0.content`, found inside its `b64`-encoded content (/root/.netrc)"
    );

    let path = fixtures_root().join("credential-in-user-data/bad-multipart.mime");
    let report = run("bad-multipart.mime", &path);
    let found = of_rule(&report, "CL001");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].diag.message,
        "a GitLab personal access token in part 2 (clone.sh)"
    );
    // The script part is sent as is, so the span lands on the token in the input file.
    let span = found[0].diag.span.expect("span");
    let text = &report.sources.get(span.file).expect("file").text;
    assert!(text[span.start..].starts_with("glpat-"));
}
