//! One Python module: its parsed body and the names it binds at top level.

use crate::diagnostic::TextRange;
use crate::syntax::{self, ClassDef, Expr, FunctionDef, ParsedModule, Stmt, StmtKind};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What a top-level name is bound to.
#[derive(Clone, Debug)]
pub enum Symbol {
    Function(Arc<FunctionDef>),
    Class(Arc<ClassDef>),
    /// `name = value` (the last plain assignment wins).
    Value {
        value: Arc<Expr>,
        range: TextRange,
    },
    /// `import a.b as name` (module `a.b`) or `import a.b` (binds `a`, module `a`).
    ImportModule {
        module: String,
        range: TextRange,
    },
    /// `from module import name as alias`, with `module` made absolute.
    ImportFrom {
        module: String,
        name: String,
        range: TextRange,
    },
}

/// An import statement as written, kept for `unresolved-import`.
#[derive(Clone, Debug)]
pub struct ImportSite {
    /// Absolute module path, or `None` when a relative import climbs above the top package.
    pub module: Option<String>,
    /// For `from m import n`: the imported names (they may be submodules).
    pub names: Vec<(String, TextRange)>,
    pub range: TextRange,
    /// The text as written (`..util`), for messages.
    pub written: String,
}

/// A parsed module with its top-level symbol table.
#[derive(Debug)]
pub struct Module {
    /// Dotted module name, e.g. `shop.pipeline`.
    pub name: String,
    pub path: PathBuf,
    pub is_package: bool,
    pub text: Arc<str>,
    pub parsed: ParsedModule,
    pub symbols: HashMap<String, Symbol>,
    /// Absolute names of modules star-imported here, in order.
    pub star_imports: Vec<String>,
    pub imports: Vec<ImportSite>,
    /// Byte offset of the first invalid UTF-8 sequence, when the file was not UTF-8.
    pub encoding_error: Option<usize>,
}

impl Module {
    /// Parse `text` and collect what it binds. `name` is its dotted module name.
    pub fn new(name: String, path: PathBuf, text: Arc<str>, encoding_error: Option<usize>) -> Module {
        let is_package = path.file_name().is_some_and(|f| f == "__init__.py");
        let parsed = syntax::parse(&text);
        let mut m = Module {
            name,
            path,
            is_package,
            text,
            parsed,
            symbols: HashMap::new(),
            star_imports: Vec::new(),
            imports: Vec::new(),
            encoding_error,
        };
        let body = std::mem::take(&mut m.parsed.body);
        m.collect(&body);
        m.parsed.body = body;
        m
    }

    /// The package that relative imports start from.
    fn package(&self) -> &str {
        if self.is_package {
            &self.name
        } else {
            self.name.rsplit_once('.').map(|(p, _)| p).unwrap_or("")
        }
    }

    /// Make `from ..x import y` absolute; `None` if it climbs too far.
    pub fn absolute_module(&self, module: Option<&str>, level: usize) -> Option<String> {
        if level == 0 {
            return module.map(str::to_string);
        }
        let mut base: Vec<&str> =
            if self.package().is_empty() { Vec::new() } else { self.package().split('.').collect() };
        for _ in 1..level {
            base.pop()?;
        }
        if let Some(m) = module {
            base.extend(m.split('.'));
        }
        if base.is_empty() {
            None
        } else {
            Some(base.join("."))
        }
    }

