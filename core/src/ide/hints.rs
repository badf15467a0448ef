//! Inlay hints (the types of promises assigned in workflow bodies) and code lenses (run and
//! graph commands above workflows).

use super::scope::{self, value_type_label, BodyScope};
use crate::diagnostic::TextRange;
use crate::flyte::EntityKind;
use crate::workspace::Analysis;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlayHint {
    /// Where the hint is shown (after the assigned name).
    pub offset: usize,
    /// `: List[int]`.
    pub label: String,
    /// The hint's text is a valid annotation to insert.
    pub tooltip: String,
}

/// Type hints for names assigned from task calls in the workflow bodies of a file, within `range`.
pub fn inlay_hints(analysis: &Analysis, path: &Path, range: TextRange) -> Vec<InlayHint> {
    let Some(m) = scope::module_of(analysis, path) else { return Vec::new() };
    let mut out = Vec::new();
    for g in &analysis.graphs {
        let e = &analysis.entities.entities[g.entity];
        if e.module != m {
            continue;
        }
        let Some(f) = &e.function else { continue };
        if f.range.end < range.start || f.range.start > range.end {
            continue;
        }
        let scope = BodyScope::all(analysis, g);
        for a in &scope.assignments {
            if a.annotated || a.range.end < range.start || a.range.start > range.end {
                continue;
            }
            let Some(v) = &a.value else { continue };
            let label = value_type_label(analysis, g, v);
            let tooltip = match v {
                scope::LocalValue::Promise { ty, .. } => format!("promise of `{}` (Flyte `{}`)", ty.py, ty.lit),
                scope::LocalValue::Multi { node } => {
                    let outs: Vec<String> = g.nodes[*node]
                        .callee
                        .interface
                        .outputs
                        .iter()
                        .map(|o| format!("{}: {} ({})", o.name, o.ty.py, o.ty.lit))
                        .collect();
                    format!("outputs of `{}`: {}", g.nodes[*node].callee.name, outs.join(", "))
                }
                scope::LocalValue::Void { node } => format!("`{}` has no outputs", g.nodes[*node].callee.name),
            };
            out.push(InlayHint { offset: a.range.end, label: format!(": {label}"), tooltip });
        }
    }
    out.sort_by_key(|h| h.offset);
    out.dedup_by_key(|h| h.offset);
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeLens {
    /// The workflow's name (where the lens is shown).
    pub range: TextRange,
    pub title: String,
    /// A client-side command: `fledge.runWorkflow` or `fledge.showGraph`.
    pub command: String,
    /// The workflow's name as defined in the file.
    pub workflow: String,
}

/// "▶ Run locally" and "Show graph" above every workflow defined in the file.
pub fn code_lenses(analysis: &Analysis, path: &Path) -> Vec<CodeLens> {
    let Some(m) = scope::module_of(analysis, path) else { return Vec::new() };
    let mut out = Vec::new();
    let mut entities: Vec<_> = analysis
        .entities
        .entities
        .iter()
        .filter(|e| e.module == m && e.kind == EntityKind::Workflow && e.function.is_some())
        .collect();
    entities.sort_by_key(|e| e.name_range.start);
    for e in entities {
        for (title, command) in [("▶ Run locally", "fledge.runWorkflow"), ("Show graph", "fledge.showGraph")] {
            out.push(CodeLens {
                range: e.name_range,
                title: title.into(),
                command: command.into(),
                workflow: e.name.clone(),
            });
        }
    }
    out
}
