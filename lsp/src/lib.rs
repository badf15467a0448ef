//! The fledge language server (`fledge lsp`): Flyte diagnostics, completion, hover,
//! navigation, rename, code actions, inlay hints, code lenses and the `fledge/graph` request,
//! over stdio.
//!
//! Architecture (the rust-analyzer/ruff model, on `lsp-server` + `lsp-types`):
//! - [`transport`]: framing over stdio that survives malformed input;
//! - [`server`]: one ordered main loop owning the projects' `fledge_core::Workspace`s; it applies
//!   document and workspace notifications, re-analyzes what an edit affects at once (the full
//!   analysis follows on a background thread) and publishes diagnostics for every file of the
//!   project;
//! - [`pool`]: read-only requests on an immutable [`snapshot::Snapshot`] in worker threads,
//!   honouring `$/cancelRequest`;
//! - [`handlers`]: LSP <-> `fledge_core::ide` conversions.

pub mod conv;
pub mod handlers;
pub mod pool;
pub mod server;
pub mod settings;
pub mod snapshot;
pub mod transport;

use lsp_server::Connection;
use std::io::{BufRead, Write};
use std::process::ExitCode;

/// Serve on an in-process connection (tests use `Connection::memory()`); returns the exit code:
/// 0 after `shutdown` + `exit`, 1 for `exit` without `shutdown` or a vanished client.
pub fn run_server(conn: Connection) -> i32 {
    server::run(conn)
}

/// Serve LSP over a byte stream pair; returns the exit code.
pub fn serve<R, W>(input: R, output: W) -> i32
where
    R: BufRead + Send + 'static,
    W: Write + Send + 'static,
{
    let (conn, io) = transport::spawn(input, output);
    let code = server::run(conn);
    // The connection (and every clone of its sender) is gone once `run` returns: the writer
    // drains what is queued and stops. The reader may be blocked on input; it is not joined.
    let _ = io.writer.join();
    drop(io.reader);
    code
}

/// `fledge lsp --stdio`.
pub fn run_stdio() -> ExitCode {
    let stdin = std::io::stdin();
    let code = serve(std::io::BufReader::new(stdin), std::io::stdout());
    ExitCode::from(code as u8)
}
