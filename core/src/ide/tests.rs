//! Tests of the editor features on small projects; `|` marks the cursor.

use super::completion::{completions, CompletionKind};
use super::hints::{code_lenses, inlay_hints};
use super::hover::hover;
use super::nav::{definition, document_symbols, prepare_rename, references, rename, workspace_symbols};
use super::*;
use crate::workspace::Workspace;

const TASKS: &str = r#"from typing import List, NamedTuple
from flytekit import task, workflow

Stats = NamedTuple("Stats", [("count", int), ("mean", float)])


@task(retries=2, cache=True, cache_version="1")
def total(orders: List[int], rate: float = 1.5) -> int:
    """Sum the orders."""
    return int(sum(orders) * rate)


@task
def stats(values: List[int]) -> Stats:
    return Stats(count=len(values), mean=0.0)


@task
def show(n: int, label: str) -> str:
    return f"{label}: {n}"
"#;

const FLOW: &str = r#"from typing import List

from flytekit import LaunchPlan, workflow

from pkg.tasks import show, stats, total as tot


@workflow
def flow(xs: List[int]) -> str:
    t = tot(orders=xs)
    s = stats(values=xs)
    return show(n=s.count, label="x")


nightly = LaunchPlan.get_or_create(flow, name="nightly", default_inputs={"xs": [1]})
"#;

struct Project {
    analysis: Analysis,
    root: PathBuf,
}

