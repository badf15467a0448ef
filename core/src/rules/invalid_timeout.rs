//! `invalid-timeout`: a `timeout` that is neither an int (seconds) nor a `timedelta`.

use super::{Context, Sink};
use crate::syntax::{keyword, ExprKind};

crate::rule_meta!("invalid-timeout", Error, "A task timeout that is not an int or a timedelta");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        if e.function.is_none() || !e.kind.is_task_like() {
            continue;
        }
        let Some(t) = keyword(&e.config_args, "timeout") else { continue };
        let kind = match &t.value.kind {
            ExprKind::Str(_) => "a string",
            ExprKind::Float(_) => "a float",
            ExprKind::List(_) | ExprKind::Tuple(_) | ExprKind::Dict(_) => "a collection",
            _ => continue,
        };
        sink.report(
            ctx,
            e.module,
            t.value.range,
            format!(
                "`timeout` of task `{}` is {kind}; flytekit raises \"timeout should be duration represented as either a \
                 datetime.timedelta or int seconds\" when the module is imported",
                e.name
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn string_and_float_timeouts() {
        insta::assert_snapshot!(check_fixture("invalid-timeout", include_str!("fixtures/invalid-timeout/error.py")));
    }
}
