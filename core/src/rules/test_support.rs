//! Fixture runner for rule tests: every line with `# error: <code>` (or `warning:`) must get
//! exactly that diagnostic, and no other line may get one from the rule under test.

use crate::workspace::Workspace;
use crate::Diagnostic;
use std::path::PathBuf;

/// Analyze one fixture file as module `fixture` and return all diagnostics.
pub fn diagnostics(text: &str) -> Vec<Diagnostic> {
    diagnostics_multi(&[("fixture.py", text)])
}

/// Analyze several files (path relative to a fake root, e.g. `pkg/mod.py`).
pub fn diagnostics_multi(files: &[(&str, &str)]) -> Vec<Diagnostic> {
    let root = PathBuf::from("/fixture-root");
    let mut ws = Workspace::new(root.clone(), Default::default());
    for (path, text) in files {
        ws.set_file(root.join(path), text.to_string());
    }
    ws.analyze().diagnostics
}

/// Analyze `files` with `baseline` as their committed texts (files missing from it are new).
pub fn diagnostics_with_baseline(files: &[(&str, &str)], baseline: &[(&str, &str)]) -> Vec<Diagnostic> {
    let root = PathBuf::from("/fixture-root");
    let mut ws = Workspace::new(root.clone(), Default::default());
    for (path, text) in files {
        ws.set_file(root.join(path), text.to_string());
    }
    ws.set_baseline(baseline.iter().map(|(p, t)| (root.join(p), t.to_string())).collect());
    ws.analyze().diagnostics
}

/// `check_fixture` for a fixture whose committed version is `baseline` (`<name>_baseline.py`).
pub fn check_fixture_with_baseline(code: &str, text: &str, baseline: &str) -> String {
    let diags = diagnostics_with_baseline(&[("fixture.py", text)], &[("fixture.py", baseline)]);
    check_markers(code, text, diags)
}

/// `assert_clean` for a fixture whose committed version is `baseline`.
pub fn assert_clean_with_baseline(text: &str, baseline: &str) {
    let diags = diagnostics_with_baseline(&[("fixture.py", text)], &[("fixture.py", baseline)]);
    assert!(diags.is_empty(), "expected no diagnostics, got:\n{}", render(text, &diags));
}

/// `(line, code)` pairs expected by `# error: code` / `# warning: code` comments (1-based lines).
pub fn expectations(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for marker in ["# error: ", "# warning: "] {
            if let Some(pos) = line.find(marker) {
                for code in line[pos + marker.len()..].split(',') {
                    out.push((i + 1, code.split_whitespace().next().unwrap_or("").to_string()));
                }
            }
        }
    }
    out.sort();
    out
}

/// One line per diagnostic: `line:col code severity: message` (for snapshots).
pub fn render(text: &str, diags: &[Diagnostic]) -> String {
    let idx = crate::line_index::LineIndex::new(text);
    diags
        .iter()
        .map(|d| {
            let p = idx.char_pos(text, d.range.start);
            format!("{}:{} {} {}: {}", p.line + 1, p.col + 1, d.code, d.severity.as_str(), d.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Assert that `code` fires exactly on the lines the fixture marks, and return the rendering.
pub fn check_fixture(code: &str, text: &str) -> String {
    check_markers(code, text, diagnostics(text))
}

fn check_markers(code: &str, text: &str, diags: Vec<Diagnostic>) -> String {
    let idx = crate::line_index::LineIndex::new(text);
    let mut got: Vec<(usize, String)> =
        diags.iter().filter(|d| d.code == code).map(|d| (idx.line_of(d.range.start) + 1, d.code.to_string())).collect();
    got.sort();
    let want: Vec<(usize, String)> = expectations(text).into_iter().filter(|(_, c)| c == code).collect();
    assert_eq!(got, want, "diagnostics of `{code}` differ from the fixture's markers:\n{}", render(text, &diags));
    // Other rules must not fire where the fixture does not expect them.
    let all_expected = expectations(text);
    for d in &diags {
        let line = idx.line_of(d.range.start) + 1;
        assert!(
            all_expected.iter().any(|(l, c)| *l == line && c == d.code),
            "unexpected {} on line {line}: {}",
            d.code,
            d.message
        );
    }
    render(text, &diags.into_iter().filter(|d| d.code == code).collect::<Vec<_>>())
}

/// A clean fixture gets no diagnostics at all.
pub fn assert_clean(text: &str) {
    let diags = diagnostics(text);
    assert!(diags.is_empty(), "expected no diagnostics, got:\n{}", render(text, &diags));
}
