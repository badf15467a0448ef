//! Evaluating a workflow body with promises instead of values, as flytekit does when it
//! compiles a workflow, to rebuild its DAG without running anything.

use super::annotation::TypeResolver;
use super::entity::{call_entity, unwrap_partial, CallEntity, EntityId, EntityKind, EntityTable, Interface};
use super::graph::*;
use crate::diagnostic::TextRange;
use crate::project::{Index, ModuleId, Resolved};
use crate::syntax::{keyword, Arg, ArgStar, Expr, ExprKind, FunctionDef, Stmt, StmtKind};
use crate::types::{FlyteType, LiteralType};
use std::collections::HashMap;

/// A value during evaluation.
#[derive(Clone, Debug)]
enum Val {
    /// A single promise (task output, workflow input, or a field of one).
    Promise {
        source: PromiseSource,
        attr_path: Vec<String>,
        ty: FlyteType,
    },
    /// The outputs of a node with two or more outputs (a named tuple of promises).
    Multi {
        node: NodeIdx,
    },
    /// A node with no outputs.
    Void {
        node: NodeIdx,
    },
    /// The `Node` returned by `create_node`.
    NodeHandle {
        node: NodeIdx,
    },
    Entity(Box<Callable>),
    Literal(Literal),
    List(Vec<(Val, TextRange)>),
    Tuple(Vec<(Val, TextRange)>),
    Dict(Vec<(Option<String>, Val, TextRange)>),
    /// A comparison or `&`/`|` of comparisons involving promises.
    Comparison,
    /// The builder of an imperative workflow (`wb = ImperativeWorkflow(...)`).
    Imperative,
    /// `node.outputs` of a `create_node` / `add_entity` node.
    NodeOutputs {
        node: NodeIdx,
    },
    /// A plain value whose content does not matter (a real value in `@dynamic`, a constant, ...).
    Unknown,
}

/// Something callable as a node.
#[derive(Clone, Debug)]
struct Callable {
    name: String,
    kind: EntityKind,
    entity: Option<EntityId>,
    interface: Interface,
    /// For map tasks made inline: the mapped task and the `map_task(...)` arguments.
    map_call: Option<(EntityId, Vec<Arg>)>,
}

/// Methods on promises and node outputs that are not output names.
const PROMISE_METHODS: &[&str] = &[
    "with_overrides",
    "is_true",
    "is_false",
    "is_none",
    "ref",
    "runs_before",
    "is_ready",
    "val",
    "var",
    "attr_path",
    "eval",
    "deepcopy",
    "with_var",
    "_fields",
    "_asdict",
    "_replace",
    "count",
    "index",
];

pub struct Evaluator<'a> {
    index: &'a Index,
    types: &'a TypeResolver<'a>,
    table: &'a EntityTable,
    module: ModuleId,
    graph: WorkflowGraph,
    env: HashMap<String, Val>,
}

/// Rebuild the DAG of workflow (or `@dynamic` task) `id`.
pub fn evaluate(index: &Index, types: &TypeResolver, table: &EntityTable, id: EntityId) -> Option<WorkflowGraph> {
    let e = &table.entities[id];
    let f = match &e.function {
        Some(f) => f.clone(),
        None if f_is_imperative(e) => std::sync::Arc::new(bodiless_function(e)),
        None => return None,
    };
    let dynamic = e.kind == EntityKind::DynamicTask;
    let mut ev = Evaluator {
        index,
        types,
        table,
        module: e.module,
        graph: WorkflowGraph {
            entity: id,
            nodes: Vec::new(),
            outputs: Vec::new(),
            order_edges: Vec::new(),
            findings: Vec::new(),
            dynamic,
        },
        env: HashMap::new(),
    };
    if f_is_imperative(e) {
        // Imperative workflows are built by module-level statements on the builder variable.
        ev.env.insert(e.name.clone(), Val::Imperative);
        let module = index.module(e.module);
        let stmts: Vec<Stmt> = module.top_level().into_iter().filter(|s| mentions(s, &e.name)).cloned().collect();
        ev.block(&stmts, &bodiless_function(e));
        return Some(ev.graph);
    }
    for v in &e.interface.inputs {
        let val = if dynamic {
            Val::Unknown
        } else {
            Val::Promise {
                source: PromiseSource::WorkflowInput { name: v.name.clone() },
                attr_path: Vec::new(),
                ty: v.ty.clone(),
            }
        };
        ev.env.insert(v.name.clone(), val);
    }
    ev.block(&f.body, &f);
    Some(ev.graph)
}

impl<'a> Evaluator<'a> {
    fn finding(&mut self, f: BodyFinding) {
        self.graph.findings.push(f);
    }

    fn misuse(&mut self, range: TextRange, what: impl Into<String>, fails: bool) {
        self.finding(BodyFinding::PromiseMisuse { range, what: what.into(), fails });
    }

    fn block(&mut self, body: &[Stmt], f: &FunctionDef) {
        for s in body {
            self.stmt(s, f);
        }
    }

    fn stmt(&mut self, s: &Stmt, f: &FunctionDef) {
        match &s.kind {
            StmtKind::Expr(e) => {
                self.expr(e);
            }
            StmtKind::Assign { targets, value: Some(value), .. } => {
                let v = self.expr(value);
                for t in targets {
                    self.assign(t, v.clone());
                }
            }
            StmtKind::AugAssign { target, value, .. } => {
                let l = self.expr(target);
                let r = self.expr(value);
                if self.is_promise_like(&l) || self.is_promise_like(&r) {
                    self.misuse(s.range, "augmented assignment (`+=`, ...) on a promise", true);
                }
                if let ExprKind::Name(n) = &target.kind {
                    self.env.insert(n.clone(), Val::Unknown);
                }
            }
            StmtKind::Return(value) => {
                if !self.graph.dynamic {
                    self.return_stmt(value.as_ref(), s.range);
                } else if let Some(v) = value {
                    self.expr(v);
                }
            }
            StmtKind::If { test, body, orelse } => {
                let t = self.expr(test);
                self.truth_test(&t, test.range, "an `if` statement");
                self.block(body, f);
                self.block(orelse, f);
            }
            StmtKind::While { test, body, orelse } => {
                let t = self.expr(test);
                self.truth_test(&t, test.range, "a `while` loop");
                self.block(body, f);
                self.block(orelse, f);
            }
            StmtKind::For { target, iter, body, orelse } => {
                let it = self.expr(iter);
                self.iterate(&it, iter.range);
                let item = match it {
                    Val::List(items) | Val::Tuple(items) if !items.is_empty() => items[0].0.clone(),
                    _ => Val::Unknown,
                };
                self.assign(target, item);
                self.block(body, f);
                self.block(orelse, f);
            }
            StmtKind::With { items, body } => {
                for (e, alias) in items {
                    self.expr(e);
                    if let Some(a) = alias {
                        self.assign(a, Val::Unknown);
                    }
                }
                self.block(body, f);
            }
            StmtKind::Try { body, handlers, orelse, finalbody } => {
                self.block(body, f);
                for h in handlers {
                    self.block(h, f);
                }
                self.block(orelse, f);
                self.block(finalbody, f);
            }
            StmtKind::FunctionDef(inner) => {
                self.env.insert(inner.name.clone(), Val::Unknown);
            }
            _ => {}
        }
    }

