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

/// One serialized entity: TaskSpec, WorkflowSpec or (whole) admin.LaunchPlan bytes, as flytekit made them.
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

fn decode_err(kind: Kind, name: &str, e: impl std::fmt::Display) -> String {
    format!("the serialized {} `{name}` does not decode: {e}", kind.as_str())
}

/// Sends one entity. Returns its status.
async fn create(client: &Client, t: &Target, e: &Entity) -> Status {
    let id = t.id(e.kind, &e.name);
    let result = match e.kind {
        Kind::Task => {
            let spec = match admin::TaskSpec::decode(e.bytes.as_slice()) {
                Ok(s) => s,
                Err(err) => return Status::Failed(decode_err(e.kind, &e.name, err)),
            };
            let req = admin::TaskCreateRequest { id: Some(id.clone()), spec: Some(spec) };
            with_auth_retry!(client, client.admin().create_task(req.clone())).map(|_| ())
        }
        Kind::Workflow => {
            let spec = match admin::WorkflowSpec::decode(e.bytes.as_slice()) {
                Ok(s) => s,
                Err(err) => return Status::Failed(decode_err(e.kind, &e.name, err)),
            };
            let req = admin::WorkflowCreateRequest { id: Some(id.clone()), spec: Some(spec) };
            with_auth_retry!(client, client.admin().create_workflow(req.clone())).map(|_| ())
        }
        Kind::LaunchPlan => {
            let lp = match admin::LaunchPlan::decode(e.bytes.as_slice()) {
                Ok(s) => s,
                Err(err) => return Status::Failed(decode_err(e.kind, &e.name, err)),
            };
            let req = admin::LaunchPlanCreateRequest { id: Some(id.clone()), spec: lp.spec };
            with_auth_retry!(client, client.admin().create_launch_plan(req.clone())).map(|_| ())
        }
    };
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
            let ours = admin::LaunchPlan::decode(e.bytes.as_slice()).map_err(|x| x.to_string())?.spec;
            (format!("{:#?}", l.spec), format!("{ours:#?}"))
        }
    };
    Ok(line_diff(&theirs, &ours, 40))
}

/// Lines only in `a` (`-`) or only in `b` (`+`), in order (longest common subsequence), at most `max`.
pub fn line_diff(a: &str, b: &str, max: usize) -> String {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    if a.len() * b.len() > 25_000_000 {
        return "    (too large to compare)\n".into();
    }
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * (m + 1) + j] = if a[i] == b[j] {
                lcs[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
            };
        }
    }
    let (mut i, mut j, mut out, mut count) = (0, 0, String::new(), 0);
    let mut push = |sign: char, line: &str, out: &mut String| {
        count += 1;
        if count <= max {
            out.push_str(&format!("    {sign} {}\n", line.trim()));
        }
    };
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1]) {
            push('-', a[i], &mut out);
            i += 1;
        } else {
            push('+', b[j], &mut out);
            j += 1;
        }
    }
    if count > max {
        out.push_str(&format!("    … {} more changed lines\n", count - max));
    }
    out
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
        Err(s) => Err(status_message(&s)),
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
