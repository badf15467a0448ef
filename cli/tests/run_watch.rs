//! `fledge watch --format jsonl` end to end with real flytekit: a first run, a save that edits the last
//! task (only it runs), a save that breaks the project (nothing runs, the error is reported), and the
//! fix (runs again). Python as in `run.rs`: `FLEDGE_TEST_PYTHON` or the setup-python venv, else the
//! test fails.

use serde_json::Value as Json;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

mod common;
use common::python;

/// Kills the watcher when the test ends, however it ends.
struct Watcher(Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Events up to and including the next `run_finished` or `check_failed` (bounded wait: never hangs).
fn next_outcome(rx: &Receiver<Json>) -> Vec<Json> {
    let mut out = Vec::new();
    loop {
        let e = rx.recv_timeout(Duration::from_secs(120)).expect("fledge watch went quiet for 2 minutes");
        let done = e["event"] == "run_finished" || e["event"] == "check_failed";
        out.push(e);
        if done {
            return out;
        }
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const FLOW: &str = r#"from flytekit import task, workflow


@task
def first(x: int) -> int:
    return x + 1


@task
def second(x: int) -> int:
    return x * 10


@task
def last(x: int) -> str:
    return f"value {x}"


@workflow
def wf(x: int = 1) -> str:
    return last(x=second(x=first(x=x)))
"#;

#[test]
fn watch_reruns_only_what_a_save_changed_and_waits_out_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "pyproject.toml",
        &format!(
            "[project]\nname = \"w\"\nversion = \"0\"\n\n[tool.fledge]\npython = {:?}\n",
            python().display().to_string()
        ),
    );
    write(root, "w/__init__.py", "");
    write(root, "w/flow.py", FLOW);
    let mut child = Command::new(fledge_bin())
        .args(["watch", "w/flow.py", "wf", "--format", "jsonl"])
        .current_dir(root)
        .env_remove("VIRTUAL_ENV")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _guard = Watcher(child);
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let e: Json = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if tx.send(e).is_err() {
                break;
            }
        }
    });

    let first = next_outcome(&rx);
    let done = first.last().unwrap();
    assert_eq!(done["status"], "succeeded", "{first:?}");
    assert_eq!(done["outputs"]["o0"], "value 20");

    // Edit only the last task.
    write(root, "w/flow.py", &FLOW.replace("f\"value {x}\"", "f\"v={x}\""));
    let edited = next_outcome(&rx);
    let done = edited.last().unwrap();
    assert_eq!(done["outputs"]["o0"], "v=20", "{edited:?}");
    let finished: Vec<(&str, &str)> = edited
        .iter()
        .filter(|e| e["event"] == "node_finished")
        .map(|e| (e["task"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert!(finished.contains(&("first", "cached")), "{finished:?}");
    assert!(finished.contains(&("second", "cached")), "{finished:?}");
    assert!(finished.contains(&("last", "succeeded")), "{finished:?}");

    // A save with an error: nothing runs, the error is reported.
    write(root, "w/flow.py", &FLOW.replace("last(x=second(x=first(x=x)))", "last(y=second(x=first(x=x)))"));
    let broken = next_outcome(&rx);
    assert_eq!(broken.len(), 1, "{broken:?}");
    assert_eq!(broken[0]["event"], "check_failed");
    assert!(broken[0]["errors"].to_string().contains("w/flow.py"), "{broken:?}");

    // Fixed again: runs, and what it needs is cached (a check of a half-written save may come first).
    write(root, "w/flow.py", FLOW);
    let mut fixed = next_outcome(&rx);
    while fixed.last().unwrap()["event"] == "check_failed" {
        fixed = next_outcome(&rx);
    }
    let done = fixed.last().unwrap();
    assert_eq!(done["outputs"]["o0"], "value 20");
    assert_eq!(done["status"], "cached", "{fixed:?}");
}

/// The binary under test: `FLEDGE_BIN` (a copy, when other builds share the target folder), else
/// the one cargo built for this test.
fn fledge_bin() -> PathBuf {
    std::env::var_os("FLEDGE_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_fledge")))
}
