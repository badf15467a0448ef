//! `promise-misuse`: a promise used as a Python value inside a workflow body (`if`, `and`,
//! arithmetic, iteration, f-strings, plain functions). The body runs once at compile time
//! with promises, so this logic either raises or silently uses `Promise(...)` objects.

use super::{Context, Sink};
use crate::diagnostic::Severity;
use crate::flyte::graph::BodyFinding;

crate::rule_meta!("promise-misuse", Error, "A promise used in Python logic inside a workflow body");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for f in &g.findings {
            if let BodyFinding::PromiseMisuse { range, what, fails } = f {
                let severity = if *fails { Severity::Error } else { Severity::Warning };
                sink.report_with(ctx, m, *range, what.clone(), severity);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn python_logic_on_promises() {
        insta::assert_snapshot!(check_fixture("promise-misuse", include_str!("fixtures/promise-misuse/error.py")));
    }

    #[test]
    fn conditionals_and_dynamic_bodies_are_fine() {
        assert_clean(include_str!("fixtures/promise-misuse/clean.py"));
    }
}
