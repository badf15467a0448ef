//! `fledge check` in a real git repository: a cached task edited after the last commit without a
//! new `cache_version` gets `stale-cache-version`; bumping the version, or edits that do not
//! change what the task computes, do not. The repository is made with the `git` binary (the
//! test only: fledge reads it with gitoxide).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const UTIL: &str =
    "RATE = 2\n\n\ndef scale(x: int) -> int:\n    return x * RATE\n\n\ndef unrelated() -> int:\n    return 1\n";

const TASKS: &str = r#"from flytekit import task

from pkg.util import scale


@task(cache=True, cache_version="1.0")
def price(x: int) -> int:
    """Price of x."""
    return scale(x) + 1


@task
def plain(x: int) -> int:
    return x
"#;

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo { dir: tempfile::tempdir().unwrap() };
        r.write("pyproject.toml", "[project]\nname = \"demo\"\n");
        r.write("pkg/__init__.py", "");
        r.write("pkg/util.py", UTIL);
        r.write("pkg/tasks.py", TASKS);
        r
    }

    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .current_dir(self.root())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.root())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// `fledge check --format json`: (exit code, [(line, code, message)]).
    fn check(&self) -> (i32, Vec<(u64, String, String)>) {
        let out = fledge(&self.root(), &["check", "--format", "json"]);
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let diags = doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["line"].as_u64().unwrap(),
                    d["code"].as_str().unwrap().to_string(),
                    d["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        (out.status.code().unwrap(), diags)
    }
}

fn fledge(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fledge"))
        .current_dir(dir)
        .env_remove("FLEDGE_TIMINGS")
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn an_edited_cached_task_without_a_new_version_is_reported_until_the_version_is_bumped() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.commit_all("first");
    assert_eq!(repo.check(), (0, vec![]));

    // Edit the body, keep the version.
    repo.write("pkg/tasks.py", &TASKS.replace("scale(x) + 1", "scale(x) + 2"));
    let (code, diags) = repo.check();
    assert_eq!(code, 0, "a warning does not fail the check");
    assert_eq!(diags.len(), 1, "{diags:?}");
    let (line, rule, message) = &diags[0];
    assert_eq!((*line, rule.as_str()), (6, "stale-cache-version"));
    assert!(message.contains("task `price`") && message.contains("\"1.0\""), "{message}");

    // The human output shows it on the version, with the source line.
    let human = fledge(&repo.root(), &["check"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("warning[stale-cache-version]"), "{text}");
    assert!(text.contains("@task(cache=True, cache_version=\"1.0\")"), "{text}");

    // Bump the version: nothing to report.
    repo.write("pkg/tasks.py", &TASKS.replace("scale(x) + 1", "scale(x) + 2").replace("\"1.0\"", "\"1.1\""));
    assert_eq!(repo.check(), (0, vec![]));
}

#[test]
fn a_helper_edited_in_another_module_is_named() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.commit_all("first");
    repo.write("pkg/util.py", &UTIL.replace("x * RATE", "x * RATE * 2"));
    let (_, diags) = repo.check();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].2.contains("`function pkg.util.scale`"), "{}", diags[0].2);
    // Once committed, HEAD has the new helper: nothing left to report.
    repo.commit_all("helper");
    assert_eq!(repo.check(), (0, vec![]));
}

#[test]
fn formatting_comments_docstrings_and_unrelated_edits_are_not_reported() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.commit_all("first");
    let reformatted = TASKS
        .replace("@task(cache=True, cache_version=\"1.0\")", "@task(\n    cache=True,\n    cache_version='1.0',\n)")
        .replace("\"\"\"Price of x.\"\"\"", "\"\"\"The price of x, documented better.\"\"\"  # a comment")
        .replace("return scale(x) + 1", "# why\n    return (\n        scale(x)\n        + 1\n    )");
    repo.write("pkg/tasks.py", &reformatted);
    repo.write("pkg/util.py", &UTIL.replace("return 1", "return 42"));
    assert_eq!(repo.check(), (0, vec![]));
}

#[test]
fn outside_a_repository_or_before_the_first_commit_nothing_is_reported() {
    let repo = Repo::new();
    repo.write("pkg/tasks.py", &TASKS.replace("+ 1", "+ 2"));
    assert_eq!(repo.check(), (0, vec![]));
    repo.git(&["init", "-q"]);
    assert_eq!(repo.check(), (0, vec![]));
}
