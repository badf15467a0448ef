//! Completion: keyword arguments of task/workflow/launch-plan calls, node outputs after `.`,
//! `@task(...)` / `@workflow(...)` arguments and their values, entity names in scope.

use super::flytekit_api;
use super::lex::{cursor_context, statement_region_start, CallContext};
use super::scope::{self, enclosing_entity, graph_of, BodyScope, LocalValue};
use super::{callee_of_expr, default_text, parse_snippet, type_detail, CalleeInfo};
use crate::diagnostic::TextRange;
use crate::flyte::{EntityId, EntityKind};
use crate::project::{ModuleId, Resolved};
use crate::types::{castable, Castability, LiteralType};
use crate::workspace::Analysis;
use std::collections::HashSet;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    /// `name=` of a call.
    Argument,
    /// An output of a node (`r.o0`) or a field of a dataclass promise.
    Output,
    /// A task, workflow or launch plan.
    Entity,
    /// A value for an argument (`True`, a promise variable, ...).
    Value,
    /// A module.
    Module,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
    /// Markdown.
    pub documentation: Option<String>,
    pub sort_text: String,
    pub insert_text: String,
    pub filter_text: Option<String>,
    /// The text the item replaces (the identifier typed so far; empty at the cursor).
    pub replace: TextRange,
    /// Other edits of the same file made with the item (an import it needs).
    pub additional_edits: Vec<(TextRange, String)>,
}

/// Completions at byte `offset` of the file at `path`.
pub fn completions(analysis: &Analysis, path: &Path, offset: usize) -> Vec<CompletionItem> {
    let Some(m) = scope::module_of(analysis, path) else { return Vec::new() };
    let text = &*analysis.index.module(m).text;
    let offset = crate::line_index::floor_char_boundary(text, offset.min(text.len()));
    let region = statement_region_start(text, offset, 0);
    let ctx = cursor_context(text, region, offset);
    if ctx.in_string_or_comment {
        return Vec::new();
    }
    let replace = ctx.prefix;
    if let Some(items) = import_items(text, region, replace) {
        return items;
    }
    if let Some(base) = ctx.dot_base {
        return after_dot(analysis, m, text, base, offset, replace);
    }
    if let Some(call) = &ctx.call {
        let items = in_call(analysis, m, text, call, offset);
        if let Some(items) = items {
            return items;
        }
    }
    // A keyword like `def`/`class`/`import` before the prefix: a new name is being written.
    let before = text[..replace.start].trim_end();
    let last_word = before.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
    if matches!(last_word, "def" | "class" | "import" | "as" | "from" | "global" | "nonlocal" | "lambda") {
        return Vec::new();
    }
    let mut items = entities_in_scope(analysis, m, replace);
    if ctx.in_decorator {
        items.extend(decorator_imports(analysis, m, replace));
    }
    items
}

/// In an import statement: flytekit's modules (`from flytekit.ty|`, `import flytekit.|`) or the
/// names a flytekit module exports (`from flytekit import ta|`). `None` outside imports.
fn import_items(text: &str, region: usize, replace: TextRange) -> Option<Vec<CompletionItem>> {
    let stmt = text.get(region..replace.start)?.trim_start();
    let item = |label: &str, insert: &str, detail: &str, doc: Option<&str>, sort: usize| CompletionItem {
        label: label.to_string(),
        kind: CompletionKind::Module,
        detail: Some(detail.to_string()),
        documentation: doc.map(str::to_string),
        sort_text: format!("{sort:03}"),
        insert_text: insert.to_string(),
        filter_text: Some(insert.to_string()),
        replace,
        additional_edits: Vec::new(),
    };
    let module_items = |dotted: &str| {
        // `dotted` is what was typed of the module name before the identifier at the cursor.
        flytekit_api::MODULES
            .iter()
            .enumerate()
            .filter(|(_, m)| m.starts_with(dotted) && m.len() > dotted.len())
            .map(|(i, m)| item(m, &m[dotted.len()..], "module", None, i))
            .collect::<Vec<_>>()
    };
    if let Some(rest) = stmt.strip_prefix("import ") {
        let dotted = rest.rsplit([',', ' ']).next().unwrap_or("").trim();
        return Some(module_items(dotted));
    }
    let rest = stmt.strip_prefix("from ")?;
    let (module, after) = match rest.trim_start().split_once(char::is_whitespace) {
        Some((m, a)) => (m, a.trim_start()),
        None => return Some(module_items(rest.trim_start())),
    };
    let names = after.strip_prefix("import")?;
    if !names.is_empty() && !names.starts_with([' ', '(', '\\']) {
        return Some(Vec::new());
    }
    let given: HashSet<&str> =
        names.split([',', '(', ')', ' ', '\n', '\\']).filter(|w| !w.is_empty() && *w != "as").collect();
    Some(
        flytekit_api::names_in(module)
            .enumerate()
            .filter(|(_, a)| !given.contains(a.name))
            .map(|(i, a)| {
                let mut it = item(a.name, a.name, a.module, Some(a.doc), i);
                it.kind = CompletionKind::Entity;
                it
            })
            .collect(),
    )
}

