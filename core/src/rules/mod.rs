//! Rules: one module per rule code, each a pure function of the analyzed project.
//!
//! A rule reads the [`Context`] (modules, entities, workflow graphs) and pushes diagnostics
//! through a [`Sink`], which applies configuration (select/ignore/severity) and
//! `# fledge: ignore[...]` comments.

use crate::diagnostic::{Diagnostic, Severity, TextRange};
use crate::flyte::annotation::TypeResolver;
use crate::flyte::{EntityTable, WorkflowGraph};
use crate::project::{Baseline, Config, Index, ModuleId};
use std::path::Path;

pub mod common;

pub mod branch_mismatch;
pub mod dependency_cycle;
pub mod incomplete_conditional;
pub mod invalid_cache;
pub mod invalid_default;
pub mod invalid_enum_value;
pub mod invalid_launch_plan;
pub mod invalid_map_task;
pub mod invalid_resources;
pub mod invalid_timeout;
pub mod missing_annotation;
pub mod missing_input;
pub mod pickle_fallback;
pub mod positional_argument;
pub mod promise_misuse;
pub mod reserved_input_name;
pub mod return_mismatch;
pub mod stale_cache_version;
pub mod syntax_error;
pub mod type_mismatch;
pub mod unknown_decorator_argument;
pub mod unknown_input;
pub mod unknown_output;
pub mod unresolved_import;
pub mod unsupported_type;
pub mod void_output;

#[cfg(test)]
pub mod test_support;

/// What a rule is, for documentation and output formats.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub summary: &'static str,
    pub severity: Severity,
    /// The rule's documentation page (`docs/rules/<code>.md`).
    pub doc: &'static str,
}

/// What every rule can read.
pub struct Context<'a> {
    pub index: &'a Index,
    pub types: &'a TypeResolver<'a>,
    pub entities: &'a EntityTable,
    pub graphs: &'a [WorkflowGraph],
    pub config: &'a Config,
    /// The modules whose own diagnostics are wanted (all when `None`); rules that walk modules
    /// rather than entities or graphs skip the others.
    pub scope: Option<&'a [bool]>,
    /// The project as last committed, when the front end knows it.
    pub baseline: Option<&'a Baseline>,
}

impl Context<'_> {
    /// The modules in scope, with their ids.
    pub fn modules(&self) -> impl Iterator<Item = (ModuleId, &crate::project::Module)> {
        let scope = self.scope;
        self.index
            .modules
            .iter()
            .enumerate()
            .filter(move |(m, _)| scope.is_none_or(|s| s.get(*m).copied().unwrap_or(false)))
            .map(|(m, module)| (m, &**module))
    }

    pub fn path(&self, m: ModuleId) -> &Path {
        &self.index.module(m).path
    }
    /// Source text of a range in module `m`, whitespace-collapsed.
    pub fn text(&self, m: ModuleId, r: TextRange) -> String {
        let t = &self.index.module(m).text;
        t.get(r.start..r.end).unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// Collects diagnostics for one rule.
pub struct Sink<'a> {
    meta: &'static RuleMeta,
    out: &'a mut Vec<Diagnostic>,
    severity: Severity,
}

impl Sink<'_> {
    /// Report at `range` in module `m`.
    pub fn report(
        &mut self,
        ctx: &Context,
        m: ModuleId,
        range: TextRange,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.report_with(ctx, m, range, message, self.severity)
    }

    /// Report with a severity other than the rule's default (before user overrides).
    pub fn report_with(
        &mut self,
        ctx: &Context,
        m: ModuleId,
        range: TextRange,
        message: impl Into<String>,
        default: Severity,
    ) -> &mut Diagnostic {
        let severity = ctx.config.severity.get(self.meta.code).copied().unwrap_or(default);
        self.out.push(Diagnostic::new(self.meta.code, severity, ctx.path(m), range, message));
        self.out.last_mut().expect("just pushed")
    }
}

type CheckFn = fn(&Context, &mut Sink);

