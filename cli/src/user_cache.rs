//! fledge's per-user cache folder (`$XDG_CACHE_HOME/fledge`, else `~/.cache/fledge`, else the
//! temporary folder), shared by the run worker, the register serializer and the login tokens, and
//! the Python scripts fledge writes there to run them.

use std::path::{Path, PathBuf};

/// `$XDG_CACHE_HOME/fledge`, else `$HOME/.cache/fledge`, else `<temp>/fledge` (empty variables count
/// as unset).
pub fn dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("fledge")
}

/// Writes `text` as `<dir>/<stem>-<hash of text>.py` unless that file already holds exactly it
/// (atomically: temporary file, then rename), so concurrent fledge processes of one version share
/// one file and different versions never overwrite each other's. Returns its path.
pub fn install_script(dir: &Path, stem: &str, text: &str) -> std::io::Result<PathBuf> {
    // FNV-1a: stable across runs and builds (std's hasher is not).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let path = dir.join(format!("{stem}-{hash:016x}.py"));
    if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
        return Ok(path);
    }
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{stem}-{}-{hash:016x}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_is_written_once_per_content_and_repaired_when_changed() {
        let d = tempfile::tempdir().unwrap();
        let a = install_script(d.path(), "s", "print(1)\n").unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "print(1)\n");
        assert_eq!(install_script(d.path(), "s", "print(1)\n").unwrap(), a);
        let b = install_script(d.path(), "s", "print(2)\n").unwrap();
        assert_ne!(a, b);
        std::fs::write(&a, "tampered").unwrap();
        assert_eq!(install_script(d.path(), "s", "print(1)\n").unwrap(), a);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "print(1)\n");
    }
}
