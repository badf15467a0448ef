//! Flyte entities found in source: tasks, workflows, launch plans, map tasks, references.

use super::annotation::{TypeResolver, UnsupportedType};
use crate::diagnostic::TextRange;
use crate::project::{Index, ModuleId, Resolved, Symbol};
use crate::syntax::{keyword, Arg, Expr, ExprKind, FunctionDef, ParamKind};
use crate::types::{FlyteType, LiteralType, Simple, Variant};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

pub type EntityId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Task,
    DynamicTask,
    EagerTask,
    Workflow,
    LaunchPlan,
    MapTask,
    ReferenceTask,
    ReferenceWorkflow,
    ReferenceLaunchPlan,
}

impl EntityKind {
    pub fn describe(self) -> &'static str {
        match self {
            EntityKind::Task => "task",
            EntityKind::DynamicTask => "dynamic task",
            EntityKind::EagerTask => "eager task",
            EntityKind::Workflow => "workflow",
            EntityKind::LaunchPlan => "launch plan",
            EntityKind::MapTask => "map task",
            EntityKind::ReferenceTask => "reference task",
            EntityKind::ReferenceWorkflow => "reference workflow",
            EntityKind::ReferenceLaunchPlan => "reference launch plan",
        }
    }
    pub fn is_task_like(self) -> bool {
        matches!(self, EntityKind::Task | EntityKind::DynamicTask | EntityKind::EagerTask | EntityKind::ReferenceTask)
    }
}

/// One input or output of an interface.
#[derive(Clone, Debug, Serialize)]
pub struct Var {
    pub name: String,
    pub ty: FlyteType,
    /// Where it is declared (the parameter, or the return annotation).
    pub range: TextRange,
    /// The default value as written, for inputs.
    #[serde(skip)]
    pub default: Option<Expr>,
    pub has_default: bool,
}

