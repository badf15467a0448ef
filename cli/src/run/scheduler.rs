//! Runs a plan: each node starts when the nodes it waits for have finished, independent nodes run in
//! parallel (bounded), conditionals choose their case from real values, map tasks run their items,
//! sub-workflows run inline. Task results come from the cache when the task's fingerprint and inputs
//! match a previous run; a failed node fails the run, but nodes that do not depend on it still finish.

use super::cache::{cache_key, Cache, Lookup, NodeRecord};
use super::events::{Event, Sink, Status};
use super::executor::{Executor, FailureKind, TaskFailure, TaskOutcome, TaskRequest};
use super::literals::{self, comparable, map_hashes, Cmp};
use super::plan::{BranchSpec, MapSpec, NodeKind, PlanNode, Source, TaskSpec, WfPlan};
use fledge_core::flyte::graph::{Condition, Operand, PromiseSource};
use fledge_core::types::LiteralType;
use fledge_proto::flyteidl::core::DynamicJobSpec;
use fledge_proto::flyteidl::core::{Literal, LiteralMap};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Neither read nor write the cache.
    pub no_cache: bool,
    /// Task names (or `module.name`) to run even when cached.
    pub force: BTreeSet<String>,
    /// Task attempts running at once.
    pub parallel: usize,
}

/// A failed node, with what the user needs to fix it.
#[derive(Clone, Debug)]
pub struct NodeFailure {
    pub node: String,
    pub task: String,
    pub message: String,
    pub failure: Option<TaskFailure>,
    /// What the failed attempt printed (stdout and stderr, the end of it).
    pub logs: Option<String>,
}

pub struct Runner {
    exec: Arc<dyn Executor>,
    cache: Option<Cache>,
    sink: Arc<dyn Sink>,
    opts: RunOptions,
    slots: Arc<Semaphore>,
    /// `.fledge/runs/<run>/`: where attempts write offloaded values.
    raw_root: PathBuf,
    /// The top-level workflow's name (node records are per workflow and node).
    workflow: String,
    /// The project's tasks and launch plans, for the sub-workflows of `@dynamic` tasks.
    tasks: Arc<super::plan::ProjectTable>,
    /// What the last failed attempt of a node printed, until its failure is reported.
    failed_logs: std::sync::Mutex<HashMap<String, String>>,
}

/// A map item's outputs and whether they came from the cache.
type ItemResult = Result<(LiteralMap, bool), TaskFailure>;

/// What a successful attempt returned.
enum Attempt {
    Outputs(LiteralMap),
    Dynamic(Box<DynamicJobSpec>),
}

/// How one node ended.
#[derive(Clone, Debug)]
enum NodeState {
    Waiting,
    Running,
    Done(LiteralMap),
    Failed,
    Skipped,
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The result of a (sub-)workflow: its outputs, whether every task in it came from the cache, and
/// the failures.
pub struct WfResult {
    pub outputs: Option<LiteralMap>,
    pub all_cached: bool,
    pub failures: Vec<NodeFailure>,
}

impl Runner {
    pub fn new(
        exec: Arc<dyn Executor>,
        cache: Option<Cache>,
        sink: Arc<dyn Sink>,
        opts: RunOptions,
        raw_root: PathBuf,
        workflow: String,
        tasks: Arc<super::plan::ProjectTable>,
    ) -> Arc<Runner> {
        let parallel = opts.parallel.max(1);
        let cache = if opts.no_cache { None } else { cache };
        Arc::new(Runner {
            exec,
            cache,
            sink,
            opts,
            slots: Arc::new(Semaphore::new(parallel)),
            raw_root,
            workflow,
            tasks,
            failed_logs: Default::default(),
        })
    }

    /// Runs a whole workflow with its inputs, emitting `run_started` and `run_finished`.
    pub async fn run(self: Arc<Self>, wf: Arc<WfPlan>, inputs: LiteralMap, run_id: u64) -> WfResult {
        let start = Instant::now();
        self.sink.emit(&Event::RunStarted { workflow: wf.name.clone(), run: run_id });
        let r = self.clone().run_workflow(wf.clone(), inputs).await;
        let status = if r.outputs.is_some() && r.failures.is_empty() {
            if r.all_cached {
                Status::Cached
            } else {
                Status::Succeeded
            }
        } else {
            Status::Failed
        };
        let error = (!r.failures.is_empty()).then(|| {
            r.failures.iter().map(|f| format!("{} ({}): {}", f.node, f.task, f.message)).collect::<Vec<_>>().join("; ")
        });
        self.sink.emit(&Event::RunFinished {
            workflow: wf.name.clone(),
            status,
            duration_ms: start.elapsed().as_millis() as u64,
            outputs: r.outputs.as_ref().filter(|_| status != Status::Failed).map(outputs_json),
            error,
        });
        r
    }

