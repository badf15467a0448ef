//! The core's workflow graph turned into an executable plan: what each node runs, where each of its
//! inputs comes from, which nodes it waits for. Sub-workflows and launch plans are planned inline.

use super::fingerprint::task_fingerprint;
use fledge_core::flyte::graph::{BoundValue, Condition, Literal as SrcLiteral, Node, PromiseSource, WorkflowGraph};
use fledge_core::flyte::{EntityId, EntityKind, Var};
use fledge_core::syntax::{keyword, Arg, ExprKind};
use fledge_core::types::LiteralType;
use fledge_core::workspace::Analysis;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// One workflow, ready to run.
#[derive(Clone, Debug)]
pub struct WfPlan {
    /// `module.name`.
    pub name: String,
    pub inputs: Vec<Var>,
    pub nodes: Vec<PlanNode>,
    pub outputs: Vec<(String, Source)>,
    /// Values of inputs left unbound when it runs as a sub-workflow: the workflow's defaults, or a
    /// launch plan's `default_inputs`.
    pub defaults: BTreeMap<String, fledge_proto::flyteidl::core::Literal>,
    /// A launch plan's `fixed_inputs` (they win over bindings).
    pub fixed: BTreeMap<String, fledge_proto::flyteidl::core::Literal>,
}

#[derive(Clone, Debug)]
pub struct PlanNode {
    /// Unique within the whole run: `n3`, or `n2.n0` inside the sub-workflow of node `n2`.
    pub id: String,
    /// What the user wrote (`pricing.summarize`).
    pub label: String,
    pub kind: NodeKind,
    pub bindings: Vec<(String, Source)>,
    /// Nodes (indices in the same plan) that must finish first.
    pub deps: BTreeSet<usize>,
    /// This node runs only when the branch node at this index selects it.
    pub in_branch: Option<usize>,
    /// The Flyte type of each input (what constants and attribute accesses are converted to).
    pub input_types: BTreeMap<String, LiteralType>,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Task(TaskSpec),
    Map(MapSpec),
    SubWorkflow(Arc<WfPlan>),
    Branch(BranchSpec),
    /// Something fledge cannot run (a reference entity, an unresolved callee); running it fails the node.
    Unsupported(String),
}

/// A task as the executor needs it, plus what the cache key is made of.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    pub module: String,
    pub name: String,
    pub retries: u32,
    pub timeout: Option<Duration>,
    pub fingerprint: super::fingerprint::TaskFingerprint,
    pub inputs: Vec<Var>,
    pub outputs: Vec<Var>,
}

