//! Linking modules: what a name or dotted expression in a module refers to.

use super::module::{Module, Symbol};
use crate::syntax::{ClassDef, Expr, ExprKind, FunctionDef};
use std::collections::HashMap;
use std::sync::Arc;

/// Index of a module in an [`Index`].
pub type ModuleId = usize;

/// What a name refers to after following imports and re-exports.
#[derive(Clone, Debug)]
pub enum Resolved {
    Module(ModuleId),
    Function(ModuleId, Arc<FunctionDef>),
    Class(ModuleId, Arc<ClassDef>),
    /// A top-level `name = value` in a project module.
    Value(ModuleId, String, Arc<Expr>),
    /// Something outside the project, by canonical dotted path (`flytekit.task`, `typing.List`).
    External(String),
    Unknown,
}

impl Resolved {
    pub fn external(&self) -> Option<&str> {
        match self {
            Resolved::External(p) => Some(p),
            _ => None,
        }
    }
}

/// How many import hops resolution follows before giving up (guards against import cycles).
const MAX_HOPS: usize = 32;

/// All modules of one analysis, addressable by id and by dotted name.
pub struct Index {
    pub modules: Vec<Arc<Module>>,
    by_name: HashMap<String, ModuleId>,
}

impl Index {
    pub fn new(modules: Vec<Arc<Module>>) -> Index {
        let mut by_name = HashMap::new();
        for (i, m) in modules.iter().enumerate() {
            by_name.entry(m.name.clone()).or_insert(i);
        }
        Index { modules, by_name }
    }

    pub fn module(&self, id: ModuleId) -> &Module {
        &self.modules[id]
    }

    pub fn module_by_name(&self, name: &str) -> Option<ModuleId> {
        self.by_name.get(name).copied()
    }

    /// Is `name` (or a package above it) a module of this project?
    pub fn is_project_package(&self, name: &str) -> bool {
        let top = name.split('.').next().unwrap_or(name);
        self.by_name.contains_key(top)
            || self.by_name.keys().any(|k| k.starts_with(top) && k[top.len()..].starts_with('.'))
    }

