//! Annotated source snippets for a terminal, rustc style.

use super::{locate, Locator, Sources, Span};
use annotate_snippets::{AnnotationKind, Element, Group, Level, Origin, Renderer, Snippet};
use fledge_core::diagnostic::{Diagnostic, Severity};
use std::collections::BTreeSet;
use std::path::Path;

/// Each diagnostic as `error[code]: message` with its source lines, related
/// locations as notes, then a one-line summary. ANSI colors only if `color`.
pub fn render_human(diags: &[Diagnostic], sources: &dyn Sources, cwd: &Path, color: bool) -> String {
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };
    let mut locator = Locator::new(sources, cwd);
    let mut out = String::new();
    for (diag, span) in locate(diags, &mut locator) {
        let related: Vec<_> = diag.related.iter().map(|r| (r, locator.span(&r.path, r.range))).collect();
        let title = level(diag.severity).primary_title(diag.message.as_str()).id(diag.code);
        let mut report = vec![title.element(place(&span, AnnotationKind::Primary))];
        for (r, span) in &related {
            report.push(
                Group::with_title(Level::NOTE.secondary_title(r.message.as_str()))
                    .element(place(span, AnnotationKind::Context)),
            );
        }
        out.push_str(&renderer.render(&report));
        out.push_str("\n\n");
    }
    out.push_str(&summary(diags));
    out.push('\n');
    out
}

fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

/// The lines a span covers, marked; just `--> path` when the text is unknown.
fn place<'a>(span: &Span<'a>, kind: AnnotationKind) -> Element<'a> {
    let Some(text) = span.text else {
        return Origin::path(span.path.clone()).into();
    };
    let lines = &text[span.lines.clone()];
    let first = span.lines.start;
    let mark = (span.range.start - first).min(lines.len())..(span.range.end - first).min(lines.len());
    Snippet::source(lines)
        .line_start(span.start.line as usize)
        .path(span.path.clone())
        .annotation(kind.span(mark))
        .into()
}

/// `Found 1 error and 2 warnings in 1 file.`, or `All checks passed.`
fn summary(diags: &[Diagnostic]) -> String {
    if diags.is_empty() {
        return "All checks passed.".to_string();
    }
    let count = |s| diags.iter().filter(|d| d.severity == s).count();
    let files = diags.iter().map(|d| &d.path).collect::<BTreeSet<_>>().len();
    let (errors, warnings, infos) = (count(Severity::Error), count(Severity::Warning), count(Severity::Info));
    let counts = if infos > 0 {
        format!("{}, {} and {}", plural(errors, "error"), plural(warnings, "warning"), plural(infos, "info"))
    } else {
        format!("{} and {}", plural(errors, "error"), plural(warnings, "warning"))
    };
    format!("Found {counts} in {}.", plural(files, "file"))
}

fn plural(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures;
    use fledge_core::diagnostic::TextRange;

    #[test]
    fn snapshot_of_every_tricky_case() {
        let out = render_human(&fixtures::diagnostics(), &fixtures::sources(), Path::new(fixtures::CWD), false);
        insta::assert_snapshot!(out);
    }

    #[test]
    fn empty_list_passes() {
        let out = render_human(&[], &fixtures::sources(), Path::new(fixtures::CWD), false);
        assert_eq!(out, "All checks passed.\n");
    }

    #[test]
    fn color_only_when_asked() {
        let diags = fixtures::diagnostics();
        let sources = fixtures::sources();
        assert!(!render_human(&diags, &sources, Path::new(fixtures::CWD), false).contains('\x1b'));
        assert!(render_human(&diags, &sources, Path::new(fixtures::CWD), true).contains('\x1b'));
    }

    #[test]
    fn summary_counts() {
        let d = |s| Diagnostic::new("c", s, "a.py", TextRange::default(), "m");
        assert_eq!(summary(&[d(Severity::Error)]), "Found 1 error and 0 warnings in 1 file.");
        let mut two = d(Severity::Warning);
        two.path = "b.py".into();
        assert_eq!(
            summary(&[d(Severity::Info), two.clone(), two]),
            "Found 0 errors, 2 warnings and 1 info in 2 files."
        );
    }

    #[test]
    fn never_panics_on_odd_ranges() {
        let texts = ["", "\n", "\r\n", "é", "\tx\r\ny", "a\n\nb"];
        for text in texts {
            let sources = vec![crate::output::SourceFile { path: Path::new("f.py"), text }];
            for start in 0..=text.len() + 2 {
                for end in 0..=text.len() + 2 {
                    let d = Diagnostic::new("c", Severity::Error, "f.py", TextRange::new(start, end), "m")
                        .with_related("f.py", TextRange::new(end, start), "n");
                    render_human(&[d], &sources, Path::new("/"), true);
                }
            }
        }
    }
}