impl TaskSpec {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

#[derive(Clone, Debug)]
pub struct MapSpec {
    pub task: TaskSpec,
    /// Inputs fixed by `functools.partial` (not mapped).
    pub partial: Vec<(String, Source)>,
    pub concurrency: Option<u32>,
    pub min_success_ratio: f64,
}

#[derive(Clone, Debug)]
pub struct BranchSpec {
    pub name: String,
    /// `(test, case node)` of each `if_`/`elif_`; then the `else_` case (`None` for `.fail()`).
    pub cases: Vec<(Condition, Option<usize>)>,
    pub else_case: Option<Option<usize>>,
}

/// Where a value comes from.
#[derive(Clone, Debug)]
pub enum Source {
    Node {
        node: usize,
        output: String,
        attr_path: Vec<String>,
        ty: LiteralType,
    },
    Input {
        name: String,
        attr_path: Vec<String>,
        ty: LiteralType,
    },
    Const(SrcLiteral),
    /// A literal value (bindings of a `@dynamic` task's sub-workflow).
    Lit(Box<fledge_proto::flyteidl::core::Literal>),
    List(Vec<Source>),
    Dict(Vec<(String, Source)>),
    /// Not known statically: running the node fails with this message.
    Unknown(String),
}

/// Why a workflow cannot be planned at all.
#[derive(Debug)]
pub struct PlanError(pub String);

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Plans the workflow `graph` (and, inline, what it calls).
pub fn plan_workflow(analysis: &Analysis, graph: &WorkflowGraph) -> Result<WfPlan, PlanError> {
    plan_graph(analysis, graph, "", 0)
}

fn plan_graph(analysis: &Analysis, g: &WorkflowGraph, prefix: &str, depth: usize) -> Result<WfPlan, PlanError> {
    let ent = &analysis.entities.entities[g.entity];
    let name = ent.qualified_name(&analysis.index);
    if depth > 32 {
        return Err(PlanError(format!("workflow `{name}` nests sub-workflows more than 32 deep (recursive?)")));
    }
    let mut nodes = Vec::with_capacity(g.nodes.len());
    for (i, n) in g.nodes.iter().enumerate() {
        let id = format!("{prefix}{}", n.id);
        let mut deps = BTreeSet::new();
        let bindings: Vec<(String, Source)> =
            n.bindings.iter().map(|b| (b.input.clone(), source(&b.value, &mut deps))).collect();
        let kind = node_kind(analysis, n, &id, depth, &mut deps)?;
        for (a, b, _) in &g.order_edges {
            if *b == i {
                deps.insert(*a);
            }
        }
        let mut input_types: BTreeMap<String, LiteralType> =
            n.callee.interface.inputs.iter().map(|v| (v.name.clone(), v.ty.lit.clone())).collect();
        if let NodeKind::Map(m) = &kind {
            for v in &m.task.inputs {
                if m.partial.iter().any(|p| p.0 == v.name) {
                    input_types.insert(v.name.clone(), v.ty.lit.clone());
                }
            }
        }
        nodes.push(PlanNode {
            id,
            label: n.callee.name.clone(),
            kind,
            bindings,
            deps,
            in_branch: n.in_branch,
            input_types,
        });
    }
    // A branch waits for everything its cases need: it runs the selected case itself.
    for i in 0..nodes.len() {
        if let NodeKind::Branch(b) = &nodes[i].kind {
            let case_nodes: Vec<usize> = b.cases.iter().filter_map(|c| c.1).chain(b.else_case.flatten()).collect();
            let mut extra = BTreeSet::new();
            for c in case_nodes {
                extra.extend(nodes[c].deps.iter().copied().filter(|d| *d != i));
            }
            nodes[i].deps.extend(extra);
        }
    }
    let mut unused = BTreeSet::new();
    let outputs = g.outputs.iter().map(|o| (o.output.clone(), source(&o.value, &mut unused))).collect();
    let defaults = ent
        .interface
        .inputs
        .iter()
        .filter_map(|v| Some((v.name.clone(), super::literals::default_literal(v, v.default.as_ref()?).ok()?)))
        .collect();
    Ok(WfPlan { name, inputs: ent.interface.inputs.clone(), nodes, outputs, defaults, fixed: BTreeMap::new() })
}

fn node_kind(
    analysis: &Analysis,
    n: &Node,
    id: &str,
    depth: usize,
    deps: &mut BTreeSet<usize>,
) -> Result<NodeKind, PlanError> {
    if let Some(b) = &n.branch {
        let mut cases = Vec::new();
        for (k, c) in b.cases.iter().enumerate() {
            if k < b.conditions.len() {
                condition_deps(&b.conditions[k], deps);
                cases.push((b.conditions[k].clone(), *c));
            }
        }
        let else_case = if b.has_else { Some(b.cases.get(b.conditions.len()).copied().flatten()) } else { None };
        return Ok(NodeKind::Branch(BranchSpec { name: b.name.clone(), cases, else_case }));
    }
    if n.opaque_args {
        return Ok(NodeKind::Unsupported(format!("`{}` is called with *args/**kwargs", n.callee.name)));
    }
    let Some(_) = n.callee.entity.or(n.callee.mapped.as_ref().map(|m| m.target)) else {
        return Ok(NodeKind::Unsupported(format!("fledge could not resolve `{}`", n.callee.name)));
    };
    match n.callee.kind {
        EntityKind::Task | EntityKind::DynamicTask => {
            Ok(NodeKind::Task(task_spec(analysis, n.callee.entity.expect("checked above"))))
        }
        EntityKind::MapTask => {
            let Some(m) = &n.callee.mapped else {
                return Ok(NodeKind::Unsupported(format!("fledge could not resolve the task of `{}`", n.callee.name)));
            };
            let partial = m.partial.iter().map(|b| (b.input.clone(), source(&b.value, deps))).collect();
            let ratio = match (m.min_success_ratio, m.min_successes) {
                (Some(r), _) => r,
                (None, Some(_)) => 0.0,
                (None, None) => 1.0,
            };
            Ok(NodeKind::Map(MapSpec {
                task: task_spec(analysis, m.target),
                partial,
                concurrency: m.concurrency.filter(|c| *c > 0),
                min_success_ratio: ratio,
            }))
        }
        EntityKind::Workflow | EntityKind::LaunchPlan => {
            plan_callee(analysis, n.callee.entity.expect("checked above"), &n.callee.name, &format!("{id}."), depth)
        }
        other => Ok(NodeKind::Unsupported(format!(
            "`{}` is a {}, which fledge run cannot execute locally",
            n.callee.name,
            other.describe()
        ))),
    }
}

/// A workflow or launch plan called as a node, planned inline (ids start with `prefix`).
fn plan_callee(
    analysis: &Analysis,
    entity: EntityId,
    label: &str,
    prefix: &str,
    depth: usize,
) -> Result<NodeKind, PlanError> {
    let mut target = entity;
    let mut lp_args = None;
    if analysis.entities.entities[entity].kind == EntityKind::LaunchPlan {
        lp_args = Some(analysis.entities.entities[target].config_args.clone());
        match analysis.entities.entities[target].target {
            Some(t) => target = t,
            None => return Ok(NodeKind::Unsupported(format!("launch plan `{label}` has no workflow"))),
        }
    }
    let Some(g) = analysis.graphs.iter().find(|g| g.entity == target) else {
        return Ok(NodeKind::Unsupported(format!("fledge has no graph for workflow `{label}`")));
    };
    let mut sub = plan_graph(analysis, g, prefix, depth + 1)?;
    if let Some(args) = lp_args {
        // `default_inputs` / `fixed_inputs` of the launch plan, as `{"name": value}` dicts.
        for (kw, fixed) in [("default_inputs", false), ("fixed_inputs", true)] {
            let Some(ExprKind::Dict(items)) = keyword(&args, kw).map(|a| &a.value.kind) else { continue };
            for (k, v) in items {
                let Some(name) = k.as_str() else { continue };
                let Some(var) = sub.inputs.iter().find(|x| x.name == name) else { continue };
                let lit = super::literals::default_literal(var, v)
                    .map_err(|e| PlanError(format!("launch plan `{label}`: {e}")))?;
                if fixed {
                    sub.fixed.insert(name.to_string(), lit);
                } else {
                    sub.defaults.insert(name.to_string(), lit);
                }
            }
        }
    }
    Ok(NodeKind::SubWorkflow(Arc::new(sub)))
}

fn condition_deps(c: &Condition, deps: &mut BTreeSet<usize>) {
    use fledge_core::flyte::graph::Operand;
    let mut op = |o: &Operand| {
        if let Operand::Promise { source: PromiseSource::Node { node, .. }, .. } = o {
            deps.insert(*node);
        }
    };
    match c {
        Condition::Compare { left, right, .. } => {
            op(left);
            op(right);
        }
        Condition::IsTrue { operand } | Condition::IsFalse { operand } | Condition::IsNone { operand } => op(operand),
        Condition::And { left, right } | Condition::Or { left, right } => {
            condition_deps(left, deps);
            condition_deps(right, deps);
        }
        Condition::Unknown => {}
    }
}

fn source(v: &BoundValue, deps: &mut BTreeSet<usize>) -> Source {
    match v {
        BoundValue::Promise { source: PromiseSource::Node { node, output }, attr_path, ty } => {
            deps.insert(*node);
            Source::Node { node: *node, output: output.clone(), attr_path: attr_path.clone(), ty: ty.lit.clone() }
        }
        BoundValue::Promise { source: PromiseSource::WorkflowInput { name }, attr_path, ty } => {
            Source::Input { name: name.clone(), attr_path: attr_path.clone(), ty: ty.lit.clone() }
        }
        BoundValue::Literal { literal } => Source::Const(literal.clone()),
        BoundValue::List { items } => Source::List(items.iter().map(|(x, _)| source(x, deps)).collect()),
        BoundValue::Dict { items } => {
            let mut out = Vec::new();
            for (k, x, _) in items {
                match k {
                    Some(k) => out.push((k.clone(), source(x, deps))),
                    None => return Source::Unknown("a dict with a computed key".into()),
                }
            }
            Source::Dict(out)
        }
        BoundValue::Void { node } | BoundValue::MultiOutput { node } => {
            deps.insert(*node);
            Source::Unknown("a node's whole result (bind one of its outputs instead)".into())
        }
        BoundValue::Comparison => Source::Unknown("a comparison of promises".into()),
        BoundValue::Unknown => Source::Unknown("a value fledge cannot work out statically".into()),
    }
}

fn task_spec(analysis: &Analysis, id: EntityId) -> TaskSpec {
    let ent = &analysis.entities.entities[id];
    let args = &ent.config_args;
    TaskSpec {
        module: analysis.index.module(ent.module).name.clone(),
        name: ent.name.clone(),
        retries: keyword(args, "retries").and_then(int_of).unwrap_or(0).max(0) as u32,
        timeout: keyword(args, "timeout").and_then(timeout_of),
        fingerprint: task_fingerprint(analysis, id),
        inputs: ent.interface.inputs.clone(),
        outputs: ent.interface.outputs.clone(),
    }
}

fn int_of(a: &Arg) -> Option<i64> {
    match &a.value.kind {
        ExprKind::Int(t) => t.replace('_', "").parse().ok(),
        _ => None,
    }
}

/// `timeout=60`, `timeout=timedelta(minutes=5)`, `datetime.timedelta(seconds=1.5)`.
fn timeout_of(a: &Arg) -> Option<Duration> {
    match &a.value.kind {
        ExprKind::Int(t) | ExprKind::Float(t) => t.replace('_', "").parse::<f64>().ok().map(Duration::from_secs_f64),
        ExprKind::Call { func, args } if func.dotted().is_some_and(|d| d.ends_with("timedelta")) => {
            let mut secs = 0.0;
            let units = [
                ("days", 86400.0),
                ("seconds", 1.0),
                ("microseconds", 1e-6),
                ("milliseconds", 1e-3),
                ("minutes", 60.0),
                ("hours", 3600.0),
                ("weeks", 604800.0),
            ];
            for (i, arg) in args.iter().enumerate() {
                let unit = match &arg.name {
                    Some(n) => units.iter().find(|u| u.0 == n)?.1,
                    None => units.get(i)?.1,
                };
                let v: f64 = match &arg.value.kind {
                    ExprKind::Int(t) | ExprKind::Float(t) => t.replace('_', "").parse().ok()?,
                    _ => return None,
                };
                secs += v * unit;
            }
            Some(Duration::from_secs_f64(secs))
        }
        _ => None,
    }
}

impl WfPlan {
    /// Every task of the plan (sub-workflows included), for `--force` name checks.
    pub fn task_names(&self, out: &mut BTreeSet<String>) {
        for n in &self.nodes {
            match &n.kind {
                NodeKind::Task(t) => {
                    out.insert(t.name.clone());
                }
                NodeKind::Map(m) => {
                    out.insert(m.task.name.clone());
                }
                NodeKind::SubWorkflow(w) => w.task_names(out),
                _ => {}
            }
        }
    }
}

/// What the sub-workflows `@dynamic` tasks return may call: the project's tasks and launch plans.
#[derive(Clone, Debug, Default)]
pub struct ProjectTable {
    /// Every task by qualified name.
    pub tasks: std::collections::HashMap<String, TaskSpec>,
    /// Every launch plan that could be planned, by the names Flyte knows it by (its `name=`, else
    /// the workflow's name for a default launch plan) and by `module.variable`; node ids start
    /// with no prefix (see [`with_prefix`]).
    pub launch_plans: std::collections::HashMap<String, Arc<WfPlan>>,
}

pub fn project_table(analysis: &Analysis) -> ProjectTable {
    let tasks = analysis
        .entities
        .entities
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.kind, EntityKind::Task | EntityKind::DynamicTask))
        .map(|(id, e)| (e.qualified_name(&analysis.index), task_spec(analysis, id)))
        .collect();
    let mut launch_plans = std::collections::HashMap::new();
    for (id, e) in analysis.entities.entities.iter().enumerate() {
        if e.kind != EntityKind::LaunchPlan {
            continue;
        }
        let qualified = e.qualified_name(&analysis.index);
        let Ok(NodeKind::SubWorkflow(plan)) = plan_callee(analysis, id, &qualified, "", 0) else { continue };
        let flyte_name = match keyword(&e.config_args, "name").and_then(|a| a.value.as_str()) {
            Some(n) => n.to_string(),
            None => e.target.map(|t| analysis.entities.entities[t].qualified_name(&analysis.index)).unwrap_or_default(),
        };
        launch_plans.insert(flyte_name, plan.clone());
        launch_plans.entry(qualified).or_insert(plan);
    }
    ProjectTable { tasks, launch_plans }
}

