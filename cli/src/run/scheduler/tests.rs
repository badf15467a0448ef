//! The scheduler against a fake executor (tasks written in Rust over JSON values); the real Python
//! worker is exercised by the end-to-end tests in cli/tests/run*.rs.

use super::*;
use crate::run::events::Collect;
use crate::run::executor::TraceFrame;
use crate::run::literals::{from_json, to_json};
use crate::run::plan::plan_workflow;
use fledge_core::types::{LiteralType, Simple};
use fledge_core::Workspace;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

type TaskFn = Box<dyn Fn(&Json, u32) -> Result<Json, (String, bool)> + Send + Sync>;

/// Runs "tasks" by name: each takes its inputs as a JSON object and returns `{"o0": value}`.
struct Fake {
    tasks: HashMap<String, TaskFn>,
    calls: Mutex<Vec<String>>,
    running: AtomicUsize,
}

impl Fake {
    fn new() -> Fake {
        let mut tasks: HashMap<String, TaskFn> = HashMap::new();
        tasks.insert("double".into(), Box::new(|i, _| Ok(json!({"o0": i["x"].as_i64().unwrap() * 2}))));
        tasks.insert(
            "add".into(),
            Box::new(|i, _| Ok(json!({"o0": i["a"].as_i64().unwrap() + i["b"].as_i64().unwrap()}))),
        );
        tasks.insert("parity".into(), Box::new(|i, _| Ok(json!({"o0": i["x"].as_i64().unwrap() % 2}))));
        tasks.insert("label".into(), Box::new(|i, _| Ok(json!({"o0": format!("n={}", i["x"])}))));
        tasks.insert(
            "total".into(),
            Box::new(|i, _| {
                Ok(json!({"o0": i["xs"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap_or(0)).sum::<i64>()}))
            }),
        );
        tasks.insert("boom".into(), Box::new(|_, _| Err(("ValueError: boom".into(), false))));
        tasks.insert(
            "flaky".into(),
            Box::new(|i, attempt| {
                if attempt == 0 {
                    Err(("FlyteRecoverableException: try again".into(), true))
                } else {
                    Ok(json!({"o0": i["x"].clone()}))
                }
            }),
        );
        tasks.insert(
            "inv".into(),
            Box::new(|i, _| {
                let x = i["x"].as_i64().unwrap();
                if x == 0 {
                    Err(("ZeroDivisionError: division by zero".into(), false))
                } else {
                    Ok(json!({"o0": 100 / x}))
                }
            }),
        );
        Fake { tasks, calls: Mutex::new(Vec::new()), running: AtomicUsize::new(0) }
    }
    fn calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

fn int() -> LiteralType {
    LiteralType::simple(Simple::Integer)
}

impl Executor for Fake {
    fn run_task(&self, r: TaskRequest) -> Pin<Box<dyn Future<Output = TaskOutcome> + Send + '_>> {
        Box::pin(async move {
            self.running.fetch_add(1, Ordering::SeqCst);
            self.calls.lock().unwrap().push(r.task.clone());
            let inputs = outputs_json(&r.inputs);
            let out = match self.tasks.get(&r.task) {
                Some(f) => f(&inputs, r.attempt),
                None => Err((format!("no fake for {}", r.task), false)),
            };
            self.running.fetch_sub(1, Ordering::SeqCst);
            match out {
                Ok(Json::Object(m)) => {
                    let mut lm = LiteralMap::default();
                    for (k, v) in m {
                        let ty = match &v {
                            Json::String(_) => LiteralType::simple(Simple::String),
                            Json::Array(_) => LiteralType::list(int()),
                            _ => int(),
                        };
                        lm.literals.insert(k.clone(), from_json(&k, &ty, &v).unwrap());
                    }
                    TaskOutcome::Succeeded(lm)
                }
                Ok(_) => unreachable!(),
                Err((message, recoverable)) => TaskOutcome::Failed(TaskFailure {
                    kind: FailureKind::User,
                    message,
                    traceback: vec![TraceFrame { file: "flow.py".into(), line: 3, function: r.task.clone() }],
                    recoverable,
                }),
            }
        })
    }
    fn invalidate(&self, _changed: &[String]) {}
}

const TASKS: &str = r#"
import functools
from flytekit import LaunchPlan, conditional, map_task, task, workflow