    fn run_workflow(self: Arc<Self>, wf: Arc<WfPlan>, inputs: LiteralMap) -> BoxFut<'static, WfResult> {
        Box::pin(async move {
            let n = wf.nodes.len();
            let mut state: Vec<NodeState> = vec![NodeState::Waiting; n];
            let mut cached = vec![false; n];
            let mut failures = Vec::new();
            let mut set: JoinSet<(usize, NodeResult)> = JoinSet::new();
            loop {
                // Start every node whose dependencies have finished; skip those behind a failure.
                let mut progress = true;
                while progress {
                    progress = false;
                    for i in 0..n {
                        let node = &wf.nodes[i];
                        if !matches!(state[i], NodeState::Waiting) || node.in_branch.is_some() {
                            continue;
                        }
                        let blocked = node.deps.iter().any(|d| matches!(state[*d], NodeState::Failed))
                            || node.deps.iter().any(|d| matches!(state[*d], NodeState::Skipped) && !is_case(&wf, *d));
                        if blocked {
                            state[i] = NodeState::Skipped;
                            self.skip(node, "an upstream node failed");
                            progress = true;
                            continue;
                        }
                        let ready =
                            node.deps.iter().all(|d| matches!(state[*d], NodeState::Done(_) | NodeState::Skipped));
                        if !ready {
                            continue;
                        }
                        state[i] = NodeState::Running;
                        let (this, wf2, inputs2) = (self.clone(), wf.clone(), inputs.clone());
                        let results = done_outputs(&state);
                        set.spawn(async move {
                            let r = this.run_node(&wf2, i, &inputs2, &results).await;
                            (i, r)
                        });
                        progress = true;
                    }
                }
                let Some(joined) = set.join_next().await else { break };
                let (i, r) = match joined {
                    Ok(x) => x,
                    Err(e) => {
                        // A panic in fledge itself: report it rather than hang.
                        failures.push(NodeFailure {
                            node: "?".into(),
                            task: "?".into(),
                            message: format!("internal error: {e}"),
                            failure: None,
                            logs: None,
                        });
                        for s in state.iter_mut() {
                            if matches!(s, NodeState::Running) {
                                *s = NodeState::Failed;
                            }
                        }
                        continue;
                    }
                };
                match r {
                    NodeResult::Done { outputs, cached: c, cases } => {
                        state[i] = NodeState::Done(outputs);
                        cached[i] = c;
                        for (case, out) in cases {
                            state[case] = match out {
                                Some(m) => NodeState::Done(m),
                                None => NodeState::Skipped,
                            };
                            cached[case] = c;
                        }
                    }
                    NodeResult::Failed(mut f) => {
                        state[i] = NodeState::Failed;
                        failures.append(&mut f);
                    }
                }
            }
            // Case nodes that never ran (their branch failed or was skipped).
            let all_cached = cached.iter().zip(&state).all(|(c, s)| *c || !matches!(s, NodeState::Done(_)));
            if !failures.is_empty() {
                return WfResult { outputs: None, all_cached: false, failures };
            }
            let results = done_outputs(&state);
            let mut outputs = LiteralMap::default();
            for (name, src) in &wf.outputs {
                let ty = wf_output_type(&wf, name);
                match resolve(src, &ty, name, &inputs, &results, &wf) {
                    Ok(v) => {
                        outputs.literals.insert(name.clone(), v);
                    }
                    Err(e) => failures.push(NodeFailure {
                        node: "end".into(),
                        task: wf.name.clone(),
                        message: format!("output `{name}`: {e}"),
                        failure: None,
                        logs: None,
                    }),
                }
            }
            if failures.is_empty() {
                WfResult { outputs: Some(outputs), all_cached, failures }
            } else {
                WfResult { outputs: None, all_cached: false, failures }
            }
        })
    }

    fn skip(&self, node: &PlanNode, reason: &str) {
        self.sink.emit(&Event::NodeFinished {
            node: node.id.clone(),
            task: node.label.clone(),
            status: Status::Skipped,
            duration_ms: 0,
            reason: reason.to_string(),
            error: None,
        });
    }

