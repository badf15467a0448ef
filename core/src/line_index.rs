//! Byte offsets to line/column, shared by every front end.
//!
//! The core speaks byte offsets; the CLI wants 1-based character columns and
//! LSP wants 0-based UTF-16 columns. Both come from here.

/// Line starts of one text, for offset <-> position conversion.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    len: usize,
}

/// A 0-based line and a column in the unit asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        LineIndex { line_starts, len: text.len() }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// 0-based line containing `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        match self.line_starts.binary_search(&offset) {
            Ok(l) => l,
            Err(l) => l - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(self.len)
    }

    /// The text of a 0-based line without its line ending.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> &'a str {
        let start = self.line_start(line).min(text.len());
        let end = self.line_starts.get(line + 1).copied().unwrap_or(text.len()).min(text.len());
        let s = text.get(start..end).unwrap_or("");
        s.trim_end_matches(['\n', '\r'])
    }

    /// 0-based line and 0-based column counted in Unicode scalar values.
    pub fn char_pos(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let col = text[start..offset].chars().count();
        LineCol { line: line as u32, col: col as u32 }
    }

    /// 0-based line and 0-based column counted in UTF-16 code units (LSP's default).
    pub fn utf16_pos(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let col: usize = text[start..offset].chars().map(char::len_utf16).sum();
        LineCol { line: line as u32, col: col as u32 }
    }

    /// Byte offset of a 0-based line and UTF-16 column; out-of-range positions are clamped.
    pub fn offset_of_utf16(&self, text: &str, pos: LineCol) -> usize {
        let line = pos.line as usize;
        if line >= self.line_starts.len() {
            return text.len();
        }
        let start = self.line_start(line);
        let line_text = self.line_text(text, line);
        let mut units = 0u32;
        for (i, ch) in line_text.char_indices() {
            if units >= pos.col {
                return start + i;
            }
            units += ch.len_utf16() as u32;
        }
        start + line_text.len()
    }
}

/// The largest char boundary at or below `offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_chars_and_utf16_units() {
        let text = "a = 1\nb = \"é😀\" + x\n";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(idx.char_pos(text, x), LineCol { line: 1, col: 11 });
        assert_eq!(idx.utf16_pos(text, x), LineCol { line: 1, col: 12 });
        assert_eq!(idx.offset_of_utf16(text, LineCol { line: 1, col: 12 }), x);
    }

    #[test]
    fn out_of_range_positions_clamp() {
        let text = "ab\ncd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.offset_of_utf16(text, LineCol { line: 9, col: 0 }), text.len());
        assert_eq!(idx.offset_of_utf16(text, LineCol { line: 0, col: 99 }), 2);
        assert_eq!(idx.char_pos(text, 999), LineCol { line: 1, col: 2 });
    }
}
