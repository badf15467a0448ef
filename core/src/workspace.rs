//! The front door of the core: a set of files in, an [`Analysis`] out.
//!
//! Parsing is per file and cached: `set_file` re-parses only that file. `analyze` links all
//! modules, builds entities and workflow graphs, and runs the rules.

use crate::diagnostic::Diagnostic;
use crate::flyte::annotation::TypeResolver;
use crate::flyte::entity::{self, EntityTable};
use crate::flyte::{eval, EntityKind, WorkflowGraph};
use crate::project::discover::{self, WalkProblem};
use crate::project::{deps, Baseline, Config, Index, Module, ModuleId};
use crate::rules;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A project being analyzed: its root, configuration and current file texts.
/// Cloning is cheap (modules are shared), so a front end can analyze a copy off its main loop.
#[derive(Clone)]
pub struct Workspace {
    root: PathBuf,
    source_roots: Vec<PathBuf>,
    config: Config,
    modules: BTreeMap<PathBuf, Arc<Module>>,
    /// Paths whose diagnostics are reported (others are context only: imported but not checked).
    checked: BTreeMap<PathBuf, bool>,
    walk_problems: Vec<WalkProblem>,
    /// Module dependencies from the last incremental analysis, reused for unchanged modules.
    deps: Arc<Mutex<DepsCache>>,
    /// Grows with every change (see [`Workspace::revision`]).
    revision: u64,
    /// The revision at which each file last changed.
    file_revisions: BTreeMap<PathBuf, u64>,
    /// The last revision that added or removed a file or changed the configuration or baseline.
    structure_revision: u64,
    /// The files as last committed, for rules that compare with them (`stale-cache-version`).
    baseline: Option<Arc<Baseline>>,
}

/// Each module's [`deps::module_deps`], valid for one set of module paths; an entry is reused
/// while its module is the same (`Arc`) one.
#[derive(Default)]
struct DepsCache {
    paths: Vec<PathBuf>,
    entries: Vec<(Option<Arc<Module>>, Vec<ModuleId>)>,
}