    /// Runs node `i` once its dependencies are done (`results[k]` holds node k's outputs).
    fn run_node<'a>(
        self: Arc<Self>,
        wf: &'a WfPlan,
        i: usize,
        wf_inputs: &'a LiteralMap,
        results: &'a [Option<LiteralMap>],
    ) -> BoxFut<'a, NodeResult> {
        Box::pin(async move {
            let node = &wf.nodes[i];
            let fail = |message: String| {
                NodeResult::Failed(vec![NodeFailure {
                    node: node.id.clone(),
                    task: node.label.clone(),
                    message,
                    failure: None,
                    logs: None,
                }])
            };
            let mut inputs = LiteralMap::default();
            let partial_names: BTreeSet<&str> = match &node.kind {
                NodeKind::Map(m) => m.partial.iter().map(|p| p.0.as_str()).collect(),
                _ => BTreeSet::new(),
            };
            let extra = match &node.kind {
                NodeKind::Map(m) => m.partial.clone(),
                _ => Vec::new(),
            };
            for (name, src) in node.bindings.iter().chain(extra.iter()) {
                let ty = node.input_types.get(name).cloned().unwrap_or(LiteralType::Unknown);
                match resolve(src, &ty, name, wf_inputs, results, wf) {
                    Ok(v) => {
                        inputs.literals.insert(name.clone(), v);
                    }
                    Err(e) => {
                        let msg = format!("input `{name}`: {e}");
                        self.finish(node, Status::Failed, Duration::ZERO, "its inputs could not be built", Some(&msg));
                        return fail(msg);
                    }
                }
            }
            match &node.kind {
                NodeKind::Unsupported(why) => {
                    self.finish(node, Status::Failed, Duration::ZERO, "not runnable", Some(why));
                    fail(why.clone())
                }
                NodeKind::Task(t) => self.run_task_node(node, t, inputs).await,
                NodeKind::Map(m) => self.run_map_node(node, m, inputs, &partial_names).await,
                NodeKind::SubWorkflow(sub) => {
                    let start = Instant::now();
                    let mut inputs = inputs;
                    for (k, v) in &sub.defaults {
                        inputs.literals.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    for (k, v) in &sub.fixed {
                        inputs.literals.insert(k.clone(), v.clone());
                    }
                    let r = self.clone().run_workflow(sub.clone(), inputs).await;
                    match r.outputs {
                        Some(outputs) if r.failures.is_empty() => {
                            let status = if r.all_cached { Status::Cached } else { Status::Succeeded };
                            self.finish(node, status, start.elapsed(), "sub-workflow", None);
                            NodeResult::Done { outputs, cached: r.all_cached, cases: vec![] }
                        }
                        _ => {
                            self.finish(
                                node,
                                Status::Failed,
                                start.elapsed(),
                                "sub-workflow",
                                Some("a node inside failed"),
                            );
                            NodeResult::Failed(r.failures)
                        }
                    }
                }
                NodeKind::Branch(b) => self.run_branch(wf, i, b, wf_inputs, results).await,
            }
        })
    }

    async fn run_branch(
        self: Arc<Self>,
        wf: &WfPlan,
        i: usize,
        b: &BranchSpec,
        wf_inputs: &LiteralMap,
        results: &[Option<LiteralMap>],
    ) -> NodeResult {
        let node = &wf.nodes[i];
        let start = Instant::now();
        let mut chosen: Option<Option<usize>> = None;
        let mut reason = String::new();
        for (k, (cond, case)) in b.cases.iter().enumerate() {
            match eval_condition(cond, wf_inputs, results) {
                Ok(true) => {
                    chosen = Some(*case);
                    reason = format!("case {} is true", k + 1);
                    break;
                }
                Ok(false) => {}
                Err(e) => {
                    let msg = format!("conditional `{}`: {e}", b.name);
                    return self.branch_failed(node, start.elapsed(), "its test could not be evaluated", msg);
                }
            }
        }
        let chosen = match chosen {
            Some(c) => c,
            None => match b.else_case {
                Some(c) => {
                    reason = "no case is true: else".into();
                    c
                }
                None => {
                    let msg = format!("conditional `{}`: no case is true and there is no else_()", b.name);
                    return self.branch_failed(node, start.elapsed(), "no case matched", msg);
                }
            },
        };
        let all_cases: Vec<usize> = b.cases.iter().filter_map(|c| c.1).chain(b.else_case.flatten()).collect();
        let Some(case) = chosen else {
            let msg = format!("conditional `{}` reached its fail() case", b.name);
            return self.branch_failed(node, start.elapsed(), &reason, msg);
        };
        for c in &all_cases {
            if *c != case {
                self.skip(&wf.nodes[*c], "the conditional chose another case");
            }
        }
        match self.clone().run_node(wf, case, wf_inputs, results).await {
            NodeResult::Done { outputs, cached, .. } => {
                let status = if cached { Status::Cached } else { Status::Succeeded };
                self.finish(node, status, start.elapsed(), &reason, None);
                let cases = all_cases.iter().map(|c| (*c, (*c == case).then(|| outputs.clone()))).collect();
                NodeResult::Done { outputs, cached, cases }
            }
            NodeResult::Failed(f) => {
                self.finish(node, Status::Failed, start.elapsed(), &reason, Some("the chosen case failed"));
                NodeResult::Failed(f)
            }
        }
    }

    /// A conditional that cannot go on: the node fails with `msg` (no task ran, so no traceback).
    fn branch_failed(&self, node: &PlanNode, d: Duration, reason: &str, msg: String) -> NodeResult {
        self.finish(node, Status::Failed, d, reason, Some(&msg));
        NodeResult::Failed(vec![NodeFailure {
            node: node.id.clone(),
            task: node.label.clone(),
            message: msg,
            failure: None,
            logs: None,
        }])
    }

    fn finish(&self, node: &PlanNode, status: Status, d: Duration, reason: &str, error: Option<&str>) {
        self.sink.emit(&Event::NodeFinished {
            node: node.id.clone(),
            task: node.label.clone(),
            status,
            duration_ms: d.as_millis() as u64,
            reason: reason.to_string(),
            error: error.map(str::to_string),
        });
    }

    fn keep_logs(&self, node_id: &str, outcome: &TaskOutcome, logs: super::executor::TaskLogs) {
        if matches!(outcome, TaskOutcome::Failed(_)) && !logs.output.trim().is_empty() {
            if let Ok(mut m) = self.failed_logs.lock() {
                m.insert(node_id.to_string(), logs.output);
            }
        }
    }

    fn forced(&self, t: &TaskSpec) -> bool {
        self.opts.force.contains(&t.name) || self.opts.force.contains(&t.qualified())
    }

    /// Why this node runs (or is cached), compared with its last recorded run.
    fn explain(&self, node: &str, t: &TaskSpec, inputs: &BTreeMap<String, String>) -> String {
        if self.opts.no_cache {
            return "caching is off (--no-cache)".into();
        }
        if self.forced(t) {
            return format!("forced (--force {})", t.name);
        }
        let Some(cache) = &self.cache else { return "caching is off".into() };
        let Some(prev) = cache.last_record(&self.workflow, node) else {
            return "no earlier run of this node".into();
        };
        let mut why = Vec::new();
        if prev.fingerprint != t.fingerprint.hex {
            let before: BTreeMap<&str, &str> = prev.parts.iter().map(|(w, h)| (w.as_str(), h.as_str())).collect();
            let now: BTreeSet<&str> = t.fingerprint.parts.iter().map(|(w, _)| w.as_str()).collect();
            let mut changed: Vec<String> = t
                .fingerprint
                .parts
                .iter()
                .filter(|(w, h)| before.get(w.as_str()) != Some(&h.as_str()))
                .map(|(w, _)| w.clone())
                .collect();
            changed.extend(
                prev.parts.iter().filter(|(w, _)| !now.contains(w.as_str())).map(|(w, _)| format!("{w} (removed)")),
            );
            why.push(format!("code changed: {}", changed.join(", ")));
        }
        let changed_inputs: Vec<&str> = inputs
            .iter()
            .filter(|(k, v)| prev.inputs.get(*k) != Some(v))
            .map(|(k, _)| k.as_str())
            .chain(prev.inputs.keys().filter(|k| !inputs.contains_key(*k)).map(String::as_str))
            .collect();
        if !changed_inputs.is_empty() {
            why.push(format!("inputs changed: {}", changed_inputs.join(", ")));
        }
        if why.is_empty() {
            "same code and inputs as the last run, but no cache entry".into()
        } else {
            why.join("; ")
        }
    }

    async fn run_task_node(self: Arc<Self>, node: &PlanNode, t: &TaskSpec, inputs: LiteralMap) -> NodeResult {
        let start = Instant::now();
        let hashes = map_hashes(&inputs);
        let key = cache_key(&t.fingerprint.hex, &inputs);
        let mut reason = self.explain(&node.id, t, &hashes);
        let record = NodeRecord {
            workflow: self.workflow.clone(),
            node: node.id.clone(),
            task: t.qualified(),
            fingerprint: t.fingerprint.hex.clone(),
            parts: t.fingerprint.parts.clone(),
            inputs: hashes,
            key: key.clone(),
        };
        if let (Some(cache), false) = (&self.cache, self.forced(t)) {
            match cache.get(&key) {
                Lookup::Hit(outputs) => {
                    if cache.last_record(&self.workflow, &node.id).as_ref() != Some(&record) {
                        let _ = cache.record(&record);
                    }
                    let why = if cache_reason_is_fresh(&reason) {
                        "cached: same code and inputs".to_string()
                    } else {
                        format!("cached: {reason}, but these inputs ran before")
                    };
                    self.finish(node, Status::Cached, start.elapsed(), &why, None);
                    return NodeResult::Done { outputs, cached: true, cases: vec![] };
                }
                Lookup::Corrupt(why) => reason = format!("the cache entry was damaged ({why}); recomputed"),
                Lookup::Miss => {}
            }
        }
        let attempt = self.attempts(&node.id, &node.label, t, inputs.clone(), true).await;
        let attempt = match attempt {
            Ok(Attempt::Dynamic(spec)) => {
                // Run the sub-workflow the task built, node by node; its outputs are the task's.
                let plan = super::plan::plan_dynamic(&spec, &self.tasks, &t.qualified(), &format!("{}.", node.id));
                let r = self.clone().run_workflow(Arc::new(plan), inputs).await;
                match r.outputs {
                    Some(outputs) if r.failures.is_empty() => Ok(outputs),
                    _ => {
                        self.finish(
                            node,
                            Status::Failed,
                            start.elapsed(),
                            &reason,
                            Some("a node of its dynamic sub-workflow failed"),
                        );
                        return NodeResult::Failed(r.failures);
                    }
                }
            }
            Ok(Attempt::Outputs(o)) => Ok(o),
            Err(f) => Err(f),
        };
        match attempt {
            Ok(outputs) => {
                let outputs = self.store(&key, t, outputs, &record);
                self.finish(node, Status::Succeeded, start.elapsed(), &reason, None);
                NodeResult::Done { outputs, cached: false, cases: vec![] }
            }
            Err(f) => {
                self.finish(node, Status::Failed, start.elapsed(), &reason, Some(&f.message));
                NodeResult::Failed(vec![NodeFailure {
                    node: node.id.clone(),
                    task: t.qualified(),
                    message: f.message.clone(),
                    failure: Some(f),
                    logs: self.failed_logs.lock().ok().and_then(|mut m| m.remove(&node.id)),
                }])
            }
        }
    }

    fn store(&self, key: &str, t: &TaskSpec, outputs: LiteralMap, record: &NodeRecord) -> LiteralMap {
        let Some(cache) = &self.cache else { return outputs };
        match cache.put(key, &t.qualified(), &outputs) {
            Ok(stored) => {
                let _ = cache.record(record);
                stored
            }
            Err(e) => {
                eprintln!("fledge: warning: could not cache the outputs of {}: {e}", t.qualified());
                outputs
            }
        }
    }

    /// Runs a task with Flyte's retry rule: recoverable failures are retried up to `retries` times.
    async fn attempts(
        &self,
        node_id: &str,
        label: &str,
        t: &TaskSpec,
        inputs: LiteralMap,
        report: bool,
    ) -> Result<Attempt, TaskFailure> {
        let mut attempt = 0;
        loop {
            let permit = self.slots.clone().acquire_owned().await.map_err(|_| TaskFailure {
                kind: FailureKind::System,
                message: "the run was stopped".into(),
                traceback: vec![],
                recoverable: false,
            })?;
            // Map items run under their map node, which reports once.
            if report {
                self.sink.emit(&Event::NodeStarted { node: node_id.to_string(), task: label.to_string(), attempt });
            }
            let raw = self.raw_root.join(node_id.replace(['/', '[', ']'], "_")).join(attempt.to_string());
            let _ = std::fs::create_dir_all(&raw);
            let request = TaskRequest {
                module: t.module.clone(),
                task: t.name.clone(),
                inputs: inputs.clone(),
                timeout: t.timeout,
                raw_output_dir: raw,
                attempt,
            };
            // The executor enforces the timeout; this is a backstop against one that does not.
            let outcome = match t.timeout {
                Some(d) => match tokio::time::timeout(d + BACKSTOP, self.exec.run_task_captured(request)).await {
                    Ok((o, logs)) => {
                        self.keep_logs(node_id, &o, logs);
                        o
                    }
                    Err(_) => TaskOutcome::Failed(TaskFailure {
                        kind: FailureKind::Timeout,
                        message: format!("timed out after {:.1}s", d.as_secs_f64()),
                        traceback: vec![],
                        recoverable: true,
                    }),
                },
                None => {
                    let (o, logs) = self.exec.run_task_captured(request).await;
                    self.keep_logs(node_id, &o, logs);
                    o
                }
            };
            drop(permit);
            match outcome {
                TaskOutcome::Succeeded(m) => return Ok(Attempt::Outputs(m)),
                TaskOutcome::Dynamic(spec) => return Ok(Attempt::Dynamic(spec)),
                TaskOutcome::Failed(f) => {
                    if f.recoverable && attempt < t.retries {
                        attempt += 1;
                        continue;
                    }
                    return Err(f);
                }
            }
        }
    }

    async fn run_map_node(
        self: Arc<Self>,
        node: &PlanNode,
        m: &MapSpec,
        inputs: LiteralMap,
        partial: &BTreeSet<&str>,
    ) -> NodeResult {
        let start = Instant::now();
        let fail = |this: &Runner, msg: String| {
            this.finish(node, Status::Failed, start.elapsed(), "map task", Some(&msg));
            NodeResult::Failed(vec![NodeFailure {
                node: node.id.clone(),
                task: m.task.qualified(),
                message: msg,
                failure: None,
                logs: None,
            }])
        };
        // Mapped inputs are lists of equal length; partial inputs are passed to every item.
        let mut n_items: Option<usize> = None;
        let mut lists: BTreeMap<String, Vec<Literal>> = BTreeMap::new();
        for (name, v) in &inputs.literals {
            if partial.contains(name.as_str()) {
                continue;
            }
            let items = match &v.value {
                Some(fledge_proto::flyteidl::core::literal::Value::Collection(c)) => c.literals.clone(),
                _ => return fail(&self, format!("mapped input `{name}` is not a list")),
            };
            if let Some(k) = n_items {
                if k != items.len() {
                    return fail(
                        &self,
                        format!("mapped inputs have different lengths ({k} and {} for `{name}`)", items.len()),
                    );
                }
            }
            n_items = Some(items.len());
            lists.insert(name.clone(), items);
        }
        let n = n_items.unwrap_or(0);
        self.sink.emit(&Event::NodeStarted { node: node.id.clone(), task: node.label.clone(), attempt: 0 });
        let local = Arc::new(Semaphore::new(m.concurrency.map_or(n.max(1), |c| c as usize)));
        let mut set: JoinSet<(usize, ItemResult)> = JoinSet::new();
        for k in 0..n {
            let mut item = LiteralMap::default();
            for (name, items) in &lists {
                item.literals.insert(name.clone(), items[k].clone());
            }
            for name in partial {
                if let Some(v) = inputs.literals.get(*name) {
                    item.literals.insert(name.to_string(), v.clone());
                }
            }
            let (this, task, local, id, label) =
                (self.clone(), m.task.clone(), local.clone(), format!("{}[{k}]", node.id), node.label.clone());
            set.spawn(async move {
                let _p = local.acquire_owned().await;
                let key = cache_key(&task.fingerprint.hex, &item);
                // Each item has its own record, so `cache gc` keeps the entries the last run used.
                let record = NodeRecord {
                    workflow: this.workflow.clone(),
                    node: id.clone(),
                    task: task.qualified(),
                    fingerprint: task.fingerprint.hex.clone(),
                    parts: task.fingerprint.parts.clone(),
                    inputs: map_hashes(&item),
                    key: key.clone(),
                };
                if let Some(cache) = &this.cache {
                    if cache.last_record(&this.workflow, &id).as_ref() != Some(&record) {
                        let _ = cache.record(&record);
                    }
                }
                if let (Some(cache), false) = (&this.cache, this.forced(&task)) {
                    if let Lookup::Hit(out) = cache.get(&key) {
                        return (k, Ok((out, true)));
                    }
                }
                let r = match this.attempts(&id, &label, &task, item.clone(), false).await {
                    Ok(Attempt::Outputs(out)) => {
                        let out = match &this.cache {
                            Some(c) => c.put(&key, &task.qualified(), &out).unwrap_or(out),
                            None => out,
                        };
                        Ok((out, false))
                    }
                    Ok(Attempt::Dynamic(_)) => Err(TaskFailure {
                        kind: FailureKind::System,
                        message: "a map task over a @dynamic task cannot run".into(),
                        traceback: vec![],
                        recoverable: false,
                    }),
                    Err(f) => Err(f),
                };
                (k, r)
            });
        }
        let mut results: Vec<Option<ItemResult>> = vec![None; n];
        while let Some(j) = set.join_next().await {
            match j {
                Ok((k, r)) => results[k] = Some(r),
                Err(e) => return fail(&self, format!("internal error: {e}")),
            }
        }
        let successes = results.iter().filter(|r| matches!(r, Some(Ok(_)))).count();
        let needed = (m.min_success_ratio * n as f64).ceil() as usize;
        if successes < needed {
            let first = results.iter().find_map(|r| match r {
                Some(Err(f)) => Some(f.clone()),
                _ => None,
            });
            let msg = format!(
                "{} of {n} items failed (min_success_ratio {} needs {needed}){}",
                n - successes,
                m.min_success_ratio,
                first.as_ref().map(|f| format!("; first: {}", f.message)).unwrap_or_default()
            );
            self.finish(node, Status::Failed, start.elapsed(), "map task", Some(&msg));
            return NodeResult::Failed(vec![NodeFailure {
                node: node.id.clone(),
                task: m.task.qualified(),
                message: msg,
                failure: first,
                logs: None,
            }]);
        }
        let all_cached = results.iter().all(|r| matches!(r, Some(Ok((_, true)))));
        let mut outputs = LiteralMap::default();
        for o in &m.task.outputs {
            let items = results
                .iter()
                .map(|r| match r {
                    Some(Ok((out, _))) => out.literals.get(&o.name).cloned().unwrap_or_else(literals::none_lit),
                    _ => literals::none_lit(),
                })
                .collect();
            outputs.literals.insert(o.name.clone(), literals::collection(items));
        }
        let status = if all_cached { Status::Cached } else { Status::Succeeded };
        let reason = format!(
            "{n} items, {} from the cache",
            results.iter().filter(|r| matches!(r, Some(Ok((_, true))))).count()
        );
        self.finish(node, status, start.elapsed(), &reason, None);
        NodeResult::Done { outputs, cached: all_cached, cases: vec![] }
    }
}

