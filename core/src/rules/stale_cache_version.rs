//! `stale-cache-version`: a cached task whose code changed since the last commit while its
//! `cache_version` stayed the same; Flyte's cache would serve results of the old code.
//! Needs the committed files (`Workspace::set_baseline`); without them it reports nothing.

use super::{Context, Sink};
use crate::diagnostic::{Fix, TextEdit};
use crate::flyte::entity::Entity;
use crate::flyte::fingerprint::Fingerprinter;
use crate::project::{Index, ModuleId};
use crate::syntax::{keyword, Expr, ExprKind};

crate::rule_meta!(
    "stale-cache-version",
    Warning,
    "A cached task changed since the last commit, but its cache version did not"
);

/// How many changed parts a message names before "and N more".
const MAX_NAMED: usize = 4;

/// The pinned cache version of a task with caching on: `cache=True, cache_version="..."` or
/// `cache=Cache(version="...")`, as (version, the string literal).
pub fn cache_version<'e>(index: &Index, e: &'e Entity) -> Option<(String, &'e Expr)> {
    if e.function.is_none() || !e.kind.is_task_like() {
        return None;
    }
    let args = &e.config_args;
    let cache = keyword(args, "cache")?;
    let literal = match &cache.value.kind {
        ExprKind::Bool(true) => &keyword(args, "cache_version")?.value,
        ExprKind::Call { func, args: cargs }
            if index.resolve_expr(e.module, func).external() == Some("flytekit.Cache") =>
        {
            match keyword(cargs, "version") {
                Some(v) => &v.value,
                None => &cargs.iter().find(|a| a.is_positional())?.value,
            }
        }
        _ => return None,
    };
    literal.as_str().map(|s| (s.to_string(), literal))
}

