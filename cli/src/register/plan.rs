//! What is sent, in which order, and what each answer means.
//!
//! Tasks first, concurrently; then workflows and launch plans, concurrently too, each once the
//! entities it references are registered (a workflow after its sub-workflows and the launch plans it
//! calls, a launch plan after its workflow), and the last one after all the others. Each entity gets exactly one Create call:
//! `ALREADY_EXISTS` means an identical entity is there (success, no retry); `INVALID_ARGUMENT` for a
//! changed entity under the same version is reported with the difference to what the server holds.
//! After the first failure nothing that could depend on it is sent.

use super::client::Client;
use crate::with_auth_retry;
use fledge_proto::flyteidl::admin;
use fledge_proto::flyteidl::core::{Identifier, ResourceType};
use fledge_proto::prost::Message;
use std::sync::Arc;
use tonic::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Task,
    Workflow,
    LaunchPlan,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Task => "task",
            Kind::Workflow => "workflow",
            Kind::LaunchPlan => "launch plan",
        }
    }
    pub fn from_frame(k: u32) -> Option<Kind> {
        match k {
            1 => Some(Kind::Task),
            2 => Some(Kind::Workflow),
            3 => Some(Kind::LaunchPlan),
            _ => None,
        }
    }
    pub fn frame(self) -> u32 {
        match self {
            Kind::Task => 1,
            Kind::Workflow => 2,
            Kind::LaunchPlan => 3,
        }
    }
    fn resource_type(self) -> ResourceType {
        match self {
            Kind::Task => ResourceType::Task,
            Kind::Workflow => ResourceType::Workflow,
            Kind::LaunchPlan => ResourceType::LaunchPlan,
        }
    }
}

/// One serialized entity: TaskSpec, WorkflowSpec or LaunchPlanSpec bytes, as flytekit made them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    pub kind: Kind,
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Created,
    AlreadyExists,
    Failed(String),
    /// Not sent because something it may depend on failed.
    NotSent,
    /// `--dry-run`.
    WouldRegister,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::AlreadyExists => "already present",
            Status::Failed(_) => "failed",
            Status::NotSent => "not sent",
            Status::WouldRegister => "would register",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Row {
    pub kind: Kind,
    pub name: String,
    pub status: Status,
    pub activated: bool,
}

pub struct Target {
    pub project: String,
    pub domain: String,
    pub version: String,
}

impl Target {
    pub fn id(&self, kind: Kind, name: &str) -> Identifier {
        Identifier {
            resource_type: kind.resource_type() as i32,
            project: self.project.clone(),
            domain: self.domain.clone(),
            name: name.to_string(),
            version: self.version.clone(),
            org: String::new(),
        }
    }
}

/// A Create request with the spec as the serializer's bytes (wire-compatible with
/// `TaskCreateRequest`, `WorkflowCreateRequest` and `LaunchPlanCreateRequest`: id = 1, spec = 2), so
/// FlyteAdmin receives exactly what flytekit produced, never a re-encoding.
#[derive(Clone, PartialEq, prost::Message)]
struct RawCreateRequest {
    #[prost(message, optional, tag = "1")]
    id: Option<Identifier>,
    #[prost(bytes = "vec", tag = "2")]
    spec: Vec<u8>,
}

/// The (empty) Create responses.
#[derive(Clone, PartialEq, prost::Message)]
struct CreateResponse {}

async fn raw_create(client: &Client, kind: Kind, id: Identifier, spec: &[u8]) -> Result<(), tonic::Status> {
    let path = match kind {
        Kind::Task => "/flyteidl.service.AdminService/CreateTask",
        Kind::Workflow => "/flyteidl.service.AdminService/CreateWorkflow",
        Kind::LaunchPlan => "/flyteidl.service.AdminService/CreateLaunchPlan",
    };
    let mut grpc = tonic::client::Grpc::new(client.intercepted());
    grpc.ready().await.map_err(|e| tonic::Status::unavailable(format!("FlyteAdmin is not ready: {e}")))?;
    let codec = tonic_prost::ProstCodec::<RawCreateRequest, CreateResponse>::default();
    let req = tonic::Request::new(RawCreateRequest { id: Some(id), spec: spec.to_vec() });
    grpc.unary(req, tonic::codegen::http::uri::PathAndQuery::from_static(path), codec).await.map(|_| ())
}

