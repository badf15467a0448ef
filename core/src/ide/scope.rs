//! Finding things in the AST by position, and what names hold inside workflow bodies.

use crate::diagnostic::TextRange;
use crate::flyte::graph::{NodeIdx, PromiseSource, WorkflowGraph};
use crate::flyte::{EntityId, EntityKind};
use crate::project::{Module, ModuleId, Resolved, Symbol};
use crate::syntax::{ArgStar, ClassDef, Expr, ExprKind, FunctionDef, ParamKind, Stmt, StmtKind};
use crate::types::{FlyteType, LiteralType};
use crate::workspace::Analysis;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// The module of the file at `path`.
pub fn module_of(analysis: &Analysis, path: &Path) -> Option<ModuleId> {
    analysis.index.modules.iter().position(|m| m.path == path)
}

/// `start <= offset <= end`: a cursor right after an identifier is still on it.
pub fn touches(r: TextRange, offset: usize) -> bool {
    r.start <= offset && offset <= r.end
}

/// Visit every expression of `body` (outer expressions first) with the innermost function
/// around it (`None` at module and class level).
pub fn visit_exprs<'a>(
    body: &'a [Stmt],
    func: Option<&'a FunctionDef>,
    f: &mut dyn FnMut(&'a Expr, Option<&'a FunctionDef>),
) {
    for s in body {
        visit_stmt(s, func, f);
    }
}

fn visit_stmt<'a>(s: &'a Stmt, func: Option<&'a FunctionDef>, f: &mut dyn FnMut(&'a Expr, Option<&'a FunctionDef>)) {
    let e = |x: &'a Expr, f: &mut dyn FnMut(&'a Expr, Option<&'a FunctionDef>)| x.walk(&mut |y| f(y, func));
    match &s.kind {
        StmtKind::Expr(x) => e(x, f),
        StmtKind::Assign { targets, annotation, value } => {
            for t in targets {
                e(t, f);
            }
            if let Some(a) = annotation {
                e(a, f);
            }
            if let Some(v) = value {
                e(v, f);
            }
        }
        StmtKind::AugAssign { target, value, .. } => {
            e(target, f);
            e(value, f);
        }
        StmtKind::Return(Some(x)) => e(x, f),
        StmtKind::If { test, body, orelse } | StmtKind::While { test, body, orelse } => {
            e(test, f);
            visit_exprs(body, func, f);
            visit_exprs(orelse, func, f);
        }
        StmtKind::For { target, iter, body, orelse } => {
            e(target, f);
            e(iter, f);
            visit_exprs(body, func, f);
            visit_exprs(orelse, func, f);
        }
        StmtKind::With { items, body } => {
            for (x, alias) in items {
                e(x, f);
                if let Some(a) = alias {
                    e(a, f);
                }
            }
            visit_exprs(body, func, f);
        }
        StmtKind::Try { body, handlers, orelse, finalbody } => {
            visit_exprs(body, func, f);
            for h in handlers {
                visit_exprs(h, func, f);
            }
            visit_exprs(orelse, func, f);
            visit_exprs(finalbody, func, f);
        }
        StmtKind::FunctionDef(def) => {
            for d in &def.decorators {
                e(d, f);
            }
            for p in &def.params {
                if let Some(a) = &p.annotation {
                    e(a, f);
                }
                if let Some(d) = &p.default {
                    e(d, f);
                }
            }
            if let Some(r) = &def.returns {
                e(r, f);
            }
            visit_exprs(&def.body, Some(def), f);
        }
        StmtKind::ClassDef(c) => {
            for d in &c.decorators {
                e(d, f);
            }
            for b in &c.bases {
                e(&b.value, f);
            }
            visit_exprs(&c.body, None, f);
        }
        _ => {}
    }
}

/// Every function definition in `body`, nested ones included.
pub fn all_functions(body: &[Stmt]) -> Vec<&Arc<FunctionDef>> {
    let mut out = Vec::new();
    fn go<'a>(body: &'a [Stmt], out: &mut Vec<&'a Arc<FunctionDef>>) {
        for s in body {
            match &s.kind {
                StmtKind::FunctionDef(f) => {
                    out.push(f);
                    go(&f.body, out);
                }
                StmtKind::ClassDef(c) => go(&c.body, out),
                _ => s.blocks().into_iter().for_each(|b| go(b, out)),
            }
        }
    }
    go(body, &mut out);
    out
}

