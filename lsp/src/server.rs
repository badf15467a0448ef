//! The main loop: one thread applies every notification in order to the projects'
//! `Workspace`s, re-analyzes after a short quiet period (debounce), publishes diagnostics, and
//! hands requests to the worker pool with the current immutable [`Snapshot`].

use crate::conv::{self, TextLines};
use crate::handlers;
use crate::pool::Pool;
use crate::settings::EditorSettings;
use crate::snapshot::{OpenDoc, ProjectSnap, Snapshot};
use crossbeam_channel::{select, Receiver, Sender};
use fledge_core::line_index::LineIndex;
use fledge_core::project::{discover, Config};
use fledge_core::{Diagnostic, Severity, Workspace};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lt;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Quiet time after a change made outside the editor (watched files, closing a file).
const DEBOUNCE: Duration = Duration::from_millis(50);
/// After an edit, analysis starts as soon as no other message is waiting: a burst of edits is
/// applied together, a single edit is analyzed at once (incrementally, in about a millisecond).
const EDIT_DELAY: Duration = Duration::ZERO;
/// Quiet time after opening documents (editors open several at once).
const OPEN_BATCH: Duration = Duration::from_millis(10);
/// Longest a stream of changes can hold diagnostics back.
const MAX_DELAY: Duration = Duration::from_millis(400);
/// Files opened in the editor larger than this are not analyzed.
const MAX_OPEN_BYTES: usize = discover::MAX_FILE_BYTES as usize;
const ROOT_MARKERS: &[&str] = &["pyproject.toml", "setup.py", "setup.cfg", ".git"];
/// Most files loaded from one package of a folder without project markers.
const MAX_LOOSE_FILES: usize = 2000;

struct Doc {
    uri: lt::Url,
    version: i32,
    text: String,
}

/// One project (a folder with pyproject.toml, setup.py/cfg or .git) and its analysis.
struct Project {
    root: PathBuf,
    ws: Workspace,
    /// `[tool.fledge]` as read from pyproject.toml (before editor settings).
    base_config: Config,
    /// Open files whose editor text has not been given to `ws` yet.
    pending: BTreeSet<PathBuf>,
    dirty: bool,
    /// The last full analysis, and the workspace revision it analyzed.
    snap: Option<Arc<ProjectSnap>>,
    snap_revision: u64,
    /// The partial analysis of the files edited since `snap`, at the current revision.
    overlay: Option<Arc<ProjectSnap>>,
    /// A full analysis is running on a background thread.
    analyzing: bool,
    /// Hash of what was last published per file (files with diagnostics, or open ones), with the
    /// document version it was published for.
    published: HashMap<PathBuf, (u64, Option<i32>)>,
    /// For a folder without project markers: the packages loaded so far.
    loose_packages: BTreeSet<PathBuf>,
}

#[derive(Default)]
struct ClientCaps {
    work_done_progress: bool,
    configuration: bool,
    watch_files_dynamic: bool,
}

enum Outgoing {
    Configuration,
    Ignore,
}

pub struct Server {
    sender: Sender<Message>,
    receiver: Receiver<Message>,
    projects: Vec<Project>,
    docs: HashMap<PathBuf, Doc>,
    uris: HashMap<lt::Url, PathBuf>,
    settings: EditorSettings,
    caps: ClientCaps,
    client_root: Option<PathBuf>,
    /// folder -> project root (nearest folder with a marker), for files' ownership.
    owners: HashMap<PathBuf, PathBuf>,
    snapshot: Arc<Snapshot>,
    pool: Pool,
    initialized: bool,
    shutdown: bool,
    deadline: Option<Instant>,
    first_change: Option<Instant>,
    next_id: i32,
    outgoing: HashMap<RequestId, Outgoing>,
    /// Full analyses finished on background threads.
    analyzed_tx: Sender<FullAnalysis>,
    analyzed_rx: Receiver<FullAnalysis>,
}

/// A full analysis of one project's workspace at one revision, made off the main loop.
struct FullAnalysis {
    root: PathBuf,
    revision: u64,
    analysis: Option<fledge_core::Analysis>,
}