    fn is_promise_like(&self, v: &Val) -> bool {
        matches!(v, Val::Promise { .. } | Val::Multi { .. } | Val::Comparison)
    }

    fn truth_test(&mut self, v: &Val, range: TextRange, ctx: &str) {
        match v {
            Val::Promise { .. } => self.misuse(
                range,
                format!("a promise is tested for truth in {ctx}; its value only exists when the workflow runs (use `conditional()`)"),
                true,
            ),
            Val::Comparison => self.misuse(
                range,
                format!("a comparison of promises is tested for truth in {ctx}; use `conditional().if_(...)`"),
                true,
            ),
            _ => {}
        }
    }

    fn iterate(&mut self, v: &Val, range: TextRange) {
        if let Val::Promise { .. } = v {
            self.misuse(range, "iterating over a promise; a workflow body cannot loop over run-time values (use `map_task` or `@dynamic`)", true);
        }
    }

    fn assign(&mut self, target: &Expr, v: Val) {
        match &target.kind {
            ExprKind::Name(n) => {
                self.env.insert(n.clone(), v);
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let has_star = items.iter().any(|i| matches!(i.kind, ExprKind::Starred(_)));
                match v {
                    Val::Multi { node } => {
                        let outs = self.graph.nodes[node].callee.interface.outputs.clone();
                        if outs.len() != items.len() && !has_star {
                            let callee = self.graph.nodes[node].callee.name.clone();
                            self.finding(BodyFinding::UnpackArity {
                                range: target.range,
                                message: format!(
                                    "`{callee}` has {} outputs ({}) but {} names are unpacked",
                                    outs.len(),
                                    outs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>().join(", "),
                                    items.len()
                                ),
                            });
                        }
                        for (i, t) in items.iter().enumerate() {
                            let val = match outs.get(i) {
                                Some(o) if !has_star => Val::Promise {
                                    source: PromiseSource::Node { node, output: o.name.clone() },
                                    attr_path: Vec::new(),
                                    ty: o.ty.clone(),
                                },
                                _ => Val::Unknown,
                            };
                            self.assign(t, val);
                        }
                    }
                    Val::Promise { source: PromiseSource::Node { node, .. }, ref attr_path, .. }
                        if attr_path.is_empty() =>
                    {
                        let callee = self.graph.nodes[node].callee.name.clone();
                        self.finding(BodyFinding::UnpackArity {
                            range: target.range,
                            message: format!(
                                "`{callee}` has a single output, which cannot be unpacked into {} names",
                                items.len()
                            ),
                        });
                        for t in items {
                            self.assign(t, Val::Unknown);
                        }
                    }
                    Val::Void { node } => {
                        let callee = self.graph.nodes[node].callee.name.clone();
                        self.finding(BodyFinding::UnpackArity {
                            range: target.range,
                            message: format!("`{callee}` has no outputs, so there is nothing to unpack"),
                        });
                        for t in items {
                            self.assign(t, Val::Unknown);
                        }
                    }
                    Val::Tuple(vals) | Val::List(vals) if vals.len() == items.len() => {
                        for (t, (val, _)) in items.iter().zip(vals) {
                            self.assign(t, val);
                        }
                    }
                    _ => {
                        for t in items {
                            self.assign(t, Val::Unknown);
                        }
                    }
                }
            }
            ExprKind::Starred(inner) => self.assign(inner, Val::Unknown),
            _ => {}
        }
    }

    fn return_stmt(&mut self, value: Option<&Expr>, range: TextRange) {
        let e = &self.table.entities[self.graph.entity];
        let declared = e.interface.outputs.clone();
        let name = e.name.clone();
        let Some(value) = value else {
            if !declared.is_empty() {
                self.finding(BodyFinding::ReturnArity {
                    range,
                    message: format!("workflow `{name}` declares {} output(s) but returns nothing", declared.len()),
                    fails: true,
                });
            }
            return;
        };
        let v = self.named_tuple_return(value, &declared).unwrap_or_else(|| self.expr(value));
        // Values returned, each with its range.
        let returned: Vec<(Val, TextRange)> = match (&v, &value.kind) {
            (Val::Tuple(items), _) => items.clone(),
            (Val::Multi { node }, _) if declared.len() > 1 => {
                let outs = self.graph.nodes[*node].callee.interface.outputs.clone();
                outs.iter()
                    .map(|o| {
                        (
                            Val::Promise {
                                source: PromiseSource::Node { node: *node, output: o.name.clone() },
                                attr_path: Vec::new(),
                                ty: o.ty.clone(),
                            },
                            value.range,
                        )
                    })
                    .collect()
            }
            (Val::Literal(Literal::None), _) if declared.is_empty() => Vec::new(),
            (Val::Void { .. }, _) if declared.is_empty() => Vec::new(),
            _ => vec![(v.clone(), value.range)],
        };
        if returned.len() != declared.len() {
            let message = if declared.is_empty() {
                format!(
                    "workflow `{name}` has no return annotation, so it has no outputs: the returned value is dropped \
                     when registered, and a local run fails (\"Interface output should've been VoidPromise or None\")"
                )
            } else {
                format!(
                    "workflow `{name}` declares {} output(s) ({}) but returns {} value(s)",
                    declared.len(),
                    declared.iter().map(|d| format!("{}: {}", d.name, d.ty.py)).collect::<Vec<_>>().join(", "),
                    returned.len()
                )
            };
            if !matches!(v, Val::Unknown) {
                self.finding(BodyFinding::ReturnArity { range: value.range, message, fails: !declared.is_empty() });
            }
            return;
        }
        for (d, (val, r)) in declared.iter().zip(returned) {
            let bv = self.bound(&val);
            self.graph.outputs.push(OutputBinding { output: d.name.clone(), range: r, value: bv });
        }
    }

