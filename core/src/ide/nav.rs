//! Navigation: go to definition, find references, document and workspace symbols, and renaming
//! a task or workflow input together with its keyword call sites.

use super::scope::{self, function_locals, interface_owner, visit_exprs, BodyScope, NameAt};
use super::{callee_of_expr, is_identifier, Location};
use crate::diagnostic::{TextEdit, TextRange};
use crate::flyte::{EntityId, EntityKind};
use crate::project::{ModuleId, Resolved, Symbol};
use crate::syntax::{ExprKind, FunctionDef, StmtKind};
use crate::workspace::Analysis;
use std::collections::BTreeSet;
use std::path::Path;

/// Where the thing at `offset` is defined.
pub fn definition(analysis: &Analysis, path: &Path, offset: usize) -> Vec<Location> {
    let Some(m) = scope::module_of(analysis, path) else { return Vec::new() };
    let module = analysis.index.module(m);
    let Some(at) = scope::name_at(module, offset) else { return Vec::new() };
    let here = |r: TextRange| vec![Location::new(analysis, m, r)];
    match at {
        NameAt::DefName { def } => here(def.name_range),
        NameAt::ClassName { class } => here(class.name_range),
        NameAt::Param { ident, .. } => here(ident),
        NameAt::TopLevelValue { name, ident } => {
            // `lp = LaunchPlan.get_or_create(wf, ...)` on `lp`: itself; an alias: its target.
            match analysis.index.resolve_name(m, &name) {
                r @ (Resolved::Function(..) | Resolved::Class(..) | Resolved::Module(..)) => resolved(analysis, &r),
                _ => here(ident),
            }
        }
        NameAt::Import { bound, .. } => resolved(analysis, &analysis.index.resolve_name(m, &bound)),
        NameAt::Keyword { call, name, .. } => {
            let ExprKind::Call { func, .. } = &call.kind else { return Vec::new() };
            let Some(callee) = callee_of_expr(analysis, m, func) else { return Vec::new() };
            let Some(owner) = callee.owner(analysis) else { return Vec::new() };
            let e = &analysis.entities.entities[owner];
            match e.interface.input(&name) {
                Some(v) => {
                    let f = e.function.as_ref();
                    let range = f
                        .and_then(|f| f.params.iter().find(|p| p.name == name))
                        .map(|p| TextRange::new(p.range.start, p.range.start + p.name.len()))
                        .unwrap_or(v.range);
                    vec![Location::new(analysis, e.module, range)]
                }
                None => Vec::new(),
            }
        }
        NameAt::Expr { expr, ident, func } => {
            let root = expr.root_name();
            if let Some(f) = func.filter(|f| function_locals(f).contains(root)) {
                // A local: where it was assigned last before here (workflow bodies), or first bound.
                if expr.dotted().as_deref() == Some(root) || matches!(expr.kind, ExprKind::Name(_)) {
                    if let Some(id) = scope::enclosing_entity(analysis, m, offset) {
                        if let Some(g) = scope::graph_of(analysis, id) {
                            if let Some((_, r)) = BodyScope::at(analysis, g, expr.range.start).env.get(root) {
                                return here(*r);
                            }
                        }
                    }
                    return first_binding(f, root).map(here).unwrap_or_default();
                }
                // `r.o0` on a node result: the callee's definition.
                if let Some(id) = scope::enclosing_entity(analysis, m, offset) {
                    if let Some(g) = scope::graph_of(analysis, id) {
                        let scope = BodyScope::at(analysis, g, expr.range.start);
                        if let ExprKind::Attribute { value, .. } = &expr.kind {
                            if let Some(scope::LocalValue::Multi { node }) = scope.eval(value) {
                                if let Some(cid) = g.nodes[node].callee.entity {
                                    let owner = interface_owner(analysis, cid);
                                    let e = &analysis.entities.entities[owner];
                                    let r = e
                                        .function
                                        .as_ref()
                                        .and_then(|f| f.returns.as_ref())
                                        .map(|r| r.range)
                                        .unwrap_or(e.name_range);
                                    return vec![Location::new(analysis, e.module, r)];
                                }
                            }
                        }
                    }
                }
                return Vec::new();
            }
            let sub = expr.subexpr_ending_at(ident.end).unwrap_or(expr);
            resolved(analysis, &analysis.index.resolve_expr(m, sub))
        }
    }
}

