use crate::support::*;
use serde_json::json;

fn git(c: &Client, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(&c.dir.0)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", &c.dir.0)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_edited_cached_task_gets_a_bump_fix_until_the_edit_is_committed() {
    let tasks = TASKS.replace("@task\ndef label", "@task(cache=True, cache_version=\"1.0\")\ndef label");
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", &tasks), ("pkg/flows.py", FLOWS)]);
    git(&c, &["init", "-q"]);
    git(&c, &["add", "-A"]);
    git(&c, &["commit", "-q", "-m", "first"]);
    // The repository appeared after the server started: the watched HEAD tells it.
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": c.uri(".git/HEAD"), "type": 1}]}));
    let uri = c.open("pkg/tasks.py");
    let edited = tasks.replace("return f\"{prefix}{n}\"", "return f\"{prefix}-{n}\"");
    c.replace_all(&uri, &edited);
    let p = c.wait_diagnostics(&uri, |p| codes(p).iter().any(|c| c == "stale-cache-version"));
    let d = p.diagnostics.iter().find(|d| codes_of(d) == "stale-cache-version").unwrap().clone();
    assert!(d.message.contains("task `label`"), "{}", d.message);
    assert_eq!(serde_json::to_value(d.range.start).unwrap(), pos(&edited, "\"1.0\"", 0));
    let acts = c.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d.range, "context": {"diagnostics": [d]}}),
    );
    let acts = acts.as_array().unwrap();
    assert_eq!(acts[0]["title"], json!("Bump the cache version to \"1.1\""));
    assert_eq!(acts[0]["edit"]["changes"][uri.as_str()][0]["newText"], json!("\"1.1\""));
    // Commit the edit: HEAD moves and the task matches it again.
    std::fs::write(c.path("pkg/tasks.py"), &edited).unwrap();
    git(&c, &["commit", "-q", "-a", "-m", "edit"]);
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": c.uri(".git/refs/heads/main"), "type": 2}]}),
    );
    c.wait_diagnostics(&uri, |p| p.diagnostics.is_empty());
    assert_eq!(c.shutdown(), 0);
}

fn codes_of(d: &lsp_types::Diagnostic) -> String {
    match &d.code {
        Some(lsp_types::NumberOrString::String(s)) => s.clone(),
        _ => String::new(),
    }
}
