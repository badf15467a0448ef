//! The Python worker against real flytekit: values, failures, crashes, timeouts, dead workers,
//! dynamic tasks, parallel attempts and edited modules, on the fixture project in
//! `fixtures/worker/proj`. Python comes from `FLEDGE_TEST_PYTHON`, else the venv that
//! `scripts/setup-python.sh` creates; without either the tests fail (they never pass silently).

#![allow(dead_code)]

// The worker lives in the binary crate; compile its modules into this test.
#[path = "../src/run/executor.rs"]
mod executor;
#[path = "../src/run/pyenv.rs"]
mod pyenv;
#[path = "../src/user_cache.rs"]
mod user_cache;
#[path = "../src/run/worker/mod.rs"]
mod worker;

use executor::{Executor, FailureKind, TaskFailure, TaskOutcome, TaskRequest};
use fledge_proto::flyteidl::core::{
    blob_type::BlobDimensionality, literal, node, primitive, scalar, task_node, Blob, BlobMetadata, BlobType, Literal,
    LiteralCollection, LiteralMap, Primitive, Scalar,
};
use fledge_proto::prost_types;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use worker::{PythonWorker, WorkerConfig};

mod common;
use common::{copy_dir, python};

/// A private copy of the fixture project (tests edit files and write bytecode).
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/worker/proj"), dir.path());
        Project { dir }
    }
    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }
    fn worker(&self) -> PythonWorker {
        let mut config = WorkerConfig::new(python(), self.root());
        config.cache_dir = Some(self.dir.path().join(".cache"));
        PythonWorker::new(config).expect("worker")
    }
    fn request(&self, module: &str, task: &str, inputs: Vec<(&str, Literal)>) -> TaskRequest {
        TaskRequest {
            module: module.into(),
            task: task.into(),
            inputs: LiteralMap { literals: inputs.into_iter().map(|(k, v)| (k.to_string(), v)).collect() },
            timeout: None,
            raw_output_dir: self.dir.path().join("raw").join(task),
            attempt: 0,
        }
    }
}

fn scalar_lit(v: scalar::Value) -> Literal {
    Literal { value: Some(literal::Value::Scalar(Box::new(Scalar { value: Some(v) }))), ..Default::default() }
}
fn prim(v: primitive::Value) -> Literal {
    scalar_lit(scalar::Value::Primitive(Primitive { value: Some(v) }))
}
fn int(i: i64) -> Literal {
    prim(primitive::Value::Integer(i))
}
fn string(s: &str) -> Literal {
    prim(primitive::Value::StringValue(s.into()))
}
fn float(f: f64) -> Literal {
    prim(primitive::Value::FloatValue(f))
}
fn list(items: Vec<Literal>) -> Literal {
    Literal { value: Some(literal::Value::Collection(LiteralCollection { literals: items })), ..Default::default() }
}
fn map(items: Vec<(&str, Literal)>) -> Literal {
    let literals = items.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Literal { value: Some(literal::Value::Map(LiteralMap { literals })), ..Default::default() }
}
fn blob(uri: &str) -> Literal {
    let metadata = BlobMetadata {
        r#type: Some(BlobType { format: String::new(), dimensionality: BlobDimensionality::Single as i32 }),
    };
    let b = Blob { metadata: Some(metadata), uri: uri.into() };
    scalar_lit(scalar::Value::Blob(b))
}

