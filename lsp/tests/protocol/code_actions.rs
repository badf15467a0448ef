use crate::support::*;
use serde_json::{json, Value};

fn actions_for(c: &mut Client, uri: &lsp_types::Url, d: &lsp_types::Diagnostic) -> Vec<Value> {
    let r = c.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d.range, "context": {"diagnostics": [d]}}),
    );
    r.as_array().unwrap().clone()
}

#[test]
fn quick_fixes_from_diagnostics_and_ignore_comments() {
    let bad = FLOWS.replace("label(n=t, prefix=", "label(n=t, prefx=");
    let tasks = TASKS.replace("@task\ndef label", "@task(cache=True)\ndef label");
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", &tasks), ("pkg/flows.py", &bad)]);
    let flows = c.open("pkg/flows.py");
    let p = c.wait_diagnostics(&flows, |p| !p.diagnostics.is_empty());
    let first = p.diagnostics[0].clone();
    let acts = actions_for(&mut c, &flows, &first);
    let titles: Vec<&str> = acts.iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        vec!["Rename to `prefix`", "Ignore `unknown-input` on this line (# fledge: ignore[unknown-input])"]
    );
    assert_eq!(acts[0]["kind"], json!("quickfix"));
    assert_eq!(acts[0]["isPreferred"], json!(true));
    let edit = &acts[0]["edit"]["changes"][flows.as_str()][0];
    assert_eq!(edit["newText"], json!("prefix"));
    assert_eq!(edit["range"]["start"], pos(&bad, "prefx=", 0));
    let ignore = &acts[1]["edit"]["changes"][flows.as_str()][0];
    assert_eq!(ignore["newText"], json!("  # fledge: ignore[unknown-input]"));

    // invalid-cache: add cache_version.
    let tasks_uri = c.open("pkg/tasks.py");
    let p = c.wait_diagnostics(&tasks_uri, |p| !p.diagnostics.is_empty());
    assert_eq!(codes(&p), vec!["invalid-cache"]);
    let acts = actions_for(&mut c, &tasks_uri, &p.diagnostics[0]);
    let edit = &acts[0]["edit"]["changes"][tasks_uri.as_str()][0];
    assert_eq!(edit["newText"], json!(", cache_version=\"1.0\""));
    // Applying the ignore fix removes the diagnostic.
    let fix = acts.last().unwrap()["edit"]["changes"][tasks_uri.as_str()][0].clone();
    let (l, ch) = (
        fix["range"]["start"]["line"].as_u64().unwrap() as u32,
        fix["range"]["start"]["character"].as_u64().unwrap() as u32,
    );
    c.edit(&tasks_uri, (l, ch), (l, ch), fix["newText"].as_str().unwrap());
    c.wait_diagnostics(&tasks_uri, |p| p.diagnostics.is_empty());

    // A diagnostic without `data` (some clients drop it) still gets its fixes from the analysis.
    let mut d = serde_json::to_value(&first).unwrap();
    d.as_object_mut().unwrap().remove("data");
    let r = c.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": flows}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    assert_eq!(r[0]["title"], json!("Rename to `prefix`"));
    // Only other kinds asked for: nothing.
    let r = c.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": flows}, "range": d["range"], "context": {"diagnostics": [d], "only": ["refactor"]}}),
    );
    assert_eq!(r, json!([]));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn missing_inputs_quick_fix_binds_them() {
    // `label` is called without `prefix`; the workflow has no input of that name: `prefix=...`.
    let bad = FLOWS.replace("label(n=t, prefix=\"total: \")", "label(n=t)");
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", &bad)]);
    let flows = c.open("pkg/flows.py");
    let p = c.wait_diagnostics(&flows, |p| !p.diagnostics.is_empty());
    assert_eq!(codes(&p), vec!["missing-input"]);
    let acts = actions_for(&mut c, &flows, &p.diagnostics[0]);
    assert_eq!(acts[0]["title"], json!("Add prefix=..."));
    let edit = acts[0]["edit"]["changes"][flows.as_str()][0].clone();
    assert_eq!(edit["newText"], json!(", prefix=..."));
    assert_eq!(edit["range"]["start"], pos(&bad, "label(n=t)", 9));
    assert_eq!(c.shutdown(), 0);
}
