//! Reading the project's files as committed at git HEAD, with gitoxide (no git binary).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The texts at HEAD of those of `files` (path under `root`, current text) that HEAD's tree holds.
/// A file whose current text hashes to its committed blob is not read: its current text is
/// returned. `Ok(None)` when `root` is not in a git work tree or the repository has no commit
/// yet; files new since HEAD are absent from the map.
pub fn head_texts(root: &Path, files: &[(PathBuf, &str)]) -> Result<Option<HashMap<PathBuf, String>>, String> {
    let repo = match gix::discover(root) {
        Ok(r) => r,
        Err(_) => return Ok(None),
    };
    let Some(workdir) = repo.workdir().map(Path::to_path_buf) else { return Ok(None) };
    let workdir_canon = workdir.canonicalize().unwrap_or_else(|_| workdir.clone());
    let commit = match repo.head_commit() {
        Ok(c) => c,
        // An unborn branch (no commit yet) or a HEAD pointing nowhere.
        Err(_) => return Ok(None),
    };
    let tree = commit.tree().map_err(|e| format!("cannot read HEAD's tree: {e}"))?;
    let hash_kind = repo.object_hash();
    let mut out = HashMap::new();
    for (path, current) in files {
        let rel = path.strip_prefix(&workdir).or_else(|_| path.strip_prefix(&workdir_canon)).map(Path::to_path_buf);
        let rel = match rel {
            Ok(r) => r,
            Err(_) => {
                match path.canonicalize().ok().and_then(|c| c.strip_prefix(&workdir_canon).ok().map(Path::to_path_buf))
                {
                    Some(r) => r,
                    None => continue,
                }
            }
        };
        let components: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let entry = match tree.lookup_entry(components.iter().map(String::as_str)) {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(e) => return Err(format!("cannot read {} at HEAD: {e}", rel.display())),
        };
        if !entry.mode().is_blob() {
            continue;
        }
        let unchanged = gix::objs::compute_hash(hash_kind, gix::objs::Kind::Blob, current.as_bytes())
            .is_ok_and(|id| id.as_ref() == entry.oid());
        if unchanged {
            out.insert(path.clone(), current.to_string());
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

/// Give `ws` the committed texts of its files as its baseline (or clear it when there is no
/// commit to compare with). `Ok(true)` when a baseline was set.
pub fn load_baseline(ws: &mut crate::Workspace) -> Result<bool, String> {
    let files: Vec<(PathBuf, &str)> =
        ws.files().map(|p| (p.to_path_buf(), ws.file_text(p).unwrap_or_default())).collect();
    let texts = head_texts(ws.root(), &files);
    match texts {
        Ok(Some(texts)) => {
            ws.set_baseline(texts.into_iter().collect());
            Ok(true)
        }
        Ok(None) => {
            ws.clear_baseline();
            Ok(false)
        }
        Err(e) => {
            ws.clear_baseline();
            Err(e)
        }
    }
}