impl Project {
    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

/// Analyze files; returns the project and the cursor offset (`|` in one file, removed).
fn project(files: &[(&str, &str)]) -> (Project, Option<(PathBuf, usize)>) {
    let root = PathBuf::from("/ide-root");
    let mut ws = Workspace::new(root.clone(), Default::default());
    let mut cursor = None;
    for (rel, text) in files {
        let mut t = text.to_string();
        if let Some(p) = t.find('|').filter(|_| cursor.is_none() && text.contains("|")) {
            // Only a `|` that is not inside the fixture's Python meaning (we never use `|` there).
            t.remove(p);
            cursor = Some((root.join(rel), p));
        }
        ws.set_file(root.join(rel), t);
    }
    (Project { analysis: ws.analyze(), root }, cursor)
}

fn with_cursor(flow: &str) -> (Project, PathBuf, usize) {
    let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flow.py", flow)]);
    let (path, off) = c.expect("a cursor");
    (p, path, off)
}

fn labels(items: &[completion::CompletionItem]) -> Vec<&str> {
    items.iter().map(|i| i.label.as_str()).collect()
}

#[test]
fn completes_keyword_arguments_required_first_with_types() {
    let src = FLOW.replace("    t = tot(orders=xs)\n", "    t = tot(|\n");
    let (p, path, off) = with_cursor(&src);
    let items = completions(&p.analysis, &path, off);
    assert_eq!(labels(&items), vec!["orders=", "rate="]);
    assert_eq!(items[0].detail.as_deref(), Some("List[int] (LIST<INTEGER>)"));
    assert_eq!(items[1].detail.as_deref(), Some("float (FLOAT) = 1.5"));
    assert!(items[0].sort_text < items[1].sort_text);
    // Already given keywords are left out.
    let src = FLOW.replace("    t = tot(orders=xs)\n", "    t = tot(orders=xs, |)\n");
    let (p, path, off) = with_cursor(&src);
    assert_eq!(labels(&completions(&p.analysis, &path, off)), vec!["rate="]);
}

#[test]
fn completes_node_outputs_and_decorator_arguments() {
    let src = FLOW.replace("n=s.count", "n=s.|");
    let (p, path, off) = with_cursor(&src);
    let items = completions(&p.analysis, &path, off);
    assert_eq!(labels(&items), vec!["count", "mean"]);
    assert_eq!(items[0].kind, CompletionKind::Output);
    assert_eq!(items[0].detail.as_deref(), Some("int (INTEGER)"));

    let src = TASKS.replace("@task\ndef show", "@task(ret|)\ndef show");
    let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/tasks.py", &src)]);
    let (path, off) = c.unwrap();
    let items = completions(&p.analysis, &path, off);
    assert!(labels(&items).contains(&"retries="), "{:?}", labels(&items));
    assert!(labels(&items).contains(&"cache="));
    let src = TASKS.replace("@task\ndef show", "@task(cache=|)\ndef show");
    let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/tasks.py", &src)]);
    let (path, off) = c.unwrap();
    assert!(labels(&completions(&p.analysis, &path, off)).contains(&"True"));
}

#[test]
fn completes_the_entities_of_a_module_after_a_dot() {
    let flow = "import pkg.tasks as tk\nfrom flytekit import workflow\n\n@workflow\ndef f() -> int:\n    return tk.|\n";
    let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flow.py", flow)]);
    let (path, off) = c.unwrap();
    let items = completions(&p.analysis, &path, off);
    assert_eq!(labels(&items), vec!["show", "stats", "total"]);
    assert_eq!(items[2].detail.as_deref(), Some("task (orders: List[int], rate: float) -> int"));
}

#[test]
fn completes_entities_in_scope_and_promises_for_values() {
    let src = FLOW.replace("    s = stats(values=xs)\n", "    s = |\n");
    let (p, path, off) = with_cursor(&src);
    let items = completions(&p.analysis, &path, off);
    let l = labels(&items);
    assert!(l.contains(&"stats") && l.contains(&"tot") && l.contains(&"show"), "{l:?}");
    let src = FLOW.replace("    s = stats(values=xs)\n", "    s = st|\n");
    let (p, path, off) = with_cursor(&src);
    assert_eq!(labels(&completions(&p.analysis, &path, off)), vec!["stats"]);
    let src = FLOW.replace("n=s.count", "n=|");
    let (p, path, off) = with_cursor(&src);
    let items = completions(&p.analysis, &path, off);
    assert!(labels(&items).contains(&"t"), "{:?}", labels(&items));
    assert!(!labels(&items).contains(&"xs"), "a list does not bind to an int");
}

#[test]
fn hover_shows_the_interface_and_promises() {
    let src = FLOW.replace("t = tot(orders", "t = t|ot(orders");
    let (p, path, off) = with_cursor(&src);
    let h = hover(&p.analysis, &path, off).unwrap();
    assert!(h.markdown.contains("**task** `pkg.tasks.total`"), "{}", h.markdown);
    assert!(h.markdown.contains("`orders`: `List[int]` · `LIST<INTEGER>` (required)"), "{}", h.markdown);
    assert!(h.markdown.contains("`rate`: `float` · `FLOAT` = `1.5`"), "{}", h.markdown);
    assert!(h.markdown.contains("`retries=2`") && h.markdown.contains("`cache=True`"), "{}", h.markdown);
    assert!(h.markdown.contains("Sum the orders."));

    let src = FLOW.replace("return show(n=s.count", "return show(n=s|.count");
    let (p, path, off) = with_cursor(&src);
    let h = hover(&p.analysis, &path, off).unwrap();
    assert!(h.markdown.contains("**outputs** of node `n1`"), "{}", h.markdown);
    assert!(h.markdown.contains("`s.mean`: `float`"), "{}", h.markdown);

    let src = FLOW.replace("    t = tot(orders=xs)", "    t| = tot(orders=xs)");
    let (p, path, off) = with_cursor(&src);
    let h = hover(&p.analysis, &path, off).unwrap();
    assert!(h.markdown.contains("**promise** `t`: `int` · `INTEGER`"), "{}", h.markdown);
    assert!(h.markdown.contains("output `o0` of node `n0`"), "{}", h.markdown);
}

#[test]
fn definition_references_and_symbols() {
    let src = FLOW.replace("t = tot(orders", "t = t|ot(orders");
    let (p, path, off) = with_cursor(&src);
    let d = definition(&p.analysis, &path, off);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].path, p.path("pkg/tasks.py"));
    assert_eq!(&TASKS[d[0].range.start..d[0].range.end], "total");

    let src = TASKS.replace("def total(", "def to|tal(");
    let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/tasks.py", &src), ("pkg/flow.py", FLOW)]);
    let (path, off) = c.unwrap();
    let refs = references(&p.analysis, &path, off, false);
    let in_flow: Vec<&str> =
        refs.iter().filter(|l| l.path == p.path("pkg/flow.py")).map(|l| &FLOW[l.range.start..l.range.end]).collect();
    assert_eq!(in_flow, vec!["total", "tot"], "{refs:?}");

    let syms = document_symbols(&p.analysis, &p.path("pkg/flow.py"));
    let names: Vec<(&str, EntityKind)> = syms.iter().map(|s| (s.name.as_str(), s.kind)).collect();
    assert_eq!(names, vec![("flow", EntityKind::Workflow), ("nightly", EntityKind::LaunchPlan)]);
    let ws = workspace_symbols(&p.analysis, "sta", 50);
    assert_eq!(ws.first().map(|s| s.name.as_str()), Some("stats"));
}

