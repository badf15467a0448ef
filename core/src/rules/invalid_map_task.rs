//! `invalid-map-task`: `map_task` over something that is not a plain task or launch plan.

use super::{Context, Sink};
use crate::flyte::entity::DeclProblem;

crate::rule_meta!("invalid-map-task", Error, "map_task over a workflow, @dynamic or @eager task");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        for p in &e.problems {
            if let DeclProblem::NotMappable { range, target, kind } = p {
                sink.report(
                    ctx,
                    e.module,
                    *range,
                    format!(
                        "`map_task` cannot map {} `{target}`: only plain tasks and launch plans can be mapped \
                         (flytekit: \"Only PythonFunctionTask with default execution mode (not @dynamic or @eager) and \
                         PythonInstanceTask are supported in map tasks.\")",
                        kind.describe()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn mapping_a_workflow() {
        insta::assert_snapshot!(check_fixture("invalid-map-task", include_str!("fixtures/invalid-map-task/error.py")));
    }

    #[test]
    fn map_tasks_with_partial_and_lists_are_clean() {
        assert_clean(include_str!("fixtures/invalid-map-task/clean.py"));
    }
}