    /// `return Out(a=x, b=y)` / `return Out(x, y)` for a NamedTuple output: a tuple of values.
    fn named_tuple_return(&mut self, value: &Expr, declared: &[super::entity::Var]) -> Option<Val> {
        let ExprKind::Call { func, args } = &value.kind else { return None };
        if declared.len() < 2 || args.len() != declared.len() || args.iter().any(|a| a.star != ArgStar::None) {
            return None;
        }
        let keywords_match = args.iter().all(|a| a.name.as_ref().is_none_or(|n| declared.iter().any(|d| &d.name == n)));
        let names_a_class =
            matches!(self.index.resolve_expr(self.module, func), Resolved::Value(..) | Resolved::Class(..));
        if !keywords_match || !names_a_class {
            return None;
        }
        let mut items = Vec::new();
        for (i, d) in declared.iter().enumerate() {
            let a = args
                .iter()
                .find(|a| a.name.as_deref() == Some(&d.name))
                .or_else(|| args.get(i).filter(|a| a.name.is_none()))?;
            items.push((self.expr(&a.value), a.value.range));
        }
        Some(Val::Tuple(items))
    }

    fn bound(&self, v: &Val) -> BoundValue {
        match v {
            Val::Promise { source, attr_path, ty } => {
                BoundValue::Promise { source: source.clone(), attr_path: attr_path.clone(), ty: ty.clone() }
            }
            Val::Literal(l) => BoundValue::Literal { literal: l.clone() },
            Val::List(items) | Val::Tuple(items) => {
                BoundValue::List { items: items.iter().map(|(x, r)| (self.bound(x), *r)).collect() }
            }
            Val::Dict(items) => {
                BoundValue::Dict { items: items.iter().map(|(k, x, r)| (k.clone(), self.bound(x), *r)).collect() }
            }
            Val::Void { node } => BoundValue::Void { node: *node },
            Val::Multi { node } => BoundValue::MultiOutput { node: *node },
            Val::NodeHandle { node } => {
                let outs = &self.graph.nodes[*node].callee.interface.outputs;
                if outs.is_empty() {
                    BoundValue::Void { node: *node }
                } else {
                    BoundValue::Unknown
                }
            }
            Val::Comparison => BoundValue::Comparison,
            Val::Entity(_) | Val::Unknown | Val::Imperative | Val::NodeOutputs { .. } => BoundValue::Unknown,
        }
    }

    /// The node a value comes from, for `>>` edges.
    fn node_of(&self, v: &Val) -> Option<NodeIdx> {
        match v {
            Val::Promise { source: PromiseSource::Node { node, .. }, .. }
            | Val::Multi { node }
            | Val::Void { node }
            | Val::NodeHandle { node } => Some(*node),
            _ => None,
        }
    }

    fn name_value(&self, n: &str, e: &Expr) -> Val {
        if let Some(v) = self.env.get(n) {
            return v.clone();
        }
        self.global_value(e)
    }

    /// A module-level name or attribute chain: an entity, or an unknown plain value.
    fn global_value(&self, e: &Expr) -> Val {
        if let Some(id) = self.table.resolve(self.index, self.module, e) {
            let ent = &self.table.entities[id];
            return Val::Entity(Box::new(Callable {
                name: e.dotted().unwrap_or_else(|| ent.name.clone()),
                kind: ent.kind,
                entity: Some(id),
                interface: ent.interface.clone(),
                map_call: None,
            }));
        }
        Val::Unknown
    }

    fn expr(&mut self, e: &Expr) -> Val {
        match &e.kind {
            ExprKind::Name(n) => self.name_value(n, e),
            ExprKind::Int(t) => Val::Literal(Literal::Int(t.clone())),
            ExprKind::Float(t) => Val::Literal(Literal::Float(t.clone())),
            ExprKind::Str(s) => Val::Literal(Literal::Str(s.clone())),
            ExprKind::Bool(b) => Val::Literal(Literal::Bool(*b)),
            ExprKind::NoneLit => Val::Literal(Literal::None),
            ExprKind::Unary { op, operand }
                if op == "-" && matches!(operand.kind, ExprKind::Int(_) | ExprKind::Float(_)) =>
            {
                match &operand.kind {
                    ExprKind::Int(t) => Val::Literal(Literal::Int(format!("-{t}"))),
                    ExprKind::Float(t) => Val::Literal(Literal::Float(format!("-{t}"))),
                    _ => Val::Unknown,
                }
            }
            ExprKind::List(items) | ExprKind::Set(items) => {
                let vals = items.iter().map(|i| (self.expr(i), i.range)).collect();
                Val::List(vals)
            }
            ExprKind::Tuple(items) => {
                let vals = items.iter().map(|i| (self.expr(i), i.range)).collect();
                Val::Tuple(vals)
            }
            ExprKind::Dict(kvs) => {
                let mut out = Vec::new();
                for (k, v) in kvs {
                    let key = k.as_str().map(str::to_string);
                    self.expr(k);
                    out.push((key, self.expr(v), v.range));
                }
                Val::Dict(out)
            }
            ExprKind::FString(parts) => {
                for p in parts {
                    let v = self.expr(p);
                    if self.is_promise_like(&v) {
                        self.misuse(
                            p.range,
                            "a promise is formatted into an f-string at compile time: the string will contain \
                             `Promise(...)`, not the value",
                            false,
                        );
                    }
                }
                Val::Unknown
            }
            ExprKind::Attribute { value, attr, attr_range } => {
                // `module.task`, `pkg.mod.workflow`: an entity reached through modules.
                if !self.env.contains_key(e.root_name()) {
                    if let v @ Val::Entity(_) = self.global_value(e) {
                        return v;
                    }
                }
                let base = self.expr(value);
                self.attribute(base, attr, *attr_range, e)
            }
            ExprKind::Subscript { value, index } => {
                let base = self.expr(value);
                for i in index {
                    self.expr(i);
                }
                self.subscript(base, index, e)
            }
            ExprKind::Call { func, args } => self.call(e, func, args),
            ExprKind::BinOp { op, left, right } => {
                let l = self.expr(left);
                let r = self.expr(right);
                if op == ">>" {
                    if let (Some(a), Some(b)) = (self.node_of(&l), self.node_of(&r)) {
                        self.graph.order_edges.push((a, b, e.range));
                        return r;
                    }
                }
                if op == "<<" {
                    if let (Some(a), Some(b)) = (self.node_of(&l), self.node_of(&r)) {
                        self.graph.order_edges.push((b, a, e.range));
                        return l;
                    }
                }
                if (op == "&" || op == "|") && (matches!(l, Val::Comparison) || matches!(r, Val::Comparison)) {
                    return Val::Comparison;
                }
                if self.is_promise_like(&l) || self.is_promise_like(&r) {
                    self.misuse(
                        e.range,
                        format!("arithmetic (`{op}`) on a promise; promises hold no value while the workflow is compiled (do it in a task)"),
                        true,
                    );
                }
                Val::Unknown
            }
            ExprKind::Compare { operands, .. } => {
                let vals: Vec<Val> = operands.iter().map(|o| self.expr(o)).collect();
                if vals.iter().any(|v| matches!(v, Val::Promise { .. })) {
                    Val::Comparison
                } else {
                    Val::Unknown
                }
            }
            ExprKind::BoolOp { op, left, right } => {
                let l = self.expr(left);
                let r = self.expr(right);
                if self.is_promise_like(&l) || self.is_promise_like(&r) {
                    self.misuse(
                        e.range,
                        format!("`{op}` on a promise tests it for truth; inside `conditional().if_()` use `&` / `|`"),
                        true,
                    );
                }
                Val::Unknown
            }
            ExprKind::Unary { op, operand } => {
                let v = self.expr(operand);
                if self.is_promise_like(&v) {
                    let what = if op == "not" {
                        "`not` on a promise tests it for truth; use `.is_false()` inside `conditional().if_()`"
                            .to_string()
                    } else {
                        format!("unary `{op}` on a promise; do it in a task")
                    };
                    self.misuse(e.range, what, true);
                }
                Val::Unknown
            }
            ExprKind::IfExp { test, body, orelse } => {
                let t = self.expr(test);
                self.truth_test(&t, test.range, "a conditional expression");
                let b = self.expr(body);
                let o = self.expr(orelse);
                if matches!(t, Val::Promise { .. } | Val::Comparison) {
                    Val::Unknown
                } else {
                    merge(b, o)
                }
            }
            ExprKind::Comprehension { element, iters } => {
                for it in iters {
                    let v = self.expr(it);
                    self.iterate(&v, it.range);
                }
                // The element may call tasks (a list of promises); its value is not tracked.
                let saved = self.env.clone();
                self.comprehension_element(element);
                self.env = saved;
                Val::Unknown
            }
            ExprKind::Starred(inner) | ExprKind::Await(inner) => {
                self.expr(inner);
                Val::Unknown
            }
            _ => Val::Unknown,
        }
    }