#[test]
fn renames_an_input_with_its_call_sites() {
    let src = TASKS.replace("def total(orders:", "def total(ord|ers:");
    let flow = FLOW.to_string();
    let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/tasks.py", &src), ("pkg/flow.py", &flow)]);
    let (path, off) = c.unwrap();
    let (r, name) = prepare_rename(&p.analysis, &path, off).unwrap();
    assert_eq!(name, "orders");
    assert_eq!(r.len(), 6);
    let edits = rename(&p.analysis, &path, off, "amounts").unwrap();
    let mut files: Vec<(String, String)> =
        vec![(src.replace("ord|ers", "orders"), "pkg/tasks.py".into()), (flow.clone(), "pkg/flow.py".into())];
    for (text, rel) in &mut files {
        let mut es: Vec<_> = edits.iter().filter(|e| e.path == p.path(rel)).collect();
        es.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        for e in es {
            text.replace_range(e.range.start..e.range.end, &e.new_text);
        }
    }
    assert!(files[0].0.contains("def total(amounts: List[int]"));
    assert!(files[0].0.contains("sum(amounts)"));
    assert!(files[1].0.contains("tot(amounts=xs)"));
    assert!(rename(&p.analysis, &path, off, "rate").is_err());
    assert!(rename(&p.analysis, &path, off, "not valid").is_err());
}

