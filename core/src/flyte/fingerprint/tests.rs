use super::*;
use crate::workspace::Workspace;
use std::path::PathBuf;

/// Fingerprints of every task-like entity, by qualified name.
fn fingerprints(files: &[(&str, &str)]) -> HashMap<String, TaskFingerprint> {
    let root = PathBuf::from("/fp-root");
    let mut ws = Workspace::new(root.clone(), Default::default());
    for (path, text) in files {
        ws.set_file(root.join(path), text.to_string());
    }
    let a = ws.analyze();
    let mut fp = Fingerprinter::new(&a.index, &a.entities);
    (0..a.entities.entities.len())
        .map(|id| (a.entities.entities[id].qualified_name(&a.index), fp.entity(id).expect("entity")))
        .collect()
}

fn one(text: &str) -> TaskFingerprint {
    fingerprints(&[("tasks.py", text)]).remove("tasks.t").expect("task t")
}

const BASE: &str = r#"from flytekit import task

RATE = 0.5


@task(cache=True, cache_version="1.0", retries=3)
def t(x: int, label: str = 'a') -> float:
    """Scale x."""
    if x > 0: return x * RATE
    y = (x + 1)
    return helper(y, [1, 2], {'k': 'v'})


def helper(a, b, c):
    return a
"#;

#[test]
fn comments_docstrings_and_formatting_do_not_count() {
    let base = one(BASE);
    // Black-style reformat: other indentation, quotes, split lines, trailing commas, exploded
    // one-line `if`, redundant parentheses dropped, comments and a changed docstring.
    let reformatted = r#"from flytekit import task

RATE = 0.5

@task(
    cache=True,
    cache_version="1.0",
    retries=3,
)
def t(
  x: int,
  label: str = "a",
) -> float:
  """Scales x (docs only)."""
  # a comment
  if x > 0:
    return x * RATE   # trailing comment
  y = x + 1

  return helper(
    y,
    [
      1,
      2,
    ],
    {"k": "v",},
  )


def helper(a, b, c):
    return a
"#;
    assert_eq!(one(reformatted).fingerprint, base.fingerprint);
}

#[test]
fn body_edits_change_it() {
    let base = one(BASE).fingerprint;
    for edited in [
        BASE.replace("return x * RATE", "return x * RATE * 2"),
        BASE.replace("label: str = 'a'", "label: str = 'b'"),
        BASE.replace("y = (x + 1)", "y = (x - 1)"),
        // Indentation is structure: moving a statement into the `if` changes the function.
        BASE.replace(
            "    if x > 0: return x * RATE\n    y = (x + 1)\n",
            "    if x > 0:\n        y = 1\n    y = (x + 1)\n",
        ),
    ] {
        assert_ne!(one(&edited).fingerprint, base, "{edited}");
    }
    let moved =
        |body: &str| one(&format!("from flytekit import task\n@task\ndef t(r: list) -> None:\n{body}")).fingerprint;
    assert_ne!(moved("    for i in r:\n        a()\n    b()\n"), moved("    for i in r:\n        a()\n        b()\n"));
}

#[test]
fn excluded_decorator_arguments_do_not_count_and_others_do() {
    let base = one(BASE).fingerprint;
    let same = BASE.replace("cache_version=\"1.0\", retries=3", "cache_version=\"2.0\", retries=5, timeout=60");
    assert_eq!(one(&same).fingerprint, base);
    let env = BASE.replace("retries=3", "retries=3, environment={\"MODE\": \"fast\"}");
    assert_ne!(one(&env).fingerprint, base);
    let image = BASE.replace("retries=3", "retries=3, container_image=\"img:2\"");
    assert_ne!(one(&image).fingerprint, base);
}

const UTIL: &str = "RATE = 2\n\ndef scale(x):\n    return x * RATE\n\ndef unrelated():\n    return 1\n";
const TASKS: &str = r#"from flytekit import task
from shop import util as u
from shop.util import scale


@task
def uses_helper(x: int) -> int:
    return scale(x)


@task
def uses_module(x: int) -> int:
    return u.scale(x)


@task
def standalone(x: int) -> int:
    return x
"#;

fn shop(util: &str, tasks: &str) -> HashMap<String, TaskFingerprint> {
    fingerprints(&[("shop/__init__.py", ""), ("shop/util.py", util), ("shop/tasks.py", tasks)])
}

