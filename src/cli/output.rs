//! Writing outputs: atomically (a temporary file in the same folder, then a rename),
//! readable by the owner only, so a reader never sees a partial file and a failed
//! build never leaves one behind.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `bytes` to `path` with mode 0600, atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".ctxgen-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .context("cannot set the output's permissions")?;
    tmp.write_all(bytes).context("cannot write the output")?;
    tmp.as_file().sync_all().context("cannot flush the output")?;
    tmp.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}
