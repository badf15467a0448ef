//! The warm serializer: a `serialize.py --serve` process that has imported flytekit and the
//! project's third-party libraries once and forks a process per registration, so that only the
//! first `fledge register` in a while pays those imports (pandas and flytekit alone take 1-2 s).
//!
//! One server per (interpreter, serializer script, project root, environment variables), found by
//! a socket named after their digest in `<user cache>/serializers/`. Per project root, because a
//! library imported for one project could shadow a module of the same name in another. The server
//! checks on every request that no file it imported changed (else it answers `stale` and exits),
//! and leaves after `FLEDGE_SERIALIZER_IDLE` seconds without a request (default 600, and no server
//! at all when `CI` is set; `0` turns servers off: every registration starts a fresh interpreter).
//! The protocol is described in `serialize.py`.

use crate::digest::{hex, LengthPrefixed};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

const DEFAULT_IDLE_SECONDS: u64 = 600;
/// How long a server may take to import flytekit and the libraries before fledge gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// `sun_path` holds 108 bytes on Linux; longer cache paths go without a server.
const MAX_SOCKET_PATH: usize = 100;
/// Variables that differ between shells and commands without changing what Python imports.
const VOLATILE_VARIABLES: &[&str] = &["PWD", "OLDPWD", "_", "SHLVL"];

/// Where and how to reach (or start) the server for one interpreter and environment.
pub struct Server {
    pub socket: PathBuf,
    log: PathBuf,
    python: PathBuf,
    script: PathBuf,
    /// The project root: the server's working folder, as a fresh interpreter's (relative
    /// `PYTHONPATH` entries, flytekit's `./flytekit.config`).
    root: PathBuf,
    idle_seconds: u64,
    /// The environment of the request's process: fledge's own, plus `overrides`.
    pub env: Vec<(String, String)>,
}

