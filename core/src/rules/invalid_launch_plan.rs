//! `invalid-launch-plan`: fixed or default inputs that the workflow does not have, or whose
//! constant does not fit the input's type.

use super::common::{value_fits, Fit};
use super::{Context, Sink};
use crate::flyte::entity::DeclProblem;
use crate::flyte::graph::{BoundValue, Literal};
use crate::flyte::EntityKind;
use crate::syntax::{keyword, ExprKind};

crate::rule_meta!("invalid-launch-plan", Error, "Launch plan inputs that do not match the workflow");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        for p in &e.problems {
            if let DeclProblem::UnknownLaunchPlanInput { name, range, workflow } = p {
                sink.report(
                    ctx,
                    e.module,
                    *range,
                    format!(
                        "launch plan `{}` sets input `{name}`, which workflow `{workflow}` does not have (flytekit: \
                         \"Received unexpected keyword argument {name}\")",
                        e.name
                    ),
                );
            }
        }
        if e.kind != EntityKind::LaunchPlan {
            continue;
        }
        let Some(wf) = e.target.map(|t| &ctx.entities.entities[t]) else { continue };
        for key in ["fixed_inputs", "default_inputs"] {
            let Some(arg) = keyword(&e.config_args, key) else { continue };
            let ExprKind::Dict(kvs) = &arg.value.kind else { continue };
            for (k, v) in kvs {
                let (Some(name), Some(lit)) = (k.as_str(), constant(v)) else { continue };
                let Some(input) = wf.interface.input(name) else { continue };
                if let Fit::No(reason) =
                    value_fits(&BoundValue::Literal { literal: lit.clone() }, &input.ty.lit).clone_reason()
                {
                    sink.report(
                        ctx,
                        e.module,
                        v.range,
                        format!(
                            "{key} of launch plan `{}` sets `{name}` to `{}`, but workflow input `{name}` is {}: {reason}",
                            e.name,
                            ctx.text(e.module, v.range),
                            input.ty.describe()
                        ),
                    );
                }
            }
        }
    }
}

fn constant(e: &crate::syntax::Expr) -> Option<Literal> {
    Some(match &e.kind {
        ExprKind::Int(t) => Literal::Int(t.clone()),
        ExprKind::Float(t) => Literal::Float(t.clone()),
        ExprKind::Str(s) => Literal::Str(s.clone()),
        ExprKind::Bool(b) => Literal::Bool(*b),
        ExprKind::NoneLit => Literal::None,
        _ => return None,
    })
}

trait CloneReason {
    fn clone_reason(self) -> Fit;
}

impl CloneReason for Fit {
    fn clone_reason(self) -> Fit {
        match self {
            Fit::NotInEnum(values) => Fit::No(format!("the value is not one of {values:?}")),
            f => f,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn unknown_and_mistyped_launch_plan_inputs() {
        insta::assert_snapshot!(check_fixture(
            "invalid-launch-plan",
            include_str!("fixtures/invalid-launch-plan/error.py")
        ));
    }
}
