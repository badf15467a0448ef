//! `unknown-input`: a keyword argument the called task, workflow or launch plan does not declare.

use super::common::closest;
use super::{Context, Sink};
use crate::diagnostic::{Fix, TextEdit};

crate::rule_meta!("unknown-input", Error, "A keyword argument that the called entity does not declare");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        for node in &g.nodes {
            if node.branch.is_some() {
                continue;
            }
            let inputs = &node.callee.interface.inputs;
            // With one unknown keyword the closest unbound input is clearly meant; with more,
            // two renames could want the same input.
            let unknown = node.bindings.iter().filter(|b| !b.positional && !inputs.iter().any(|i| i.name == b.input));
            let rename_is_safe = unknown.count() == 1;
            for b in node.bindings.iter().filter(|b| !b.positional) {
                if inputs.iter().any(|i| i.name == b.input) {
                    continue;
                }
                let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
                let declared = if names.is_empty() {
                    "it takes no inputs".to_string()
                } else {
                    format!("its inputs are {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
                };
                let suggestion =
                    closest(&b.input, names.iter().copied().filter(|n| !node.bindings.iter().any(|x| x.input == *n)));
                let hint = suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
                let name_range = crate::diagnostic::TextRange::new(b.range.start, b.range.start + b.input.len());
                let d = sink.report(
                    ctx,
                    m,
                    name_range,
                    format!(
                        "{} `{}` has no input `{}`: {declared}{hint} (flytekit: \"Received unexpected keyword argument '{}'\")",
                        node.callee.kind.describe(),
                        node.callee.name,
                        b.input,
                        b.input
                    ),
                );
                if let Some(s) = suggestion {
                    d.fixes.push(Fix {
                        title: format!("Rename to `{s}`"),
                        edits: vec![TextEdit { path: d.path.clone(), range: name_range, new_text: s.to_string() }],
                        safe: rename_is_safe,
                    });
                }
                if let Some(e) = super::common::callee_entity(ctx, node) {
                    let path = ctx.path(e.module).to_path_buf();
                    d.related.push(crate::diagnostic::RelatedLocation {
                        path,
                        range: e.name_range,
                        message: format!("`{}` is declared here", e.name),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn unknown_keywords() {
        insta::assert_snapshot!(check_fixture("unknown-input", include_str!("fixtures/unknown-input/error.py")));
    }

    #[test]
    fn suggests_the_closest_input_as_a_fix() {
        let d = diagnostics(include_str!("fixtures/unknown-input/error.py"));
        let fix = &d.iter().find(|d| d.code == "unknown-input").unwrap().fixes[0];
        assert_eq!(fix.edits[0].new_text, "orders");
    }

    #[test]
    fn clean() {
        assert_clean(include_str!("fixtures/unknown-input/clean.py"));
    }
}
