//! Snapshot tests of what users get: the compiled `#cloud-config` of every example,
//! built with `--redact` (secrets as `<secret:NAME>`, so the bytes are the same at every
//! build). A change in any output shows up as a snapshot diff to review.

use ctxgen::{BuildOptions, Sources};

#[test]
fn example_outputs() {
    insta::glob!("../examples", "*/*.yaml", |path| {
        let text = std::fs::read_to_string(path).expect("example is readable");
        let mut sources = Sources::new();
        let id = sources.add(path.display().to_string(), text);
        let dir = path.parent().expect("example has a folder");
        let options = BuildOptions {
            secrets: ctxgen::secrets::SecretsMode::Redact,
            ..BuildOptions::new(dir)
        };
        match ctxgen::build_all(&mut sources, id, &options) {
            Ok(artifacts) => {
                for artifact in artifacts {
                    assert!(
                        artifact.warnings.0.is_empty(),
                        "{}",
                        artifact.warnings.render(&sources, false)
                    );
                    match &artifact.unit {
                        // One snapshot per instance (or role) of a spec that has them.
                        Some(unit) => {
                            insta::assert_snapshot!(format!("example_outputs-{unit}"), artifact.yaml)
                        }
                        None => insta::assert_snapshot!(artifact.yaml),
                    }
                }
            }
            Err(d) => panic!(
                "{} does not compile:\n{}",
                path.display(),
                d.render(&sources, false)
            ),
        }
    });
}
