use crate::support::*;
use serde_json::json;

/// Apply a WorkspaceEdit's changes for one file to its text.
fn apply(text: &str, edits: &serde_json::Value) -> String {
    let mut edits: Vec<&serde_json::Value> = edits.as_array().unwrap().iter().collect();
    edits.sort_by_key(|e| {
        std::cmp::Reverse((e["range"]["start"]["line"].as_u64(), e["range"]["start"]["character"].as_u64()))
    });
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    for e in edits {
        let (l1, c1) = (
            e["range"]["start"]["line"].as_u64().unwrap() as usize,
            e["range"]["start"]["character"].as_u64().unwrap() as usize,
        );
        let (l2, c2) = (
            e["range"]["end"]["line"].as_u64().unwrap() as usize,
            e["range"]["end"]["character"].as_u64().unwrap() as usize,
        );
        assert_eq!(l1, l2, "single-line edits only");
        let line = &mut lines[l1];
        line.replace_range(c1..c2, e["newText"].as_str().unwrap());
    }
    lines.join("\n")
}

#[test]
fn renaming_a_task_input_updates_keyword_call_sites() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let tasks = c.open("pkg/tasks.py");
    let r = c.call("textDocument/prepareRename", td_pos(&tasks, TASKS, "orders: List", 2));
    assert_eq!(r["placeholder"], json!("orders"));
    let mut p = td_pos(&tasks, TASKS, "orders: List", 2);
    p["newName"] = json!("amounts");
    let r = c.call("textDocument/rename", p);
    let changes = &r["changes"];
    let new_tasks = apply(TASKS, &changes[tasks.as_str()]);
    let new_flows = apply(FLOWS, &changes[c.uri("pkg/flows.py").as_str()]);
    assert!(new_tasks.contains("def total(amounts: List[int], rate: float = 1.5)"), "{new_tasks}");
    assert!(new_tasks.contains("sum(amounts)"), "{new_tasks}");
    assert!(new_flows.contains("t = total(amounts=xs)"), "{new_flows}");
    // From a call site, and an invalid name.
    let flows = c.open("pkg/flows.py");
    let mut p = td_pos(&flows, FLOWS, "prefix=", 1);
    p["newName"] = json!("head");
    let r = c.call("textDocument/rename", p.clone());
    assert!(apply(TASKS, &r["changes"][tasks.as_str()]).contains("def label(n: int, head: str)"));
    p["newName"] = json!("not a name");
    assert!(c.request("textDocument/rename", p).error.is_some());
    // Not an input: refused with a message.
    let r = c.request("textDocument/prepareRename", td_pos(&flows, FLOWS, "return", 1));
    assert!(r.error.unwrap().message.contains("inputs"));
    assert_eq!(c.shutdown(), 0);
}
