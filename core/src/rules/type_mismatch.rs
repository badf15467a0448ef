//! `type-mismatch`: a value bound to an input whose Flyte type cannot accept it.
//!
//! Promises (task outputs, workflow inputs) follow Flyte's compiler (`AreTypesCastable`);
//! constants follow flytekit's TypeEngine, which converts them strictly by Python type.

use super::common::{describe_input, describe_source, value_fits, Fit};
use super::{Context, Sink};
use crate::diagnostic::{RelatedLocation, TextRange};
use crate::flyte::graph::{BoundValue, Node, PromiseSource, WorkflowGraph};
use crate::flyte::Var;
use crate::project::ModuleId;
use crate::types::{castable, Castability, FlyteType, LiteralType};

crate::rule_meta!("type-mismatch", Error, "A value whose Flyte type the input cannot accept");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for node in &g.nodes {
            for b in &node.bindings {
                let Some(input) = node.callee.interface.input(&b.input) else { continue };
                check_value(ctx, sink, m, g, node, input, &b.value, b.value_range);
            }
        }
    }
}

/// Check one bound value (recursing into list and dict literals of promises).
#[allow(clippy::too_many_arguments)]
fn check_value(
    ctx: &Context,
    sink: &mut Sink,
    m: ModuleId,
    g: &WorkflowGraph,
    node: &Node,
    input: &Var,
    value: &BoundValue,
    range: TextRange,
) {
    check_against(ctx, sink, m, g, &describe_input(node, &input.name), &input.ty, value, range);
}

/// Check `value` against `expected`; `what` names the receiving input for messages.
#[allow(clippy::too_many_arguments)]
pub fn check_against(
    ctx: &Context,
    sink: &mut Sink,
    m: ModuleId,
    g: &WorkflowGraph,
    what: &str,
    expected: &FlyteType,
    value: &BoundValue,
    range: TextRange,
) {
    match value {
        BoundValue::Promise { source, attr_path, ty } => {
            if castable(&ty.lit, &expected.lit) != Castability::No {
                return;
            }
            let note = coercion_note(&ty.lit, &expected.lit);
            let d = sink.report(
                ctx,
                m,
                range,
                format!(
                    "{} is {} but {what} expects {}{note}",
                    describe_source(g, source, attr_path),
                    ty.describe(),
                    expected.describe()
                ),
            );
            if let PromiseSource::Node { node, .. } = source {
                if let Some(e) = g.nodes[*node].callee.entity.map(|id| &ctx.entities.entities[id]) {
                    d.related.push(RelatedLocation {
                        path: ctx.path(e.module).to_path_buf(),
                        range: e.name_range,
                        message: format!("`{}` is declared here", e.name),
                    });
                }
            }
        }
        BoundValue::List { items } if items.iter().any(|(v, _)| !matches!(v, BoundValue::Literal { .. })) => {
            // A list of promises: each element must fit the element type.
            match &expected.lit {
                LiteralType::Collection { element } => {
                    let el = FlyteType::new(element_py(&expected.py), (**element).clone());
                    for (v, r) in items {
                        check_against(ctx, sink, m, g, &format!("an element of {what}"), &el, v, *r);
                    }
                }
                LiteralType::Unknown | LiteralType::Union { .. } => {}
                LiteralType::Blob { format, .. } if format == crate::types::PICKLE_FORMAT => {}
                _ => {
                    sink.report(
                        ctx,
                        m,
                        range,
                        format!(
                            "a list is bound to {what}, which expects {} (MismatchingBindings)",
                            expected.describe()
                        ),
                    );
                }
            }
        }
        BoundValue::Dict { items } if items.iter().any(|(_, v, _)| !matches!(v, BoundValue::Literal { .. })) => {
            if let LiteralType::Map { value: vt } = &expected.lit {
                let el = FlyteType::new(element_py(&expected.py), (**vt).clone());
                for (_, v, r) in items {
                    check_against(ctx, sink, m, g, &format!("a value of {what}"), &el, v, *r);
                }
            }
        }
        BoundValue::Literal { .. } | BoundValue::List { .. } | BoundValue::Dict { .. } => {
            if let Fit::No(reason) = value_fits(value, &expected.lit) {
                sink.report(
                    ctx,
                    m,
                    range,
                    format!(
                        "the constant `{}` does not fit {what}, which expects {}: {reason} (TypeTransformerFailedError when \
                         the workflow is compiled)",
                        ctx.text(m, range),
                        expected.describe()
                    ),
                );
            }
        }
        BoundValue::Comparison => {
            sink.report(
                ctx,
                m,
                range,
                format!(
                    "a comparison of promises is bound to {what}; comparisons only work inside `conditional().if_()` \
                     (compute the boolean in a task)"
                ),
            );
        }
        _ => {}
    }
}

/// Explain where local execution and the compiler disagree.
fn coercion_note(up: &LiteralType, down: &LiteralType) -> &'static str {
    use crate::types::Simple::*;
    match (up, down) {
        (LiteralType::Simple { simple: Integer }, LiteralType::Simple { simple: Float })
        | (LiteralType::Simple { simple: Float }, LiteralType::Simple { simple: Integer }) => {
            " (a local run converts the number, but FlyteAdmin's compiler rejects the binding at registration: \
             MismatchingTypes)"
        }
        (LiteralType::Union { .. }, _) => {
            " (an Optional/Union output cannot bind to a non-union input: FlyteAdmin rejects it at registration, \
             MismatchingTypes)"
        }
        _ => " (FlyteAdmin rejects the binding at registration: MismatchingTypes)",
    }
}

fn element_py(py: &str) -> String {
    match (py.find('['), py.rfind(']')) {
        (Some(s), Some(e)) if s < e => {
            let inner = &py[s + 1..e];
            inner.rsplit_once(", ").map(|(_, v)| v.to_string()).unwrap_or_else(|| inner.to_string())
        }
        _ => py.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn promise_wiring_mismatches() {
        insta::assert_snapshot!(check_fixture(
            "type-mismatch",
            include_str!("fixtures/type-mismatch/error_promise.py")
        ));
    }

    #[test]
    fn constant_mismatches() {
        insta::assert_snapshot!(check_fixture(
            "type-mismatch",
            include_str!("fixtures/type-mismatch/error_constant.py")
        ));
    }

    #[test]
    fn castable_bindings_are_clean() {
        assert_clean(include_str!("fixtures/type-mismatch/clean.py"));
    }

    #[test]
    fn mismatches_across_modules_point_at_the_upstream_task() {
        let d = diagnostics_multi(&[
            ("pkg/__init__.py", ""),
            ("pkg/tasks.py", "from flytekit import task\n@task\ndef name() -> str:\n    return 'x'\n@task\ndef square(n: int) -> int:\n    return n\n"),
            ("pkg/flows.py", "from flytekit import workflow\nfrom .tasks import name, square\n@workflow\ndef wf() -> int:\n    return square(n=name())\n"),
        ]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "type-mismatch");
        assert!(d[0].message.contains("output `o0` of `name` is `str` (STRING)"), "{}", d[0].message);
        assert!(d[0].message.contains("input `n` of task `square` expects `int` (INTEGER)"), "{}", d[0].message);
        assert!(d[0].related[0].path.ends_with("pkg/tasks.py"));
    }
}

#[cfg(test)]
mod imperative_tests {
    use crate::rules::test_support::*;

    #[test]
    fn imperative_workflows_are_checked_too() {
        insta::assert_snapshot!(check_fixture(
            "type-mismatch",
            include_str!("fixtures/type-mismatch/error_imperative.py")
        ));
    }
}
