//! Protocol tests: the server in-process on `Connection::memory()`, one module per feature.

mod support;

mod code_actions;
mod completion;
mod diagnostics;
mod graph;
mod hints;
mod hover;
mod lifecycle;
mod navigation;
mod rename;
mod robustness;
mod stale_cache;