/// The server for `python` running `script`, or `None` when servers are turned off, the
/// environment cannot be passed on exactly (a variable that is not UTF-8) or the socket path
/// would be too long.
pub fn server(python: &Path, script: &Path, root: &Path, overrides: &[(&str, &str)]) -> Option<Server> {
    let idle_seconds = match std::env::var("FLEDGE_SERIALIZER_IDLE") {
        Ok(v) => v.trim().parse::<u64>().ok()?,
        // A CI job registers once and ends: a server would only outlive it.
        Err(_) if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => return None,
        Err(_) => DEFAULT_IDLE_SECONDS,
    };
    if idle_seconds == 0 {
        return None;
    }
    let mut env = Vec::new();
    for (k, v) in std::env::vars_os() {
        env.push((k.into_string().ok()?, v.into_string().ok()?));
    }
    env.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
    env.extend(overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.sort();
    let mut h = LengthPrefixed::default();
    h.part(python.display().to_string());
    h.part(python.canonicalize().unwrap_or_else(|_| python.to_path_buf()).display().to_string());
    h.part(script.display().to_string());
    h.part(root.display().to_string());
    for (k, v) in env.iter().filter(|(k, _)| !VOLATILE_VARIABLES.contains(&k.as_str())) {
        h.part(k);
        h.part(v);
    }
    let key = hex(&h.finish()[..8]);
    let dir = crate::user_cache::dir().join("serializers");
    let socket = dir.join(format!("{key}.sock"));
    if socket.as_os_str().len() > MAX_SOCKET_PATH {
        return None;
    }
    Some(Server {
        log: dir.join(format!("{key}.log")),
        socket,
        python: python.to_path_buf(),
        script: script.to_path_buf(),
        root: root.to_path_buf(),
        idle_seconds,
        env,
    })
}

/// A request accepted by the server: its process runs; `lines` carries its answers.
pub struct Accepted {
    pub pid: i32,
    pub lines: tokio::io::Lines<BufReader<tokio::net::unix::OwnedReadHalf>>,
    pub write: tokio::net::unix::OwnedWriteHalf,
}

impl Server {
    /// Sends `request` to a running server, starting one first when there is none (or only a
    /// stale one). `Err` when no server could take it: the caller runs a fresh interpreter.
    /// `preimport`: the project's third-party modules, for the server to import (its `preimport`
    /// field is set from it, less the modules servers found defining Flyte entities).
    pub async fn submit(&self, request: &serde_json::Value, preimport: &[String]) -> Result<Accepted, String> {
        let mut preimport = self.without_skipped(preimport);
        for _ in 0..3 {
            let stream = match UnixStream::connect(&self.socket).await {
                Ok(s) => s,
                Err(_) => match self.start(&preimport).await {
                    Ok(s) => s,
                    Err(e) => {
                        // It left because a library adds Flyte entities or type transformers:
                        // again without it.
                        let fewer = self.without_skipped(&preimport);
                        if fewer.len() < preimport.len() {
                            preimport = fewer;
                            continue;
                        }
                        return Err(e);
                    }
                },
            };
            // Only a server of this user's (the socket is 0600 in a 0700 folder: defence in depth).
            let uid = stream.peer_cred().map_err(|e| e.to_string())?.uid();
            // SAFETY: getuid(2) cannot fail.
            if uid != unsafe { libc::getuid() } {
                return Err(format!("the serializer socket {} belongs to user {uid}", self.socket.display()));
            }
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let mut request = request.clone();
            request["preimport"] = serde_json::json!(preimport);
            write.write_all(format!("{request}\n").as_bytes()).await.map_err(|e| e.to_string())?;
            // A busy server (importing a library new to it for an earlier request) answers late;
            // one that never answers is left for a fresh interpreter.
            let answer = tokio::time::timeout(START_TIMEOUT, lines.next_line())
                .await
                .map_err(|_| "the serializer server did not answer".to_string())?;
            match answer.map_err(|e| e.to_string())? {
                Some(l) if l.starts_with("pid ") => {
                    let pid = l[4..].trim().parse().map_err(|_| format!("bad answer from the server: {l}"))?;
                    return Ok(Accepted { pid, lines, write });
                }
                // The server saw an imported file change, or it was leaving (idle, replaced, a
                // library that adds entities or transformers): start a new one.
                Some(l) if l == "stale" => continue,
                None => continue,
                Some(other) => return Err(format!("the serializer server did not take the request ({other})")),
            }
        }
        Err("the serializer server kept leaving".into())
    }

    /// `preimport` without the modules a server found defining Flyte entities when imported.
    fn without_skipped(&self, preimport: &[String]) -> Vec<String> {
        let skip = std::fs::read_to_string(format!("{}.skip", self.socket.display())).unwrap_or_default();
        let skip: std::collections::HashSet<&str> = skip.lines().map(str::trim).collect();
        preimport.iter().filter(|m| !skip.contains(m.as_str())).cloned().collect()
    }

    /// Starts a server and waits until it listens; when another fledge is starting the same server,
    /// waits for that one instead (a lock file beside the socket).
    async fn start(&self, preimport: &[String]) -> Result<UnixStream, String> {
        use std::os::unix::fs::DirBuilderExt;
        use std::os::unix::process::CommandExt;
        let dir = self.socket.parent().ok_or("no socket folder")?;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| e.to_string())?;
        let _lock = self.starting_lock().await?;
        if let Ok(s) = UnixStream::connect(&self.socket).await {
            return Ok(s); // started by the fledge that held the lock
        }
        // A socket file nobody listens on (a server killed without cleaning up).
        let _ = std::fs::remove_file(&self.socket);
        // Appended to (one line per start, plus whatever a failing import prints), restarted when large.
        if std::fs::metadata(&self.log).is_ok_and(|m| m.len() > 1 << 20) {
            let _ = std::fs::remove_file(&self.log);
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).map_err(|e| e.to_string())?;
        let preimport = serde_json::to_string(preimport).map_err(|e| e.to_string())?;
        let mut command = std::process::Command::new(&self.python);
        command
            .arg(&self.script)
            .arg("--serve")
            .arg(&self.socket)
            .arg(self.idle_seconds.to_string())
            .arg(preimport)
            .current_dir(&self.root)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log);
        // SAFETY: setsid(2) is async-signal-safe. A session of its own: a Ctrl-C meant for this
        // fledge leaves it for the next one, and a library reading the terminal fails instead of
        // stopping the server.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|e| format!("cannot start {}: {e}", self.python.display()))?;
        let t0 = Instant::now();
        loop {
            if let Ok(s) = UnixStream::connect(&self.socket).await {
                // Left running (dropping a `Child` neither kills nor waits for it).
                return Ok(s);
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail = super::serialize::last_lines(&log, 3).join(" / ");
                return Err(format!("the serializer server exited ({status}): {tail}"));
            }
            if t0.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                return Err("the serializer server did not start in time".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// An exclusive lock on `<key>.lock`, held while starting the server (released when dropped,
    /// or by the kernel when this process dies).
    async fn starting_lock(&self) -> Result<std::fs::File, String> {
        use std::os::fd::AsRawFd;
        let path = self.socket.with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let t0 = Instant::now();
        loop {
            // SAFETY: flock(2) on a descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(file);
            }
            if t0.elapsed() > START_TIMEOUT {
                return Err("another fledge has been starting the serializer server for too long".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Stops the process of an accepted request and the processes it forked (fledge gave up waiting).
pub fn kill(pid: i32) {
    if pid > 0 {
        // SAFETY: kill(2) on the process group the request's process leads (it calls setpgid).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
    }
}