/// How long past a task's timeout fledge waits for the executor to report it (which it must do on
/// its own: this only guards against an executor that hangs; it covers a cold worker start).
const BACKSTOP: Duration = Duration::from_secs(180);

fn cache_reason_is_fresh(reason: &str) -> bool {
    reason.starts_with("same code") || reason.starts_with("no earlier run")
}

enum NodeResult {
    /// `cases`: for a branch, each case node and its outputs if it was the one chosen.
    Done {
        outputs: LiteralMap,
        cached: bool,
        cases: Vec<(usize, Option<LiteralMap>)>,
    },
    Failed(Vec<NodeFailure>),
}

fn is_case(wf: &WfPlan, i: usize) -> bool {
    wf.nodes[i].in_branch.is_some()
}

fn wf_output_type(_wf: &WfPlan, _name: &str) -> LiteralType {
    LiteralType::Unknown
}

/// The value of a binding.
fn resolve(
    src: &Source,
    ty: &LiteralType,
    name: &str,
    wf_inputs: &LiteralMap,
    results: &[Option<LiteralMap>],
    wf: &WfPlan,
) -> Result<Literal, String> {
    match src {
        Source::Node { node, output, attr_path, ty: src_ty } => {
            let out = results.get(*node).and_then(|r| r.as_ref()).ok_or_else(|| {
                format!("node {} did not produce outputs", wf.nodes.get(*node).map_or("?", |n| n.id.as_str()))
            })?;
            let v = out
                .literals
                .get(output)
                .ok_or_else(|| format!("node {} has no output `{output}`", wf.nodes[*node].id))?;
            let want = if ty.is_unknown() { src_ty } else { ty };
            literals::attr(v, attr_path, want)
        }
        Source::Input { name: input, attr_path, ty: src_ty } => match wf_inputs.literals.get(input) {
            Some(v) => literals::attr(v, attr_path, if ty.is_unknown() { src_ty } else { ty }),
            None => Ok(literals::none_lit()),
        },
        Source::Const(c) => literals::from_source(name, ty, c),
        Source::Lit(l) => Ok((**l).clone()),
        Source::List(items) => {
            let elem = match ty {
                LiteralType::Collection { element } => (**element).clone(),
                _ => LiteralType::Unknown,
            };
            Ok(literals::collection(
                items.iter().map(|x| resolve(x, &elem, name, wf_inputs, results, wf)).collect::<Result<_, _>>()?,
            ))
        }
        Source::Dict(items) => {
            let val = match ty {
                LiteralType::Map { value } => (**value).clone(),
                _ => LiteralType::Unknown,
            };
            Ok(literals::map_lit(
                items
                    .iter()
                    .map(|(k, x)| Ok((k.clone(), resolve(x, &val, name, wf_inputs, results, wf)?)))
                    .collect::<Result<_, String>>()?,
            ))
        }
        Source::Unknown(why) => Err(format!("fledge cannot pass {why}")),
    }
}

