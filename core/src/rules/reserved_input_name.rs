//! `reserved-input-name`: an input named `entity` bound by keyword. flytekit's call handler takes
//! the called entity as its own parameter `entity`, so the call fails with TypeError.

use super::{Context, Sink};

crate::rule_meta!("reserved-input-name", Error, "An input whose name collides with flytekit's call handler");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for node in &g.nodes {
            for b in node.bindings.iter().filter(|b| !b.positional && b.input == "entity") {
                if node.callee.interface.input("entity").is_none() {
                    continue;
                }
                sink.report(
                    ctx,
                    m,
                    b.range,
                    format!(
                        "input `entity` of `{}` cannot be passed by keyword: flytekit's call handler has a parameter of \
                         that name (TypeError: \"flyte_entity_call_handler() got multiple values for argument \
                         'entity'\"); rename the input",
                        node.callee.name
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
    fn entity_keyword() {
        insta::assert_snapshot!(check_fixture(
            "reserved-input-name",
            include_str!("fixtures/reserved-input-name/error.py")
        ));
    }
}
