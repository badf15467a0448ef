//! `unknown-decorator-argument`: a keyword `@task` / `@workflow` does not take
//! (flytekit raises when the module is imported).

use super::common::closest;
use super::{Context, Sink};
use crate::flyte::EntityKind;
use crate::syntax::keyword;

crate::rule_meta!("unknown-decorator-argument", Error, "A keyword that @task or @workflow does not accept");

/// `flytekit.task`'s parameters in 1.16, plus the deprecated cache keywords its `**kwargs` accepts.
pub const TASK_ARGS: &[&str] = &[
    "task_config",
    "cache",
    "retries",
    "interruptible",
    "deprecated",
    "timeout",
    "container_image",
    "environment",
    "requests",
    "limits",
    "secret_requests",
    "execution_mode",
    "node_dependency_hints",
    "task_resolver",
    "docs",
    "disable_deck",
    "enable_deck",
    "deck_fields",
    "pod_template",
    "pod_template_name",
    "accelerator",
    "pickle_untyped",
    "shared_memory",
    "resources",
    "labels",
    "annotations",
    "cache_version",
    "cache_serialize",
    "cache_ignore_input_vars",
];
pub const WORKFLOW_ARGS: &[&str] =
    &["failure_policy", "interruptible", "on_failure", "docs", "pickle_untyped", "default_options"];

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        if e.function.is_none() {
            continue;
        }
        let allowed = match e.kind {
            // A task_config hands extra keywords to a plugin; don't judge those.
            EntityKind::Task | EntityKind::DynamicTask if keyword(&e.config_args, "task_config").is_none() => TASK_ARGS,
            EntityKind::Workflow => WORKFLOW_ARGS,
            _ => continue,
        };
        for a in &e.config_args {
            let Some(name) = &a.name else { continue };
            if allowed.contains(&name.as_str()) {
                continue;
            }
            let hint =
                closest(name, allowed.iter().copied()).map(|s| format!("; did you mean `{s}`?")).unwrap_or_default();
            let range = a.name_range.unwrap_or(a.range);
            sink.report(
                ctx,
                e.module,
                range,
                format!(
                    "`@{}` has no argument `{name}`{hint} (flytekit raises when the module is imported: {})",
                    if e.kind == EntityKind::Workflow { "workflow" } else { "task" },
                    if e.kind == EntityKind::Workflow {
                        "TypeError: unexpected keyword argument".to_string()
                    } else {
                        format!("\"Unrecognized argument(s) for task: dict_keys(['{name}'])\"")
                    }
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::test_support::*;

    #[test]
    fn misspelled_decorator_arguments() {
        insta::assert_snapshot!(check_fixture(
            "unknown-decorator-argument",
            include_str!("fixtures/unknown-decorator-argument/error.py")
        ));
    }
}