/// Everything the core knows after one analysis.
pub struct Analysis {
    pub index: Index,
    pub entities: EntityTable,
    /// One graph per workflow and `@dynamic` task, by entity id.
    pub graphs: Vec<WorkflowGraph>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Failure to set up a workspace (bad configuration); per-file problems are diagnostics instead.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Workspace {
    /// An empty workspace rooted at `root`.
    pub fn new(root: PathBuf, config: Config) -> Workspace {
        let source_roots = discover::source_roots(&root, &config);
        Workspace {
            root,
            source_roots,
            config,
            modules: BTreeMap::new(),
            checked: BTreeMap::new(),
            walk_problems: Vec::new(),
            deps: Arc::default(),
            revision: 0,
            file_revisions: BTreeMap::new(),
            structure_revision: 0,
            baseline: None,
        }
    }

    /// Discover the project around `paths` (the first path's root), read its configuration and
    /// load every Python file of the project; diagnostics are reported for files under `paths`.
    pub fn load(paths: &[PathBuf]) -> Result<Workspace, SetupError> {
        let first = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        let root = discover::find_root(&first);
        let config = discover::load_config(&root).map_err(SetupError)?;
        let mut ws = Workspace::new(root.clone(), config);
        let (all, mut problems) = discover::python_files(&root, std::slice::from_ref(&root), &ws.config);
        let requested: Vec<PathBuf> = paths.iter().map(|p| p.canonicalize().unwrap_or_else(|_| p.clone())).collect();
        // Paths outside the project (or files it excludes) are still checked when named.
        let outside: Vec<PathBuf> =
            requested.iter().filter(|p| !p.starts_with(&root) || p.is_file() || !p.exists()).cloned().collect();
        let (mut extra, p2) = discover::python_files(&root, &outside, &ws.config);
        problems.extend(p2);
        let mut files = all;
        files.append(&mut extra);
        files.sort();
        files.dedup();
        let modules: Vec<(PathBuf, Result<Module, String>)> = files
            .into_par_iter()
            .map(|path| {
                let m = read_source(&path).map(|(text, bad)| {
                    let name = discover::module_name(&path, &ws.source_roots);
                    Module::new(name, path.clone(), Arc::from(text), bad)
                });
                (path, m)
            })
            .collect();
        for (path, m) in modules {
            let is_checked = requested.iter().any(|r| path.starts_with(r));
            match m {
                Ok(m) => {
                    ws.checked.insert(path.clone(), is_checked);
                    ws.modules.insert(path, Arc::new(m));
                }
                Err(message) => problems.push(WalkProblem { path, message }),
            }
        }
        ws.walk_problems = problems;
        Ok(ws)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn set_config(&mut self, config: Config) {
        self.source_roots = discover::source_roots(&self.root, &config);
        self.config = config;
        self.revision += 1;
        self.structure_revision = self.revision;
    }

    /// A number that grows with every change to the files or the configuration, so a front end
    /// can tell which analysis is current and ask [`Workspace::changed_since`] an older one.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The files whose text changed after `revision`, ready for [`Workspace::analyze_affected`];
    /// `None` when files were added or removed, or the configuration or the baseline changed
    /// since (then only a full [`Workspace::analyze`] is right).
    pub fn changed_since(&self, revision: u64) -> Option<Vec<PathBuf>> {
        if self.structure_revision > revision {
            return None;
        }
        Some(self.file_revisions.iter().filter(|(_, &r)| r > revision).map(|(p, _)| p.clone()).collect())
    }

    /// Problems met while reading the tree (unreadable files, missing paths).
    pub fn walk_problems(&self) -> &[WalkProblem] {
        &self.walk_problems
    }

    /// Add or replace a file's text; only this file is re-parsed.
    pub fn set_file(&mut self, path: PathBuf, text: String) {
        let name = discover::module_name(&path, &self.source_roots);
        let m = Module::new(name, path.clone(), Arc::from(text), None);
        self.checked.entry(path.clone()).or_insert(true);
        self.revision += 1;
        if self.modules.insert(path.clone(), Arc::new(m)).is_none() {
            self.structure_revision = self.revision;
        }
        self.file_revisions.insert(path, self.revision);
    }

    pub fn remove_file(&mut self, path: &Path) {
        if self.modules.remove(path).is_some() {
            self.revision += 1;
            self.structure_revision = self.revision;
        }
        self.checked.remove(path);
        self.file_revisions.remove(path);
    }

    /// The current text of a file.
    pub fn file_text(&self, path: &Path) -> Option<&str> {
        self.modules.get(path).map(|m| &*m.text)
    }

    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.modules.keys().map(PathBuf::as_path)
    }

    /// Set the files' texts as last committed (paths as the workspace's files); files without a
    /// baseline text count as unchanged. Replaces any earlier baseline.
    pub fn set_baseline(&mut self, files: Vec<(PathBuf, String)>) {
        let roots = &self.source_roots;
        let current = &self.modules;
        let modules = files
            .into_par_iter()
            .map(|(path, text)| match current.get(&path) {
                // Unchanged since the commit: share the parsed module.
                Some(m) if *m.text == *text => (path, m.clone()),
                _ => {
                    let name = discover::module_name(&path, roots);
                    (path.clone(), Arc::new(Module::new(name, path, Arc::from(text), None)))
                }
            })
            .collect();
        self.baseline = Some(Arc::new(Baseline::new(modules)));
        self.revision += 1;
        self.structure_revision = self.revision;
    }

    pub fn clear_baseline(&mut self) {
        self.baseline = None;
        self.revision += 1;
        self.structure_revision = self.revision;
    }

    pub fn baseline(&self) -> Option<&Baseline> {
        self.baseline.as_deref()
    }

    /// Link everything and run every enabled rule.
    pub fn analyze(&self) -> Analysis {
        let modules: Vec<Arc<Module>> = self.modules.values().cloned().collect();
        self.analyze_scoped(Index::new(modules), None, None)
    }

    /// Re-analyze only what edits to `changed` can affect, for a front end that already has the
    /// analysis of the workspace before those edits (with the same set of files and configuration).
    ///
    /// The affected modules are the changed ones and every module whose analysis may consult them
    /// (importers, transitively; see [`deps`]). Their diagnostics in the result are exactly those a
    /// full [`Workspace::analyze`] would give; every other file's diagnostics are unchanged by the
    /// edits. The result's entities cover the affected modules and what they depend on; its graphs
    /// and diagnostics only the affected modules.
    pub fn analyze_affected(&self, changed: &[PathBuf]) -> PartialAnalysis {
        let modules: Vec<Arc<Module>> = self.modules.values().cloned().collect();
        let index = Index::new(modules);
        let deps = self.module_deps(&index);
        let start: Vec<ModuleId> = changed.iter().filter_map(|p| self.modules.keys().position(|k| k == p)).collect();
        let affected = deps::closure(&deps::reverse_deps(&deps), start.iter().copied());
        let needed = deps::closure(&deps, (0..affected.len()).filter(|&m| affected[m]));
        let affected_paths =
            (0..affected.len()).filter(|&m| affected[m]).map(|m| index.module(m).path.clone()).collect();
        let analysis = self.analyze_scoped(index, Some(&needed), Some(&affected));
        PartialAnalysis { analysis, affected: affected_paths }
    }

    /// Every module's dependencies, recomputed only for modules that changed since the last call.
    fn module_deps(&self, index: &Index) -> Vec<Vec<ModuleId>> {
        let mut cache = self.deps.lock().unwrap_or_else(|e| e.into_inner());
        if cache.paths.len() != index.modules.len() || cache.paths.iter().zip(&index.modules).any(|(p, m)| *p != m.path)
        {
            cache.paths = index.modules.iter().map(|m| m.path.clone()).collect();
            cache.entries = vec![(None, Vec::new()); index.modules.len()];
        }
        for (m, module) in index.modules.iter().enumerate() {
            let entry = &mut cache.entries[m];
            if !entry.0.as_ref().is_some_and(|old| Arc::ptr_eq(old, module)) {
                *entry = (Some(module.clone()), deps::module_deps(index, m));
            }
        }
        cache.entries.iter().map(|(_, d)| d.clone()).collect()
    }

    /// Entities of the `needed` modules; graphs, rules and diagnostics of the `report` modules.
    fn analyze_scoped(&self, index: Index, needed: Option<&[bool]>, report: Option<&[bool]>) -> Analysis {
        let types = TypeResolver::new(&index);
        let entities = entity::collect_in(&index, &types, needed);
        let in_report = |m: ModuleId| report.is_none_or(|r| r.get(m).copied().unwrap_or(false));
        let mut graphs = Vec::new();
        for (id, e) in entities.entities.iter().enumerate() {
            if matches!(e.kind, EntityKind::Workflow | EntityKind::DynamicTask) && in_report(e.module) {
                if let Some(g) = eval::evaluate(&index, &types, &entities, id) {
                    graphs.push(g);
                }
            }
        }
        let ctx = rules::Context {
            index: &index,
            types: &types,
            entities: &entities,
            graphs: &graphs,
            config: &self.config,
            scope: report,
            baseline: self.baseline.as_deref(),
        };
        let mut diagnostics = rules::run(&ctx);
        diagnostics.retain(|d| self.checked.get(&d.path).copied().unwrap_or(true));
        if report.is_some() {
            // A partial analysis speaks only for the modules it re-analyzed.
            let reported: std::collections::HashSet<&Path> = index
                .modules
                .iter()
                .enumerate()
                .filter(|(m, _)| in_report(*m))
                .map(|(_, m)| m.path.as_path())
                .collect();
            diagnostics.retain(|d| reported.contains(d.path.as_path()));
        }
        drop(types);
        Analysis { index, entities, graphs, diagnostics }
    }
}

/// The result of [`Workspace::analyze_affected`].
pub struct PartialAnalysis {
    pub analysis: Analysis,
    /// The files whose diagnostics (and graphs) `analysis` holds, sorted.
    pub affected: Vec<PathBuf>,
}

/// Read a source file, refusing ones too large to be real code.
fn read_source(path: &Path) -> Result<(String, Option<usize>), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read file: {e}"))?;
    if !meta.is_file() {
        return Err("skipped: not a regular file".into());
    }
    if meta.len() > discover::MAX_FILE_BYTES {
        return Err(format!(
            "skipped: the file is {} MB, over the {} MB limit",
            meta.len() >> 20,
            discover::MAX_FILE_BYTES >> 20
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read file: {e}"))?;
    Ok(discover::decode(bytes))
}