/// `@ta|` where `task` is not imported: flytekit's decorators, with the import added.
fn decorator_imports(analysis: &Analysis, m: ModuleId, replace: TextRange) -> Vec<CompletionItem> {
    let module = analysis.index.module(m);
    let typed = module.text.get(replace.start..replace.end).unwrap_or("");
    flytekit_api::DECORATORS
        .iter()
        .enumerate()
        .filter(|(_, d)| fuzzy(d, typed) && !module.symbols.contains_key(**d))
        .map(|(i, d)| CompletionItem {
            label: d.to_string(),
            kind: CompletionKind::Entity,
            detail: Some(format!("from flytekit import {d}")),
            documentation: flytekit_api::names_in("flytekit").find(|a| a.name == *d).map(|a| a.doc.to_string()),
            sort_text: format!("5{i}"),
            insert_text: d.to_string(),
            filter_text: None,
            replace,
            additional_edits: vec![import_edit(analysis, m, "flytekit", d)],
        })
        .collect()
}

/// The edit that makes `name` importable from `from_module` in module `m`: added to an existing
/// `from <from_module> import ...` line, else a new import line after the last top-level import.
pub fn import_edit(analysis: &Analysis, m: ModuleId, from_module: &str, name: &str) -> (TextRange, String) {
    let module = analysis.index.module(m);
    let text = &*module.text;
    if let Some(site) = module.imports.iter().find(|s| s.written == from_module && !s.names.is_empty()) {
        let stmt = text.get(site.range.start..site.range.end).unwrap_or("");
        if !stmt.contains('*') {
            let trimmed = stmt.trim_end();
            let at = match trimmed.strip_suffix(')') {
                Some(inner) => site.range.start + inner.trim_end().trim_end_matches(',').len(),
                None => site.range.start + trimmed.len(),
            };
            return (TextRange::new(at, at), format!(", {name}"));
        }
    }
    let line = format!("from {from_module} import {name}\n");
    match module.imports.iter().map(|s| s.range.end).max() {
        Some(end) => {
            let at = text[end..].find('\n').map(|i| end + i + 1).unwrap_or(text.len());
            let prefix = if at == text.len() && !text.ends_with('\n') { "\n" } else { "" };
            (TextRange::new(at, at), format!("{prefix}{line}"))
        }
        None => (TextRange::new(0, 0), line),
    }
}

/// `x.|`: node outputs, dataclass fields, or the entities of a module.
fn after_dot(
    analysis: &Analysis,
    m: ModuleId,
    text: &str,
    base: TextRange,
    offset: usize,
    replace: TextRange,
) -> Vec<CompletionItem> {
    let base_text = &text[base.start..base.end];
    let Some(expr) = parse_snippet(base_text) else { return Vec::new() };
    // Inside a workflow body: a local holding node outputs or a dataclass promise.
    if let Some(id) = enclosing_entity(analysis, m, offset) {
        if let Some(g) = graph_of(analysis, id) {
            let root_is_local = matches!(&expr.kind, crate::syntax::ExprKind::Name(n) if BodyScope::at(analysis, g, base.start).env.contains_key(n))
                || expr.dotted().is_some_and(|d| {
                    let root = d.split('.').next().unwrap_or("");
                    BodyScope::at(analysis, g, base.start).env.contains_key(root)
                });
            if root_is_local {
                let scope = BodyScope::at(analysis, g, base.start);
                return match scope.eval(&expr) {
                    Some(LocalValue::Multi { node }) => {
                        let n = &g.nodes[node];
                        n.callee
                            .interface
                            .outputs
                            .iter()
                            .enumerate()
                            .map(|(i, o)| CompletionItem {
                                label: o.name.clone(),
                                kind: CompletionKind::Output,
                                detail: Some(type_detail(o)),
                                documentation: Some(format!(
                                    "output `{}` of `{}` (node `{}`)",
                                    o.name, n.callee.name, n.id
                                )),
                                sort_text: format!("{i:03}"),
                                insert_text: o.name.clone(),
                                filter_text: None,
                                replace,
                                additional_edits: Vec::new(),
                            })
                            .collect()
                    }
                    Some(LocalValue::Promise { ty, .. }) => match &ty.lit {
                        LiteralType::Struct { def } => def
                            .fields
                            .iter()
                            .enumerate()
                            .map(|(i, f)| CompletionItem {
                                label: f.name.clone(),
                                kind: CompletionKind::Output,
                                detail: Some(format!("{} ({})", f.py, f.ty)),
                                documentation: Some(format!("field `{}` of `{}`", f.name, def.name)),
                                sort_text: format!("{i:03}"),
                                insert_text: f.name.clone(),
                                filter_text: None,
                                replace,
                                additional_edits: Vec::new(),
                            })
                            .collect(),
                        _ => Vec::new(),
                    },
                    _ => Vec::new(),
                };
            }
        }
    }
    // `module.`: the module's tasks, workflows and launch plans.
    if let Resolved::Module(target) = analysis.index.resolve_expr(m, &expr) {
        let mut items: Vec<CompletionItem> = analysis
            .entities
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| e.module == target)
            .map(|(id, _)| entity_item(analysis, id, None, replace))
            .collect();
        items.sort_by(|a, b| a.label.cmp(&b.label));
        return items;
    }
    Vec::new()
}