/// Run the server on `conn` until `exit`; returns the process exit code (0 after `shutdown`).
pub fn run(conn: Connection) -> i32 {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(2, 4);
    let pool = Pool::new(threads, conn.sender.clone());
    let (analyzed_tx, analyzed_rx) = crossbeam_channel::unbounded();
    let mut s = Server {
        sender: conn.sender.clone(),
        receiver: conn.receiver.clone(),
        projects: Vec::new(),
        docs: HashMap::new(),
        uris: HashMap::new(),
        settings: EditorSettings::default(),
        caps: ClientCaps::default(),
        client_root: None,
        owners: HashMap::new(),
        snapshot: Arc::new(Snapshot::default()),
        pool,
        initialized: false,
        shutdown: false,
        deadline: None,
        first_change: None,
        next_id: 0,
        outgoing: HashMap::new(),
        analyzed_tx,
        analyzed_rx,
    };
    let code = s.main_loop();
    let Server { pool, .. } = s;
    pool.join();
    code
}

impl Server {
    fn main_loop(&mut self) -> i32 {
        loop {
            let msg = match self.deadline {
                Some(d) => {
                    let now = Instant::now();
                    if self.first_change.is_some_and(|f| now >= f + MAX_DELAY) {
                        self.safe_flush();
                        continue;
                    }
                    // Messages already waiting go first (a burst of edits is analyzed once).
                    select! {
                        recv(self.receiver) -> m => m,
                        recv(self.analyzed_rx) -> a => {
                            if let Ok(a) = a { self.on_full_analysis(a) }
                            continue;
                        }
                        default(d.saturating_duration_since(now)) => {
                            self.safe_flush();
                            continue;
                        }
                    }
                }
                None => select! {
                    recv(self.receiver) -> m => m,
                    recv(self.analyzed_rx) -> a => {
                        if let Ok(a) = a { self.on_full_analysis(a) }
                        continue;
                    }
                },
            };
            let Ok(msg) = msg else {
                // The client went away without `exit`.
                return if self.shutdown { 0 } else { 1 };
            };
            match msg {
                Message::Request(req) => self.on_request(req),
                Message::Notification(n) => {
                    if n.method == "exit" {
                        return if self.shutdown { 0 } else { 1 };
                    }
                    let method = n.method.clone();
                    if let Err(p) = catch_unwind(AssertUnwindSafe(|| self.on_notification(n))) {
                        let what = p
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned());
                        self.log(
                            lt::MessageType::ERROR,
                            format!("internal error handling {method}: {}", what.unwrap_or_default()),
                        );
                    }
                }
                Message::Response(r) => self.on_response(r),
            }
        }
    }

    fn send(&self, m: impl Into<Message>) {
        let _ = self.sender.send(m.into());
    }

    fn notify(&self, method: &str, params: impl serde::Serialize) {
        self.send(Notification::new(method.to_string(), params));
    }

    fn request(&mut self, method: &str, params: impl serde::Serialize, what: Outgoing) {
        self.next_id += 1;
        let id = RequestId::from(format!("fledge-{}", self.next_id));
        self.outgoing.insert(id.clone(), what);
        self.send(Request::new(id, method.to_string(), params));
    }

    fn log(&self, typ: lt::MessageType, message: String) {
        eprintln!("fledge-lsp: {message}");
        self.notify("window/logMessage", lt::LogMessageParams { typ, message });
    }

    fn reply_err(&self, id: RequestId, code: ErrorCode, message: impl Into<String>) {
        self.send(Response::new_err(id, code as i32, message.into()));
    }

    // ---- requests ----

    fn on_request(&mut self, req: Request) {
        if req.method == "initialize" {
            if self.initialized {
                return self.reply_err(req.id, ErrorCode::InvalidRequest, "initialize was already received");
            }
            return self.initialize(req);
        }
        if !self.initialized {
            return self.reply_err(req.id, ErrorCode::ServerNotInitialized, "the server is not initialized yet");
        }
        if self.shutdown {
            return self.reply_err(req.id, ErrorCode::InvalidRequest, "the server is shutting down");
        }
        if req.method == "shutdown" {
            self.shutdown = true;
            return self.send(Response::new_ok(req.id, Value::Null));
        }
        if !handlers::METHODS.contains(&req.method.as_str()) {
            return self.reply_err(req.id, ErrorCode::MethodNotFound, format!("unknown method {}", req.method));
        }
        // Requests see the text as of now: analyze pending changes first.
        if self.deadline.is_some() {
            self.safe_flush();
        }
        self.pool.submit(req, self.snapshot.clone());
    }

    fn initialize(&mut self, req: Request) {
        let params: lt::InitializeParams = match serde_json::from_value(req.params.clone()) {
            Ok(p) => p,
            Err(e) => {
                return self.reply_err(req.id, ErrorCode::InvalidParams, format!("invalid initialize params: {e}"))
            }
        };
        let caps = &params.capabilities;
        self.caps.work_done_progress = caps.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false);
        self.caps.configuration = caps.workspace.as_ref().and_then(|w| w.configuration).unwrap_or(false);
        self.caps.watch_files_dynamic = caps
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        #[allow(deprecated)]
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|f| f.first())
            .and_then(|f| conv::uri_to_path(&f.uri))
            .or_else(|| params.root_uri.as_ref().and_then(conv::uri_to_path))
            .or_else(|| params.root_path.as_ref().map(|p| conv::canonical(PathBuf::from(p))));
        self.client_root = root;
        if let Some(opts) = &params.initialization_options {
            self.apply_settings(opts, false);
        }
        let capabilities = lt::ServerCapabilities {
            position_encoding: Some(lt::PositionEncodingKind::UTF16),
            text_document_sync: Some(lt::TextDocumentSyncCapability::Options(lt::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lt::TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(lt::TextDocumentSyncSaveOptions::Supported(true)),
            })),
            completion_provider: Some(lt::CompletionOptions {
                trigger_characters: Some(vec!["(".into(), ",".into(), ".".into(), "=".into()]),
                ..Default::default()
            }),
            hover_provider: Some(lt::HoverProviderCapability::Simple(true)),
            definition_provider: Some(lt::OneOf::Left(true)),
            references_provider: Some(lt::OneOf::Left(true)),
            document_symbol_provider: Some(lt::OneOf::Left(true)),
            workspace_symbol_provider: Some(lt::OneOf::Left(true)),
            rename_provider: Some(lt::OneOf::Right(lt::RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })),
            code_action_provider: Some(lt::CodeActionProviderCapability::Options(lt::CodeActionOptions {
                code_action_kinds: Some(vec![lt::CodeActionKind::QUICKFIX]),
                ..Default::default()
            })),
            inlay_hint_provider: Some(lt::OneOf::Left(true)),
            code_lens_provider: Some(lt::CodeLensOptions { resolve_provider: Some(false) }),
            experimental: Some(json!({"fledgeGraph": true})),
            ..Default::default()
        };
        let result = lt::InitializeResult {
            capabilities,
            server_info: Some(lt::ServerInfo {
                name: "fledge".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        };
        self.initialized = true;
        self.send(Response::new_ok(req.id, result));
    }

    fn on_response(&mut self, r: Response) {
        match self.outgoing.remove(&r.id) {
            Some(Outgoing::Configuration) => {
                if let Some(Value::Array(items)) = r.result {
                    if let Some(v) = items.first().filter(|v| !v.is_null()) {
                        self.apply_settings(&v.clone(), true);
                    }
                }
            }
            Some(Outgoing::Ignore) | None => {}
        }
    }

    // ---- notifications ----

    fn on_notification(&mut self, n: Notification) {
        if !self.initialized {
            return;
        }
        match n.method.as_str() {
            "initialized" => self.on_initialized(),
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<lt::DidOpenTextDocumentParams>(n.params) {
                    self.did_open(p);
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeTextDocumentParams>(n.params) {
                    self.did_change(p);
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<lt::DidCloseTextDocumentParams>(n.params) {
                    self.did_close(p);
                }
            }
            "workspace/didChangeWatchedFiles" => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeWatchedFilesParams>(n.params) {
                    self.did_change_watched_files(p);
                }
            }
            "workspace/didChangeConfiguration" => {
                let settings = n.params.get("settings").cloned().unwrap_or(Value::Null);
                let empty = settings.is_null() || settings.as_object().is_some_and(|o| o.is_empty());
                if empty && self.caps.configuration {
                    self.request_configuration();
                } else if !empty {
                    self.apply_settings(&settings, true);
                }
            }
            "$/cancelRequest" => {
                if let Ok(p) = serde_json::from_value::<lt::CancelParams>(n.params) {
                    let id = match p.id {
                        lt::NumberOrString::Number(i) => RequestId::from(i),
                        lt::NumberOrString::String(s) => RequestId::from(s),
                    };
                    self.pool.cancel(&id);
                }
            }
            _ => {}
        }
    }

    fn request_configuration(&mut self) {
        let params = lt::ConfigurationParams {
            items: vec![lt::ConfigurationItem { scope_uri: None, section: Some("fledge".into()) }],
        };
        self.request("workspace/configuration", params, Outgoing::Configuration);
    }

    fn on_initialized(&mut self) {
        if self.caps.configuration {
            self.request_configuration();
        }
        if self.caps.watch_files_dynamic {
            let watchers = ["**/*.py", "**/pyproject.toml", "**/.git/HEAD", "**/.git/refs/**", "**/.git/packed-refs"]
                .iter()
                .map(|g| lt::FileSystemWatcher { glob_pattern: lt::GlobPattern::String(g.to_string()), kind: None })
                .collect();
            let reg = lt::Registration {
                id: "fledge-watch".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(lt::DidChangeWatchedFilesRegistrationOptions { watchers }).ok(),
            };
            self.request(
                "client/registerCapability",
                lt::RegistrationParams { registrations: vec![reg] },
                Outgoing::Ignore,
            );
        }
        // Index the project around the editor's folder, when it is one.
        if let Some(root) = self.client_root.clone() {
            let project_root = discover::find_root(&root);
            if has_marker(&project_root) && self.project_by_root(&project_root).is_none() {
                self.load_project(project_root);
            }
        }
        // Editors open their documents right after `initialized`: analyze them together.
        self.schedule(OPEN_BATCH);
    }

    fn did_open(&mut self, p: lt::DidOpenTextDocumentParams) {
        let doc = p.text_document;
        let Some(path) = conv::uri_to_path(&doc.uri) else { return };
        if doc.language_id != "python" && path.extension().is_none_or(|e| e != "py" && e != "pyi") {
            return;
        }
        self.uris.insert(doc.uri.clone(), path.clone());
        self.docs.insert(path.clone(), Doc { uri: doc.uri, version: doc.version, text: doc.text });
        let pi = self.project_for(&path);
        self.projects[pi].pending.insert(path);
        self.projects[pi].dirty = true;
        self.schedule(OPEN_BATCH);
    }

    fn did_change(&mut self, p: lt::DidChangeTextDocumentParams) {
        let Some(path) = self.uris.get(&p.text_document.uri).cloned() else { return };
        let Some(doc) = self.docs.get_mut(&path) else { return };
        for c in p.content_changes {
            conv::apply_change(&mut doc.text, c.range, &c.text);
        }
        doc.version = p.text_document.version;
        if let Some(pi) = self.project_index_of(&path) {
            self.projects[pi].pending.insert(path);
            self.projects[pi].dirty = true;
        }
        self.schedule(EDIT_DELAY);
    }

    fn did_close(&mut self, p: lt::DidCloseTextDocumentParams) {
        let Some(path) = self.uris.remove(&p.text_document.uri) else { return };
        self.docs.remove(&path);
        let Some(pi) = self.project_index_of(&path) else { return };
        let proj = &mut self.projects[pi];
        proj.pending.remove(&path);
        // Back to the text on disk (or gone, for a file never saved).
        match read_file(&path) {
            Some(text) if path.starts_with(&proj.root) => {
                if proj.ws.file_text(&path) != Some(text.as_str()) {
                    proj.ws.set_file(path, text);
                }
            }
            _ => proj.ws.remove_file(&path),
        }
        proj.dirty = true;
        self.schedule(DEBOUNCE);
    }

    fn did_change_watched_files(&mut self, p: lt::DidChangeWatchedFilesParams) {
        let mut head_moved = false;
        for ev in p.changes {
            let Some(path) = conv::uri_to_path(&ev.uri) else { continue };
            if fledge_core::project::git::is_head_change(&path) {
                head_moved = true;
                continue;
            }
            if path.file_name().is_some_and(|f| f == "pyproject.toml") {
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                self.owners.clear();
                if let Some(pi) = self.project_by_root(&dir) {
                    match discover::load_config(&dir) {
                        Ok(c) => {
                            let proj = &mut self.projects[pi];
                            proj.base_config = c;
                            let merged = self.settings.merge(&proj.base_config);
                            proj.ws.set_config(merged);
                            proj.dirty = true;
                        }
                        Err(e) => self.log(lt::MessageType::WARNING, e),
                    }
                }
                continue;
            }
            if self.docs.contains_key(&path) {
                continue; // the editor's text wins
            }
            let is_py = path.extension().is_some_and(|e| e == "py");
            for pi in 0..self.projects.len() {
                let proj = &mut self.projects[pi];
                if !path.starts_with(&proj.root) {
                    continue;
                }
                match ev.typ {
                    lt::FileChangeType::DELETED => {
                        let gone: Vec<PathBuf> =
                            proj.ws.files().filter(|f| f.starts_with(&path)).map(Path::to_path_buf).collect();
                        for f in gone {
                            proj.ws.remove_file(&f);
                            proj.dirty = true;
                        }
                    }
                    _ if is_py => {
                        if let Some(text) = read_file(&path) {
                            proj.ws.set_file(path.clone(), text);
                            proj.dirty = true;
                        }
                    }
                    _ => {}
                }
            }
        }
        if head_moved {
            // A commit, checkout or reset: compare with the new HEAD.
            for pi in 0..self.projects.len() {
                if let Err(e) = fledge_core::project::git::load_baseline(&mut self.projects[pi].ws) {
                    self.log(lt::MessageType::WARNING, format!("cannot read the last commit: {e}"));
                }
                self.projects[pi].dirty = true;
            }
        }
        self.schedule(DEBOUNCE);
    }

    fn apply_settings(&mut self, v: &Value, reanalyze: bool) {
        let (s, problems) = EditorSettings::from_value(v);
        for p in problems {
            self.log(lt::MessageType::WARNING, format!("settings: {p}"));
        }
        if s == self.settings {
            return;
        }
        self.settings = s;
        for proj in &mut self.projects {
            let merged = self.settings.merge(&proj.base_config);
            proj.ws.set_config(merged);
            proj.dirty = true;
        }
        if reanalyze {
            self.schedule(Duration::ZERO);
        }
    }

    // ---- projects ----

    fn project_by_root(&self, root: &Path) -> Option<usize> {
        self.projects.iter().position(|p| p.root == root)
    }

    /// The loaded project a file belongs to (innermost root holding it).
    fn project_index_of(&self, path: &Path) -> Option<usize> {
        self.projects
            .iter()
            .enumerate()
            .filter(|(_, p)| path.starts_with(&p.root))
            .max_by_key(|(_, p)| p.root.components().count())
            .map(|(i, _)| i)
    }

    /// The project root owning `path`: the nearest folder above it with a marker.
    fn owner_root(&mut self, path: &Path) -> PathBuf {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(r) = self.owners.get(&dir) {
            return r.clone();
        }
        let r = discover::find_root(&dir);
        self.owners.insert(dir, r.clone());
        r
    }

    /// The project for a file being opened, loading it if needed.
    fn project_for(&mut self, path: &Path) -> usize {
        let root = self.owner_root(path);
        let i = match self.project_by_root(&root) {
            Some(i) => i,
            None => self.load_project(root.clone()),
        };
        // A folder without markers is not walked whole (it may be a home folder): only its own
        // files and the package the opened file is in.
        if !has_marker(&root) {
            if let Some(pkg) = top_package(&root, path) {
                if self.projects[i].loose_packages.insert(pkg.clone()) {
                    let (files, _) = discover::python_files(&root, std::slice::from_ref(&pkg), &Config::default());
                    let proj = &mut self.projects[i];
                    for f in files.into_iter().take(MAX_LOOSE_FILES) {
                        if proj.ws.file_text(&f).is_none() {
                            if let Some(text) = read_file(&f) {
                                proj.ws.set_file(f, text);
                            }
                        }
                    }
                    proj.dirty = true;
                }
            }
        }
        i
    }

    fn load_project(&mut self, root: PathBuf) -> usize {
        let token = lt::NumberOrString::String(format!("fledge/index/{}", self.projects.len()));
        let progress = self.caps.work_done_progress;
        if progress {
            self.request(
                "window/workDoneProgress/create",
                lt::WorkDoneProgressCreateParams { token: token.clone() },
                Outgoing::Ignore,
            );
            self.progress(
                &token,
                lt::WorkDoneProgress::Begin(lt::WorkDoneProgressBegin {
                    title: "fledge: indexing".into(),
                    cancellable: Some(false),
                    message: Some(root.display().to_string()),
                    percentage: None,
                }),
            );
        }
        let started = Instant::now();
        let (mut ws, base_config) = if has_marker(&root) {
            match Workspace::load(std::slice::from_ref(&root)) {
                Ok(ws) => {
                    let c = ws.config().clone();
                    (ws, c)
                }
                Err(e) => {
                    self.log(lt::MessageType::WARNING, format!("{e}; using the default configuration"));
                    (load_files(&root, Config::default(), true), Config::default())
                }
            }
        } else {
            // A loose folder: its own Python files only, not everything below it.
            (load_files(&root, Config::default(), false), Config::default())
        };
        for problem in ws.walk_problems() {
            self.log(lt::MessageType::WARNING, format!("{}: {}", problem.path.display(), problem.message));
        }
        ws.set_config(self.settings.merge(&base_config));
        // `stale-cache-version` compares with the last commit; reloaded when HEAD moves.
        if let Err(e) = fledge_core::project::git::load_baseline(&mut ws) {
            self.log(lt::MessageType::WARNING, format!("cannot read the last commit: {e}"));
        }
        let files = ws.files().count();
        let pending: BTreeSet<PathBuf> = self.docs.keys().filter(|p| p.starts_with(&root)).cloned().collect();
        self.projects.push(Project {
            root: root.clone(),
            ws,
            base_config,
            pending,
            dirty: true,
            snap: None,
            snap_revision: 0,
            overlay: None,
            analyzing: false,
            published: HashMap::new(),
            loose_packages: BTreeSet::new(),
        });
        self.log(
            lt::MessageType::INFO,
            format!("loaded {} ({files} files) in {} ms", root.display(), started.elapsed().as_millis()),
        );
        if progress {
            self.progress(
                &token,
                lt::WorkDoneProgress::End(lt::WorkDoneProgressEnd { message: Some(format!("{files} files")) }),
            );
        }
        self.projects.len() - 1
    }

    fn progress(&self, token: &lt::NumberOrString, value: lt::WorkDoneProgress) {
        self.notify(
            "$/progress",
            lt::ProgressParams { token: token.clone(), value: lt::ProgressParamsValue::WorkDone(value) },
        );
    }

    // ---- analysis and diagnostics ----

    fn schedule(&mut self, delay: Duration) {
        let now = Instant::now();
        let first = *self.first_change.get_or_insert(now);
        let d = (now + delay).min(first + MAX_DELAY);
        self.deadline = Some(d);
    }

    /// [`Self::flush`], surviving a bug in it (the last good snapshot stays).
    fn safe_flush(&mut self) {
        if catch_unwind(AssertUnwindSafe(|| self.flush())).is_err() {
            self.deadline = None;
            self.first_change = None;
            self.log(lt::MessageType::ERROR, "internal error while analyzing; keeping the last results".into());
        }
    }

    /// Apply pending editor texts, re-analyze dirty projects, publish, and take a new snapshot.
    fn flush(&mut self) {
        self.deadline = None;
        self.first_change = None;
        let mut changed = false;
        for pi in 0..self.projects.len() {
            if !self.projects[pi].dirty {
                continue;
            }
            let pending: Vec<PathBuf> = std::mem::take(&mut self.projects[pi].pending).into_iter().collect();
            for path in pending {
                let Some(doc) = self.docs.get(&path) else { continue };
                if doc.text.len() > MAX_OPEN_BYTES {
                    self.projects[pi].ws.remove_file(&path);
                    self.log(
                        lt::MessageType::WARNING,
                        format!("{} is over {} MB; not analyzed", path.display(), MAX_OPEN_BYTES >> 20),
                    );
                    continue;
                }
                // An editor text equal to what the workspace has (a file just opened) needs no re-parse.
                if self.projects[pi].ws.file_text(&path) != Some(doc.text.as_str()) {
                    self.projects[pi].ws.set_file(path, doc.text.clone());
                }
            }
            self.projects[pi].dirty = false;
            if self.analyze_project(pi) {
                changed = true;
                self.publish(pi);
            }
        }
        if changed || self.snapshot.docs.len() != self.docs.len() {
            self.snapshot = Arc::new(Snapshot {
                projects: self.projects.iter().filter_map(|p| p.snap.clone()).collect(),
                overlays: self.projects.iter().filter_map(|p| p.overlay.clone()).collect(),
                docs: self
                    .docs
                    .iter()
                    .map(|(p, d)| (p.clone(), OpenDoc { uri: d.uri.clone(), version: d.version }))
                    .collect(),
                uris: self.uris.clone(),
            });
        }
    }

    /// Bring project `pi`'s analysis up to its workspace's revision: incrementally when only file
    /// texts changed since the last full analysis (the full one then follows in the background),
    /// else in full, here. Returns whether anything new was analyzed.
    fn analyze_project(&mut self, pi: usize) -> bool {
        let proj = &mut self.projects[pi];
        let root = proj.root.clone();
        let revision = proj.ws.revision();
        let changed = match &proj.snap {
            Some(_) => proj.ws.changed_since(proj.snap_revision),
            None => None,
        };
        match changed {
            Some(files) if files.is_empty() => {
                // Nothing new to analyze (e.g. a file opened with its saved text); publish anyway.
                proj.overlay = None;
                true
            }
            Some(files) => match catch_unwind(AssertUnwindSafe(|| proj.ws.analyze_affected(&files))) {
                Ok(partial) => {
                    proj.overlay = Some(Arc::new(ProjectSnap::partial(root, partial)));
                    self.start_full_analysis(pi);
                    true
                }
                Err(_) => self.analysis_failed(&root),
            },
            None => match catch_unwind(AssertUnwindSafe(|| proj.ws.analyze())) {
                Ok(analysis) => {
                    proj.snap = Some(Arc::new(ProjectSnap::new(root, analysis)));
                    proj.snap_revision = revision;
                    proj.overlay = None;
                    true
                }
                Err(_) => self.analysis_failed(&root),
            },
        }
    }

    /// A bug in the analysis: say so, keep the last results (returns false: nothing new).
    fn analysis_failed(&self, root: &Path) -> bool {
        self.log(
            lt::MessageType::ERROR,
            format!("internal error analyzing {}; keeping the last results", root.display()),
        );
        false
    }

    /// Start a full analysis of project `pi` on a background thread, unless one is running (it
    /// starts again when that one comes back outdated).
    fn start_full_analysis(&mut self, pi: usize) {
        let proj = &mut self.projects[pi];
        if proj.analyzing {
            return;
        }
        proj.analyzing = true;
        let ws = proj.ws.clone();
        let root = proj.root.clone();
        let revision = ws.revision();
        let tx = self.analyzed_tx.clone();
        let spawned =
            std::thread::Builder::new().name("fledge-analysis".into()).stack_size(256 << 20).spawn(move || {
                let analysis = catch_unwind(AssertUnwindSafe(|| ws.analyze())).ok();
                let _ = tx.send(FullAnalysis { root, revision, analysis });
            });
        if spawned.is_err() {
            self.projects[pi].analyzing = false;
        }
    }

    /// A background full analysis finished: it replaces the last full one, and the partial one
    /// too when no edit came in the meantime.
    fn on_full_analysis(&mut self, done: FullAnalysis) {
        let Some(pi) = self.project_by_root(&done.root) else { return };
        let proj = &mut self.projects[pi];
        proj.analyzing = false;
        let Some(analysis) = done.analysis else {
            self.analysis_failed(&done.root);
            return;
        };
        if done.revision >= proj.snap_revision {
            proj.snap = Some(Arc::new(ProjectSnap::new(done.root.clone(), analysis)));
            proj.snap_revision = done.revision;
        }
        if proj.ws.revision() == done.revision && !proj.dirty {
            proj.overlay = None;
        } else if proj.overlay.is_some() {
            self.start_full_analysis(pi);
        }
        self.publish(pi);
        self.snapshot = Arc::new(Snapshot {
            projects: self.projects.iter().filter_map(|p| p.snap.clone()).collect(),
            overlays: self.projects.iter().filter_map(|p| p.overlay.clone()).collect(),
            docs: self.snapshot.docs.clone(),
            uris: self.snapshot.uris.clone(),
        });
    }

    /// Publish the diagnostics of project `pi`: every file it owns with diagnostics, open files
    /// always (with their version), and an empty list for files that became clean.
    fn publish(&mut self, pi: usize) {
        let Some(snap) = self.projects[pi].snap.clone() else { return };
        let overlay = self.projects[pi].overlay.clone();
        // The partial analysis speaks for the files it re-analyzed, the full one for the rest.
        let source_of = |path: &Path| -> Arc<ProjectSnap> {
            match &overlay {
                Some(o) if o.covers(path) => o.clone(),
                _ => snap.clone(),
            }
        };
        let root = self.projects[pi].root.clone();
        let mut by_file: HashMap<PathBuf, Vec<&Diagnostic>> = HashMap::new();
        for d in &snap.analysis.diagnostics {
            if !overlay.as_ref().is_some_and(|o| o.covers(&d.path)) {
                by_file.entry(d.path.clone()).or_default().push(d);
            }
        }
        if let Some(o) = &overlay {
            for d in &o.analysis.diagnostics {
                by_file.entry(d.path.clone()).or_default().push(d);
            }
        }
        let mut files: HashSet<PathBuf> = by_file.keys().cloned().collect();
        files.extend(self.docs.keys().filter(|p| snap.modules.contains_key(*p)).cloned());
        files.extend(self.projects[pi].published.keys().cloned());
        let mut files: Vec<PathBuf> = files.into_iter().collect();
        files.sort();
        // Line indexes of files that related locations and fixes point into.
        let mut others: HashMap<PathBuf, LineIndex> = HashMap::new();
        for path in files {
            if self.owner_root(&path) != root
                && !(self.docs.contains_key(&path) && self.project_index_of(&path) == Some(pi))
            {
                continue;
            }
            let diags = by_file.get(&path).map(Vec::as_slice).unwrap_or(&[]);
            let source = source_of(&path);
            let lsp: Vec<lt::Diagnostic> = match source.text(&path) {
                Some(text) => {
                    let lines = TextLines::new(text);
                    diags.iter().map(|d| to_lsp_diagnostic(&source, &self.docs, &lines, &mut others, d)).collect()
                }
                None => Vec::new(),
            };
            let json = serde_json::to_string(&lsp).unwrap_or_default();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            json.hash(&mut h);
            let hash = h.finish();
            let open = self.docs.get(&path);
            // Open files get every new version's diagnostics, even unchanged ones (clients wait for them).
            let key = (hash, open.map(|d| d.version));
            let published = &mut self.projects[pi].published;
            if published.get(&path) == Some(&key) {
                continue;
            }
            if lsp.is_empty() && open.is_none() && !published.contains_key(&path) {
                continue;
            }
            if lsp.is_empty() && open.is_none() {
                published.remove(&path);
            } else {
                published.insert(path.clone(), key);
            }
            let uri = match open {
                Some(d) => d.uri.clone(),
                None => match conv::path_to_uri(&path) {
                    Some(u) => u,
                    None => continue,
                },
            };
            let version = open.map(|d| d.version);
            self.notify(
                "textDocument/publishDiagnostics",
                lt::PublishDiagnosticsParams { uri, diagnostics: lsp, version },
            );
        }
    }
}

