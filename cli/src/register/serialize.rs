//! Running `serialize.py` with the user's Python (found by `run::pyenv`, shared with `fledge run`),
//! as a one-shot subprocess: the run worker has no generic operation to host it, and registration
//! needs a clean interpreter per settings anyway (flytekit's entity registry is process-global).
//!
//! The result is cached under `$XDG_CACHE_HOME/fledge/register/`, keyed by everything the
//! serialized bytes depend on, so re-registering unchanged code does not start Python.

use super::plan::{Entity, Kind};
use crate::digest::{hex, LengthPrefixed};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

pub const SCRIPT: &str = include_str!("serialize.py");
const TIMEOUT: Duration = Duration::from_secs(600);

pub fn script_digest() -> String {
    hex(&Sha256::digest(SCRIPT.as_bytes())[..8])
}

fn cache_dir() -> PathBuf {
    crate::user_cache::dir().join("register")
}

/// What the serializer is asked to do.
#[derive(Serialize, Clone, Debug)]
pub struct Request {
    pub root: String,
    pub targets: Vec<String>,
    pub project: String,
    pub domain: String,
    pub version: String,
    pub images: Vec<String>,
    pub config_file: Option<String>,
    pub destination_dir: String,
    pub distribution_location: Option<String>,
    pub env: std::collections::BTreeMap<String, String>,
    pub service_account: String,
    pub raw_data_prefix: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Trailer {
    pub flytekit_version: String,
    pub images: Vec<String>,
    pub modules: Vec<String>,
    /// Processes that serialized (forks of the one that loaded the modules).
    #[serde(default)]
    pub workers: usize,
    /// Seconds spent in each step: import (flytekit), load (the project's modules),
    /// wait_for_upload, serialize.
    #[serde(default)]
    pub seconds: std::collections::BTreeMap<String, f64>,
    /// Serialized by a process forked from a warm server (flytekit and libraries already imported).
    #[serde(default)]
    pub warm: bool,
}

pub struct Serialized {
    pub entities: Vec<Entity>,
    pub trailer: Trailer,
}

/// A running serializer: flytekit imported and the modules loading while fledge uploads the bundle.
pub struct Serializer {
    location: Option<tokio::sync::oneshot::Sender<String>>,
    done: tokio::task::JoinHandle<Result<Finished, String>>,
    out: tempfile::NamedTempFile,
}

/// How a serializer process ended.
struct Finished {
    ok: bool,
    stderr: Vec<u8>,
}

/// Starts the serializer with the user's interpreter `python`: a process forked by the warm server
/// ([`super::warm`]) when one can be used, else a fresh interpreter. `preimport` names the
/// project's third-party modules (a warm server imports them once). When
/// `req.distribution_location` is `None`, it loads the project and then waits for
/// [`Serializer::tell_location`] to say where the bundle is.
pub fn start(python: &Path, req: &Request, preimport: &[String]) -> Result<Serializer, String> {
    let dir = cache_dir();
    let script = crate::user_cache::install_script(&dir, "serialize", SCRIPT)
        .map_err(|e| format!("cannot write the serializer script in {}: {e}", dir.display()))?;
    let out = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    let waits_for_location = req.distribution_location.is_none();
    let mut json = serde_json::to_value(req).map_err(|e| e.to_string())?;
    json["location_from_stdin"] = serde_json::Value::Bool(waits_for_location);
    let (location, location_rx) = if waits_for_location {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let job = Job {
        python: python.to_path_buf(),
        script,
        argv: [json.to_string(), out.path().display().to_string()],
        root: PathBuf::from(&req.root),
        preimport: preimport.to_vec(),
    };
    let done = tokio::spawn(async move {
        let server = super::warm::server(&job.python, &job.script, &job.root, &ENV_OVERRIDES);
        let mut location_rx = location_rx;
        if let Some(server) = server {
            match job.run_warm(&server, &mut location_rx).await {
                Ok(finished) => return finished,
                // No server could take it: a fresh interpreter does.
                Err(why) => note_fallback(&why),
            }
        }
        job.run_fresh(location_rx).await
    });
    Ok(Serializer { location, done, out })
}

/// Variables every serializer runs with. flytekit orders some lists (a node's upstream node ids)
/// by iterating a set of strings: a fixed hash seed makes the same code serialize to the same bytes
/// in every run.
const ENV_OVERRIDES: [(&str, &str); 2] = [("FLYTE_SDK_LOGGING_LEVEL", "40"), ("PYTHONHASHSEED", "0")];

/// Said on stderr: a server that cannot be used costs every registration the imports again.
fn note_fallback(why: &str) {
    eprintln!("fledge: the warm serializer could not be used ({why}); serializing in a fresh interpreter");
}

/// One serialization, in whichever process runs it.
struct Job {
    python: PathBuf,
    script: PathBuf,
    argv: [String; 2],
    root: PathBuf,
    preimport: Vec<String>,
}

impl Job {
    fn too_long(&self) -> String {
        format!("serializing the project with {} took more than {}s", self.python.display(), TIMEOUT.as_secs())
    }

    /// In a fresh interpreter.
    async fn run_fresh(&self, location: Option<tokio::sync::oneshot::Receiver<String>>) -> Result<Finished, String> {
        let mut cmd = tokio::process::Command::new(&self.python);
        cmd.arg(&self.script).args(&self.argv).current_dir(&self.root);
        for (k, v) in ENV_OVERRIDES {
            cmd.env(k, v);
        }
        let mut child = cmd
            // Only a serializer that waits for the bundle location reads stdin.
            .stdin(if location.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.python.display()))?;
        let mut pipe = child.stderr.take().ok_or("no stderr pipe")?;
        let stderr = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf).await;
            buf
        });
        if let (Some(rx), Some(mut stdin)) = (location, child.stdin.take()) {
            use tokio::io::AsyncWriteExt;
            if let Ok(loc) = rx.await {
                // A serializer that already failed has closed its stdin: its exit status says why.
                let _ = stdin.write_all(location_line(&loc).as_bytes()).await;
            }
        }
        let status = match tokio::time::timeout(TIMEOUT, child.wait()).await {
            Ok(status) => status.map_err(|e| e.to_string())?,
            Err(_) => return Err(self.too_long()),
        };
        Ok(Finished { ok: status.success(), stderr: stderr.await.unwrap_or_default() })
    }

    /// In a process forked by the warm server. `Err` only when the server did not take the
    /// request (then `location` is left for the fresh interpreter); once taken, its outcome.
    async fn run_warm(
        &self,
        server: &super::warm::Server,
        location: &mut Option<tokio::sync::oneshot::Receiver<String>>,
    ) -> Result<Result<Finished, String>, String> {
        use tokio::io::AsyncWriteExt;
        let stderr = tempfile::NamedTempFile::new_in(cache_dir()).map_err(|e| e.to_string())?;
        let env: serde_json::Map<String, serde_json::Value> =
            server.env.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        let request = serde_json::json!({
            "argv": self.argv,
            "env": env,
            "cwd": self.root,
            "stderr": stderr.path(),
        });
        let mut accepted = server.submit(&request, &self.preimport).await?;
        let mut location_given = true;
        if let Some(rx) = location.take() {
            match rx.await {
                Ok(loc) => {
                    let _ = accepted.write.write_all(location_line(&loc).as_bytes()).await;
                }
                Err(_) => location_given = false,
            }
        }
        // Without a location (fledge gave up before the upload), the end of the connection tells
        // the process to stop; otherwise the connection stays open until the status arrives (the
        // process stops when it closes early: fledge went away).
        let write = location_given.then_some(accepted.write);
        let status = match tokio::time::timeout(TIMEOUT, accepted.lines.next_line()).await {
            Err(_) => {
                super::warm::kill(accepted.pid);
                return Ok(Err(self.too_long()));
            }
            Ok(line) => line.ok().flatten(),
        };
        drop(write);
        let mut text = std::fs::read(stderr.path()).unwrap_or_default();
        let ok = match status.as_deref().and_then(|l| l.strip_prefix("exit ")) {
            Some(code) => code.trim() == "0",
            None => {
                text.extend_from_slice(
                    b"\nfledge-serialize-error: the serializing process ended without a status (killed?)\n",
                );
                false
            }
        };
        Ok(Ok(Finished { ok, stderr: text }))
    }
}

