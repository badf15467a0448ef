//! The run cache in the project's `.fledge/cache/`: task outputs keyed by the task's fingerprint and
//! its input literals, large values (files, directories, dataframes) stored once by content hash.
//!
//! Every write goes to a temporary file that is renamed into place, and every entry carries a checksum
//! of its contents (and of each blob it points to), so a half-written or corrupted entry is found on
//! read, deleted, and reported as a miss: it is recomputed, never returned.

use super::fingerprint::hex;
use super::literals::literal_hash;
use fledge_proto::flyteidl::core::{literal, scalar, Literal, LiteralMap};
use fledge_proto::prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const MAGIC: &str = "fledge-cache 1";

pub struct Cache {
    root: PathBuf,
}

/// What a lookup found.
pub enum Lookup {
    Hit(LiteralMap),
    Miss,
    /// The entry existed but was damaged; it has been removed.
    Corrupt(String),
}

/// What the last run of a node was made of, to explain the next one.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NodeRecord {
    pub workflow: String,
    pub node: String,
    pub task: String,
    pub fingerprint: String,
    pub parts: Vec<(String, String)>,
    pub inputs: BTreeMap<String, String>,
    pub key: String,
}

#[derive(Serialize, Deserialize)]
struct EntryMeta {
    task: String,
    /// Blob paths (relative to the blob store) and their content hashes.
    blobs: Vec<(String, String)>,
}

/// One entry, for `fledge cache ls`.
pub struct EntryInfo {
    pub key: String,
    pub task: String,
    pub bytes: u64,
    pub modified: std::time::SystemTime,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn tmp_name(dir: &Path, stem: &str) -> PathBuf {
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".tmp-{stem}-{}-{n}", std::process::id()))
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let tmp = tmp_name(dir, path.file_name().and_then(|n| n.to_str()).unwrap_or("x"));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The cache key of a task run: its fingerprint and the hashes of its inputs.
pub fn cache_key(fingerprint: &str, inputs: &LiteralMap) -> String {
    let mut h = Sha256::new();
    h.update(fingerprint.as_bytes());
    let sorted: BTreeMap<&String, &Literal> = inputs.literals.iter().collect();
    for (k, v) in sorted {
        h.update([0]);
        h.update(k.as_bytes());
        h.update([0]);
        h.update(literal_hash(v).as_bytes());
    }
    hex(&h.finalize())
}

impl Cache {
    /// The cache of the project at `project_root` (`.fledge/cache/`, created on first write).
    pub fn open(project_root: &Path) -> Cache {
        Cache { root: project_root.join(".fledge").join("cache") }
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.root.join("entries").join(&key[..2.min(key.len())]).join(format!("{key}.entry"))
    }

    fn blob_root(&self) -> PathBuf {
        self.root.join("blobs")
    }

    fn record_path(&self, workflow: &str, node: &str) -> PathBuf {
        let h = hex(&Sha256::digest(format!("{workflow}\0{node}").as_bytes()));
        self.root.join("records").join(format!("{h}.json"))
    }

