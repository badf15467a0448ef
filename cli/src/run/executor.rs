//! The contract between the orchestrator and whatever executes one task: inputs and outputs are
//! flyteidl `LiteralMap`s, failures carry the user's traceback.

use fledge_proto::flyteidl::core::{DynamicJobSpec, LiteralMap};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// One execution of one task (one attempt).
#[derive(Clone, Debug)]
pub struct TaskRequest {
    /// Dotted module name importable from the project root, e.g. `shop.workflows`.
    pub module: String,
    /// The task's attribute name in that module (what flytekit's default resolver loads).
    pub task: String,
    pub inputs: LiteralMap,
    /// Flyte's per-attempt timeout (`@task(timeout=...)`); the executor kills the attempt after it.
    pub timeout: Option<Duration>,
    /// Where flytekit writes offloaded values (files, directories, dataframes) of this attempt.
    pub raw_output_dir: PathBuf,
    /// 0 for the first attempt.
    pub attempt: u32,
}

/// What one attempt produced.
#[derive(Clone, Debug)]
pub enum TaskOutcome {
    Succeeded(LiteralMap),
    /// A `@dynamic` task returned the sub-workflow it built; the orchestrator runs it node by node.
    Dynamic(Box<DynamicJobSpec>),
    Failed(TaskFailure),
}

/// Why an attempt failed, as Flyte would classify it.
#[derive(Clone, Debug)]
pub struct TaskFailure {
    pub kind: FailureKind,
    /// One line, e.g. `ValueError: negative price`.
    pub message: String,
    /// The user's frames (innermost last), mapped to project files where possible.
    pub traceback: Vec<TraceFrame>,
    /// Flyte retries only recoverable failures (within the task's `retries` budget).
    pub recoverable: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The task's own code raised.
    User,
    /// The attempt ran past the task's timeout and was killed.
    Timeout,
    /// The worker process died (killed, segfault, out of memory).
    WorkerDied,
    /// fledge or flytekit could not run the task at all (import error, bad inputs, ...).
    System,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceFrame {
    pub file: PathBuf,
    pub line: u32,
    pub function: String,
}

/// Runs task attempts. Implemented by the Python worker pool; tests may use a fake.
pub trait Executor: Send + Sync + 'static {
    /// Runs one attempt. Never panics on user errors: every failure is a `TaskOutcome::Failed`.
    fn run_task(&self, request: TaskRequest) -> Pin<Box<dyn Future<Output = TaskOutcome> + Send + '_>>;

    /// Tells the executor that these project modules changed on disk, so the next tasks see the new code.
    fn invalidate(&self, changed_modules: &[String]);

    /// Like `run_task`, also returning what the attempt printed. The default captures nothing.
    fn run_task_captured(
        &self,
        request: TaskRequest,
    ) -> Pin<Box<dyn Future<Output = (TaskOutcome, TaskLogs)> + Send + '_>> {
        Box::pin(async move { (self.run_task(request).await, TaskLogs::default()) })
    }
}

/// What one attempt wrote to its stdout and stderr, interleaved in the order written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskLogs {
    /// Decoded lossily as UTF-8; only the last `TaskLogs::MAX_BYTES` bytes are kept.
    pub output: String,
    /// Whether the beginning of the output was cut.
    pub truncated: bool,
}

impl TaskLogs {
    /// The most output kept per attempt.
    pub const MAX_BYTES: u64 = 1 << 20;
}
