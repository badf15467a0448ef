//! `PythonWorker`: the `Executor` that runs tasks in the user's Python through `worker.py`.
//!
//! One warm worker process imports flytekit once and forks a child per attempt (see `worker.py` for
//! the protocol and the module cache). Calls run concurrently and are matched to results by request
//! id. Every wait is bounded by the task's timeout or tied to the death of the process it waits on:
//! a killed child fails its call with `WorkerDied`, a dead worker fails every pending call with
//! `WorkerDied`, and the next call starts a new worker.

mod process;
mod protocol;

use super::executor::{Executor, FailureKind, TaskFailure, TaskLogs, TaskOutcome, TaskRequest, TraceFrame};
use fledge_proto::flyteidl::core::{DynamicJobSpec, LiteralMap};
use fledge_proto::prost::Message;
use process::{Process, Reply};
use protocol::{Event, Kind, Request, Status};
use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The worker's source, written next to fledge's cache at run time (the wheel ships only the binary).
pub const WORKER_PY: &str = include_str!("worker.py");

/// How long a killed attempt may take to be reported before the whole worker is treated as stuck.
const KILL_GRACE: Duration = Duration::from_secs(10);

/// How to start the worker.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The user's interpreter (see `pyenv`).
    pub python: PathBuf,
    /// Folders the project's modules are imported from (the project root first); the worker runs in the first.
    pub roots: Vec<PathBuf>,
    /// Extra environment variables for the worker and its tasks.
    pub env: Vec<(String, String)>,
    /// Bound on the worker's start (interpreter start and flytekit import).
    pub startup_timeout: Duration,
    /// Where `worker.py` is written; `None` = `$XDG_CACHE_HOME/fledge` (or `~/.cache/fledge`).
    pub cache_dir: Option<PathBuf>,
}

impl WorkerConfig {
    /// Defaults for a project rooted at `root`.
    pub fn new(python: PathBuf, root: PathBuf) -> WorkerConfig {
        WorkerConfig {
            python,
            roots: vec![root],
            env: Vec::new(),
            startup_timeout: Duration::from_secs(120),
            cache_dir: None,
        }
    }
}

/// Runs task attempts in the user's Python; see the module docs.
pub struct PythonWorker {
    config: WorkerConfig,
    script: PathBuf,
    /// Per-attempt log files live here; removed on drop.
    log_dir: PathBuf,
    process: tokio::sync::Mutex<Option<Arc<Process>>>,
    /// The running worker, for `invalidate` (which cannot wait for the async lock).
    current: Mutex<Option<Arc<Process>>>,
    next_id: AtomicU64,
}

impl PythonWorker {
    /// Writes `worker.py` to the cache and prepares a log folder; the process starts on first use.
    pub fn new(config: WorkerConfig) -> std::io::Result<PythonWorker> {
        let cache = config.cache_dir.clone().unwrap_or_else(crate::user_cache::dir);
        let script = crate::user_cache::install_script(&cache.join("worker"), "worker", WORKER_PY)?;
        static N: AtomicU64 = AtomicU64::new(0);
        let log_dir = std::env::temp_dir().join(format!(
            "fledge-worker-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&log_dir)?;
        Ok(PythonWorker {
            config,
            script,
            log_dir,
            process: tokio::sync::Mutex::new(None),
            current: Mutex::new(None),
            next_id: AtomicU64::new(1),
        })
    }

    /// Starts the worker now (otherwise the first task does); returns Python's and flytekit's versions.
    pub async fn start(&self) -> Result<(String, String), TaskFailure> {
        let p = self.process().await?;
        Ok((p.python_version.clone(), p.flytekit_version.clone()))
    }

    /// The running worker's process id, if one runs.
    pub fn worker_pid(&self) -> Option<u32> {
        lock(&self.current).as_ref().filter(|p| !p.is_gone()).map(|p| p.pid())
    }

    /// Kills the worker; pending calls fail with `WorkerDied`, the next call starts a new worker.
    pub fn kill_worker(&self) {
        if let Some(p) = lock(&self.current).take() {
            p.kill();
        }
    }

    /// Runs one attempt and returns what it printed.
    pub async fn run(&self, request: TaskRequest) -> (TaskOutcome, TaskLogs) {
        let process = match self.process().await {
            Ok(p) => p,
            Err(failure) => return (TaskOutcome::Failed(failure), TaskLogs::default()),
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let log = self.log_dir.join(format!("{id}.log"));
        let header = Request::Run {
            id,
            module: &request.module,
            task: &request.task,
            raw_output_dir: request.raw_output_dir.to_string_lossy().into_owned(),
            attempt: request.attempt,
            log: log.to_string_lossy().into_owned(),
        };
        let body = request.inputs.encode_to_vec();
        let mut rx = process.submit(id, &header, &body);
        // If the caller stops waiting (watch mode cancels a run), the attempt is killed.
        let mut inflight = Inflight { process: &process, id, log: &log, done: false };
        let reply = match request.timeout {
            None => rx.await.ok(),
            Some(limit) => match tokio::time::timeout(limit, &mut rx).await {
                Ok(r) => r.ok(),
                Err(_) => {
                    process.send(&Request::Kill { id });
                    if tokio::time::timeout(KILL_GRACE, rx).await.is_err() {
                        process.forget(id);
                        process.kill(); // it did not answer a kill in time: do not trust it with more
                    }
                    inflight.done = true;
                    let outcome = TaskOutcome::Failed(TaskFailure {
                        kind: FailureKind::Timeout,
                        message: format!("the task ran past its timeout of {} and was killed", human(limit)),
                        traceback: Vec::new(),
                        recoverable: true,
                    });
                    return (outcome, take_log(&log));
                }
            },
        };
        inflight.done = true;
        let outcome = match reply {
            Some(Reply::Event(event, body)) => outcome_of(event, &body, &self.config.roots),
            Some(Reply::WorkerGone(reason)) => died(format!("the worker died while running the task: {reason}")),
            None => died("the worker dropped the task".into()),
        };
        (outcome, take_log(&log))
    }

    /// The running worker, started if there is none or the last one died.
    async fn process(&self) -> Result<Arc<Process>, TaskFailure> {
        let mut slot = self.process.lock().await;
        if let Some(p) = slot.as_ref() {
            if !p.is_gone() {
                return Ok(p.clone());
            }
        }
        *slot = None;
        let cwd = self.config.roots.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        let started = Process::start(
            &self.config.python,
            &self.script,
            &self.config.roots,
            &cwd,
            &self.config.env,
            self.config.startup_timeout,
        )
        .await;
        match started {
            Ok(p) => {
                let p = Arc::new(p);
                *slot = Some(p.clone());
                *lock(&self.current) = Some(p.clone());
                Ok(p)
            }
            Err(e) => Err(TaskFailure {
                kind: FailureKind::System,
                message: format!("the Python worker could not start: {}", e.message),
                traceback: frames(e.traceback, &self.config.roots),
                recoverable: false,
            }),
        }
    }
}

/// An attempt whose result has not arrived yet; dropping it kills the attempt.
struct Inflight<'a> {
    process: &'a Process,
    id: u64,
    log: &'a Path,
    done: bool,
}

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.process.send(&Request::Kill { id: self.id });
            self.process.forget(self.id);
            let _ = std::fs::remove_file(self.log);
        }
    }
}