fn resolved(analysis: &Analysis, r: &Resolved) -> Vec<Location> {
    scope::resolved_location(analysis, r).map(|(m, range)| vec![Location::new(analysis, m, range)]).unwrap_or_default()
}

/// The parameter or first assignment that binds `name` in `f`.
fn first_binding(f: &FunctionDef, name: &str) -> Option<TextRange> {
    if let Some(p) = f.params.iter().find(|p| p.name == name) {
        return Some(TextRange::new(p.range.start, p.range.start + p.name.len()));
    }
    let mut found = None;
    visit_exprs(&f.body, Some(f), &mut |e, _| {
        if found.is_none() {
            if let ExprKind::Name(n) = &e.kind {
                if n == name {
                    found = Some(e.range);
                }
            }
        }
    });
    found
}

/// What a reference search is about.
enum Target {
    /// A definition site (module, range of its name): every name resolving there.
    Definition(ModuleId, TextRange),
    /// An input of an entity (by the entity that declares it).
    Input { owner: EntityId, name: String },
}

fn target_at(analysis: &Analysis, m: ModuleId, offset: usize) -> Option<Target> {
    let module = analysis.index.module(m);
    let at = scope::name_at(module, offset)?;
    match at {
        NameAt::DefName { def } => Some(Target::Definition(m, def.name_range)),
        NameAt::ClassName { class } => Some(Target::Definition(m, class.name_range)),
        NameAt::TopLevelValue { name, ident } => match analysis.index.resolve_name(m, &name) {
            Resolved::Value(..) | Resolved::Unknown | Resolved::External(_) => Some(Target::Definition(m, ident)),
            r => scope::resolved_location(analysis, &r).map(|(m, r)| Target::Definition(m, r)),
        },
        NameAt::Import { bound, .. } => scope::resolved_location(analysis, &analysis.index.resolve_name(m, &bound))
            .map(|(m, r)| Target::Definition(m, r)),
        NameAt::Param { def, name, .. } => {
            let id = entity_of_def(analysis, m, def)?;
            Some(Target::Input { owner: id, name })
        }
        NameAt::Keyword { call, name, .. } => {
            let ExprKind::Call { func, .. } = &call.kind else { return None };
            let owner = callee_of_expr(analysis, m, func)?.owner(analysis)?;
            analysis.entities.entities[owner].interface.input(&name)?;
            Some(Target::Input { owner, name })
        }
        NameAt::Expr { expr, ident, func } => {
            if func.is_some_and(|f| function_locals(f).contains(expr.root_name())) {
                return None;
            }
            let sub = expr.subexpr_ending_at(ident.end).unwrap_or(expr);
            scope::resolved_location(analysis, &analysis.index.resolve_expr(m, sub))
                .map(|(m, r)| Target::Definition(m, r))
        }
    }
}

fn entity_of_def(analysis: &Analysis, m: ModuleId, def: &FunctionDef) -> Option<EntityId> {
    analysis
        .entities
        .get(m, &def.name)
        .filter(|&id| analysis.entities.entities[id].function.as_ref().is_some_and(|f| f.range == def.range))
}

