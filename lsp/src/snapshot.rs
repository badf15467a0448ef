//! Immutable state that read-only requests run on: the analyses of the loaded projects and
//! what the editor has open. Rebuilt (cheaply, by `Arc`) after every analysis.

use crate::conv::{self, TextLines};
use fledge_core::project::ModuleId;
use fledge_core::{Analysis, PartialAnalysis};
use lsp_types::Url;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One project's analysis: a full one, or a partial one (after an edit, before the next full
/// analysis is ready) that is right only for the files in `only`.
pub struct ProjectSnap {
    pub root: PathBuf,
    pub analysis: Analysis,
    pub modules: HashMap<PathBuf, ModuleId>,
    /// For a partial analysis: the files it re-analyzed (its graphs and diagnostics cover only them).
    pub only: Option<HashSet<PathBuf>>,
}

impl ProjectSnap {
    pub fn new(root: PathBuf, analysis: Analysis) -> Self {
        let modules = analysis.index.modules.iter().enumerate().map(|(i, m)| (m.path.clone(), i)).collect();
        ProjectSnap { root, analysis, modules, only: None }
    }

    pub fn partial(root: PathBuf, partial: PartialAnalysis) -> Self {
        let mut snap = ProjectSnap::new(root, partial.analysis);
        snap.only = Some(partial.affected.into_iter().collect());
        snap
    }

    /// Does this analysis speak for `path`?
    pub fn covers(&self, path: &Path) -> bool {
        self.modules.contains_key(path) && self.only.as_ref().is_none_or(|o| o.contains(path))
    }

    pub fn text(&self, path: &Path) -> Option<&str> {
        self.modules.get(path).map(|&m| &*self.analysis.index.module(m).text)
    }
}

#[derive(Clone, Debug)]
pub struct OpenDoc {
    pub uri: Url,
    pub version: i32,
}

#[derive(Default)]
pub struct Snapshot {
    /// The last full analysis of each project.
    pub projects: Vec<Arc<ProjectSnap>>,
    /// Partial analyses newer than the full ones, for the files they cover.
    pub overlays: Vec<Arc<ProjectSnap>>,
    pub docs: HashMap<PathBuf, OpenDoc>,
    pub uris: HashMap<Url, PathBuf>,
}

/// A file of a project, ready for position conversion.
pub struct FileCtx<'a> {
    pub project: &'a ProjectSnap,
    pub path: PathBuf,
    pub lines: TextLines<'a>,
}

impl FileCtx<'_> {
    pub fn analysis(&self) -> &Analysis {
        &self.project.analysis
    }
}

impl Snapshot {
    pub fn path_of(&self, uri: &Url) -> Option<PathBuf> {
        self.uris.get(uri).cloned().or_else(|| conv::uri_to_path(uri))
    }

    /// The URI the editor knows a path by.
    pub fn uri_of(&self, path: &Path) -> Option<Url> {
        match self.docs.get(path) {
            Some(d) => Some(d.uri.clone()),
            None => conv::path_to_uri(path),
        }
    }

    /// The project a file belongs to: the innermost loaded project root holding it.
    pub fn project_of(&self, path: &Path) -> Option<&ProjectSnap> {
        let depth = |p: &ProjectSnap| if path.starts_with(&p.root) { p.root.components().count() } else { 0 };
        let full = self.projects.iter().filter(|p| p.covers(path)).max_by_key(|p| depth(p))?;
        // A newer partial analysis of the same project wins for the files it re-analyzed.
        match self.overlays.iter().find(|o| o.root == full.root && o.covers(path)) {
            Some(o) => Some(o),
            None => Some(full),
        }
    }

    pub fn file(&self, uri: &Url) -> Option<FileCtx<'_>> {
        let path = self.path_of(uri)?;
        let project = self.project_of(&path)?;
        let text = project.text(&path)?;
        Some(FileCtx { project, path, lines: TextLines::new(text) })
    }

    /// Text of any file of `project` (for ranges in other files: definitions, related info).
    pub fn lines_in<'a>(&self, project: &'a ProjectSnap, path: &Path) -> Option<TextLines<'a>> {
        project.text(path).map(TextLines::new)
    }
}
