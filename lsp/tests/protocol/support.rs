//! An in-process LSP client for protocol tests: a temporary project on disk, the server on a
//! `Connection::memory()`, and helpers that wait for responses and published diagnostics
//! (answering the server's own requests on the way).

use crossbeam_channel::RecvTimeoutError;
use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::{PublishDiagnosticsParams, Url};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A folder under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "fledge-lsp-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p.canonicalize().unwrap())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Client {
    pub conn: Connection,
    server: Option<JoinHandle<i32>>,
    next_id: i32,
    /// Notifications received and not consumed yet, in order.
    pub notifications: Vec<Notification>,
    /// Requests the server sent us, in order.
    pub server_requests: Vec<Request>,
    /// Every notification received, in order (never consumed).
    pub log: Vec<Notification>,
    /// Answer to `workspace/configuration`.
    pub configuration: Value,
    pub dir: TempDir,
    pub versions: std::collections::HashMap<Url, i32>,
    /// Responses that arrived while waiting for another one.
    responses: std::collections::HashMap<RequestId, Response>,
}

/// A small flytekit project: `pkg/tasks.py` and `pkg/flows.py`, plus extra files.
pub const TASKS: &str = r#"from typing import List

from flytekit import task


@task(retries=2)
def total(orders: List[int], rate: float = 1.5) -> int:
    """Sum the orders."""
    return int(sum(orders) * rate)


@task
def label(n: int, prefix: str) -> str:
    return f"{prefix}{n}"
"#;

pub const FLOWS: &str = r#"from typing import List

from flytekit import workflow

from pkg.tasks import label, total


@workflow
def report(xs: List[int]) -> str:
    t = total(orders=xs)
    return label(n=t, prefix="total: ")
"#;

impl Client {
    /// Write `files` (plus a pyproject.toml) and start an initialized server on them.
    pub fn start(files: &[(&str, &str)]) -> Client {
        Client::start_with(files, json!({}), json!({}))
    }

    /// Files without a pyproject.toml, and no root folder given to the server.
    pub fn start_loose(files: &[(&str, &str)]) -> Client {
        let dir = TempDir::new();
        write_files(&dir, files);
        let mut c = Client::connect(dir);
        let r = c.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": {}}));
        assert!(r.error.is_none());
        c.notify("initialized", json!({}));
        c
    }