/// Every reference to what is at `offset`: uses of a task/workflow/launch plan (or any project
/// definition) across the project, or the keyword call sites of an input.
pub fn references(analysis: &Analysis, path: &Path, offset: usize, include_declaration: bool) -> Vec<Location> {
    let Some(m) = scope::module_of(analysis, path) else { return Vec::new() };
    let Some(target) = target_at(analysis, m, offset) else { return Vec::new() };
    let mut out: BTreeSet<Location> = BTreeSet::new();
    match target {
        Target::Definition(tm, tr) => {
            if include_declaration {
                out.insert(Location::new(analysis, tm, tr));
            }
            for (mid, module) in analysis.index.modules.iter().enumerate() {
                visit_exprs(&module.parsed.body, None, &mut |e, func| {
                    let ident = match &e.kind {
                        ExprKind::Name(n) => {
                            if func.is_some_and(|f| function_locals(f).contains(n)) {
                                return;
                            }
                            e.range
                        }
                        ExprKind::Attribute { attr_range, value, .. } => {
                            if func.is_some_and(|f| function_locals(f).contains(value.root_name())) {
                                return;
                            }
                            *attr_range
                        }
                        _ => return,
                    };
                    if let Some((rm, rr)) = scope::resolved_location(analysis, &analysis.index.resolve_expr(mid, e)) {
                        if rm == tm && rr == tr && !(mid == tm && ident == tr) {
                            out.insert(Location::new(analysis, mid, ident));
                        }
                    }
                });
                for (bound, sym) in &module.symbols {
                    if let Symbol::ImportFrom { range, .. } = sym {
                        if let Some((rm, rr)) =
                            scope::resolved_location(analysis, &analysis.index.resolve_name(mid, bound))
                        {
                            if rm == tm && rr == tr {
                                let text = module.text.get(range.start..range.end).unwrap_or("");
                                let r = match text.find(" as ") {
                                    Some(p) => TextRange::new(range.start, range.start + p),
                                    None => *range,
                                };
                                out.insert(Location::new(analysis, mid, r));
                            }
                        }
                    }
                }
            }
        }
        Target::Input { owner, name } => {
            for e in input_edits(analysis, owner, &name, include_declaration) {
                out.insert(Location { path: e.path, range: e.range });
            }
        }
    }
    out.into_iter().collect()
}

