//! `ctxgen seed` through the binary: the folder layout and meta-data, and the ISO and
//! FAT images read back with the tools a user (and cloud-init, through blkid) has:
//! `isoinfo` (genisoimage), `blkid` (util-linux), `mtype`/`mcopy`/`mdir` (mtools) and
//! `fsck.fat` (dosfstools). A missing tool fails the test with the package to install.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const ALICE_KEY: &str = include_str!("fixtures/keys/alice_ed25519.pub");

fn spec_text(host: bool) -> String {
    format!(
        "version: 1\n\
         name: webapp\n\
         {}\
         users:\n  - name: alice\n    sudo: nopasswd\n    ssh_keys:\n      - {}\n\
         files:\n  - path: /etc/motd\n    content: \"welcome\\n\"\n",
        if host { "host:\n  hostname: web-01\n" } else { "" },
        ALICE_KEY.trim()
    )
}

/// A temporary folder holding `app.yaml`.
fn spec_dir(host: bool) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let spec = dir.path().join("app.yaml");
    std::fs::write(&spec, spec_text(host)).expect("the spec is written");
    (dir, spec)
}

fn ctxgen(args: &[&str]) -> Output {
    assert_cmd::cargo::cargo_bin_cmd!("ctxgen")
        .args(args)
        .output()
        .expect("ctxgen runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs ctxgen, asserting success.
fn ok(args: &[&str]) {
    let out = ctxgen(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "ctxgen {args:?}: {}",
        text(&out.stderr)
    );
}

/// The user-data `build` writes for `spec`.
fn built(spec: &Path) -> Vec<u8> {
    let out = ctxgen(&["build", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    out.stdout
}

/// Runs `program` (from Debian package `package`), asserting success; a missing tool
/// fails the test, naming the package.
fn tool(program: &str, package: &str, args: &[&str]) -> Vec<u8> {
    let out = match Command::new(program).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{program}` is not installed: the seed tests read images back with it; \
             install it with `apt-get install {package}`"
        ),
        Err(e) => panic!("cannot run `{program}`: {e}"),
    };
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out.stdout
}

fn blkid(image: &Path) -> Vec<String> {
    let out = tool(
        "blkid",
        "util-linux",
        &["-p", "-o", "export", image.to_str().unwrap()],
    );
    text(&out).lines().map(String::from).collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn folder_holds_user_data_and_meta_data() {
    let (dir, spec) = spec_dir(true);
    let out = dir.path().join("seed");
    ok(&["seed", spec.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["meta-data", "user-data"]);
    let user_data = std::fs::read(out.join("user-data")).unwrap();
    assert_eq!(user_data, built(&spec));
    assert!(user_data.starts_with(b"#cloud-config\n"));
    let meta = std::fs::read_to_string(out.join("meta-data")).unwrap();
    let lines: Vec<&str> = meta.lines().collect();
    assert_eq!(lines.len(), 2, "{meta}");
    let id = lines[0].strip_prefix("instance-id: \"webapp-").expect(&meta);
    let id = id.strip_suffix('"').expect(&meta);
    assert!(
        id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{meta}"
    );
    assert_eq!(lines[1], "local-hostname: \"web-01\"");
    assert_eq!(mode(&out.join("user-data")), 0o600);
    assert_eq!(mode(&out.join("meta-data")), 0o600);
}

#[test]
fn hostname_defaults_to_the_spec_name_and_id_follows_the_user_data() {
    let (dir, spec) = spec_dir(false);
    let out = dir.path().join("seed");
    ok(&["seed", spec.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let meta = std::fs::read_to_string(out.join("meta-data")).unwrap();
    assert!(meta.contains("local-hostname: \"webapp\"\n"), "{meta}");

    // Same input: same instance id; other user-data: another one.
    let again = dir.path().join("again");
    ok(&["seed", spec.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    assert_eq!(meta, std::fs::read_to_string(again.join("meta-data")).unwrap());
    std::fs::write(&spec, spec_text(true)).unwrap();
    ok(&["seed", spec.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    let other = std::fs::read_to_string(again.join("meta-data")).unwrap();
    assert_ne!(meta.lines().next(), other.lines().next());
}

#[test]
fn existing_folder_with_extension_is_a_folder() {
    let (dir, spec) = spec_dir(true);
    let out = dir.path().join("seed.d");
    std::fs::create_dir(&out).unwrap();
    ok(&["seed", spec.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(out.join("user-data").is_file());
}

#[test]
fn iso_reads_back_with_isoinfo_and_blkid() {
    let (dir, spec) = spec_dir(true);
    let iso = dir.path().join("seed.iso");
    let folder = dir.path().join("seed");
    ok(&["seed", spec.to_str().unwrap(), "--out", iso.to_str().unwrap()]);
    ok(&["seed", spec.to_str().unwrap(), "--out", folder.to_str().unwrap()]);
    assert_eq!(mode(&iso), 0o600);
    let iso_arg = iso.to_str().unwrap();

    let info = text(&tool("isoinfo", "genisoimage", &["-d", "-i", iso_arg]));
    assert!(info.contains("Volume id: cidata\n"), "{info}");
    assert!(info.contains("Joliet with UCS level 3 found"), "{info}");
    assert!(info.contains("Rock Ridge signatures version 1 found"), "{info}");

    for name in ["user-data", "meta-data"] {
        let expected = std::fs::read(folder.join(name)).unwrap();
        let path = format!("/{name}");
        for tree in ["-R", "-J"] {
            let got = tool("isoinfo", "genisoimage", &[tree, "-x", &path, "-i", iso_arg]);
            assert!(got == expected, "isoinfo {tree} -x {path}: content differs");
        }
    }
    let listing = text(&tool("isoinfo", "genisoimage", &["-R", "-l", "-i", iso_arg]));
    assert!(
        listing.contains(" user-data") && listing.contains(" meta-data"),
        "{listing}"
    );

    let ids = blkid(&iso);
    assert!(ids.contains(&"TYPE=iso9660".into()), "{ids:?}");
    assert!(ids.contains(&"LABEL=cidata".into()), "{ids:?}");
}

#[test]
fn fat_image_reads_back_with_mtools_blkid_and_fsck() {
    let (dir, spec) = spec_dir(true);
    let img = dir.path().join("seed.img");
    let folder = dir.path().join("seed");
    ok(&["seed", spec.to_str().unwrap(), "--out", img.to_str().unwrap()]);
    ok(&["seed", spec.to_str().unwrap(), "--out", folder.to_str().unwrap()]);
    assert_eq!(mode(&img), 0o600);
    let img_arg = img.to_str().unwrap();

    let ids = blkid(&img);
    assert!(ids.contains(&"TYPE=vfat".into()), "{ids:?}");
    assert!(ids.contains(&"LABEL=cidata".into()), "{ids:?}");

    for name in ["user-data", "meta-data"] {
        let expected = std::fs::read(folder.join(name)).unwrap();
        let file = format!("::{name}");
        let copied = tool("mcopy", "mtools", &["-n", "-i", img_arg, &file, "-"]);
        assert!(copied == expected, "mcopy {file}: content differs");
        // mtype converts nothing unless asked: the same bytes.
        let typed = tool("mtype", "mtools", &["-i", img_arg, &file]);
        assert!(typed == expected, "mtype {file}: content differs");
    }
    let listing = text(&tool("mdir", "mtools", &["-i", img_arg, "::"]));
    assert!(listing.contains("Volume in drive : is cidata"), "{listing}");
    tool("fsck.fat", "dosfstools", &["-n", img_arg]);
}

#[test]
fn images_are_deterministic() {
    let (dir, spec) = spec_dir(true);
    for ext in ["iso", "img"] {
        let a = dir.path().join(format!("a.{ext}"));
        let b = dir.path().join(format!("b.{ext}"));
        ok(&["seed", spec.to_str().unwrap(), "--out", a.to_str().unwrap()]);
        ok(&["seed", spec.to_str().unwrap(), "--out", b.to_str().unwrap()]);
        assert!(
            std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
            ".{ext}: two runs differ"
        );
    }
}

#[test]
fn redact_and_secrets_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("app.yaml");
    std::fs::write(
        &spec,
        "version: 1\nname: webapp\n\
         secrets:\n  token: { from: env, name: CTXGEN_SEED_TEST_TOKEN }\n\
         files:\n  - path: /etc/app.env\n    content: \"TOKEN={{ secrets.token }}\\n\"\n    template: true\n",
    )
    .unwrap();
    let out = dir.path().join("redacted");
    ok(&[
        "seed",
        spec.to_str().unwrap(),
        "--redact",
        "--out",
        out.to_str().unwrap(),
    ]);
    let user_data = std::fs::read_to_string(out.join("user-data")).unwrap();
    assert!(user_data.contains("<secret:token>"), "{user_data}");

    let real = dir.path().join("real");
    let run = assert_cmd::cargo::cargo_bin_cmd!("ctxgen")
        .args(["seed", spec.to_str().unwrap(), "--out", real.to_str().unwrap()])
        .env("CTXGEN_SEED_TEST_TOKEN", "s3cr3t-value")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let user_data = std::fs::read_to_string(real.join("user-data")).unwrap();
    assert!(user_data.contains("TOKEN=s3cr3t-value"), "{user_data}");
}

#[test]
fn errors_exit_with_their_codes_and_write_nothing() {
    let (dir, spec) = spec_dir(true);
    let spec_arg = spec.to_str().unwrap();

    let tar = dir.path().join("seed.tar");
    let out = ctxgen(&["seed", spec_arg, "--out", tar.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a seed format"),
        "{}",
        text(&out.stderr)
    );

    let iso = dir.path().join("seed.iso");
    let out = ctxgen(&[
        "seed",
        spec_arg,
        "--instance",
        "web-01",
        "--out",
        iso.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no instance named `web-01`; the spec has no instances"),
        "{}",
        text(&out.stderr)
    );

    let plain = dir.path().join("plainfile");
    std::fs::write(&plain, "x").unwrap();
    let out = ctxgen(&["seed", spec_arg, "--out", plain.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is not a folder"),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(&spec, "version: 1\nname: webapp\npakages: {}\n").unwrap();
    let out = ctxgen(&["seed", spec_arg, "--out", iso.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!iso.exists());
}

#[test]
fn help_names_the_formats() {
    let out = ctxgen(&["seed", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for word in ["--out", "--instance", "--redact", ".iso", ".img", "cidata"] {
        assert!(help.contains(word), "{word}: {help}");
    }
}
