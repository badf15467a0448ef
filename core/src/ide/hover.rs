//! Hover: a task's, workflow's or launch plan's Flyte interface; an input's type; what a
//! variable inside a workflow body holds.

use super::scope::{self, enclosing_entity, graph_of, BodyScope, LocalValue, NameAt};
use super::{callee_of_expr, default_text};
use crate::diagnostic::TextRange;
use crate::flyte::graph::{PromiseSource, WorkflowGraph};
use crate::flyte::{Entity, EntityId, EntityKind, Var};
use crate::project::ModuleId;
use crate::syntax::{ExprKind, FunctionDef};
use crate::workspace::Analysis;
use std::fmt::Write;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverResult {
    /// The identifier hovered.
    pub range: TextRange,
    pub markdown: String,
}

/// Hover at byte `offset` of the file at `path`.
pub fn hover(analysis: &Analysis, path: &Path, offset: usize) -> Option<HoverResult> {
    let m = scope::module_of(analysis, path)?;
    let module = analysis.index.module(m);
    let at = scope::name_at(module, offset)?;
    match at {
        NameAt::DefName { def } => {
            let id = analysis
                .entities
                .get(m, &def.name)
                .filter(|&id| analysis.entities.entities[id].function.as_ref().is_some_and(|f| f.range == def.range))?;
            Some(HoverResult { range: def.name_range, markdown: entity_markdown(analysis, id) })
        }
        NameAt::TopLevelValue { name, ident } => {
            let id = analysis.entities.get(m, &name)?;
            Some(HoverResult { range: ident, markdown: entity_markdown(analysis, id) })
        }
        NameAt::Import { bound, ident } => {
            let id = analysis.entities.resolve(&analysis.index, m, &scope::name_expr(&bound))?;
            Some(HoverResult { range: ident, markdown: entity_markdown(analysis, id) })
        }
        NameAt::Param { def, name, ident } => {
            let id = analysis
                .entities
                .get(m, &def.name)
                .filter(|&id| analysis.entities.entities[id].function.as_ref().is_some_and(|f| f.range == def.range))?;
            let e = &analysis.entities.entities[id];
            let v = e.interface.input(&name)?;
            let mut md = input_markdown(analysis, Some(id), m, v, e.kind, &e.name);
            // A workflow input is also a promise in the body.
            if e.kind == EntityKind::Workflow {
                md.push_str("\n\nInside the body it is a promise, bound when the workflow runs.");
            }
            Some(HoverResult { range: ident, markdown: md })
        }
        NameAt::Keyword { call, name, ident, .. } => {
            let ExprKind::Call { func, .. } = &call.kind else { return None };
            let callee = callee_of_expr(analysis, m, func)?;
            let v = callee.interface.input(&name)?;
            let owner = callee.owner(analysis);
            Some(HoverResult {
                range: ident,
                markdown: input_markdown(analysis, owner, m, v, callee.kind, &callee.name),
            })
        }
        NameAt::Expr { expr, ident, func } => {
            let root = expr.root_name();
            let is_local = func.is_some_and(|f| scope::function_locals(f).contains(root));
            if is_local {
                let id = enclosing_entity(analysis, m, offset)?;
                let g = graph_of(analysis, id)?;
                let scope = BodyScope::at(analysis, g, expr.range.start);
                // Hovering `lines` in `lines.skus` describes `lines`.
                let sub = expr.subexpr_ending_at(ident.end).unwrap_or(expr);
                let v = scope.eval(sub)?;
                let text = &analysis.index.module(m).text;
                let shown = text.get(sub.range.start..sub.range.end).unwrap_or("?");
                return Some(HoverResult { range: ident, markdown: local_markdown(analysis, g, shown, &v) });
            }
            // `mod.t`: hovering `mod` is not hovering `t`.
            let sub = expr.subexpr_ending_at(ident.end).unwrap_or(expr);
            let id = analysis.entities.resolve(&analysis.index, m, sub)?;
            Some(HoverResult { range: ident, markdown: entity_markdown(analysis, id) })
        }
        NameAt::ClassName { .. } => None,
    }
}

/// `(a: int, b: str = 'x') -> float`.
pub fn signature(e: &Entity) -> String {
    let ins: Vec<String> = e.interface.inputs.iter().map(|v| format!("{}: {}", v.name, v.ty.py)).collect();
    let outs: Vec<String> = e.interface.outputs.iter().map(|v| v.ty.py.clone()).collect();
    let out = match outs.len() {
        0 => "None".to_string(),
        1 => outs[0].clone(),
        _ => {
            let named: Vec<String> = e.interface.outputs.iter().map(|v| format!("{}: {}", v.name, v.ty.py)).collect();
            format!("({})", named.join(", "))
        }
    };
    format!("({}) -> {out}", ins.join(", "))
}

fn var_line(out: &mut String, analysis: &Analysis, owner: Option<EntityId>, m: ModuleId, v: &Var, input: bool) {
    let _ = write!(out, "- `{}`: `{}` · `{}`", v.name, v.ty.py, v.ty.lit);
    if input {
        match default_text(analysis, owner, m, v) {
            Some(d) => {
                let _ = write!(out, " = `{d}`");
            }
            None if !v.required() => out.push_str(" (optional)"),
            None => out.push_str(" (required)"),
        }
    }
    if v.ty.pickled {
        out.push_str(" (pickled)");
    }
    out.push('\n');
}