fn has_marker(dir: &Path) -> bool {
    ROOT_MARKERS.iter().any(|m| dir.join(m).exists())
}

/// The outermost package folder (with `__init__.py`) under `root` holding `path`.
fn top_package(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(root).ok()?;
    let first = rel.components().next()?;
    let dir = root.join(first);
    (dir.is_dir() && dir.join("__init__.py").is_file()).then_some(dir)
}

fn read_file(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > discover::MAX_FILE_BYTES {
        return None;
    }
    std::fs::read(path).ok().map(|b| discover::decode(b).0)
}

/// A workspace of the Python files under `root` (all of them, or only the folder's own).
fn load_files(root: &Path, config: Config, recursive: bool) -> Workspace {
    let mut ws = Workspace::new(root.to_path_buf(), config.clone());
    let files: Vec<PathBuf> = if recursive {
        discover::python_files(root, &[root.to_path_buf()], &config).0
    } else {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "py") && p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v.truncate(MAX_LOOSE_FILES);
        v
    };
    for f in files {
        if let Some(text) = read_file(&f) {
            ws.set_file(f, text);
        }
    }
    ws
}

/// A core diagnostic as LSP: code, source `fledge`, related locations, fixes in `data`.
fn to_lsp_diagnostic(
    snap: &ProjectSnap,
    docs: &HashMap<PathBuf, Doc>,
    lines: &TextLines,
    others: &mut HashMap<PathBuf, LineIndex>,
    d: &Diagnostic,
) -> lt::Diagnostic {
    let uri_of = |p: &Path| docs.get(p).map(|d| d.uri.clone()).or_else(|| conv::path_to_uri(p));
    let mut range_in = |path: &Path, r: fledge_core::TextRange| -> Option<lt::Range> {
        let text = snap.text(path)?;
        let index = others.entry(path.to_path_buf()).or_insert_with(|| LineIndex::new(text));
        let pos = |o: usize| {
            let lc = index.utf16_pos(text, o);
            lt::Position { line: lc.line, character: lc.col }
        };
        Some(lt::Range { start: pos(r.start), end: pos(r.end.max(r.start)) })
    };
    let mut related = Vec::new();
    for r in &d.related {
        if let (Some(range), Some(uri)) = (range_in(&r.path, r.range), uri_of(&r.path)) {
            related.push(lt::DiagnosticRelatedInformation {
                location: lt::Location { uri, range },
                message: r.message.clone(),
            });
        }
    }
    let mut fixes: Vec<Value> = Vec::new();
    for f in &d.fixes {
        let mut edits: Vec<Value> = Vec::new();
        for e in &f.edits {
            if let (Some(range), Some(uri)) = (range_in(&e.path, e.range), uri_of(&e.path)) {
                edits.push(json!({"uri": uri, "range": range, "newText": e.new_text}));
            }
        }
        fixes.push(json!({"title": f.title, "edits": edits}));
    }
    lt::Diagnostic {
        range: lines.range(d.range),
        severity: Some(match d.severity {
            Severity::Error => lt::DiagnosticSeverity::ERROR,
            Severity::Warning => lt::DiagnosticSeverity::WARNING,
            Severity::Info => lt::DiagnosticSeverity::INFORMATION,
        }),
        code: Some(lt::NumberOrString::String(d.code.to_string())),
        code_description: None,
        source: Some("fledge".into()),
        message: d.message.clone(),
        related_information: if related.is_empty() { None } else { Some(related) },
        tags: None,
        data: Some(json!({"fixes": fixes})),
    }
}