/// Inside the parentheses of a call. `None` when the call is nothing fledge knows.
fn in_call(
    analysis: &Analysis,
    m: ModuleId,
    text: &str,
    call: &CallContext,
    offset: usize,
) -> Option<Vec<CompletionItem>> {
    let callee_text = &text[call.callee.start..call.callee.end];
    let expr = parse_snippet(callee_text)?;
    let given: HashSet<&str> = call.keywords.iter().map(|(k, _)| k.as_str()).collect();
    // `@task(` / `@workflow(`.
    if let Some(path) = analysis.index.resolve_expr(m, &expr).external() {
        let table: &[DecoratorArg] = match path {
            "flytekit.task" | "flytekit.dynamic" | "flytekit.eager" => TASK_ARGS,
            "flytekit.workflow" => WORKFLOW_ARGS,
            _ => return None,
        };
        if call.at_argument_start {
            return Some(
                table
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| !given.contains(a.name))
                    .map(|(i, a)| CompletionItem {
                        label: format!("{}=", a.name),
                        kind: CompletionKind::Argument,
                        detail: Some(a.detail.to_string()),
                        documentation: Some(a.doc.to_string()),
                        sort_text: format!("{i:03}"),
                        insert_text: format!("{}=", a.name),
                        filter_text: Some(a.name.to_string()),
                        replace: call.prefix,
                        additional_edits: Vec::new(),
                    })
                    .collect(),
            );
        }
        if let Some(kw) = &call.in_value_of {
            let a = table.iter().find(|a| a.name == kw)?;
            return Some(
                a.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| CompletionItem {
                        label: v.to_string(),
                        kind: CompletionKind::Value,
                        detail: Some(format!("{} value", a.name)),
                        documentation: None,
                        sort_text: format!("{i:03}"),
                        insert_text: v.to_string(),
                        filter_text: None,
                        replace: call.prefix,
                        additional_edits: Vec::new(),
                    })
                    .collect(),
            );
        }
        return Some(Vec::new());
    }
    // A call of a task, workflow, launch plan or map task.
    let local_callee = match (
        &expr.kind,
        enclosing_entity(analysis, m, offset).and_then(|id| analysis.entities.entities[id].function.clone()),
    ) {
        (crate::syntax::ExprKind::Name(n), Some(f)) => scope::function_locals(&f).contains(n),
        _ => false,
    };
    if local_callee {
        return None;
    }
    let callee = callee_of_expr(analysis, m, &expr)?;
    if call.at_argument_start {
        return Some(argument_items(analysis, m, &callee, &given, call.prefix));
    }
    if let Some(kw) = &call.in_value_of {
        return Some(value_items(analysis, m, &callee, kw, offset, call.prefix));
    }
    Some(Vec::new())
}

