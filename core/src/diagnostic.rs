//! Diagnostics as plain data: what the front ends print or send to editors.

use serde::Serialize;
use std::path::PathBuf;

/// A half-open byte range `start..end` into one file's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
pub struct TextRange {
    pub start: usize,
    pub end: usize,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> Self {
        TextRange { start, end }
    }
    pub fn contains(&self, offset: usize) -> bool {
        self.start <= offset && offset < self.end
    }
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How bad a finding is. `Error` means flytekit or FlyteAdmin rejects the code, or it fails at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "error" => Some(Severity::Error),
            "warning" | "warn" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// A secondary location that explains a diagnostic (e.g. the upstream task's definition).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RelatedLocation {
    pub path: PathBuf,
    pub range: TextRange,
    pub message: String,
}

/// A machine-applicable edit that fixes a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<TextEdit>,
    /// The edit certainly does what the user meant, so `fledge check --fix` applies it; other
    /// fixes are a good guess that needs a look (`--unsafe-fixes`, or the editor's quick fix).
    pub safe: bool,
}

/// Replace `range` in `path` with `new_text`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TextEdit {
    pub path: PathBuf,
    pub range: TextRange,
    pub new_text: String,
}

/// One finding of one rule at one place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable kebab-case rule code, e.g. `type-mismatch`.
    pub code: &'static str,
    pub severity: Severity,
    /// The file, as given to the workspace (absolute or as discovered).
    pub path: PathBuf,
    pub range: TextRange,
    pub message: String,
    pub related: Vec<RelatedLocation>,
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    pub fn new(
        code: &'static str,
        severity: Severity,
        path: impl Into<PathBuf>,
        range: TextRange,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity,
            path: path.into(),
            range,
            message: message.into(),
            related: Vec::new(),
            fixes: Vec::new(),
        }
    }

    pub fn with_related(mut self, path: impl Into<PathBuf>, range: TextRange, message: impl Into<String>) -> Self {
        self.related.push(RelatedLocation { path: path.into(), range, message: message.into() });
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fixes.push(fix);
        self
    }
}
