//! `invalid-enum-value`: a string constant bound to an Enum input that is not one of its values.

use super::common::{value_fits, Fit};
use super::{Context, Sink};

crate::rule_meta!("invalid-enum-value", Error, "A string constant that is not one of the Enum's values");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for node in &g.nodes {
            for b in &node.bindings {
                let Some(input) = node.callee.interface.input(&b.input) else { continue };
                if let Fit::NotInEnum(values) = value_fits(&b.value, &input.ty.lit) {
                    sink.report(
                        ctx,
                        m,
                        b.value_range,
                        format!(
                            "`{}` is not a value of enum `{}` (input `{}` of `{}`); its values are {} (flytekit: \
                             \"Value ... is not in Enum\")",
                            ctx.text(m, b.value_range),
                            input.ty.py,
                            b.input,
                            node.callee.name,
                            values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ")
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
    fn strings_outside_the_enum() {
        insta::assert_snapshot!(check_fixture(
            "invalid-enum-value",
            include_str!("fixtures/invalid-enum-value/error.py")
        ));
    }
}
