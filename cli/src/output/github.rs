//! GitHub Actions workflow commands, which GitHub shows as annotations on the diff.

use super::{locate, Locator, Sources};
use fledge_core::diagnostic::{Diagnostic, Severity};
use std::path::Path;

/// One `::error file=...,line=...::message` line per diagnostic
/// (`warning` for warnings, `notice` for info).
pub fn render_github(diags: &[Diagnostic], sources: &dyn Sources, cwd: &Path) -> String {
    let mut locator = Locator::new(sources, cwd);
    let mut out = String::new();
    for (d, s) in locate(diags, &mut locator) {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&s.path),
            s.start.line,
            s.start.col,
            s.end.line,
            s.end.col,
            escape_property(&format!("fledge ({})", d.code)),
            escape_data(&d.message),
        ));
    }
    out
}

/// Escapes a command's message: `%`, CR and LF.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command property: as data, plus `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures;

    #[test]
    fn snapshot_of_every_tricky_case() {
        let out = render_github(&fixtures::diagnostics(), &fixtures::sources(), Path::new(fixtures::CWD));
        assert_eq!(out.lines().count(), fixtures::diagnostics().len());
        insta::assert_snapshot!(out);
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("100% a:b,c\r\nd"), "100%25 a%3Ab%2Cc%0D%0Ad");
    }

    #[test]
    fn empty_list() {
        assert_eq!(render_github(&[], &fixtures::sources(), Path::new(fixtures::CWD)), "");
    }
}