/// Every class definition in `body`, nested ones included.
pub fn all_classes(body: &[Stmt]) -> Vec<&Arc<ClassDef>> {
    let mut out = Vec::new();
    fn go<'a>(body: &'a [Stmt], out: &mut Vec<&'a Arc<ClassDef>>) {
        for s in body {
            match &s.kind {
                StmtKind::ClassDef(c) => {
                    out.push(c);
                    go(&c.body, out);
                }
                StmtKind::If { .. } | StmtKind::Try { .. } => s.blocks().into_iter().for_each(|b| go(b, out)),
                _ => {}
            }
        }
    }
    go(body, &mut out);
    out
}

/// The innermost function whose definition contains `offset`.
pub fn innermost_function(body: &[Stmt], offset: usize) -> Option<&Arc<FunctionDef>> {
    all_functions(body).into_iter().filter(|f| touches(f.range, offset)).min_by_key(|f| f.range.len())
}

/// Names a function binds locally: parameters, assignment targets, loop variables, `with ... as`,
/// nested definitions and imports (not descending into nested functions).
pub fn function_locals(f: &FunctionDef) -> HashSet<String> {
    let mut out: HashSet<String> = f.params.iter().map(|p| p.name.clone()).collect();
    fn targets(e: &Expr, out: &mut HashSet<String>) {
        match &e.kind {
            ExprKind::Name(n) => {
                out.insert(n.clone());
            }
            ExprKind::Tuple(xs) | ExprKind::List(xs) => xs.iter().for_each(|x| targets(x, out)),
            ExprKind::Starred(x) => targets(x, out),
            _ => {}
        }
    }
    fn go(body: &[Stmt], out: &mut HashSet<String>) {
        for s in body {
            match &s.kind {
                StmtKind::Assign { targets: ts, .. } => ts.iter().for_each(|t| targets(t, out)),
                StmtKind::AugAssign { target, .. } => targets(target, out),
                StmtKind::For { target, body, orelse, .. } => {
                    targets(target, out);
                    go(body, out);
                    go(orelse, out);
                }
                StmtKind::If { body, orelse, .. } | StmtKind::While { body, orelse, .. } => {
                    go(body, out);
                    go(orelse, out);
                }
                StmtKind::With { items, body } => {
                    for (_, a) in items {
                        if let Some(a) = a {
                            targets(a, out);
                        }
                    }
                    go(body, out);
                }
                StmtKind::Try { body, handlers, orelse, finalbody } => {
                    go(body, out);
                    for h in handlers {
                        go(h, out);
                    }
                    go(orelse, out);
                    go(finalbody, out);
                }
                StmtKind::FunctionDef(f) => {
                    out.insert(f.name.clone());
                }
                StmtKind::ClassDef(c) => {
                    out.insert(c.name.clone());
                }
                StmtKind::Import(names) => {
                    for n in names {
                        out.insert(
                            n.alias.clone().unwrap_or_else(|| n.name.split('.').next().unwrap_or("").to_string()),
                        );
                    }
                }
                StmtKind::ImportFrom { names, .. } => {
                    for n in names {
                        out.insert(n.alias.clone().unwrap_or_else(|| n.name.clone()));
                    }
                }
                _ => {}
            }
        }
    }
    go(&f.body, &mut out);
    out
}

/// The Flyte entity whose function (workflow, dynamic task, task) contains `offset`, innermost.
/// Falls back to the text (the nearest `def` above with less indentation) when the code
/// around the cursor does not parse.
pub fn enclosing_entity(analysis: &Analysis, m: ModuleId, offset: usize) -> Option<EntityId> {
    let by_ast = analysis
        .entities
        .entities
        .iter()
        .enumerate()
        .filter(|(_, e)| e.module == m)
        .filter_map(|(i, e)| e.function.as_ref().map(|f| (i, f)))
        .filter(|(_, f)| f.range.start <= offset && offset <= f.range.end)
        .min_by_key(|(_, f)| f.range.len())
        .map(|(i, _)| i);
    if by_ast.is_some() {
        return by_ast;
    }
    let text = &analysis.index.module(m).text;
    let name = enclosing_def_name(text, offset)?;
    analysis.entities.get(m, &name).filter(|&id| analysis.entities.entities[id].function.is_some())
}