impl Var {
    /// Must a caller bind this input? (No default, and not an Optional Flyte may leave unbound.)
    pub fn required(&self) -> bool {
        !self.has_default && !self.ty.lit.is_optional()
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Interface {
    pub inputs: Vec<Var>,
    pub outputs: Vec<Var>,
}

impl Interface {
    pub fn input(&self, name: &str) -> Option<&Var> {
        self.inputs.iter().find(|v| v.name == name)
    }
    pub fn output(&self, name: &str) -> Option<&Var> {
        self.outputs.iter().find(|v| v.name == name)
    }
}

/// A problem with one entity's own declaration, found while building its interface.
#[derive(Clone, Debug)]
pub enum DeclProblem {
    MissingAnnotation {
        param: String,
        range: TextRange,
    },
    Unsupported {
        param: Option<String>,
        range: TextRange,
        ty: UnsupportedType,
    },
    /// `map_task` over something that cannot be mapped.
    NotMappable {
        range: TextRange,
        target: String,
        kind: EntityKind,
    },
    /// fixed/default inputs of a launch plan that the workflow does not have.
    UnknownLaunchPlanInput {
        name: String,
        range: TextRange,
        workflow: String,
    },
}

/// A Flyte entity with its interface.
#[derive(Clone, Debug)]
pub struct Entity {
    pub kind: EntityKind,
    /// The Python name it is bound to.
    pub name: String,
    pub module: ModuleId,
    /// Where the name is declared.
    pub name_range: TextRange,
    /// The decorator or constructor call's arguments.
    pub config_args: Vec<Arg>,
    pub config_range: TextRange,
    pub function: Option<Arc<FunctionDef>>,
    pub interface: Interface,
    /// For launch plans and map tasks: the entity they wrap.
    pub target: Option<EntityId>,
    pub problems: Vec<DeclProblem>,
}

impl Entity {
    pub fn qualified_name(&self, index: &Index) -> String {
        format!("{}.{}", index.module(self.module).name, self.name)
    }
}

/// All entities of a project, addressable by (module, name).
#[derive(Default)]
pub struct EntityTable {
    pub entities: Vec<Entity>,
    by_name: HashMap<(ModuleId, String), EntityId>,
}

impl EntityTable {
    pub fn get(&self, m: ModuleId, name: &str) -> Option<EntityId> {
        self.by_name.get(&(m, name.to_string())).copied()
    }

    /// The entity an expression names, if any (`t`, `mod.t`, `pkg.sub.wf`).
    pub fn resolve(&self, index: &Index, m: ModuleId, e: &Expr) -> Option<EntityId> {
        match index.resolve_expr(m, e) {
            Resolved::Function(fm, f) => self.get(fm, &f.name),
            Resolved::Value(vm, name, _) => self.get(vm, &name),
            _ => None,
        }
    }

    fn insert(&mut self, e: Entity) -> EntityId {
        let id = self.entities.len();
        self.by_name.insert((e.module, e.name.clone()), id);
        self.entities.push(e);
        id
    }
}

/// What a decorator expression makes of the function under it.
fn decorator_kind(index: &Index, m: ModuleId, d: &Expr) -> Option<(EntityKind, Vec<Arg>, TextRange)> {
    let (target, args) = match &d.kind {
        ExprKind::Call { func, args } => (func.as_ref(), args.clone()),
        _ => (d, Vec::new()),
    };
    let kind = match index.resolve_expr(m, target).external()? {
        "flytekit.task" => EntityKind::Task,
        "flytekit.dynamic" => EntityKind::DynamicTask,
        "flytekit.eager" => EntityKind::EagerTask,
        "flytekit.workflow" => EntityKind::Workflow,
        "flytekit.reference_task" => EntityKind::ReferenceTask,
        "flytekit.reference_workflow" => EntityKind::ReferenceWorkflow,
        "flytekit.reference_launch_plan" => EntityKind::ReferenceLaunchPlan,
        _ => return None,
    };
    Some((kind, args, d.range))
}

/// Build the entity table for a whole project.
pub fn collect(index: &Index, types: &TypeResolver) -> EntityTable {
    collect_in(index, types, None)
}

/// [`collect`], only in the modules where `scope` is true (all when `None`). Entities outside the
/// scope are not seen, so the scope must hold every module the scoped ones refer to.
pub fn collect_in(index: &Index, types: &TypeResolver, scope: Option<&[bool]>) -> EntityTable {
    let in_scope = |m: ModuleId| scope.is_none_or(|s| s.get(m).copied().unwrap_or(false));
    let mut table = EntityTable::default();
    for (mid, module) in index.modules.iter().enumerate().filter(|(m, _)| in_scope(*m)) {
        for f in module.functions() {
            let found = f.decorators.iter().find_map(|d| decorator_kind(index, mid, d));
            let Some((mut kind, args, config_range)) = found else { continue };
            // `@task` on an `async def` together with `@eager` is an eager task.
            if kind == EntityKind::Task
                && f.decorators
                    .iter()
                    .any(|d| decorator_kind(index, mid, d).map(|k| k.0) == Some(EntityKind::EagerTask))
            {
                kind = EntityKind::EagerTask;
            }
            let pickle_untyped =
                keyword(&args, "pickle_untyped").is_some_and(|a| matches!(a.value.kind, ExprKind::Bool(true)));
            let (interface, problems) = function_interface(types, mid, &f, pickle_untyped);
            table.insert(Entity {
                kind,
                name: f.name.clone(),
                module: mid,
                name_range: f.name_range,
                config_args: args,
                config_range,
                function: Some(f.clone()),
                interface,
                target: None,
                problems,
            });
        }
    }
    // Entities made by calls (`map_task(t)`, `LaunchPlan.get_or_create(wf)`), which may refer to each other.
    let mut pending: Vec<(ModuleId, String, Arc<Expr>, TextRange)> = Vec::new();
    for (mid, module) in index.modules.iter().enumerate().filter(|(m, _)| in_scope(*m)) {
        for (name, sym) in &module.symbols {
            if let Symbol::Value { value, range } = sym {
                if matches!(value.kind, ExprKind::Call { .. }) {
                    pending.push((mid, name.clone(), value.clone(), *range));
                }
            }
        }
    }
    pending.sort_by_key(|a| (a.0, a.3.start));
    for _round in 0..3 {
        let mut rest = Vec::new();
        for (mid, name, value, range) in pending {
            match call_entity(index, types, &table, mid, &value) {
                CallEntity::Entity(mut e) => {
                    if e.kind == EntityKind::Workflow && e.target.is_none() {
                        e.interface = imperative_interface(types, mid, &name);
                    }
                    e.name = name;
                    e.name_range = range;
                    table.insert(*e);
                }
                CallEntity::NotYet => rest.push((mid, name, value, range)),
                CallEntity::NotAnEntity => {}
            }
        }
        pending = rest;
        if pending.is_empty() {
            break;
        }
    }
    table
}

/// The result of looking at a call expression as an entity constructor.
pub enum CallEntity {
    Entity(Box<Entity>),
    /// It wraps an entity that is not known yet.
    NotYet,
    NotAnEntity,
}

/// Interpret `map_task(...)`, `LaunchPlan.get_or_create(...)`, `functools.partial(...)` calls.
pub fn call_entity(index: &Index, types: &TypeResolver, table: &EntityTable, m: ModuleId, call: &Expr) -> CallEntity {
    let ExprKind::Call { func, args } = &call.kind else { return CallEntity::NotAnEntity };
    let path = match index.resolve_expr(m, func) {
        Resolved::External(p) => p,
        _ => return CallEntity::NotAnEntity,
    };
    let _ = types;
    let base = |kind, target, interface, problems| {
        CallEntity::Entity(Box::new(Entity {
            kind,
            name: String::new(),
            module: m,
            name_range: call.range,
            config_args: args.clone(),
            config_range: call.range,
            function: None,
            interface,
            target,
            problems,
        }))
    };
    match path.as_str() {
        "flytekit.map_task"
        | "flytekit.core.array_node_map_task.map_task"
        | "flytekit.ArrayNode"
        | "flytekit.array_node" => {
            let Some(first) = args.first() else { return CallEntity::NotAnEntity };
            let (target_expr, bound) = unwrap_partial(index, m, &first.value);
            let Some(target) = table.resolve(index, m, target_expr) else {
                return if is_local_name(index, m, target_expr) { CallEntity::NotYet } else { CallEntity::NotAnEntity };
            };
            let t = &table.entities[target];
            let mut problems = Vec::new();
            if matches!(
                t.kind,
                EntityKind::Workflow | EntityKind::DynamicTask | EntityKind::EagerTask | EntityKind::ReferenceWorkflow
            ) {
                problems.push(DeclProblem::NotMappable { range: first.range, target: t.name.clone(), kind: t.kind });
            }
            let mut bound: Vec<String> = bound.iter().filter_map(|a| a.name.clone()).collect();
            if let Some(bi) = keyword(args, "bound_inputs") {
                if let ExprKind::Set(items) | ExprKind::List(items) | ExprKind::Tuple(items) = &bi.value.kind {
                    bound.extend(items.iter().filter_map(|e| e.as_str().map(str::to_string)));
                }
            }
            let partial_outputs = keyword(args, "min_successes").is_some()
                || keyword(args, "min_success_ratio").is_some_and(|a| !is_one(&a.value));
            let interface = map_interface(&t.interface, &bound, partial_outputs);
            base(EntityKind::MapTask, Some(target), interface, problems)
        }
        "flytekit.LaunchPlan.get_or_create"
        | "flytekit.LaunchPlan.create"
        | "flytekit.LaunchPlan.get_default_launch_plan" => {
            // `create(name, workflow, ...)`; `get_or_create(workflow, name=None, ...)`.
            let wf_arg = keyword(args, "workflow").or_else(|| {
                let positional: Vec<&Arg> = args.iter().filter(|a| a.is_positional()).collect();
                if path.ends_with(".create") {
                    positional.get(1).copied()
                } else {
                    positional.first().copied()
                }
            });
            let Some(wf_arg) = wf_arg else { return CallEntity::NotAnEntity };
            let Some(target) = table.resolve(index, m, &wf_arg.value) else {
                return if is_local_name(index, m, &wf_arg.value) {
                    CallEntity::NotYet
                } else {
                    CallEntity::NotAnEntity
                };
            };
            let wf = &table.entities[target];
            let mut interface = wf.interface.clone();
            let mut problems = Vec::new();
            for (key, fixed) in [("fixed_inputs", true), ("default_inputs", false)] {
                let Some(a) = keyword(args, key) else { continue };
                let ExprKind::Dict(kvs) = &a.value.kind else { continue };
                for (k, v) in kvs {
                    let Some(name) = k.as_str() else { continue };
                    match interface.inputs.iter().position(|i| i.name == name) {
                        Some(i) if fixed => {
                            interface.inputs.remove(i);
                        }
                        Some(i) => {
                            interface.inputs[i].has_default = true;
                            interface.inputs[i].default = Some(v.clone());
                        }
                        None => problems.push(DeclProblem::UnknownLaunchPlanInput {
                            name: name.to_string(),
                            range: k.range,
                            workflow: wf.name.clone(),
                        }),
                    }
                }
            }
            base(EntityKind::LaunchPlan, Some(target), interface, problems)
        }
        "flytekit.ImperativeWorkflow" => {
            // Inputs and outputs are added by later top-level statements; see `imperative_interface`.
            base(EntityKind::Workflow, None, Interface::default(), Vec::new())
        }
        _ => CallEntity::NotAnEntity,
    }
}

/// The interface of an imperative workflow `var = ImperativeWorkflow(...)`: its
/// `var.add_workflow_input(name, type)` and `var.add_workflow_output(name, p, python_type=T)` calls.
pub fn imperative_interface(types: &TypeResolver, m: ModuleId, var: &str) -> Interface {
    let module = types.index.module(m);
    let mut iface = Interface::default();
    for s in module.top_level() {
        let call = match &s.kind {
            crate::syntax::StmtKind::Expr(e) => e,
            crate::syntax::StmtKind::Assign { value: Some(v), .. } => v,
            _ => continue,
        };
        let ExprKind::Call { func, args } = &call.kind else { continue };
        let ExprKind::Attribute { value, attr, .. } = &func.kind else { continue };
        if value.dotted().as_deref() != Some(var) {
            continue;
        }
        let name = args.first().and_then(|a| a.value.as_str());
        let Some(name) = name else { continue };
        let ty_expr = match attr.as_str() {
            "add_workflow_input" => args.get(1).map(|a| &a.value),
            "add_workflow_output" => keyword(args, "python_type").map(|a| &a.value),
            _ => continue,
        };
        let ty =
            ty_expr.and_then(|t| types.resolve(m, t).ok()).map(|r| r.ty).unwrap_or_else(|| FlyteType::unknown("?"));
        let v = Var { name: name.to_string(), ty, range: call.range, default: None, has_default: false };
        if attr == "add_workflow_input" {
            iface.inputs.push(v);
        } else {
            iface.outputs.push(v);
        }
    }
    iface
}

fn is_one(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Float(f) if f.parse::<f64>() == Ok(1.0))
        || matches!(&e.kind, ExprKind::Int(i) if i == "1")
}

fn is_local_name(index: &Index, m: ModuleId, e: &Expr) -> bool {
    matches!(index.resolve_expr(m, e), Resolved::Value(..))
}

/// `functools.partial(t, a=1)` -> (`t`, [a=1]); anything else -> (itself, []).
pub fn unwrap_partial<'e>(index: &Index, m: ModuleId, e: &'e Expr) -> (&'e Expr, &'e [Arg]) {
    if let ExprKind::Call { func, args } = &e.kind {
        if index.resolve_expr(m, func).external() == Some("functools.partial") {
            if let Some(first) = args.first() {
                return (&first.value, &args[1..]);
            }
        }
    }
    (e, &[])
}