/// Sends one entity. Returns its status.
async fn create(client: &Client, t: &Target, e: &Entity) -> Status {
    let id = t.id(e.kind, &e.name);
    let result = with_auth_retry!(client, raw_create(client, e.kind, id.clone(), &e.bytes));
    match result {
        Ok(()) => Status::Created,
        Err(s) if s.code() == Code::AlreadyExists => Status::AlreadyExists,
        Err(s) if s.code() == Code::InvalidArgument && s.message().contains("different structure") => {
            let first = s.message().lines().next().unwrap_or_default().to_string();
            let diff = match existing_vs_ours(client, e, id).await {
                Ok(d) if !d.is_empty() => {
                    let only_bundle = d.lines().all(|l| l.contains(".tar.gz") || l.trim_start().starts_with('…'));
                    let note = if only_bundle && e.kind == Kind::Task {
                        "\n  only the code bundle differs: the project's files changed since this version was registered"
                    } else {
                        ""
                    };
                    format!("\n  what differs (- registered, + this code):\n{d}{note}")
                }
                Ok(_) => String::new(),
                Err(err) => format!("\n  (could not read the registered one to show the difference: {err})"),
            };
            Status::Failed(format!(
                "{first}\n  the same version already holds a different {}; register the change under a new version (omit --version for a content version){diff}",
                e.kind.as_str()
            ))
        }
        Err(s) => Status::Failed(status_message(&s)),
    }
}

pub fn status_message(s: &tonic::Status) -> String {
    let code = format!("{:?}", s.code());
    let msg = s.message();
    let msg = if msg.chars().count() > 2000 {
        format!("{}…", msg.chars().take(2000).collect::<String>())
    } else {
        msg.to_string()
    };
    match s.code() {
        Code::Unauthenticated => {
            format!("{code}: {msg} (the token was refused; check the credentials in the Flyte config)")
        }
        Code::Unavailable | Code::DeadlineExceeded => {
            format!("{code}: {msg} (FlyteAdmin did not answer; is the endpoint right and up?)")
        }
        _ => format!("{code}: {msg}"),
    }
}

/// The registered entity and ours, as text, and their line difference.
async fn existing_vs_ours(client: &Client, e: &Entity, id: Identifier) -> Result<String, String> {
    let req = admin::ObjectGetRequest { id: Some(id) };
    let (theirs, ours) = match e.kind {
        Kind::Task => {
            let t = with_auth_retry!(client, client.admin().get_task(req.clone()))
                .map_err(|s| status_message(&s))?
                .into_inner();
            let theirs = t.closure.and_then(|c| c.compiled_task).and_then(|c| c.template);
            let ours = admin::TaskSpec::decode(e.bytes.as_slice()).map_err(|x| x.to_string())?.template;
            (format!("{theirs:#?}"), format!("{ours:#?}"))
        }
        Kind::Workflow => {
            let w = with_auth_retry!(client, client.admin().get_workflow(req.clone()))
                .map_err(|s| status_message(&s))?
                .into_inner();
            let theirs = w.closure.and_then(|c| c.compiled_workflow).and_then(|c| c.primary).and_then(|p| p.template);
            let ours = admin::WorkflowSpec::decode(e.bytes.as_slice()).map_err(|x| x.to_string())?.template;
            (format!("{theirs:#?}"), format!("{ours:#?}"))
        }
        Kind::LaunchPlan => {
            let l = with_auth_retry!(client, client.admin().get_launch_plan(req.clone()))
                .map_err(|s| status_message(&s))?
                .into_inner();
            let ours = Some(admin::LaunchPlanSpec::decode(e.bytes.as_slice()).map_err(|x| x.to_string())?);
            (format!("{:#?}", l.spec), format!("{ours:#?}"))
        }
    };
    let d = line_diff(&theirs, &ours, 40);
    Ok(if d.is_empty() && theirs != ours {
        "    (only the order of fields or list items differs)\n".to_string()
    } else {
        d
    })
}