/// The name of the `def` whose body holds `offset`, by indentation.
pub fn enclosing_def_name(text: &str, offset: usize) -> Option<String> {
    let offset = crate::line_index::floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map(|p| p + 1).unwrap_or(0);
    let cur_line = &text[line_start..];
    let cur_indent = cur_line.len() - cur_line.trim_start_matches([' ', '\t']).len();
    if cur_indent == 0 {
        return None;
    }
    let mut limit = cur_indent;
    for line in text[..line_start].lines().rev() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if indent < limit {
            let rest = trimmed.strip_prefix("async ").unwrap_or(trimmed);
            if let Some(rest) = rest.strip_prefix("def ") {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                return (!name.is_empty()).then_some(name);
            }
            if indent == 0 {
                return None;
            }
            limit = indent;
        }
    }
    None
}

/// The reconstructed DAG of entity `id`, if it is a workflow or dynamic task.
pub fn graph_of(analysis: &Analysis, id: EntityId) -> Option<&WorkflowGraph> {
    analysis.graphs.iter().find(|g| g.entity == id)
}

/// What a local name holds inside a workflow body.
#[derive(Clone, Debug)]
pub enum LocalValue {
    /// One promise: a node output, a workflow input, or a field of one.
    Promise { source: PromiseSource, attr_path: Vec<String>, ty: FlyteType },
    /// The outputs of a node with two or more outputs.
    Multi { node: NodeIdx },
    /// A node without outputs.
    Void { node: NodeIdx },
}

/// One assignment to a name inside a workflow body.
#[derive(Clone, Debug)]
pub struct LocalAssignment {
    pub name: String,
    /// The target name as written.
    pub range: TextRange,
    /// `x: T = ...` (the user already wrote the type).
    pub annotated: bool,
    pub value: Option<LocalValue>,
}

/// Follows a workflow body statement by statement, the way `flyte::eval` does, to tell what each
/// name holds; nodes are matched to calls by their source range.
pub struct BodyScope<'a> {
    pub analysis: &'a Analysis,
    pub graph: &'a WorkflowGraph,
    pub env: HashMap<String, (LocalValue, TextRange)>,
    pub assignments: Vec<LocalAssignment>,
}

impl<'a> BodyScope<'a> {
    pub fn new(analysis: &'a Analysis, graph: &'a WorkflowGraph) -> Self {
        let e = &analysis.entities.entities[graph.entity];
        let mut env = HashMap::new();
        if !graph.dynamic {
            for v in &e.interface.inputs {
                env.insert(
                    v.name.clone(),
                    (
                        LocalValue::Promise {
                            source: PromiseSource::WorkflowInput { name: v.name.clone() },
                            attr_path: Vec::new(),
                            ty: v.ty.clone(),
                        },
                        v.range,
                    ),
                );
            }
        }
        BodyScope { analysis, graph, env, assignments: Vec::new() }
    }

    /// The names bound at `offset` (statements after it are not applied).
    pub fn at(analysis: &'a Analysis, graph: &'a WorkflowGraph, offset: usize) -> Self {
        let mut s = BodyScope::new(analysis, graph);
        if let Some(f) = analysis.entities.entities[graph.entity].function.clone() {
            s.block(&f.body, Some(offset));
        }
        s
    }

    /// Every assignment of the body.
    pub fn all(analysis: &'a Analysis, graph: &'a WorkflowGraph) -> Self {
        let mut s = BodyScope::new(analysis, graph);
        if let Some(f) = analysis.entities.entities[graph.entity].function.clone() {
            s.block(&f.body, None);
        }
        s
    }