/// A map task's interface: unbound inputs and all outputs become lists.
pub fn map_interface(target: &Interface, bound: &[String], partial_outputs: bool) -> Interface {
    let listify = |v: &Var, optional: bool| {
        let mut v = v.clone();
        let el = if optional {
            LiteralType::Union {
                variants: vec![
                    Variant { ty: v.ty.lit.clone(), tag: String::new() },
                    Variant { ty: LiteralType::simple(Simple::None), tag: "none".into() },
                ],
            }
        } else {
            v.ty.lit.clone()
        };
        v.ty = FlyteType::new(
            if optional { format!("List[Optional[{}]]", v.ty.py) } else { format!("List[{}]", v.ty.py) },
            LiteralType::list(el),
        );
        v
    };
    Interface {
        inputs: target
            .inputs
            .iter()
            .map(|v| {
                if bound.contains(&v.name) {
                    // Already bound by `functools.partial` / `bound_inputs`.
                    let mut b = v.clone();
                    b.has_default = true;
                    b
                } else {
                    // map_task ignores the task's defaults: every mapped input must be passed a list.
                    let mut l = listify(v, false);
                    l.has_default = false;
                    l.default = None;
                    l
                }
            })
            .collect(),
        outputs: target.outputs.iter().map(|v| listify(v, partial_outputs)).collect(),
    }
}

