use crate::support::*;
use serde_json::{json, Value};

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

fn labels(v: &Value) -> Vec<String> {
    items(v).iter().map(|i| i["label"].as_str().unwrap().to_string()).collect()
}

#[test]
fn keyword_arguments_with_types_required_first() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let flows = c.open("pkg/flows.py");
    // Type `total(` on a new line of the workflow body.
    let (line, _) = line_col(FLOWS, "    return label(", 0);
    c.edit(&flows, (line, 0), (line, 0), "    u = total(\n");
    let r = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": flows}, "position": {"line": line, "character": 14}}),
    );
    let it = items(&r);
    assert_eq!(labels(&r), vec!["orders=", "rate="]);
    assert_eq!(it[0]["detail"], json!("List[int] (LIST<INTEGER>)"));
    assert_eq!(it[1]["detail"], json!("float (FLOAT) = 1.5"));
    assert!(it[0]["sortText"].as_str() < it[1]["sortText"].as_str(), "required inputs sort first");
    assert_eq!(it[0]["textEdit"]["newText"], json!("orders="));
    // With `orders=` given, only `rate=` is left.
    c.edit(&flows, (line, 14), (line, 14), "orders=xs, ");
    let r = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": flows}, "position": {"line": line, "character": 25}}),
    );
    assert_eq!(labels(&r), vec!["rate="]);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn node_outputs_after_a_dot() {
    let tasks = format!(
        "{TASKS}\n\nimport typing\nStats = typing.NamedTuple(\"Stats\", [(\"count\", int), (\"mean\", float)])\n\n\n@task\ndef stats(xs: List[int]) -> Stats:\n    return Stats(count=len(xs), mean=0.0)\n"
    );
    let flows = FLOWS
        .replace("from pkg.tasks import label, total", "from pkg.tasks import label, stats, total")
        .replace("    t = total(orders=xs)\n", "    t = total(orders=xs)\n    s = stats(xs=xs)\n    n = s.\n");
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", &tasks), ("pkg/flows.py", &flows)]);
    let uri = c.open("pkg/flows.py");
    let p = pos(&flows, "s.\n", 2);
    let r = c.call("textDocument/completion", json!({"textDocument": {"uri": uri}, "position": p}));
    assert_eq!(labels(&r), vec!["count", "mean"]);
    assert_eq!(items(&r)[1]["detail"], json!("float (FLOAT)"));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn decorator_arguments_and_names_in_scope() {
    let tasks = TASKS.replace("@task\ndef label", "@task()\ndef label");
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", &tasks), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/tasks.py");
    let r =
        c.call("textDocument/completion", json!({"textDocument": {"uri": uri}, "position": pos(&tasks, "@task()", 6)}));
    let l = labels(&r);
    for want in ["cache=", "retries=", "timeout=", "requests=", "limits="] {
        assert!(l.contains(&want.to_string()), "{want} missing from {l:?}");
    }
    // The values of `cache=`.
    let (line, col) = line_col(&tasks, "@task()", 6);
    c.edit(&uri, (line, col), (line, col), "cache=");
    let r = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": col + 6}}),
    );
    assert!(labels(&r).contains(&"True".to_string()), "{:?}", labels(&r));
    // Task names in scope inside the workflow.
    let flows = c.open("pkg/flows.py");
    let (line, _) = line_col(FLOWS, "    return label(", 0);
    c.edit(&flows, (line, 0), (line, 0), "    v = to\n");
    let r = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": flows}, "position": {"line": line, "character": 10}}),
    );
    let l = labels(&r);
    assert_eq!(l, vec!["total"], "names matching what was typed");
    let total = items(&r).into_iter().find(|i| i["label"] == "total").unwrap();
    assert_eq!(total["detail"], json!("task (orders: List[int], rate: float) -> int"));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn a_task_added_in_another_module_completes_at_once_and_joins_workspace_symbols() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let tasks = c.open("pkg/tasks.py");
    let flows = c.open("pkg/flows.py");
    c.wait_diagnostics(&flows, |_| true);
    // A new task in tasks.py, imported and called in flows.py; completion asked with no pause.
    let end = TASKS.lines().count() as u32;
    c.edit(
        &tasks,
        (end, 0),
        (end, 0),
        "\n\n@task\ndef shipping(weight: float, express: bool = False) -> float:\n    return weight\n",
    );
    let (imp, _) = line_col(FLOWS, "from pkg.tasks import", 0);
    c.edit(&flows, (imp, 0), (imp + 1, 0), "from pkg.tasks import label, shipping, total\n");
    let (line, _) = line_col(FLOWS, "    return label(", 0);
    c.edit(&flows, (line, 0), (line, 0), "    s = shipping(\n");
    let r = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": flows}, "position": {"line": line, "character": 17}}),
    );
    assert_eq!(labels(&r), vec!["weight=", "express="]);
    // The full analysis that follows in the background knows the task project-wide.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = c.call("workspace/symbol", json!({"query": "shipping"}));
        if r.as_array().is_some_and(|a| a.iter().any(|s| s["name"] == json!("shipping"))) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "workspace/symbol never lists the new task: {r}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(c.shutdown(), 0);
}