    fn comprehension_element(&mut self, element: &Expr) {
        // Names bound by the comprehension are unknown values; calls still create nodes.
        let mut names = Vec::new();
        element.walk(&mut |x| {
            if let ExprKind::Name(n) = &x.kind {
                names.push(n.clone());
            }
        });
        for n in names {
            if !self.env.contains_key(&n)
                && matches!(self.global_value(&Expr::new(ExprKind::Name(n.clone()), element.range)), Val::Unknown)
            {
                self.env.insert(n, Val::Unknown);
            }
        }
        self.expr(element);
    }

    fn attribute(&mut self, base: Val, attr: &str, attr_range: TextRange, whole: &Expr) -> Val {
        match base {
            Val::Multi { node } | Val::NodeHandle { node } => {
                let is_output = self.graph.nodes[node].callee.interface.output(attr).is_some();
                if !is_output && attr == "outputs" {
                    return Val::NodeOutputs { node };
                }
                if !is_output && (PROMISE_METHODS.contains(&attr) || attr.starts_with('_')) {
                    return Val::Unknown;
                }
                self.output_named(node, attr, attr_range)
            }
            Val::Promise { source, mut attr_path, ty } => {
                if PROMISE_METHODS.contains(&attr) {
                    return Val::Unknown;
                }
                match &ty.lit {
                    LiteralType::Struct { def } => match def.fields.iter().find(|f| f.name == attr) {
                        Some(field) => {
                            attr_path.push(attr.to_string());
                            Val::Promise { source, attr_path, ty: FlyteType::new(field.py.clone(), field.ty.clone()) }
                        }
                        None => {
                            let fields: Vec<&str> = def.fields.iter().map(|f| f.name.as_str()).collect();
                            self.finding(BodyFinding::UnknownOutput {
                                range: attr_range,
                                message: format!(
                                    "`{}` has no field `{attr}` (fields: {}); FlyteAdmin rejects the attribute access \
                                     at registration (FieldNotFound)",
                                    def.name,
                                    fields.join(", ")
                                ),
                            });
                            Val::Unknown
                        }
                    },
                    _ => {
                        let _ = whole;
                        attr_path.push(attr.to_string());
                        Val::Promise { source, attr_path, ty: FlyteType::unknown(format!("{}.{attr}", ty.py)) }
                    }
                }
            }
            Val::Entity(c) => {
                // `wf.with_overrides`, `LaunchPlan.get_or_create` on an entity, ...: not tracked.
                let _ = c;
                Val::Unknown
            }
            _ => Val::Unknown,
        }
    }

    /// Output `name` of `node` as a promise, or an `unknown-output` finding at `range`.
    fn output_named(&mut self, node: NodeIdx, name: &str, range: TextRange) -> Val {
        let callee = &self.graph.nodes[node].callee;
        match callee.interface.output(name) {
            Some(o) => Val::Promise {
                source: PromiseSource::Node { node, output: o.name.clone() },
                attr_path: Vec::new(),
                ty: o.ty.clone(),
            },
            None => {
                let message = format!(
                    "`{}` has no output `{name}`; its outputs are {}",
                    callee.name,
                    describe_outputs(&callee.interface.outputs)
                );
                self.finding(BodyFinding::UnknownOutput { range, message });
                Val::Unknown
            }
        }
    }

    fn subscript(&mut self, base: Val, index: &[Expr], whole: &Expr) -> Val {
        let idx = index.first();
        match base {
            Val::Multi { node } | Val::NodeHandle { node } => {
                if let Some(ExprKind::Int(t)) = idx.map(|i| &i.kind) {
                    if let Ok(i) = t.parse::<usize>() {
                        let outs = &self.graph.nodes[node].callee.interface.outputs;
                        return match outs.get(i).map(|o| o.name.clone()) {
                            Some(name) => self.output_named(node, &name, whole.range),
                            None => {
                                let message = format!(
                                    "index {i} is out of range: `{}` has {} outputs ({})",
                                    self.graph.nodes[node].callee.name,
                                    outs.len(),
                                    describe_outputs(outs)
                                );
                                self.finding(BodyFinding::UnknownOutput { range: whole.range, message });
                                Val::Unknown
                            }
                        };
                    }
                }
                Val::Unknown
            }
            Val::Promise { source, mut attr_path, ty } => {
                let key = match idx.map(|i| &i.kind) {
                    Some(ExprKind::Int(t)) => t.clone(),
                    Some(ExprKind::Str(s)) => s.clone(),
                    _ => "?".into(),
                };
                attr_path.push(key);
                let el = match &ty.lit {
                    LiteralType::Collection { element } => FlyteType::new(inner_py(&ty.py), (**element).clone()),
                    LiteralType::Map { value } => FlyteType::new(inner_py(&ty.py), (**value).clone()),
                    _ => FlyteType::unknown(format!("{}[...]", ty.py)),
                };
                Val::Promise { source, attr_path, ty: el }
            }
            Val::NodeOutputs { node } => match idx.map(|i| &i.kind) {
                Some(ExprKind::Str(name)) => self.output_named(node, name, whole.range),
                _ => Val::Unknown,
            },
            Val::List(items) | Val::Tuple(items) => match idx.map(|i| &i.kind) {
                Some(ExprKind::Int(t)) => {
                    t.parse::<usize>().ok().and_then(|i| items.get(i).map(|x| x.0.clone())).unwrap_or(Val::Unknown)
                }
                _ => Val::Unknown,
            },
            _ => Val::Unknown,
        }
    }

