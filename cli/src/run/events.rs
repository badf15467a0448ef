//! What a run reports as it goes: one event per node start and finish, for the terminal view and for
//! `--format jsonl` (one JSON object per line, for editors and tests).

use serde::Serialize;
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Succeeded,
    Cached,
    Failed,
    /// Not run: an upstream node failed, or a branch chose another case.
    Skipped,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        workflow: String,
        run: u64,
    },
    NodeStarted {
        node: String,
        task: String,
        attempt: u32,
    },
    NodeFinished {
        node: String,
        task: String,
        status: Status,
        duration_ms: u64,
        /// Why the node ran, or why it was cached or skipped (`--explain`).
        reason: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// `fledge watch`: the project has errors (or the inputs no longer fit), so nothing ran.
    CheckFailed {
        errors: Vec<String>,
    },
    RunFinished {
        workflow: String,
        status: Status,
        duration_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        outputs: Option<serde_json::Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
}

/// Where events go.
pub trait Sink: Send + Sync {
    fn emit(&self, e: &Event);
}

/// `--format jsonl`: one line per event on stdout, flushed at once.
pub struct Jsonl;

impl Sink for Jsonl {
    fn emit(&self, e: &Event) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", serde_json::to_string(e).unwrap_or_default());
        let _ = out.flush();
    }
}

/// Keeps every event (tests).
#[cfg(test)]
#[derive(Default)]
pub struct Collect(pub std::sync::Mutex<Vec<Event>>);

#[cfg(test)]
impl Sink for Collect {
    fn emit(&self, e: &Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e.clone());
        }
    }
}