/// `name=` items for the inputs not given yet, required ones first.
fn argument_items(
    analysis: &Analysis,
    m: ModuleId,
    callee: &CalleeInfo,
    given: &HashSet<&str>,
    replace: TextRange,
) -> Vec<CompletionItem> {
    let owner = callee.owner(analysis);
    let mut items = Vec::new();
    for (i, v) in callee.interface.inputs.iter().enumerate() {
        if given.contains(v.name.as_str()) {
            continue;
        }
        let default =
            default_text(analysis, owner, callee.entity.map(|e| analysis.entities.entities[e].module).unwrap_or(m), v);
        let required = v.required();
        let mut detail = type_detail(v);
        match &default {
            Some(d) => detail.push_str(&format!(" = {d}")),
            None if !required => detail.push_str(" (optional)"),
            None => {}
        }
        items.push(CompletionItem {
            label: format!("{}=", v.name),
            kind: CompletionKind::Argument,
            detail: Some(detail),
            documentation: Some(format!(
                "{} input of {} `{}`",
                if required { "required" } else { "optional" },
                callee.kind.describe(),
                callee.name
            )),
            sort_text: format!("{}{i:03}", if required { 0 } else { 1 }),
            insert_text: format!("{}=", v.name),
            filter_text: Some(v.name.clone()),
            replace,
            additional_edits: Vec::new(),
        });
    }
    items
}

/// Values for `input=|` inside a workflow body: the promises in scope, those whose type binds
/// first.
fn value_items(
    analysis: &Analysis,
    m: ModuleId,
    callee: &CalleeInfo,
    kw: &str,
    offset: usize,
    replace: TextRange,
) -> Vec<CompletionItem> {
    let Some(input) = callee.interface.input(kw) else { return Vec::new() };
    let Some(id) = enclosing_entity(analysis, m, offset) else { return Vec::new() };
    let Some(g) = graph_of(analysis, id) else { return Vec::new() };
    let scope = BodyScope::at(analysis, g, offset);
    let mut items = Vec::new();
    let mut names: Vec<&String> = scope.env.keys().collect();
    names.sort();
    for name in names {
        let (v, _) = &scope.env[name];
        let LocalValue::Promise { ty, .. } = v else { continue };
        let fit = castable(&ty.lit, &input.ty.lit);
        if fit == Castability::No {
            continue;
        }
        items.push(CompletionItem {
            label: name.clone(),
            kind: CompletionKind::Value,
            detail: Some(format!("{} ({})", ty.py, ty.lit)),
            documentation: None,
            sort_text: format!("{}{name}", if fit == Castability::Yes { 0 } else { 1 }),
            insert_text: name.clone(),
            filter_text: None,
            replace,
            additional_edits: Vec::new(),
        });
    }
    items
}

/// At most this many entity names are offered at once (the list is then marked incomplete, so
/// the editor asks again as more is typed).
pub const MAX_ENTITY_ITEMS: usize = 200;

/// Does `name` match what was typed (case-insensitive, in order)?
fn fuzzy(name: &str, typed: &str) -> bool {
    let mut it = name.chars().flat_map(char::to_lowercase);
    typed.chars().flat_map(char::to_lowercase).all(|c| it.any(|n| n == c))
}

/// Tasks, workflows and launch plans visible by name in module `m`.
fn entities_in_scope(analysis: &Analysis, m: ModuleId, replace: TextRange) -> Vec<CompletionItem> {
    let module = analysis.index.module(m);
    let typed = module.text.get(replace.start..replace.end).unwrap_or("");
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    let mut names: Vec<&String> = module.symbols.keys().filter(|n| fuzzy(n, typed)).collect();
    names.sort();
    for name in names {
        if items.len() >= MAX_ENTITY_ITEMS {
            break;
        }
        let Some(id) = analysis.entities.resolve(&analysis.index, m, &scope::name_expr(name)) else { continue };
        if seen.insert(name.clone()) {
            items.push(entity_item(analysis, id, Some(name), replace));
        }
    }
    items
}

/// A completion item for entity `id`, inserted as `alias` (or its own name).
fn entity_item(analysis: &Analysis, id: EntityId, alias: Option<&str>, replace: TextRange) -> CompletionItem {
    let e = &analysis.entities.entities[id];
    let name = alias.unwrap_or(&e.name).to_string();
    CompletionItem {
        label: name.clone(),
        kind: CompletionKind::Entity,
        detail: Some(format!("{} {}", e.kind.describe(), super::hover::signature(e))),
        documentation: Some(super::hover::entity_markdown(analysis, id)),
        sort_text: format!(
            "{}{name}",
            if matches!(e.kind, EntityKind::Workflow | EntityKind::LaunchPlan) { 1 } else { 0 }
        ),
        insert_text: name,
        filter_text: None,
        replace,
        additional_edits: Vec::new(),
    }
}

/// A keyword argument of `@task` / `@workflow`.
pub struct DecoratorArg {
    pub name: &'static str,
    pub detail: &'static str,
    pub doc: &'static str,
    pub values: &'static [&'static str],
}

