//! What a run reports as it goes: one event per node start and finish, for the terminal view and for
//! `--format jsonl` (one JSON object per line, for editors and tests).

use serde::Serialize;
use std::io::Write;
use std::sync::Mutex;

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

/// Keeps every event (tests, and the watch loop's summary).
#[derive(Default)]
pub struct Collect(pub Mutex<Vec<Event>>);

impl Sink for Collect {
    fn emit(&self, e: &Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e.clone());
        }
    }
}

/// Sends every event to several sinks.
pub struct Tee(pub Vec<std::sync::Arc<dyn Sink>>);

impl Sink for Tee {
    fn emit(&self, e: &Event) {
        for s in &self.0 {
            s.emit(e);
        }
    }
}
