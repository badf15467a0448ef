//! `invalid-cache`: cache settings flytekit rejects when the task is decorated
//! (verified with flytekit 1.16.31).

use super::{Context, Sink};
use crate::diagnostic::{Fix, TextEdit, TextRange};
use crate::syntax::{keyword, ExprKind};

crate::rule_meta!("invalid-cache", Error, "Cache settings that flytekit rejects");

const DEPRECATED: &[&str] = &["cache_version", "cache_serialize", "cache_ignore_input_vars"];

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        if e.function.is_none() || !e.kind.is_task_like() {
            continue;
        }
        let args = &e.config_args;
        let cache = keyword(args, "cache");
        let version = keyword(args, "cache_version");
        let cache_obj = cache.and_then(|c| match &c.value.kind {
            ExprKind::Call { func, args }
                if ctx.index.resolve_expr(e.module, func).external() == Some("flytekit.Cache") =>
            {
                Some((c, args))
            }
            _ => None,
        });
        let cache_true = cache.is_some_and(|c| matches!(c.value.kind, ExprKind::Bool(true)));
        if let Some((c, cargs)) = cache_obj {
            if let Some(dep) = DEPRECATED.iter().find_map(|d| keyword(args, d)) {
                let _ = c;
                sink.report(
                    ctx,
                    e.module,
                    dep.range,
                    format!(
                        "`{}` cannot be combined with `cache=Cache(...)` (flytekit: \"cache_serialize, cache_version, and \
                         cache_ignore_input_vars are deprecated. Please use Cache object\"); move it into `Cache(...)`",
                        dep.name.as_deref().unwrap_or("")
                    ),
                );
            }
            let has_version = keyword(cargs, "version").is_some() || cargs.iter().any(|a| a.is_positional());
            if !has_version && keyword(cargs, "policies").is_none() {
                sink.report(
                    ctx,
                    e.module,
                    c.value.range,
                    "`Cache()` has neither `version` nor `policies` (flytekit: \"If version is not defined then at least \
                     one cache policy needs to be set\")",
                );
            }
        } else if cache_true && version.is_none() {
            let c = cache.expect("cache_true implies cache");
            let d = sink.report(
                ctx,
                e.module,
                c.range,
                format!(
                    "task `{}` sets `cache=True` without `cache_version`; flytekit raises \"If version is not defined then \
                     at least one cache policy needs to be set\" when the module is imported",
                    e.name
                ),
            );
            d.fixes.push(Fix {
                title: "Add `cache_version=\"1.0\"`".into(),
                edits: vec![TextEdit {
                    path: d.path.clone(),
                    range: TextRange::new(c.range.end, c.range.end),
                    new_text: ", cache_version=\"1.0\"".into(),
                }],
                safe: true,
            });
        }
        let cache_on = cache_true || cache_obj.is_some();
        if let Some(s) = keyword(args, "cache_serialize") {
            if matches!(s.value.kind, ExprKind::Bool(true))
                && !cache_on
                && cache.is_none_or(|c| matches!(c.value.kind, ExprKind::Bool(false)))
            {
                sink.report(
                    ctx,
                    e.module,
                    s.range,
                    "`cache_serialize=True` without `cache=True` (flytekit: \"Cache serialize is enabled \
                     ``cache_serialize=True`` but ``cache`` is not enabled.\")",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn cache_settings_flytekit_rejects() {
        insta::assert_snapshot!(check_fixture("invalid-cache", include_str!("fixtures/invalid-cache/error.py")));
    }

    #[test]
    fn fix_adds_a_cache_version() {
        let text = "from flytekit import task\n@task(cache=True)\ndef t(a: int) -> int:\n    return a\n";
        let d = diagnostics(text);
        let edit = &d[0].fixes[0].edits[0];
        let mut fixed = text.to_string();
        fixed.replace_range(edit.range.start..edit.range.end, &edit.new_text);
        assert!(fixed.contains("@task(cache=True, cache_version=\"1.0\")"));
        assert!(diagnostics(&fixed).is_empty());
    }

    #[test]
    fn valid_cache_settings() {
        assert_clean(include_str!("fixtures/invalid-cache/clean.py"));
    }
}