const fn arg(
    name: &'static str,
    detail: &'static str,
    doc: &'static str,
    values: &'static [&'static str],
) -> DecoratorArg {
    DecoratorArg { name, detail, doc, values }
}

/// `flytekit.task`'s parameters in 1.16 (the list `unknown-decorator-argument` accepts).
pub const TASK_ARGS: &[DecoratorArg] = &[
    arg(
        "cache",
        "bool | Cache",
        "Cache the outputs; with `True` also set `cache_version`, or pass `Cache(version=...)`.",
        &["True", "False", "Cache(version=\"1.0\")"],
    ),
    arg("retries", "int", "How many times a failed run is retried.", &["0", "1", "3"]),
    arg(
        "timeout",
        "timedelta | int",
        "Maximum run time (a `datetime.timedelta` or seconds).",
        &["timedelta(minutes=10)", "600"],
    ),
    arg(
        "requests",
        "Resources",
        "Resources the container requests (Kubernetes quantities).",
        &["Resources(cpu=\"1\", mem=\"1Gi\")"],
    ),
    arg("limits", "Resources", "Resource limits of the container.", &["Resources(cpu=\"2\", mem=\"2Gi\")"]),
    arg("resources", "Resources", "Requests and limits in one object.", &["Resources(cpu=\"1\", mem=\"1Gi\")"]),
    arg("interruptible", "bool", "May run on spot/preemptible machines.", &["True", "False"]),
    arg("container_image", "str | ImageSpec", "The image the task runs in.", &[]),
    arg("environment", "Dict[str, str]", "Environment variables of the container.", &["{}"]),
    arg("secret_requests", "List[Secret]", "Secrets mounted into the container.", &["[]"]),
    arg("task_config", "plugin config", "Configuration of a task-type plugin.", &[]),
    arg("deprecated", "str", "Mark the task deprecated with this message.", &[]),
    arg("docs", "Documentation", "Long description for the Flyte console.", &[]),
    arg("enable_deck", "bool", "Render Flyte decks for this task.", &["True", "False"]),
    arg("disable_deck", "bool", "Deprecated: use `enable_deck`.", &["True", "False"]),
    arg("deck_fields", "Tuple[DeckField, ...]", "Which decks to render.", &[]),
    arg("pod_template", "PodTemplate", "A pod template for the task's pod.", &[]),
    arg("pod_template_name", "str", "The name of a pod template registered in the cluster.", &[]),
    arg("accelerator", "BaseAccelerator", "A GPU/accelerator type.", &[]),
    arg("pickle_untyped", "bool", "Pickle inputs and outputs without annotations.", &["True", "False"]),
    arg("shared_memory", "bool | str", "Mount shared memory (`/dev/shm`).", &["True", "False"]),
    arg("labels", "Dict[str, str]", "Kubernetes labels of the pod.", &["{}"]),
    arg("annotations", "Dict[str, str]", "Kubernetes annotations of the pod.", &["{}"]),
    arg("execution_mode", "PythonFunctionTask.ExecutionBehavior", "How the function is executed.", &[]),
    arg("node_dependency_hints", "list of entities", "Entities a dynamic task may call.", &[]),
    arg("task_resolver", "TaskResolverMixin", "A custom task resolver.", &[]),
    arg(
        "cache_version",
        "str",
        "Deprecated with `cache=Cache(...)`: the cache version for `cache=True`.",
        &["\"1.0\""],
    ),
    arg(
        "cache_serialize",
        "bool",
        "Deprecated with `cache=Cache(...)`: serialize runs with the same inputs.",
        &["True", "False"],
    ),
    arg(
        "cache_ignore_input_vars",
        "Tuple[str, ...]",
        "Deprecated with `cache=Cache(...)`: inputs left out of the cache key.",
        &["()"],
    ),
];

/// `flytekit.workflow`'s parameters.
pub const WORKFLOW_ARGS: &[DecoratorArg] = &[
    arg(
        "failure_policy",
        "WorkflowFailurePolicy",
        "What happens to running nodes when one fails.",
        &["WorkflowFailurePolicy.FAIL_IMMEDIATELY", "WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE"],
    ),
    arg("interruptible", "bool", "Run every task of the workflow on interruptible machines.", &["True", "False"]),
    arg("on_failure", "workflow | task", "Runs when the workflow fails.", &[]),
    arg("docs", "Documentation", "Long description for the Flyte console.", &[]),
    arg("pickle_untyped", "bool", "Pickle inputs and outputs without annotations.", &["True", "False"]),
    arg("default_options", "Options", "Default execution options.", &[]),
];
