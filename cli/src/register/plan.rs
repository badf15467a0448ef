//! What is sent, in which order, and what each answer means.
//!
//! Tasks first, concurrently; then workflows and launch plans one at a time in flytekit's order,
//! which puts every entity after the ones it references (a workflow after its sub-workflows and the
//! launch plans it calls, a launch plan after its workflow). Each entity gets exactly one Create call:
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

/// Registers everything in order. `activate`: set each launch plan ACTIVE after it is registered.
pub async fn register(client: &Client, t: Target, entities: &[Entity], activate: bool) -> Vec<Row> {
    let t = Arc::new(t);
    let mut rows: Vec<Row> = entities
        .iter()
        .map(|e| Row { kind: e.kind, name: e.name.clone(), status: Status::NotSent, activated: false })
        .collect();
    // Tasks, concurrently (at most 16 in flight).
    let sem = Arc::new(tokio::sync::Semaphore::new(16));
    let mut set = tokio::task::JoinSet::new();
    for (i, e) in entities.iter().enumerate().filter(|(_, e)| e.kind == Kind::Task) {
        let (client, t, e, sem) = (client.clone(), t.clone(), e.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            (i, create(&client, &t, &e).await)
        });
    }
    while let Some(r) = set.join_next().await {
        match r {
            Ok((i, status)) => rows[i].status = status,
            Err(e) => return fail_rest(rows, format!("internal error: {e}")),
        }
    }
    if rows.iter().any(|r| matches!(r.status, Status::Failed(_))) {
        return rows;
    }
    // Workflows and launch plans in flytekit's (dependency) order.
    for (i, e) in entities.iter().enumerate().filter(|(_, e)| e.kind != Kind::Task) {
        let status = create(client, &t, e).await;
        let ok = matches!(status, Status::Created | Status::AlreadyExists);
        rows[i].status = status;
        if !ok {
            break;
        }
        if activate && e.kind == Kind::LaunchPlan {
            let req = admin::LaunchPlanUpdateRequest {
                id: Some(t.id(Kind::LaunchPlan, &e.name)),
                state: admin::LaunchPlanState::Active as i32,
            };
            match with_auth_retry!(client, client.admin().update_launch_plan(req.clone())) {
                Ok(_) => rows[i].activated = true,
                Err(s) => {
                    rows[i].status =
                        Status::Failed(format!("registered, but activation failed: {}", status_message(&s)));
                    break;
                }
            }
        }
    }
    rows
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

    #[test]
    fn line_diff_shows_only_changed_lines() {
        let d = line_diff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n", 10);
        assert_eq!(d, "    - b\n    + B\n    + e\n");
        assert_eq!(line_diff("x\n", "x\n", 10), "");
    }
}
