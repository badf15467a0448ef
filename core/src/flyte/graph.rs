//! A workflow's DAG as fledge reconstructs it from the body: nodes, bindings, ordering edges.

use super::entity::{EntityId, EntityKind, Interface};
use crate::diagnostic::TextRange;
use crate::types::{FlyteType, LiteralType};
use petgraph::graph::DiGraph;
use serde::Serialize;

pub type NodeIdx = usize;

/// What a node calls.
#[derive(Clone, Debug, Serialize)]
pub struct Callee {
    /// The name as written at the call site (`clean`, `mod.clean`, `map_task(clean)`).
    pub name: String,
    pub kind: EntityKind,
    pub entity: Option<EntityId>,
    pub interface: Interface,
    /// For map tasks: the task they map, with what `functools.partial` binds and their settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapped: Option<MapInfo>,
}

/// What a `map_task(...)` node maps (read by `fledge run`, which executes the items).
#[derive(Clone, Debug, Serialize)]
pub struct MapInfo {
    pub target: EntityId,
    /// Inputs fixed by `functools.partial(task, name=value)`, evaluated in the workflow body.
    pub partial: Vec<Binding>,
    pub concurrency: Option<u32>,
    pub min_success_ratio: Option<f64>,
    pub min_successes: Option<u32>,
}

/// Where a promise comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PromiseSource {
    Node { node: NodeIdx, output: String },
    WorkflowInput { name: String },
}

/// A value at a binding site.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BoundValue {
    Promise {
        source: PromiseSource,
        attr_path: Vec<String>,
        ty: FlyteType,
    },
    Literal {
        literal: Literal,
    },
    List {
        items: Vec<(BoundValue, TextRange)>,
    },
    Dict {
        items: Vec<(Option<String>, BoundValue, TextRange)>,
    },
    /// The result of a call that has no outputs.
    Void {
        node: NodeIdx,
    },
    /// A multi-output result passed whole.
    MultiOutput {
        node: NodeIdx,
    },
    /// A comparison of promises (only meaningful inside `conditional().if_()`).
    Comparison,
    Unknown,
}

/// A constant written in the source.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", content = "text", rename_all = "snake_case")]
pub enum Literal {
    Int(String),
    Float(String),
    Str(String),
    Bool(bool),
    None,
}

/// One `input=value` of a node.
#[derive(Clone, Debug, Serialize)]
pub struct Binding {
    pub input: String,
    /// The keyword argument (`n=x`), or the positional argument.
    pub range: TextRange,
    pub value_range: TextRange,
    pub value: BoundValue,
    pub positional: bool,
}

/// One node of a workflow.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// `n0`, `n1`, ... in call order, or the `node_name` given with `with_overrides`.
    pub id: String,
    pub callee: Callee,
    /// The whole call expression.
    pub range: TextRange,
    /// The called expression (`clean` in `clean(x=1)`).
    pub func_range: TextRange,
    pub bindings: Vec<Binding>,
    /// The call passes `*args`/`**kwargs`: bindings cannot be known.
    pub opaque_args: bool,
    /// The branch node this node is a `then()` of.
    pub in_branch: Option<NodeIdx>,
    pub branch: Option<BranchInfo>,
    /// Made by `create_node(entity, ...)` rather than by calling the entity.
    pub via_create_node: bool,
}

/// A `conditional()` node.
#[derive(Clone, Debug, Serialize)]
pub struct BranchInfo {
    pub name: String,
    /// The nodes of each case, in order (`None` for `.fail()`).
    pub cases: Vec<Option<NodeIdx>>,
    pub has_else: bool,
    /// The test of each `if_`/`elif_`, in order (the `else_` case has none).
    pub conditions: Vec<Condition>,
}

/// The test of an `if_()`/`elif_()`, as written (read by `fledge run`, which decides branches).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// `a < b`, `a == 3`, ... (`op` is the Python operator).
    Compare {
        op: String,
        left: Operand,
        right: Operand,
    },
    And {
        left: Box<Condition>,
        right: Box<Condition>,
    },
    Or {
        left: Box<Condition>,
        right: Box<Condition>,
    },
    /// `p.is_true()`, `p.is_false()`, `p.is_none()`.
    IsTrue {
        operand: Operand,
    },
    IsFalse {
        operand: Operand,
    },
    IsNone {
        operand: Operand,
    },
    /// Something fledge cannot evaluate.
    Unknown,
}

