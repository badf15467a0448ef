use crate::support::*;
use lsp_types::{DiagnosticSeverity, NumberOrString};
use serde_json::json;

#[test]
fn publishes_diagnostics_with_code_source_related_and_fixes() {
    let bad = FLOWS.replace("label(n=t, prefix=", "label(n=t, prefx=");
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", &bad)]);
    let uri = c.open("pkg/flows.py");
    let p = c.wait_diagnostics(&uri, |p| p.version == Some(1));
    let d = p
        .diagnostics
        .iter()
        .find(|d| d.code == Some(NumberOrString::String("unknown-input".into())))
        .expect("unknown-input");
    assert_eq!(d.source.as_deref(), Some("fledge"));
    assert_eq!(d.severity, Some(DiagnosticSeverity::ERROR));
    let expected_start = line_col(&bad, "prefx=", 0);
    assert_eq!((d.range.start.line, d.range.start.character), expected_start);
    assert_eq!(d.range.end.character - d.range.start.character, 5);
    let related = d.related_information.as_ref().expect("related information");
    assert_eq!(related[0].location.uri, c.uri("pkg/tasks.py"));
    let fixes = &d.data.as_ref().unwrap()["fixes"];
    assert_eq!(fixes[0]["title"], json!("Rename to `prefix`"));
    assert_eq!(fixes[0]["edits"][0]["newText"], json!("prefix"));
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn a_signature_change_in_one_module_updates_diagnostics_of_another() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let flows = c.open("pkg/flows.py");
    let tasks = c.open("pkg/tasks.py");
    let p = c.wait_diagnostics(&flows, |_| true);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    // Rename the task input `orders` -> `values` in tasks.py: flows.py now passes an unknown input.
    let (l, col) = line_col(TASKS, "orders: List[int]", 0);
    c.edit(&tasks, (l, col), (l, col + 6), "values");
    let p = c.wait_diagnostics(&flows, |p| !p.diagnostics.is_empty());
    assert_eq!(codes(&p), vec!["unknown-input"]);
    assert!(p.diagnostics[0].message.contains("has no input `orders`"), "{}", p.diagnostics[0].message);
    // And back: flows.py is clean again.
    c.edit(&tasks, (l, col), (l, col + 6), "orders");
    let p = c.wait_diagnostics(&flows, |p| p.diagnostics.is_empty());
    assert!(p.diagnostics.is_empty());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn publishes_for_unopened_files_and_clears_fixed_ones() {
    let bad = FLOWS.replace("label(n=t, prefix=", "label(n=t, prefx=");
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", &bad)]);
    // Indexing on `initialized` publishes for files nobody opened.
    let flows = c.uri("pkg/flows.py");
    let p = c.wait_diagnostics(&flows, |p| !p.diagnostics.is_empty());
    assert_eq!(p.version, None);
    assert_eq!(codes(&p), vec!["unknown-input"]);
    // Fix it through the editor: an empty list clears it.
    c.open("pkg/flows.py");
    c.replace_all(&flows, FLOWS);
    let p = c.wait_diagnostics(&flows, |p| p.diagnostics.is_empty());
    assert_eq!(p.version, Some(2));
    // Work-done progress was reported while indexing: create, begin, end.
    assert!(c.server_requests.iter().any(|r| r.method == "window/workDoneProgress/create"));
    let kinds: Vec<&str> =
        c.log.iter().filter(|n| n.method == "$/progress").filter_map(|n| n.params["value"]["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["begin", "end"]);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn rapid_typing_ends_with_diagnostics_of_the_final_text() {
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", FLOWS)]);
    let flows = c.open("pkg/flows.py");
    c.wait_diagnostics(&flows, |_| true);
    // Type a line char by char, delete part of it, and type again: 300 edits in all.
    let (line, _) = line_col(FLOWS, "    return label(", 0);
    let typed = "    u = total(orders=xs, rate=2.0, discount=1)\n";
    let mut text_line = String::new();
    let mut edits = 0;
    'outer: loop {
        for ch in typed.chars() {
            let col = text_line.chars().count() as u32;
            if ch == '\n' {
                break;
            }
            c.edit(&flows, (line, col), (line, col), &ch.to_string());
            text_line.push(ch);
            edits += 1;
            if edits == 300 {
                break 'outer;
            }
        }
        // Delete back to the start of the line (one edit).
        let col = text_line.chars().count() as u32;
        c.edit(&flows, (line, 0), (line, col), "");
        text_line.clear();
        edits += 1;
        if edits >= 300 {
            break;
        }
    }
    // Finish the line so the final text is known and complete.
    let col = text_line.chars().count() as u32;
    let last_version = c.edit(&flows, (line, 0), (line, col), "    u = total(orders=xs, rate=2.0, discount=1)\n");
    let p = c.wait_diagnostics(&flows, |p| p.version == Some(last_version));
    assert_eq!(codes(&p), vec!["unknown-input"], "{:?}", p.diagnostics);
    assert!(p.diagnostics[0].message.contains("discount"));
    // Nothing stale arrives afterwards.
    c.drain_for(std::time::Duration::from_millis(200));
    let last = c.last_published(&flows).unwrap_or(p.clone());
    assert!(last.version.unwrap_or(0) >= last_version);
    assert_eq!(codes(&last), vec!["unknown-input"]);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn settings_merge_over_the_project_configuration() {
    let bad = FLOWS.replace("label(n=t, prefix=", "label(n=t, prefx=");
    let files = [("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", bad.as_str())];
    // initializationOptions: `unknown-input` is a warning.
    let mut c = Client::start_with(
        &files,
        json!({"fledge": {"severity": {"unknown-input": "warning"}}}),
        json!({"workspace": {"configuration": false}}),
    );
    let flows = c.open("pkg/flows.py");
    let p = c.wait_diagnostics(&flows, |p| !p.diagnostics.is_empty());
    assert_eq!(p.diagnostics[0].severity, Some(DiagnosticSeverity::WARNING));
    // didChangeConfiguration: ignore it altogether.
    c.notify("workspace/didChangeConfiguration", json!({"settings": {"fledge": {"ignore": ["unknown-input"]}}}));
    let p = c.wait_diagnostics(&flows, |p| p.diagnostics.is_empty());
    assert!(p.diagnostics.is_empty());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn tool_fledge_in_pyproject_applies_and_watched_changes_reload() {
    let bad = FLOWS.replace("label(n=t, prefix=", "label(n=t, prefx=");
    let mut c = Client::start(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", &bad)]);
    let flows = c.uri("pkg/flows.py");
    c.wait_diagnostics(&flows, |p| !p.diagnostics.is_empty());
    // Change pyproject.toml on disk and tell the server.
    std::fs::write(
        c.path("pyproject.toml"),
        "[project]\nname = \"pkg\"\n[tool.fledge]\nignore = [\"unknown-input\"]\n",
    )
    .unwrap();
    let uri = c.uri("pyproject.toml");
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri, "type": 2}]}));
    c.wait_diagnostics(&flows, |p| p.diagnostics.is_empty());
    // A task file changed on disk (not open in the editor).
    std::fs::write(c.path("pkg/tasks.py"), TASKS.replace("prefix: str", "prefx: str")).unwrap();
    let tasks = c.uri("pkg/tasks.py");
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": tasks, "type": 2}]}));
    // Now `prefx=` is right, but nothing is reported anyway (ignored), and the file stays clean.
    c.drain_for(std::time::Duration::from_millis(150));
    std::fs::write(c.path("pyproject.toml"), "[project]\nname = \"pkg\"\n").unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri, "type": 2}]}));
    // With the task changed on disk, flows.py (`prefx=`) is clean even without the ignore.
    c.drain_for(std::time::Duration::from_millis(200));
    let last = c.last_published(&flows);
    assert!(last.as_ref().is_none_or(|p| p.diagnostics.is_empty()), "{last:?}");
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn a_folder_without_project_markers_loads_the_package_of_the_opened_file() {
    let bad = FLOWS.replace("label(n=t, prefix=", "label(n=t, prefx=");
    let mut c = Client::start_loose(&[("pkg/__init__.py", ""), ("pkg/tasks.py", TASKS), ("pkg/flows.py", &bad)]);
    let flows = c.open("pkg/flows.py");
    // `pkg.tasks` resolves: the whole package was loaded, and the error is found.
    let p = c.wait_diagnostics(&flows, |p| p.version == Some(1));
    assert_eq!(codes(&p), vec!["unknown-input"]);
    let r = c.call("textDocument/definition", td_pos(&flows, &bad, "label(n=", 1));
    assert_eq!(r[0]["uri"], json!(c.uri("pkg/tasks.py")));
    assert_eq!(c.shutdown(), 0);
}
