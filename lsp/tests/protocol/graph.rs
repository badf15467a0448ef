use crate::support::*;
use serde_json::json;

#[test]
fn graph_request_returns_the_dag_with_types_and_ranges() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let uri = c.open("pkg/flows.py");
    // By position inside the workflow.
    let g = c.call("fledge/graph", json!({"textDocument": {"uri": uri}, "position": pos(FLOWS, "label(n=", 0)}));
    assert_eq!(g["workflow"], json!("pkg.flows.report"));
    assert_eq!(g["uri"], json!(uri));
    let ids: Vec<&str> = g["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["start", "n0", "n1", "end"]);
    let n0 = &g["nodes"][1];
    assert_eq!(n0["label"], json!("total"));
    assert_eq!(n0["kind"], json!("task"));
    assert_eq!(n0["range"]["start"], pos(FLOWS, "total(orders", 0));
    assert_eq!(n0["targetUri"], json!(c.uri("pkg/tasks.py")));
    assert_eq!(n0["targetRange"]["start"], pos(TASKS, "total(orders", 0));
    let edges = g["edges"].as_array().unwrap();
    let e = edges.iter().find(|e| e["from"] == "start" && e["to"] == "n0").unwrap();
    assert_eq!(e["label"], json!("xs -> orders"));
    assert_eq!(e["flyteType"], json!("LIST<INTEGER>"));
    assert_eq!(e["pythonType"], json!("List[int]"));
    let e = edges.iter().find(|e| e["from"] == "n0" && e["to"] == "n1").unwrap();
    assert_eq!(e["label"], json!("o0 -> n"));
    assert!(edges.iter().any(|e| e["from"] == "n1" && e["to"] == "end"));
    // Kinds are spelled like `EntityKind` serializes (`map_task`, `launch_plan`).
    let mapped = FLOWS.replace("from flytekit import workflow", "from flytekit import map_task, workflow").replace(
        "    t = total(orders=xs)\n",
        "    t = total(orders=xs)\n    ls = map_task(label)(n=xs, prefix=[\"a\"])\n",
    );
    c.replace_all(&uri, &mapped);
    let g = c.call("fledge/graph", json!({"textDocument": {"uri": uri}, "workflow": "report"}));
    let kinds: Vec<&str> = g["nodes"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"map_task"), "{kinds:?}");
    c.replace_all(&uri, FLOWS);
    // By name, from another file of the project.
    let tasks = c.open("pkg/tasks.py");
    let g2 = c.call("fledge/graph", json!({"textDocument": {"uri": tasks}, "workflow": "report"}));
    assert_eq!(g2["workflow"], json!("pkg.flows.report"));
    assert_eq!(g2["uri"], json!(uri));
    // Outside any workflow: null.
    let g3 = c.call("fledge/graph", json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}));
    assert!(g3.is_null());
    assert_eq!(c.shutdown(), 0);
}
