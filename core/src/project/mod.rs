//! The project model: files, modules, imports and name resolution.

pub mod baseline;
pub mod config;
pub mod deps;
pub mod discover;
pub mod git;
pub mod module;
pub mod resolve;

pub use baseline::Baseline;
pub use config::Config;
pub use module::{Module, Symbol};
pub use resolve::{Index, ModuleId, Resolved};
