//! Tokens from a browser login, kept between runs: one JSON file per endpoint and client id in
//! `$XDG_CACHE_HOME/fledge/tokens/` (else `~/.cache/fledge/tokens/`), mode 0600 in a 0700 folder,
//! written atomically (temporary file + rename). An unreadable or corrupt file counts as absent and
//! is replaced by the next login.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A cached access token is used only while it has at least this long to live.
const EXPIRY_MARGIN_SECS: u64 = 60;

/// What a token endpoint granted.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Unix seconds; `None` when the server gave no `expires_in` (then the token is used until refused).
    #[serde(default)]
    pub expires_at: Option<u64>,
}

impl Tokens {
    /// Whether the access token is still good for a while at `now` (Unix seconds).
    pub fn is_fresh(&self, now: u64) -> bool {
        self.expires_at.is_none_or(|e| now + EXPIRY_MARGIN_SECS < e)
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// One file's content; endpoint and client id are repeated so a file is self-describing.
#[derive(Serialize, Deserialize)]
struct Entry {
    version: u32,
    endpoint: String,
    client_id: String,
    #[serde(flatten)]
    tokens: Tokens,
}

const VERSION: u32 = 1;

pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// `$XDG_CACHE_HOME/fledge/tokens`, else `~/.cache/fledge/tokens`.
    pub fn default_dir() -> PathBuf {
        crate::user_cache::dir().join("tokens")
    }

    pub fn new(dir: PathBuf) -> TokenCache {
        TokenCache { dir }
    }

    /// The file for an endpoint and client id: readable names plus a hash of the exact pair.
    pub fn path(&self, endpoint: &str, client_id: &str) -> PathBuf {
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' })
                .take(64)
                .collect()
        };
        let mut h = Sha256::new();
        h.update(endpoint.as_bytes());
        h.update([0]);
        h.update(client_id.as_bytes());
        let hash = crate::digest::hex(&h.finalize()[..6]);
        self.dir.join(format!("{}_{}_{hash}.json", clean(endpoint), clean(client_id)))
    }

    /// The cached tokens, or `None` when there are none or the file is unreadable or corrupt.
    pub fn load(&self, endpoint: &str, client_id: &str) -> Option<Tokens> {
        let text = std::fs::read(self.path(endpoint, client_id)).ok()?;
        let e: Entry = serde_json::from_slice(&text).ok()?;
        (e.version == VERSION
            && e.endpoint == endpoint
            && e.client_id == client_id
            && !e.tokens.access_token.is_empty())
        .then_some(e.tokens)
    }

    /// Writes the tokens atomically, readable by the owner only.
    pub fn store(&self, endpoint: &str, client_id: &str, tokens: &Tokens) -> Result<PathBuf, String> {
        let path = self.path(endpoint, client_id);
        let fail = |e: &dyn std::fmt::Display| format!("cannot save the login in {}: {e}", path.display());
        create_private_dir(&self.dir).map_err(|e| fail(&e))?;
        let entry =
            Entry { version: VERSION, endpoint: endpoint.into(), client_id: client_id.into(), tokens: tokens.clone() };
        let json = serde_json::to_vec_pretty(&entry).map_err(|e| fail(&e))?;
        // tempfile creates the file with mode 0600 on Unix.
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| fail(&e))?;
        tmp.write_all(&json).and_then(|_| tmp.as_file().sync_all()).map_err(|e| fail(&e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| fail(&e))?;
        }
        tmp.persist(&path).map_err(|e| fail(&e.error))?;
        Ok(path)
    }

    /// Forgets the tokens (a missing file is fine).
    pub fn remove(&self, endpoint: &str, client_id: &str) {
        let _ = std::fs::remove_file(self.path(endpoint, client_id));
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        if !dir.is_dir() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(access: &str) -> Tokens {
        Tokens { access_token: access.into(), refresh_token: Some("r".into()), expires_at: Some(4_000_000_000) }
    }

    #[test]
    fn stores_privately_and_reads_back_per_endpoint_and_client() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().join("fledge/tokens"));
        assert_eq!(cache.load("a:1", "flytectl"), None);
        let path = cache.store("a:1", "flytectl", &tokens("t1")).unwrap();
        cache.store("a:1", "other", &tokens("t2")).unwrap();
        assert_eq!(cache.load("a:1", "flytectl"), Some(tokens("t1")));
        assert_eq!(cache.load("a:1", "other").unwrap().access_token, "t2");
        assert_eq!(cache.load("b:1", "flytectl"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            let d = std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777;
            assert_eq!(d, 0o700);
        }
        // Overwriting replaces the file; nothing else is left in the folder.
        cache.store("a:1", "flytectl", &tokens("t3")).unwrap();
        assert_eq!(cache.load("a:1", "flytectl").unwrap().access_token, "t3");
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 2);
        cache.remove("a:1", "flytectl");
        assert_eq!(cache.load("a:1", "flytectl"), None);
    }

    #[test]
    fn a_corrupt_file_is_ignored_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path().to_path_buf());
        let path = cache.path("a:1", "c");
        for junk in [&b"{not json"[..], b"", b"\xff\xfe", b"{\"version\": 1}", b"[]"] {
            std::fs::write(&path, junk).unwrap();
            assert_eq!(cache.load("a:1", "c"), None);
        }
        cache.store("a:1", "c", &tokens("t")).unwrap();
        assert_eq!(cache.load("a:1", "c").unwrap().access_token, "t");
    }

    #[test]
    fn freshness_keeps_a_margin() {
        let now = 1_000_000;
        let t = |e| Tokens { access_token: "a".into(), refresh_token: None, expires_at: e };
        assert!(t(None).is_fresh(now));
        assert!(t(Some(now + 3600)).is_fresh(now));
        assert!(!t(Some(now + 10)).is_fresh(now));
        assert!(!t(Some(now - 10)).is_fresh(now));
    }
}