/// One side of a comparison in a condition.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operand {
    Promise { source: PromiseSource, attr_path: Vec<String> },
    Literal { literal: Literal },
    Unknown,
}

/// A returned value bound to a workflow output.
#[derive(Clone, Debug, Serialize)]
pub struct OutputBinding {
    pub output: String,
    pub range: TextRange,
    pub value: BoundValue,
}

/// Something in a workflow body that fledge reports (detected while evaluating it).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyFinding {
    /// A promise used in Python logic.
    PromiseMisuse { range: TextRange, what: String, fails: bool },
    /// `r.o3`, `r[5]`, `p.missing_field` on a node's outputs.
    UnknownOutput { range: TextRange, message: String },
    /// `a, b = t()` with the wrong number of outputs.
    UnpackArity { range: TextRange, message: String },
    /// `conditional(...)` without `else_()`.
    IncompleteConditional { range: TextRange, name: String },
    /// Branches that produce the same output with different types.
    BranchMismatch { range: TextRange, message: String },
    /// Returned values that do not match the declared outputs in number; `fails` is false where
    /// flytekit only drops the value (a workflow without return annotation returning something).
    ReturnArity { range: TextRange, message: String, fails: bool },
}

/// The reconstructed DAG of one workflow (or the static part of a `@dynamic` body).
#[derive(Clone, Debug, Serialize)]
pub struct WorkflowGraph {
    pub entity: EntityId,
    pub nodes: Vec<Node>,
    pub outputs: Vec<OutputBinding>,
    /// `a >> b` edges (from, to, where written).
    pub order_edges: Vec<(NodeIdx, NodeIdx, TextRange)>,
    pub findings: Vec<BodyFinding>,
    /// True for `@dynamic` bodies, whose inputs are real values, not promises.
    pub dynamic: bool,
}

/// An edge of the DAG: data (with the types on it) or ordering only.
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    pub from: Option<NodeIdx>,
    pub to: Option<NodeIdx>,
    /// `output -> input` for data edges, empty for `>>` edges.
    pub label: String,
    pub ty: Option<LiteralType>,
    pub py: Option<String>,
}

impl WorkflowGraph {
    /// Data edges (from a node or the start node `None`) to each node, and `>>` edges.
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            for b in &n.bindings {
                collect_sources(&b.value, &mut |src, ty| {
                    let (from, output) = match src {
                        PromiseSource::Node { node, output } => (Some(*node), output.clone()),
                        PromiseSource::WorkflowInput { name } => (None, name.clone()),
                    };
                    out.push(Edge {
                        from,
                        to: Some(i),
                        label: format!("{output} -> {}", b.input),
                        ty: Some(ty.lit.clone()),
                        py: Some(ty.py.clone()),
                    });
                });
            }
            if let Some(br) = n.in_branch {
                out.push(Edge { from: Some(br), to: Some(i), label: "then".into(), ty: None, py: None });
            }
        }
        for o in &self.outputs {
            collect_sources(&o.value, &mut |src, ty| {
                if let PromiseSource::Node { node, output } = src {
                    out.push(Edge {
                        from: Some(*node),
                        to: None,
                        label: format!("{output} -> {}", o.output),
                        ty: Some(ty.lit.clone()),
                        py: Some(ty.py.clone()),
                    });
                }
            });
        }
        for (a, b, _) in &self.order_edges {
            out.push(Edge { from: Some(*a), to: Some(*b), label: String::new(), ty: None, py: None });
        }
        out
    }

    /// The node-to-node dependency graph (data and `>>` edges), for cycle detection and ordering.
    pub fn dependency_graph(&self) -> DiGraph<NodeIdx, ()> {
        let mut g = DiGraph::new();
        let idx: Vec<_> = (0..self.nodes.len()).map(|i| g.add_node(i)).collect();
        for e in self.edges() {
            if let (Some(a), Some(b)) = (e.from, e.to) {
                if a != b || e.label.is_empty() {
                    g.update_edge(idx[a], idx[b], ());
                }
            }
        }
        g
    }
}

/// Every promise inside a bound value (through lists and dicts).
pub fn collect_sources(v: &BoundValue, f: &mut dyn FnMut(&PromiseSource, &FlyteType)) {
    match v {
        BoundValue::Promise { source, ty, .. } => f(source, ty),
        BoundValue::List { items } => items.iter().for_each(|(x, _)| collect_sources(x, f)),
        BoundValue::Dict { items } => items.iter().for_each(|(_, x, _)| collect_sources(x, f)),
        _ => {}
    }
}
