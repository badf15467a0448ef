//! `invalid-resources`: resource quantities FlyteAdmin cannot parse, requests above limits,
//! fractional GPUs, and `resources=` mixed with `requests=`/`limits=`.

use super::{Context, Sink};
use crate::diagnostic::TextRange;
use crate::project::ModuleId;
use crate::syntax::{keyword, Arg, Expr, ExprKind, Stmt, StmtKind};

crate::rule_meta!("invalid-resources", Error, "Resource requests or limits that Flyte rejects");

pub fn check(ctx: &Context, sink: &mut Sink) {
    for e in &ctx.entities.entities {
        if e.function.is_some() && e.kind.is_task_like() {
            check_args(ctx, sink, e.module, &e.config_args, e.config_range);
        }
    }
    // `.with_overrides(requests=..., limits=...)` anywhere in workflow bodies.
    for g in ctx.graphs {
        let e = &ctx.entities.entities[g.entity];
        if let Some(f) = &e.function {
            walk_calls(&f.body, &mut |func, args, range| {
                if let ExprKind::Attribute { attr, .. } = &func.kind {
                    if attr == "with_overrides" {
                        check_args(ctx, sink, e.module, args, range);
                    }
                }
            });
        }
    }
}

fn walk_calls<'a>(body: &'a [Stmt], f: &mut dyn FnMut(&'a Expr, &'a [Arg], TextRange)) {
    let mut visit = |e: &'a Expr| {
        e.walk(&mut |x| {
            if let ExprKind::Call { func, args } = &x.kind {
                f(func, args, x.range);
            }
        })
    };
    fn stmts<'a>(body: &'a [Stmt], visit: &mut dyn FnMut(&'a Expr)) {
        for s in body {
            match &s.kind {
                StmtKind::Expr(e) | StmtKind::Return(Some(e)) => visit(e),
                StmtKind::Assign { value: Some(v), .. } => visit(v),
                StmtKind::If { test, body, orelse } => {
                    visit(test);
                    stmts(body, visit);
                    stmts(orelse, visit);
                }
                StmtKind::For { body, .. } | StmtKind::While { body, .. } | StmtKind::With { body, .. } => {
                    stmts(body, visit)
                }
                _ => {}
            }
        }
    }
    stmts(body, &mut visit);
}

/// One resource value: (request, limit) as written.
struct Quantity<'a> {
    expr: &'a Expr,
    text: Option<String>,
}

fn check_args(ctx: &Context, sink: &mut Sink, m: ModuleId, args: &[Arg], range: TextRange) {
    let resources = keyword(args, "resources");
    let requests = keyword(args, "requests");
    let limits = keyword(args, "limits");
    if let (Some(r), true) = (resources, requests.is_some() || limits.is_some()) {
        sink.report(
            ctx,
            m,
            r.range,
            "`resources=` cannot be combined with `requests=` or `limits=` (flytekit raises ValueError when the task is \
             decorated); put requests and limits in `resources=Resources(cpu=(request, limit))`",
        );
    }
    let _ = range;
    let mut req: Vec<(String, Quantity)> = Vec::new();
    let mut lim: Vec<(String, Quantity)> = Vec::new();
    for (arg, kind) in [(requests, 0), (limits, 1), (resources, 2)] {
        let Some(arg) = arg else { continue };
        let ExprKind::Call { func, args: res_args } = &arg.value.kind else { continue };
        if ctx.index.resolve_expr(m, func).external().is_none_or(|p| p != "flytekit.Resources") {
            continue;
        }
        for a in res_args {
            let Some(name) = &a.name else { continue };
            match (&a.value.kind, kind) {
                // `Resources(cpu=("1", "2"))` is (request, limit).
                (ExprKind::Tuple(items) | ExprKind::List(items), _) if items.len() == 2 => {
                    check_one(ctx, sink, m, name, &items[0]);
                    check_one(ctx, sink, m, name, &items[1]);
                    req.push((name.clone(), quantity(&items[0])));
                    lim.push((name.clone(), quantity(&items[1])));
                }
                (_, k) => {
                    check_one(ctx, sink, m, name, &a.value);
                    match k {
                        0 | 2 => req.push((name.clone(), quantity(&a.value))),
                        _ => lim.push((name.clone(), quantity(&a.value))),
                    }
                    if k == 2 {
                        // `resources=Resources(cpu="1")` sets request and limit alike.
                    }
                }
            }
        }
    }
    for (name, rq) in &req {
        let Some((_, lq)) = lim.iter().find(|(n, _)| n == name) else { continue };
        let (Some(rt), Some(lt)) = (&rq.text, &lq.text) else { continue };
        if let (Some(r), Some(l)) = (parse_quantity(rt), parse_quantity(lt)) {
            if r > l {
                sink.report(
                    ctx,
                    m,
                    rq.expr.range,
                    format!("the {name} request `{rt}` is above its limit `{lt}`; FlyteAdmin rejects the task at registration"),
                );
            }
        }
    }
}

