//! JSON-RPC framing over a byte stream (stdio), tolerant of bad input.
//!
//! `lsp_server::Connection::stdio()` ends the connection on the first malformed payload; a
//! language server must not die because of one bad message. This transport answers a payload
//! that is not JSON with a `ParseError` (id `null`), a JSON value that is not a message with an
//! `InvalidRequest`, and keeps reading. It hands well-formed messages to the same
//! `lsp_server::Connection` the rest of the server uses.

use crossbeam_channel::{unbounded, Receiver, Sender};
use lsp_server::{Connection, Message};
use serde_json::{json, Value};
use std::io::{self, BufRead, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Payloads larger than this are read and dropped (a 10 MB file is fine; 1 GB is not).
const MAX_PAYLOAD: usize = 256 << 20;

pub struct Transport {
    pub writer: JoinHandle<()>,
    /// Not joined: it may be blocked reading stdin after `exit`.
    pub reader: JoinHandle<()>,
}

/// Start reader and writer threads over `input`/`output`.
pub fn spawn<R, W>(input: R, output: W) -> (Connection, Transport)
where
    R: BufRead + Send + 'static,
    W: Write + Send + 'static,
{
    let out = Arc::new(Mutex::new(output));
    let (to_client, from_server): (Sender<Message>, Receiver<Message>) = unbounded();
    let (to_server, from_client): (Sender<Message>, Receiver<Message>) = unbounded();
    let w = out.clone();
    let writer = std::thread::Builder::new()
        .name("fledge-lsp-writer".into())
        .spawn(move || {
            for msg in from_server {
                let mut g = match w.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                if msg.write(&mut *g).is_err() {
                    break;
                }
            }
        })
        .expect("spawn the writer thread");
    let reader = std::thread::Builder::new()
        .name("fledge-lsp-reader".into())
        .spawn(move || {
            let mut input = input;
            loop {
                let frame = match read_frame(&mut input) {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("fledge-lsp: reading from the client failed: {e}");
                        break;
                    }
                };
                let payload = match frame {
                    Frame::Payload(p) => p,
                    Frame::BadHeader(why) => {
                        write_raw(&out, &error_response(Value::Null, -32700, &format!("bad message header: {why}")));
                        continue;
                    }
                };
                let value: Value = match serde_json::from_slice(&payload) {
                    Ok(v) => v,
                    Err(e) => {
                        write_raw(&out, &error_response(Value::Null, -32700, &format!("parse error: {e}")));
                        continue;
                    }
                };
                match serde_json::from_value::<Message>(value.clone()) {
                    Ok(msg) if is_plausible(&value) => {
                        let is_exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                        if to_server.send(msg).is_err() || is_exit {
                            break;
                        }
                    }
                    _ => {
                        // Answer requests we cannot read; drop anything else.
                        let id = value
                            .get("id")
                            .cloned()
                            .filter(|id| id.is_number() || id.is_string())
                            .unwrap_or(Value::Null);
                        if value.get("method").is_some() && value.get("id").is_none() {
                            eprintln!("fledge-lsp: dropped a malformed notification");
                        } else {
                            write_raw(&out, &error_response(id, -32600, "invalid request: not a JSON-RPC message"));
                        }
                    }
                }
            }
        })
        .expect("spawn the reader thread");
    (Connection { sender: to_client, receiver: from_client }, Transport { writer, reader })
}

/// A JSON-RPC message has a `method` (request/notification) or an `id` with `result`/`error`.
fn is_plausible(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    match o.get("method") {
        Some(m) => m.is_string(),
        None => o.contains_key("id") && (o.contains_key("result") || o.contains_key("error")),
    }
}

fn error_response(id: Value, code: i32, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn write_raw<W: Write>(out: &Arc<Mutex<W>>, v: &Value) {
    let body = v.to_string();
    let mut g = match out.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let _ = write!(g, "Content-Length: {}\r\n\r\n{}", body.len(), body);
    let _ = g.flush();
}

enum Frame {
    Payload(Vec<u8>),
    BadHeader(String),
}

/// Read one `Content-Length`-framed payload; `None` at the end of the input.
fn read_frame(r: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut len: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        let n = io::Read::take(&mut *r, 64 * 1024).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        let s = String::from_utf8_lossy(&line);
        let s = s.trim_end_matches(['\r', '\n']);
        if s.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((k, v)) = s.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                len = Some(v.trim().parse::<usize>().map_err(|_| format!("invalid Content-Length `{}`", v.trim())));
            }
        }
    }
    let len = match len {
        None => return Ok(Some(Frame::BadHeader("no Content-Length".into()))),
        Some(Err(e)) => return Ok(Some(Frame::BadHeader(e))),
        Some(Ok(n)) => n,
    };
    if len > MAX_PAYLOAD {
        io::copy(&mut io::Read::take(&mut *r, len as u64), &mut io::sink())?;
        return Ok(Some(Frame::BadHeader(format!("payload of {len} bytes is too large"))));
    }
    let mut buf = vec![0; len];
    r.read_exact(&mut buf)?;
    Ok(Some(Frame::Payload(buf)))
}
