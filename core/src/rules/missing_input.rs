//! `missing-input`: a required input (no default, not Optional) left unbound at a call.

use super::{Context, Sink};
use crate::diagnostic::{Fix, TextEdit, TextRange};
use crate::flyte::entity::Var;
use crate::flyte::graph::Node;
use crate::flyte::WorkflowGraph;
use crate::types::{castable, Castability};
use std::path::PathBuf;

crate::rule_meta!("missing-input", Error, "A required input is not bound");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for node in &g.nodes {
            if node.opaque_args || node.branch.is_some() {
                continue;
            }
            // A misspelled keyword is reported by `unknown-input` (with a fix); don't report it twice.
            let inputs = &node.callee.interface.inputs;
            if node.bindings.iter().any(|b| !b.positional && !inputs.iter().any(|i| i.name == b.input)) {
                continue;
            }
            let missing: Vec<_> = node
                .callee
                .interface
                .inputs
                .iter()
                .filter(|i| i.required() && !node.bindings.iter().any(|b| b.input == i.name))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let list = missing
                .iter()
                .map(|i| format!("`{}: {}` ({})", i.name, i.ty.py, i.ty.lit))
                .collect::<Vec<_>>()
                .join(", ");
            let first = &missing[0];
            let d = sink.report(
                ctx,
                m,
                node.func_range,
                format!(
                    "{} `{}` is called without required input{} {list} (flytekit: \"Input {} of type {} was not specified\")",
                    node.callee.kind.describe(),
                    node.callee.name,
                    if missing.len() > 1 { "s" } else { "" },
                    first.name,
                    first.ty.py
                ),
            );
            if let Some(fix) = add_inputs_fix(ctx, g, node, &missing, d.path.clone()) {
                d.fixes.push(fix);
            }
            if let Some(e) = super::common::callee_entity(ctx, node) {
                d.related.push(crate::diagnostic::RelatedLocation {
                    path: ctx.path(e.module).to_path_buf(),
                    range: e.name_range,
                    message: format!("`{}` is declared here", e.name),
                });
            }
        }
    }
}

/// Adds `name=...` for each missing input before the call's closing parenthesis; an input of the
/// enclosing workflow with the same name and a type that fits is bound instead of `...`. A guess
/// either way, so not applied by `fledge check --fix` without `--unsafe-fixes`.
fn add_inputs_fix(ctx: &Context, g: &WorkflowGraph, node: &Node, missing: &[&Var], path: PathBuf) -> Option<Fix> {
    let m = ctx.entities.entities[g.entity].module;
    let text = &ctx.index.module(m).text;
    let call = text.get(node.range.start..node.range.end)?;
    let close = node.range.start + call.rfind(')')?;
    let open = node.range.start + call[..close - node.range.start].find('(')?;
    let has_args = !text[open + 1..close].trim().is_empty();
    let trailing_comma = text[open + 1..close].trim_end().ends_with(',');
    let workflow_inputs = &ctx.entities.entities[g.entity].interface.inputs;
    let values: Vec<String> = missing
        .iter()
        .map(|v| {
            let same =
                workflow_inputs.iter().find(|w| w.name == v.name && castable(&w.ty.lit, &v.ty.lit) == Castability::Yes);
            format!("{}={}", v.name, if same.is_some() { v.name.as_str() } else { "..." })
        })
        .collect();
    let sep = if has_args && !trailing_comma {
        ", "
    } else if has_args {
        " "
    } else {
        ""
    };
    let at = if has_args { open + 1 + text[open + 1..close].trim_end().len() } else { close };
    Some(Fix {
        title: format!("Add {}", values.join(", ")),
        edits: vec![TextEdit { path, range: TextRange::new(at, at), new_text: format!("{sep}{}", values.join(", ")) }],
        safe: false,
    })
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn missing_required_inputs() {
        insta::assert_snapshot!(check_fixture("missing-input", include_str!("fixtures/missing-input/error.py")));
    }

    #[test]
    fn the_fix_binds_every_missing_input() {
        let text = include_str!("fixtures/missing-input/error.py");
        let diags = diagnostics(text);
        let fixes = crate::fix::collect(&diags, crate::fix::Applicability::All);
        let file = fixes.values().next().expect("fixes for missing inputs");
        let fixed = crate::fix::apply(text, &file.edits).expect("edits apply");
        let after = diagnostics(&fixed);
        assert!(after.iter().all(|d| d.code != "missing-input"), "{}", render(&fixed, &after));
        assert!(fixed.contains("=..."), "an input without a same-named workflow input gets `...`");
        // A fix is a guess: never applied by `fledge check --fix` alone.
        assert!(crate::fix::collect(&diags, crate::fix::Applicability::Safe).is_empty());
    }

    #[test]
    fn defaults_and_optionals_may_stay_unbound() {
        assert_clean(include_str!("fixtures/missing-input/clean.py"));
    }
}