    /// Apply statements; with `stop`, stop at the statement holding that offset (applying it
    /// only when the offset is on one of its targets). Returns false once stopped.
    fn block(&mut self, body: &[Stmt], stop: Option<usize>) -> bool {
        for s in body {
            if let Some(o) = stop {
                if s.range.start > o {
                    return false;
                }
                if o < s.range.end {
                    // The statement holding the cursor.
                    return match &s.kind {
                        StmtKind::Assign { targets, .. } if targets.iter().any(|t| touches(t.range, o)) => {
                            self.stmt(s, stop);
                            false
                        }
                        StmtKind::If { .. }
                        | StmtKind::For { .. }
                        | StmtKind::While { .. }
                        | StmtKind::With { .. }
                        | StmtKind::Try { .. } => {
                            self.stmt(s, stop);
                            false
                        }
                        _ => false,
                    };
                }
            }
            if !self.stmt(s, stop) {
                return false;
            }
        }
        true
    }

    fn stmt(&mut self, s: &Stmt, stop: Option<usize>) -> bool {
        match &s.kind {
            StmtKind::Assign { targets, annotation, value: Some(value) } => {
                let v = self.eval(value);
                for t in targets {
                    self.assign(t, v.clone(), annotation.is_some());
                }
                true
            }
            StmtKind::If { body, orelse, .. } | StmtKind::While { body, orelse, .. } => {
                self.block(body, stop) && self.block(orelse, stop)
            }
            StmtKind::For { target, body, orelse, .. } => {
                self.assign(target, None, false);
                self.block(body, stop) && self.block(orelse, stop)
            }
            StmtKind::With { items, body } => {
                for (_, a) in items {
                    if let Some(a) = a {
                        self.assign(a, None, false);
                    }
                }
                self.block(body, stop)
            }
            StmtKind::Try { body, handlers, orelse, finalbody } => {
                if !self.block(body, stop) {
                    return false;
                }
                for h in handlers {
                    if !self.block(h, stop) {
                        return false;
                    }
                }
                self.block(orelse, stop) && self.block(finalbody, stop)
            }
            StmtKind::AugAssign { target, .. } => {
                self.assign(target, None, false);
                true
            }
            _ => true,
        }
    }

    fn assign(&mut self, target: &Expr, v: Option<LocalValue>, annotated: bool) {
        match &target.kind {
            ExprKind::Name(n) => {
                self.assignments.push(LocalAssignment {
                    name: n.clone(),
                    range: target.range,
                    annotated,
                    value: v.clone(),
                });
                match v {
                    Some(v) => {
                        self.env.insert(n.clone(), (v, target.range));
                    }
                    None => {
                        self.env.remove(n);
                    }
                }
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let starred = items.iter().any(|i| matches!(i.kind, ExprKind::Starred(_)));
                match v {
                    Some(LocalValue::Multi { node }) if !starred => {
                        let outs = &self.graph.nodes[node].callee.interface.outputs;
                        let vals: Vec<Option<LocalValue>> = (0..items.len())
                            .map(|i| {
                                outs.get(i).map(|o| LocalValue::Promise {
                                    source: PromiseSource::Node { node, output: o.name.clone() },
                                    attr_path: Vec::new(),
                                    ty: o.ty.clone(),
                                })
                            })
                            .collect();
                        for (t, v) in items.iter().zip(vals) {
                            self.assign(t, v, annotated);
                        }
                    }
                    _ => {
                        for t in items {
                            self.assign(t, None, annotated);
                        }
                    }
                }
            }
            ExprKind::Starred(inner) => self.assign(inner, None, annotated),
            _ => {}
        }
    }

    /// The node a call expression created.
    pub fn node_for_call(&self, e: &Expr) -> Option<NodeIdx> {
        let mut e = e;
        // `t(...).with_overrides(...)` is the node of `t(...)`.
        while let ExprKind::Call { func, .. } = &e.kind {
            match &func.kind {
                ExprKind::Attribute { value, attr, .. } if attr == "with_overrides" => e = value,
                _ => break,
            }
        }
        self.graph.nodes.iter().position(|n| n.range == e.range)
    }