/// The Flyte interface of entity `id` as markdown.
pub fn entity_markdown(analysis: &Analysis, id: EntityId) -> String {
    let e = &analysis.entities.entities[id];
    let module = analysis.index.module(e.module);
    let mut md = String::new();
    let _ = writeln!(md, "**{}** `{}`\n", e.kind.describe(), e.qualified_name(&analysis.index));
    if let Some(f) = &e.function {
        let _ = writeln!(md, "```python\n{}\n```\n", def_header(&module.text, f));
    }
    if let Some(t) = e.target {
        let te = &analysis.entities.entities[t];
        let what = match e.kind {
            EntityKind::LaunchPlan => "launch plan of",
            EntityKind::MapTask => "maps",
            _ => "wraps",
        };
        let _ = writeln!(md, "{what} {} `{}`\n", te.kind.describe(), te.qualified_name(&analysis.index));
    }
    let owner = Some(scope::interface_owner(analysis, id));
    if e.interface.inputs.is_empty() {
        md.push_str("Inputs: none\n\n");
    } else {
        md.push_str("Inputs:\n");
        for v in &e.interface.inputs {
            var_line(&mut md, analysis, owner, e.module, v, true);
        }
        md.push('\n');
    }
    if e.interface.outputs.is_empty() {
        md.push_str("Outputs: none\n");
    } else {
        md.push_str("Outputs:\n");
        for v in &e.interface.outputs {
            var_line(&mut md, analysis, owner, e.module, v, false);
        }
    }
    // Settings as written: decorator keywords, or the constructor's keywords.
    let settings: Vec<String> = e
        .config_args
        .iter()
        .filter(|a| a.name.as_deref().is_some_and(|n| n != "workflow"))
        .filter_map(|a| module.text.get(a.range.start..a.range.end))
        .map(|s| format!("`{}`", s.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    if !settings.is_empty() {
        let _ = write!(md, "\nSettings: {}\n", settings.join(" · "));
    }
    if let Some(doc) = e.function.as_ref().and_then(|f| f.docstring.as_ref()) {
        let _ = write!(md, "\n---\n{}\n", doc.trim());
    }
    md
}

/// `def name(params) -> ret` as written, whitespace collapsed.
fn def_header(text: &str, f: &FunctionDef) -> String {
    let start = text
        .get(f.header_range.start..f.header_range.end)
        .and_then(|h| h.find("def ").map(|p| f.header_range.start + p));
    let s = start.and_then(|s| text.get(s..f.header_range.end)).unwrap_or(&f.name);
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ").replace("( ", "(").replace(" )", ")").replace(",)", ")");
    let s = s.trim_end_matches(':').to_string();
    if f.is_async {
        format!("async {s}")
    } else {
        s
    }
}

/// Markdown for one input of a callee.
fn input_markdown(
    analysis: &Analysis,
    owner: Option<EntityId>,
    m: ModuleId,
    v: &Var,
    kind: EntityKind,
    callee: &str,
) -> String {
    let mut md = format!("**input** `{}` of {} `{callee}`\n\n", v.name, kind.describe());
    let _ = writeln!(md, "- Python: `{}`\n- Flyte: `{}`", v.ty.py, v.ty.lit);
    match default_text(analysis, owner, m, v) {
        Some(d) => {
            let _ = writeln!(md, "- default: `{d}`");
        }
        None if v.required() => md.push_str("- required\n"),
        None => md.push_str("- optional (may stay unbound)\n"),
    }
    md
}

/// Markdown for a local of a workflow body.
fn local_markdown(analysis: &Analysis, g: &WorkflowGraph, shown: &str, v: &LocalValue) -> String {
    let node_desc = |node: usize| {
        let n = &g.nodes[node];
        let target = n
            .callee
            .entity
            .map(|id| {
                let e = &analysis.entities.entities[id];
                format!(" → {} `{}`", e.kind.describe(), e.qualified_name(&analysis.index))
            })
            .unwrap_or_default();
        format!("node `{}` (`{}`{target})", n.id, n.callee.name)
    };
    match v {
        LocalValue::Promise { source, attr_path, ty } => {
            let mut md = format!("**promise** `{shown}`: `{}` · `{}`\n\n", ty.py, ty.lit);
            let path = if attr_path.is_empty() {
                String::new()
            } else {
                format!(" (attribute path `{}`)", attr_path.join("."))
            };
            match source {
                PromiseSource::Node { node, output } => {
                    let _ = write!(md, "output `{output}` of {}{path}", node_desc(*node));
                }
                PromiseSource::WorkflowInput { name } => {
                    let _ = write!(md, "workflow input `{name}`{path}");
                }
            }
            md.push_str("\n\nA promise has no value while the workflow is compiled; pass it to tasks.");
            md
        }
        LocalValue::Multi { node } => {
            let n = &g.nodes[*node];
            let mut md = format!("**outputs** of {}\n\n", node_desc(*node));
            for o in &n.callee.interface.outputs {
                let _ = writeln!(md, "- `{shown}.{}`: `{}` · `{}`", o.name, o.ty.py, o.ty.lit);
            }
            md
        }
        LocalValue::Void { node } => format!("`{shown}`: {} has no outputs (a `VoidPromise`)", node_desc(*node)),
    }
}
