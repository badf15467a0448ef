//! Castability vectors produced by Flyte's own Go compiler (`AreTypesCastable` in flytepropeller's
//! `validators/typing.go`, see `shared/flyte/castability.md`), checked against fledge.
//!
//! Each vector names an upstream and a downstream Python annotation (plus optional class
//! definitions). Both are resolved from source, as fledge resolves task signatures, and
//! `fledge_core::types::castable` must give the compiler's answer. `Castability::Unknown` is a
//! failure here: every vector only uses types fledge is meant to know.

use fledge_core::flyte::annotation::TypeResolver;
use fledge_core::project::{Index, Module};
use fledge_core::syntax::{ExprKind, StmtKind};
use fledge_core::types::{castable, Castability, LiteralType, Simple};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/flyte/castability_vectors.json");

/// The imports the vector file assumes for every `defs`/annotation.
const PRELUDE: &str = "\
import typing
from typing import *
import datetime
import enum
from dataclasses import dataclass
import pandas as pd
import pyarrow as pa
import numpy as np
from flytekit.types.file import FlyteFile
from flytekit.types.directory import FlyteDirectory
from flytekit.types.structured import StructuredDataset
from flytekit.types.schema import FlyteSchema
from flytekit import kwtypes
from pydantic import BaseModel
";

struct Vector {
    upstream: String,
    downstream: String,
    castable: bool,
    rule: String,
    defs: String,
}

fn load_vectors() -> Vec<Vector> {
    let text = std::fs::read_to_string(VECTORS).unwrap_or_else(|e| {
        panic!("cannot read the castability vectors at {VECTORS}: {e} (they live in the shared Flyte reference folder next to the repository)")
    });
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{VECTORS} is not valid JSON: {e}"));
    let list = json.as_array().unwrap_or_else(|| panic!("{VECTORS}: expected a JSON list of vectors"));
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let s = |k: &str| -> String {
                v.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{VECTORS}: vector {i} has no string field `{k}`: {v}"))
                    .to_string()
            };
            Vector {
                upstream: s("upstream"),
                downstream: s("downstream"),
                castable: v
                    .get("castable")
                    .and_then(Value::as_bool)
                    .unwrap_or_else(|| panic!("{VECTORS}: vector {i} has no boolean `castable`: {v}")),
                rule: v.get("rule").and_then(Value::as_str).unwrap_or("").to_string(),
                defs: v.get("defs").and_then(Value::as_str).unwrap_or("").to_string(),
            }
        })
        .collect()
}

/// The module text for one vector: prelude, defs, then `up: <upstream>` and `down: <downstream>`.
fn module_text(v: &Vector) -> String {
    let mut t = String::from(PRELUDE);
    if !v.defs.is_empty() {
        t.push_str(&v.defs);
        if !v.defs.ends_with('\n') {
            t.push('\n');
        }
    }
    t.push_str(&format!("up: {}\ndown: {}\n", v.upstream, v.downstream));
    t
}

/// Resolve the annotations of `up` and `down` in the vector's module.
fn resolve(v: &Vector) -> Result<(LiteralType, LiteralType), String> {
    let text = module_text(v);
    let module = Module::new("m".into(), PathBuf::from("m.py"), Arc::from(text.as_str()), None);
    if !module.parsed.syntax_errors.is_empty() {
        return Err(format!("the vector's module does not parse: {:?}\n{text}", module.parsed.syntax_errors));
    }
    let index = Index::new(vec![Arc::new(module)]);
    let types = TypeResolver::new(&index);
    let m = index.module(0);
    let annotation = |name: &str| {
        m.parsed.body.iter().rev().find_map(|s| match &s.kind {
            StmtKind::Assign { targets, annotation: Some(a), .. }
                if matches!(&targets.first().map(|t| &t.kind), Some(ExprKind::Name(n)) if n == name) =>
            {
                Some(a.clone())
            }
            _ => None,
        })
    };
    let lit = |name: &str| -> Result<LiteralType, String> {
        let a = annotation(name).ok_or_else(|| format!("no annotated assignment `{name}: ...` found in\n{text}"))?;
        types.resolve(0, &a).map(|r| r.ty.lit).map_err(|u| format!("`{}` resolved as unsupported: {}", u.py, u.reason))
    };
    // Upstream "None" is a NONE-typed value (a `None` literal): tasks cannot declare a None output.
    let up = if v.upstream.trim() == "None" { LiteralType::simple(Simple::None) } else { lit("up")? };
    let down = lit("down")?;
    Ok((up, down))
}

#[test]
fn castability_matches_the_flyte_compiler() {
    let vectors = load_vectors();
    assert!(!vectors.is_empty(), "{VECTORS} holds no vectors");
    let mut failures = Vec::new();
    for v in &vectors {
        let expected = if v.castable { Castability::Yes } else { Castability::No };
        match resolve(v) {
            Ok((up, down)) => {
                let got = castable(&up, &down);
                if got != expected {
                    failures.push(format!(
                        "{} -> {}: expected {:?}, got {:?} (up = {}, down = {}); rule: {}",
                        v.upstream, v.downstream, expected, got, up, down, v.rule
                    ));
                }
            }
            Err(e) => failures.push(format!(
                "{} -> {}: expected {:?}, got a resolution error: {e}; rule: {}",
                v.upstream, v.downstream, expected, v.rule
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} castability vectors disagree with the Flyte compiler:\n  {}",
        failures.len(),
        vectors.len(),
        failures.join("\n  ")
    );
}

/// Regression: `from typing import *` must not shadow builtins (`int`, `dict`, ...), which once
/// resolved to `typing.int` and so to an unknown type.
#[test]
fn typing_star_import_keeps_builtins() {
    for (src, want) in [
        ("from typing import *\nx: int\n", "INTEGER"),
        ("from typing import *\nx: Dict[str, int]\n", "MAP<STRING, INTEGER>"),
        ("from typing import *\nx: dict\n", "STRUCT"),
    ] {
        let module = Module::new("m".into(), PathBuf::from("m.py"), Arc::from(src), None);
        let index = Index::new(vec![Arc::new(module)]);
        let types = TypeResolver::new(&index);
        let ann = index.module(0).parsed.body.iter().find_map(|s| match &s.kind {
            StmtKind::Assign { annotation: Some(a), .. } => Some(a.clone()),
            _ => None,
        });
        let got = types.resolve(0, &ann.expect("an annotation")).map(|r| r.ty.lit.to_string());
        assert_eq!(got.as_deref(), Ok(want), "resolving the annotation in {src:?}");
    }
}

/// Regression (not a castability vector): `incomplete-conditional` on a chain wrapped in
/// parentheses is reported on the line of `conditional(...)`, not on the line of `(`.
#[test]
fn incomplete_conditional_in_parentheses_points_at_the_conditional() {
    let src = "\
from flytekit import conditional, task, workflow


@task
def half(n: int) -> int:
    return n // 2


@workflow
def wf(n: int) -> int:
    return (
        conditional(\"even\")
        .if_(n > 10)
        .then(half(n=n))
    )
";
    let root = PathBuf::from("/fixture-root");
    let mut ws = fledge_core::Workspace::new(root.clone(), Default::default());
    ws.set_file(root.join("fixture.py"), src.to_string());
    let diags = ws.analyze().diagnostics;
    let lines: Vec<(usize, &str)> =
        diags.iter().map(|d| (src[..d.range.start].matches('\n').count() + 1, d.code)).collect();
    assert_eq!(lines, vec![(12, "incomplete-conditional")], "line of `conditional(\"even\")` is 12");
}
