use crate::support::*;
use serde_json::json;

#[test]
fn hover_on_a_task_call_shows_its_flyte_interface() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/flows.py");
    let r = c.call("textDocument/hover", td_pos(&uri, FLOWS, "total(orders", 2));
    let md = r["contents"]["value"].as_str().unwrap();
    assert_eq!(r["contents"]["kind"], json!("markdown"));
    assert!(md.contains("**task** `pkg.tasks.total`"), "{md}");
    assert!(md.contains("- `orders`: `List[int]` · `LIST<INTEGER>` (required)"), "{md}");
    assert!(md.contains("- `rate`: `float` · `FLOAT` = `1.5`"), "{md}");
    assert!(md.contains("- `o0`: `int` · `INTEGER`"), "{md}");
    assert!(md.contains("`retries=2`"), "{md}");
    assert_eq!(r["range"]["start"], pos(FLOWS, "total(orders", 0));
    // On the definition too.
    let tasks = c.open("pkg/tasks.py");
    let r = c.call("textDocument/hover", td_pos(&tasks, TASKS, "def label", 5));
    assert!(r["contents"]["value"].as_str().unwrap().contains("`prefix`: `str` · `STRING` (required)"));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn hover_on_a_promise_shows_its_type_and_origin() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/flows.py");
    let r = c.call("textDocument/hover", td_pos(&uri, FLOWS, "n=t,", 2));
    let md = r["contents"]["value"].as_str().unwrap();
    assert!(md.contains("**promise** `t`: `int` · `INTEGER`"), "{md}");
    assert!(md.contains("output `o0` of node `n0` (`total` → task `pkg.tasks.total`)"), "{md}");
    // A workflow input used in the body.
    let r = c.call("textDocument/hover", td_pos(&uri, FLOWS, "orders=xs", 7));
    let md = r["contents"]["value"].as_str().unwrap();
    assert!(md.contains("workflow input `xs`"), "{md}");
    // Nothing on plain keywords of Python.
    let r = c.call("textDocument/hover", td_pos(&uri, FLOWS, "return", 1));
    assert!(r.is_null());
    assert_eq!(c.shutdown(), 0);
}
