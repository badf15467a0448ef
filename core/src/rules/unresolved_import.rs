//! `unresolved-import` (warning): an import of the project's own package that names a module
//! or name that does not exist. Third-party imports are never reported.

use super::{Context, Sink};
use crate::project::{Resolved, Symbol};

crate::rule_meta!("unresolved-import", Warning, "An import of a project module or name that does not exist");

pub fn check(ctx: &Context, sink: &mut Sink) {
    let index = ctx.index;
    for (m, module) in ctx.modules() {
        for imp in &module.imports {
            let Some(target) = &imp.module else {
                sink.report(
                    ctx,
                    m,
                    imp.range,
                    format!("relative import `{}` goes above the top-level package", imp.written),
                );
                continue;
            };
            // Only the project's own packages are checked.
            let relative = imp.written.starts_with('.');
            if !relative && !index.is_project_package(target) {
                continue;
            }
            let Some(tm) = index.find_import(m, target) else {
                // `import pkg.sub` where only `pkg` exists, or a missing relative module.
                if relative || index.module_by_name(target.split('.').next().unwrap_or("")).is_some() {
                    sink.report(
                        ctx,
                        m,
                        imp.range,
                        format!("module `{target}` is not part of this project (imported as `{}`)", imp.written),
                    );
                }
                continue;
            };
            for (name, range) in &imp.names {
                let sub = format!("{}.{name}", index.module(tm).name);
                if index.module_by_name(&sub).is_some() {
                    continue;
                }
                if matches!(index.member(tm, name, 0), Resolved::Unknown) && !defines_dynamically(index.module(tm)) {
                    // Names bound by an unresolvable import in the target are not our business.
                    if let Some(Symbol::ImportFrom { .. } | Symbol::ImportModule { .. }) =
                        index.module(tm).symbols.get(name)
                    {
                        continue;
                    }
                    sink.report(
                        ctx,
                        m,
                        *range,
                        format!(
                            "module `{}` has no name `{name}`; the import fails with ImportError",
                            index.module(tm).name
                        ),
                    );
                }
            }
        }
    }
}

/// Modules that define names in ways fledge cannot follow (`__getattr__`, `globals()`, `__all__` tricks).
fn defines_dynamically(m: &crate::project::Module) -> bool {
    m.symbols.contains_key("__getattr__")
        || m.text.contains("globals()")
        || !m.star_imports.is_empty()
        || !m.parsed.syntax_errors.is_empty()
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn missing_project_modules_and_names() {
        let d = diagnostics_multi(&[
            ("app/__init__.py", ""),
            ("app/tasks.py", "from flytekit import task\n@task\ndef clean(x: int) -> int:\n    return x\n"),
            (
                "app/flows.py",
                "import numpy\nfrom app.tasks import clean, dirty\nfrom app.nope import x\nfrom .tasks import clean as c2\nfrom . import tasks\n",
            ),
        ]);
        let got: Vec<_> = d.iter().map(|d| (d.code, d.message.as_str())).collect();
        insta::assert_debug_snapshot!(got);
    }
}
