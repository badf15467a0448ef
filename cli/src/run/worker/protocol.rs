//! Frames between fledge and `worker.py`: `u32 BE header length | JSON header | u32 BE body length |
//! body`. Requests go to the worker's stdin, events come from its stdout; `worker.py` moves both off
//! fds 0 and 1 before anything else runs, so what user code prints can never land in a frame.

use serde::{Deserialize, Serialize};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt};

/// What the worker writes before its first frame (output of Python's start-up before it is skipped).
pub(crate) const MARKER: &[u8] = b"\nfledge-worker-protocol-1\n";

/// Most bytes skipped while looking for `MARKER`.
const MAX_PREAMBLE: usize = 1 << 20;

/// Largest header accepted from the worker (headers are small JSON objects).
const MAX_HEADER: u32 = 16 << 20;

/// fledge → worker.
#[derive(Serialize, Debug)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Request<'a> {
    /// Fork a child that runs `module.task` on the body's LiteralMap.
    Run {
        id: u64,
        module: &'a str,
        task: &'a str,
        raw_output_dir: String,
        attempt: u32,
        /// File that receives the child's stdout and stderr.
        log: String,
    },
    /// Kill the child of that request (and its process group) if it still runs.
    Kill { id: u64 },
    /// These project modules changed on disk.
    Invalidate { modules: &'a [String] },
}

/// worker → fledge.
#[derive(Deserialize, Debug)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Event {
    /// flytekit is imported; requests are served from now on.
    Ready { python: String, flytekit: String },
    /// The worker could not start (flytekit failed to import).
    Fatal {
        message: String,
        #[serde(default)]
        traceback: Vec<Frame>,
    },
    /// A child reported its result; the body holds the LiteralMap or DynamicJobSpec.
    Done {
        id: u64,
        status: Status,
        #[serde(default)]
        kind: Option<Kind>,
        #[serde(default)]
        message: String,
        #[serde(default)]
        traceback: Vec<Frame>,
        #[serde(default)]
        recoverable: bool,
    },
    /// A child exited without reporting (crash, `os._exit`, killed).
    Died { id: u64, detail: String },
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Ok,
    Dynamic,
    Failed,
}

#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    User,
    System,
}

#[derive(Deserialize, Debug, Clone)]
pub(crate) struct Frame {
    pub file: String,
    pub line: u32,
    pub function: String,
}

/// One frame's bytes.
pub(crate) fn encode(header: &Request<'_>, body: &[u8]) -> Vec<u8> {
    // Serializing these plain structs cannot fail.
    let header = serde_json::to_vec(header).unwrap_or_default();
    let mut out = Vec::with_capacity(8 + header.len() + body.len());
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Reads one event; `Ok(None)` at a clean end of stream.
pub(crate) async fn read_event<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<(Event, Vec<u8>)>> {
    let header_len = match r.read_u32().await {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    };
    if header_len > MAX_HEADER {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("header of {header_len} bytes")));
    }
    let mut header = vec![0; header_len as usize];
    r.read_exact(&mut header).await?;
    let body_len = r.read_u32().await?;
    let mut body = vec![0; body_len as usize];
    r.read_exact(&mut body).await?;
    let event = serde_json::from_slice(&header).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(Some((event, body)))
}

/// Skips to just after `MARKER`; `Ok(false)` if the stream ended (or ran too long) without it.
pub(crate) async fn skip_to_marker<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<bool> {
    let mut window: Vec<u8> = Vec::with_capacity(MARKER.len());
    let mut seen = 0usize;
    let mut byte = [0u8; 1];
    while seen < MAX_PREAMBLE {
        if r.read(&mut byte).await? == 0 {
            return Ok(false);
        }
        seen += 1;
        window.push(byte[0]);
        if window.len() > MARKER.len() {
            window.remove(0);
        }
        if window == MARKER {
            return Ok(true);
        }
    }
    Ok(false)
}
