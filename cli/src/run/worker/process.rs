//! One running `worker.py`: its pipes, the calls waiting for a child's result, and its death.

use super::protocol::{self, Event, Request};
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStderr, ChildStdout, Command};
use tokio::sync::{mpsc, oneshot};

/// How much of the worker's own stderr is kept to explain its death.
const STDERR_TAIL: usize = 16 << 10;

/// What a waiting call receives.
#[derive(Debug)]
pub(crate) enum Reply {
    Event(Event, Vec<u8>),
    /// The worker process ended (or broke the protocol) before answering; the text says how.
    WorkerGone(String),
}

/// A started worker. Dropping the last handle kills it.
pub(crate) struct Process {
    pid: u32,
    tx: mpsc::UnboundedSender<Vec<u8>>,
    pending: Arc<Mutex<Pending>>,
    exited: Arc<AtomicBool>,
    pub python_version: String,
    pub flytekit_version: String,
}

#[derive(Default)]
struct Pending {
    calls: HashMap<u64, oneshot::Sender<Reply>>,
    /// Set once the worker is gone: later calls fail at once with this reason.
    gone: Option<String>,
}

/// Why the worker did not start.
pub(crate) struct StartError {
    pub message: String,
    pub traceback: Vec<protocol::Frame>,
}