#[test]
fn inlay_hints_code_lenses_and_graph() {
    let (p, _) = project(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flow.py", FLOW)]);
    let path = p.path("pkg/flow.py");
    let hints = inlay_hints(&p.analysis, &path, TextRange::new(0, FLOW.len()));
    let labels: Vec<&str> = hints.iter().map(|h| h.label.as_str()).collect();
    assert_eq!(labels, vec![": int", ": Stats"]);
    assert_eq!(&FLOW[..hints[0].offset], &FLOW[..FLOW.find("t = tot").unwrap() + 1]);
    let lenses = code_lenses(&p.analysis, &path);
    assert_eq!(lenses.len(), 2);
    assert_eq!(lenses[0].command, "fledge.runWorkflow");
    assert_eq!(lenses[1].workflow, "flow");
    let g = graph_at(&p.analysis, &path, Some(FLOW.find("show(n=").unwrap()), None).unwrap();
    assert_eq!(g.workflow, "pkg.flow.flow");
    assert!(g.nodes.iter().any(|n| n.label == "tot"));
    let g2 = graph_at(&p.analysis, &path, None, Some("pkg.flow.flow")).unwrap();
    assert_eq!(g2.nodes.len(), g.nodes.len());
    assert!(graph_at(&p.analysis, &path, Some(0), None).is_none());
}

#[test]
fn ignore_fixes() {
    let text = "x = 1\ny = t(a=1)\nz = 2  # fledge: ignore[other]\n";
    let p = Path::new("/f.py");
    let f = ignore_fix(text, p, text.find("t(").unwrap(), "unknown-input").unwrap();
    assert_eq!(f.edits[0].new_text, "  # fledge: ignore[unknown-input]");
    assert_eq!(f.edits[0].range.start, text.find("\nz").unwrap());
    let f = ignore_fix(text, p, text.find("2").unwrap(), "type-mismatch").unwrap();
    assert_eq!(f.edits[0].new_text, ", type-mismatch");
    assert!(ignore_fix(text, p, text.find("2").unwrap(), "other").is_none());
}

#[test]
fn broken_code_and_odd_offsets_never_panic() {
    let (p, _) = project(&[
        ("pkg/__init__.py", ""),
        ("pkg/tasks.py", TASKS),
        ("pkg/flow.py", "@workflow\ndef f(:\n  x = t(\n\"é😀\n"),
    ]);
    let path = p.path("pkg/flow.py");
    for off in [0, 1, 5, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 1000, usize::MAX] {
        let _ = completions(&p.analysis, &path, off);
        let _ = hover(&p.analysis, &path, off);
        let _ = definition(&p.analysis, &path, off);
        let _ = references(&p.analysis, &path, off, true);
        let _ = prepare_rename(&p.analysis, &path, off);
        let _ = graph_at(&p.analysis, &path, Some(off), None);
    }
    let _ = inlay_hints(&p.analysis, &path, TextRange::new(0, usize::MAX));
}

/// `text` with the completion item's edits applied (main edit and additional ones).
fn apply_item(text: &str, item: &completion::CompletionItem) -> String {
    let mut edits: Vec<(TextRange, String)> = item.additional_edits.clone();
    edits.push((item.replace, item.insert_text.clone()));
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_string();
    for (r, t) in edits {
        out.replace_range(r.start..r.end, &t);
    }
    out
}

#[test]
fn completes_flytekit_imports() {
    let names = |src: &str| {
        let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/m.py", src)]);
        let (path, off) = c.unwrap();
        completions(&p.analysis, &path, off).into_iter().map(|i| i.label).collect::<Vec<_>>()
    };
    // The names of `flytekit`, the decorators first, without those already imported.
    let got = names("from flytekit import task, |\n");
    assert_eq!(&got[..3], ["workflow", "dynamic", "eager"]);
    assert!(got.contains(&"Resources".to_string()) && got.contains(&"LaunchPlan".to_string()));
    assert!(!got.contains(&"task".to_string()));
    // Inside parentheses over several lines, and with a prefix typed.
    let got = names("from flytekit import (\n    task,\n    Res|\n)\n");
    assert!(got.contains(&"Resources".to_string()), "{got:?}");
    // Submodules.
    assert_eq!(names("from flytekit.types.file import |\n")[0], "FlyteFile");
    let got = names("from flytekit.ty|\n");
    assert!(got.contains(&"flytekit.types.file".to_string()), "{got:?}");
    let got = names("import flytekit.extras.|\n");
    assert!(got.contains(&"flytekit.extras.accelerators".to_string()), "{got:?}");
    // Other modules' imports are not ours to complete.
    assert!(names("from pandas import |\n").is_empty());
}

#[test]
fn a_decorator_completes_with_its_import() {
    let src = "from typing import List\nfrom flytekit import workflow\n\n\n@ta|\ndef f(x: int) -> int:\n    return x\n";
    let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/m.py", src)]);
    let (path, off) = c.unwrap();
    let items = completions(&p.analysis, &path, off);
    let task = items.iter().find(|i| i.label == "task").expect("task is offered");
    let text = src.replace('|', "");
    assert_eq!(
        apply_item(&text, task),
        "from typing import List\nfrom flytekit import workflow, task\n\n\n@task\ndef f(x: int) -> int:\n    return x\n"
    );
    // `workflow` is imported already: offered as a name in scope, with no import edit.
    assert!(items.iter().all(|i| i.label != "workflow" || i.additional_edits.is_empty()));
    // No flytekit import yet: a new line after the last import.
    let src = "import os\n\n@wor|\ndef g() -> None:\n    pass\n";
    let (p, c) = project(&[("pkg/__init__.py", ""), ("pkg/n.py", src)]);
    let (path, off) = c.unwrap();
    let items = completions(&p.analysis, &path, off);
    let wf = items.iter().find(|i| i.label == "workflow").expect("workflow is offered");
    assert_eq!(
        apply_item(&src.replace('|', ""), wf),
        "import os\nfrom flytekit import workflow\n\n@workflow\ndef g() -> None:\n    pass\n"
    );
}