/// Ranges naming input `name` of entity `owner`: the parameter (with `decl`), its uses in the
/// function body, keyword arguments at call sites (direct, through launch plans and map tasks,
/// `functools.partial`), and launch plan `default_inputs`/`fixed_inputs` keys.
fn input_edits(analysis: &Analysis, owner: EntityId, name: &str, decl: bool) -> Vec<TextEdit> {
    let mut out: Vec<TextEdit> = Vec::new();
    let e = &analysis.entities.entities[owner];
    let path_of = |m: ModuleId| analysis.index.module(m).path.clone();
    let mut push = |m: ModuleId, r: TextRange| {
        let t = TextEdit { path: path_of(m), range: r, new_text: String::new() };
        if !out.contains(&t) {
            out.push(t);
        }
    };
    if let Some(f) = &e.function {
        if let Some(p) = f.params.iter().find(|p| p.name == name) {
            if decl {
                push(e.module, TextRange::new(p.range.start, p.range.start + p.name.len()));
            }
        }
        // Uses in the body, unless a nested function rebinds the name.
        visit_exprs(&f.body, Some(f), &mut |x, func| {
            if let ExprKind::Name(n) = &x.kind {
                if n == name
                    && func.is_none_or(|inner| std::ptr::eq(inner, &**f) || !function_locals(inner).contains(name))
                {
                    push(e.module, x.range);
                }
            }
        });
    }
    // Keyword arguments in workflow graphs.
    for g in &analysis.graphs {
        let gm = analysis.entities.entities[g.entity].module;
        for n in &g.nodes {
            let node_owner = match n.callee.entity {
                Some(id) => Some(interface_owner(analysis, id)),
                None if n.callee.kind == EntityKind::MapTask => {
                    let text = &analysis.index.module(gm).text;
                    text.get(n.func_range.start..n.func_range.end)
                        .and_then(super::parse_snippet)
                        .and_then(|x| callee_of_expr(analysis, gm, &x))
                        .and_then(|c| c.owner(analysis))
                }
                None => None,
            };
            if node_owner != Some(owner) {
                continue;
            }
            for b in n.bindings.iter().filter(|b| !b.positional && b.input == name) {
                push(gm, TextRange::new(b.range.start, b.range.start + name.len()));
            }
        }
    }
    // `functools.partial(t, name=...)` and launch plan input dictionaries.
    for (mid, module) in analysis.index.modules.iter().enumerate() {
        visit_exprs(&module.parsed.body, None, &mut |x, _| {
            let ExprKind::Call { func, args } = &x.kind else { return };
            let path = analysis.index.resolve_expr(mid, func);
            match path.external() {
                Some("functools.partial") => {
                    let Some(first) = args.first() else { return };
                    let Some(id) = analysis.entities.resolve(&analysis.index, mid, &first.value) else { return };
                    if interface_owner(analysis, id) != owner {
                        return;
                    }
                    for a in &args[1..] {
                        if let (Some(n), Some(r)) = (&a.name, a.name_range) {
                            if n == name {
                                push(mid, r);
                            }
                        }
                    }
                }
                Some(p) if p.starts_with("flytekit.LaunchPlan.") => {
                    let wf = crate::syntax::keyword(args, "workflow").or_else(|| {
                        let pos: Vec<_> = args.iter().filter(|a| a.is_positional()).collect();
                        if p.ends_with(".create") {
                            pos.get(1).copied()
                        } else {
                            pos.first().copied()
                        }
                    });
                    let Some(wf) = wf else { return };
                    let Some(id) = analysis.entities.resolve(&analysis.index, mid, &wf.value) else { return };
                    if interface_owner(analysis, id) != owner {
                        return;
                    }
                    for key in ["fixed_inputs", "default_inputs"] {
                        let Some(a) = crate::syntax::keyword(args, key) else { continue };
                        let ExprKind::Dict(kvs) = &a.value.kind else { continue };
                        for (k, _) in kvs {
                            if k.as_str() == Some(name) {
                                let t = module.text.get(k.range.start..k.range.end).unwrap_or("");
                                if let Some(p) = t.find(name) {
                                    push(mid, TextRange::new(k.range.start + p, k.range.start + p + name.len()));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        });
    }
    out
}

/// Can the thing at `offset` be renamed? The range and text of the name.
pub fn prepare_rename(analysis: &Analysis, path: &Path, offset: usize) -> Result<(TextRange, String), String> {
    let m = scope::module_of(analysis, path).ok_or("the file is not part of the project")?;
    let module = analysis.index.module(m);
    let not_input =
        || "fledge renames task and workflow inputs; put the cursor on a parameter or a keyword argument".to_string();
    let at = scope::name_at(module, offset).ok_or_else(not_input)?;
    match at {
        NameAt::Param { ident, name, def } => {
            entity_of_def(analysis, m, def).ok_or_else(not_input)?;
            Ok((ident, name))
        }
        NameAt::Keyword { call, name, ident, .. } => {
            let ExprKind::Call { func, .. } = &call.kind else { return Err(not_input()) };
            let owner = callee_of_expr(analysis, m, func).and_then(|c| c.owner(analysis)).ok_or_else(not_input)?;
            let e = &analysis.entities.entities[owner];
            if e.function.is_none() || e.interface.input(&name).is_none() {
                return Err(not_input());
            }
            Ok((ident, name))
        }
        _ => Err(not_input()),
    }
}

/// Rename the input at `offset` (a parameter of a task/workflow or a keyword at a call site)
/// to `new_name`: the parameter, its uses in the body and every keyword call site.
pub fn rename(analysis: &Analysis, path: &Path, offset: usize, new_name: &str) -> Result<Vec<TextEdit>, String> {
    if !is_identifier(new_name) {
        return Err(format!("`{new_name}` is not a valid Python name"));
    }
    let m = scope::module_of(analysis, path).ok_or("the file is not part of the project")?;
    let (_, old) = prepare_rename(analysis, path, offset)?;
    let Some(Target::Input { owner, name }) = target_at(analysis, m, offset) else {
        return Err("fledge renames task and workflow inputs".into());
    };
    debug_assert_eq!(old, name);
    let e = &analysis.entities.entities[owner];
    if new_name == name {
        return Ok(Vec::new());
    }
    if let Some(f) = &e.function {
        if f.params.iter().any(|p| p.name == new_name) {
            return Err(format!("{} `{}` already has an input `{new_name}`", e.kind.describe(), e.name));
        }
        if function_locals(f).contains(new_name) {
            return Err(format!("`{new_name}` is already used in the body of `{}`", e.name));
        }
    }
    let mut edits = input_edits(analysis, owner, &name, true);
    for ed in &mut edits {
        ed.new_text = new_name.to_string();
    }
    edits.sort_by(|a, b| (&a.path, a.range.start).cmp(&(&b.path, b.range.start)));
    Ok(edits)
}

/// A task, workflow or launch plan as a symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntitySymbol {
    pub name: String,
    pub kind: EntityKind,
    /// `(a: int) -> str`.
    pub detail: String,
    /// The module's dotted name.
    pub container: String,
    pub path: std::path::PathBuf,
    /// The whole definition (decorators included) or assignment.
    pub range: TextRange,
    /// The name.
    pub selection: TextRange,
}

fn symbol(analysis: &Analysis, id: EntityId) -> EntitySymbol {
    let e = &analysis.entities.entities[id];
    let module = analysis.index.module(e.module);
    let range = match &e.function {
        Some(f) => f.range,
        None => module
            .top_level()
            .into_iter()
            .find(|s| matches!(&s.kind, StmtKind::Assign { targets, .. } if targets.iter().any(|t| t.range == e.name_range)))
            .map(|s| s.range)
            .unwrap_or(e.name_range),
    };
    EntitySymbol {
        name: e.name.clone(),
        kind: e.kind,
        detail: format!("{} {}", e.kind.describe(), super::hover::signature(e)),
        container: module.name.clone(),
        path: module.path.clone(),
        range,
        selection: e.name_range,
    }
}

/// The tasks, workflows and launch plans defined in a file, in source order.
pub fn document_symbols(analysis: &Analysis, path: &Path) -> Vec<EntitySymbol> {
    let Some(m) = scope::module_of(analysis, path) else { return Vec::new() };
    let mut out: Vec<EntitySymbol> = analysis
        .entities
        .entities
        .iter()
        .enumerate()
        .filter(|(_, e)| e.module == m && !e.name.is_empty())
        .map(|(id, _)| symbol(analysis, id))
        .collect();
    out.sort_by_key(|s| s.range.start);
    out
}

/// Entities of the whole project whose name matches `query` (case-insensitive subsequence).
pub fn workspace_symbols(analysis: &Analysis, query: &str, limit: usize) -> Vec<EntitySymbol> {
    let q: Vec<char> = query.to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    let matches = |name: &str| {
        let mut qi = 0;
        for c in name.to_lowercase().chars() {
            if qi < q.len() && c == q[qi] {
                qi += 1;
            }
        }
        qi == q.len()
    };
    let mut out: Vec<(bool, EntitySymbol)> = analysis
        .entities
        .entities
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.name.is_empty() && matches(&e.name))
        .map(|(id, e)| (!e.name.to_lowercase().starts_with(&query.to_lowercase()), symbol(analysis, id)))
        .collect();
    out.sort_by(|a, b| (a.0, &a.1.name, &a.1.container).cmp(&(b.0, &b.1.name, &b.1.container)));
    out.into_iter().take(limit).map(|(_, s)| s).collect()
}
