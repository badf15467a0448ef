//! The project model: files, modules, imports and name resolution.

pub mod config;
pub mod deps;
pub mod discover;
pub mod module;
pub mod resolve;

pub use config::Config;
pub use module::{Module, Symbol};
pub use resolve::{Index, ModuleId, Resolved};
