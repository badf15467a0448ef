//! `pickle-fallback` (warning): a type flytekit has no transformer for, so it pickles values.

use super::{Context, Sink};

crate::rule_meta!("pickle-fallback", Warning, "A type that flytekit will pickle");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        let Some(f) = &e.function else { continue };
        for v in &e.interface.inputs {
            if v.ty.pickled {
                let range = f
                    .params
                    .iter()
                    .find(|p| p.name == v.name)
                    .and_then(|p| p.annotation.as_ref())
                    .map(|a| a.range)
                    .unwrap_or(v.range);
                sink.report(
                    ctx,
                    e.module,
                    range,
                    format!(
                        "input `{}` of {} `{}` is `{}`, which flytekit pickles (BLOB format=PythonPickle): it only works \
                         between identical Python versions and cannot be inspected in the UI; use a dataclass or a Flyte type",
                        v.name,
                        e.kind.describe(),
                        e.name,
                        v.ty.py
                    ),
                );
            }
        }
        for v in &e.interface.outputs {
            if v.ty.pickled {
                sink.report(
                    ctx,
                    e.module,
                    v.range,
                    format!(
                        "output `{}` of {} `{}` is `{}`, which flytekit pickles (BLOB format=PythonPickle); use a \
                         dataclass or a Flyte type",
                        v.name,
                        e.kind.describe(),
                        e.name,
                        v.ty.py
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
    fn pickled_types() {
        insta::assert_snapshot!(check_fixture("pickle-fallback", include_str!("fixtures/pickle-fallback/warning.py")));
    }
}
