//! The project's files as last committed (git HEAD), parsed, for rules that compare the current
//! code with it. Front ends read the texts (`project::git::head_texts`) and hand them to
//! `Workspace::set_baseline`; the core itself stays plain data.

use super::Module;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Parsed committed versions of the workspace's files, by path.
#[derive(Debug, Default)]
pub struct Baseline {
    pub modules: HashMap<PathBuf, Arc<Module>>,
}

impl Baseline {
    pub fn module(&self, path: &Path) -> Option<&Arc<Module>> {
        self.modules.get(path)
    }

    /// Does any of `current` differ from its committed text?
    pub fn differs(&self, current: &[Arc<Module>]) -> bool {
        current.iter().any(|m| self.modules.get(&m.path).is_some_and(|b| !Arc::ptr_eq(b, m) && *b.text != *m.text))
    }
}
