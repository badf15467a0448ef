//! The code bundle: a reproducible `tar.gz` of the project's files, as fast registration ships it.
//!
//! Files are walked under the source root honouring `.gitignore` (also outside a git repository),
//! `.flyteignore` and `.dockerignore`, plus the usual exclusions (`.git`, caches, virtualenvs,
//! compiled Python). Entries are sorted by path and written with mtime 0, uid/gid 0, no user or group
//! names and mode 0644 (0755 when executable), and gzip gets mtime 0 and no file name, so the same tree
//! always gives the same bytes and the same digest.

use base64::Engine;
use md5::{Digest, Md5};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Names never shipped, wherever they are in the tree.
const ALWAYS_EXCLUDED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".cache",
    ".fledge",
    ".idea",
    ".vscode",
    "node_modules",
];
const ALWAYS_EXCLUDED_SUFFIXES: &[&str] = &[".pyc", ".pyo", ".DS_Store", ".swp"];

pub struct Bundle {
    /// The `tar.gz` bytes.
    pub bytes: Vec<u8>,
    /// MD5 of `bytes` (what the upload is signed for).
    pub md5: [u8; 16],
    /// Paths in the archive, relative to the root, sorted.
    pub files: Vec<String>,
}

impl Bundle {
    /// `Content-MD5` header value (base64 of the digest).
    pub fn content_md5(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.md5)
    }

    pub fn md5_hex(&self) -> String {
        crate::digest::hex(&self.md5)
    }

    /// The archive's name in the blob store, as fast registration names it: `fast<md5>.tar.gz`.
    pub fn file_name(&self) -> String {
        format!("fast{}.tar.gz", self.md5_hex())
    }
}

fn excluded(rel: &Path) -> bool {
    rel.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        ALWAYS_EXCLUDED_DIRS.contains(&s.as_ref())
    }) || {
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        ALWAYS_EXCLUDED_SUFFIXES.iter().any(|s| name.ends_with(s))
    }
}

/// The files to ship under `root`, sorted, relative.
pub fn list_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut walk = ignore::WalkBuilder::new(root);
    walk.hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .ignore(false)
        .parents(false)
        .follow_links(false)
        .add_custom_ignore_filename(".flyteignore")
        .add_custom_ignore_filename(".dockerignore")
        .filter_entry(|e| e.depth() == 0 || !ALWAYS_EXCLUDED_DIRS.contains(&e.file_name().to_string_lossy().as_ref()));
    let mut files = Vec::new();
    for entry in walk.build() {
        let entry = entry.map_err(|e| format!("cannot list the project's files: {e}"))?;
        let ft = match entry.file_type() {
            Some(ft) => ft,
            None => continue,
        };
        if ft.is_dir() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).map_err(|e| e.to_string())?.to_path_buf();
        if rel.as_os_str().is_empty() || excluded(&rel) {
            continue;
        }
        if ft.is_file() || ft.is_symlink() {
            files.push(rel);
        }
    }
    files.sort();
    Ok(files)
}

/// Builds the reproducible archive of `root`.
pub fn build(root: &Path) -> Result<Bundle, String> {
    let files = list_files(root)?;
    let gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mut names = Vec::with_capacity(files.len());
    for rel in &files {
        let path = root.join(rel);
        let name = rel.to_string_lossy().replace('\\', "/");
        let meta = std::fs::symlink_metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(|e| format!("cannot read link {}: {e}", path.display()))?;
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            tar.append_link(&mut header, &name, &target).map_err(|e| format!("cannot archive {name}: {e}"))?;
        } else {
            let data = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            #[cfg(unix)]
            let exec = {
                use std::os::unix::fs::PermissionsExt;
                meta.permissions().mode() & 0o111 != 0
            };
            #[cfg(not(unix))]
            let exec = false;
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(if exec { 0o755 } else { 0o644 });
            header.set_size(data.len() as u64);
            tar.append_data(&mut header, &name, data.as_slice()).map_err(|e| format!("cannot archive {name}: {e}"))?;
        }
        names.push(name);
    }
    let gz = tar.into_inner().map_err(|e| format!("cannot finish the archive: {e}"))?;
    let mut bytes = gz.finish().map_err(|e| format!("cannot compress the archive: {e}"))?;
    bytes.flush().ok();
    let md5: [u8; 16] = Md5::digest(&bytes).into();
    Ok(Bundle { bytes, md5, files: names })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn same_tree_gives_same_bytes() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for root in [a.path(), b.path()] {
            write(root, "pkg/__init__.py", "");
            write(root, "pkg/wf.py", "x = 1\n");
            write(root, "README.md", "hi\n");
        }
        // Different mtimes must not matter.
        let f = std::fs::File::options().write(true).open(b.path().join("pkg/wf.py")).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000)).unwrap();
        let (x, y) = (build(a.path()).unwrap(), build(b.path()).unwrap());
        assert_eq!(x.bytes, y.bytes);
        assert_eq!(x.file_name(), y.file_name());
        assert_eq!(x.files, vec!["README.md", "pkg/__init__.py", "pkg/wf.py"]);
        // Any content change gives a new digest.
        write(b.path(), "pkg/wf.py", "x = 2\n");
        assert_ne!(build(b.path()).unwrap().md5, x.md5);
    }

    #[test]
    fn ignore_files_and_usual_exclusions_are_honoured() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(r, "pkg/__init__.py", "");
        write(r, "pkg/wf.py", "");
        write(r, ".gitignore", "*.log\n");
        write(r, ".flyteignore", "data/\n");
        write(r, ".dockerignore", "secret.txt\n");
        write(r, "run.log", "");
        write(r, "data/big.csv", "");
        write(r, "secret.txt", "");
        write(r, "pkg/__pycache__/wf.cpython-311.pyc", "");
        write(r, ".git/config", "");
        write(r, ".venv/bin/python", "");
        let files = build(r).unwrap().files;
        assert_eq!(files, vec![".dockerignore", ".flyteignore", ".gitignore", "pkg/__init__.py", "pkg/wf.py"]);
    }

    #[test]
    fn archive_has_fixed_owner_and_mtime() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a.py", "print(1)\n");
        let b = build(d.path()).unwrap();
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(b.bytes.as_slice()));
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!((h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()), (0, 0, 0));
            assert_eq!(h.mode().unwrap(), 0o644);
        }
    }
}
