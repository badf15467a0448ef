//! `incomplete-conditional`: a `conditional()` without `else_()`.

use super::{Context, Sink};
use crate::flyte::graph::BodyFinding;

crate::rule_meta!("incomplete-conditional", Error, "A conditional has no else_() branch");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for f in &g.findings {
            if let BodyFinding::IncompleteConditional { range, name } = f {
                sink.report(
                    ctx,
                    m,
                    *range,
                    format!(
                        "conditional `{name}` has no `.else_()`: when no case matches there is nothing to run \
                         (FlyteAdmin: BranchNodeHasNoDefault); add `.else_().then(...)` or `.else_().fail(\"...\")`"
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
    fn conditional_without_else() {
        insta::assert_snapshot!(check_fixture(
            "incomplete-conditional",
            include_str!("fixtures/incomplete-conditional/error.py")
        ));
    }
}