fn operand_value(o: &Operand, wf_inputs: &LiteralMap, results: &[Option<LiteralMap>]) -> Result<Cmp, String> {
    let lit = match o {
        Operand::Literal { literal } => literals::from_source("condition", &LiteralType::Unknown, literal)?,
        Operand::Promise { source, attr_path } => {
            let v = match source {
                PromiseSource::WorkflowInput { name } => {
                    wf_inputs.literals.get(name).cloned().unwrap_or_else(literals::none_lit)
                }
                PromiseSource::Node { node, output } => results
                    .get(*node)
                    .and_then(|r| r.as_ref())
                    .and_then(|m| m.literals.get(output))
                    .cloned()
                    .ok_or_else(|| format!("the output `{output}` it tests is not available"))?,
            };
            literals::attr(&v, attr_path, &LiteralType::Unknown).or_else(|_| {
                // Attribute of a struct with unknown field type: read it as JSON.
                let mut j = literals::to_json(&v);
                for p in attr_path {
                    j = j.get(p).cloned().unwrap_or(serde_json::Value::Null);
                }
                literals::from_json("condition", &json_type(&j), &j)
            })?
        }
        Operand::Unknown => return Err("fledge cannot evaluate one side of the test".into()),
    };
    comparable(&lit).ok_or_else(|| "a test compares something that is not a plain value".to_string())
}