pub fn check(ctx: &Context, sink: &mut Sink) {
    let Some(baseline) = ctx.baseline else { return };
    // Tasks with a pinned version whose file existed at the last commit.
    let candidates: Vec<(usize, String, &Expr)> = ctx
        .entities
        .entities
        .iter()
        .enumerate()
        .filter(|(_, e)| baseline.module(&ctx.index.module(e.module).path).is_some())
        .filter_map(|(id, e)| cache_version(ctx.index, e).map(|(v, lit)| (id, v, lit)))
        .collect();
    if candidates.is_empty() || !baseline.differs(&ctx.index.modules) {
        return;
    }
    // The project as committed (cached across analyses while only committed files change).
    let linked = baseline.linked(&ctx.index.modules);
    let (old_index, old_entities) = (&linked.index, &linked.entities);
    let mut pairs: Vec<(usize, usize, String, &Expr)> = Vec::new();
    for (id, version, literal) in candidates {
        let e = &ctx.entities.entities[id];
        // Same modules in the same order: module ids agree.
        let Some(old_id) = old_entities.get(e.module, &e.name) else { continue };
        let old = &old_entities.entities[old_id];
        if old.kind != e.kind || cache_version(old_index, old).map(|(v, _)| v).as_deref() != Some(version.as_str()) {
            continue;
        }
        pairs.push((id, old_id, version, literal));
    }
    let old_fps = linked.fingerprints(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let mut now = Fingerprinter::new(ctx.index, ctx.entities);
    for ((id, _, version, literal), old_fp) in pairs.into_iter().zip(old_fps) {
        let e = &ctx.entities.entities[id];
        let (Some(new_fp), Some(old_fp)) = (now.entity(id), old_fp) else { continue };
        if new_fp.fingerprint == old_fp.fingerprint {
            continue;
        }
        let qname = e.qualified_name(ctx.index);
        let mut changed: Vec<String> =
            new_fp.changed_parts(&old_fp).into_iter().map(|p| describe_part(&p, &qname)).collect();
        changed.dedup();
        let more = changed.len().saturating_sub(MAX_NAMED);
        changed.truncate(MAX_NAMED);
        let mut list = changed.join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        let d = sink.report(
            ctx,
            e.module,
            literal.range,
            format!(
                "task `{}` changed since the last commit ({list}) but its cache version is still \"{version}\": \
                 Flyte would serve cached results of the old code; bump the version",
                e.name
            ),
        );
        if let Some(new_text) = bumped_literal(ctx, e.module, literal) {
            d.fixes.push(Fix {
                title: format!("Bump the cache version to {new_text}"),
                edits: vec![TextEdit { path: d.path.clone(), range: literal.range, new_text }],
                // Only the author knows whether the change alters results (a refactor may not).
                safe: false,
            });
        }
    }
}

/// A fingerprint part as a reader would name it.
fn describe_part(part: &str, qname: &str) -> String {
    let (name, tail) = match part.split_once(" (") {
        Some((n, t)) => (n, format!(" ({t}")),
        None => (part, String::new()),
    };
    let own = name.strip_suffix(qname).is_some_and(|k| k.ends_with(' ') && !k.contains(" of "));
    let base = if own {
        "its source".to_string()
    } else if name == format!("decorator arguments of {qname}") {
        "its decorator arguments".to_string()
    } else if name == format!("interface of {qname}") {
        "its interface".to_string()
    } else {
        format!("`{name}`")
    };
    format!("{base}{tail}")
}

/// The version string literal with the version bumped, in the same quotes.
fn bumped_literal(ctx: &Context, m: ModuleId, literal: &Expr) -> Option<String> {
    let text = ctx.index.module(m).text.get(literal.range.start..literal.range.end)?;
    let q = text.find(['"', '\''])?;
    let quote = &text[q..q + 1];
    let delim = if text[q..].starts_with(&quote.repeat(3)) { quote.repeat(3) } else { quote.to_string() };
    let body = text[q..].strip_prefix(&delim)?.strip_suffix(&delim)?;
    if body.contains(['\\', '"', '\'', '{']) || !text[..q].chars().all(|c| "rRuU".contains(c)) {
        return None;
    }
    Some(format!("{}{delim}{}{delim}", &text[..q], bump(body)))
}

/// The next version: the last number goes up by one, keeping its width (`1.0` → `1.1`, `v3` →
/// `v4`, `v09` → `v10`); a date (`2024-01-01`) gets a `.1` suffix (then `.2`, ...); anything
/// else gets `-2`; an empty version becomes `1`.
pub fn bump(version: &str) -> String {
    if version.is_empty() {
        return "1".into();
    }
    let b = version.as_bytes();
    let is_date = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
    if is_date {
        return format!("{version}.1");
    }
    let digits = version.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return format!("{version}-2");
    }
    let (head, num) = version.split_at(version.len() - digits);
    // Arbitrarily long digit runs: add one by hand instead of parsing into an integer.
    let mut out: Vec<u8> = num.bytes().collect();
    let mut i = out.len();
    loop {
        if i == 0 {
            out.insert(0, b'1');
            break;
        }
        i -= 1;
        if out[i] == b'9' {
            out[i] = b'0';
        } else {
            out[i] += 1;
            break;
        }
    }
    format!("{head}{}", String::from_utf8(out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::bump;
    use crate::rules::test_support::*;

    #[test]
    fn changed_task_with_the_same_version() {
        insta::assert_snapshot!(check_fixture_with_baseline(
            "stale-cache-version",
            include_str!("fixtures/stale-cache-version/warning.py"),
            include_str!("fixtures/stale-cache-version/warning_baseline.py"),
        ));
    }

    #[test]
    fn formatting_comment_and_unrelated_edits_are_not_changes() {
        assert_clean_with_baseline(
            include_str!("fixtures/stale-cache-version/clean.py"),
            include_str!("fixtures/stale-cache-version/clean_baseline.py"),
        );
    }

    #[test]
    fn a_changed_helper_in_another_module_names_it() {
        let util = "def scale(x):\n    return x * 2\n";
        let tasks = "from flytekit import task\nfrom util import scale\n\n@task(cache=True, cache_version=\"7\")\ndef t(x: int) -> int:\n    return scale(x)\n";
        let d = diagnostics_with_baseline(
            &[("util.py", &util.replace("x * 2", "x * 3")), ("tasks.py", tasks)],
            &[("util.py", util), ("tasks.py", tasks)],
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("`function util.scale`"), "{}", d[0].message);
        assert!(d[0].message.contains("still \"7\""), "{}", d[0].message);
        assert_eq!(d[0].fixes[0].edits[0].new_text, "\"8\"");
    }

    #[test]
    fn the_fix_bumps_the_version_and_silences_the_warning() {
        let old = "from flytekit import Cache, task\n\n@task(cache=Cache(version='v3'))\ndef t(x: int) -> int:\n    return x\n";
        let new = old.replace("return x", "return x + 1");
        let d = diagnostics_with_baseline(&[("tasks.py", &new)], &[("tasks.py", old)]);
        assert_eq!(d.len(), 1, "{d:?}");
        let edit = &d[0].fixes[0].edits[0];
        assert_eq!(edit.new_text, "'v4'");
        let mut fixed = new.clone();
        fixed.replace_range(edit.range.start..edit.range.end, &edit.new_text);
        assert!(diagnostics_with_baseline(&[("tasks.py", &fixed)], &[("tasks.py", old)]).is_empty());
    }

    #[test]
    fn no_baseline_or_new_task_means_no_warning() {
        let text = "from flytekit import task\n\n@task(cache=True, cache_version=\"1\")\ndef t(x: int) -> int:\n    return x\n";
        assert!(diagnostics(text).is_empty());
        // The file is new since the last commit.
        assert!(diagnostics_with_baseline(&[("tasks.py", text)], &[]).is_empty());
        // The task is new in a committed file.
        let old = "from flytekit import task\n";
        assert!(diagnostics_with_baseline(&[("tasks.py", text)], &[("tasks.py", old)]).is_empty());
    }

    #[test]
    fn the_committed_project_is_linked_once_while_committed_files_are_edited() {
        use crate::workspace::Workspace;
        use std::path::PathBuf;
        let root = PathBuf::from("/fixture-root");
        let old = "from flytekit import task\n\n@task(cache=True, cache_version=\"1\")\ndef t(x: int) -> int:\n    return x\n";
        let mut ws = Workspace::new(root.clone(), Default::default());
        ws.set_file(root.join("tasks.py"), old.replace("return x", "return x + 1"));
        ws.set_baseline(vec![(root.join("tasks.py"), old.to_string())]);
        assert_eq!(ws.analyze().diagnostics.len(), 1);
        let first = ws.baseline().unwrap().linked(&ws.analyze().index.modules);
        ws.set_file(root.join("tasks.py"), old.replace("return x", "return x + 2"));
        let a = ws.analyze();
        assert_eq!(a.diagnostics.len(), 1);
        assert!(std::sync::Arc::ptr_eq(&first, &ws.baseline().unwrap().linked(&a.index.modules)));
        // A new (uncommitted) file changes what the committed project sees: linked again.
        ws.set_file(root.join("extra.py"), "X = 1\n".into());
        let a = ws.analyze();
        assert!(!std::sync::Arc::ptr_eq(&first, &ws.baseline().unwrap().linked(&a.index.modules)));
        assert_eq!(a.diagnostics.len(), 1);
        // Back to the committed text: nothing to report.
        ws.set_file(root.join("tasks.py"), old.to_string());
        assert!(ws.analyze().diagnostics.is_empty());
    }

    #[test]
    fn versions_bump_sensibly() {
        assert_eq!(bump("1.0"), "1.1");
        assert_eq!(bump("v3"), "v4");
        assert_eq!(bump("1.9"), "1.10");
        assert_eq!(bump("v09"), "v10");
        assert_eq!(bump("99"), "100");
        assert_eq!(bump("2024-01-01"), "2024-01-01.1");
        assert_eq!(bump("2024-01-01.1"), "2024-01-01.2");
        assert_eq!(bump("stable"), "stable-2");
        assert_eq!(bump("stable-2"), "stable-3");
        assert_eq!(bump(""), "1");
    }
}
