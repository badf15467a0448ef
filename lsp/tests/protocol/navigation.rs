use crate::support::*;
use serde_json::json;

#[test]
fn go_to_definition_across_modules() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/flows.py");
    let r = c.call("textDocument/definition", td_pos(&uri, FLOWS, "label(n=", 1));
    assert_eq!(r[0]["uri"], json!(c.uri("pkg/tasks.py")));
    assert_eq!(r[0]["range"]["start"], pos(TASKS, "label(n: int", 0));
    // A keyword argument goes to the parameter.
    let r = c.call("textDocument/definition", td_pos(&uri, FLOWS, "prefix=", 1));
    assert_eq!(r[0]["range"]["start"], pos(TASKS, "prefix: str", 0));
    // The import goes there too.
    let r = c.call("textDocument/definition", td_pos(&uri, FLOWS, "total\n", 1));
    assert_eq!(r[0]["range"]["start"], pos(TASKS, "total(orders", 0));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn references_of_a_task_are_its_call_sites() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/tasks.py");
    let r = c.call(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": pos(TASKS, "def total", 5), "context": {"includeDeclaration": false}}),
    );
    let got: Vec<(String, serde_json::Value)> = r
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["uri"].as_str().unwrap().rsplit('/').next().unwrap().to_string(), l["range"]["start"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("flows.py".to_string(), pos(FLOWS, "label, total", 7)),
            ("flows.py".to_string(), pos(FLOWS, "total(orders", 0))
        ]
    );
    let r = c.call(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": pos(TASKS, "def total", 5), "context": {"includeDeclaration": true}}),
    );
    assert_eq!(r.as_array().unwrap().len(), 3);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn document_and_workspace_symbols() {
    let flows = format!(
        "{FLOWS}\n\nfrom flytekit import LaunchPlan\nnightly = LaunchPlan.get_or_create(report, name=\"nightly\")\n"
    );
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", &flows)]);
    let uri = c.open("pkg/flows.py");
    let r = c.call("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}));
    let names: Vec<(&str, u64)> =
        r.as_array().unwrap().iter().map(|s| (s["name"].as_str().unwrap(), s["kind"].as_u64().unwrap())).collect();
    assert_eq!(names, vec![("report", 5), ("nightly", 19)]);
    assert_eq!(r[0]["detail"], json!("workflow (xs: List[int]) -> str"));
    assert_eq!(r[0]["selectionRange"]["start"], pos(&flows, "report(xs", 0));
    let r = c.call("workspace/symbol", json!({"query": "tot"}));
    let s = &r.as_array().unwrap()[0];
    assert_eq!(s["name"], json!("total"));
    assert_eq!(s["containerName"], json!("pkg.tasks"));
    assert_eq!(s["location"]["uri"], json!(c.uri("pkg/tasks.py")));
    let r = c.call("workspace/symbol", json!({"query": ""}));
    assert_eq!(r.as_array().unwrap().len(), 4);
    assert_eq!(c.shutdown(), 0);
}
