//! `void-output`: binding the result of a task with no outputs, or a multi-output result as a
//! whole, to an input.

use super::{Context, Sink};
use crate::flyte::graph::BoundValue;

crate::rule_meta!("void-output", Error, "A result with no outputs, or several outputs, is bound to one input");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for node in &g.nodes {
            for b in &node.bindings {
                let message = match &b.value {
                    BoundValue::Void { node: up } => format!(
                        "`{}` has no outputs, so nothing can be bound to input `{}` of `{}` (flytekit: \"Cannot pass \
                         output from task ... that produces no outputs to a downstream task\"); use `>>` to order them",
                        g.nodes[*up].callee.name, b.input, node.callee.name
                    ),
                    BoundValue::MultiOutput { node: up } => {
                        let outs = &g.nodes[*up].callee.interface.outputs;
                        format!(
                            "`{}` has {} outputs ({}), which cannot be bound whole to input `{}` of `{}` (flytekit: \
                             \"cannot receive a multi-valued tuple\"); pick one, e.g. `.{}`",
                            g.nodes[*up].callee.name,
                            outs.len(),
                            outs.iter().map(|o| format!("`{}`", o.name)).collect::<Vec<_>>().join(", "),
                            b.input,
                            node.callee.name,
                            outs.first().map(|o| o.name.as_str()).unwrap_or("o0")
                        )
                    }
                    _ => continue,
                };
                sink.report(ctx, m, b.value_range, message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn void_and_multi_outputs() {
        insta::assert_snapshot!(check_fixture("void-output", include_str!("fixtures/void-output/error.py")));
    }
}