fn json_type(j: &serde_json::Value) -> LiteralType {
    use fledge_core::types::Simple;
    match j {
        serde_json::Value::Bool(_) => LiteralType::simple(Simple::Boolean),
        serde_json::Value::Number(n) if n.is_i64() => LiteralType::simple(Simple::Integer),
        serde_json::Value::Number(_) => LiteralType::simple(Simple::Float),
        serde_json::Value::Null => LiteralType::simple(Simple::None),
        _ => LiteralType::simple(Simple::String),
    }
}

/// Flyte's comparison of two primitives (numbers compare across int and float).
fn eval_condition(c: &Condition, wf_inputs: &LiteralMap, results: &[Option<LiteralMap>]) -> Result<bool, String> {
    match c {
        Condition::And { left, right } => {
            Ok(eval_condition(left, wf_inputs, results)? && eval_condition(right, wf_inputs, results)?)
        }
        Condition::Or { left, right } => {
            Ok(eval_condition(left, wf_inputs, results)? || eval_condition(right, wf_inputs, results)?)
        }
        Condition::IsTrue { operand } => Ok(operand_value(operand, wf_inputs, results)? == Cmp::Bool(true)),
        Condition::IsFalse { operand } => Ok(operand_value(operand, wf_inputs, results)? == Cmp::Bool(false)),
        Condition::IsNone { operand } => Ok(operand_value(operand, wf_inputs, results)? == Cmp::None),
        Condition::Compare { op, left, right } => {
            let (l, r) = (operand_value(left, wf_inputs, results)?, operand_value(right, wf_inputs, results)?);
            let same_kind = std::mem::discriminant(&l) == std::mem::discriminant(&r);
            if !same_kind && !matches!(op.as_str(), "==" | "!=") {
                return Err(format!("cannot compare {l:?} {op} {r:?}"));
            }
            Ok(match op.as_str() {
                "==" => l == r,
                "!=" => l != r,
                "<" => l < r,
                "<=" => l <= r,
                ">" => l > r,
                ">=" => l >= r,
                other => return Err(format!("`{other}` is not a comparison Flyte supports in conditions")),
            })
        }
        Condition::Unknown => Err("fledge could not read this test from the source".into()),
    }
}

/// A literal map as a JSON object with sorted keys.
pub fn outputs_json(m: &LiteralMap) -> serde_json::Value {
    let sorted: BTreeMap<&String, &Literal> = m.literals.iter().collect();
    serde_json::Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), literals::to_json(v))).collect())
}

/// The outputs of the nodes that have finished, by node index (`None` for the others).
fn done_outputs(state: &[NodeState]) -> Vec<Option<LiteralMap>> {
    state
        .iter()
        .map(|s| match s {
            NodeState::Done(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