fn as_int(l: &Literal) -> i64 {
    match primitive_of(l) {
        primitive::Value::Integer(i) => i,
        other => panic!("not an integer: {other:?}"),
    }
}
fn as_str(l: &Literal) -> String {
    match primitive_of(l) {
        primitive::Value::StringValue(s) => s,
        other => panic!("not a string: {other:?}"),
    }
}
fn as_float(l: &Literal) -> f64 {
    match primitive_of(l) {
        primitive::Value::FloatValue(f) => f,
        other => panic!("not a float: {other:?}"),
    }
}
fn primitive_of(l: &Literal) -> primitive::Value {
    match scalar_of(l) {
        scalar::Value::Primitive(Primitive { value: Some(v) }) => v,
        other => panic!("not a primitive: {other:?}"),
    }
}
fn scalar_of(l: &Literal) -> scalar::Value {
    match &l.value {
        Some(literal::Value::Scalar(s)) if s.value.is_some() => s.value.clone().unwrap(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn succeeded(outcome: TaskOutcome) -> HashMap<String, Literal> {
    match outcome {
        TaskOutcome::Succeeded(map) => map.literals.into_iter().collect(),
        other => panic!("expected success, got {other:?}"),
    }
}
fn failed(outcome: TaskOutcome) -> TaskFailure {
    match outcome {
        TaskOutcome::Failed(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// 1-based line of the first line of `file` containing `needle`.
fn line_of(root: &Path, file: &str, needle: &str) -> u32 {
    let text = std::fs::read_to_string(root.join(file)).unwrap();
    text.lines().position(|l| l.contains(needle)).map(|i| i as u32 + 1).expect("needle in fixture")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_values_cross_the_boundary() {
    let p = Project::new();
    let w = p.worker();
    let out = succeeded(w.run_task(p.request("wtasks.basic", "add", vec![("a", int(2)), ("b", int(40))])).await);
    assert_eq!(as_int(&out["o0"]), 42);

    let inputs = vec![
        ("n", int(3)),
        ("s", string("ab")),
        ("f", float(1.25)),
        ("xs", list(vec![int(1), int(2)])),
        ("d", map(vec![("k", int(4))])),
    ];
    let out = succeeded(w.run_task(p.request("wtasks.basic", "shapes", inputs)).await);
    assert_eq!(as_str(&out["o0"]), "ababab");
    assert_eq!(as_float(&out["o1"]), 2.5);
    let Some(literal::Value::Collection(c)) = &out["o2"].value else { panic!("o2 is not a list: {:?}", out["o2"]) };
    assert_eq!(c.literals.iter().map(as_int).collect::<Vec<_>>(), vec![2, 3]);
    let Some(literal::Value::Map(m)) = &out["o3"].value else { panic!("o3 is not a dict: {:?}", out["o3"]) };
    assert_eq!(as_int(&m.literals["k"]), 40);

    // No outputs: an empty map, and what it printed comes back with the result.
    let (outcome, logs) = w.run(p.request("wtasks.basic", "no_outputs", vec![("a", int(7))])).await;
    assert!(succeeded(outcome).is_empty());
    assert!(logs.output.contains("side effect 7"), "logs: {logs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataclass_goes_in_as_a_struct_and_comes_back_as_msgpack() {
    let p = Project::new();
    let w = p.worker();
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("x".to_string(), prost_types::Value { kind: Some(prost_types::value::Kind::NumberValue(1.0)) });
    fields.insert(
        "label".to_string(),
        prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("left".into())) },
    );
    let point = scalar_lit(scalar::Value::Generic(prost_types::Struct { fields }));
    let out = succeeded(w.run_task(p.request("wtasks.basic", "move", vec![("p", point), ("dx", int(4))])).await);
    let scalar::Value::Binary(b) = scalar_of(&out["o0"]) else {
        panic!("dataclass output is not binary: {:?}", out["o0"])
    };
    assert_eq!(b.tag, "msgpack");
    // msgpack map {"x": 5, "label": "LEFT"}: fixstr keys and values, positive fixint 5.
    let bytes = b.value;
    let find = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(find(b"\xa1x\x05"), "x=5 in {bytes:?}");
    assert!(find(b"\xa5label\xa4LEFT"), "label=LEFT in {bytes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_and_dataframes_are_offloaded_under_raw_output_dir() {
    let p = Project::new();
    let w = p.worker();
    let req = p.request("wtasks.files", "write_file", vec![("text", string("hello file"))]);
    let raw = req.raw_output_dir.clone();
    let out = succeeded(w.run_task(req).await);
    let scalar::Value::Blob(b) = scalar_of(&out["o0"]) else { panic!("not a blob: {:?}", out["o0"]) };
    let path = PathBuf::from(b.uri.trim_start_matches("file://"));
    assert!(path.starts_with(&raw), "{} is not under {}", path.display(), raw.display());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello file");

    // The blob literal flows into the next task, and so does a local file the user points at.
    let out = succeeded(w.run_task(p.request("wtasks.files", "read_file", vec![("f", out["o0"].clone())])).await);
    assert_eq!(as_str(&out["o0"]), "hello file");
    let local = p.dir.path().join("input.txt");
    std::fs::write(&local, "from disk").unwrap();
    let out =
        succeeded(w.run_task(p.request("wtasks.files", "read_file", vec![("f", blob(local.to_str().unwrap()))])).await);
    assert_eq!(as_str(&out["o0"]), "from disk");

    let req = p.request("wtasks.files", "frame", vec![("n", int(4))]);
    let raw = req.raw_output_dir.clone();
    let out = succeeded(w.run_task(req).await);
    let scalar::Value::StructuredDataset(sd) = scalar_of(&out["o0"]) else { panic!("not a dataset: {:?}", out["o0"]) };
    assert!(PathBuf::from(sd.uri.trim_start_matches("file://")).starts_with(&raw), "{}", sd.uri);
    let out = succeeded(w.run_task(p.request("wtasks.files", "frame_sum", vec![("df", out["o0"].clone())])).await);
    assert_eq!(as_int(&out["o0"]), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_exception_carries_message_and_user_frames() {
    let p = Project::new();
    let w = p.worker();
    let (outcome, logs) = w.run(p.request("wtasks.basic", "priced", vec![("price", float(-1.0))])).await;
    let f = failed(outcome);
    assert_eq!(f.kind, FailureKind::User);
    assert_eq!(f.message, "ValueError: negative price: -1.0");
    assert!(!f.recoverable, "a plain exception is not retried by Flyte");
    let frames: Vec<_> = f.traceback.iter().map(|t| (t.file.clone(), t.line, t.function.as_str())).collect();
    let file = PathBuf::from("wtasks/basic.py");
    assert_eq!(
        frames,
        vec![
            (file.clone(), line_of(&p.root(), "wtasks/basic.py", "return check_price(price) * 2"), "priced"),
            (file, line_of(&p.root(), "wtasks/basic.py", "raise ValueError"), "check_price"),
        ]
    );
    assert!(logs.output.contains("ValueError: negative price"), "the full traceback is in the logs: {logs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recoverable_exception_is_retryable_and_the_retry_succeeds() {
    let p = Project::new();
    let w = p.worker();
    let f = failed(w.run_task(p.request("wtasks.basic", "flaky", vec![("attempt_to_succeed", int(1))])).await);
    assert_eq!(f.kind, FailureKind::User);
    assert!(f.recoverable, "FlyteRecoverableException is retried: {f:?}");
    assert!(f.message.starts_with("FlyteRecoverableException"), "{}", f.message);
    let mut retry = p.request("wtasks.basic", "flaky", vec![("attempt_to_succeed", int(1))]);
    retry.attempt = 1;
    let out = succeeded(w.run_task(retry).await);
    assert_eq!(as_int(&out["o0"]), 1, "the task sees its attempt number as in Flyte");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_the_attempt_and_the_worker_goes_on() {
    let p = Project::new();
    let w = p.worker();
    w.start().await.expect("worker starts");
    let mut req = p.request("wtasks.basic", "sleepy", vec![("seconds", float(60.0))]);
    req.timeout = Some(Duration::from_secs(1));
    let f = failed(w.run_task(req).await);
    assert_eq!(f.kind, FailureKind::Timeout, "{f:?}");
    assert!(f.message.contains("timeout of 1s"), "{}", f.message);
    let out = succeeded(w.run_task(p.request("wtasks.basic", "add", vec![("a", int(1)), ("b", int(1))])).await);
    assert_eq!(as_int(&out["o0"]), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashing_child_fails_only_its_task() {
    let p = Project::new();
    let w = p.worker();
    w.start().await.expect("worker starts");
    let pid = w.worker_pid();
    let (outcome, logs) = w.run(p.request("wtasks.basic", "crash", vec![("code", int(1))])).await;
    let f = failed(outcome);
    assert_eq!(f.kind, FailureKind::WorkerDied, "{f:?}");
    assert!(f.message.contains("exited with code 1"), "{}", f.message);
    assert!(logs.output.contains("about to die"), "output before the crash is kept: {logs:?}");
    let out = succeeded(w.run_task(p.request("wtasks.basic", "add", vec![("a", int(2)), ("b", int(2))])).await);
    assert_eq!(as_int(&out["o0"]), 4);
    assert_eq!(w.worker_pid(), pid, "the warm worker survived its child's crash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printing_cannot_corrupt_the_protocol() {
    let p = Project::new();
    let w = p.worker();
    let (outcome, logs) = w.run(p.request("wtasks.basic", "chatty", vec![("lines", int(3000))])).await;
    assert_eq!(as_int(&succeeded(outcome)["o0"]), 3000);
    assert!(logs.output.contains("line 2999 "), "last printed line is captured");
    assert!(logs.output.contains("{err}"), "stderr is captured too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_worker_fails_pending_tasks_and_restarts() {
    let p = Project::new();
    let w = Arc::new(p.worker());
    w.start().await.expect("worker starts");
    let old = w.worker_pid().expect("a worker runs");
    let pending = {
        let w = w.clone();
        let req = p.request("wtasks.basic", "sleepy", vec![("seconds", float(60.0))]);
        tokio::spawn(async move { w.run_task(req).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    // SAFETY: kill(2) on the worker this test started.
    unsafe { libc::kill(old as libc::pid_t, libc::SIGKILL) };
    let f = failed(tokio::time::timeout(Duration::from_secs(30), pending).await.expect("no hang").unwrap());
    assert_eq!(f.kind, FailureKind::WorkerDied, "{f:?}");
    let out = succeeded(w.run_task(p.request("wtasks.basic", "add", vec![("a", int(3)), ("b", int(3))])).await);
    assert_eq!(as_int(&out["o0"]), 6);
    assert_ne!(w.worker_pid(), Some(old), "a new worker was started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_task_returns_its_job_spec() {
    let p = Project::new();
    let w = p.worker();
    let outcome = w.run_task(p.request("wtasks.basic", "squares", vec![("n", int(3))])).await;
    let TaskOutcome::Dynamic(spec) = outcome else { panic!("expected a dynamic spec, got {outcome:?}") };
    assert_eq!(spec.nodes.len(), 3);
    for n in &spec.nodes {
        let Some(node::Target::TaskNode(t)) = &n.target else { panic!("not a task node: {n:?}") };
        let Some(task_node::Reference::ReferenceId(id)) = &t.reference else { panic!("no task reference") };
        assert_eq!(id.name, "wtasks.basic.square");
    }
    let names: Vec<_> = spec.tasks.iter().filter_map(|t| t.id.as_ref()).map(|i| i.name.as_str()).collect();
    assert_eq!(names, vec!["wtasks.basic.square"]);
    let inputs: Vec<i64> = spec
        .nodes
        .iter()
        .map(|n| {
            let b = n.inputs.iter().find(|b| b.var == "x").expect("input x");
            let Some(fledge_proto::flyteidl::core::binding_data::Value::Scalar(s)) =
                b.binding.as_ref().and_then(|d| d.value.clone())
            else {
                panic!("x is not a constant: {b:?}")
            };
            as_int(&Literal { value: Some(literal::Value::Scalar(Box::new(s))), ..Default::default() })
        })
        .collect();
    assert_eq!(inputs, vec![0, 1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_attempts_get_their_own_results() {
    let p = Project::new();
    let w = Arc::new(p.worker());
    let mut set = tokio::task::JoinSet::new();
    for i in 0..8 {
        let w = w.clone();
        let req = p.request("wtasks.basic", "add", vec![("a", int(i)), ("b", int(100))]);
        set.spawn(async move { (i, w.run_task(req).await) });
    }
    let mut seen = Vec::new();
    while let Some(r) = set.join_next().await {
        let (i, outcome) = r.unwrap();
        assert_eq!(as_int(&succeeded(outcome)["o0"]), i + 100);
        seen.push(i);
    }
    seen.sort();
    assert_eq!(seen, (0..8).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidate_picks_up_an_edited_module() {
    let p = Project::new();
    // Python writes bytecode caches, as it does by default (this environment may have turned that off).
    let mut config = WorkerConfig::new(python(), p.root());
    config.cache_dir = Some(p.dir.path().join(".cache"));
    config.env.push(("PYTHONDONTWRITEBYTECODE".into(), String::new()));
    let w = PythonWorker::new(config).unwrap();
    let req = || p.request("wtasks.editable", "version", vec![]);
    assert_eq!(as_str(&succeeded(w.run_task(req()).await)["o0"]), "v1");
    // Give the worker idle time to import the module itself (it learns what children imported), so
    // the edit below has to replace a module it holds. Same size: only the content differs.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(as_str(&succeeded(w.run_task(req()).await)["o0"]), "v1");
    }
    let file = p.root().join("wtasks/editable.py");
    let text = std::fs::read_to_string(&file).unwrap();
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, text.replace("\"v1\"", "\"v2\"")).unwrap();
    // Same size and same mtime as before: nothing on disk tells the edit apart, only `invalidate`
    // (Python's cached bytecode would otherwise be trusted).
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(modified).unwrap();
    w.invalidate(&["wtasks.editable".to_string()]);
    assert_eq!(as_str(&succeeded(w.run_task(req()).await)["o0"]), "v2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_import_error_is_a_system_failure_with_its_location() {
    let p = Project::new();
    let w = p.worker();
    let f = failed(w.run_task(p.request("wtasks.broken", "t", vec![])).await);
    assert_eq!(f.kind, FailureKind::System);
    assert_eq!(f.message, "ModuleNotFoundError: No module named 'helper_that_does_not_exist'");
    let last = f.traceback.last().expect("a frame");
    assert_eq!(last.file, PathBuf::from("wtasks/broken.py"));
    assert_eq!(last.line, line_of(&p.root(), "wtasks/broken.py", "import helper_that_does_not_exist"));

    let f = failed(w.run_task(p.request("wtasks.basic", "not_a_task", vec![])).await);
    assert_eq!(f.kind, FailureKind::System);
    assert!(f.message.contains("is not a flytekit task"), "{}", f.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_of_the_wrong_type_is_a_non_recoverable_system_failure() {
    let p = Project::new();
    let w = p.worker();
    let f = failed(w.run_task(p.request("wtasks.basic", "wrong_output", vec![])).await);
    assert_eq!(f.kind, FailureKind::System);
    assert!(!f.recoverable);
    assert!(f.message.contains("Failed to convert outputs"), "{}", f.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_flytekit_fails_the_start_with_its_error() {
    let p = Project::new();
    let fake = p.dir.path().join("fake-site");
    std::fs::create_dir_all(fake.join("flytekit")).unwrap();
    std::fs::write(fake.join("flytekit/__init__.py"), "raise ImportError('this flytekit is broken')\n").unwrap();
    let mut config = WorkerConfig::new(python(), p.root());
    config.cache_dir = Some(p.dir.path().join(".cache"));
    config.env.push(("PYTHONPATH".into(), fake.to_string_lossy().into_owned()));
    let w = PythonWorker::new(config).unwrap();
    let f = failed(w.run_task(p.request("wtasks.basic", "add", vec![("a", int(1)), ("b", int(1))])).await);
    assert_eq!(f.kind, FailureKind::System);
    assert!(f.message.contains("this flytekit is broken"), "{}", f.message);
}

#[test]
fn probe_reports_versions_and_missing_or_old_flytekit() {
    let env = pyenv::probe(&python(), pyenv::PythonSource::Config).expect("the test python has flytekit");
    assert!(!env.flytekit_version.is_empty());
    assert!(env.python_version.starts_with("3."), "{}", env.python_version);

    let dir = tempfile::tempdir().unwrap();
    let fake = |name: &str, answer: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\necho '{answer}'\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    let none = fake("no-flytekit", "3.12.1 ");
    let err = pyenv::probe(&none, pyenv::PythonSource::Path).unwrap_err();
    assert_eq!(err, pyenv::PyEnvError::NoFlytekit { python: none.clone() });
    assert!(err.to_string().contains(&format!("install flytekit in {}", none.display())), "{err}");
    let old = fake("old-flytekit", "3.9.1 1.10.7");
    let err = pyenv::probe(&old, pyenv::PythonSource::Path).unwrap_err();
    assert!(err.to_string().contains("flytekit 1.10.7") && err.to_string().contains("1.14.0"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_module_is_seen_even_without_invalidate() {
    let p = Project::new();
    let w = p.worker();
    let req = || p.request("wtasks.editable", "version", vec![]);
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(as_str(&succeeded(w.run_task(req()).await)["o0"]), "v1");
    }
    let file = p.root().join("wtasks/editable.py");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("\"v1\"", "\"v3\"")).unwrap();
    assert_eq!(as_str(&succeeded(w.run_task(req()).await)["o0"]), "v3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_left_by_a_task_do_not_hold_its_result_and_are_killed() {
    let p = Project::new();
    let w = p.worker();
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        w.run_task(p.request("wtasks.basic", "leaves_a_process", vec![])),
    )
    .await
    .expect("the result does not wait for the leftover process (it sleeps 120 s)");
    let pid = as_int(&succeeded(outcome)["o0"]);
    // Like a finished container: what the task left behind is killed (gone, or a zombie nobody reaps).
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
            .unwrap_or(false)
    };
    for _ in 0..100 {
        if !alive() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("process {pid} left by the task is still running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_call_kills_its_attempt() {
    let p = Project::new();
    let w = p.worker();
    w.start().await.expect("worker starts");
    let marker = p.dir.path().join("child-pid");
    let req = p.request(
        "wtasks.basic",
        "sleepy_pid",
        vec![("seconds", float(120.0)), ("pid_file", string(marker.to_str().unwrap()))],
    );
    // Give up on the call once the attempt is running (it wrote its pid).
    let started = async {
        while !marker.exists() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        _ = w.run_task(req) => panic!("the attempt sleeps 120 s"),
        _ = tokio::time::timeout(Duration::from_secs(60), started) => {}
    }
    tokio::time::sleep(Duration::from_millis(100)).await; // the pid file may be written but empty
    let pid: i32 = std::fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
    for _ in 0..100 {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.is_empty() || state.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z') {
            // The worker still serves the next call.
            let out = succeeded(w.run_task(p.request("wtasks.basic", "add", vec![("a", int(1)), ("b", int(2))])).await);
            assert_eq!(as_int(&out["o0"]), 3);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the abandoned attempt {pid} still runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_of_python_start_up_is_skipped() {
    let p = Project::new();
    let site = p.dir.path().join("noisy-site");
    std::fs::create_dir_all(&site).unwrap();
    // Runs at interpreter start, before worker.py can move its pipes away from stdout.
    std::fs::write(
        site.join("sitecustomize.py"),
        "import sys\nsys.stdout.write('\\x00\\x00\\x00\\x10{\"event\": hello')\nsys.stdout.flush()\n",
    )
    .unwrap();
    let mut config = WorkerConfig::new(python(), p.root());
    config.cache_dir = Some(p.dir.path().join(".cache"));
    config.env.push(("PYTHONPATH".into(), site.to_string_lossy().into_owned()));
    let w = PythonWorker::new(config).unwrap();
    let out = succeeded(w.run_task(p.request("wtasks.basic", "add", vec![("a", int(5)), ("b", int(5))])).await);
    assert_eq!(as_int(&out["o0"]), 10);
}