    fn call(&mut self, e: &Expr, func: &Expr, args: &[Arg]) -> Val {
        // conditional(...).if_(...).then(...)... chains.
        if let Some(v) = self.conditional_chain(e) {
            return v;
        }
        if let ExprKind::Attribute { value, attr, .. } = &func.kind {
            if let ExprKind::Name(var) = &value.kind {
                if matches!(self.env.get(var), Some(Val::Imperative)) {
                    return self.imperative_call(attr, e, args);
                }
            }
        }
        // `x.with_overrides(...)` keeps x (and may rename its node).
        if let ExprKind::Attribute { value, attr, .. } = &func.kind {
            if attr == "with_overrides" {
                let base = self.expr(value);
                for a in args {
                    self.expr(&a.value);
                }
                if let (Some(node), Some(name)) =
                    (self.node_of(&base), keyword(args, "node_name").and_then(|a| a.value.as_str()))
                {
                    self.graph.nodes[node].id = name.to_string();
                }
                return base;
            }
            if attr == "runs_before" {
                let base = self.expr(value);
                if let (Some(a), Some(arg)) = (self.node_of(&base), args.first()) {
                    let other = self.expr(&arg.value);
                    if let Some(b) = self.node_of(&other) {
                        self.graph.order_edges.push((a, b, e.range));
                    }
                }
                return Val::Unknown;
            }
        }
        let callee = match &func.kind {
            ExprKind::Call { .. } => match call_entity(self.index, self.types, self.table, self.module, func) {
                CallEntity::Entity(ent) => Some(Callable {
                    name: self.text(func.range),
                    kind: ent.kind,
                    entity: None,
                    map_call: ent
                        .target
                        .filter(|_| ent.kind == EntityKind::MapTask)
                        .map(|t| (t, ent.config_args.clone())),
                    interface: ent.interface,
                }),
                _ => None,
            },
            _ => match self.expr(func) {
                Val::Entity(c) => Some(*c),
                _ => None,
            },
        };
        if let Some(c) = callee {
            return self.make_node(c, e, func.range, args);
        }
        // Calls that are not Flyte entities.
        let resolved = match &func.kind {
            ExprKind::Name(n) if self.env.contains_key(n) => Resolved::Unknown,
            _ => self.index.resolve_expr(self.module, func),
        };
        if let Some(path) = resolved.external() {
            if path == "flytekit.create_node" {
                return self.create_node(e, args);
            }
            if path.starts_with("flytekit.") {
                for a in args {
                    self.expr(&a.value);
                }
                if let ExprKind::Call { .. } = &func.kind {
                    return Val::Unknown;
                }
                // A map_task / LaunchPlan made inside the body.
                if let CallEntity::Entity(ent) = call_entity(self.index, self.types, self.table, self.module, e) {
                    return Val::Entity(Box::new(Callable {
                        name: self.text(e.range),
                        kind: ent.kind,
                        entity: None,
                        map_call: ent
                            .target
                            .filter(|_| ent.kind == EntityKind::MapTask)
                            .map(|t| (t, ent.config_args.clone())),
                        interface: ent.interface,
                    }));
                }
                return Val::Unknown;
            }
        }
        let mut promise_args = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let v = self.expr(&a.value);
            if matches!(v, Val::Promise { .. } | Val::Multi { .. }) {
                // A project helper is only suspicious if it uses that parameter as a value.
                let uses_value = match &resolved {
                    Resolved::Function(_, f) => param_of(f, i, a).is_some_and(|p| uses_as_value(&f.body, &p)),
                    _ => true,
                };
                if uses_value {
                    promise_args.push(a.value.range);
                }
            }
        }
        if !self.graph.dynamic && !promise_args.is_empty() {
            self.plain_call_with_promise(func, &resolved, promise_args);
        }
        Val::Unknown
    }

    fn plain_call_with_promise(&mut self, func: &Expr, resolved: &Resolved, ranges: Vec<TextRange>) {
        let fname = self.text(func.range);
        let (report, fails) = match resolved {
            Resolved::External(p) => match p.as_str() {
                "builtins.len" | "builtins.int" | "builtins.float" | "builtins.bool" | "builtins.range"
                | "builtins.sum" | "builtins.min" | "builtins.max" | "builtins.sorted" | "builtins.abs"
                | "builtins.round" | "builtins.list" | "builtins.tuple" | "builtins.dict" | "builtins.set"
                | "builtins.enumerate" | "builtins.zip" => (true, true),
                "builtins.str" | "builtins.repr" | "builtins.format" => (true, false),
                _ => (false, false),
            },
            // A plain function of the project: it runs at compile time with a Promise object.
            Resolved::Function(..) => (true, false),
            _ => (false, false),
        };
        if report {
            for r in ranges {
                self.misuse(
                    r,
                    format!(
                        "a promise is passed to the plain function `{fname}`, which runs while the workflow is \
                         compiled and sees a `Promise`, not the value (make it a task)"
                    ),
                    fails,
                );
            }
        }
    }

    fn text(&self, r: TextRange) -> String {
        let t = &self.index.module(self.module).text;
        t.get(r.start..r.end).unwrap_or("?").split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The mapped task of a map task node, with the inputs `functools.partial` binds and its settings.
    fn map_info(&mut self, c: &Callable) -> Option<MapInfo> {
        if c.kind != EntityKind::MapTask {
            return None;
        }
        let (target, args) = match (&c.map_call, c.entity) {
            (Some((t, args)), _) => (*t, args.clone()),
            (None, Some(id)) => {
                let ent = &self.table.entities[id];
                (ent.target?, ent.config_args.clone())
            }
            (None, None) => return None,
        };
        let mut partial = Vec::new();
        if let Some(first) = args.first() {
            let (_, bound) = unwrap_partial(self.index, self.module, &first.value);
            for a in bound.iter() {
                let Some(name) = a.name.clone() else { continue };
                let v = self.expr(&a.value);
                partial.push(Binding {
                    input: name,
                    range: a.range,
                    value_range: a.value.range,
                    value: self.bound(&v),
                    positional: false,
                });
            }
        }
        let number = |name: &str| {
            keyword(&args, name).and_then(|a| match &a.value.kind {
                ExprKind::Int(t) | ExprKind::Float(t) => t.replace('_', "").parse::<f64>().ok(),
                _ => None,
            })
        };
        Some(MapInfo {
            target,
            partial,
            concurrency: number("concurrency").map(|f| f as u32),
            min_success_ratio: number("min_success_ratio"),
            min_successes: number("min_successes").map(|f| f as u32),
        })
    }

    fn make_node(&mut self, c: Callable, e: &Expr, func_range: TextRange, args: &[Arg]) -> Val {
        let mapped = self.map_info(&c);
        let mut bindings = Vec::new();
        let mut opaque = false;
        let mut positional_index = 0;
        for a in args {
            let v = self.expr(&a.value);
            match (a.star, &a.name) {
                (ArgStar::None, Some(name)) => bindings.push(Binding {
                    input: name.clone(),
                    range: a.range,
                    value_range: a.value.range,
                    value: self.bound(&v),
                    positional: false,
                }),
                (ArgStar::None, None) => {
                    let input = c.interface.inputs.get(positional_index).map(|i| i.name.clone()).unwrap_or_default();
                    positional_index += 1;
                    bindings.push(Binding {
                        input,
                        range: a.range,
                        value_range: a.value.range,
                        value: self.bound(&v),
                        positional: true,
                    });
                }
                _ => opaque = true,
            }
        }
        let n_outputs = c.interface.outputs.len();
        let idx = self.graph.nodes.len();
        self.graph.nodes.push(Node {
            id: format!("n{idx}"),
            callee: super::graph::Callee {
                name: c.name,
                kind: c.kind,
                entity: c.entity,
                interface: c.interface,
                mapped,
            },
            range: e.range,
            func_range,
            bindings,
            opaque_args: opaque,
            in_branch: None,
            branch: None,
            via_create_node: false,
        });
        match n_outputs {
            0 => Val::Void { node: idx },
            1 => {
                let o = self.graph.nodes[idx].callee.interface.outputs[0].clone();
                Val::Promise {
                    source: PromiseSource::Node { node: idx, output: o.name },
                    attr_path: Vec::new(),
                    ty: o.ty,
                }
            }
            _ => Val::Multi { node: idx },
        }
    }

    /// `wb.add_workflow_input(...)`, `wb.add_entity(...)`, `wb.add_workflow_output(...)`.
    fn imperative_call(&mut self, method: &str, e: &Expr, args: &[Arg]) -> Val {
        let iface = self.table.entities[self.graph.entity].interface.clone();
        let name = args.first().and_then(|a| a.value.as_str()).map(str::to_string);
        match (method, name) {
            ("add_workflow_input", Some(name)) => match iface.input(&name) {
                Some(v) => Val::Promise {
                    source: PromiseSource::WorkflowInput { name },
                    attr_path: Vec::new(),
                    ty: v.ty.clone(),
                },
                None => Val::Unknown,
            },
            ("add_entity", _) => self.create_node(e, args),
            ("add_workflow_output", Some(name)) => {
                if let Some(a) = args.get(1) {
                    let v = self.expr(&a.value);
                    let value = self.bound(&v);
                    self.graph.outputs.push(OutputBinding { output: name, range: a.value.range, value });
                }
                Val::Unknown
            }
            _ => {
                for a in args {
                    self.expr(&a.value);
                }
                Val::Unknown
            }
        }
    }

    fn create_node(&mut self, e: &Expr, args: &[Arg]) -> Val {
        let Some(first) = args.first() else { return Val::Unknown };
        let Val::Entity(c) = self.expr(&first.value) else {
            for a in &args[1..] {
                self.expr(&a.value);
            }
            return Val::Unknown;
        };
        let v = self.make_node(*c, e, first.value.range, &args[1..]);
        match self.node_of(&v) {
            Some(node) => {
                self.graph.nodes[node].via_create_node = true;
                Val::NodeHandle { node }
            }
            None => v,
        }
    }

    /// The test of an `if_()` as a `Condition` (comparisons, `&`, `|`, `is_true()`/`is_false()`/`is_none()`).
    fn condition(&mut self, e: &Expr) -> Condition {
        match &e.kind {
            ExprKind::BinOp { op, left, right } if op == "&" || op == "|" => {
                let (l, r) = (Box::new(self.condition(left)), Box::new(self.condition(right)));
                if op == "&" {
                    Condition::And { left: l, right: r }
                } else {
                    Condition::Or { left: l, right: r }
                }
            }
            ExprKind::Compare { ops, operands } if ops.len() == 1 && operands.len() == 2 => Condition::Compare {
                op: ops[0].clone(),
                left: self.operand(&operands[0]),
                right: self.operand(&operands[1]),
            },
            ExprKind::Call { func, args } if args.is_empty() => match &func.kind {
                ExprKind::Attribute { value, attr, .. } => {
                    let operand = self.operand(value);
                    match attr.as_str() {
                        "is_true" => Condition::IsTrue { operand },
                        "is_false" => Condition::IsFalse { operand },
                        "is_none" => Condition::IsNone { operand },
                        _ => Condition::Unknown,
                    }
                }
                _ => Condition::Unknown,
            },
            _ => Condition::Unknown,
        }
    }

    fn operand(&mut self, e: &Expr) -> Operand {
        match self.expr(e) {
            Val::Promise { source, attr_path, .. } => Operand::Promise { source, attr_path },
            Val::Literal(literal) => Operand::Literal { literal },
            _ => self.enum_member(e).map_or(Operand::Unknown, |v| Operand::Literal { literal: Literal::Str(v) }),
        }
    }

    /// `Currency.USD` of a project enum: its string value (what Flyte compares).
    fn enum_member(&self, e: &Expr) -> Option<String> {
        let ExprKind::Attribute { value, attr, .. } = &e.kind else { return None };
        let Resolved::Class(cm, class) = self.index.resolve_expr(self.module, value) else { return None };
        if self.types.class_kind(cm, &class, 0) != super::annotation::ClassKind::Enum {
            return None;
        }
        class.body.iter().find_map(|s| match &s.kind {
            StmtKind::Assign { targets, value: Some(v), .. } => match (&targets.first()?.kind, &v.kind) {
                (ExprKind::Name(n), ExprKind::Str(val)) if n == attr => Some(val.clone()),
                _ => None,
            },
            _ => None,
        })
    }

    /// `conditional("x").if_(c).then(t(...)).elif_(...).then(...).else_().then(...)|.fail(...)`.
    fn conditional_chain(&mut self, e: &Expr) -> Option<Val> {
        // Unwind the method chain down to its root call.
        let mut steps: Vec<(&str, &[Arg], TextRange)> = Vec::new();
        let mut cur = e;
        loop {
            let ExprKind::Call { func, args } = &cur.kind else { return None };
            match &func.kind {
                ExprKind::Attribute { value, attr, .. }
                    if matches!(attr.as_str(), "if_" | "elif_" | "else_" | "then" | "fail") =>
                {
                    steps.push((attr.as_str(), args.as_slice(), cur.range));
                    cur = value;
                }
                _ => {
                    if self.index.resolve_expr(self.module, func).external() != Some("flytekit.conditional") {
                        return None;
                    }
                    steps.reverse();
                    let name = args.first().and_then(|a| a.value.as_str()).unwrap_or("conditional").to_string();
                    // Report from the `conditional(...)` call itself, not an enclosing parenthesis.
                    let range = TextRange::new(cur.range.start, e.range.end);
                    return Some(self.build_branch(name, &steps, range));
                }
            }
        }
    }

    fn build_branch(&mut self, name: String, steps: &[(&str, &[Arg], TextRange)], range: TextRange) -> Val {
        let branch_idx = self.graph.nodes.len();
        self.graph.nodes.push(Node {
            id: format!("n{branch_idx}"),
            callee: super::graph::Callee {
                name: format!("conditional({name:?})"),
                kind: EntityKind::Workflow,
                entity: None,
                interface: Interface::default(),
                mapped: None,
            },
            range,
            func_range: range,
            bindings: Vec::new(),
            opaque_args: false,
            in_branch: None,
            branch: None,
            via_create_node: false,
        });
        let mut cases: Vec<Option<NodeIdx>> = Vec::new();
        let mut has_else = false;
        let mut unknown_case = false;
        let mut conditions = Vec::new();
        for (method, args, _r) in steps {
            match *method {
                "if_" | "elif_" => {
                    // Lower the test first; it only re-reads names, so drop any finding it repeats.
                    let findings = self.graph.findings.len();
                    conditions.push(args.first().map_or(Condition::Unknown, |a| self.condition(&a.value)));
                    self.graph.findings.truncate(findings);
                    for a in args.iter() {
                        let v = self.expr(&a.value);
                        if let Val::Literal(Literal::Bool(_)) = v {
                            self.misuse(
                                a.value.range,
                                "`if_()` needs a comparison of promises, not a Python bool (was `and`/`or`/`is` used?)",
                                true,
                            );
                        }
                    }
                }
                "else_" => has_else = true,
                "then" => {
                    let Some(a) = args.first() else { continue };
                    let before = self.graph.nodes.len();
                    let v = self.expr(&a.value);
                    match self.node_of(&v) {
                        Some(n) if n >= before => {
                            self.graph.nodes[n].in_branch = Some(branch_idx);
                            cases.push(Some(n));
                        }
                        _ => {
                            unknown_case = true;
                            cases.push(None);
                        }
                    }
                }
                "fail" => {
                    has_else = true;
                    cases.push(None);
                }
                _ => {}
            }
        }
        let mut failed_cases = 0;
        for (method, _, _) in steps {
            if *method == "fail" {
                failed_cases += 1;
            }
        }
        self.graph.nodes[branch_idx].branch =
            Some(BranchInfo { name: name.clone(), cases: cases.clone(), has_else, conditions });
        if !has_else {
            self.finding(BodyFinding::IncompleteConditional { range, name });
            return Val::Unknown;
        }
        if unknown_case {
            return Val::Unknown;
        }
        // Outputs: names every case provides; same name must have the same type in every case.
        let case_nodes: Vec<NodeIdx> = cases.iter().flatten().copied().collect();
        let Some(&first) = case_nodes.first() else { return Val::Unknown };
        let _ = failed_cases;
        let mut outputs = Vec::new();
        for o in self.graph.nodes[first].callee.interface.outputs.clone() {
            let mut everywhere = true;
            for &n in &case_nodes[1..] {
                let other = self.graph.nodes[n].callee.interface.output(&o.name).cloned();
                match other {
                    None => everywhere = false,
                    Some(other) => {
                        if other.ty.lit != o.ty.lit && !other.ty.lit.contains_unknown() && !o.ty.lit.contains_unknown()
                        {
                            let a = self.graph.nodes[first].callee.name.clone();
                            let b = self.graph.nodes[n].callee.name.clone();
                            self.finding(BodyFinding::BranchMismatch {
                                range: self.graph.nodes[n].range,
                                message: format!(
                                    "output `{}` is {} in the branch calling `{a}` but {} in the branch calling `{b}`; \
                                     FlyteAdmin requires identical types in every branch (MismatchingTypes)",
                                    o.name,
                                    o.ty.describe(),
                                    other.ty.describe()
                                ),
                            });
                        }
                    }
                }
            }
            if everywhere {
                outputs.push(o);
            }
        }
        self.graph.nodes[branch_idx].callee.interface.outputs = outputs.clone();
        match outputs.len() {
            0 => Val::Void { node: branch_idx },
            1 => Val::Promise {
                source: PromiseSource::Node { node: branch_idx, output: outputs[0].name.clone() },
                attr_path: Vec::new(),
                ty: outputs[0].ty.clone(),
            },
            _ => Val::Multi { node: branch_idx },
        }
    }
}

