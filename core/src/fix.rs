//! Applying fixes to file texts: what `fledge check --fix` and the tests use, so a fix means the
//! same edit everywhere. Plain data: texts and diagnostics in, new texts out.

use crate::diagnostic::{Diagnostic, TextEdit};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which fixes to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applicability {
    /// Only fixes marked safe.
    Safe,
    /// Every diagnostic's first fix.
    All,
}

/// The fixes to make in one file.
#[derive(Clone, Debug, Default)]
pub struct FileFixes {
    /// Sorted by position, non-overlapping.
    pub edits: Vec<TextEdit>,
    /// How many fixes (diagnostics) the edits make.
    pub fixes: usize,
}

/// The edits of the first applicable fix of each diagnostic, by file, in text order. A fix with an
/// edit that overlaps one already taken is left out whole (the next round picks it up).
pub fn collect(diagnostics: &[Diagnostic], which: Applicability) -> BTreeMap<PathBuf, FileFixes> {
    let mut out: BTreeMap<PathBuf, FileFixes> = BTreeMap::new();
    for d in diagnostics {
        let Some(fix) = d.fixes.iter().find(|f| f.safe || which == Applicability::All) else { continue };
        let overlaps = fix.edits.iter().any(|e| {
            out.get(&e.path).is_some_and(|taken| {
                taken.edits.iter().any(|t| {
                    e.range.start < t.range.end && t.range.start < e.range.end
                        || (e.range.start == t.range.start && e.range.is_empty() && t.range.is_empty())
                })
            })
        });
        if overlaps {
            continue;
        }
        for e in &fix.edits {
            out.entry(e.path.clone()).or_default().edits.push(e.clone());
        }
        if let Some(first) = fix.edits.first() {
            out.entry(first.path.clone()).or_default().fixes += 1;
        }
    }
    for f in out.values_mut() {
        f.edits.sort_by_key(|e| (e.range.start, e.range.end));
    }
    out
}

/// `text` with non-overlapping `edits` (sorted by start) applied; `None` if an edit falls outside
/// the text or off a character boundary.
pub fn apply(text: &str, edits: &[TextEdit]) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in edits {
        if e.range.start < at || e.range.end > text.len() || e.range.start > e.range.end {
            return None;
        }
        out.push_str(text.get(at..e.range.start)?);
        text.get(e.range.start..e.range.end)?;
        out.push_str(&e.new_text);
        at = e.range.end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}