@task
def double(x: int) -> int: ...
@task
def add(a: int, b: int) -> int: ...
@task
def parity(x: int) -> int: ...
@task
def label(x: int) -> str: ...
@task
def total(xs: list[int]) -> int: ...
@task
def boom(x: int) -> int: ...
@task(retries=RETRIES)
def flaky(x: int) -> int: ...
@task
def inv(x: int) -> int: ...
"#;

struct Harness {
    root: tempfile::TempDir,
    fake: Arc<Fake>,
}

impl Harness {
    fn new() -> Harness {
        Harness { root: tempfile::tempdir().unwrap(), fake: Arc::new(Fake::new()) }
    }

    /// Runs workflow `wf` of `flow` (appended to the task definitions) with `inputs`.
    fn run(&self, flow: &str, wf: &str, inputs: Json, opts: RunOptions) -> (WfResult, Vec<Event>) {
        self.run_with(flow, wf, inputs, opts, 0)
    }

    fn run_with(&self, flow: &str, wf: &str, inputs: Json, opts: RunOptions, retries: u32) -> (WfResult, Vec<Event>) {
        let root = self.root.path().to_path_buf();
        let mut ws = Workspace::new(root.clone(), Default::default());
        ws.set_file(root.join("flow.py"), format!("{}{flow}", TASKS.replace("RETRIES", &retries.to_string())));
        let a = ws.analyze();
        let g = a.graphs.iter().find(|g| a.entities.entities[g.entity].name == wf).expect("workflow");
        let plan = Arc::new(plan_workflow(&a, g).unwrap());
        let mut lm = LiteralMap::default();
        for v in &plan.inputs {
            if let Some(x) = inputs.get(&v.name) {
                lm.literals.insert(v.name.clone(), from_json(&v.name, &v.ty.lit, x).unwrap());
            }
        }
        let sink = Arc::new(Collect::default());
        let opts = RunOptions { parallel: opts.parallel.max(2), ..opts };
        let runner = Runner::new(
            self.fake.clone(),
            Some(Cache::open(&root)),
            sink.clone(),
            opts,
            root.join(".fledge/runs/t"),
            plan.name.clone(),
            Arc::new(crate::run::plan::project_table(&a)),
        );
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let r = rt.block_on(runner.run(plan, lm, 1));
        let events = sink.0.lock().unwrap().clone();
        (r, events)
    }
}

fn statuses(events: &[Event]) -> Vec<(String, Status)> {
    let mut v: Vec<(String, Status)> = events
        .iter()
        .filter_map(|e| match e {
            Event::NodeFinished { task, status, .. } => Some((task.clone(), *status)),
            _ => None,
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn out(r: &WfResult) -> Json {
    outputs_json(r.outputs.as_ref().expect("outputs"))
}

const CHAIN: &str = r#"
@workflow
def chain(n: int, m: int) -> int:
    a = double(x=n)
    p = parity(x=a)
    b = add(a=p, b=m)
    return double(x=b)
"#;

#[test]
fn runs_a_chain_then_serves_it_from_the_cache_with_early_cutoff() {
    let h = Harness::new();
    let (r, ev) = h.run(CHAIN, "chain", json!({"n": 3, "m": 5}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 10}));
    assert_eq!(h.fake.calls().len(), 4);
    assert!(matches!(ev.first(), Some(Event::RunStarted { .. })));
    assert!(matches!(ev.last(), Some(Event::RunFinished { status: Status::Succeeded, .. })));

    // Same inputs: nothing runs.
    let (r, ev) = h.run(CHAIN, "chain", json!({"n": 3, "m": 5}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 10}));
    assert!(h.fake.calls().is_empty());
    assert!(statuses(&ev).iter().all(|s| s.1 == Status::Cached), "{ev:?}");

    // n changes, but parity(double(n)) is still 0: only the first two run; add and the last double
    // keep their cached results (early cutoff).
    let (r, ev) = h.run(CHAIN, "chain", json!({"n": 4, "m": 5}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 10}));
    assert_eq!(h.fake.calls(), vec!["double", "parity"]);
    let st = statuses(&ev);
    assert!(st.contains(&("add".into(), Status::Cached)), "{st:?}");

    // m changes: add and the last double re-run, the rest stays cached.
    let (r, _) = h.run(CHAIN, "chain", json!({"n": 4, "m": 6}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 12}));
    assert_eq!(h.fake.calls(), vec!["add", "double"]);

    // --force and --no-cache.
    let force = RunOptions { force: ["parity".to_string()].into_iter().collect(), ..Default::default() };
    h.run(CHAIN, "chain", json!({"n": 4, "m": 6}), force);
    assert_eq!(h.fake.calls(), vec!["parity"]);
    h.run(CHAIN, "chain", json!({"n": 4, "m": 6}), RunOptions { no_cache: true, ..Default::default() });
    assert_eq!(h.fake.calls().len(), 4);
}