/// `plan` with `prefix` before every node id (sub-workflows included).
pub fn with_prefix(plan: &WfPlan, prefix: &str) -> WfPlan {
    let mut p = plan.clone();
    for n in &mut p.nodes {
        n.id = format!("{prefix}{}", n.id);
        if let NodeKind::SubWorkflow(sub) = &n.kind {
            n.kind = NodeKind::SubWorkflow(Arc::new(with_prefix(sub, prefix)));
        }
    }
    p
}

/// The sub-workflow a `@dynamic` task returned (flytekit's futures file), as a plan whose node ids
/// start with `prefix` (the dynamic node's id and a dot). Tasks are found in `tasks` by name; the
/// spec's own sub-workflows, conditionals and map tasks become `SubWorkflow`, `Branch` and `Map`
/// nodes (a task node whose task is `@dynamic` runs its own spec when it runs).
pub fn plan_dynamic(
    spec: &fledge_proto::flyteidl::core::DynamicJobSpec,
    project: &ProjectTable,
    name: &str,
    prefix: &str,
) -> WfPlan {
    let ctx = DynCtx { tasks: &project.tasks, launch_plans: &project.launch_plans, subworkflows: &spec.subworkflows };
    plan_dyn_nodes(&ctx, &spec.nodes, &spec.outputs, name, prefix, 0)
}

/// What the nodes of a `DynamicJobSpec` refer to.
struct DynCtx<'a> {
    tasks: &'a std::collections::HashMap<String, TaskSpec>,
    launch_plans: &'a std::collections::HashMap<String, Arc<WfPlan>>,
    subworkflows: &'a [fledge_proto::flyteidl::core::WorkflowTemplate],
}