    fn collect(&mut self, body: &[Stmt]) {
        for stmt in body {
            match &stmt.kind {
                StmtKind::FunctionDef(f) => {
                    self.symbols.insert(f.name.clone(), Symbol::Function(f.clone()));
                }
                StmtKind::ClassDef(c) => {
                    self.symbols.insert(c.name.clone(), Symbol::Class(c.clone()));
                }
                StmtKind::Assign { targets, value: Some(value), .. } => {
                    let value = Arc::new(value.clone());
                    for t in targets {
                        if let crate::syntax::ExprKind::Name(n) = &t.kind {
                            self.symbols.insert(n.clone(), Symbol::Value { value: value.clone(), range: t.range });
                        }
                    }
                }
                StmtKind::Import(names) => {
                    for n in names {
                        self.imports.push(ImportSite {
                            module: Some(n.name.clone()),
                            names: Vec::new(),
                            range: n.range,
                            written: n.name.clone(),
                        });
                        match &n.alias {
                            Some(alias) => {
                                self.symbols.insert(
                                    alias.clone(),
                                    Symbol::ImportModule { module: n.name.clone(), range: n.range },
                                );
                            }
                            None => {
                                let first = n.name.split('.').next().unwrap_or("").to_string();
                                self.symbols
                                    .insert(first.clone(), Symbol::ImportModule { module: first, range: n.range });
                            }
                        }
                    }
                }
                StmtKind::ImportFrom { module, level, names, star } => {
                    let abs = self.absolute_module(module.as_deref(), *level);
                    let written = format!("{}{}", ".".repeat(*level), module.as_deref().unwrap_or(""));
                    self.imports.push(ImportSite {
                        module: abs.clone(),
                        names: names.iter().map(|n| (n.name.clone(), n.range)).collect(),
                        range: stmt.range,
                        written,
                    });
                    let Some(abs) = abs else { continue };
                    if *star {
                        self.star_imports.push(abs.clone());
                    }
                    for n in names {
                        let bound = n.alias.clone().unwrap_or_else(|| n.name.clone());
                        self.symbols.insert(
                            bound,
                            Symbol::ImportFrom { module: abs.clone(), name: n.name.clone(), range: n.range },
                        );
                    }
                }
                // Imports and definitions under `if TYPE_CHECKING:`, `try:` and the like still bind names.
                StmtKind::If { body, orelse, .. } => {
                    self.collect(body);
                    self.collect(orelse);
                }
                StmtKind::Try { body, handlers, orelse, finalbody } => {
                    self.collect(body);
                    for h in handlers {
                        self.collect(h);
                    }
                    self.collect(orelse);
                    self.collect(finalbody);
                }
                StmtKind::With { body, .. } => self.collect(body),
                _ => {}
            }
        }
    }

    /// Top-level function definitions, including those nested in top-level `if`/`try` blocks.
    pub fn functions(&self) -> Vec<Arc<FunctionDef>> {
        let mut out = Vec::new();
        walk_top(&self.parsed.body, &mut |s| {
            if let StmtKind::FunctionDef(f) = &s.kind {
                out.push(f.clone());
            }
        });
        out
    }

    /// Top-level statements, flattened through `if`/`try`/`with` blocks.
    pub fn top_level(&self) -> Vec<&Stmt> {
        let mut out = Vec::new();
        walk_top(&self.parsed.body, &mut |s| out.push(s));
        out
    }
}

fn walk_top<'a>(body: &'a [Stmt], f: &mut dyn FnMut(&'a Stmt)) {
    for s in body {
        if matches!(s.kind, StmtKind::If { .. } | StmtKind::Try { .. } | StmtKind::With { .. }) {
            s.blocks().into_iter().for_each(|b| walk_top(b, f));
        } else {
            f(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(name: &str, file: &str, text: &str) -> Module {
        Module::new(name.into(), PathBuf::from(file), Arc::from(text), None)
    }

    #[test]
    fn binds_imports_with_aliases_and_relative_paths() {
        let m = module(
            "pkg.sub.mod",
            "pkg/sub/mod.py",
            "import flytekit as fk\nimport os.path\nfrom ..util import helper as h\nfrom . import sibling\nfrom .x import *\n",
        );
        assert!(matches!(&m.symbols["fk"], Symbol::ImportModule { module, .. } if module == "flytekit"));
        assert!(matches!(&m.symbols["os"], Symbol::ImportModule { module, .. } if module == "os"));
        assert!(
            matches!(&m.symbols["h"], Symbol::ImportFrom { module, name, .. } if module == "pkg.util" && name == "helper")
        );
        assert!(matches!(&m.symbols["sibling"], Symbol::ImportFrom { module, .. } if module == "pkg.sub"));
        assert_eq!(m.star_imports, vec!["pkg.sub.x".to_string()]);
    }

    #[test]
    fn package_relative_imports_start_at_the_package() {
        let m = module("pkg", "pkg/__init__.py", "from .tasks import t\n");
        assert!(matches!(&m.symbols["t"], Symbol::ImportFrom { module, .. } if module == "pkg.tasks"));
        let top = module("top", "top.py", "from .. import x\n");
        assert!(!top.symbols.contains_key("x"));
        assert_eq!(top.imports[0].module, None);
    }
}