    pub fn get(&self, key: &str) -> Lookup {
        let path = self.entry_path(key);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => return Lookup::Corrupt(format!("unreadable: {e}")),
        };
        match self.parse_entry(&bytes) {
            Ok(m) => Lookup::Hit(m),
            Err(why) => {
                let _ = fs::remove_file(&path);
                Lookup::Corrupt(why)
            }
        }
    }

    fn parse_entry(&self, bytes: &[u8]) -> Result<LiteralMap, String> {
        let mut parts = bytes.splitn(3, |b| *b == b'\n');
        let (Some(magic), Some(sum), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("truncated entry".into());
        };
        if magic != MAGIC.as_bytes() {
            return Err("not a fledge cache entry".into());
        }
        if sum != hex(&Sha256::digest(rest)).as_bytes() {
            return Err("checksum mismatch (corrupted or half-written entry)".into());
        }
        let nl = rest.iter().position(|b| *b == b'\n').ok_or("truncated entry")?;
        let meta: EntryMeta = serde_json::from_slice(&rest[..nl]).map_err(|e| format!("bad metadata: {e}"))?;
        let map = LiteralMap::decode(&rest[nl + 1..]).map_err(|e| format!("bad literal map: {e}"))?;
        for (rel, hash) in &meta.blobs {
            let p = self.blob_root().join(rel);
            match content_hash(&p) {
                Ok(h) if &h == hash => {}
                Ok(_) => {
                    remove_any(&p);
                    return Err(format!("stored value {rel} was modified"));
                }
                Err(_) => return Err(format!("stored value {rel} is missing")),
            }
        }
        Ok(map)
    }

    /// Stores a task's outputs; local files and folders they point to are moved (or copied) into the
    /// blob store and the returned map points there.
    pub fn put(&self, key: &str, task: &str, outputs: &LiteralMap) -> io::Result<LiteralMap> {
        let mut blobs = Vec::new();
        let mut out = outputs.clone();
        for v in out.literals.values_mut() {
            self.store_blobs(v, &mut blobs)?;
        }
        let meta = serde_json::to_vec(&EntryMeta { task: task.to_string(), blobs }).map_err(io::Error::other)?;
        let mut rest = meta;
        rest.push(b'\n');
        rest.extend(out.encode_to_vec());
        let mut bytes = format!("{MAGIC}\n{}\n", hex(&Sha256::digest(&rest))).into_bytes();
        bytes.extend(rest);
        write_atomic(&self.entry_path(key), &bytes)?;
        Ok(out)
    }

    fn store_blobs(&self, l: &mut Literal, blobs: &mut Vec<(String, String)>) -> io::Result<()> {
        match &mut l.value {
            Some(literal::Value::Collection(c)) => {
                for x in &mut c.literals {
                    self.store_blobs(x, blobs)?;
                }
            }
            Some(literal::Value::Map(m)) => {
                for x in m.literals.values_mut() {
                    self.store_blobs(x, blobs)?;
                }
            }
            Some(literal::Value::Scalar(s)) => {
                let uri = match &mut s.value {
                    Some(scalar::Value::Blob(b)) => Some(&mut b.uri),
                    Some(scalar::Value::StructuredDataset(d)) => Some(&mut d.uri),
                    Some(scalar::Value::Union(u)) => {
                        if let Some(v) = u.value.as_deref_mut() {
                            self.store_blobs(v, blobs)?;
                        }
                        None
                    }
                    _ => None,
                };
                if let Some(uri) = uri {
                    if let Some(local) = local_path(uri) {
                        if local.exists() && !local.starts_with(self.blob_root()) {
                            let (stored, rel, hash) = self.store_path(&local)?;
                            *uri = stored.display().to_string();
                            blobs.push((rel, hash));
                        } else if let Ok(rel) = local.strip_prefix(self.blob_root()) {
                            blobs.push((rel.display().to_string(), content_hash(&local)?));
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Puts a file or folder in the blob store under its content hash; returns its new path.
    fn store_path(&self, p: &Path) -> io::Result<(PathBuf, String, String)> {
        let hash = content_hash(p)?;
        let base = p.file_name().and_then(|n| n.to_str()).unwrap_or("value").to_string();
        let dir = self.blob_root().join(&hash[..2]).join(&hash);
        let target = dir.join(&base);
        let rel = format!("{}/{hash}/{base}", &hash[..2]);
        if content_hash(&target).ok().as_deref() == Some(hash.as_str()) {
            return Ok((target, rel, hash));
        }
        remove_any(&target);
        fs::create_dir_all(&dir)?;
        let tmp = tmp_name(&dir, "blob");
        copy_any(p, &tmp)?;
        if let Err(e) = fs::rename(&tmp, &target) {
            remove_any(&tmp);
            return Err(e);
        }
        Ok((target, rel, hash))
    }

    pub fn record(&self, rec: &NodeRecord) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(rec).map_err(io::Error::other)?;
        write_atomic(&self.record_path(&rec.workflow, &rec.node), &bytes)
    }

    pub fn last_record(&self, workflow: &str, node: &str) -> Option<NodeRecord> {
        serde_json::from_slice(&fs::read(self.record_path(workflow, node)).ok()?).ok()
    }

    pub fn entries(&self) -> Vec<EntryInfo> {
        let mut out = Vec::new();
        for dir in read_dir(&self.root.join("entries")) {
            for f in read_dir(&dir) {
                let Some(key) = f.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".entry")) else {
                    continue;
                };
                let Ok(md) = f.metadata() else { continue };
                let task = fs::read(&f)
                    .ok()
                    .and_then(|b| {
                        let rest = b.splitn(3, |x| *x == b'\n').nth(2)?.to_vec();
                        let nl = rest.iter().position(|x| *x == b'\n')?;
                        serde_json::from_slice::<EntryMeta>(&rest[..nl]).ok()
                    })
                    .map_or_else(|| "?".to_string(), |m| m.task);
                out.push(EntryInfo {
                    key: key.to_string(),
                    task,
                    bytes: md.len(),
                    modified: md.modified().unwrap_or(std::time::UNIX_EPOCH),
                });
            }
        }
        out.sort_by(|a, b| a.task.cmp(&b.task).then(a.modified.cmp(&b.modified)));
        out
    }

    /// Removes everything.
    pub fn clear(&self) -> io::Result<()> {
        match fs::remove_dir_all(&self.root) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Keeps only the entries that the last run of some node used (and the blobs they point to);
    /// returns (entries removed, blobs removed).
    pub fn gc(&self) -> io::Result<(usize, usize)> {
        let mut live_keys = BTreeSet::new();
        for f in read_dir(&self.root.join("records")) {
            if let Some(r) = fs::read(&f).ok().and_then(|b| serde_json::from_slice::<NodeRecord>(&b).ok()) {
                live_keys.insert(r.key);
            }
        }
        let mut live_blobs = BTreeSet::new();
        let mut removed = 0;
        for dir in read_dir(&self.root.join("entries")) {
            for f in read_dir(&dir) {
                let key =
                    f.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".entry")).map(str::to_string);
                let keep = key.as_ref().is_some_and(|k| live_keys.contains(k));
                let meta = fs::read(&f).ok().and_then(|b| {
                    let rest = b.splitn(3, |x| *x == b'\n').nth(2)?.to_vec();
                    let nl = rest.iter().position(|x| *x == b'\n')?;
                    serde_json::from_slice::<EntryMeta>(&rest[..nl]).ok()
                });
                match (keep, meta) {
                    (true, Some(m)) => live_blobs.extend(m.blobs.into_iter().map(|b| b.1)),
                    _ => {
                        fs::remove_file(&f)?;
                        removed += 1;
                    }
                }
            }
        }
        let mut blobs_removed = 0;
        for d in read_dir(&self.blob_root()) {
            for b in read_dir(&d) {
                let name = b.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
                if !live_blobs.contains(&name) {
                    remove_any(&b);
                    blobs_removed += 1;
                }
            }
        }
        Ok((removed, blobs_removed))
    }
}

fn read_dir(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(p).map(|r| r.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    v.sort();
    v
}

fn local_path(uri: &str) -> Option<PathBuf> {
    if let Some(p) = uri.strip_prefix("file://") {
        return Some(PathBuf::from(p));
    }
    if uri.starts_with('/') {
        return Some(PathBuf::from(uri));
    }
    None
}

fn remove_any(p: &Path) {
    if p.is_dir() {
        let _ = fs::remove_dir_all(p);
    } else {
        let _ = fs::remove_file(p);
    }
}

fn copy_any(from: &Path, to: &Path) -> io::Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to)?;
        for e in fs::read_dir(from)? {
            let e = e?;
            copy_any(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else {
        fs::copy(from, to).map(|_| ())
    }
}

/// SHA-256 of a file's bytes, or of a folder's sorted (relative name, content hash) pairs.
pub fn content_hash(p: &Path) -> io::Result<String> {
    let md = fs::metadata(p)?;
    let mut h = Sha256::new();
    if md.is_dir() {
        h.update(b"dir\0");
        for e in read_dir(p) {
            let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            h.update(name.as_bytes());
            h.update([0]);
            h.update(content_hash(&e)?.as_bytes());
            h.update([0]);
        }
    } else {
        h.update(b"file\0");
        let mut f = fs::File::open(p)?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(hex(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::literals::{prim, to_json};
    use fledge_proto::flyteidl::core::{primitive, Blob, Scalar};

    fn outputs(v: i64) -> LiteralMap {
        LiteralMap { literals: [("o0".to_string(), prim(primitive::Value::Integer(v)))].into_iter().collect() }
    }

    #[test]
    fn entries_round_trip_and_corruption_is_a_miss_not_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path());
        let key = cache_key("fp", &outputs(1));
        assert!(matches!(cache.get(&key), Lookup::Miss));
        cache.put(&key, "m.t", &outputs(42)).unwrap();
        match cache.get(&key) {
            Lookup::Hit(m) => assert_eq!(to_json(&m.literals["o0"]), serde_json::json!(42)),
            _ => panic!("expected a hit"),
        }
        // Flip one byte of the stored literal: detected, removed, then a plain miss.
        let path = cache.entry_path(&key);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(cache.get(&key), Lookup::Corrupt(_)));
        assert!(!path.exists());
        assert!(matches!(cache.get(&key), Lookup::Miss));
        // A half-written entry (cut short).
        cache.put(&key, "m.t", &outputs(42)).unwrap();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(matches!(cache.get(&key), Lookup::Corrupt(_)));
    }

    #[test]
    fn files_are_stored_by_content_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path());
        let f = dir.path().join("report.csv");
        fs::write(&f, "a,b\n1,2\n").unwrap();
        let blob = Literal {
            value: Some(literal::Value::Scalar(Box::new(Scalar {
                value: Some(scalar::Value::Blob(Blob { metadata: None, uri: f.display().to_string() })),
            }))),
            ..Default::default()
        };
        let m = LiteralMap { literals: [("o0".to_string(), blob)].into_iter().collect() };
        let stored = cache.put("ab12", "m.t", &m).unwrap();
        let uri = to_json(&stored.literals["o0"]).as_str().unwrap().to_string();
        assert!(uri.contains("/.fledge/cache/blobs/") && uri.ends_with("/report.csv"), "{uri}");
        // The same content from another place lands on the same path (that is what early cutoff needs).
        let g = dir.path().join("other").join("report.csv");
        fs::create_dir_all(g.parent().unwrap()).unwrap();
        fs::write(&g, "a,b\n1,2\n").unwrap();
        let mut m2 = m.clone();
        if let Some(literal::Value::Scalar(s)) = &mut m2.literals.get_mut("o0").unwrap().value {
            if let Some(scalar::Value::Blob(b)) = &mut s.value {
                b.uri = g.display().to_string();
            }
        }
        let stored2 = cache.put("cd34", "m.t", &m2).unwrap();
        assert_eq!(literal_hash(&stored.literals["o0"]), literal_hash(&stored2.literals["o0"]));
        assert!(matches!(cache.get("ab12"), Lookup::Hit(_)));
        // A modified blob invalidates the entry.
        fs::write(&uri, "tampered").unwrap();
        assert!(matches!(cache.get("ab12"), Lookup::Corrupt(_)));
    }

    #[test]
    fn gc_keeps_what_the_last_runs_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path());
        cache.put("aa01", "m.t", &outputs(1)).unwrap();
        cache.put("bb02", "m.t", &outputs(2)).unwrap();
        let rec = NodeRecord {
            workflow: "m.wf".into(),
            node: "n0".into(),
            task: "m.t".into(),
            fingerprint: "f".into(),
            parts: vec![],
            inputs: BTreeMap::new(),
            key: "bb02".into(),
        };
        cache.record(&rec).unwrap();
        assert_eq!(cache.last_record("m.wf", "n0"), Some(rec));
        assert_eq!(cache.gc().unwrap().0, 1);
        assert!(matches!(cache.get("aa01"), Lookup::Miss));
        assert!(matches!(cache.get("bb02"), Lookup::Hit(_)));
        assert_eq!(cache.entries().len(), 1);
        cache.clear().unwrap();
        assert!(cache.entries().is_empty());
    }
}
