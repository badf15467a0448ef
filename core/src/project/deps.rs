//! Which project modules the analysis of a module can look into, for incremental analysis.
//!
//! The answer must be conservative: if resolving anything in module `m` can reach module `d`, then
//! `d` is in `module_deps(m)`. Name resolution (`Index::member`) only leaves a module through its
//! imports, so the deps are the modules its imports name, their parent packages (Python runs them,
//! and a name may resolve through them), the submodules that `from p import n` may mean, and, for a
//! name bound to a package (`import pkg`), every submodule an attribute chain on it could reach.

use super::{Index, Module, ModuleId};
use std::collections::HashSet;

/// The project modules the analysis of `m` may consult, `m` excluded, sorted and deduplicated.
pub fn module_deps(index: &Index, m: ModuleId) -> Vec<ModuleId> {
    let module = index.module(m);
    let mut out: Vec<ModuleId> = Vec::new();
    let mut package_bindings: Vec<ModuleId> = Vec::new();
    let mut add = |name: &str, bound_package: bool, out: &mut Vec<ModuleId>| {
        let Some(id) = index.find_import(m, name) else { return };
        out.push(id);
        // Parent packages, by the resolved module's own (absolute) name.
        let full = &index.module(id).name;
        let mut prefix = full.as_str();
        while let Some((parent, _)) = prefix.rsplit_once('.') {
            if let Some(p) = index.module_by_name(parent) {
                out.push(p);
            }
            prefix = parent;
        }
        if bound_package && index.module(id).is_package {
            package_bindings.push(id);
        }
    };
    for site in &module.imports {
        let Some(target) = &site.module else { continue };
        if site.names.is_empty() {
            // `import a.b.c`: binds `a` (or the alias to `a.b.c`); every prefix is a module that runs.
            let mut prefix = String::new();
            for part in target.split('.') {
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(part);
                add(&prefix, true, &mut out);
            }
        } else {
            add(target, false, &mut out);
            for (name, _) in &site.names {
                if name != "*" {
                    add(&format!("{target}.{name}"), true, &mut out);
                }
            }
        }
    }
    for star in &module.star_imports {
        add(star, true, &mut out);
    }
    if !package_bindings.is_empty() {
        let idents = identifiers(module);
        for pkg in package_bindings {
            let prefix = format!("{}.", index.module(pkg).name);
            for (id, other) in index.modules.iter().enumerate() {
                if let Some(rest) = other.name.strip_prefix(&prefix) {
                    if rest.split('.').all(|seg| idents.contains(seg)) {
                        out.push(id);
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out.retain(|&d| d != m);
    out
}

/// Every identifier-like word of the module's text (a superset of the attribute names it uses).
fn identifiers(module: &Module) -> HashSet<&str> {
    module
        .text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

/// For each module, the modules whose analysis may consult it (the reverse of [`module_deps`]).
pub fn reverse_deps(deps: &[Vec<ModuleId>]) -> Vec<Vec<ModuleId>> {
    let mut rev = vec![Vec::new(); deps.len()];
    for (m, ds) in deps.iter().enumerate() {
        for &d in ds {
            rev[d].push(m);
        }
    }
    rev
}

/// `start` and everything reachable from it through `edges`, as a mask over module ids.
pub fn closure(edges: &[Vec<ModuleId>], start: impl IntoIterator<Item = ModuleId>) -> Vec<bool> {
    let mut seen = vec![false; edges.len()];
    let mut stack: Vec<ModuleId> = Vec::new();
    for s in start {
        if !seen[s] {
            seen[s] = true;
            stack.push(s);
        }
    }
    while let Some(m) = stack.pop() {
        for &n in &edges[m] {
            if !seen[n] {
                seen[n] = true;
                stack.push(n);
            }
        }
    }
    seen
}
