//! `Workspace::analyze_affected` must give, for the files it re-analyzes, exactly the diagnostics of
//! a full `Workspace::analyze`, and every file it leaves out must keep the diagnostics it had
//! before the edit. The language server publishes what `analyze_affected` says after each edit,
//! so a miss here is a stale or wrong squiggle in the editor.
//!
//! Each test loads a real project (the bundled examples, and a generated flytekit project with
//! planted errors from `../shared/bench/gen_project.py`), then, for every module, applies edits
//! that change what other modules see (an output type, a removed task, a syntax error, a comment)
//! and compares the incremental result with full analyses before and after.

use fledge_core::{Diagnostic, Workspace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn by_file(diags: &[Diagnostic]) -> BTreeMap<PathBuf, Vec<String>> {
    let mut out: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for d in diags {
        out.entry(d.path.clone()).or_default().push(format!("{:?}", d));
    }
    out
}

/// Edits of `text` that change what importers see, or nothing at all.
fn edits(text: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![("comment", format!("{text}\n# edited\n"))];
    if let Some(i) = text.find("-> int") {
        out.push(("output type", format!("{}-> str{}", &text[..i], &text[i + 6..])));
    }
    if let Some(i) = text.find("-> str") {
        out.push(("output type", format!("{}-> int{}", &text[..i], &text[i + 6..])));
    }
    if let Some(i) = text.find("@task") {
        // The decorator goes: the function is no longer a task for its callers.
        out.push(("untask", format!("{}{}", &text[..i], &text[i + 5..])));
    }
    if let Some(i) = text.find("    return ") {
        // A task body changes: its fingerprint, and that of every task calling it through a helper.
        out.push(("body", format!("{}    return 0 or {}", &text[..i], &text[i + 11..])));
    }
    if let Some(i) = text.find("def ") {
        out.push(("syntax error", format!("{}def (:{}", &text[..i], &text[i + 4..])));
    }
    out
}

/// Checks every edit of every module; returns (edits checked, stale-cache-version warnings seen).
fn check_project(root: &Path) -> (usize, usize) {
    let mut ws = Workspace::load(&[root.to_path_buf()]).expect("load project");
    let files: Vec<PathBuf> = ws.files().map(Path::to_path_buf).collect();
    // As if the project were committed as it is: edits of cached tasks bring `stale-cache-version`.
    let committed: Vec<(PathBuf, String)> =
        files.iter().map(|f| (f.clone(), ws.file_text(f).unwrap_or_default().to_string())).collect();
    ws.set_baseline(committed);
    let before = by_file(&ws.analyze().diagnostics);
    let mut checked = 0;
    let mut stale = 0;
    for file in &files {
        let original = ws.file_text(file).expect("text").to_string();
        for (what, edited) in edits(&original) {
            ws.set_file(file.clone(), edited);
            let full_diags = ws.analyze().diagnostics;
            stale += full_diags.iter().filter(|d| d.code == "stale-cache-version").count();
            let full = by_file(&full_diags);
            let partial = ws.analyze_affected(std::slice::from_ref(file));
            assert!(partial.affected.contains(file), "{}: the edited file itself is affected", file.display());
            let inc = by_file(&partial.analysis.diagnostics);
            for f in &files {
                let expected = full.get(f).cloned().unwrap_or_default();
                if partial.affected.contains(f) {
                    let got = inc.get(f).cloned().unwrap_or_default();
                    assert_eq!(got, expected, "{} after a {what} edit of {}", f.display(), file.display());
                } else {
                    let old = before.get(f).cloned().unwrap_or_default();
                    assert_eq!(
                        old,
                        expected,
                        "{} is not marked affected by a {what} edit of {}, but its diagnostics changed",
                        f.display(),
                        file.display()
                    );
                }
            }
            checked += 1;
            // Go back, so every edit starts from the original project.
            ws.set_file(file.clone(), original.clone());
            let restored = ws.analyze_affected(std::slice::from_ref(file));
            let diags = by_file(&restored.analysis.diagnostics);
            for f in &restored.affected {
                assert_eq!(diags.get(f), before.get(f), "{} after undoing the edit", f.display());
            }
        }
    }
    (checked, stale)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

#[test]
fn examples_incremental_matches_full() {
    let n = check_project(&repo().join("examples/rules")).0 + check_project(&repo().join("examples/shop")).0;
    assert!(n > 40, "only {n} edits were checked");
}

#[test]
fn generated_project_incremental_matches_full() {
    let generator = repo().join("../shared/bench/gen_project.py");
    assert!(generator.exists(), "{} is missing (the shared harness folder beside the checkout)", generator.display());
    let dir = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new("python3")
        .arg(&generator)
        .args(["--modules", "30", "--seed", "3", "--inject-errors", "12", "--out"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run python3 gen_project.py");
    assert!(status.success(), "gen_project.py failed");
    let (n, stale) = check_project(&dir.path().join("benchproj"));
    assert!(n > 100, "only {n} edits were checked");
    assert!(stale > 0, "no edit made a cached task stale: the baseline comparison went unchecked");
}

#[test]
fn changed_since_names_edited_files_and_refuses_structural_changes() {
    let mut ws = Workspace::load(&[repo().join("examples/shop")]).expect("load project");
    let files: Vec<PathBuf> = ws.files().map(Path::to_path_buf).collect();
    let start = ws.revision();
    assert_eq!(ws.changed_since(start), Some(vec![]));
    let text = ws.file_text(&files[1]).unwrap().to_string();
    ws.set_file(files[1].clone(), format!("{text}\n"));
    assert_eq!(ws.changed_since(start), Some(vec![files[1].clone()]));
    let after_edit = ws.revision();
    assert_eq!(ws.changed_since(after_edit), Some(vec![]));
    ws.set_file(files[0].parent().unwrap().join("new_module.py"), "x = 1\n".into());
    assert_eq!(ws.changed_since(after_edit), None, "a new file needs a full analysis");
    let after_add = ws.revision();
    ws.set_config(ws.config().clone());
    assert_eq!(ws.changed_since(after_add), None, "a configuration change needs a full analysis");
}