/// Lines only in `a` (`-`) or only in `b` (`+`), compared as multisets of trimmed lines (prost prints
/// map fields in hash order, so positions mean nothing), at most `max`.
pub fn line_diff(a: &str, b: &str, max: usize) -> String {
    use std::collections::HashMap;
    let count = |t: &'_ str| {
        let mut m: HashMap<String, i64> = HashMap::new();
        for l in t.lines() {
            *m.entry(l.trim().to_string()).or_default() += 1;
        }
        m
    };
    let (ca, cb) = (count(a), count(b));
    let mut out = Vec::new();
    for (sign, text, mine, other) in [('-', a, &ca, &cb), ('+', b, &cb, &ca)] {
        let mut extra: HashMap<&str, i64> = mine
            .iter()
            .map(|(l, n)| (l.as_str(), n - other.get(l).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect();
        for l in text.lines().map(str::trim) {
            if let Some(n) = extra.get_mut(l).filter(|n| **n > 0) {
                *n -= 1;
                out.push(format!("    {sign} {l}\n"));
            }
        }
    }
    let total = out.len();
    let mut s: String = out.into_iter().take(max).collect();
    if total > max {
        s.push_str(&format!("    … {} more changed lines\n", total - max));
    }
    s
}

/// Most Create calls in flight at once.
const IN_FLIGHT: usize = 16;

/// Registers everything: tasks first, then workflows and launch plans as soon as what they reference
/// is registered (both at most [`IN_FLIGHT`] at a time). The last entity is sent after all the others
/// succeeded, so its presence on the server proves the whole set is there. `activate`: set each
/// launch plan ACTIVE after it is registered.
pub async fn register(client: &Client, t: Target, entities: &[Entity], activate: bool) -> Vec<Row> {
    let t = Arc::new(t);
    let mut rows: Vec<Row> = entities
        .iter()
        .map(|e| Row { kind: e.kind, name: e.name.clone(), status: Status::NotSent, activated: false })
        .collect();
    let tasks: Vec<usize> = (0..entities.len()).filter(|&i| entities[i].kind == Kind::Task).collect();
    let rest: Vec<usize> = (0..entities.len()).filter(|&i| entities[i].kind != Kind::Task).collect();
    // Tasks reference nothing (their dependency lists are empty).
    let mut deps = dependencies(entities, &t.version);
    if let Some(&last) = entities.last().filter(|e| e.kind != Kind::Task).and(rest.last()) {
        deps[last] = rest.iter().copied().filter(|&i| i != last).collect();
    }
    let sender = Sender { client, t, entities, deps };
    // Every task is sent even if one fails: tasks depend on nothing, and one run shows every refusal.
    if let Err(e) = sender.send_when_ready(&tasks, false, false, &mut rows).await {
        return fail_rest(rows, e);
    }
    if rows.iter().any(|r| matches!(r.status, Status::Failed(_))) {
        return rows;
    }
    if let Err(e) = sender.send_when_ready(&rest, activate, true, &mut rows).await {
        return fail_rest(rows, e);
    }
    rows
}

/// What every Create call of one registration shares.
struct Sender<'a> {
    client: &'a Client,
    t: Arc<Target>,
    entities: &'a [Entity],
    /// For each entity, the entities (indices into `entities`) it needs registered first.
    deps: Vec<Vec<usize>>,
}