impl Executor for PythonWorker {
    fn run_task(&self, request: TaskRequest) -> Pin<Box<dyn Future<Output = TaskOutcome> + Send + '_>> {
        Box::pin(async move { self.run(request).await.0 })
    }

    fn run_task_captured(
        &self,
        request: TaskRequest,
    ) -> Pin<Box<dyn Future<Output = (TaskOutcome, TaskLogs)> + Send + '_>> {
        Box::pin(self.run(request))
    }

    fn invalidate(&self, changed_modules: &[String]) {
        if let Some(p) = lock(&self.current).as_ref() {
            p.send(&Request::Invalidate { modules: changed_modules });
        }
    }
}

impl Drop for PythonWorker {
    fn drop(&mut self) {
        self.kill_worker();
        let _ = std::fs::remove_dir_all(&self.log_dir);
    }
}

fn outcome_of(event: Event, body: &[u8], roots: &[PathBuf]) -> TaskOutcome {
    match event {
        Event::Done { status: Status::Ok, .. } => match LiteralMap::decode(body) {
            Ok(map) => TaskOutcome::Succeeded(map),
            Err(e) => system(format!("the worker sent outputs that are not a LiteralMap: {e}")),
        },
        Event::Done { status: Status::Dynamic, .. } => match DynamicJobSpec::decode(body) {
            Ok(spec) => TaskOutcome::Dynamic(Box::new(spec)),
            Err(e) => system(format!("the worker sent a dynamic spec that does not decode: {e}")),
        },
        Event::Done { status: Status::Failed, kind, message, traceback, recoverable, .. } => {
            TaskOutcome::Failed(TaskFailure {
                kind: if kind == Some(Kind::User) { FailureKind::User } else { FailureKind::System },
                message,
                traceback: frames(traceback, roots),
                recoverable,
            })
        }
        Event::Died { detail, .. } => died(format!("the task's process {detail}")),
        other => system(format!("unexpected reply from the worker: {other:?}")),
    }
}

fn died(message: String) -> TaskOutcome {
    // Flyte retries a pod that crashed or was killed (OOM, eviction) as a recoverable failure.
    TaskOutcome::Failed(TaskFailure {
        kind: FailureKind::WorkerDied,
        message,
        traceback: Vec::new(),
        recoverable: true,
    })
}

fn system(message: String) -> TaskOutcome {
    TaskOutcome::Failed(TaskFailure { kind: FailureKind::System, message, traceback: Vec::new(), recoverable: false })
}

/// Frames with paths as the user knows them: relative to the project root when inside it.
fn frames(raw: Vec<protocol::Frame>, roots: &[PathBuf]) -> Vec<TraceFrame> {
    let canonical: Vec<PathBuf> = roots.iter().map(|r| r.canonicalize().unwrap_or_else(|_| r.clone())).collect();
    let base = canonical.first();
    raw.into_iter()
        .map(|f| {
            let path = PathBuf::from(&f.file);
            let file = match base.and_then(|b| path.strip_prefix(b).ok()) {
                Some(rel) => rel.to_path_buf(),
                None => path,
            };
            TraceFrame { file, line: f.line, function: f.function }
        })
        .collect()
}

/// Reads (the tail of) an attempt's log file and removes it.
fn take_log(path: &Path) -> TaskLogs {
    let mut logs = TaskLogs::default();
    if let Ok(mut f) = std::fs::File::open(path) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len > TaskLogs::MAX_BYTES {
            logs.truncated = true;
            let _ = f.seek(SeekFrom::Start(len - TaskLogs::MAX_BYTES));
        }
        let mut bytes = Vec::new();
        let _ = f.take(TaskLogs::MAX_BYTES).read_to_end(&mut bytes);
        logs.output = String::from_utf8_lossy(&bytes).into_owned();
    }
    let _ = std::fs::remove_file(path);
    logs
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
