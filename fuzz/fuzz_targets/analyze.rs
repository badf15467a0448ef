//! `cargo +nightly fuzz run analyze`: the input becomes `pkg/fuzzed.py` of a small project whose
//! `pkg/main.py` imports from it and calls its (possible) tasks inside a workflow; the whole
//! workspace is then analyzed.
//!
//! Besides not panicking, every diagnostic (and related location) must point inside its file's
//! text, on char boundaries.
#![no_main]

use fledge_core::project::Config;
use fledge_core::{TextRange, Workspace};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

/// Never created: the workspace only reads the disk to look for `<root>/src`.
const ROOT: &str = "/nonexistent/fledge-fuzz";

const MAIN: &str = r#"from flytekit import task, workflow, conditional, map_task
from pkg.fuzzed import *
from pkg import fuzzed
from .fuzzed import t, wf as sub_wf


@task
def double(x: int) -> int:
    return x * 2


@workflow
def main_wf(a: int = 1, s: str = "x") -> int:
    r = t(x=a)
    y = fuzzed.t(x=s)
    z = sub_wf(a=r)
    m = map_task(fuzzed.t)(x=[a, a])
    c = conditional("c").if_(a > 1).then(double(x=a)).else_().then(t(x=a))
    return double(x=y)
"#;

fn check(ws: &Workspace, path: &Path, r: TextRange, what: &str) {
    let Some(text) = ws.file_text(path) else { return };
    assert!(
        r.start <= r.end && r.end <= text.len(),
        "{what} range {r:?} outside {} ({} bytes)",
        path.display(),
        text.len()
    );
    assert!(
        text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
        "{what} range {r:?} splits a character in {}",
        path.display()
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let root = PathBuf::from(ROOT);
    let mut ws = Workspace::new(root.clone(), Config::default());
    ws.set_file(root.join("pkg/__init__.py"), String::new());
    ws.set_file(root.join("pkg/fuzzed.py"), text);
    ws.set_file(root.join("pkg/main.py"), MAIN.to_string());
    let analysis = ws.analyze();
    for d in &analysis.diagnostics {
        check(&ws, &d.path, d.range, d.code);
        for rel in &d.related {
            check(&ws, &rel.path, rel.range, "related location");
        }
    }
});