impl Sender<'_> {
    /// Sends the entities `todo` (in that order of preference), each once every entity it depends on
    /// has been registered; `activate`: set launch plans ACTIVE once registered; with
    /// `stop_on_failure`, sends nothing new after the first failure.
    async fn send_when_ready(
        &self,
        todo: &[usize],
        activate: bool,
        stop_on_failure: bool,
        rows: &mut [Row],
    ) -> Result<(), String> {
        let Sender { client, t, entities, deps } = self;
        let registered = |rows: &[Row], i: usize| matches!(rows[i].status, Status::Created | Status::AlreadyExists);
        let mut pending: Vec<usize> = todo.to_vec();
        let mut set = tokio::task::JoinSet::new();
        let mut failed = false;
        loop {
            while !failed && set.len() < IN_FLIGHT {
                let Some(at) = pending.iter().position(|&i| deps[i].iter().all(|&d| registered(rows, d))) else {
                    break;
                };
                let i = pending.remove(at);
                let (client, t, e) = (Client::clone(client), Arc::clone(t), entities[i].clone());
                set.spawn(async move {
                    let status = create(&client, &t, &e).await;
                    let activation = if activate
                        && e.kind == Kind::LaunchPlan
                        && matches!(status, Status::Created | Status::AlreadyExists)
                    {
                        let req = admin::LaunchPlanUpdateRequest {
                            id: Some(t.id(Kind::LaunchPlan, &e.name)),
                            state: admin::LaunchPlanState::Active as i32,
                        };
                        Some(with_auth_retry!(client, client.admin().update_launch_plan(req.clone())).map(|_| ()))
                    } else {
                        None
                    };
                    (i, status, activation)
                });
            }
            let Some(done) = set.join_next().await else { break };
            let (i, status, activation) = done.map_err(|e| format!("internal error: {e}"))?;
            rows[i].status = match activation {
                Some(Err(s)) => Status::Failed(format!("registered, but activation failed: {}", status_message(&s))),
                Some(Ok(())) => {
                    rows[i].activated = true;
                    status
                }
                None => status,
            };
            failed |= stop_on_failure && !registered(rows, i);
        }
        if !failed {
            // Nothing failed, yet these never became ready: they reference each other in a cycle.
            for i in pending {
                let waits: Vec<&str> =
                    deps[i].iter().filter(|&&d| !registered(rows, d)).map(|&d| entities[d].name.as_str()).collect();
                rows[i].status = Status::Failed(format!(
                    "not sent: it references {} of this registration, which can only be registered after it (a reference cycle)",
                    waits.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// For each entity, the entities of this registration it references, which FlyteAdmin needs to
/// find registered first: a launch plan's workflow; the launch plans and sub-workflows a workflow's
/// nodes call (tasks are all registered before any workflow).
pub fn dependencies(entities: &[Entity], version: &str) -> Vec<Vec<usize>> {
    use fledge_proto::flyteidl::core::{if_else_block, node, workflow_node, Node};
    let index: std::collections::HashMap<(Kind, &str), usize> =
        entities.iter().enumerate().map(|(i, e)| ((e.kind, e.name.as_str()), i)).collect();
    let find = |kind: Kind, id: &Identifier| -> Option<usize> {
        (id.version == version).then(|| index.get(&(kind, id.name.as_str())).copied()).flatten()
    };
    fn walk(n: &Node, out: &mut Vec<(Kind, Identifier)>) {
        match &n.target {
            Some(node::Target::WorkflowNode(w)) => match &w.reference {
                Some(workflow_node::Reference::LaunchplanRef(id)) => out.push((Kind::LaunchPlan, id.clone())),
                Some(workflow_node::Reference::SubWorkflowRef(id)) => out.push((Kind::Workflow, id.clone())),
                None => {}
            },
            Some(node::Target::BranchNode(b)) => {
                if let Some(ie) = &b.if_else {
                    let cases = ie.case.iter().map(|c| &**c).chain(ie.other.iter());
                    for then in cases.filter_map(|c| c.then_node.as_deref()) {
                        walk(then, out);
                    }
                    if let Some(if_else_block::Default::ElseNode(e)) = &ie.default {
                        walk(e, out);
                    }
                }
            }
            Some(node::Target::ArrayNode(a)) => {
                if let Some(inner) = a.node.as_deref() {
                    walk(inner, out);
                }
            }
            _ => {}
        }
    }
    entities
        .iter()
        .enumerate()
        .map(|(me, e)| {
            let mut refs = Vec::new();
            match e.kind {
                Kind::Task => {}
                Kind::LaunchPlan => {
                    if let Ok(spec) = admin::LaunchPlanSpec::decode(e.bytes.as_slice()) {
                        refs.extend(spec.workflow_id.map(|id| (Kind::Workflow, id)));
                    }
                }
                Kind::Workflow => {
                    if let Ok(spec) = admin::WorkflowSpec::decode(e.bytes.as_slice()) {
                        for w in spec.template.iter().chain(spec.sub_workflows.iter()) {
                            for n in w.nodes.iter().chain(w.failure_node.iter()) {
                                walk(n, &mut refs);
                            }
                        }
                    }
                }
            }
            let mut deps: Vec<usize> = refs.iter().filter_map(|(k, id)| find(*k, id)).filter(|&d| d != me).collect();
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect()
}

fn fail_rest(mut rows: Vec<Row>, msg: String) -> Vec<Row> {
    for r in rows.iter_mut().filter(|r| r.status == Status::NotSent) {
        r.status = Status::Failed(msg.clone());
    }
    rows
}

/// Whether the first task of this version is already registered (then its bundle was uploaded
/// before it, by the run that created it).
pub async fn first_task_exists(client: &Client, t: &Target, entities: &[Entity]) -> Result<bool, String> {
    match entities.iter().find(|e| e.kind == Kind::Task) {
        Some(e) => exists(client, t, e).await,
        None => Ok(true),
    }
}

/// Whether this entity is registered under the target version (one Get call).
pub async fn exists(client: &Client, t: &Target, e: &Entity) -> Result<bool, String> {
    let req = admin::ObjectGetRequest { id: Some(t.id(e.kind, &e.name)) };
    let r = match e.kind {
        Kind::Task => with_auth_retry!(client, client.admin().get_task(req.clone())).map(|_| ()),
        Kind::Workflow => with_auth_retry!(client, client.admin().get_workflow(req.clone())).map(|_| ()),
        Kind::LaunchPlan => with_auth_retry!(client, client.admin().get_launch_plan(req.clone())).map(|_| ()),
    };
    match r {
        Ok(()) => Ok(true),
        Err(s) if s.code() == Code::NotFound => Ok(false),
        Err(s) => Err(format!(
            "cannot look up {} on FlyteAdmin at {}: {}",
            e.name,
            client.config.endpoint,
            client.explain(&s)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: Kind, name: &str, version: &str) -> Identifier {
        Target { project: "p".into(), domain: "d".into(), version: version.into() }.id(kind, name)
    }

    fn workflow(name: &str, nodes: Vec<fledge_proto::flyteidl::core::Node>) -> Entity {
        use fledge_proto::flyteidl::core::WorkflowTemplate;
        let spec = admin::WorkflowSpec {
            template: Some(WorkflowTemplate { id: Some(id(Kind::Workflow, name, "v1")), nodes, ..Default::default() }),
            ..Default::default()
        };
        Entity { kind: Kind::Workflow, name: name.into(), bytes: spec.encode_to_vec() }
    }

    fn calls(kind: Kind, name: &str, version: &str) -> fledge_proto::flyteidl::core::Node {
        use fledge_proto::flyteidl::core::{node, workflow_node, Node, WorkflowNode};
        let reference = match kind {
            Kind::LaunchPlan => workflow_node::Reference::LaunchplanRef(id(kind, name, version)),
            _ => workflow_node::Reference::SubWorkflowRef(id(kind, name, version)),
        };
        Node {
            target: Some(node::Target::WorkflowNode(WorkflowNode { reference: Some(reference) })),
            ..Default::default()
        }
    }

    #[test]
    fn workflows_wait_for_what_their_nodes_call_and_launch_plans_for_their_workflow() {
        use fledge_proto::flyteidl::core::{node, BranchNode, IfBlock, IfElseBlock, Node};
        let lp = |name: &str, wf: &str| Entity {
            kind: Kind::LaunchPlan,
            name: name.into(),
            bytes: admin::LaunchPlanSpec { workflow_id: Some(id(Kind::Workflow, wf, "v1")), ..Default::default() }
                .encode_to_vec(),
        };
        let branch = Node {
            target: Some(node::Target::BranchNode(Box::new(BranchNode {
                if_else: Some(Box::new(IfElseBlock {
                    case: Some(Box::new(IfBlock {
                        then_node: Some(Box::new(calls(Kind::Workflow, "sub", "v1"))),
                        ..Default::default()
                    })),
                    ..Default::default()
                })),
            }))),
            ..Default::default()
        };
        let entities = vec![
            Entity { kind: Kind::Task, name: "t".into(), bytes: vec![] },
            workflow("sub", vec![]),
            lp("sub", "sub"),
            // Calls the launch plan `sub`, a sub-workflow inside a branch, and something of
            // another version and something unknown (registered elsewhere: no dependency).
            workflow(
                "main",
                vec![
                    calls(Kind::LaunchPlan, "sub", "v1"),
                    branch,
                    calls(Kind::LaunchPlan, "sub", "v0"),
                    calls(Kind::LaunchPlan, "elsewhere", "v1"),
                ],
            ),
            lp("main", "main"),
        ];
        let deps = dependencies(&entities, "v1");
        assert_eq!(deps, vec![vec![], vec![], vec![1], vec![1, 2], vec![3]]);
    }

    #[test]
    fn line_diff_shows_only_changed_lines() {
        let d = line_diff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n", 10);
        assert_eq!(d, "    - b\n    + B\n    + e\n");
        assert_eq!(line_diff("x\n", "x\n", 10), "");
    }
}
