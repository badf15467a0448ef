//! `unknown-output`: reading an output a node does not have (`r.o2`, `r[3]`, a missing
//! dataclass field) or unpacking the wrong number of outputs.

use super::{Context, Sink};
use crate::flyte::graph::BodyFinding;

crate::rule_meta!("unknown-output", Error, "An output, index or field that the node does not have");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for f in &g.findings {
            match f {
                BodyFinding::UnknownOutput { range, message } | BodyFinding::UnpackArity { range, message } => {
                    sink.report(ctx, m, *range, message.clone());
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn unknown_outputs_indexes_fields_and_unpacking() {
        insta::assert_snapshot!(check_fixture("unknown-output", include_str!("fixtures/unknown-output/error.py")));
    }
}