/// The nodes and outputs of a dynamic spec or of one of its sub-workflows (whose inputs are the
/// promises of the start node, `""` or `start-node`: they become the plan's inputs).
fn plan_dyn_nodes(
    ctx: &DynCtx,
    spec_nodes: &[fledge_proto::flyteidl::core::Node],
    spec_outputs: &[fledge_proto::flyteidl::core::Binding],
    name: &str,
    prefix: &str,
    depth: usize,
) -> WfPlan {
    let index: BTreeMap<&str, usize> = spec_nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    // Top-level nodes keep their spec index (promises refer to them); case nodes come after them.
    let mut nodes: Vec<PlanNode> = spec_nodes.iter().map(|_| placeholder()).collect();
    for (i, n) in spec_nodes.iter().enumerate() {
        nodes[i] = dyn_node(ctx, n, &format!("{prefix}{}", n.id), i, None, &index, &mut nodes, depth);
    }
    // A branch waits for everything its cases need: it runs the selected case itself. Cases come
    // after their branch, so going backwards covers a branch nested in a case first.
    for i in (0..nodes.len()).rev() {
        if let NodeKind::Branch(b) = &nodes[i].kind {
            let case_nodes: Vec<usize> = b.cases.iter().filter_map(|c| c.1).chain(b.else_case.flatten()).collect();
            let mut extra = BTreeSet::new();
            for c in case_nodes {
                extra
                    .extend(nodes[c].deps.iter().copied().filter(|d| *d != i && !case_nodes_of(&nodes, i).contains(d)));
            }
            nodes[i].deps.extend(extra);
        }
    }
    let mut unused = BTreeSet::new();
    let outputs =
        spec_outputs.iter().map(|b| (b.var.clone(), binding_source(b.binding.as_ref(), &index, &mut unused))).collect();
    WfPlan {
        name: name.to_string(),
        inputs: Vec::new(),
        nodes,
        outputs,
        defaults: BTreeMap::new(),
        fixed: BTreeMap::new(),
    }
}

/// The case nodes of branch `i`, nested branches' cases included.
fn case_nodes_of(nodes: &[PlanNode], i: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    if let NodeKind::Branch(b) = &nodes[i].kind {
        for c in b.cases.iter().filter_map(|c| c.1).chain(b.else_case.flatten()) {
            out.insert(c);
            out.extend(case_nodes_of(nodes, c));
        }
    }
    out
}

fn placeholder() -> PlanNode {
    PlanNode {
        id: String::new(),
        label: String::new(),
        kind: NodeKind::Unsupported("internal: unplanned node".into()),
        bindings: Vec::new(),
        deps: BTreeSet::new(),
        in_branch: None,
        input_types: BTreeMap::new(),
    }
}

/// One node of a dynamic spec, planned as node `me` of `nodes` (case nodes of a conditional are
/// appended to `nodes`).
#[allow(clippy::too_many_arguments)]
fn dyn_node(
    ctx: &DynCtx,
    n: &fledge_proto::flyteidl::core::Node,
    id: &str,
    me: usize,
    in_branch: Option<usize>,
    index: &BTreeMap<&str, usize>,
    nodes: &mut Vec<PlanNode>,
    depth: usize,
) -> PlanNode {
    use fledge_proto::flyteidl::core::{array_node, if_else_block, node, task_node, workflow_node};
    let mut deps: BTreeSet<usize> = n.upstream_node_ids.iter().filter_map(|u| index.get(u.as_str()).copied()).collect();
    let mut bindings: Vec<(String, Source)> =
        n.inputs.iter().map(|b| (b.var.clone(), binding_source(b.binding.as_ref(), index, &mut deps))).collect();
    let meta_name = n.metadata.as_ref().map(|m| m.name.clone()).filter(|m| !m.is_empty());
    let mut label = meta_name.clone().unwrap_or_else(|| n.id.clone());
    let mut input_types = BTreeMap::new();
    let task_ref = |t: &fledge_proto::flyteidl::core::TaskNode| {
        t.reference.as_ref().map(|task_node::Reference::ReferenceId(id)| id.name.clone())
    };
    let kind = match &n.target {
        Some(node::Target::TaskNode(t)) => match task_ref(t) {
            Some(name) => {
                label = name.rsplit('.').next().unwrap_or(&name).to_string();
                match ctx.tasks.get(&name) {
                    Some(ts) => {
                        input_types = ts.inputs.iter().map(|v| (v.name.clone(), v.ty.lit.clone())).collect();
                        NodeKind::Task(ts.clone())
                    }
                    None => NodeKind::Unsupported(format!("task `{name}` is not in the project")),
                }
            }
            None => NodeKind::Unsupported("a task node without a task".into()),
        },
        Some(node::Target::WorkflowNode(w)) => match &w.reference {
            Some(workflow_node::Reference::SubWorkflowRef(wid)) => {
                let found =
                    ctx.subworkflows.iter().find(|t| t.id.as_ref() == Some(wid)).or_else(|| {
                        ctx.subworkflows.iter().find(|t| t.id.as_ref().is_some_and(|i| i.name == wid.name))
                    });
                match found {
                    _ if depth >= 32 => NodeKind::Unsupported(format!(
                        "sub-workflow `{}` nests sub-workflows more than 32 deep (recursive?)",
                        wid.name
                    )),
                    Some(tpl) => {
                        label = meta_name.clone().unwrap_or_else(|| wid.name.rsplit('.').next().unwrap_or("").into());
                        let sub =
                            plan_dyn_nodes(ctx, &tpl.nodes, &tpl.outputs, &wid.name, &format!("{id}."), depth + 1);
                        NodeKind::SubWorkflow(Arc::new(sub))
                    }
                    None => NodeKind::Unsupported(format!(
                        "sub-workflow `{}` is not in the spec the @dynamic task returned",
                        wid.name
                    )),
                }
            }
            Some(workflow_node::Reference::LaunchplanRef(lp)) => match ctx.launch_plans.get(&lp.name) {
                // A launch plan of the project: its workflow runs inline, with its default and fixed inputs.
                Some(plan) => {
                    label = meta_name.clone().unwrap_or_else(|| lp.name.rsplit('.').next().unwrap_or("").into());
                    input_types = plan.inputs.iter().map(|v| (v.name.clone(), v.ty.lit.clone())).collect();
                    NodeKind::SubWorkflow(Arc::new(with_prefix(plan, &format!("{id}."))))
                }
                None => NodeKind::Unsupported(format!(
                    "launch plan `{}` is not one of the project's launch plans fledge can plan \
                     (fledge runs a launch plan inside a @dynamic task only if it is defined in the project)",
                    lp.name
                )),
            },
            None => NodeKind::Unsupported("a workflow node without a workflow".into()),
        },
        Some(node::Target::BranchNode(b)) => {
            let by_var: BTreeMap<String, Source> = bindings.iter().cloned().collect();
            let name = meta_name.clone().unwrap_or_else(|| n.id.clone());
            let mut cases = Vec::new();
            let mut else_case = None;
            if let Some(ie) = &b.if_else {
                let add_case = |then: &fledge_proto::flyteidl::core::Node, nodes: &mut Vec<PlanNode>| {
                    let k = nodes.len();
                    nodes.push(placeholder());
                    nodes[k] = dyn_node(ctx, then, &format!("{id}.{}", then.id), k, Some(me), index, nodes, depth);
                    k
                };
                for blk in ie.case.iter().map(|c| &**c).chain(ie.other.iter()) {
                    let cond = blk.condition.as_ref().map_or(Condition::Unknown, |c| dyn_condition(c, &by_var));
                    let case = blk.then_node.as_ref().map(|t| add_case(t, nodes));
                    cases.push((cond, case));
                }
                else_case = match &ie.default {
                    Some(if_else_block::Default::ElseNode(e)) => Some(Some(add_case(e, nodes))),
                    Some(if_else_block::Default::Error(_)) => Some(None),
                    None => None,
                };
            }
            // The condition's inputs (`dn0.o0`) are read by the branch itself, not passed to a task.
            bindings.clear();
            NodeKind::Branch(BranchSpec { name, cases, else_case })
        }
        Some(node::Target::ArrayNode(a)) => {
            let sub = a.node.as_ref().and_then(|s| match &s.target {
                Some(node::Target::TaskNode(t)) => task_ref(t),
                _ => None,
            });
            match sub {
                None => NodeKind::Unsupported("an array node over something other than a task".into()),
                Some(name) => match ctx.tasks.get(&name).or_else(|| ctx.tasks.get(&mapped_task_name(&name))) {
                    None => NodeKind::Unsupported(format!("the task mapped by `{name}` is not in the project")),
                    Some(ts) => {
                        label = ts.name.clone();
                        let (partial, mapped): (Vec<_>, Vec<_>) =
                            bindings.drain(..).partition(|(k, _)| a.bound_inputs.contains(k));
                        bindings = mapped;
                        for v in &ts.inputs {
                            let ty = if a.bound_inputs.contains(&v.name) {
                                v.ty.lit.clone()
                            } else {
                                LiteralType::Collection { element: Box::new(v.ty.lit.clone()) }
                            };
                            input_types.insert(v.name.clone(), ty);
                        }
                        let min_success_ratio = match a.success_criteria {
                            Some(array_node::SuccessCriteria::MinSuccessRatio(r)) => r as f64,
                            Some(array_node::SuccessCriteria::MinSuccesses(_)) => 0.0,
                            None => 1.0,
                        };
                        let concurrency = match a.parallelism_option {
                            Some(array_node::ParallelismOption::Parallelism(p)) if p > 0 => Some(p),
                            _ => None,
                        };
                        NodeKind::Map(MapSpec { task: ts.clone(), partial, concurrency, min_success_ratio })
                    }
                },
            }
        }
        Some(node::Target::GateNode(_)) => {
            NodeKind::Unsupported(format!("node `{}` is a gate node, which fledge run cannot execute locally", n.id))
        }
        None => NodeKind::Unsupported(format!("node `{}` has nothing to run", n.id)),
    };
    PlanNode { id: id.to_string(), label, kind, bindings, deps, in_branch, input_types }
}