/// The parameter of `f` that argument `i` (`a`) binds to.
fn param_of(f: &FunctionDef, i: usize, a: &Arg) -> Option<String> {
    match &a.name {
        Some(n) => f.params.iter().find(|p| &p.name == n).map(|p| p.name.clone()),
        None => f.params.get(i).map(|p| p.name.clone()),
    }
}

/// Does a helper's body compute with `param` (arithmetic, comparison, formatting, iteration,
/// truth tests)? Passing it on to tasks or returning it is fine.
fn uses_as_value(body: &[Stmt], param: &str) -> bool {
    let is_param = |e: &Expr| matches!(&e.kind, ExprKind::Name(n) if n == param);
    let mut found = false;
    let mut check = |e: &Expr| {
        e.walk(&mut |x| match &x.kind {
            ExprKind::BinOp { op, left, right } if op != ">>" && op != "<<" => found |= is_param(left) || is_param(right),
            ExprKind::Compare { operands, .. } => found |= operands.iter().any(is_param),
            ExprKind::FString(parts) => found |= parts.iter().any(is_param),
            ExprKind::BoolOp { left, right, .. } => found |= is_param(left) || is_param(right),
            ExprKind::Unary { operand, .. } => found |= is_param(operand),
            ExprKind::Comprehension { iters, .. } => found |= iters.iter().any(is_param),
            ExprKind::Call { func, args } => {
                let builtin = matches!(&func.kind, ExprKind::Name(n) if matches!(n.as_str(), "len" | "int" | "float" | "str" | "bool" | "range" | "sum" | "sorted" | "list"));
                found |= builtin && args.iter().any(|a| is_param(&a.value));
            }
            _ => {}
        });
    };
    fn stmts(body: &[Stmt], check: &mut dyn FnMut(&Expr), is_param: &dyn Fn(&Expr) -> bool, found: &mut bool) {
        for s in body {
            match &s.kind {
                StmtKind::Expr(e) | StmtKind::Return(Some(e)) => check(e),
                StmtKind::Assign { value: Some(v), .. } => check(v),
                StmtKind::AugAssign { target, value, .. } => {
                    *found |= is_param(target);
                    check(value)
                }
                StmtKind::If { test, body, orelse } | StmtKind::While { test, body, orelse } => {
                    *found |= is_param(test);
                    check(test);
                    stmts(body, check, is_param, found);
                    stmts(orelse, check, is_param, found);
                }
                StmtKind::For { iter, body, .. } => {
                    *found |= is_param(iter);
                    check(iter);
                    stmts(body, check, is_param, found);
                }
                StmtKind::With { body, .. } => stmts(body, check, is_param, found),
                _ => {}
            }
        }
    }
    let mut direct = false;
    stmts(body, &mut check, &is_param, &mut direct);
    found || direct
}

