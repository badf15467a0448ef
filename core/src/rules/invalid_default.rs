//! `invalid-default`: a default value that does not fit its input's type. flytekit converts it
//! when the default is used in a call or when the workflow's launch plan is created.

use super::common::{literal_fits, Fit};
use super::{Context, Sink};
use crate::flyte::graph::Literal;
use crate::syntax::ExprKind;

crate::rule_meta!("invalid-default", Error, "A default value that does not fit the input's type");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        if e.function.is_none() {
            continue;
        }
        for v in &e.interface.inputs {
            let Some(default) = &v.default else { continue };
            let lit = match &default.kind {
                ExprKind::Int(t) => Literal::Int(t.clone()),
                ExprKind::Float(t) => Literal::Float(t.clone()),
                ExprKind::Str(s) => Literal::Str(s.clone()),
                ExprKind::Bool(b) => Literal::Bool(*b),
                ExprKind::NoneLit => Literal::None,
                _ => continue,
            };
            let reason = match literal_fits(&lit, &v.ty.lit) {
                Fit::No(r) => r,
                Fit::NotInEnum(values) => format!("it is not one of the enum's values {values:?}"),
                _ => continue,
            };
            sink.report(
                ctx,
                e.module,
                default.range,
                format!(
                    "the default `{}` of input `{}` of {} `{}` does not fit {}: {reason} (TypeTransformerFailedError when \
                     the default is used or the launch plan is created)",
                    ctx.text(e.module, default.range),
                    v.name,
                    e.kind.describe(),
                    e.name,
                    v.ty.describe()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn defaults_of_the_wrong_type() {
        insta::assert_snapshot!(check_fixture("invalid-default", include_str!("fixtures/invalid-default/error.py")));
    }
}