/// The task a flytekit map task wraps: `mod.map_f_<hash>-arraynode` maps `mod.f`.
fn mapped_task_name(name: &str) -> String {
    let base = name.strip_suffix("-arraynode").unwrap_or(name);
    let base = base.rsplit_once('_').map_or(base, |(b, _)| b);
    match base.rsplit_once('.') {
        Some((module, f)) => format!("{module}.{}", f.strip_prefix("map_").unwrap_or(f)),
        None => base.strip_prefix("map_").unwrap_or(base).to_string(),
    }
}

/// A flyteidl branch condition in the terms of a static `conditional()`: a `var` operand is the
/// branch node's input of that name (a promise of an upstream node or of a sub-workflow input).
fn dyn_condition(e: &fledge_proto::flyteidl::core::BooleanExpression, inputs: &BTreeMap<String, Source>) -> Condition {
    use fledge_core::flyte::graph::Operand;
    use fledge_proto::flyteidl::core::{
        boolean_expression::Expr, comparison_expression::Operator, conjunction_expression::LogicalOperator, literal,
        operand, Literal,
    };
    let lit_operand = |l: &Literal| match super::literals::to_json(l) {
        _ if super::literals::datetime_seconds(l).is_some() => Operand::Literal {
            literal: SrcLiteral::Float(format!("{:?}", super::literals::datetime_seconds(l).unwrap_or_default())),
        },
        serde_json::Value::Bool(b) => Operand::Literal { literal: SrcLiteral::Bool(b) },
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {
            Operand::Literal { literal: SrcLiteral::Int(n.to_string()) }
        }
        serde_json::Value::Number(n) => Operand::Literal { literal: SrcLiteral::Float(n.to_string()) },
        serde_json::Value::String(s) => Operand::Literal { literal: SrcLiteral::Str(s) },
        serde_json::Value::Null => Operand::Literal { literal: SrcLiteral::None },
        _ => Operand::Unknown,
    };
    let scalar = |s: fledge_proto::flyteidl::core::Scalar| Literal {
        value: Some(literal::Value::Scalar(Box::new(s))),
        ..Default::default()
    };
    let operand = |o: Option<&fledge_proto::flyteidl::core::Operand>| match o.and_then(|o| o.val.as_ref()) {
        #[allow(deprecated)]
        Some(operand::Val::Primitive(p)) => lit_operand(&scalar(fledge_proto::flyteidl::core::Scalar {
            value: Some(fledge_proto::flyteidl::core::scalar::Value::Primitive(p.clone())),
        })),
        Some(operand::Val::Scalar(s)) => lit_operand(&scalar(s.clone())),
        Some(operand::Val::Var(v)) => match inputs.get(v) {
            Some(Source::Node { node, output, attr_path, .. }) => Operand::Promise {
                source: PromiseSource::Node { node: *node, output: output.clone() },
                attr_path: attr_path.clone(),
            },
            Some(Source::Input { name, attr_path, .. }) => Operand::Promise {
                source: PromiseSource::WorkflowInput { name: name.clone() },
                attr_path: attr_path.clone(),
            },
            Some(Source::Lit(l)) => lit_operand(l),
            _ => Operand::Unknown,
        },
        None => Operand::Unknown,
    };
    match &e.expr {
        Some(Expr::Comparison(c)) => {
            let op = match Operator::try_from(c.operator) {
                Ok(Operator::Eq) => "==",
                Ok(Operator::Neq) => "!=",
                Ok(Operator::Gt) => ">",
                Ok(Operator::Gte) => ">=",
                Ok(Operator::Lt) => "<",
                Ok(Operator::Lte) => "<=",
                Err(_) => return Condition::Unknown,
            };
            Condition::Compare {
                op: op.to_string(),
                left: operand(c.left_value.as_ref()),
                right: operand(c.right_value.as_ref()),
            }
        }
        Some(Expr::Conjunction(c)) => {
            let side = |x: &Option<Box<fledge_proto::flyteidl::core::BooleanExpression>>| {
                Box::new(x.as_deref().map_or(Condition::Unknown, |x| dyn_condition(x, inputs)))
            };
            let (left, right) = (side(&c.left_expression), side(&c.right_expression));
            match LogicalOperator::try_from(c.operator) {
                Ok(LogicalOperator::And) => Condition::And { left, right },
                Ok(LogicalOperator::Or) => Condition::Or { left, right },
                Err(_) => Condition::Unknown,
            }
        }
        None => Condition::Unknown,
    }
}