/// A stand-in definition for an imperative workflow, whose "body" is module-level statements.
fn bodiless_function(e: &super::Entity) -> FunctionDef {
    FunctionDef {
        name: e.name.clone(),
        name_range: e.name_range,
        decorators: Vec::new(),
        params: Vec::new(),
        returns: None,
        body: Vec::new(),
        is_async: false,
        docstring: None,
        range: e.name_range,
        header_range: e.name_range,
    }
}

/// An `ImperativeWorkflow` builder: a workflow entity without a function or target.
fn f_is_imperative(e: &super::Entity) -> bool {
    e.function.is_none() && e.kind == EntityKind::Workflow && e.target.is_none()
}

/// Does a top-level statement use the name `var` (so it belongs to that imperative workflow)?
fn mentions(s: &Stmt, var: &str) -> bool {
    let exprs: Vec<&Expr> = match &s.kind {
        StmtKind::Expr(e) => vec![e],
        StmtKind::Assign { value: Some(v), .. } => vec![v],
        _ => return false,
    };
    let mut found = false;
    for e in exprs {
        e.walk(&mut |x| {
            if let ExprKind::Name(n) = &x.kind {
                found |= n == var;
            }
        });
    }
    found
}

fn merge(a: Val, b: Val) -> Val {
    match (&a, &b) {
        (Val::Literal(x), Val::Literal(y)) if x == y => a,
        _ => Val::Unknown,
    }
}