/// The typed interface of a decorated function, and what is wrong with its declaration.
pub fn function_interface(
    types: &TypeResolver,
    m: ModuleId,
    f: &FunctionDef,
    pickle_untyped: bool,
) -> (Interface, Vec<DeclProblem>) {
    let mut problems = Vec::new();
    let mut inputs = Vec::new();
    for p in &f.params {
        if matches!(p.kind, ParamKind::VarArgs | ParamKind::VarKwargs) {
            continue;
        }
        let ty = match &p.annotation {
            None => {
                if !pickle_untyped {
                    problems.push(DeclProblem::MissingAnnotation { param: p.name.clone(), range: p.range });
                }
                FlyteType::unknown("<no annotation>")
            }
            Some(ann) => match types.resolve(m, ann) {
                Ok(r) => r.ty,
                Err(u) => {
                    problems.push(DeclProblem::Unsupported { param: Some(p.name.clone()), range: ann.range, ty: u });
                    FlyteType::unknown(types.index.module(m).text.get(ann.range.start..ann.range.end).unwrap_or("?"))
                }
            },
        };
        // `x: int = None` keeps type `int` in flytekit and stays a required input.
        let none_default_on_required = p.default.as_ref().is_some_and(|d| matches!(d.kind, ExprKind::NoneLit))
            && !ty.lit.is_optional()
            && !ty.lit.is_unknown();
        let default = if none_default_on_required { None } else { p.default.clone() };
        inputs.push(Var { name: p.name.clone(), ty, range: p.range, has_default: default.is_some(), default });
    }
    let outputs = match &f.returns {
        None => Vec::new(),
        Some(ret) => output_vars(types, m, ret, &mut problems),
    };
    (Interface { inputs, outputs }, problems)
}