fn binding_source(
    b: Option<&fledge_proto::flyteidl::core::BindingData>,
    index: &BTreeMap<&str, usize>,
    deps: &mut BTreeSet<usize>,
) -> Source {
    use fledge_proto::flyteidl::core::{binding_data, literal, promise_attribute, Literal};
    let Some(v) = b.and_then(|b| b.value.as_ref()) else { return Source::Unknown("an empty binding".into()) };
    match v {
        binding_data::Value::Scalar(s) => Source::Lit(Box::new(Literal {
            value: Some(literal::Value::Scalar(Box::new(s.clone()))),
            ..Default::default()
        })),
        binding_data::Value::Collection(c) => {
            Source::List(c.bindings.iter().map(|x| binding_source(Some(x), index, deps)).collect())
        }
        binding_data::Value::Map(m) => {
            let sorted: BTreeMap<&String, _> = m.bindings.iter().collect();
            Source::Dict(sorted.into_iter().map(|(k, x)| (k.clone(), binding_source(Some(x), index, deps))).collect())
        }
        binding_data::Value::Promise(r) => {
            let attr_path = r
                .attr_path
                .iter()
                .filter_map(|a| match &a.value {
                    Some(promise_attribute::Value::StringValue(s)) => Some(s.clone()),
                    Some(promise_attribute::Value::IntValue(i)) => Some(i.to_string()),
                    None => None,
                })
                .collect();
            match index.get(r.node_id.as_str()) {
                Some(i) => {
                    deps.insert(*i);
                    Source::Node { node: *i, output: r.var.clone(), attr_path, ty: LiteralType::Unknown }
                }
                None => Source::Input { name: r.var.clone(), attr_path, ty: LiteralType::Unknown },
            }
        }
        binding_data::Value::OffloadedMetadata(_) => Source::Unknown("an offloaded literal".into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(deprecated)] // `Operand.primitive`, which flytekit still writes.
    use super::*;
    use fledge_core::flyte::graph::Operand;
    use fledge_core::Workspace;
    use fledge_proto::flyteidl::core as idl;

    const FLOW: &str = "from typing import List\n\nfrom flytekit import LaunchPlan, dynamic, task, workflow\n\n\
        @task\ndef square(n: int) -> int: ...\n\n\
        @task\ndef add(a: int, b: int) -> int: ...\n\n\
        @dynamic\ndef fan(n: int) -> List[int]: ...\n\n\
        @workflow\ndef sq_wf(n: int) -> int:\n    return square(n=n)\n\n\
        sq_lp = LaunchPlan.get_or_create(workflow=sq_wf, name=\"lps.squared\", fixed_inputs={\"n\": 3})\n";

    fn tasks() -> ProjectTable {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let mut ws = Workspace::new(root.clone(), Default::default());
        ws.set_file(root.join("flow.py"), FLOW.to_string());
        project_table(&ws.analyze())
    }

    fn ident(name: &str) -> idl::Identifier {
        idl::Identifier { name: name.into(), ..Default::default() }
    }

    fn promise(node: &str, var: &str) -> idl::BindingData {
        idl::BindingData {
            value: Some(idl::binding_data::Value::Promise(idl::OutputReference {
                node_id: node.into(),
                var: var.into(),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    fn prim(i: i64) -> idl::Primitive {
        idl::Primitive { value: Some(idl::primitive::Value::Integer(i)) }
    }

    fn scalar(i: i64) -> idl::Scalar {
        idl::Scalar { value: Some(idl::scalar::Value::Primitive(prim(i))) }
    }

    fn int(i: i64) -> idl::BindingData {
        idl::BindingData { value: Some(idl::binding_data::Value::Scalar(scalar(i))), ..Default::default() }
    }

    fn bind(var: &str, b: idl::BindingData) -> idl::Binding {
        idl::Binding { var: var.into(), binding: Some(b) }
    }

    fn node(id: &str, inputs: Vec<idl::Binding>, upstream: &[&str], target: idl::node::Target) -> idl::Node {
        idl::Node {
            id: id.into(),
            inputs,
            upstream_node_ids: upstream.iter().map(|u| u.to_string()).collect(),
            target: Some(target),
            ..Default::default()
        }
    }

    fn task(name: &str) -> idl::node::Target {
        idl::node::Target::TaskNode(idl::TaskNode {
            reference: Some(idl::task_node::Reference::ReferenceId(ident(name))),
            ..Default::default()
        })
    }

    fn sub_wf(r: idl::workflow_node::Reference) -> idl::node::Target {
        idl::node::Target::WorkflowNode(idl::WorkflowNode { reference: Some(r) })
    }

    fn compare(
        op: idl::comparison_expression::Operator,
        var: &str,
        right: idl::operand::Val,
    ) -> idl::BooleanExpression {
        idl::BooleanExpression {
            expr: Some(idl::boolean_expression::Expr::Comparison(idl::ComparisonExpression {
                operator: op as i32,
                left_value: Some(idl::Operand { val: Some(idl::operand::Val::Var(var.into())) }),
                right_value: Some(idl::Operand { val: Some(right) }),
            })),
        }
    }

    #[test]
    fn workflow_nodes_become_nested_plans_whose_start_node_promises_are_inputs() {
        let tpl = idl::WorkflowTemplate {
            id: Some(ident("flow.sq_add")),
            nodes: vec![
                node("dn0", vec![bind("n", promise("", "n"))], &[], task("flow.square")),
                node(
                    "dn1",
                    vec![bind("a", promise("dn0", "o0")), bind("b", promise("start-node", "n"))],
                    &["dn0"],
                    task("flow.add"),
                ),
            ],
            outputs: vec![bind("o0", promise("dn1", "o0"))],
            ..Default::default()
        };
        let spec = idl::DynamicJobSpec {
            nodes: vec![
                node(
                    "dn0",
                    vec![bind("n", int(3))],
                    &[],
                    sub_wf(idl::workflow_node::Reference::SubWorkflowRef(ident("flow.sq_add"))),
                ),
                node(
                    "dn1",
                    vec![bind("n", promise("dn0", "o0"))],
                    &["dn0"],
                    sub_wf(idl::workflow_node::Reference::SubWorkflowRef(ident("flow.missing"))),
                ),
                node("dn2", vec![], &[], sub_wf(idl::workflow_node::Reference::LaunchplanRef(ident("flow.some_lp")))),
                node("dn3", vec![bind("n", promise("dn0", "o0"))], &[], task("flow.fan")),
                node("dn4", vec![], &[], sub_wf(idl::workflow_node::Reference::LaunchplanRef(ident("lps.squared")))),
            ],
            outputs: vec![bind("o0", promise("dn0", "o0"))],
            subworkflows: vec![tpl],
            ..Default::default()
        };
        let plan = plan_dynamic(&spec, &tasks(), "flow.dyn", "n1.");
        let NodeKind::SubWorkflow(sub) = &plan.nodes[0].kind else { panic!("{:?}", plan.nodes[0].kind) };
        assert_eq!(plan.nodes[0].label, "sq_add");
        assert!(matches!(&plan.nodes[0].bindings[0].1, Source::Lit(_)));
        let ids: Vec<&str> = sub.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["n1.dn0.dn0", "n1.dn0.dn1"]);
        assert!(matches!(&sub.nodes[0].bindings[0].1, Source::Input { name, .. } if name == "n"));
        assert!(matches!(&sub.nodes[1].bindings[0].1, Source::Node { node: 0, output, .. } if output == "o0"));
        assert!(matches!(&sub.nodes[1].bindings[1].1, Source::Input { name, .. } if name == "n"));
        assert_eq!(sub.nodes[1].deps, BTreeSet::from([0]));
        assert!(matches!(&sub.outputs[0].1, Source::Node { node: 1, .. }));
        assert!(matches!(&sub.nodes[1].kind, NodeKind::Task(t) if t.name == "add"));
        assert!(matches!(&plan.nodes[1].kind, NodeKind::Unsupported(m) if m.contains("flow.missing")));
        assert_eq!(plan.nodes[1].deps, BTreeSet::from([0]));
        assert!(matches!(&plan.nodes[2].kind, NodeKind::Unsupported(m) if m.contains("launch plan `flow.some_lp`")));
        // A @dynamic task inside is a task node: it runs its own spec when it runs.
        assert!(matches!(&plan.nodes[3].kind, NodeKind::Task(t) if t.name == "fan"));
        // A launch plan of the project runs its workflow inline, with its fixed inputs.
        let NodeKind::SubWorkflow(lp) = &plan.nodes[4].kind else { panic!("{:?}", plan.nodes[4].kind) };
        assert_eq!(lp.nodes.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["n1.dn4.n0"]);
        assert!(lp.fixed.contains_key("n"));
        assert_eq!(plan.nodes[4].label, "squared");
    }

    #[test]
    fn branch_nodes_become_branches_whose_cases_follow_the_spec_nodes() {
        use idl::comparison_expression::Operator;
        let cond = idl::BooleanExpression {
            expr: Some(idl::boolean_expression::Expr::Conjunction(Box::new(idl::ConjunctionExpression {
                operator: idl::conjunction_expression::LogicalOperator::And as i32,
                left_expression: Some(Box::new(compare(
                    Operator::Gt,
                    "dn0.o0",
                    idl::operand::Val::Primitive(prim(10)),
                ))),
                right_expression: Some(Box::new(compare(
                    Operator::Lte,
                    "dn0.o0",
                    idl::operand::Val::Scalar(scalar(100)),
                ))),
            }))),
        };
        let if_else = idl::IfElseBlock {
            case: Some(Box::new(idl::IfBlock {
                condition: Some(cond),
                // Case nodes have ids of their own scope (this one repeats a spec node's).
                then_node: Some(Box::new(node(
                    "dn0",
                    vec![bind("n", promise("dn0", "o0"))],
                    &["dn0"],
                    task("flow.square"),
                ))),
            })),
            other: vec![idl::IfBlock {
                condition: Some(compare(Operator::Eq, "dn0.o0", idl::operand::Val::Primitive(prim(5)))),
                then_node: Some(Box::new(node(
                    "dn1",
                    vec![bind("a", promise("dn0", "o0")), bind("b", int(1))],
                    &["dn0"],
                    task("flow.add"),
                ))),
            }],
            default: Some(idl::if_else_block::Default::Error(idl::Error {
                failed_node_id: "dn1".into(),
                message: "no".into(),
            })),
        };
        let spec = idl::DynamicJobSpec {
            nodes: vec![
                node("dn0", vec![bind("n", int(4))], &[], task("flow.square")),
                node(
                    "dn1",
                    vec![bind("dn0.o0", promise("dn0", "o0"))],
                    &["dn0"],
                    idl::node::Target::BranchNode(Box::new(idl::BranchNode { if_else: Some(Box::new(if_else)) })),
                ),
                node("dn2", vec![bind("n", promise("dn1", "o0"))], &["dn1"], task("flow.square")),
            ],
            outputs: vec![bind("o0", promise("dn2", "o0"))],
            ..Default::default()
        };
        let plan = plan_dynamic(&spec, &tasks(), "flow.dyn", "n1.");
        let ids: Vec<&str> = plan.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["n1.dn0", "n1.dn1", "n1.dn2", "n1.dn1.dn0", "n1.dn1.dn1"]);
        let NodeKind::Branch(b) = &plan.nodes[1].kind else { panic!("{:?}", plan.nodes[1].kind) };
        assert_eq!(b.cases.iter().map(|c| c.1).collect::<Vec<_>>(), [Some(3), Some(4)]);
        assert_eq!(b.else_case, Some(None));
        let promise0 =
            Operand::Promise { source: PromiseSource::Node { node: 0, output: "o0".into() }, attr_path: vec![] };
        let Condition::And { left, right } = &b.cases[0].0 else { panic!("{:?}", b.cases[0].0) };
        assert!(
            matches!(&**left, Condition::Compare { op, left, right: Operand::Literal { literal: SrcLiteral::Int(i) } }
                if op == ">" && *left == promise0 && i == "10"),
            "{left:?}"
        );
        assert!(
            matches!(&**right, Condition::Compare { op, right: Operand::Literal { literal: SrcLiteral::Int(i) }, .. }
                if op == "<=" && i == "100"),
            "{right:?}"
        );
        assert!(matches!(&b.cases[1].0, Condition::Compare { op, .. } if op == "=="));
        // Cases run only when chosen, and read the outer nodes.
        assert_eq!(plan.nodes[3].in_branch, Some(1));
        assert_eq!(plan.nodes[4].in_branch, Some(1));
        assert!(matches!(&plan.nodes[3].bindings[0].1, Source::Node { node: 0, .. }));
        assert!(plan.nodes[1].bindings.is_empty());
        assert_eq!(plan.nodes[1].deps, BTreeSet::from([0]));
        assert_eq!(plan.nodes[2].deps, BTreeSet::from([1]));
        assert_eq!(plan.nodes[1].label, "dn1");
    }

    #[test]
    fn array_nodes_become_map_tasks_over_the_task_they_wrap() {
        let array = |task_name: &str, bound: &[&str], crit| {
            idl::node::Target::ArrayNode(Box::new(idl::ArrayNode {
                node: Some(Box::new(node(task_name, vec![], &[], task(task_name)))),
                bound_inputs: bound.iter().map(|b| b.to_string()).collect(),
                parallelism_option: Some(idl::array_node::ParallelismOption::Parallelism(2)),
                success_criteria: crit,
                ..Default::default()
            }))
        };
        let list = idl::BindingData {
            value: Some(idl::binding_data::Value::Collection(idl::BindingDataCollection {
                bindings: vec![int(1), int(2)],
            })),
            ..Default::default()
        };
        let spec = idl::DynamicJobSpec {
            nodes: vec![
                node(
                    "dn0",
                    vec![bind("n", list.clone())],
                    &[],
                    array(
                        "flow.map_square_6b3bd0353da5de6e84d7982921ead2b3-arraynode",
                        &[],
                        Some(idl::array_node::SuccessCriteria::MinSuccessRatio(0.5)),
                    ),
                ),
                node(
                    "dn1",
                    vec![bind("a", list), bind("b", promise("dn0", "o0"))],
                    &["dn0"],
                    array("flow.map_add_0123abcd-arraynode", &["b"], None),
                ),
                node("dn2", vec![], &[], array("flow.map_nope_00-arraynode", &[], None)),
            ],
            ..Default::default()
        };
        let plan = plan_dynamic(&spec, &tasks(), "flow.dyn", "");
        let NodeKind::Map(m) = &plan.nodes[0].kind else { panic!("{:?}", plan.nodes[0].kind) };
        assert_eq!(m.task.qualified(), "flow.square");
        assert_eq!((m.concurrency, m.min_success_ratio), (Some(2), 0.5));
        assert!(m.partial.is_empty());
        assert!(matches!(plan.nodes[0].input_types.get("n"), Some(LiteralType::Collection { .. })));
        assert_eq!(plan.nodes[0].label, "square");
        let NodeKind::Map(m) = &plan.nodes[1].kind else { panic!("{:?}", plan.nodes[1].kind) };
        assert_eq!(m.task.qualified(), "flow.add");
        assert_eq!(m.min_success_ratio, 1.0);
        assert_eq!(m.partial.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(plan.nodes[1].bindings.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(!matches!(plan.nodes[1].input_types.get("b"), Some(LiteralType::Collection { .. })));
        assert_eq!(plan.nodes[1].deps, BTreeSet::from([0]));
        assert!(matches!(&plan.nodes[2].kind, NodeKind::Unsupported(m) if m.contains("map_nope")));
    }

    #[test]
    fn map_task_names_name_the_task_they_wrap() {
        assert_eq!(mapped_task_name("shop.pricing.map_discount_6b3b-arraynode"), "shop.pricing.discount");
        assert_eq!(mapped_task_name("m.map_my_task_ab12-arraynode"), "m.my_task");
    }

    #[test]
    fn date_time_constants_in_dynamic_conditions_compare_as_times() {
        let t = idl::Scalar {
            value: Some(idl::scalar::Value::Primitive(idl::Primitive {
                value: Some(idl::primitive::Value::Datetime(fledge_proto::prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: 500_000_000,
                })),
            })),
        };
        let e = compare(idl::comparison_expression::Operator::Lt, "dn0.o0", idl::operand::Val::Scalar(t));
        let c = dyn_condition(&e, &BTreeMap::new());
        assert!(
            matches!(&c, Condition::Compare { left: Operand::Unknown, right: Operand::Literal { literal: SrcLiteral::Float(f) }, .. }
                if f == "1700000000.5"),
            "{c:?}"
        );
    }

    #[test]
    fn a_branch_in_a_case_waits_for_what_its_cases_read_but_not_for_case_nodes() {
        use idl::comparison_expression::Operator;
        let branch = |id: &str, then: idl::Node, other: idl::Node| {
            node(
                id,
                vec![bind("dn0.o0", promise("dn0", "o0"))],
                &["dn0"],
                idl::node::Target::BranchNode(Box::new(idl::BranchNode {
                    if_else: Some(Box::new(idl::IfElseBlock {
                        case: Some(Box::new(idl::IfBlock {
                            condition: Some(compare(Operator::Gt, "dn0.o0", idl::operand::Val::Scalar(scalar(1)))),
                            then_node: Some(Box::new(then)),
                        })),
                        other: vec![],
                        default: Some(idl::if_else_block::Default::ElseNode(Box::new(other))),
                    })),
                })),
            )
        };
        let sq = |id: &str, from: &str| node(id, vec![bind("n", promise(from, "o0"))], &[from], task("flow.square"));
        let inner = branch("dn1", sq("dn0", "dn0"), sq("dn1", "dn2"));
        let spec = idl::DynamicJobSpec {
            nodes: vec![
                node("dn0", vec![bind("n", int(4))], &[], task("flow.square")),
                branch("dn1", sq("dn0", "dn0"), inner),
                node("dn2", vec![bind("n", int(5))], &[], task("flow.square")),
            ],
            ..Default::default()
        };
        let plan = plan_dynamic(&spec, &tasks(), "flow.dyn", "");
        let ids: Vec<&str> = plan.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["dn0", "dn1", "dn2", "dn1.dn0", "dn1.dn1", "dn1.dn1.dn0", "dn1.dn1.dn1"]);
        assert_eq!(plan.nodes[4].in_branch, Some(1));
        assert_eq!(plan.nodes[6].in_branch, Some(4));
        // The inner else reads dn2: both branches wait for it.
        assert_eq!(plan.nodes[4].deps, BTreeSet::from([0, 2]));
        assert_eq!(plan.nodes[1].deps, BTreeSet::from([0, 2]));
    }
}
