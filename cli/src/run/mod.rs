//! `fledge run` / `fledge watch`: local execution of a workflow, node by node, against cached results.
//!
//! The DAG comes from the core's static analysis; user code runs in the user's Python through a warm
//! worker (see `worker`) that takes and returns flyteidl `LiteralMap`s, so a local run means what a
//! remote run means. This module owns orchestration; `executor` is the contract with the worker.

#![allow(dead_code)] // Wired into the CLI by the run/watch commands.

pub mod executor;
pub mod pyenv;
pub mod worker;