/// Output variables from a return annotation: `o0..oN`, or NamedTuple field names.
fn output_vars(types: &TypeResolver, m: ModuleId, ret: &Expr, problems: &mut Vec<DeclProblem>) -> Vec<Var> {
    let index = types.index;
    let var = |name: String, ty: FlyteType| Var { name, ty, range: ret.range, default: None, has_default: false };
    let resolve = |e: &Expr, problems: &mut Vec<DeclProblem>| match types.resolve(m, e) {
        Ok(r) => r.ty,
        Err(u) => {
            problems.push(DeclProblem::Unsupported { param: None, range: e.range, ty: u });
            FlyteType::unknown("?")
        }
    };
    match &ret.kind {
        ExprKind::NoneLit => return Vec::new(),
        ExprKind::Subscript { value, index: args } => {
            if let Some("builtins.tuple" | "typing.Tuple") = index.resolve_expr(m, value).external() {
                let items: Vec<&Expr> = match args.as_slice() {
                    [one] => match &one.kind {
                        ExprKind::Tuple(xs) => xs.iter().collect(),
                        _ => vec![one],
                    },
                    xs => xs.iter().collect(),
                };
                // `Tuple[int, ...]` is one pickled output, not a multi-output signature.
                if items.iter().any(|e| matches!(e.kind, ExprKind::Ellipsis)) {
                    let mut ty = FlyteType::new(
                        types.index.module(m).text.get(ret.range.start..ret.range.end).unwrap_or("tuple"),
                        LiteralType::pickle(),
                    );
                    ty.pickled = true;
                    return vec![var("o0".into(), ty)];
                }
                return items
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| var(format!("o{i}"), resolve(e, problems)))
                    .collect();
            }
        }
        ExprKind::Call { func, args } if index.resolve_expr(m, func).external() == Some("typing.NamedTuple") => {
            return named_tuple_call_fields(args).into_iter().map(|(n, e)| var(n, resolve(e, problems))).collect();
        }
        _ => {}
    }
    match index.resolve_expr(m, ret) {
        Resolved::Class(cm, c) if types.class_kind(cm, &c, 0) == super::annotation::ClassKind::NamedTuple => {
            let mut out = Vec::new();
            for s in &c.body {
                if let crate::syntax::StmtKind::Assign { targets, annotation: Some(ann), .. } = &s.kind {
                    if let ExprKind::Name(n) = &targets[0].kind {
                        let ty = match types.resolve(cm, ann) {
                            Ok(r) => r.ty,
                            Err(_) => FlyteType::unknown("?"),
                        };
                        out.push(var(n.clone(), ty));
                    }
                }
            }
            return out;
        }
        Resolved::Value(vm, _, value) => {
            if let ExprKind::Call { func, args } = &value.kind {
                if index.resolve_expr(vm, func).external() == Some("typing.NamedTuple") {
                    return named_tuple_call_fields(args)
                        .into_iter()
                        .map(|(n, e)| {
                            let ty = types.resolve(vm, e).map(|r| r.ty).unwrap_or_else(|_| FlyteType::unknown("?"));
                            var(n, ty)
                        })
                        .collect();
                }
            }
        }
        _ => {}
    }
    let ty = resolve(ret, problems);
    if matches!(ty.lit, LiteralType::Simple { simple: Simple::None }) {
        return Vec::new();
    }
    vec![var("o0".into(), ty)]
}

/// `NamedTuple("NT", [("x", int), ("y", str)])` or `NamedTuple("NT", x=int)`.
fn named_tuple_call_fields(args: &[Arg]) -> Vec<(String, &Expr)> {
    let mut out = Vec::new();
    if let Some(list) = args.get(1).filter(|a| a.is_positional()) {
        if let ExprKind::List(items) | ExprKind::Tuple(items) = &list.value.kind {
            for it in items {
                if let ExprKind::Tuple(pair) = &it.kind {
                    if let (Some(n), Some(t)) = (pair.first().and_then(|e| e.as_str()), pair.get(1)) {
                        out.push((n.to_string(), t));
                    }
                }
            }
        }
    }
    for a in args {
        if let Some(n) = &a.name {
            out.push((n.clone(), &a.value));
        }
    }
    out
}
