//! `positional-argument`: positional arguments where flytekit only accepts keywords.
//!
//! flytekit 1.16 binds positional arguments of tasks, workflows and map tasks in order, but a
//! launch plan call raises "Only Keyword Arguments are supported for launch plan executions".

use super::{Context, Sink};
use crate::flyte::EntityKind;

crate::rule_meta!("positional-argument", Error, "A positional argument where flytekit accepts only keywords");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for node in &g.nodes {
            let n_inputs = node.callee.interface.inputs.len();
            for (i, b) in node.bindings.iter().filter(|b| b.positional).enumerate() {
                if node.via_create_node {
                    sink.report(
                        ctx,
                        m,
                        b.range,
                        format!(
                            "`create_node({}, ...)` is given a positional argument; flytekit raises \"Only keyword args \
                             are supported to pass inputs to workflows and tasks\"",
                            node.callee.name
                        ),
                    );
                } else if node.callee.kind == EntityKind::LaunchPlan {
                    sink.report(
                        ctx,
                        m,
                        b.range,
                        format!(
                            "launch plan `{}` is called with a positional argument; flytekit raises \"Only Keyword \
                             Arguments are supported for launch plan executions\" (write `{}=...`)",
                            node.callee.name,
                            if b.input.is_empty() { "name" } else { &b.input }
                        ),
                    );
                } else if i >= n_inputs {
                    sink.report(
                        ctx,
                        m,
                        b.range,
                        format!(
                            "{} `{}` takes {n_inputs} input(s) but is given more positional arguments",
                            node.callee.kind.describe(),
                            node.callee.name
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn launch_plans_take_keywords_only() {
        insta::assert_snapshot!(check_fixture(
            "positional-argument",
            include_str!("fixtures/positional-argument/error.py")
        ));
    }

    #[test]
    fn tasks_and_workflows_accept_positional_arguments() {
        assert_clean(include_str!("fixtures/positional-argument/clean.py"));
    }
}
