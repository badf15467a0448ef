//! `fledge run` end to end with real flytekit: the example project's outputs against `pyflyte run`,
//! what re-runs after an edit or an input change (from the jsonl events), and the fixture project in
//! `fixtures/run/edge` for a crashing task, a timeout, a retry, a killed worker, a corrupted cache
//! entry and `@dynamic` bodies (their outputs against `pyflyte run` too). Python comes from
//! `FLEDGE_TEST_PYTHON`, else the venv `scripts/setup-python.sh` creates;
//! without either the tests fail (they never pass silently).

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::python;

use common::copy_dir;

/// A private copy of a project, with `[tool.fledge] python` set to the test Python.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(rel: &str) -> Project {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&src, dir.path());
        let py = dir.path().join("pyproject.toml");
        let mut text = std::fs::read_to_string(&py).unwrap();
        text += &format!("\n[tool.fledge]\npython = {:?}\n", python().display().to_string());
        std::fs::write(py, text).unwrap();
        Project { dir }
    }
    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn fledge(&self, args: &[&str]) -> Output {
        let out =
            Command::new(fledge_bin()).args(args).current_dir(self.root()).env_remove("VIRTUAL_ENV").output().unwrap();
        eprintln!("$ fledge {}\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        out
    }
    /// Runs with `--format jsonl`; returns the events.
    fn events(&self, args: &[&str]) -> (Vec<Json>, Output) {
        let mut all: Vec<&str> = vec!["run", "--format", "jsonl"];
        all.extend(args);
        let out = self.fledge(&all);
        let events = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        (events, out)
    }
    fn edit(&self, rel: &str, from: &str, to: &str) {
        let p = self.root().join(rel);
        let t = std::fs::read_to_string(&p).unwrap();
        assert!(t.contains(from), "{rel} has no {from:?}");
        std::fs::write(&p, t.replacen(from, to, 1)).unwrap();
    }
}

