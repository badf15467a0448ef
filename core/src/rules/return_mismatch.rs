//! `return-mismatch`: a workflow returns values that do not match its declared outputs,
//! in number (flytekit fails to compile it) or in type (FlyteAdmin rejects it).

use super::type_mismatch::check_against;
use super::{Context, Sink};
use crate::flyte::graph::BodyFinding;

crate::rule_meta!("return-mismatch", Error, "A workflow's returned values do not match its declared outputs");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        if g.dynamic {
            continue;
        }
        let e = &ctx.entities.entities[g.entity];
        for f in &g.findings {
            if let BodyFinding::ReturnArity { range, message, fails } = f {
                let severity =
                    if *fails { crate::diagnostic::Severity::Error } else { crate::diagnostic::Severity::Warning };
                sink.report_with(ctx, e.module, *range, message.clone(), severity);
            }
        }
        for o in &g.outputs {
            let Some(declared) = e.interface.output(&o.output) else { continue };
            let what = format!("output `{}` of workflow `{}`", o.output, e.name);
            check_against(ctx, sink, e.module, g, &what, &declared.ty, &o.value, o.range);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn wrong_return_types_and_counts() {
        insta::assert_snapshot!(check_fixture("return-mismatch", include_str!("fixtures/return-mismatch/error.py")));
    }

    #[test]
    fn clean() {
        assert_clean(include_str!("fixtures/return-mismatch/clean.py"));
    }
}