/// The last `n` lines of `text`, in order.
pub fn last_lines(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

fn location_line(distribution_location: &str) -> String {
    format!("{}\n", serde_json::json!({ "distribution_location": distribution_location }))
}

impl Serializer {
    /// Tells a serializer that waits for it where the bundle was uploaded.
    pub async fn tell_location(&mut self, distribution_location: &str) {
        if let Some(tx) = self.location.take() {
            let _ = tx.send(distribution_location.to_string());
        }
    }

    /// Waits for the serializer (told the location first, if it waits for one) and collects the
    /// entities.
    pub async fn finish(mut self) -> Result<Serialized, String> {
        drop(self.location.take());
        let finished = self.done.await.map_err(|e| format!("the serializer task failed: {e}"))??;
        if !finished.ok {
            let err = String::from_utf8_lossy(&finished.stderr);
            let summary = err
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("fledge-serialize-error: "))
                .unwrap_or("the serializer failed");
            let tail = last_lines(&err, 25).join("\n");
            return Err(format!("flytekit could not serialize the project: {summary}\n{tail}"));
        }
        let bytes = std::fs::read(self.out.path()).map_err(|e| e.to_string())?;
        parse_frames(&bytes)
    }
}

/// Runs the serializer to the end with the location known up front.
pub async fn run(python: &Path, req: &Request, preimport: &[String]) -> Result<Serialized, String> {
    start(python, req, preimport)?.finish().await
}

