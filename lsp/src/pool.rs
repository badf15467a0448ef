//! Read-only requests run on a small pool of threads, each on the snapshot current when the
//! request arrived. A request cancelled while it waits in the queue is answered with
//! `RequestCanceled`; one already running finishes.

use crate::handlers;
use crate::snapshot::Snapshot;
use crossbeam_channel::{unbounded, Sender};
use lsp_server::{ErrorCode, Message, Request, RequestId, Response};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

struct Job {
    req: Request,
    snap: Arc<Snapshot>,
    cancelled: Arc<AtomicBool>,
}

type Pending = Arc<Mutex<HashMap<RequestId, Arc<AtomicBool>>>>;

pub struct Pool {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    pending: Pending,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Pool {
    pub fn new(threads: usize, out: Sender<Message>) -> Pool {
        let (tx, rx) = unbounded::<Job>();
        let pending: Pending = Arc::default();
        let workers = (0..threads.max(1))
            .map(|i| {
                let rx = rx.clone();
                let out = out.clone();
                let pending = pending.clone();
                std::thread::Builder::new()
                    .name(format!("fledge-lsp-worker-{i}"))
                    .stack_size(64 << 20)
                    .spawn(move || {
                        for job in rx {
                            let id = job.req.id.clone();
                            let resp = if job.cancelled.load(Ordering::SeqCst) {
                                Response::new_err(id.clone(), ErrorCode::RequestCanceled as i32, "cancelled".into())
                            } else {
                                run(&job.snap, &job.req)
                            };
                            lock(&pending).remove(&id);
                            if out.send(Message::Response(resp)).is_err() {
                                break;
                            }
                        }
                    })
                    .expect("spawn a worker thread")
            })
            .collect();
        Pool { jobs: Some(tx), workers, pending }
    }

    pub fn submit(&self, req: Request, snap: Arc<Snapshot>) {
        let cancelled = Arc::new(AtomicBool::new(false));
        lock(&self.pending).insert(req.id.clone(), cancelled.clone());
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job { req, snap, cancelled });
        }
    }

    pub fn cancel(&self, id: &RequestId) {
        if let Some(flag) = lock(&self.pending).get(id) {
            flag.store(true, Ordering::SeqCst);
        }
    }

    /// Finish queued jobs and stop the threads.
    pub fn join(mut self) {
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

/// Answer one request; a panic becomes an `InternalError` response.
pub fn run(snap: &Snapshot, req: &Request) -> Response {
    guarded(req, || handlers::handle(snap, req))
}

/// Run a handler, turning a panic into an `InternalError` response.
pub fn guarded(req: &Request, f: impl FnOnce() -> Result<serde_json::Value, lsp_server::ResponseError>) -> Response {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Response::new_ok(req.id.clone(), v),
        Ok(Err(e)) => Response { id: req.id.clone(), result: None, error: Some(e) },
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            eprintln!("fledge-lsp: internal error in {}: {what}", req.method);
            Response::new_err(
                req.id.clone(),
                ErrorCode::InternalError as i32,
                format!("internal error in {}: {what}", req.method),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_handler_becomes_an_internal_error() {
        let req = Request::new(RequestId::from(7), "textDocument/hover".into(), serde_json::Value::Null);
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = guarded(&req, || panic!("boom"));
        std::panic::set_hook(prev);
        let e = r.error.unwrap();
        assert_eq!(e.code, ErrorCode::InternalError as i32);
        assert!(e.message.contains("boom"));
    }
}
