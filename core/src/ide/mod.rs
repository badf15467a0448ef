//! Editor features as plain functions of an [`Analysis`]: a file path and a byte offset in,
//! core types with byte ranges out. The language server converts them to LSP types.
//!
//! Position-based features work on the analysis of the text being edited. Code under the
//! cursor often does not parse while it is typed, so the context of the cursor (which call,
//! which keywords, what precedes a `.`) comes from tokens ([`lex`]); names are then resolved
//! with the project model, and values inside workflow bodies with the reconstructed graphs
//! ([`scope::BodyScope`]).

pub mod completion;
pub mod flytekit_api;
pub mod hints;
pub mod hover;
pub mod lex;
pub mod nav;
pub mod scope;

use crate::diagnostic::{Fix, TextEdit, TextRange};
use crate::flyte::annotation::TypeResolver;
use crate::flyte::entity::{call_entity, CallEntity};
use crate::flyte::export::{export, GraphExport};
use crate::flyte::{EntityId, EntityKind, Interface, Var};
use crate::project::{ModuleId, Resolved};
use crate::syntax::{Expr, ExprKind, StmtKind};
use crate::workspace::Analysis;
use std::path::{Path, PathBuf};

pub use scope::module_of;

/// A place in a file of the project.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub path: PathBuf,
    pub range: TextRange,
}

impl Location {
    pub fn new(analysis: &Analysis, m: ModuleId, range: TextRange) -> Location {
        Location { path: analysis.index.module(m).path.clone(), range }
    }
}

/// Something callable as a workflow node, as seen at a call site.
#[derive(Clone, Debug)]
pub struct CalleeInfo {
    pub kind: EntityKind,
    /// The name as written.
    pub name: String,
    /// The entity, when the call names one (`t`, `mod.t`, a launch plan variable).
    pub entity: Option<EntityId>,
    /// For inline `map_task(t)(...)`: the mapped entity.
    pub target: Option<EntityId>,
    pub interface: Interface,
}

impl CalleeInfo {
    /// The entity that declares the inputs (a launch plan's workflow, a map task's task).
    pub fn owner(&self, analysis: &Analysis) -> Option<EntityId> {
        self.entity.or(self.target).map(|id| scope::interface_owner(analysis, id))
    }
}