fn quantity(e: &Expr) -> Quantity<'_> {
    let text = match &e.kind {
        ExprKind::Str(s) => Some(s.clone()),
        ExprKind::Int(t) | ExprKind::Float(t) => Some(t.replace('_', "")),
        _ => None,
    };
    Quantity { expr: e, text }
}

fn check_one(ctx: &Context, sink: &mut Sink, m: ModuleId, name: &str, e: &Expr) {
    match &e.kind {
        ExprKind::Str(s) => {
            if parse_quantity(s).is_none() {
                sink.report(
                    ctx,
                    m,
                    e.range,
                    format!(
                        "`{s}` is not a Kubernetes quantity for {name} (e.g. \"500m\", \"2\", \"4Gi\", \"512Mi\"); FlyteAdmin \
                         rejects it at registration (\"Parsing of {name} request failed\")"
                    ),
                );
            } else if name == "gpu" && parse_quantity(s).is_some_and(|q| q.fract() != 0.0) {
                sink.report(ctx, m, e.range, format!("gpu must be a whole number, not `{s}`; FlyteAdmin rejects it"));
            }
        }
        ExprKind::Float(t) if name == "mem" || name == "gpu" || name == "ephemeral_storage" => {
            sink.report(
                ctx,
                m,
                e.range,
                format!("{name} must be a str or int, not the float `{t}` (flytekit raises AssertionError when the task is decorated)"),
            );
        }
        _ => {}
    }
}

/// Parse a Kubernetes quantity (`500m`, `1.5`, `2Gi`, `129e6`) into a number; `None` if invalid.
pub fn parse_quantity(s: &str) -> Option<f64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let num_end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => {
            let exp = &e[1..];
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            10f64.powi(exp.parse().ok()?)
        }
        _ => return None,
    };
    Some(if neg { -n * mult } else { n * mult })
}

#[cfg(test)]
mod tests {
    use super::parse_quantity;
    use crate::rules::test_support::*;

    #[test]
    fn kubernetes_quantity_grammar() {
        for ok in ["500m", "1.5", "2Gi", "128974848", "129e6", "123Mi", "1k", ".5", "1E3", "+1"] {
            assert!(parse_quantity(ok).is_some(), "{ok} should parse");
        }
        for bad in ["1gb", "2 Gi", "abc", "1GiB", "", "1K", "1.2.3", "e3", "1e"] {
            assert!(parse_quantity(bad).is_none(), "{bad} should not parse");
        }
        assert_eq!(parse_quantity("500m"), Some(0.5));
        assert_eq!(parse_quantity("1Ki"), Some(1024.0));
    }

    #[test]
    fn bad_quantities_and_requests_over_limits() {
        insta::assert_snapshot!(check_fixture(
            "invalid-resources",
            include_str!("fixtures/invalid-resources/error.py")
        ));
    }
}
