//! fledge-core: reads a flytekit project without running it and reports what
//! Flyte would reject. Plain data in (file texts), plain data out (models and
//! diagnostics); no I/O to terminals, no async, no editor types.

pub mod diagnostic;
pub mod fix;
pub mod flyte;
pub mod ide;
pub mod line_index;
pub mod project;
pub mod rules;
pub mod syntax;
pub mod types;
pub mod workspace;

pub use diagnostic::{Diagnostic, Severity, TextRange};
pub use workspace::{Analysis, PartialAnalysis, Workspace};
