//! Immutable state that read-only requests run on: the analyses of the loaded projects and
//! what the editor has open. Rebuilt (cheaply, by `Arc`) after every analysis.

use crate::conv::{self, TextLines};
use fledge_core::project::ModuleId;
use fledge_core::Analysis;
use lsp_types::Url;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One project's analysis.
pub struct ProjectSnap {
    pub root: PathBuf,
    pub analysis: Analysis,
    pub modules: HashMap<PathBuf, ModuleId>,
}

impl ProjectSnap {
    pub fn new(root: PathBuf, analysis: Analysis) -> Self {
        let modules = analysis.index.modules.iter().enumerate().map(|(i, m)| (m.path.clone(), i)).collect();
        ProjectSnap { root, analysis, modules }
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
    pub projects: Vec<Arc<ProjectSnap>>,
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
        self.projects
            .iter()
            .filter(|p| p.modules.contains_key(path))
            .max_by_key(|p| if path.starts_with(&p.root) { p.root.components().count() } else { 0 })
            .map(|p| &**p)
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