/// What a called expression (given as an AST expression of module `m`) is.
pub fn callee_of_expr(analysis: &Analysis, m: ModuleId, e: &Expr) -> Option<CalleeInfo> {
    let text = &analysis.index.module(m).text;
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attribute { .. } => {
            let id = analysis.entities.resolve(&analysis.index, m, e)?;
            let ent = &analysis.entities.entities[id];
            Some(CalleeInfo {
                kind: ent.kind,
                name: e.dotted().unwrap_or_else(|| ent.name.clone()),
                entity: Some(id),
                target: ent.target,
                interface: ent.interface.clone(),
            })
        }
        ExprKind::Call { .. } => {
            let types = TypeResolver::new(&analysis.index);
            match call_entity(&analysis.index, &types, &analysis.entities, m, e) {
                CallEntity::Entity(ent) => Some(CalleeInfo {
                    kind: ent.kind,
                    name: text
                        .get(e.range.start..e.range.end)
                        .unwrap_or("?")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                    entity: None,
                    target: ent.target,
                    interface: ent.interface,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Parse a callee snippet (`t`, `mod.t`, `map_task(t, concurrency=2)`) taken from module `m`.
pub fn parse_snippet(snippet: &str) -> Option<Expr> {
    if snippet.len() > 4096 {
        return None;
    }
    let parsed = crate::syntax::parse(snippet);
    match parsed.body.first().map(|s| &s.kind) {
        Some(StmtKind::Expr(e)) if parsed.syntax_errors.is_empty() => Some(e.clone()),
        _ => None,
    }
}

/// The default of input `var` as written, looking in the module that declares it.
pub fn default_text(
    analysis: &Analysis,
    owner: Option<EntityId>,
    fallback_module: ModuleId,
    var: &Var,
) -> Option<String> {
    if !var.has_default {
        return None;
    }
    let Some(d) = &var.default else { return Some("(bound)".into()) };
    let mut module = fallback_module;
    if let Some(o) = owner {
        let oe = &analysis.entities.entities[o];
        if oe
            .interface
            .input(&var.name)
            .and_then(|v| v.default.as_ref())
            .is_some_and(|od| od.range == d.range && od.kind == d.kind)
        {
            module = oe.module;
        }
    }
    let text = &analysis.index.module(module).text;
    text.get(d.range.start..d.range.end).map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `py (FLYTE)`, e.g. `List[int] (LIST<INTEGER>)`.
pub fn type_detail(var: &Var) -> String {
    format!("{} ({})", var.ty.py, var.ty.lit)
}

/// The workflow graph to show for a file: the workflow named `name` (`wf` or `module.wf`,
/// preferring this file), else the workflow or dynamic task whose definition holds `offset`.
pub fn graph_at(analysis: &Analysis, path: &Path, offset: Option<usize>, name: Option<&str>) -> Option<GraphExport> {
    let m = module_of(analysis, path);
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        let mut best: Option<(bool, &crate::flyte::WorkflowGraph)> = None;
        for g in &analysis.graphs {
            let e = &analysis.entities.entities[g.entity];
            if e.name == name || e.qualified_name(&analysis.index) == name {
                let here = Some(e.module) == m;
                if best.is_none_or(|(h, _)| here && !h) {
                    best = Some((here, g));
                }
            }
        }
        return best.map(|(_, g)| export(analysis, g));
    }
    let m = m?;
    let offset = offset?;
    let id = scope::enclosing_entity(analysis, m, offset)?;
    let g = scope::graph_of(analysis, id)?;
    Some(export(analysis, g))
}

/// A fix that adds `# fledge: ignore[code]` to the line holding `offset` (or adds the code to an
/// existing `# fledge: ignore[...]` there). `None` when the line already ignores everything.
pub fn ignore_fix(text: &str, path: &Path, offset: usize, code: &str) -> Option<Fix> {
    let offset = crate::line_index::floor_char_boundary(text, offset.min(text.len()));
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[offset..].find('\n').map(|i| offset + i).unwrap_or(text.len());
    let line = &text[start..end];
    let line_trimmed_end = start + line.trim_end_matches(['\r', ' ', '\t']).len();
    let title = format!("Ignore `{code}` on this line (# fledge: ignore[{code}])");
    let edit = match line.find("# fledge: ignore") {
        Some(p) => {
            let after = start + p + "# fledge: ignore".len();
            if !text[after..end].starts_with('[') {
                return None;
            }
            let close = text[after..end].find(']').map(|i| after + i)?;
            let inner = text[after + 1..close].trim();
            if inner.split(',').any(|c| c.trim() == code) {
                return None;
            }
            let new_text = if inner.is_empty() { code.to_string() } else { format!(", {code}") };
            TextEdit { path: path.to_path_buf(), range: TextRange::new(close, close), new_text }
        }
        None => TextEdit {
            path: path.to_path_buf(),
            range: TextRange::new(line_trimmed_end, line_trimmed_end),
            new_text: format!("  # fledge: ignore[{code}]"),
        },
    };
    Some(Fix { title, edits: vec![edit], safe: false })
}

/// Is `s` a Python identifier that is not a keyword?
pub fn is_identifier(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
        "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    ];
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
        && !KEYWORDS.contains(&s)
}

/// Resolve a name or attribute chain; `Resolved::Unknown` for anything else.
pub fn resolve(analysis: &Analysis, m: ModuleId, e: &Expr) -> Resolved {
    analysis.index.resolve_expr(m, e)
}

#[cfg(test)]
mod tests;
