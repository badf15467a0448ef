//! The project's files as last committed (git HEAD), parsed, for rules that compare the current
//! code with it. Front ends read the texts (`project::git::head_texts`) and hand them to
//! `Workspace::set_baseline`; the core itself stays plain data.
//!
//! Linking the committed project (index, entities, fingerprints) is cached: while only committed
//! files are edited (the usual case in an editor), every analysis reuses it.

use super::{Index, Module};
use crate::flyte::annotation::TypeResolver;
use crate::flyte::entity::{self, EntityTable};
use crate::flyte::fingerprint::{Fingerprinter, TaskFingerprint};
use crate::flyte::EntityId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Parsed committed versions of the workspace's files, by path.
pub struct Baseline {
    pub modules: HashMap<PathBuf, Arc<Module>>,
    linked: Mutex<Option<Arc<Linked>>>,
}

/// The committed project linked: committed texts where there are any, the current ones for files
/// new since the commit (or not tracked).
pub struct Linked {
    /// The modules it was built from, by address (the cache key).
    key: Vec<usize>,
    pub index: Index,
    pub entities: EntityTable,
    fingerprints: Mutex<HashMap<EntityId, Option<TaskFingerprint>>>,
}

impl Baseline {
    pub fn new(modules: HashMap<PathBuf, Arc<Module>>) -> Baseline {
        Baseline { modules, linked: Mutex::new(None) }
    }

    pub fn module(&self, path: &Path) -> Option<&Arc<Module>> {
        self.modules.get(path)
    }

    /// Does any of `current` differ from its committed text?
    pub fn differs(&self, current: &[Arc<Module>]) -> bool {
        current.iter().any(|m| self.modules.get(&m.path).is_some_and(|b| !Arc::ptr_eq(b, m) && *b.text != *m.text))
    }

    /// The committed project for the current set of files (cached while that set and the
    /// uncommitted files among them stay the same).
    pub fn linked(&self, current: &[Arc<Module>]) -> Arc<Linked> {
        let modules: Vec<Arc<Module>> =
            current.iter().map(|m| self.modules.get(&m.path).cloned().unwrap_or_else(|| m.clone())).collect();
        let key: Vec<usize> = modules.iter().map(|m| Arc::as_ptr(m) as usize).collect();
        let mut cache = self.linked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = cache.as_ref().filter(|l| l.key == key) {
            return l.clone();
        }
        let index = Index::new(modules);
        let entities = {
            let types = TypeResolver::new(&index);
            entity::collect(&index, &types)
        };
        let l = Arc::new(Linked { key, index, entities, fingerprints: Mutex::new(HashMap::new()) });
        *cache = Some(l.clone());
        l
    }
}

impl std::fmt::Debug for Baseline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Baseline").field("files", &self.modules.len()).finish()
    }
}

impl Linked {
    /// Fingerprints of committed entities (computed once per linked baseline).
    pub fn fingerprints(&self, ids: &[EntityId]) -> Vec<Option<TaskFingerprint>> {
        let mut memo = self.fingerprints.lock().unwrap_or_else(|e| e.into_inner());
        let mut fp = Fingerprinter::new(&self.index, &self.entities);
        ids.iter().map(|id| memo.entry(*id).or_insert_with(|| fp.entity(*id)).clone()).collect()
    }
}
