//! The Flyte model: types of annotations, entities and their interfaces, workflow DAGs.

pub mod annotation;
pub mod entity;
pub mod eval;
pub mod fingerprint;
pub mod graph;

pub use entity::{Entity, EntityId, EntityKind, EntityTable, Interface, Var};
pub use graph::WorkflowGraph;
pub mod export;
