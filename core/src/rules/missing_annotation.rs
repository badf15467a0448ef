//! `missing-annotation`: a task or workflow input without a type annotation.

use super::{Context, Sink};
use crate::flyte::entity::DeclProblem;

crate::rule_meta!("missing-annotation", Error, "A task or workflow input has no type annotation");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        for p in &e.problems {
            if let DeclProblem::MissingAnnotation { param, range } = p {
                sink.report(
                    ctx,
                    e.module,
                    *range,
                    format!(
                        "input `{param}` of {} `{}` has no type annotation; flytekit raises FlyteMissingTypeException \
                         when the module is imported (annotate it, or pass `pickle_untyped=True`)",
                        e.kind.describe(),
                        e.name
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
    fn unannotated_inputs() {
        insta::assert_snapshot!(check_fixture(
            "missing-annotation",
            include_str!("fixtures/missing-annotation/error.py")
        ));
    }
}