    pub fn start_with(files: &[(&str, &str)], init_options: Value, capabilities: Value) -> Client {
        let dir = TempDir::new();
        std::fs::write(dir.0.join("pyproject.toml"), "[project]\nname = \"pkg\"\n").unwrap();
        write_files(&dir, files);
        let mut c = Client::connect(dir);
        let root = Url::from_file_path(&c.dir.0).unwrap();
        let mut caps = json!({
            "window": {"workDoneProgress": true},
            "workspace": {"configuration": true, "didChangeWatchedFiles": {"dynamicRegistration": true}},
            "textDocument": {"publishDiagnostics": {"relatedInformation": true, "versionSupport": true}}
        });
        merge(&mut caps, capabilities);
        let r = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root,
                "capabilities": caps,
                "initializationOptions": init_options,
            }),
        );
        assert!(r.error.is_none(), "initialize failed: {:?}", r.error);
        c.notify("initialized", json!({}));
        c
    }

    /// A server on a memory connection, not initialized.
    pub fn connect(dir: TempDir) -> Client {
        let (server_conn, client_conn) = Connection::memory();
        let server = std::thread::Builder::new()
            .name("fledge-lsp-under-test".into())
            .stack_size(64 << 20)
            .spawn(move || fledge_lsp::run_server(server_conn))
            .unwrap();
        Client {
            conn: client_conn,
            server: Some(server),
            next_id: 0,
            notifications: Vec::new(),
            server_requests: Vec::new(),
            log: Vec::new(),
            configuration: Value::Null,
            dir,
            versions: Default::default(),
            responses: Default::default(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.0.join(rel)
    }

    pub fn uri(&self, rel: &str) -> Url {
        Url::from_file_path(self.path(rel)).unwrap()
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.conn.sender.send(Message::Notification(Notification::new(method.into(), params))).unwrap();
    }

    /// Send a request without waiting; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> RequestId {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.conn.sender.send(Message::Request(Request::new(id.clone(), method.into(), params))).unwrap();
        id
    }

    pub fn request(&mut self, method: &str, params: Value) -> Response {
        let id = self.send_request(method, params);
        self.response(&id)
    }

    /// The result of a request that must succeed.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        assert!(r.error.is_none(), "{method} failed: {:?}", r.error);
        r.result.unwrap_or(Value::Null)
    }

    /// Wait for the response to `id`.
    pub fn response(&mut self, id: &RequestId) -> Response {
        if let Some(r) = self.responses.remove(id) {
            return r;
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.recv(deadline) {
                Some(Message::Response(r)) if &r.id == id => return r,
                Some(Message::Response(r)) => {
                    self.responses.insert(r.id.clone(), r);
                }
                Some(_) => {}
                None => panic!("no response to request {id} within {TIMEOUT:?}"),
            }
        }
    }

    /// Receive one message (answering server requests, buffering notifications).
    fn recv(&mut self, deadline: Instant) -> Option<Message> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.conn.receiver.recv_timeout(left) {
            Ok(Message::Request(req)) => {
                let result = match req.method.as_str() {
                    "workspace/configuration" => json!([self.configuration.clone()]),
                    _ => Value::Null,
                };
                self.conn.sender.send(Message::Response(Response::new_ok(req.id.clone(), result))).unwrap();
                self.server_requests.push(req.clone());
                Some(Message::Request(req))
            }
            Ok(Message::Notification(n)) => {
                self.notifications.push(n.clone());
                self.log.push(n.clone());
                Some(Message::Notification(n))
            }
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Wait for a publishDiagnostics for `uri` that satisfies `pred` (buffered ones count, and
    /// are consumed up to the match).
    pub fn wait_diagnostics(
        &mut self,
        uri: &Url,
        pred: impl Fn(&PublishDiagnosticsParams) -> bool,
    ) -> PublishDiagnosticsParams {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self.notifications.iter().position(|n| {
                n.method == "textDocument/publishDiagnostics"
                    && serde_json::from_value::<PublishDiagnosticsParams>(n.params.clone())
                        .is_ok_and(|p| &p.uri == uri && pred(&p))
            }) {
                let n = self.notifications.drain(..=i).next_back().unwrap();
                return serde_json::from_value(n.params).unwrap();
            }
            if self.recv(deadline).is_none() {
                let seen: Vec<String> = self
                    .notifications
                    .iter()
                    .filter(|n| n.method == "textDocument/publishDiagnostics")
                    .map(|n| n.params.to_string())
                    .collect();
                panic!("no matching diagnostics for {uri} within {TIMEOUT:?}; seen: {seen:#?}");
            }
        }
    }

    /// Collect messages for `d` (for checking what did *not* arrive).
    pub fn drain_for(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            if self.recv(deadline).is_none() {
                break;
            }
        }
    }

    /// The last published diagnostics for `uri` among buffered notifications.
    pub fn last_published(&self, uri: &Url) -> Option<PublishDiagnosticsParams> {
        self.notifications
            .iter()
            .filter(|n| n.method == "textDocument/publishDiagnostics")
            .filter_map(|n| serde_json::from_value::<PublishDiagnosticsParams>(n.params.clone()).ok())
            .rfind(|p| &p.uri == uri)
    }

    pub fn open(&mut self, rel: &str) -> Url {
        let uri = self.uri(rel);
        let text = std::fs::read_to_string(self.path(rel)).unwrap();
        self.open_text(&uri, &text);
        uri
    }

    pub fn open_text(&mut self, uri: &Url, text: &str) {
        self.versions.insert(uri.clone(), 1);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}),
        );
    }

    /// Replace the range (0-based lines/UTF-16 columns) with `text`.
    pub fn edit(&mut self, uri: &Url, (l1, c1): (u32, u32), (l2, c2): (u32, u32), text: &str) -> i32 {
        let v = self.versions.entry(uri.clone()).or_insert(1);
        *v += 1;
        let v = *v;
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": v},
                "contentChanges": [{"range": {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}, "text": text}]
            }),
        );
        v
    }

    /// Replace the whole text.
    pub fn replace_all(&mut self, uri: &Url, text: &str) -> i32 {
        let v = self.versions.entry(uri.clone()).or_insert(1);
        *v += 1;
        let v = *v;
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": text}]}),
        );
        v
    }

    /// `shutdown` + `exit`; the server's exit code.
    pub fn shutdown(mut self) -> i32 {
        let r = self.request("shutdown", Value::Null);
        assert!(r.error.is_none());
        self.notify("exit", Value::Null);
        self.join()
    }

    /// Wait for the server thread to end; its exit code.
    pub fn join(mut self) -> i32 {
        let h = self.server.take().unwrap();
        let deadline = Instant::now() + TIMEOUT;
        while !h.is_finished() {
            assert!(Instant::now() < deadline, "the server did not exit");
            // Keep draining so the server never blocks on a full channel.
            let _ = self.conn.receiver.recv_timeout(Duration::from_millis(5));
        }
        h.join().unwrap()
    }
}

/// Position (line, UTF-16 column) of the first occurrence of `needle` in `text`, plus `delta` chars.
pub fn pos(text: &str, needle: &str, delta: usize) -> Value {
    let off = text.find(needle).unwrap_or_else(|| panic!("`{needle}` not in text")) + delta;
    let before = &text[..off];
    let line = before.matches('\n').count();
    let col: usize = before.rsplit('\n').next().unwrap().chars().map(char::len_utf16).sum();
    json!({"line": line, "character": col})
}

pub fn line_col(text: &str, needle: &str, delta: usize) -> (u32, u32) {
    let p = pos(text, needle, delta);
    (p["line"].as_u64().unwrap() as u32, p["character"].as_u64().unwrap() as u32)
}

pub fn td_pos(uri: &Url, text: &str, needle: &str, delta: usize) -> Value {
    json!({"textDocument": {"uri": uri}, "position": pos(text, needle, delta)})
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

pub fn codes(p: &PublishDiagnosticsParams) -> Vec<String> {
    p.diagnostics
        .iter()
        .map(|d| match &d.code {
            Some(lsp_types::NumberOrString::String(s)) => s.clone(),
            _ => String::new(),
        })
        .collect()
}

fn write_files(dir: &TempDir, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}
