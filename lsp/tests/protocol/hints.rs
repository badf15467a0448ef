use crate::support::*;
use serde_json::json;

#[test]
fn inlay_hints_show_promise_types() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/flows.py");
    let r = c.call(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 100, "character": 0}}}),
    );
    let hints = r.as_array().unwrap();
    assert_eq!(hints.len(), 1);
    assert_eq!(hints[0]["label"], json!(": int"));
    assert_eq!(hints[0]["kind"], json!(1));
    assert_eq!(hints[0]["position"], pos(FLOWS, "t = total", 1));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn code_lenses_run_and_graph_each_workflow() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/flows.py");
    let r = c.call("textDocument/codeLens", json!({"textDocument": {"uri": uri}}));
    let lenses = r.as_array().unwrap();
    assert_eq!(lenses.len(), 2);
    assert_eq!(lenses[0]["command"]["title"], json!("▶ Run locally"));
    assert_eq!(lenses[0]["command"]["command"], json!("fledge.runWorkflow"));
    assert_eq!(lenses[0]["command"]["arguments"], json!([uri, "report"]));
    assert_eq!(lenses[1]["command"]["command"], json!("fledge.showGraph"));
    assert_eq!(lenses[1]["command"]["arguments"], json!([uri, "report"]));
    assert_eq!(lenses[0]["range"]["start"], pos(FLOWS, "report(xs", 0));
    // No lenses in a file without workflows.
    let tasks = c.open("pkg/tasks.py");
    let r = c.call("textDocument/codeLens", json!({"textDocument": {"uri": tasks}}));
    assert_eq!(r, json!([]));
    assert_eq!(c.shutdown(), 0);
}