#[test]
fn a_helper_in_another_module_changes_the_tasks_using_it_and_only_those() {
    let before = shop(UTIL, TASKS);
    let after = shop(&UTIL.replace("x * RATE", "x * RATE + 1"), TASKS);
    assert_ne!(before["shop.tasks.uses_helper"].fingerprint, after["shop.tasks.uses_helper"].fingerprint);
    assert_ne!(before["shop.tasks.uses_module"].fingerprint, after["shop.tasks.uses_module"].fingerprint);
    assert_eq!(before["shop.tasks.standalone"].fingerprint, after["shop.tasks.standalone"].fingerprint);
    let changed = after["shop.tasks.uses_helper"].changed_parts(&before["shop.tasks.uses_helper"]);
    assert_eq!(changed, vec!["function shop.util.scale".to_string()]);
    // A constant the helper reads is followed too.
    let rate = shop(&UTIL.replace("RATE = 2", "RATE = 3"), TASKS);
    assert_ne!(before["shop.tasks.uses_helper"].fingerprint, rate["shop.tasks.uses_helper"].fingerprint);
    assert_eq!(
        rate["shop.tasks.uses_helper"].changed_parts(&before["shop.tasks.uses_helper"]),
        vec!["constant shop.util.RATE".to_string()]
    );
}

#[test]
fn an_unrelated_edit_changes_nothing() {
    let before = shop(UTIL, TASKS);
    let after = shop(&UTIL.replace("return 1", "return 2"), TASKS);
    for (name, fp) in &before {
        assert_eq!(fp.fingerprint, after[name].fingerprint, "{name}");
    }
}

#[test]
fn a_dataclass_field_changes_the_tasks_using_it() {
    let types = "from dataclasses import dataclass\n\n@dataclass\nclass Order:\n    qty: int\n";
    let tasks = r#"from flytekit import task
from shop.types import Order


@task
def total(o: Order) -> int:
    return o.qty


@task
def other(x: int) -> int:
    return x
"#;
    let run =
        |types: &str| fingerprints(&[("shop/__init__.py", ""), ("shop/types.py", types), ("shop/tasks.py", tasks)]);
    let before = run(types);
    let after = run(&types.replace("qty: int", "qty: float"));
    assert_ne!(before["shop.tasks.total"].fingerprint, after["shop.tasks.total"].fingerprint);
    assert!(after["shop.tasks.total"]
        .changed_parts(&before["shop.tasks.total"])
        .contains(&"class shop.types.Order".to_string()));
    assert_eq!(before["shop.tasks.other"].fingerprint, after["shop.tasks.other"].fingerprint);
}

#[test]
fn reexports_aliases_and_local_imports_are_followed() {
    let base = "def deep(x):\n    return x\n";
    let files = |base: &str| {
        fingerprints(&[
            ("pkg/__init__.py", "from .impl import deep as shallow\n"),
            ("pkg/impl.py", base),
            (
                "wf.py",
                "from flytekit import task\nimport pkg\n\n@task\ndef a(x: int) -> int:\n    return pkg.shallow(x)\n\n@task\ndef b(x: int) -> int:\n    from pkg.impl import deep\n    return deep(x)\n",
            ),
        ])
    };
    let before = files(base);
    let after = files(&base.replace("return x", "return -x"));
    assert_ne!(before["wf.a"].fingerprint, after["wf.a"].fingerprint);
    assert_ne!(before["wf.b"].fingerprint, after["wf.b"].fingerprint);
}

#[test]
fn third_party_names_count_by_name() {
    let t = |import: &str| {
        one(&format!("from flytekit import task\n{import}\n@task\ndef t(x: int) -> float:\n    return np.mean(x)\n"))
    };
    assert_eq!(t("import numpy as np").fingerprint, t("import numpy as np  # fast").fingerprint);
    assert_ne!(t("import numpy as np").fingerprint, t("import cupy as np").fingerprint);
}

#[test]
fn recursion_and_import_cycles_terminate() {
    let a = "from b import g\n\ndef f(n):\n    return g(n - 1) if n else f(0)\n";
    let b = "from a import f\n\ndef g(n):\n    return f(n)\n";
    let t = "from flytekit import task\nfrom a import f\n\n@task\ndef t(n: int) -> int:\n    return f(n) + t(n)\n";
    let fps = fingerprints(&[("a.py", a), ("b.py", b), ("t.py", t)]);
    let parts: Vec<&str> = fps["t.t"].parts.iter().map(|p| p.what.as_str()).collect();
    assert!(parts.contains(&"function a.f") && parts.contains(&"function b.g"), "{parts:?}");
    let changed = fingerprints(&[("a.py", a), ("b.py", &b.replace("f(n)", "f(n + 1)")), ("t.py", t)]);
    assert_ne!(fps["t.t"].fingerprint, changed["t.t"].fingerprint);
}

#[test]
fn display_is_lowercase_hex() {
    let fp = one(BASE).fingerprint;
    let s = fp.to_string();
    assert_eq!(s.len(), 64);
    assert!(s.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(serde_json::to_string(&fp).unwrap(), format!("\"{s}\""));
}
