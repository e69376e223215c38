//! `ctxgen seed`: builds a spec as `build` does and writes a NoCloud seed (a folder,
//! an ISO image or a FAT image labelled `cidata`).

use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use ctxgen::seed::{self, Format, Meta};

use super::output::write_atomic;

/// `ctxgen seed --help`.
pub(crate) const LONG_ABOUT: &str = "Builds SPEC as `ctxgen build` does and writes a NoCloud seed: \
    `user-data`, and `meta-data` with `instance-id: NAME-HASH` (HASH from the user-data, so it \
    changes when the user-data does; NAME is the instance's or role's name for a spec with \
    instances or roles, chosen with --instance or --role) and `local-hostname` (host.hostname, \
    or that NAME).\n\n\
    --out PATH decides the format: a folder (an existing folder, or a path without \
    extension), `NAME.iso` (ISO 9660 with Joliet and Rock Ridge, volume id `cidata`) or \
    `NAME.img` (a FAT image labelled `cidata`). Files and images are written atomically, \
    mode 0600, and are the same bytes for the same input.\n\n\
    Exit codes: 0 success, 1 the spec has errors, 2 usage or I/O error.";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The spec file (`-` reads standard input; local paths are then relative to the
    /// current folder).
    spec: PathBuf,
    /// Where to write the seed: a folder, `NAME.iso` or `NAME.img`.
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    #[command(flatten)]
    how: super::BuildArgs,
}

pub(crate) fn run(args: Args, color: bool) -> Result<ExitCode> {
    let is_dir = args.out.is_dir();
    let format = Format::for_path(&args.out, is_dir)?;
    if format == Format::Folder && !is_dir && args.out.exists() {
        bail!(
            "`{}` exists and is not a folder: give a folder, or a path ending in .iso or .img",
            args.out.display()
        );
    }

    let artifact = match super::compile(&args.spec, &args.how, false, color)? {
        Ok(mut artifacts) => match artifacts.pop() {
            Some(artifact) => artifact,
            None => return Ok(ExitCode::from(super::FINDINGS)),
        },
        Err(code) => return Ok(code),
    };
    if let Some(path) = &args.how.secrets_out {
        super::write_secrets_out(path, std::slice::from_ref(&artifact))?;
    }
    let user_data = artifact.bytes.as_slice();
    let hostname = artifact.json.get("hostname").and_then(|h| h.as_str());
    let meta = Meta::new(
        artifact.unit.as_deref().unwrap_or(&artifact.name),
        hostname,
        user_data,
    );
    // network-config: none yet; a spec section for it would be passed here.
    let files = seed::seed_files(user_data, &meta, None);

    match format {
        Format::Folder => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&args.out)
                .with_context(|| format!("cannot create the folder `{}`", args.out.display()))?;
            for file in &files {
                write_atomic(&args.out.join(&file.name), &file.contents)?;
            }
        }
        Format::Iso => write_atomic(&args.out, &seed::iso_image(&files))?,
        Format::Fat => write_atomic(&args.out, &seed::fat_image(&files)?)?,
    }
    Ok(ExitCode::SUCCESS)
}
