//! `dependency-cycle`: nodes that depend on each other (through `>>` or `runs_before`).

use super::{Context, Sink};
use petgraph::algo::tarjan_scc;

crate::rule_meta!("dependency-cycle", Error, "Nodes of a workflow depend on each other in a cycle");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for g in ctx.graphs {
        let m = ctx.entities.entities[g.entity].module;
        let dg = g.dependency_graph();
        for scc in tarjan_scc(&dg) {
            let cyclic = scc.len() > 1 || scc.iter().any(|n| dg.contains_edge(*n, *n));
            if !cyclic {
                continue;
            }
            let members: Vec<usize> = scc.iter().map(|n| dg[*n]).collect();
            // Report at the ordering edge that closes the cycle (the last one written).
            let edge = g
                .order_edges
                .iter()
                .filter(|(a, b, _)| members.contains(a) && members.contains(b))
                .max_by_key(|e| e.2.start);
            let range = edge.map(|e| e.2).unwrap_or(g.nodes[members[0]].range);
            let mut names: Vec<String> =
                members.iter().map(|i| format!("`{}` ({})", g.nodes[*i].callee.name, g.nodes[*i].id)).collect();
            names.sort();
            sink.report(
                ctx,
                m,
                range,
                format!(
                    "these nodes depend on each other in a cycle: {}; serializing the workflow (`pyflyte package`/`register`) \
                     fails with RecursionError, and FlyteAdmin rejects it (CycleDetected)",
                    names.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn ordering_cycles() {
        insta::assert_snapshot!(check_fixture("dependency-cycle", include_str!("fixtures/dependency-cycle/error.py")));
    }
}