fn parse_frames(mut b: &[u8]) -> Result<Serialized, String> {
    fn u32_at(b: &mut &[u8]) -> Result<u32, String> {
        if b.len() < 4 {
            return Err("truncated serializer output".into());
        }
        let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        *b = &b[4..];
        Ok(v)
    }
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
        if b.len() < n {
            return Err("truncated serializer output".into());
        }
        let (h, t) = b.split_at(n);
        *b = t;
        Ok(h)
    }
    let mut entities = Vec::new();
    while !b.is_empty() {
        let kind = u32_at(&mut b)?;
        let n = u32_at(&mut b)? as usize;
        let name = String::from_utf8_lossy(take(&mut b, n)?).into_owned();
        let n = u32_at(&mut b)? as usize;
        let data = take(&mut b, n)?.to_vec();
        if kind == 0 {
            let trailer = serde_json::from_slice(&data).map_err(|e| format!("bad serializer trailer: {e}"))?;
            return Ok(Serialized { entities, trailer });
        }
        let kind = Kind::from_frame(kind).ok_or("unknown entity kind in serializer output")?;
        entities.push(Entity { kind, name, bytes: data });
    }
    Err("the serializer output has no trailer".into())
}

/// The cache entry of one serialization.
#[derive(Serialize, Deserialize)]
struct CacheEntry {
    native_url: String,
    trailer: Trailer,
    entities: Vec<(u32, String, String)>,
}

/// Key: everything the serialized bytes depend on.
pub fn cache_key(endpoint: &str, python: &Path, flytekit_version: &str, bundle_md5: &str, req: &Request) -> String {
    let mut h = LengthPrefixed::default();
    for part in [
        endpoint,
        &python.display().to_string(),
        flytekit_version,
        bundle_md5,
        &script_digest(),
        &serde_json::to_string(&Request { distribution_location: None, ..req.clone() }).unwrap_or_default(),
    ] {
        h.part(part);
    }
    hex(&h.finish()[..16])
}

pub fn cache_load(key: &str) -> Option<(String, Serialized)> {
    use base64::Engine;
    let text = std::fs::read(cache_dir().join(format!("{key}.json"))).ok()?;
    let e: CacheEntry = serde_json::from_slice(&text).ok()?;
    let mut entities = Vec::new();
    for (k, name, b64) in e.entities {
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        entities.push(Entity { kind: Kind::from_frame(k)?, name, bytes });
    }
    Some((e.native_url, Serialized { entities, trailer: e.trailer }))
}

pub fn cache_store(key: &str, native_url: &str, s: &Serialized) {
    use base64::Engine;
    let entry = CacheEntry {
        native_url: native_url.to_string(),
        trailer: s.trailer.clone(),
        entities: s
            .entities
            .iter()
            .map(|e| (e.kind.frame(), e.name.clone(), base64::engine::general_purpose::STANDARD.encode(&e.bytes)))
            .collect(),
    };
    let dir = cache_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(text) = serde_json::to_vec(&entry) {
        let tmp = dir.join(format!(".{key}.{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, dir.join(format!("{key}.json")));
        }
    }
}

/// A receipt that the registration with this cache key finished with every entity registered.
pub fn mark_complete(key: &str) {
    let _ = std::fs::write(cache_dir().join(format!("{key}.done")), b"");
}

pub fn is_complete(key: &str) -> bool {
    cache_dir().join(format!("{key}.done")).exists()
}
