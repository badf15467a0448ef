use crate::support::*;
use lsp_server::ErrorCode;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex};

#[test]
fn unknown_methods_and_bad_params_keep_the_server_alive() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let r = c.request("textDocument/frobnicate", json!({}));
    assert_eq!(r.error.unwrap().code, ErrorCode::MethodNotFound as i32);
    c.notify("custom/whatever", json!({"x": 1}));
    c.notify("textDocument/didOpen", json!({"garbage": true}));
    c.notify("textDocument/didChange", json!(42));
    let r = c.request("textDocument/hover", json!("not an object"));
    assert_eq!(r.error.unwrap().code, ErrorCode::InvalidParams as i32);
    let r = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": "file:///nowhere/x.py"}, "position": {"line": 0, "character": 0}}),
    );
    assert!(r.error.is_none());
    // Still serving.
    let uri = c.open("pkg/flows.py");
    let r = c.call("textDocument/hover", td_pos(&uri, FLOWS, "total(orders", 1));
    assert!(r["contents"]["value"].as_str().unwrap().contains("total"));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn out_of_range_positions_and_edits_never_panic() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/flows.py");
    for (line, ch) in [(0u32, 999u32), (999, 0), (u32::MAX, u32::MAX), (3, 2)] {
        let p = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}});
        for m in ["textDocument/hover", "textDocument/completion", "textDocument/definition", "textDocument/inlayHint"]
        {
            let mut params = p.clone();
            if m == "textDocument/inlayHint" {
                params = json!({"textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 0}, "end": {"line": u32::MAX, "character": ch}}});
            }
            let r = c.request(m, params);
            assert!(r.error.is_none(), "{m} at {line}:{ch}: {:?}", r.error);
        }
    }
    // Edits far past the end, inside a surrogate pair, and reversed ranges.
    c.edit(&uri, (500, 0), (900, 3), "\n# tail 😀\n");
    let v = c.edit(&uri, (2, 7), (1, 0), "é");
    let p = c.wait_diagnostics(&uri, |p| p.version == Some(v));
    let _ = p;
    let r = c.call("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}));
    assert!(r.is_array());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn syntax_errors_and_a_huge_file() {
    let broken = "from flytekit import task, workflow\n\n@task\ndef t(a: int -> int:\n    return a\n\n@workflow\ndef wf(x: int) -> int:\n    return t(a=\n";
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/broken.py", broken)]);
    let uri = c.open("pkg/broken.py");
    let p = c.wait_diagnostics(&uri, |p| !p.diagnostics.is_empty());
    assert!(codes(&p).contains(&"syntax-error".to_string()), "{:?}", codes(&p));
    let r = c.request("textDocument/completion", td_pos(&uri, broken, "t(a=\n", 2));
    assert!(r.error.is_none());
    // A big file (1 MB, ~14k tasks) is analyzed without taking the server down; the 10 MB case
    // runs in the nvim end-to-end test (tests/e2e/nvim), on the release binary.
    let size = 1 << 20;
    let mut big = String::with_capacity(size);
    big.push_str("from flytekit import task\n\n");
    let mut i = 0;
    while big.len() < size {
        big.push_str(&format!("@task\ndef t{i}(a: int, b: str = \"x\") -> int:\n    return a + len(b)  # é😀\n\n\n"));
        i += 1;
    }
    let big_uri = c.uri("pkg/big.py");
    c.open_text(&big_uri, &big);
    let r = c
        .call("textDocument/hover", json!({"textDocument": {"uri": big_uri}, "position": {"line": 3, "character": 5}}));
    assert!(r.is_null() || r["contents"]["value"].as_str().unwrap().contains("t0"));
    let v = c.edit(&big_uri, (1, 0), (1, 0), "x = 1\n");
    c.wait_diagnostics(&big_uri, |p| p.version == Some(v));
    let r = c.call("workspace/symbol", json!({"query": "t12345"}));
    assert!(r.is_array());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn cancelled_requests_are_answered() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/flows.py");
    let ids: Vec<_> = (0..30)
        .map(|_| c.send_request("textDocument/references", json!({"textDocument": {"uri": uri}, "position": pos(FLOWS, "total(orders", 1), "context": {"includeDeclaration": true}})))
        .collect();
    for id in &ids[10..] {
        c.notify("$/cancelRequest", json!({"id": id}));
    }
    let mut cancelled = 0;
    for id in &ids {
        let r = c.response(id);
        match r.error {
            Some(e) => {
                assert_eq!(e.code, ErrorCode::RequestCanceled as i32);
                cancelled += 1;
            }
            None => assert!(r.result.unwrap().is_array()),
        }
    }
    assert!(cancelled <= 20);
    assert_eq!(c.shutdown(), 0);
}

/// A `Write` that appends to a shared buffer.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn frame(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{}", body.len(), body)
}

fn frames(out: &[u8]) -> Vec<Value> {
    let s = String::from_utf8_lossy(out);
    let mut v = Vec::new();
    let mut rest: &str = &s;
    while let Some(i) = rest.find("Content-Length: ") {
        let after = &rest[i + 16..];
        let n: usize = after[..after.find('\r').unwrap()].parse().unwrap();
        let body_start = after.find("\r\n\r\n").unwrap() + 4;
        v.push(serde_json::from_str(&after[body_start..body_start + n]).unwrap());
        rest = &after[body_start + n..];
    }
    v
}

#[test]
fn malformed_json_rpc_over_a_byte_stream_is_answered_and_survived() {
    let dir = TempDir::new();
    let root = lsp_types::Url::from_file_path(&dir.0).unwrap();
    let mut input = String::new();
    input += &frame(
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"rootUri": root, "capabilities": {}}})
            .to_string(),
    );
    input += &frame("{this is not json");
    input += &frame("[1, 2, 3]");
    input += &frame(r#"{"jsonrpc":"2.0","id":5,"method":7}"#);
    input += "X-Nonsense: 1\r\n\r\n";
    input += &frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
    input += &frame(r#"{"jsonrpc":"2.0","id":2,"method":"no/such/method","params":{}}"#);
    input +=
        &frame(&json!({"jsonrpc": "2.0", "id": 3, "method": "workspace/symbol", "params": {"query": ""}}).to_string());
    input += &frame(r#"{"jsonrpc":"2.0","id":4,"method":"shutdown"}"#);
    input += &frame(r#"{"jsonrpc":"2.0","method":"exit"}"#);
    let out = Sink::default();
    let code = fledge_lsp::serve(std::io::Cursor::new(input.into_bytes()), out.clone());
    assert_eq!(code, 0);
    let msgs = frames(&out.0.lock().unwrap());
    let by_id =
        |id: Value| msgs.iter().filter(|m| m["id"] == id && m.get("method").is_none()).cloned().collect::<Vec<_>>();
    assert!(by_id(json!(1))[0]["result"]["capabilities"].is_object());
    let nulls = by_id(Value::Null);
    let null_codes: Vec<i64> = nulls.iter().map(|m| m["error"]["code"].as_i64().unwrap()).collect();
    assert_eq!(null_codes, vec![-32700, -32600, -32700], "{nulls:?}");
    assert_eq!(by_id(json!(5))[0]["error"]["code"], json!(-32600));
    assert_eq!(by_id(json!(2))[0]["error"]["code"], json!(-32601));
    assert_eq!(by_id(json!(3))[0]["result"], json!([]));
    assert_eq!(by_id(json!(4))[0]["result"], Value::Null);
}

/// Random frames (garbage bytes, truncated JSON, wrong types, real methods with junk params)
/// never panic the server or stop it from answering a final request.
#[test]
fn random_messages_never_take_the_server_down() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let methods = [
        "textDocument/didOpen",
        "textDocument/didChange",
        "textDocument/didClose",
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
        "textDocument/rename",
        "textDocument/codeAction",
        "fledge/graph",
        "workspace/didChangeWatchedFiles",
        "workspace/didChangeConfiguration",
        "$/cancelRequest",
        "initialized",
        "shutdown?",
        "",
    ];
    let junk = [
        json!(null),
        json!(1),
        json!("x"),
        json!([]),
        json!({}),
        json!({"textDocument": {"uri": "file:///tmp/none.py", "text": "def (", "version": 1, "languageId": "python"}}),
        json!({"textDocument": {"uri": "file:///tmp/none.py"}, "position": {"line": -1, "character": 3}}),
        json!({"textDocument": {"uri": "file:///tmp/none.py", "version": 2}, "contentChanges": [{"range": {"start": {"line": 99, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "😀"}]}),
        json!({"settings": {"fledge": {"select": 3, "severity": []}}}),
        json!({"changes": [{"uri": "not a uri", "type": 9}]}),
        json!({"id": {"nested": true}}),
    ];
    let mut input: Vec<u8> =
        frame(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}}).to_string())
            .into_bytes();
    let push = |input: &mut Vec<u8>, body: &[u8]| {
        input.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        input.extend_from_slice(body);
    };
    for i in 0..400 {
        let r = next();
        let method = methods[(r >> 8) as usize % methods.len()];
        let params = &junk[(r >> 16) as usize % junk.len()];
        let body: Vec<u8> = match r % 5 {
            // Random bytes, not even UTF-8.
            0 => (0..(r >> 8) % 64).map(|k| (next() >> (k % 8)) as u8).collect(),
            // A request cut anywhere (possibly inside a multi-byte character).
            1 => {
                let full = json!({"jsonrpc": "2.0", "id": i + 100, "method": method, "params": params})
                    .to_string()
                    .into_bytes();
                full[..(r >> 24) as usize % full.len()].to_vec()
            }
            2 => json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string().into_bytes(),
            3 => json!({"jsonrpc": "2.0", "id": i + 100, "method": method, "params": params}).to_string().into_bytes(),
            _ => json!({"jsonrpc": "2.0", "id": params, "result": params}).to_string().into_bytes(),
        };
        push(&mut input, &body);
    }
    for last in [
        r#"{"jsonrpc":"2.0","id":"last","method":"workspace/symbol","params":{"query":""}}"#,
        r#"{"jsonrpc":"2.0","id":"bye","method":"shutdown"}"#,
        r#"{"jsonrpc":"2.0","method":"exit"}"#,
    ] {
        push(&mut input, last.as_bytes());
    }
    let out = Sink::default();
    let code = fledge_lsp::serve(std::io::Cursor::new(input), out.clone());
    let msgs = frames(&out.0.lock().unwrap());
    let last: Vec<&Value> = msgs.iter().filter(|m| m["id"] == json!("last") || m["id"] == json!("bye")).collect();
    assert!(
        msgs.iter().any(|m| m["id"] == json!("last") && m["result"].is_array()),
        "the last request was answered: {last:?} (exit code {code}, {} messages)",
        msgs.len()
    );
    assert!(msgs.iter().any(|m| m["id"] == json!("bye")));
    assert_eq!(code, 0);
}
