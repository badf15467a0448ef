//! `fledge run` / `fledge watch`: local execution of a workflow, node by node, against cached results.
//!
//! The DAG comes from the core's static analysis (`plan`); user code runs in the user's Python through a
//! warm worker (see `executor`) that takes and returns flyteidl `LiteralMap`s, so a local run means what
//! a remote run means. `scheduler` runs the plan, `cache` keeps results by task fingerprint and inputs,
//! `events` reports progress, `literals` converts values, `command` is the CLI front.

pub mod cache;
pub mod command;
pub mod events;
// Parts of the contract (failure kinds, dynamic specs, captured logs) are for the worker and later use.
#[allow(dead_code)]
pub mod executor;
pub mod fingerprint;
pub mod literals;
pub mod plan;
pub mod pyenv;
pub mod scheduler;
pub mod watch;
// Some of the worker's API (start, pid) is for its own tests and later use.
#[allow(dead_code)]
pub mod worker;

use executor::Executor;
use std::path::Path;
use std::sync::Arc;

/// The executor `fledge run` uses: the warm Python worker (`worker`) in the user's interpreter.
pub fn executor_for(root: &Path, python: &Path) -> Result<Arc<dyn Executor>, String> {
    let config = worker::WorkerConfig::new(python.to_path_buf(), root.to_path_buf());
    let w = worker::PythonWorker::new(config).map_err(|e| format!("cannot prepare the Python worker: {e}"))?;
    Ok(Arc::new(w))
}
