//! Local files named by a spec (`source:`, `{ file: }`, `{ script: }`), read inside a
//! sandbox: the spec's folder, or a wider folder the caller names (`--files-dir`).
//!
//! Input: a path as written in the spec, with its span. Output: the file's bytes, or a
//! located diagnostic (absolute path, `..` that escapes, a symlink that leads out,
//! missing or unreadable). It never writes.

use std::path::{Component, Path, PathBuf};

use crate::diag::{Code, Diagnostic};
use crate::source::Spanned;

/// The folder local paths are resolved against, and the folder they may not leave.
#[derive(Debug, Clone)]
pub struct LocalFiles {
    base: PathBuf,
    root: PathBuf,
}

/// Largest local file ctxgen reads (user-data budgets are far smaller).
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

impl LocalFiles {
    /// Paths resolve against `base` (the spec's folder) and may not leave `root`
    /// (the same folder unless `--files-dir` widens it). `root` must contain `base`.
    pub fn new(base: impl Into<PathBuf>, root: Option<PathBuf>) -> Self {
        // Absolute first: `..` in a path relative to "." must climb out of the current
        // folder, not vanish.
        let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
        let base = absolute(base.into());
        let root = root.map_or_else(|| base.clone(), absolute);
        LocalFiles { base, root }
    }

    /// The spec's folder, absolute.
    pub fn base(&self) -> &std::path::Path {
        &self.base
    }

    /// Reads `path` (relative to the spec folder) inside the sandbox.
    pub fn read(&self, path: &Spanned<String>) -> Result<Vec<u8>, Diagnostic> {
        let located = |message: String, hint: &str| {
            Diagnostic::error(Code::LocalFile, message)
                .with_span(path.span)
                .with_hint(hint.to_string())
        };
        let rel = Path::new(&path.value);
        if path.value.is_empty() {
            return Err(located(
                "the file path is empty".into(),
                "name a file next to the spec",
            ));
        }
        if rel.is_absolute() {
            return Err(located(
                format!("`{}` is an absolute path", path.value),
                "local paths are relative to the spec's folder; move the file there (or widen the sandbox with --files-dir)",
            ));
        }
        let joined = lexical_join(&self.base, rel);
        let root = lexical_join(&self.root, Path::new(""));
        if !joined.starts_with(&root) {
            return Err(located(
                format!("`{}` leaves the spec's folder", path.value),
                "keep local files inside the spec's folder, or widen the sandbox with --files-dir",
            ));
        }
        let real = joined.canonicalize().map_err(|e| {
            located(
                format!("cannot read `{}`: {}", path.value, io_reason(&e)),
                "check the path; it is relative to the spec's folder",
            )
        })?;
        let real_root = self.root.canonicalize().unwrap_or(root);
        if !real.starts_with(&real_root) {
            return Err(located(
                format!("`{}` is a link that leads out of the spec's folder", path.value),
                "copy the file into the spec's folder instead of linking to it",
            ));
        }
        let meta = std::fs::metadata(&real).map_err(|e| {
            located(
                format!("cannot read `{}`: {}", path.value, io_reason(&e)),
                "check the file's permissions",
            )
        })?;
        if !meta.is_file() {
            return Err(located(
                format!("`{}` is not a regular file", path.value),
                "name a file, not a folder",
            ));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(located(
                format!(
                    "`{}` is {} bytes, more than user-data can carry",
                    path.value,
                    meta.len()
                ),
                "fetch large content at boot (packages, object storage, CVMFS) instead of embedding it",
            ));
        }
        std::fs::read(&real).map_err(|e| {
            located(
                format!("cannot read `{}`: {}", path.value, io_reason(&e)),
                "check the file's permissions",
            )
        })
    }

    /// Reads a UTF-8 text file; `what` names its role in the message.
    pub fn read_text(&self, path: &Spanned<String>, what: &str) -> Result<String, Diagnostic> {
        let bytes = self.read(path)?;
        String::from_utf8(bytes).map_err(|_| {
            Diagnostic::error(
                Code::LocalFile,
                format!("{what} `{}` is not UTF-8 text", path.value),
            )
            .with_span(path.span)
            .with_hint("save the file as UTF-8")
        })
    }
}

/// Joins and normalizes `.` and `..` without touching the file system.
fn lexical_join(base: &Path, rel: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn sp(s: &str) -> Spanned<String> {
        Spanned::new(s.to_string(), Span::default())
    }

    #[test]
    fn sandbox_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let spec_dir = dir.path().join("spec");
        std::fs::create_dir(&spec_dir).unwrap();
        std::fs::write(spec_dir.join("ok.txt"), "fine").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), spec_dir.join("link.txt")).unwrap();
        let files = LocalFiles::new(&spec_dir, None);
        assert_eq!(files.read(&sp("ok.txt")).unwrap(), b"fine");
        assert_eq!(files.read(&sp("./sub/../ok.txt")).unwrap(), b"fine");
        for bad in ["../secret.txt", "/etc/passwd", "link.txt", "missing.txt", ""] {
            assert!(files.read(&sp(bad)).is_err(), "{bad}");
        }
        let wide = LocalFiles::new(&spec_dir, Some(dir.path().to_path_buf()));
        assert_eq!(wide.read(&sp("../secret.txt")).unwrap(), b"no");
    }

    #[test]
    fn relative_folders_keep_their_parent_steps() {
        let dir = tempfile::tempdir().unwrap();
        let spec_dir = dir.path().join("spec");
        std::fs::create_dir(&spec_dir).unwrap();
        std::fs::write(dir.path().join("x"), "outer").unwrap();
        std::fs::write(spec_dir.join("x"), "inner").unwrap();
        let cwd = std::env::current_dir().unwrap();
        let rel_spec = pathdiff(&spec_dir, &cwd);
        let files = LocalFiles::new(&rel_spec, None);
        assert!(
            files.read(&sp("../x")).is_err(),
            "`..` must not resolve inside the spec folder"
        );
        let wide = LocalFiles::new(&rel_spec, Some(rel_spec.join("..")));
        assert_eq!(wide.read(&sp("../x")).unwrap(), b"outer");
    }

    /// `target` relative to `from` (both absolute), with `..` steps.
    fn pathdiff(target: &Path, from: &Path) -> PathBuf {
        let t: Vec<_> = target.components().collect();
        let f: Vec<_> = from.components().collect();
        let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
        let mut out = PathBuf::new();
        for _ in common..f.len() {
            out.push("..");
        }
        for c in &t[common..] {
            out.push(c.as_os_str());
        }
        out
    }
}