fn inner_py(py: &str) -> String {
    match (py.find('['), py.rfind(']')) {
        (Some(s), Some(e)) if s < e => {
            let inner = &py[s + 1..e];
            inner.rsplit_once(", ").map(|(_, v)| v.to_string()).unwrap_or_else(|| inner.to_string())
        }
        _ => format!("{py}[...]"),
    }
}

fn describe_outputs(outs: &[super::entity::Var]) -> String {
    if outs.is_empty() {
        return "none".into();
    }
    outs.iter().map(|o| format!("`{}`", o.name)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod run_info_tests {
    use super::super::graph::{Condition, Literal, Operand, PromiseSource};
    use crate::Workspace;
    use std::path::PathBuf;

    const FLOW: &str = r#"
import functools
from flytekit import conditional, map_task, task, workflow

@task
def double(x: int) -> int:
    return 2 * x

@task
def scale(x: int, factor: int) -> int:
    return x * factor

@task
def total(xs: list[int]) -> int:
    return sum(xs)

@workflow
def wf(n: int, flag: bool) -> int:
    d = double(x=n)
    scaled = map_task(functools.partial(scale, factor=d), concurrency=3, min_success_ratio=0.5)(x=[1, 2])
    t = total(xs=scaled)
    return (
        conditional("c")
        .if_((n > 3) & flag.is_true())
        .then(double(x=t))
        .elif_(d == 4)
        .then(double(x=n))
        .else_()
        .then(double(x=1))
    )
"#;

    #[test]
    fn enum_members_in_conditions_are_their_values() {
        let root = PathBuf::from("/run-info-enum");
        let mut ws = Workspace::new(root.clone(), Default::default());
        ws.set_file(
            root.join("flow.py"),
            r#"
import enum
from flytekit import conditional, task, workflow

class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"

@task
def one(c: Color) -> int:
    return 1

@workflow
def wf(c: Color) -> int:
    return conditional("c").if_(c == Color.BLUE).then(one(c=c)).else_().then(one(c=Color.RED))
"#
            .to_string(),
        );
        let a = ws.analyze();
        let g = a.graphs.iter().find(|g| a.entities.entities[g.entity].name == "wf").expect("wf graph");
        let branch = g.nodes.iter().find_map(|n| n.branch.as_ref()).expect("branch");
        assert!(
            matches!(
                &branch.conditions[0],
                Condition::Compare { right: Operand::Literal { literal: Literal::Str(v) }, .. } if v == "blue"
            ),
            "{:?}",
            branch.conditions
        );
    }

    #[test]
    fn conditions_and_map_partials_are_kept_for_run() {
        let root = PathBuf::from("/run-info");
        let mut ws = Workspace::new(root.clone(), Default::default());
        ws.set_file(root.join("flow.py"), FLOW.to_string());
        let a = ws.analyze();
        let g = a.graphs.iter().find(|g| a.entities.entities[g.entity].name == "wf").expect("wf graph");
        let map = g.nodes.iter().find_map(|n| n.callee.mapped.as_ref()).expect("map node");
        assert_eq!(a.entities.entities[map.target].name, "scale");
        assert_eq!(map.concurrency, Some(3));
        assert_eq!(map.min_success_ratio, Some(0.5));
        assert_eq!(map.partial.len(), 1);
        assert_eq!(map.partial[0].input, "factor");
        let branch = g.nodes.iter().find_map(|n| n.branch.as_ref()).expect("branch");
        assert_eq!(branch.conditions.len(), 2);
        let n = Operand::Promise { source: PromiseSource::WorkflowInput { name: "n".into() }, attr_path: vec![] };
        let flag = Operand::Promise { source: PromiseSource::WorkflowInput { name: "flag".into() }, attr_path: vec![] };
        assert_eq!(
            branch.conditions[0],
            Condition::And {
                left: Box::new(Condition::Compare {
                    op: ">".into(),
                    left: n,
                    right: Operand::Literal { literal: Literal::Int("3".into()) }
                }),
                right: Box::new(Condition::IsTrue { operand: flag }),
            }
        );
        assert!(
            matches!(&branch.conditions[1], Condition::Compare { op, left: Operand::Promise { source: PromiseSource::Node { .. }, .. }, .. } if op == "==")
        );
    }
}
