//! Printing diagnostics: annotated snippets for people, JSON, SARIF and
//! GitHub workflow commands for machines.
//!
//! Every format shares one notion of position: 1-based line, 1-based column
//! counted in characters, and an end column that names the character just
//! after the range. Ranges are clamped to the text and to char boundaries, so
//! nothing here panics on a stale or bogus range.

// Until main.rs calls every renderer, some of this is unused in the binary.
#![allow(dead_code, unused_imports)]

mod github;
mod human;
mod json;
mod sarif;

pub use github::render_github;
pub use human::render_human;
pub use json::render_json;
pub use sarif::render_sarif;

use fledge_core::diagnostic::{Diagnostic, Severity, TextRange};
use fledge_core::line_index::{floor_char_boundary, LineIndex};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

/// One file's text, named by the path its diagnostics carry.
#[derive(Clone, Copy, Debug)]
pub struct SourceFile<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

/// Look up a file's text by the path stored in `Diagnostic.path`.
pub trait Sources {
    fn text(&self, path: &Path) -> Option<&str>;
}

impl Sources for HashMap<PathBuf, String> {
    fn text(&self, path: &Path) -> Option<&str> {
        self.get(path).map(String::as_str)
    }
}

impl Sources for &[SourceFile<'_>] {
    fn text(&self, path: &Path) -> Option<&str> {
        find(self, path)
    }
}

impl Sources for Vec<SourceFile<'_>> {
    fn text(&self, path: &Path) -> Option<&str> {
        find(self, path)
    }
}

fn find<'a>(files: &[SourceFile<'a>], path: &Path) -> Option<&'a str> {
    files.iter().find(|f| f.path == path).map(|f| f.text)
}

/// What SARIF says about a rule.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub summary: &'static str,
    pub default_severity: Severity,
}

/// A 1-based line and 1-based character column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pos {
    line: u32,
    col: u32,
}

/// A range in one file, clamped to its text, with printable positions.
///
/// When the file's text is unknown, `text` is `None` and both positions are 1:1.
struct Span<'a> {
    /// The path as printed: relative to cwd with forward slashes when under it.
    path: String,
    text: Option<&'a str>,
    range: TextRange,
    start: Pos,
    end: Pos,
    /// Bytes of the whole lines the range touches, without the last line ending.
    lines: Range<usize>,
}

/// Turns paths and byte ranges into [`Span`]s, indexing each file once.
struct Locator<'a> {
    sources: &'a dyn Sources,
    cwd: &'a Path,
    indexes: HashMap<PathBuf, LineIndex>,
}

impl<'a> Locator<'a> {
    fn new(sources: &'a dyn Sources, cwd: &'a Path) -> Self {
        Locator { sources, cwd, indexes: HashMap::new() }
    }

    fn span(&mut self, path: &Path, range: TextRange) -> Span<'a> {
        let shown = display_path(path, self.cwd);
        let Some(text) = self.sources.text(path) else {
            let one = Pos { line: 1, col: 1 };
            return Span { path: shown, text: None, range, start: one, end: one, lines: 0..0 };
        };
        let range = clamp(text, range);
        let index = self.indexes.entry(path.to_path_buf()).or_insert_with(|| LineIndex::new(text));
        let pos = |offset| {
            let lc = index.char_pos(text, offset);
            Pos { line: lc.line + 1, col: lc.col + 1 }
        };
        let (start, end) = (pos(range.start), pos(range.end));
        // A range that ends just after a newline does not reach into the next line.
        let last_line = index.line_of(if range.is_empty() { range.start } else { range.end - 1 });
        let first = index.line_start(start.line as usize - 1);
        let lines = first..index.line_start(last_line) + index.line_text(text, last_line).len();
        Span { path: shown, text: Some(text), range, start, end, lines }
    }
}

/// Each diagnostic with its primary span, sorted by path, line, column, code.
fn locate<'a>(diags: &'a [Diagnostic], locator: &mut Locator<'a>) -> Vec<(&'a Diagnostic, Span<'a>)> {
    let mut out: Vec<_> = diags.iter().map(|d| (d, locator.span(&d.path, d.range))).collect();
    out.sort_by(|(a, sa), (b, sb)| (&sa.path, sa.start, a.code).cmp(&(&sb.path, sb.start, b.code)));
    out
}

/// `range` shrunk to fit `text`, starting and ending on char boundaries.
///
/// A range that cuts a character in two grows to cover all of it.
fn clamp(text: &str, range: TextRange) -> TextRange {
    let start = floor_char_boundary(text, range.start);
    let mut end = range.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    TextRange::new(start, end)
}

/// `path` relative to `cwd` with forward slashes when it lies under `cwd`, else as given.
fn display_path(path: &Path, cwd: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(rel) if rel.components().next().is_some() => slashed(rel),
        _ => path.display().to_string(),
    }
}

