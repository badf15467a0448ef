//! Conversions between the core's byte offsets and paths and LSP's positions and URIs.
//! Positions are UTF-16 (LSP's default); out-of-range positions are clamped, never a panic.

use fledge_core::line_index::{LineCol, LineIndex};
use fledge_core::TextRange;
use lsp_types::{Position, Range, Url};
use std::path::{Path, PathBuf};

/// A file's text with its line index.
pub struct TextLines<'a> {
    pub text: &'a str,
    pub index: LineIndex,
}

impl<'a> TextLines<'a> {
    pub fn new(text: &'a str) -> Self {
        TextLines { text, index: LineIndex::new(text) }
    }

    pub fn offset(&self, p: Position) -> usize {
        self.index.offset_of_utf16(self.text, LineCol { line: p.line, col: p.character })
    }

    pub fn position(&self, offset: usize) -> Position {
        let lc = self.index.utf16_pos(self.text, offset);
        Position { line: lc.line, character: lc.col }
    }

    pub fn range(&self, r: TextRange) -> Range {
        let start = self.position(r.start);
        let end = self.position(r.end.max(r.start));
        Range { start, end }
    }

    /// A byte range from an LSP range (start and end ordered).
    pub fn text_range(&self, r: Range) -> TextRange {
        let a = self.offset(r.start);
        let b = self.offset(r.end);
        TextRange::new(a.min(b), a.max(b))
    }
}

/// The path of a `file:` URI, canonical when the file exists (the core's paths are canonical).
pub fn uri_to_path(uri: &Url) -> Option<PathBuf> {
    if uri.scheme() != "file" {
        return None;
    }
    let p = uri.to_file_path().ok()?;
    Some(canonical(p))
}

/// `p` with symlinks resolved; for a file that does not exist, its folder is resolved.
pub fn canonical(p: PathBuf) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) => match parent.canonicalize() {
            Ok(c) => c.join(name),
            Err(_) => p,
        },
        _ => p,
    }
}

pub fn path_to_uri(p: &Path) -> Option<Url> {
    Url::from_file_path(p).ok()
}

/// Apply one `didChange` content change to `text`.
pub fn apply_change(text: &mut String, range: Option<Range>, new_text: &str) {
    match range {
        None => {
            *text = new_text.to_string();
        }
        Some(r) => {
            let lines = TextLines::new(text);
            let tr = lines.text_range(r);
            drop(lines);
            text.replace_range(tr.start..tr.end, new_text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incremental_changes_use_utf16_and_clamp() {
        let mut t = "a = \"é😀\"\nb = 1\n".to_string();
        // Replace the `1` (line 1, col 4).
        apply_change(&mut t, Some(Range::new(Position::new(1, 4), Position::new(1, 5))), "2");
        assert_eq!(t, "a = \"é😀\"\nb = 2\n");
        // Insert after the emoji: `"é😀` is 1 + 1 + 2 UTF-16 units after col 4.
        apply_change(&mut t, Some(Range::new(Position::new(0, 8), Position::new(0, 8))), "x");
        assert_eq!(t, "a = \"é😀x\"\nb = 2\n");
        // Out of range: clamped to the end.
        apply_change(&mut t, Some(Range::new(Position::new(99, 0), Position::new(120, 4))), "# end\n");
        assert!(t.ends_with("# end\n"));
        // Reversed range: ordered.
        apply_change(&mut t, Some(Range::new(Position::new(1, 5), Position::new(1, 0))), "c = 3");
        assert!(t.contains("\nc = 3\n"), "{t}");
        // A position inside a surrogate pair never splits a character.
        apply_change(&mut t, Some(Range::new(Position::new(0, 7), Position::new(0, 7))), "");
        assert!(t.is_char_boundary(t.len()));
    }
}
