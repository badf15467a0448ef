//! A stable JSON document for scripts: `{"version":1,"diagnostics":[...]}`.

use super::{locate, Locator, Sources};
use fledge_core::diagnostic::{Diagnostic, Severity};
use serde::Serialize;
use std::path::Path;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    diagnostics: Vec<Entry<'a>>,
}

/// One diagnostic; fields serialize in this order.
#[derive(Serialize)]
struct Entry<'a> {
    path: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    severity: Severity,
    code: &'a str,
    message: &'a str,
}

/// The diagnostics as one compact JSON line (plus a newline), sorted by path, line, column, code.
pub fn render_json(diags: &[Diagnostic], sources: &dyn Sources, cwd: &Path) -> String {
    let mut locator = Locator::new(sources, cwd);
    let diagnostics = locate(diags, &mut locator)
        .into_iter()
        .map(|(d, s)| Entry {
            path: s.path,
            line: s.start.line,
            column: s.start.col,
            end_line: s.end.line,
            end_column: s.end.col,
            severity: d.severity,
            code: d.code,
            message: &d.message,
        })
        .collect();
    let mut out = serde_json::to_string(&Document { version: 1, diagnostics }).expect("plain data serializes");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures;

    #[test]
    fn snapshot_of_every_tricky_case() {
        let out = render_json(&fixtures::diagnostics(), &fixtures::sources(), Path::new(fixtures::CWD));
        assert_eq!(out.lines().count(), 1);
        assert!(out.ends_with("}\n"));
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        insta::assert_json_snapshot!(value);
    }

    #[test]
    fn keys_in_order() {
        let out = render_json(&fixtures::diagnostics()[1..2], &fixtures::sources(), Path::new(fixtures::CWD));
        assert_eq!(
            out,
            concat!(
                r#"{"version":1,"diagnostics":[{"path":"flows/wf.py","line":3,"column":21,"end_line":3,"#,
                r#""end_column":22,"severity":"warning","code":"type-mismatch","message":"adding `int` to `str`"}]}"#,
                "\n"
            )
        );
    }

    #[test]
    fn empty_list() {
        let out = render_json(&[], &fixtures::sources(), Path::new(fixtures::CWD));
        assert_eq!(out, "{\"version\":1,\"diagnostics\":[]}\n");
    }
}