/// `(task, status)` of every finished node, sorted by node id.
fn statuses(events: &[Json]) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = events
        .iter()
        .filter(|e| e["event"] == "node_finished")
        .map(|e| {
            (
                e["node"].as_str().unwrap().to_string(),
                e["task"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn run_finished(events: &[Json]) -> &Json {
    let last = events.last().expect("events");
    assert_eq!(last["event"], "run_finished", "{events:?}");
    last
}

/// `pyflyte run` with the test Python; returns its stdout.
fn pyflyte(root: &Path, args: &[&str]) -> String {
    let out = Command::new(python())
        .args([
            "-c",
            "import sys; from flytekit.clis.sdk_in_container.pyflyte import main; sys.argv[0] = 'pyflyte'; main()",
            "run",
        ])
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success(), "pyflyte failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn shop_report_outputs_match_pyflyte_run() {
    let p = Project::new("../examples/shop");
    for args in [vec![], vec!["--n_orders", "9", "--currency", "USD", "--no-apply-vip"]] {
        let mut fl = vec!["shop/pipeline.py", "shop_report"];
        fl.extend(&args);
        let (events, out) = p.events(&fl);
        assert!(out.status.success());
        let outputs = &run_finished(&events)["outputs"];
        // ShopReport(report=/tmp/.../sales_eur.csv, headline='4 products, ...', total=75.31)
        let py = pyflyte(p.root(), &fl);
        let line = py.lines().find(|l| l.starts_with("ShopReport(")).unwrap_or_else(|| panic!("no result in {py}"));
        let headline = line.split("headline='").nth(1).unwrap().split('\'').next().unwrap();
        let total: f64 = line.split("total=").nth(1).unwrap().trim_end_matches(')').parse().unwrap();
        let report = line.split("report=").nth(1).unwrap().split(',').next().unwrap();
        assert_eq!(outputs["headline"], headline);
        assert_eq!(outputs["total"].as_f64().unwrap(), total);
        let ours = std::fs::read_to_string(outputs["report"].as_str().unwrap()).unwrap();
        assert_eq!(ours, std::fs::read_to_string(report).unwrap());
    }
}

#[test]
fn edits_and_input_changes_rerun_only_what_they_affect() {
    let p = Project::new("../examples/shop");
    let wf = ["shop/pipeline.py", "shop_report"];
    let (first, _) = p.events(&wf);
    assert!(statuses(&first).iter().all(|s| s.2 == "succeeded" || s.2 == "skipped"), "{first:?}");

    // Nothing changed: every node is cached.
    let (again, _) = p.events(&wf);
    assert!(statuses(&again).iter().all(|s| s.2 == "cached" || s.2 == "skipped"), "{again:?}");
    assert_eq!(run_finished(&again)["status"], "cached");

    // Edit only the last task: only it runs.
    p.edit("shop/reports.py", "return f\"{rows} products", "return f\"{rows} items");
    let (edited, _) = p.events(&wf);
    let ran: Vec<String> = statuses(&edited).into_iter().filter(|s| s.2 == "succeeded").map(|s| s.1).collect();
    assert_eq!(ran, vec!["headline"], "{edited:?}");
    assert!(run_finished(&edited)["outputs"]["headline"].as_str().unwrap().contains(" items, "));

    // A new currency: what depends on it re-runs; the orders are still cached.
    let mut usd = wf.to_vec();
    usd.extend(["--currency", "USD"]);
    let (ev, _) = p.events(&usd);
    let st = statuses(&ev);
    let status_of = |task: &str| st.iter().find(|s| s.1 == task).map(|s| s.2.clone()).unwrap();
    assert_eq!(status_of("generate_orders"), "cached");
    assert_eq!(status_of("count_vips"), "cached");
    assert_eq!(status_of("pricing.exchange_rate"), "succeeded");
    assert_eq!(status_of("write_report"), "succeeded");
    assert_eq!(status_of("headline"), "succeeded");
}

#[test]
fn a_crashing_task_fails_the_run_with_its_traceback_and_the_rest_stays_cached() {
    let p = Project::new("tests/fixtures/run/edge");
    let out = p.fledge(&["run", "edge/flows.py", "independent"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ValueError: negative feedback: 2"), "{err}");
    let text = std::fs::read_to_string(p.root().join("edge/flows.py")).unwrap();
    let line = text.lines().position(|l| l.contains("raise ValueError")).unwrap() + 1;
    assert!(err.contains(&format!("edge/flows.py\", line {line}, in crash")), "{err}");
    // What the task printed before it failed.
    assert!(err.contains("  | checking 2"), "{err}");
    let (events, _) = p.events(&["edge/flows.py", "independent"]);
    let st = statuses(&events);
    assert_eq!(st[0].1, "square");
    assert_eq!(st[0].2, "cached");
    assert_eq!(st[1].2, "failed");
    assert_eq!(st[2].2, "skipped");
    assert_eq!(run_finished(&events)["status"], "failed");
}

#[test]
fn timeouts_retries_and_killed_workers_behave_as_flyte_says() {
    let p = Project::new("tests/fixtures/run/edge");
    let (ev, out) = p.events(&["edge/flows.py", "timing_out"]);
    assert_eq!(out.status.code(), Some(1));
    let slow = ev.iter().find(|e| e["event"] == "node_finished" && e["task"] == "slow").unwrap();
    assert_eq!(slow["status"], "failed");
    assert!(slow["error"].as_str().unwrap().contains("timeout"), "{slow}");
    assert!(slow["duration_ms"].as_u64().unwrap() < 30_000);

    let markers = tempfile::tempdir().unwrap();
    let m = markers.path().display().to_string();
    let (ev, out) = p.events(&["edge/flows.py", "retrying", "--n", "1", "--marker_dir", &m]);
    assert!(out.status.success());
    assert!(ev.iter().any(|e| e["event"] == "node_started" && e["attempt"] == 1), "{ev:?}");
    assert_eq!(run_finished(&ev)["outputs"]["o0"], 2);

    let (ev, out) = p.events(&["edge/flows.py", "dying"]);
    assert_eq!(out.status.code(), Some(1));
    let st = statuses(&ev);
    // square(n=1) already ran in `timing_out` (same task, same input): cached across workflows.
    assert_eq!((st[0].1.as_str(), st[0].2.as_str()), ("square", "cached"), "{st:?}");
    assert_eq!(st[1].2, "failed", "{st:?}");
    let die = ev.iter().find(|e| e["task"] == "die" && e["event"] == "node_finished").unwrap();
    assert!(die["error"].as_str().unwrap().contains("SIGKILL"), "{die}");
    // The worker comes back for the next run, and square is cached.
    let (ev, _) = p.events(&["edge/flows.py", "dying"]);
    assert_eq!(statuses(&ev)[0].2, "cached");
}

#[test]
fn helper_edits_rerun_the_task_and_its_dependents_and_corrupt_entries_are_recomputed() {
    let p = Project::new("tests/fixtures/run/edge");
    let wf = ["edge/flows.py", "rendered"];
    let (ev, _) = p.events(&wf);
    assert_eq!(run_finished(&ev)["outputs"]["o0"], "<3>");
    p.edit("edge/helpers.py", "f\"<{text}>\"", "f\"[{text}]\"");
    let (ev, _) = p.events(&wf);
    assert_eq!(run_finished(&ev)["outputs"]["o0"], "[3]");
    let st = statuses(&ev);
    assert_eq!((st[0].2.as_str(), st[1].2.as_str()), ("succeeded", "succeeded"), "{st:?}");
    let render = ev.iter().find(|e| e["task"] == "render" && e["event"] == "node_finished").unwrap();
    assert!(render["reason"].as_str().unwrap().contains("edge.helpers.decorate"), "{render}");

    // Corrupt every cache entry: each is detected and recomputed, the result is unchanged.
    for d in std::fs::read_dir(p.root().join(".fledge/cache/entries")).unwrap() {
        for f in std::fs::read_dir(d.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            let mut b = std::fs::read(&f).unwrap();
            let n = b.len() / 2;
            b.truncate(n);
            std::fs::write(&f, b).unwrap();
        }
    }
    let (ev, out) = p.events(&wf);
    assert!(out.status.success());
    assert_eq!(run_finished(&ev)["outputs"]["o0"], "[3]");
    assert!(statuses(&ev).iter().all(|s| s.2 == "succeeded"));
    assert!(ev.iter().any(|e| e["reason"].as_str().is_some_and(|r| r.contains("damaged"))), "{ev:?}");

    // fledge cache ls | gc | clear.
    let ls = p.fledge(&["cache", "ls"]);
    assert!(String::from_utf8_lossy(&ls.stdout).contains("edge.flows.render"));
    assert!(p.fledge(&["cache", "gc"]).status.success());
    let (ev, _) = p.events(&wf);
    assert!(statuses(&ev).iter().all(|s| s.2 == "cached"), "gc kept what the last run used: {ev:?}");
    assert!(p.fledge(&["cache", "clear"]).status.success());
    assert!(!p.root().join(".fledge/cache").exists());
}

#[test]
fn dynamic_tasks_run_their_sub_workflow_node_by_node() {
    let p = Project::new("tests/fixtures/run/edge");
    let (ev, out) = p.events(&["edge/flows.py", "dynamic_sum"]);
    assert!(out.status.success());
    assert_eq!(run_finished(&ev)["outputs"]["o0"], 14);
    let squares = statuses(&ev).into_iter().filter(|s| s.1 == "square").count();
    assert_eq!(squares, 4);
    // One more item: the four earlier squares come from the cache.
    let (ev, _) = p.events(&["edge/flows.py", "dynamic_sum", "--n", "5"]);
    assert_eq!(run_finished(&ev)["outputs"]["o0"], 30);
    let st = statuses(&ev);
    assert_eq!(st.iter().filter(|s| s.1 == "square" && s.2 == "cached").count(), 4, "{st:?}");
    assert_eq!(st.iter().filter(|s| s.1 == "square" && s.2 == "succeeded").count(), 1, "{st:?}");
}

#[test]
fn dynamic_bodies_with_sub_workflows_conditionals_map_tasks_and_launch_plans_match_pyflyte_run() {
    let p = Project::new("tests/fixtures/run/edge");
    // n=2: the `elif_` case (5 + 1000 + 1 + 1); n=3: `else_` (10² + 5 + 5); n=4: `if_` (17 + 1 + 14 +
    // 14); plus 7² + 1 from the launch plan each time.
    for (n, case) in [("2", "add"), ("3", "square"), ("4", "plus_one")] {
        let args = ["edge/flows.py", "dynamic_mixed", "--n", n];
        let (ev, out) = p.events(&args);
        assert!(out.status.success());
        let ours = &run_finished(&ev)["outputs"]["o0"];
        let py = pyflyte(p.root(), &args);
        let theirs: i64 = py.lines().rev().find_map(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("{py}"));
        assert_eq!(ours.as_i64(), Some(theirs), "n={n}");
        let st = statuses(&ev);
        let find = |node: &str| st.iter().find(|s| s.0 == node).unwrap_or_else(|| panic!("no {node} in {st:?}"));
        // The sub-workflow's nodes run one by one under the sub-workflow node.
        assert_eq!(find("n0.dn0").1, "square_plus_one");
        assert!(matches!(find("n0.dn0.dn1").2.as_str(), "succeeded" | "cached"), "{st:?}");
        // Only the chosen case of the conditional runs; the others are skipped.
        let cases: Vec<_> = st.iter().filter(|s| s.0.starts_with("n0.dn1.")).collect();
        assert_eq!(cases.len(), 3, "{st:?}");
        for c in cases {
            assert_eq!(c.2 == "skipped", c.1 != case, "n={n}: {st:?}");
        }
        // The map task runs one item per element.
        assert_eq!(find("n0.dn2").1, "square");
        // The launch plan runs its workflow inline, with its default input.
        assert!(matches!(find("n0.dn3.n1").2.as_str(), "succeeded" | "cached"), "{st:?}");
        // The @dynamic task inside runs the sub-workflow it returns, one square per item.
        assert_eq!(find("n0.dn4").1, "squares");
        let last = format!("n0.dn4.dn{}", n.parse::<usize>().unwrap() - 1);
        assert!(matches!(find(&last).2.as_str(), "succeeded" | "cached"), "{st:?}");
    }
}

#[test]
fn bad_inputs_are_reported_by_name_without_running_anything() {
    let p = Project::new("../examples/shop");
    let out = p.fledge(&["run", "shop/pipeline.py", "shop_report", "--n_orders", "many"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("input `n_orders`: expected an integer"), "{err}");
    let out = p.fledge(&["run", "shop/pipeline.py", "shop_report", "--currency", "JPY"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("input `currency`: expected one of EUR, USD, GBP"));
    let out = p.fledge(&["run", "shop/pipeline.py", "shop_report", "--n-order", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown input `n-order`") && err.contains("--n_orders"), "{err}");
    let out = p.fledge(&["run", "shop/pipeline.py", "no_such_wf"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("its workflows are: price_lines, shop_report"));
    assert!(!p.root().join(".fledge/cache").exists());
}

/// The binary under test: `FLEDGE_BIN` (a copy, when other builds share the target folder), else
/// the one cargo built for this test.
fn fledge_bin() -> PathBuf {
    std::env::var_os("FLEDGE_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_fledge")))
}
