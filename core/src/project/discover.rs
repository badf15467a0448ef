//! Finding the project root, its source roots and its Python files on disk.

use super::config::Config;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Folders never walked into: environments, caches, build output, VCS data.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".env",
    "env",
    "__pycache__",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".fledge",
    "target",
    ".eggs",
];

/// Files larger than this are not analyzed (they are reported instead).
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// The nearest folder at or above `start` that holds pyproject.toml, setup.py, setup.cfg or .git;
/// `start` itself (or its folder, for a file) when there is none.
pub fn find_root(start: &Path) -> PathBuf {
    let start = if start.is_file() { start.parent().unwrap_or(start) } else { start };
    // `fledge check file.py`: the parent of a bare file name is the current folder.
    let start = if start.as_os_str().is_empty() { Path::new(".") } else { start };
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let mut dir: Option<&Path> = Some(&start);
    while let Some(d) = dir {
        if ["pyproject.toml", "setup.py", "setup.cfg", ".git"].iter().any(|m| d.join(m).exists()) {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    // No marker: the folder above the outermost package, so `import pkg.mod` resolves.
    let mut root = start.as_path();
    while root.join("__init__.py").is_file() {
        match root.parent() {
            Some(p) => root = p,
            None => break,
        }
    }
    root.to_path_buf()
}

/// Read `[tool.fledge]` from `root/pyproject.toml`, defaults when absent.
pub fn load_config(root: &Path) -> Result<Config, String> {
    let path = root.join("pyproject.toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => Config::from_pyproject(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(_) => Ok(Config::default()),
    }
}

/// Folders from which module names are computed: `src/` if present, configured ones, then the root.
pub fn source_roots(root: &Path, config: &Config) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for s in &config.src {
        roots.push(root.join(s));
    }
    let src = root.join("src");
    if src.is_dir() && !roots.contains(&src) {
        roots.push(src);
    }
    roots.push(root.to_path_buf());
    roots
}

/// A problem met while walking the tree (unreadable folder, link loop); reported, never fatal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalkProblem {
    pub path: PathBuf,
    pub message: String,
}

/// All `.py` files under `paths` (files are taken as given), honouring excludes and include globs.
pub fn python_files(root: &Path, paths: &[PathBuf], config: &Config) -> (Vec<PathBuf>, Vec<WalkProblem>) {
    let exclude = build_globs(&config.exclude);
    let include = if config.include.is_empty() { None } else { Some(build_globs(&config.include)) };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut seen_dirs = HashSet::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
        } else if p.is_dir() {
            walk(root, p, &exclude, include.as_ref(), &mut seen_dirs, &mut out, &mut problems);
        } else {
            problems.push(WalkProblem { path: p.clone(), message: "no such file or directory".into() });
        }
    }
    out.sort();
    out.dedup();
    (out, problems)
}

fn build_globs(patterns: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_end_matches('/');
        for pat in [p.to_string(), format!("{p}/**"), format!("**/{p}"), format!("**/{p}/**")] {
            if let Ok(g) = Glob::new(&pat) {
                b.add(g);
            }
        }
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

fn walk(
    root: &Path,
    dir: &Path,
    exclude: &GlobSet,
    include: Option<&GlobSet>,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
    problems: &mut Vec<WalkProblem>,
) {
    // Canonical paths catch symlink loops.
    let Ok(canon) = dir.canonicalize() else {
        problems.push(WalkProblem { path: dir.to_path_buf(), message: "cannot resolve this folder".into() });
        return;
    };
    if !seen.insert(canon) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(WalkProblem { path: dir.to_path_buf(), message: format!("cannot read folder: {e}") });
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if exclude.is_match(rel) {
            continue;
        }
        let meta = std::fs::metadata(&path).ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            if DEFAULT_EXCLUDES.contains(&name.as_ref()) || name.ends_with(".egg-info") {
                continue;
            }
            walk(root, &path, exclude, include, seen, out, problems);
        } else if name.ends_with(".py") && include.is_none_or(|inc| inc.is_match(rel)) {
            match &meta {
                Some(m) if m.is_file() => out.push(path),
                // Pipes and devices named *.py would block a read forever.
                Some(_) => problems.push(WalkProblem { path, message: "skipped: not a regular file".into() }),
                None => problems.push(WalkProblem { path, message: "cannot read file (a broken link?)".into() }),
            }
        }
    }
}

/// The dotted module name of `path`, from the first source root that contains it.
pub fn module_name(path: &Path, source_roots: &[PathBuf]) -> String {
    let rel = source_roots
        .iter()
        .filter_map(|r| path.strip_prefix(r).ok())
        .min_by_key(|r| r.components().count())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(path.file_name().unwrap_or_default()));
    let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".py").to_string();
        if last == "__init__" {
            parts.pop();
        }
    }
    parts.join(".")
}

/// File bytes as text: UTF-8 (a BOM is kept; the parser skips it). Invalid UTF-8 is decoded
/// lossily and the offset of the first bad byte is returned so it can be reported.
pub fn decode(bytes: Vec<u8>) -> (String, Option<usize>) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_follow_the_deepest_root() {
        let roots = vec![PathBuf::from("/p/src"), PathBuf::from("/p")];
        assert_eq!(module_name(Path::new("/p/src/pkg/a.py"), &roots), "pkg.a");
        assert_eq!(module_name(Path::new("/p/pkg/__init__.py"), &roots), "pkg");
        assert_eq!(module_name(Path::new("/p/wf.py"), &roots), "wf");
    }

    #[test]
    fn without_markers_the_root_is_above_the_outermost_package() {
        let tmp = std::env::temp_dir().join(format!("fledge-root-{}", std::process::id()));
        let pkg = tmp.join("proj/pkg/sub");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(tmp.join("proj/pkg/__init__.py"), "").unwrap();
        std::fs::write(pkg.join("__init__.py"), "").unwrap();
        let root = find_root(&pkg);
        assert_eq!(root, tmp.join("proj").canonicalize().unwrap());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn invalid_utf8_is_decoded_and_located() {
        let (text, bad) = decode(b"x = 1\n\xff\n".to_vec());
        assert_eq!(bad, Some(6));
        assert!(text.starts_with("x = 1"));
    }
}
