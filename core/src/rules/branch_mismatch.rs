//! `branch-mismatch`: the cases of a conditional produce the same output with different types.

use super::{Context, Sink};
use crate::flyte::graph::BodyFinding;

crate::rule_meta!("branch-mismatch", Error, "Branches of a conditional produce outputs of different types");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for f in &g.findings {
            if let BodyFinding::BranchMismatch { range, message } = f {
                sink.report(ctx, m, *range, message.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn branches_with_different_output_types() {
        insta::assert_snapshot!(check_fixture("branch-mismatch", include_str!("fixtures/branch-mismatch/error.py")));
    }
}
