use crate::support::*;
use lsp_server::ErrorCode;
use serde_json::{json, Value};

#[test]
fn shutdown_then_exit_returns_zero() {
    let c = Client::start(&[("pkg/__init__.py", "")]);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_returns_one() {
    let c = Client::start(&[("pkg/__init__.py", "")]);
    c.notify("exit", Value::Null);
    assert_eq!(c.join(), 1);
}

#[test]
fn a_vanished_client_ends_the_server() {
    let c = Client::start(&[("pkg/__init__.py", "")]);
    // Dropping our side of the connection closes the server's receiver.
    let (tx, _) = crossbeam_channel::unbounded();
    let mut c = c;
    c.conn.sender = tx;
    assert_eq!(c.join(), 1);
}

#[test]
fn requests_before_initialize_and_after_shutdown_are_refused() {
    let mut c = Client::connect(TempDir::new());
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///x.py"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r.error.unwrap().code, ErrorCode::ServerNotInitialized as i32);
    let r = c.request("initialize", json!({"capabilities": {}}));
    assert!(r.result.unwrap()["capabilities"]["completionProvider"].is_object());
    let r = c.request("initialize", json!({"capabilities": {}}));
    assert_eq!(r.error.unwrap().code, ErrorCode::InvalidRequest as i32);
    c.notify("initialized", json!({}));
    assert!(c.request("shutdown", Value::Null).error.is_none());
    let r = c.request("workspace/symbol", json!({"query": ""}));
    assert_eq!(r.error.unwrap().code, ErrorCode::InvalidRequest as i32);
    c.notify("exit", Value::Null);
    assert_eq!(c.join(), 0);
}

#[test]
fn capabilities_announce_every_feature() {
    let mut c = Client::connect(TempDir::new());
    let r = c.call("initialize", json!({"capabilities": {}}));
    let caps = &r["capabilities"];
    assert_eq!(caps["textDocumentSync"]["change"], json!(2), "incremental sync");
    assert_eq!(caps["positionEncoding"], json!("utf-16"));
    for k in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "documentSymbolProvider",
        "workspaceSymbolProvider",
        "renameProvider",
        "codeActionProvider",
        "inlayHintProvider",
        "codeLensProvider",
    ] {
        assert!(!caps[k].is_null(), "{k}");
    }
    assert_eq!(r["serverInfo"]["name"], json!("fledge"));
    c.notify("exit", Value::Null);
    assert_eq!(c.join(), 1);
}