#[test]
fn explains_why_a_node_ran() {
    let h = Harness::new();
    h.run(CHAIN, "chain", json!({"n": 3, "m": 5}), RunOptions::default());
    let (_, ev) = h.run(CHAIN, "chain", json!({"n": 3, "m": 7}), RunOptions::default());
    let reasons: Vec<(String, String)> = ev
        .iter()
        .filter_map(|e| match e {
            Event::NodeFinished { node, reason, status: Status::Succeeded, .. } => Some((node.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().any(|(n, r)| n == "n2" && r == "inputs changed: b"), "{reasons:?}");
}

#[test]
fn a_failed_node_fails_the_run_but_independent_nodes_finish_and_stay_cached() {
    let h = Harness::new();
    let flow = r#"
@workflow
def wf(n: int) -> int:
    bad = boom(x=n)
    after = double(x=bad)
    good = double(x=n)
    return add(a=good, b=n)
"#;
    let (r, ev) = h.run(flow, "wf", json!({"n": 2}), RunOptions::default());
    assert!(r.outputs.is_none());
    assert_eq!(r.failures.len(), 1);
    assert_eq!(r.failures[0].task, "flow.boom");
    assert_eq!(r.failures[0].message, "ValueError: boom");
    assert_eq!(r.failures[0].failure.as_ref().unwrap().traceback[0].function, "boom");
    let st = statuses(&ev);
    assert!(st.contains(&("add".into(), Status::Succeeded)), "{st:?}");
    assert!(st.contains(&("double".into(), Status::Skipped)), "{st:?}");
    assert!(matches!(ev.last(), Some(Event::RunFinished { status: Status::Failed, .. })));
    h.fake.calls();
    // The nodes that succeeded are cached: the next run only re-tries the failed one.
    h.run(flow, "wf", json!({"n": 2}), RunOptions::default());
    assert_eq!(h.fake.calls(), vec!["boom"]);
}

#[test]
fn recoverable_failures_are_retried_within_the_budget() {
    let flow = r#"
@workflow
def wf(n: int) -> int:
    return flaky(x=n)
"#;
    let h = Harness::new();
    let (r, ev) = h.run_with(flow, "wf", json!({"n": 2}), RunOptions::default(), 1);
    assert_eq!(out(&r), json!({"o0": 2}));
    assert_eq!(h.fake.calls(), vec!["flaky", "flaky"]);
    assert!(ev.iter().any(|e| matches!(e, Event::NodeStarted { attempt: 1, .. })));
    let h = Harness::new();
    let (r, _) = h.run_with(flow, "wf", json!({"n": 2}), RunOptions::default(), 0);
    assert!(r.failures[0].message.contains("try again"));
    assert_eq!(h.fake.calls(), vec!["flaky"]);
}

#[test]
fn conditionals_choose_their_case_from_real_values() {
    let flow = r#"
@workflow
def wf(n: int) -> str:
    d = double(x=n)
    return (
        conditional("size")
        .if_((d > 10) & (n < 100))
        .then(label(x=d))
        .elif_(d == 4)
        .then(label(x=n))
        .else_()
        .then(label(x=0))
    )
"#;
    let h = Harness::new();
    let (r, ev) = h.run(flow, "wf", json!({"n": 6}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": "n=12"}));
    assert_eq!(statuses(&ev).iter().filter(|s| s.1 == Status::Skipped).count(), 2);
    let (r, _) = h.run(flow, "wf", json!({"n": 2}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": "n=2"}));
    let (r, _) = h.run(flow, "wf", json!({"n": 3}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": "n=0"}));
}

#[test]
fn conditions_compare_enum_inputs_with_members() {
    let flow = r#"
import enum

class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"

@workflow
def pick(c: Color, n: int) -> int:
    return conditional("c").if_(c == Color.BLUE).then(double(x=n)).else_().then(parity(x=n))
"#;
    let h = Harness::new();
    let (r, _) = h.run(flow, "pick", json!({"c": "blue", "n": 3}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 6}));
    let (r, _) = h.run(flow, "pick", json!({"c": "red", "n": 3}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 1}));
}

#[test]
fn map_tasks_run_items_with_partials_and_min_success_ratio() {
    let flow = r#"
@workflow
def wf(xs: list[int], k: int) -> int:
    a = map_task(functools.partial(add, b=k), concurrency=2)(a=xs)
    return total(xs=a)

@workflow
def lenient(xs: list[int]) -> list[int]:
    return map_task(inv, min_success_ratio=0.5)(x=xs)

@workflow
def strict(xs: list[int]) -> list[int]:
    return map_task(inv)(x=xs)
"#;
    let h = Harness::new();
    let (r, _) = h.run(flow, "wf", json!({"xs": [1, 2, 3], "k": 10}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 36}));
    assert_eq!(h.fake.calls().iter().filter(|c| *c == "add").count(), 3);
    // One new item: only it runs (items are cached one by one).
    let (r, _) = h.run(flow, "wf", json!({"xs": [1, 2, 3, 4], "k": 10}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 50}));
    assert_eq!(h.fake.calls(), vec!["add", "total"]);
    // `cache gc` keeps what the last run used, map items included.
    Cache::open(h.root.path()).gc().unwrap();
    h.run(flow, "wf", json!({"xs": [1, 2, 3, 4], "k": 10}), RunOptions::default());
    assert!(h.fake.calls().is_empty());
    let (r, _) = h.run(flow, "lenient", json!({"xs": [0, 4, 5]}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": [null, 25, 20]}));
    let (r, _) = h.run(flow, "strict", json!({"xs": [0, 4]}), RunOptions::default());
    assert!(r.failures[0].message.contains("1 of 2 items failed"), "{}", r.failures[0].message);
}

#[test]
fn sub_workflows_run_inline() {
    let flow = r#"
@workflow
def inner(x: int) -> int:
    return double(x=x)

@workflow
def outer(n: int) -> int:
    a = inner(x=n)
    return add(a=a, b=1)
"#;
    let h = Harness::new();
    let (r, ev) = h.run(flow, "outer", json!({"n": 5}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 11}));
    assert!(ev.iter().any(|e| matches!(e, Event::NodeFinished { node, .. } if node == "n0.n0")), "{ev:?}");
}

#[test]
fn sub_workflow_defaults_and_launch_plan_inputs_apply() {
    let flow = r#"
@workflow
def inner(x: int, k: int = 7) -> int:
    return add(a=x, b=k)

fixed_k = LaunchPlan.get_or_create(inner, name="fixed_k", fixed_inputs={"k": 100}, default_inputs={"x": 1})

@workflow
def outer(n: int) -> int:
    a = inner(x=n)
    b = fixed_k(x=n)
    c = fixed_k()
    d = add(a=a, b=b)
    return add(a=d, b=c)
"#;
    let h = Harness::new();
    let (r, _) = h.run(flow, "outer", json!({"n": 5}), RunOptions::default());
    // inner(5, k=7) = 12; fixed_k(5) = 105; fixed_k() = 1 + 100 = 101.
    assert_eq!(out(&r), json!({"o0": 218}));
}

#[test]
fn a_corrupted_cache_entry_is_recomputed_not_returned() {
    let h = Harness::new();
    h.run(CHAIN, "chain", json!({"n": 3, "m": 5}), RunOptions::default());
    h.fake.calls();
    // Damage every entry: each is detected and its node re-runs; the result is still right.
    let entries = h.root.path().join(".fledge/cache/entries");
    for d in std::fs::read_dir(&entries).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            let mut b = std::fs::read(&p).unwrap();
            let n = b.len();
            b[n - 1] ^= 0xff;
            std::fs::write(&p, b).unwrap();
        }
    }
    let (r, ev) = h.run(CHAIN, "chain", json!({"n": 3, "m": 5}), RunOptions::default());
    assert_eq!(out(&r), json!({"o0": 10}));
    assert_eq!(h.fake.calls().len(), 4);
    assert!(ev.iter().any(|e| matches!(e, Event::NodeFinished { reason, .. } if reason.contains("damaged"))), "{ev:?}");
}

#[test]
fn jsonl_events_have_the_documented_shape() {
    let e = Event::NodeFinished {
        node: "n0".into(),
        task: "double".into(),
        status: Status::Cached,
        duration_ms: 3,
        reason: "cached".into(),
        error: None,
    };
    let j: Json = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(j["event"], "node_finished");
    assert_eq!(j["status"], "cached");
    assert_eq!(j["duration_ms"], 3);
    let _ = to_json;
}
