//! `missing-input`: a required input (no default, not Optional) left unbound at a call.

use super::{Context, Sink};

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

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn missing_required_inputs() {
        insta::assert_snapshot!(check_fixture("missing-input", include_str!("fixtures/missing-input/error.py")));
    }

    #[test]
    fn defaults_and_optionals_may_stay_unbound() {
        assert_clean(include_str!("fixtures/missing-input/clean.py"));
    }
}
