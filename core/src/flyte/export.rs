//! A workflow's DAG as plain serializable data, for `fledge graph` and the language server.

use super::graph::WorkflowGraph;
use crate::diagnostic::TextRange;
use crate::workspace::Analysis;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize)]
pub struct GraphExport {
    pub workflow: String,
    pub path: PathBuf,
    pub nodes: Vec<NodeExport>,
    pub edges: Vec<EdgeExport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NodeExport {
    /// `start`, `end`, or the node id (`n0`, ...).
    pub id: String,
    /// What the node runs (`clean_orders`), or `start`/`end`.
    pub label: String,
    pub kind: String,
    /// Where it is called (start/end: the workflow's definition).
    pub range: TextRange,
    /// Where the called entity is declared, if in the project.
    pub target: Option<(PathBuf, TextRange)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EdgeExport {
    pub from: String,
    pub to: String,
    /// `output -> input`, empty for `>>` ordering edges.
    pub label: String,
    /// The Flyte type on a data edge, e.g. `LIST<INTEGER>`.
    pub flyte_type: Option<String>,
    pub python_type: Option<String>,
}

/// The DAG of workflow graph `g` as plain data.
pub fn export(analysis: &Analysis, g: &WorkflowGraph) -> GraphExport {
    let e = &analysis.entities.entities[g.entity];
    let module = analysis.index.module(e.module);
    let mut nodes = vec![NodeExport {
        id: "start".into(),
        label: "start".into(),
        kind: "start".into(),
        range: e.name_range,
        target: None,
    }];
    for n in &g.nodes {
        let kind = if n.branch.is_some() {
            "branch".to_string()
        } else {
            serde_json::to_value(n.callee.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
        };
        let target = n.callee.entity.map(|id| {
            let t = &analysis.entities.entities[id];
            (analysis.index.module(t.module).path.clone(), t.name_range)
        });
        nodes.push(NodeExport { id: n.id.clone(), label: n.callee.name.clone(), kind, range: n.range, target });
    }
    nodes.push(NodeExport {
        id: "end".into(),
        label: "end".into(),
        kind: "end".into(),
        range: e.name_range,
        target: None,
    });
    let id = |i: Option<usize>, default: &str| i.map(|i| g.nodes[i].id.clone()).unwrap_or_else(|| default.to_string());
    let mut edges: Vec<EdgeExport> = g
        .edges()
        .into_iter()
        .map(|ed| EdgeExport {
            from: id(ed.from, "start"),
            to: id(ed.to, "end"),
            label: ed.label,
            flyte_type: ed.ty.map(|t| t.to_string()),
            python_type: ed.py,
        })
        .collect();
    // Workflow outputs bound to workflow inputs or constants still reach `end`.
    for o in &g.outputs {
        if let super::graph::BoundValue::Promise {
            source: super::graph::PromiseSource::WorkflowInput { name },
            ty,
            ..
        } = &o.value
        {
            edges.push(EdgeExport {
                from: "start".into(),
                to: "end".into(),
                label: format!("{name} -> {}", o.output),
                flyte_type: Some(ty.lit.to_string()),
                python_type: Some(ty.py.clone()),
            });
        }
    }
    // Nodes without inputs hang off `start`; nodes nothing depends on lead to `end`.
    for n in &g.nodes {
        if !edges.iter().any(|ed| ed.to == n.id) {
            edges.push(EdgeExport {
                from: "start".into(),
                to: n.id.clone(),
                label: String::new(),
                flyte_type: None,
                python_type: None,
            });
        }
        if !edges.iter().any(|ed| ed.from == n.id) {
            edges.push(EdgeExport {
                from: n.id.clone(),
                to: "end".into(),
                label: String::new(),
                flyte_type: None,
                python_type: None,
            });
        }
    }
    let workflow = format!("{}.{}", module.name, e.name);
    GraphExport { workflow, path: module.path.clone(), nodes, edges }
}

/// The graphs of the workflows (and `@dynamic` bodies) defined in module `module`.
pub fn workflows_in_module<'a: 'm, 'm>(
    analysis: &'a Analysis,
    module: &'m str,
) -> impl Iterator<Item = &'a WorkflowGraph> + 'm {
    analysis
        .graphs
        .iter()
        .filter(move |g| analysis.index.module(analysis.entities.entities[g.entity].module).name == module)
}

/// Find the graph of workflow `name` defined in module `module`.
pub fn find_workflow<'a>(analysis: &'a Analysis, module: &str, name: &str) -> Option<&'a WorkflowGraph> {
    workflows_in_module(analysis, module).find(|g| analysis.entities.entities[g.entity].name == name)
}