/// Every rule, with its check function.
pub const RULES: &[(&RuleMeta, CheckFn)] = &[
    (&syntax_error::META, syntax_error::check),
    (&unknown_input::META, unknown_input::check),
    (&missing_input::META, missing_input::check),
    (&positional_argument::META, positional_argument::check),
    (&type_mismatch::META, type_mismatch::check),
    (&return_mismatch::META, return_mismatch::check),
    (&unknown_output::META, unknown_output::check),
    (&promise_misuse::META, promise_misuse::check),
    (&dependency_cycle::META, dependency_cycle::check),
    (&missing_annotation::META, missing_annotation::check),
    (&incomplete_conditional::META, incomplete_conditional::check),
    (&invalid_resources::META, invalid_resources::check),
    (&invalid_default::META, invalid_default::check),
    (&invalid_cache::META, invalid_cache::check),
    (&pickle_fallback::META, pickle_fallback::check),
    (&unresolved_import::META, unresolved_import::check),
    (&unsupported_type::META, unsupported_type::check),
    (&void_output::META, void_output::check),
    (&invalid_enum_value::META, invalid_enum_value::check),
    (&invalid_launch_plan::META, invalid_launch_plan::check),
    (&invalid_map_task::META, invalid_map_task::check),
    (&branch_mismatch::META, branch_mismatch::check),
    (&unknown_decorator_argument::META, unknown_decorator_argument::check),
    (&invalid_timeout::META, invalid_timeout::check),
    (&reserved_input_name::META, reserved_input_name::check),
    (&stale_cache_version::META, stale_cache_version::check),
];

/// Metadata of every rule.
pub fn all_rules() -> impl Iterator<Item = &'static RuleMeta> {
    RULES.iter().map(|(m, _)| *m)
}

pub fn rule(code: &str) -> Option<&'static RuleMeta> {
    all_rules().find(|m| m.code == code)
}

/// Run every enabled rule, drop suppressed findings, sort.
pub fn run(ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (meta, check) in RULES {
        if !ctx.config.enabled(meta.code) {
            continue;
        }
        let mut sink = Sink { meta, out: &mut out, severity: meta.severity };
        check(ctx, &mut sink);
    }
    let texts: std::collections::HashMap<&Path, &str> =
        ctx.index.modules.iter().map(|m| (m.path.as_path(), &*m.text)).collect();
    out.retain(|d| !texts.get(d.path.as_path()).is_some_and(|t| suppressed(t, d.range.start, d.code)));
    out.sort_by(|a, b| (&a.path, a.range.start, a.code, &a.message).cmp(&(&b.path, b.range.start, b.code, &b.message)));
    out.dedup_by(|a, b| a.path == b.path && a.range == b.range && a.code == b.code && a.message == b.message);
    out
}

/// Does the line holding `offset` carry `# fledge: ignore` or `# fledge: ignore[..code..]`?
pub fn suppressed(text: &str, offset: usize, code: &str) -> bool {
    let offset = crate::line_index::floor_char_boundary(text, offset);
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[offset..].find('\n').map(|i| offset + i).unwrap_or(text.len());
    let line = &text[start..end];
    let Some(pos) = line.find("# fledge: ignore") else { return false };
    let rest = &line[pos + "# fledge: ignore".len()..];
    match rest.strip_prefix('[') {
        Some(list) => list.split(']').next().unwrap_or("").split(',').any(|c| c.trim() == code),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_comments() {
        let t = "a = 1  # fledge: ignore[type-mismatch, missing-input]\nb = 2  # fledge: ignore\nc = 3\n";
        assert!(suppressed(t, 0, "type-mismatch"));
        assert!(suppressed(t, 2, "missing-input"));
        assert!(!suppressed(t, 0, "unknown-input"));
        assert!(suppressed(t, t.find('b').unwrap(), "anything"));
        assert!(!suppressed(t, t.find('c').unwrap(), "anything"));
    }

    #[test]
    fn every_rule_has_a_doc_page_with_its_code() {
        for m in all_rules() {
            assert!(m.doc.starts_with(&format!("# {}", m.code)), "docs/rules/{}.md must start with its code", m.code);
        }
    }
}