    /// What expression `e` evaluates to, as far as names and node outputs go.
    pub fn eval(&self, e: &Expr) -> Option<LocalValue> {
        match &e.kind {
            ExprKind::Name(n) => self.env.get(n).map(|(v, _)| v.clone()),
            ExprKind::Call { .. } => {
                let node = self.node_for_call(e)?;
                let outs = &self.graph.nodes[node].callee.interface.outputs;
                Some(match outs.len() {
                    0 => LocalValue::Void { node },
                    1 => LocalValue::Promise {
                        source: PromiseSource::Node { node, output: outs[0].name.clone() },
                        attr_path: Vec::new(),
                        ty: outs[0].ty.clone(),
                    },
                    _ => LocalValue::Multi { node },
                })
            }
            ExprKind::Attribute { value, attr, .. } => match self.eval(value)? {
                LocalValue::Multi { node } => {
                    let o = self.graph.nodes[node].callee.interface.output(attr)?;
                    Some(LocalValue::Promise {
                        source: PromiseSource::Node { node, output: o.name.clone() },
                        attr_path: Vec::new(),
                        ty: o.ty.clone(),
                    })
                }
                LocalValue::Promise { source, mut attr_path, ty } => match &ty.lit {
                    LiteralType::Struct { def } => {
                        let field = def.fields.iter().find(|f| &f.name == attr)?;
                        attr_path.push(attr.clone());
                        Some(LocalValue::Promise {
                            source,
                            attr_path,
                            ty: FlyteType::new(field.py.clone(), field.ty.clone()),
                        })
                    }
                    _ => None,
                },
                LocalValue::Void { .. } => None,
            },
            ExprKind::Subscript { value, index } => match (self.eval(value)?, index.first().map(|i| &i.kind)) {
                (LocalValue::Multi { node }, Some(ExprKind::Int(t))) => {
                    let i: usize = t.parse().ok()?;
                    let o = self.graph.nodes[node].callee.interface.outputs.get(i)?;
                    Some(LocalValue::Promise {
                        source: PromiseSource::Node { node, output: o.name.clone() },
                        attr_path: Vec::new(),
                        ty: o.ty.clone(),
                    })
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// A short description of a local value: its type, for inlay hints.
pub fn value_type_label(analysis: &Analysis, graph: &WorkflowGraph, v: &LocalValue) -> String {
    match v {
        LocalValue::Promise { ty, .. } => ty.py.clone(),
        LocalValue::Void { .. } => "None".into(),
        LocalValue::Multi { node } => {
            let n = &graph.nodes[*node];
            // The return annotation as written (`LineColumns`), when the callee is a plain function.
            if let Some(id) = n.callee.entity {
                let e = &analysis.entities.entities[id];
                if matches!(
                    e.kind,
                    EntityKind::Task
                        | EntityKind::Workflow
                        | EntityKind::DynamicTask
                        | EntityKind::ReferenceTask
                        | EntityKind::EagerTask
                ) {
                    if let Some(ret) = e.function.as_ref().and_then(|f| f.returns.as_ref()) {
                        let text = &analysis.index.module(e.module).text;
                        if let Some(s) = text.get(ret.range.start..ret.range.end) {
                            return s.split_whitespace().collect::<Vec<_>>().join(" ");
                        }
                    }
                }
            }
            let parts: Vec<String> =
                n.callee.interface.outputs.iter().map(|o| format!("{}: {}", o.name, o.ty.py)).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// What the identifier under the cursor is.
#[derive(Clone, Debug)]
pub enum NameAt<'a> {
    /// A name or attribute chain in an expression; `ident` is the identifier under the cursor.
    Expr { expr: &'a Expr, ident: TextRange, func: Option<&'a FunctionDef> },
    /// The keyword of a keyword argument: `name=` in `call`.
    Keyword { call: &'a Expr, name: String, ident: TextRange, func: Option<&'a FunctionDef> },
    /// A parameter in a `def`.
    Param { def: &'a Arc<FunctionDef>, name: String, ident: TextRange },
    /// The name of a `def`.
    DefName { def: &'a Arc<FunctionDef> },
    /// The name of a `class`.
    ClassName { class: &'a Arc<ClassDef> },
    /// A name bound by an import statement (`bound` is the name it binds in the module).
    Import { bound: String, ident: TextRange },
    /// The target of a top-level `name = ...` assignment.
    TopLevelValue { name: String, ident: TextRange },
}

/// The identifier at `offset` in module `module`.
pub fn name_at(module: &Module, offset: usize) -> Option<NameAt<'_>> {
    // Only the top-level statements around the offset can hold it (they are in source order).
    let all = &module.parsed.body;
    let first = all.partition_point(|s| s.range.end < offset);
    let last = first + all[first..].iter().take_while(|s| s.range.start <= offset).count();
    let body = &all[first..last];
    for f in all_functions(body) {
        if touches(f.name_range, offset) {
            return Some(NameAt::DefName { def: f });
        }
        if f.header_range.start <= offset && offset <= f.header_range.end {
            for p in &f.params {
                if matches!(p.kind, ParamKind::VarArgs | ParamKind::VarKwargs) {
                    continue;
                }
                let ident = TextRange::new(p.range.start, p.range.start + p.name.len());
                if module.text.get(ident.start..ident.end) == Some(p.name.as_str()) && touches(ident, offset) {
                    return Some(NameAt::Param { def: f, name: p.name.clone(), ident });
                }
            }
        }
    }
    for c in all_classes(body) {
        if touches(c.name_range, offset) {
            return Some(NameAt::ClassName { class: c });
        }
    }
    // Imports bind names at the ranges of their import names.
    for (bound, sym) in &module.symbols {
        match sym {
            Symbol::ImportFrom { range, .. } | Symbol::ImportModule { range, .. } if touches(*range, offset) => {
                let text = module.text.get(range.start..range.end).unwrap_or("");
                // `a as b`: the cursor on either part means the bound name.
                let ident = match text.find(" as ") {
                    Some(p) if offset < range.start + p => TextRange::new(range.start, range.start + p),
                    Some(p) => TextRange::new(range.start + p + 4, range.end),
                    None => *range,
                };
                return Some(NameAt::Import { bound: bound.clone(), ident });
            }
            Symbol::Value { range, .. } if touches(*range, offset) => {
                return Some(NameAt::TopLevelValue { name: bound.clone(), ident: *range });
            }
            _ => {}
        }
    }
    let mut best: Option<NameAt> = None;
    let mut best_len = usize::MAX;
    visit_exprs(body, None, &mut |e, func| match &e.kind {
        ExprKind::Name(_) if touches(e.range, offset) && e.range.len() < best_len => {
            best_len = e.range.len();
            best = Some(NameAt::Expr { expr: e, ident: e.range, func });
        }
        ExprKind::Attribute { attr_range, .. } if touches(*attr_range, offset) && attr_range.len() < best_len => {
            best_len = attr_range.len();
            best = Some(NameAt::Expr { expr: e, ident: *attr_range, func });
        }
        ExprKind::Call { args, .. } => {
            for a in args {
                if let (Some(n), Some(r)) = (&a.name, a.name_range) {
                    if a.star == ArgStar::None && touches(r, offset) && r.len() < best_len {
                        best_len = r.len();
                        best = Some(NameAt::Keyword { call: e, name: n.clone(), ident: r, func });
                    }
                }
            }
        }
        _ => {}
    });
    best
}

/// The definition site of what `r` resolves to: a file path and a range in it.
pub fn resolved_location(analysis: &Analysis, r: &Resolved) -> Option<(ModuleId, TextRange)> {
    match r {
        Resolved::Function(m, f) => Some((*m, f.name_range)),
        Resolved::Class(m, c) => Some((*m, c.name_range)),
        Resolved::Value(m, name, _) => match analysis.index.module(*m).symbols.get(name) {
            Some(Symbol::Value { range, .. }) => Some((*m, *range)),
            _ => None,
        },
        Resolved::Module(m) => Some((*m, TextRange::new(0, 0))),
        _ => None,
    }
}

/// The entity whose declared parameters define entity `id`'s inputs (a launch plan's or map
/// task's target, followed to the function).
pub fn interface_owner(analysis: &Analysis, id: EntityId) -> EntityId {
    let mut cur = id;
    for _ in 0..8 {
        let e = &analysis.entities.entities[cur];
        match (e.function.is_none(), e.target) {
            (true, Some(t)) => cur = t,
            _ => break,
        }
    }
    cur
}

/// A plain `Name` expression for resolving a bare name.
pub fn name_expr(name: &str) -> Expr {
    Expr::new(ExprKind::Name(name.to_string()), TextRange::default())
}