    /// The modules outside the project that the project's modules import at their top level
    /// (`import pandas`, `from flytekit.types.file import FlyteFile` gives `flytekit.types.file`),
    /// sorted, each once: what loading the project will import besides its own modules.
    pub fn external_imports(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .modules
            .iter()
            .flat_map(|m| m.imports.iter())
            .filter_map(|site| site.module.clone())
            .filter(|name| name != "__future__" && !self.is_project_package(name))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Find a module imported as `name` from module `from`: absolute first, then beside the
    /// importing file (how a script run directly sees its neighbours).
    pub fn find_import(&self, from: ModuleId, name: &str) -> Option<ModuleId> {
        if let Some(id) = self.module_by_name(name) {
            return Some(id);
        }
        let importer = &self.modules[from].name;
        let dir =
            if self.modules[from].is_package { importer.as_str() } else { importer.rsplit_once('.').map(|p| p.0)? };
        self.module_by_name(&format!("{dir}.{name}"))
    }

    /// What `name` means at the top level of module `m`.
    pub fn resolve_name(&self, m: ModuleId, name: &str) -> Resolved {
        self.member(m, name, 0)
    }

    /// What a name or attribute chain (`fk.task`, `mod.sub.t`) means in module `m`.
    pub fn resolve_expr(&self, m: ModuleId, e: &Expr) -> Resolved {
        match &e.kind {
            ExprKind::Name(n) => self.resolve_name(m, n),
            ExprKind::Attribute { value, attr, .. } => match self.resolve_expr(m, value) {
                Resolved::Module(id) => self.member(id, attr, 0),
                Resolved::External(p) => Resolved::External(canonical_external(&format!("{p}.{attr}"))),
                _ => Resolved::Unknown,
            },
            _ => Resolved::Unknown,
        }
    }

    fn import_module(&self, from: ModuleId, module: &str) -> Resolved {
        match self.find_import(from, module) {
            Some(id) => Resolved::Module(id),
            None => Resolved::External(canonical_external(module)),
        }
    }

    /// Look `name` up in module `m`'s namespace (symbols, submodules, star imports, builtins).
    pub fn member(&self, m: ModuleId, name: &str, hops: usize) -> Resolved {
        if hops > MAX_HOPS {
            return Resolved::Unknown;
        }
        let module = &self.modules[m];
        if let Some(sym) = module.symbols.get(name) {
            return match sym {
                Symbol::Function(f) => Resolved::Function(m, f.clone()),
                Symbol::Class(c) => Resolved::Class(m, c.clone()),
                Symbol::Value { value, .. } => {
                    // `alias = other_name` re-exports: follow plain names and attribute chains.
                    match &value.kind {
                        ExprKind::Name(_) | ExprKind::Attribute { .. } if hops < MAX_HOPS => {
                            match self.resolve_expr_hops(m, value, hops + 1) {
                                Resolved::Unknown => Resolved::Value(m, name.to_string(), value.clone()),
                                r => r,
                            }
                        }
                        _ => Resolved::Value(m, name.to_string(), value.clone()),
                    }
                }
                Symbol::ImportModule { module: target, .. } => self.import_module(m, target),
                Symbol::ImportFrom { module: from, name: imported, .. } => match self.find_import(m, from) {
                    Some(id) => {
                        if id == m && imported == name {
                            return Resolved::Unknown;
                        }
                        match self.member(id, imported, hops + 1) {
                            Resolved::Unknown => {
                                match self.module_by_name(&format!("{}.{imported}", self.modules[id].name)) {
                                    Some(sub) => Resolved::Module(sub),
                                    None => Resolved::Unknown,
                                }
                            }
                            r => r,
                        }
                    }
                    None => match self.module_by_name(&format!("{from}.{imported}")) {
                        Some(sub) => Resolved::Module(sub),
                        None => Resolved::External(canonical_external(&format!("{from}.{imported}"))),
                    },
                },
            };
        }
        // A submodule of a package is reachable as an attribute once imported anywhere.
        if let Some(sub) = self.module_by_name(&format!("{}.{name}", module.name)) {
            if module.is_package {
                return Resolved::Module(sub);
            }
        }
        for star in &module.star_imports {
            match self.find_import(m, star) {
                Some(id) if id != m => match self.member(id, name, hops + 1) {
                    Resolved::Unknown => {}
                    r => return r,
                },
                Some(_) => {}
                None => {
                    let path = canonical_external(&format!("{star}.{name}"));
                    if is_known_external(&path) {
                        return Resolved::External(path);
                    }
                }
            }
        }
        if BUILTINS.contains(&name) {
            return Resolved::External(format!("builtins.{name}"));
        }
        Resolved::Unknown
    }

    fn resolve_expr_hops(&self, m: ModuleId, e: &Expr, hops: usize) -> Resolved {
        match &e.kind {
            ExprKind::Name(n) => self.member(m, n, hops),
            ExprKind::Attribute { value, attr, .. } => match self.resolve_expr_hops(m, value, hops + 1) {
                Resolved::Module(id) => self.member(id, attr, hops + 1),
                Resolved::External(p) => Resolved::External(canonical_external(&format!("{p}.{attr}"))),
                _ => Resolved::Unknown,
            },
            _ => Resolved::Unknown,
        }
    }
}

const BUILTINS: &[&str] = &[
    "int",
    "float",
    "str",
    "bool",
    "bytes",
    "list",
    "dict",
    "tuple",
    "set",
    "frozenset",
    "object",
    "type",
    "len",
    "range",
    "print",
    "isinstance",
    "sorted",
    "sum",
    "min",
    "max",
    "abs",
    "round",
    "repr",
    "enumerate",
    "zip",
    "map",
    "filter",
    "any",
    "all",
    "iter",
    "next",
    "open",
    "format",
    "hash",
    "id",
    "getattr",
    "setattr",
    "hasattr",
    "reversed",
    "divmod",
    "pow",
    "chr",
    "ord",
    "hex",
    "bin",
    "oct",
    "callable",
    "vars",
    "dir",
    "super",
    "Exception",
    "ValueError",
    "TypeError",
    "RuntimeError",
    "KeyError",
    "NotImplementedError",
    "complex",
    "bytearray",
    "memoryview",
    "slice",
    "property",
    "staticmethod",
    "classmethod",
];

/// flytekit names fledge knows, by the name flytekit exports them under.
const FLYTEKIT_NAMES: &[&str] = &[
    "task",
    "workflow",
    "dynamic",
    "eager",
    "map_task",
    "LaunchPlan",
    "conditional",
    "reference_task",
    "reference_workflow",
    "reference_launch_plan",
    "Resources",
    "Cache",
    "CachePolicy",
    "ImperativeWorkflow",
    "Workflow",
    "create_node",
    "FlyteFile",
    "FlyteDirectory",
    "StructuredDataset",
    "kwtypes",
    "FlyteSchema",
    "ImageSpec",
    "Secret",
    "PodTemplate",
    "Deck",
    "current_context",
    "WorkflowFailurePolicy",
    "CronSchedule",
    "FixedRate",
    "Email",
    "Slack",
    "PagerDuty",
    "Labels",
    "Annotations",
    "approve",
    "sleep",
    "wait_for_input",
    "ArrayNode",
    "array_node",
    "CSVFile",
    "HDF5EncodedFile",
    "HTMLPage",
    "JoblibSerializedFile",
    "JPEGImageFile",
    "PDFFile",
    "PNGImageFile",
    "PythonPickledFile",
    "PythonNotebook",
    "SVGImageFile",
    "TFRecordFile",
    "TensorboardLogs",
    "TFRecordsDirectory",
    "PythonFunctionTask",
    "ContainerTask",
    "BatchSize",
    "Documentation",
    "Description",
    "SourceCode",
    "FlytePickle",
    "Email",
    "TaskMetadata",
    "HashMethod",
    "Artifact",
    "ImperativeWorkflow",
];

/// Map the many import paths of one thing to one canonical dotted path.
pub fn canonical_external(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("typing_extensions.") {
        return format!("typing.{rest}");
    }
    if let Some(rest) = path.strip_prefix("collections.abc.") {
        return format!("typing.{rest}");
    }
    if path.starts_with("flytekit.") {
        let last = path.rsplit('.').next().unwrap_or(path);
        if last == "Workflow" && !path.contains("workflow.workflow") {
            return "flytekit.ImperativeWorkflow".into();
        }
        if FLYTEKIT_NAMES.contains(&last) {
            return format!("flytekit.{last}");
        }
        // `flytekit.core.workflow.workflow`, `flytekit.core.task.task`, ...
        return path.to_string();
    }
    match path {
        "pandas.core.frame.DataFrame" => "pandas.DataFrame".into(),
        "pyarrow.lib.Table" => "pyarrow.Table".into(),
        "numpy.typing.NDArray" => "numpy.ndarray".into(),
        "dataclasses_json.dataclass_json" => "dataclasses_json.dataclass_json".into(),
        "pydantic.main.BaseModel" => "pydantic.BaseModel".into(),
        _ => path.to_string(),
    }
}

/// Names `from typing import *` brings in that matter here.
const TYPING_NAMES: &[&str] = &[
    "Any",
    "Annotated",
    "Dict",
    "List",
    "Optional",
    "Union",
    "Tuple",
    "NamedTuple",
    "Iterator",
    "Generator",
    "Sequence",
    "Mapping",
    "TypeVar",
    "Literal",
    "ClassVar",
    "Callable",
    "Set",
    "FrozenSet",
    "Type",
];

fn is_known_external(path: &str) -> bool {
    match path.split_once('.') {
        Some(("flytekit", name)) => FLYTEKIT_NAMES.contains(&name),
        Some(("typing", name)) => TYPING_NAMES.contains(&name),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn index(files: &[(&str, &str, &str)]) -> Index {
        Index::new(
            files
                .iter()
                .map(|(name, path, text)| {
                    Arc::new(Module::new(name.to_string(), PathBuf::from(path), Arc::from(*text), None))
                })
                .collect(),
        )
    }

    #[test]
    fn external_imports_are_the_top_level_imports_from_outside_the_project() {
        let idx = index(&[
            ("pkg", "pkg/__init__.py", "from __future__ import annotations\nfrom .tasks import clean\n"),
            (
                "pkg.tasks",
                "pkg/tasks.py",
                "import pandas as pd, numpy\nimport os.path\nfrom flytekit.types.file import FlyteFile\n\
                 from pkg import helpers\nfrom . import other\n\ndef f():\n    import torch\n",
            ),
            ("pkg.other", "pkg/other.py", "import pandas\nfrom typing import List\n"),
        ]);
        assert_eq!(idx.external_imports(), ["flytekit.types.file", "numpy", "os.path", "pandas", "typing"]);
    }

    #[test]
    fn follows_reexports_aliases_and_flytekit_paths() {
        let idx = index(&[
            ("pkg", "pkg/__init__.py", "from .tasks import clean as tidy\n"),
            (
                "pkg.tasks",
                "pkg/tasks.py",
                "from flytekit.core.task import task as flyte_task\n@flyte_task\ndef clean(x: int) -> int: ...\n",
            ),
            (
                "wf",
                "wf.py",
                "import pkg\nfrom pkg import tidy\nimport flytekit as fk\nfrom typing_extensions import Annotated\n",
            ),
        ]);
        let wf = idx.module_by_name("wf").unwrap();
        assert!(matches!(idx.resolve_name(wf, "tidy"), Resolved::Function(_, f) if f.name == "clean"));
        let tasks = idx.module_by_name("pkg.tasks").unwrap();
        assert_eq!(idx.resolve_name(tasks, "flyte_task").external(), Some("flytekit.task"));
        let e = crate::syntax::parse("fk.workflow\npkg.tasks.clean\n");
        let exprs: Vec<&Expr> = e
            .body
            .iter()
            .filter_map(|s| match &s.kind {
                crate::syntax::StmtKind::Expr(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(idx.resolve_expr(wf, exprs[0]).external(), Some("flytekit.workflow"));
        assert!(matches!(idx.resolve_expr(wf, exprs[1]), Resolved::Function(_, f) if f.name == "clean"));
        assert_eq!(idx.resolve_name(wf, "Annotated").external(), Some("typing.Annotated"));
    }

    #[test]
    fn import_cycles_terminate() {
        let idx = index(&[("a", "a.py", "from b import x\n"), ("b", "b.py", "from a import x\n")]);
        assert!(matches!(idx.resolve_name(0, "x"), Resolved::Unknown));
    }
}
