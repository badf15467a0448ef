//! Reading the project's files as committed at git HEAD, with gitoxide (no git binary).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The texts at HEAD of those of `paths` (files under `root`) that HEAD's tree holds.
/// `Ok(None)` when `root` is not in a git work tree or the repository has no commit yet; files
/// new since HEAD are simply absent from the map.
pub fn head_texts(root: &Path, paths: &[PathBuf]) -> Result<Option<HashMap<PathBuf, String>>, String> {
    let repo = match gix::discover(root) {
        Ok(r) => r,
        Err(_) => return Ok(None),
    };
    let Some(workdir) = repo.workdir().map(Path::to_path_buf) else { return Ok(None) };
    let workdir_canon = workdir.canonicalize().unwrap_or_else(|_| workdir.clone());
    let commit = match repo.head_commit() {
        Ok(c) => c,
        // An unborn branch (no commit yet) or a detached HEAD pointing nowhere.
        Err(_) => return Ok(None),
    };
    let tree = commit.tree().map_err(|e| format!("cannot read HEAD's tree: {e}"))?;
    let mut out = HashMap::new();
    for path in paths {
        let rel =
            path.strip_prefix(&workdir).or_else(|_| path.strip_prefix(&workdir_canon)).map(Path::to_path_buf).or_else(
                |_| {
                    path.canonicalize()
                        .map_err(|_| ())
                        .and_then(|c| c.strip_prefix(&workdir_canon).map(Path::to_path_buf).map_err(|_| ()))
                },
            );
        let Ok(rel) = rel else { continue };
        let components: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let entry = match tree.lookup_entry(components.iter().map(String::as_str)) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(e) => return Err(format!("cannot read {} at HEAD: {e}", rel.display())),
        };
        if !entry.mode().is_blob() {
            continue;
        }
        let object = entry.object().map_err(|e| format!("cannot read {} at HEAD: {e}", rel.display()))?;
        let (text, _) = super::discover::decode(object.data.clone());
        out.insert(path.clone(), text);
    }
    Ok(Some(out))
}

/// Files whose change means HEAD may have moved (for editors watching the repository):
/// `.git/HEAD`, refs, packed refs.
pub fn is_head_change(path: &Path) -> bool {
    let s = path.to_string_lossy().replace('\\', "/");
    s.contains("/.git/") && (s.ends_with("/HEAD") || s.contains("/refs/") || s.ends_with("/packed-refs"))
}