impl Process {
    /// Starts `python -u script ROOTS...` in `cwd` and waits (at most `timeout`) until it has imported flytekit.
    pub(crate) async fn start(
        python: &Path,
        script: &Path,
        roots: &[std::path::PathBuf],
        cwd: &Path,
        env: &[(String, String)],
        timeout: Duration,
    ) -> Result<Process, StartError> {
        let mut cmd = Command::new(python);
        cmd.arg("-u").arg(script).args(roots).current_dir(cwd);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| StartError {
            message: format!("cannot start {}: {e}", python.display()),
            traceback: Vec::new(),
        })?;
        let pid = child.id().unwrap_or(0);
        let (mut stdin, mut stdout, stderr) = match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
            (Some(i), Some(o), Some(e)) => (i, o, e),
            _ => {
                return Err(StartError { message: "the worker's pipes are missing".into(), traceback: Vec::new() });
            }
        };
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(drain_stderr(stderr, stderr_tail.clone()));
        let exited = Arc::new(AtomicBool::new(false));
        let (exit_tx, exit_rx) = oneshot::channel::<String>();
        {
            let exited = exited.clone();
            tokio::spawn(async move {
                let status = child.wait().await;
                exited.store(true, Ordering::SeqCst);
                let detail = match status {
                    Ok(s) => describe_exit(s),
                    Err(e) => format!("could not be waited for: {e}"),
                };
                let _ = exit_tx.send(detail);
            });
        }

        let first = tokio::time::timeout(timeout, async {
            if protocol::skip_to_marker(&mut stdout).await? {
                protocol::read_event(&mut stdout).await
            } else {
                Ok(None)
            }
        })
        .await;
        let fail = |message: String| {
            if !exited.load(Ordering::SeqCst) {
                kill(pid);
            }
            StartError { message, traceback: Vec::new() }
        };
        let (python_version, flytekit_version) = match first {
            Ok(Ok(Some((Event::Ready { python, flytekit }, _)))) => (python, flytekit),
            Ok(Ok(Some((Event::Fatal { message, traceback }, _)))) => {
                kill(pid);
                return Err(StartError { message, traceback });
            }
            Ok(Ok(Some((other, _)))) => {
                return Err(fail(format!("unexpected first message from the worker: {other:?}")))
            }
            Ok(Ok(None)) | Ok(Err(_)) => {
                // Give the exit status and stderr a moment to arrive so the message can say why.
                let detail = tokio::time::timeout(Duration::from_secs(5), exit_rx)
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or_else(|| "closed its output".into());
                tokio::time::sleep(Duration::from_millis(50)).await;
                let tail = tail_text(&stderr_tail);
                return Err(fail(format!("the worker {detail} while starting{tail}")));
            }
            Err(_) => {
                let tail = tail_text(&stderr_tail);
                return Err(fail(format!("the worker did not start within {}s{tail}", timeout.as_secs())));
            }
        };

        let pending = Arc::new(Mutex::new(Pending::default()));
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                if stdin.write_all(&frame).await.is_err() || stdin.flush().await.is_err() {
                    break; // the reader sees the worker's end and fails the pending calls
                }
            }
            // Dropping stdin: the worker reads end of input, kills its children and exits.
        });
        tokio::spawn(read_loop(stdout, pending.clone(), stderr_tail, exited.clone(), pid));
        Ok(Process { pid, tx, pending, exited, python_version, flytekit_version })
    }

    /// The worker's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the worker is known to be gone (the next call should start a new one).
    pub(crate) fn is_gone(&self) -> bool {
        self.exited.load(Ordering::SeqCst) || lock(&self.pending).gone.is_some()
    }

    /// Sends a `run` request; the receiver gets the child's result or the worker's death.
    pub(crate) fn submit(&self, id: u64, request: &Request<'_>, body: &[u8]) -> oneshot::Receiver<Reply> {
        let (tx, rx) = oneshot::channel();
        let mut pending = lock(&self.pending);
        if let Some(reason) = &pending.gone {
            let _ = tx.send(Reply::WorkerGone(reason.clone()));
            return rx;
        }
        pending.calls.insert(id, tx);
        drop(pending);
        if self.tx.send(protocol::encode(request, body)).is_err() {
            if let Some(tx) = lock(&self.pending).calls.remove(&id) {
                let _ = tx.send(Reply::WorkerGone("the worker stopped accepting requests".into()));
            }
        }
        rx
    }

    /// Sends a request that has no reply (`kill`, `invalidate`).
    pub(crate) fn send(&self, request: &Request<'_>) {
        let _ = self.tx.send(protocol::encode(request, &[]));
    }

    /// Forgets a call whose caller stopped waiting.
    pub(crate) fn forget(&self, id: u64) {
        lock(&self.pending).calls.remove(&id);
    }

    /// Kills the worker (its children die with it: they asked for SIGKILL on their parent's death).
    pub(crate) fn kill(&self) {
        if !self.exited.load(Ordering::SeqCst) {
            kill(self.pid);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn read_loop(
    mut stdout: ChildStdout,
    pending: Arc<Mutex<Pending>>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    exited: Arc<AtomicBool>,
    pid: u32,
) {
    let reason = loop {
        match protocol::read_event(&mut stdout).await {
            Ok(Some((event, body))) => {
                let id = match &event {
                    Event::Done { id, .. } | Event::Died { id, .. } => *id,
                    _ => continue,
                };
                if let Some(tx) = lock(&pending).calls.remove(&id) {
                    let _ = tx.send(Reply::Event(event, body));
                }
            }
            Ok(None) => break "the worker process exited".to_string(),
            Err(e) => break format!("the worker broke the protocol ({e})"),
        }
    };
    if !exited.load(Ordering::SeqCst) {
        kill(pid); // a worker that broke the protocol cannot be trusted with more tasks
    }
    // Let its last words reach the stderr drain.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let reason = format!("{reason}{}", tail_text(&stderr_tail));
    let calls = {
        let mut p = lock(&pending);
        p.gone = Some(reason.clone());
        std::mem::take(&mut p.calls)
    };
    for (_, tx) in calls {
        let _ = tx.send(Reply::WorkerGone(reason.clone()));
    }
}

async fn drain_stderr(mut stderr: ChildStderr, tail: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = stderr.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let mut t = lock(&tail);
        t.extend_from_slice(&buf[..n]);
        if t.len() > STDERR_TAIL {
            let cut = t.len() - STDERR_TAIL;
            t.drain(..cut);
        }
    }
}

fn tail_text(tail: &Mutex<Vec<u8>>) -> String {
    let t = lock(tail);
    let text = String::from_utf8_lossy(&t);
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!("; its stderr ends with:\n{text}")
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => "exited".into(),
    }
}

fn kill(pid: u32) {
    if pid > 0 {
        // SAFETY: plain syscall on a pid we spawned and have not seen exit.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// Locks a mutex, ignoring poisoning (the data stays consistent: every critical section is a few
/// map operations that cannot panic).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