/// A relative path's components joined with `/`.
fn slashed(rel: &Path) -> String {
    let parts: Vec<_> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_string_lossy(),
            other => other.as_os_str().to_string_lossy(),
        })
        .collect();
    parts.join("/")
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Shared inputs for the format tests.
    use super::*;

    pub const CWD: &str = "/repo";

    /// A workflow with a non-ASCII line, a CRLF file and an empty file.
    pub fn sources() -> HashMap<PathBuf, String> {
        let mut m = HashMap::new();
        m.insert(
            PathBuf::from("/repo/flows/wf.py"),
            "@task\ndef t(x: int) -> str:\n\treturn \"héllo 😀\" + x\n\n@workflow\ndef wf():\n    t(x=\"a\")\n"
                .to_string(),
        );
        m.insert(PathBuf::from("/repo/flows/crlf.py"), "a = 1\r\nb = t(x=1)\r\n".to_string());
        m.insert(PathBuf::from("/repo/empty.py"), String::new());
        m
    }

    fn at(text: &str, needle: &str) -> TextRange {
        let s = text.find(needle).expect("needle in fixture");
        TextRange::new(s, s + needle.len())
    }

    /// Diagnostics in no particular order, covering every tricky case.
    pub fn diagnostics() -> Vec<Diagnostic> {
        let src = sources();
        let wf = &src[Path::new("/repo/flows/wf.py")];
        let crlf = &src[Path::new("/repo/flows/crlf.py")];
        let x = wf.find("x\n").unwrap();
        vec![
            Diagnostic::new(
                "type-mismatch",
                Severity::Error,
                "/repo/flows/wf.py",
                at(wf, "\"a\""),
                "argument `x` of task `t` expects `int`, got `str`",
            )
            .with_related("/repo/flows/wf.py", at(wf, "x: int"), "parameter declared here")
            .with_related("/elsewhere/lib.py", TextRange::new(3, 9), "no source for this one"),
            // The `x` after the emoji: columns count characters, not bytes.
            Diagnostic::new(
                "type-mismatch",
                Severity::Warning,
                "/repo/flows/wf.py",
                TextRange::new(x, x + 1),
                "adding `int` to `str`",
            ),
            Diagnostic::new(
                "unused-output",
                Severity::Info,
                "/repo/flows/crlf.py",
                at(crlf, "t(x=1)"),
                "output of `t` is never used",
            ),
            // Starts inside `é`, ends past the text: clamped, never a panic.
            Diagnostic::new(
                "bad-range",
                Severity::Error,
                "/repo/flows/wf.py",
                TextRange::new(39, 9999),
                "range runs past the end, 100% odd: a, b\r\nsecond line",
            ),
            Diagnostic::new(
                "empty-file",
                Severity::Warning,
                "/repo/empty.py",
                TextRange::new(5, 2),
                "inverted range in an empty file",
            ),
            Diagnostic::new(
                "outside",
                Severity::Error,
                "lib/other.py",
                TextRange::new(0, 1),
                "a file that is not under cwd and has no source",
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_cwd_when_under_it() {
        let cwd = Path::new("/repo");
        assert_eq!(display_path(Path::new("/repo/a/b.py"), cwd), "a/b.py");
        assert_eq!(display_path(Path::new("/other/b.py"), cwd), "/other/b.py");
        assert_eq!(display_path(Path::new("a/b.py"), cwd), "a/b.py");
        assert_eq!(display_path(Path::new("/repo"), cwd), "/repo");
    }

    #[test]
    fn ranges_clamp_to_char_boundaries() {
        let text = "aé😀";
        assert_eq!(clamp(text, TextRange::new(2, 4)), TextRange::new(1, 7));
        assert_eq!(clamp(text, TextRange::new(50, 60)), TextRange::new(7, 7));
        assert_eq!(clamp(text, TextRange::new(5, 1)), TextRange::new(3, 3));
        assert_eq!(clamp("", TextRange::new(1, 2)), TextRange::new(0, 0));
    }

    #[test]
    fn positions_count_characters_and_end_after_the_range() {
        let sources = fixtures::sources();
        let mut loc = Locator::new(&sources, Path::new("/repo"));
        let text = &sources[Path::new("/repo/flows/wf.py")];
        let x = text.rfind("x\n").unwrap();
        let s = loc.span(Path::new("/repo/flows/wf.py"), TextRange::new(x, x + 1));
        // "\treturn \"héllo 😀\" + x": the tab and each character count once.
        assert_eq!((s.start, s.end), (Pos { line: 3, col: 21 }, Pos { line: 3, col: 22 }));
        let s = loc.span(Path::new("/repo/missing.py"), TextRange::new(10, 20));
        assert_eq!((s.start, s.end, s.text), (Pos { line: 1, col: 1 }, Pos { line: 1, col: 1 }, None));
    }

    #[test]
    fn diagnostics_sort_by_path_line_column_code() {
        let sources = fixtures::sources();
        let diags = fixtures::diagnostics();
        let mut loc = Locator::new(&sources, Path::new("/repo"));
        let order: Vec<_> =
            locate(&diags, &mut loc).iter().map(|(d, s)| (s.path.clone(), s.start.line, d.code)).collect();
        assert_eq!(
            order,
            [
                ("empty.py".into(), 1, "empty-file"),
                ("flows/crlf.py".into(), 2, "unused-output"),
                ("flows/wf.py".into(), 3, "bad-range"),
                ("flows/wf.py".into(), 3, "type-mismatch"),
                ("flows/wf.py".into(), 7, "type-mismatch"),
                ("lib/other.py".into(), 1, "outside"),
            ]
        );
    }
}
