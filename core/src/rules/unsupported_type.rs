//! `unsupported-type`: an annotation flytekit refuses when the task is decorated
//! (bare `list`, tuples as inputs).

use super::{Context, Sink};
use crate::flyte::entity::DeclProblem;

crate::rule_meta!("unsupported-type", Error, "An annotation that flytekit cannot map to a Flyte type");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        for p in &e.problems {
            if let DeclProblem::Unsupported { param, range, ty } = p {
                let what = match param {
                    Some(n) => format!("input `{n}`"),
                    None => "the return annotation".to_string(),
                };
                sink.report(
                    ctx,
                    e.module,
                    *range,
                    format!("{what} of {} `{}` is annotated `{}`: {}", e.kind.describe(), e.name, ty.py, ty.reason),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn bare_list_and_tuple_inputs() {
        insta::assert_snapshot!(check_fixture("unsupported-type", include_str!("fixtures/unsupported-type/error.py")));
    }
}
