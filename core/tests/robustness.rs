//! Robustness of the core against hostile or broken input: nothing may panic, hang or point
//! outside the text.
//!
//! Property tests throw random bytes, token soups made of Python and flytekit pieces, and
//! mutations (byte flips, truncations, duplications, splices) of realistic flytekit files at
//! `syntax::parse` and at a full `Workspace::analyze`, and check that every syntax error,
//! diagnostic, related location and fix edit lies inside its file's text on char boundaries.
//! Deterministic cases cover the pathological shapes a generator rarely finds: a 10 MB file,
//! 100k nested brackets, 5000 nested `if`s, a 1 MB line, NUL bytes, U+FFFD from lossy decoding,
//! BOMs, CRLF, lone `\r`, mixed tabs and spaces.
//!
//! The property tests run a few hundred cases in total by default (a few seconds in a debug
//! build). `PROPTEST_CASES=5000 cargo test -p fledge-core --test robustness` scales every
//! property to that many cases. The coverage-guided counterpart lives in `fuzz/` (cargo-fuzz).

use fledge_core::project::{discover, Config};
use fledge_core::syntax::parse;
use fledge_core::{Analysis, TextRange, Workspace};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config as ProptestConfig;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// Never created on disk: `Workspace::new` only looks for `<root>/src`.
const ROOT: &str = "/nonexistent/fledge-robustness";

fn root() -> PathBuf {
    PathBuf::from(ROOT)
}

/// `r` lies inside `text` and starts and ends on char boundaries.
fn assert_range(text: &str, r: TextRange, what: &dyn std::fmt::Display) {
    assert!(r.start <= r.end, "{what}: inverted range {r:?}");
    assert!(r.end <= text.len(), "{what}: range {r:?} ends past the text ({} bytes)", text.len());
    assert!(
        text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
        "{what}: range {r:?} splits a character ({:?})",
        text.get(r.start.saturating_sub(3)..(r.end + 3).min(text.len()))
    );
}

/// Parse `text` and check every syntax error range.
fn check_parse(text: &str) {
    let parsed = parse(text);
    for e in &parsed.syntax_errors {
        assert_range(text, e.range, &format_args!("syntax error `{}`", e.message));
        assert!(!e.message.is_empty());
    }
}

/// Every diagnostic, related location and fix edit of `analysis` lies inside its file.
fn check_analysis(ws: &Workspace, analysis: &Analysis) {
    let text_of = |p: &Path| {
        ws.file_text(p).unwrap_or_else(|| panic!("diagnostic for a file not in the workspace: {}", p.display()))
    };
    for d in &analysis.diagnostics {
        assert_range(text_of(&d.path), d.range, &format_args!("{} `{}` in {}", d.code, d.message, d.path.display()));
        assert!(!d.message.is_empty(), "{}: empty message", d.code);
        for r in &d.related {
            assert_range(
                text_of(&r.path),
                r.range,
                &format_args!("related location of {} in {}", d.code, r.path.display()),
            );
        }
        for f in &d.fixes {
            for e in &f.edits {
                assert_range(
                    text_of(&e.path),
                    e.range,
                    &format_args!("fix edit of {} in {}", d.code, e.path.display()),
                );
            }
        }
    }
}

/// The fixed module that imports the fuzzed one every way flytekit code does and calls into it.
const MAIN: &str = r#"from flytekit import task, workflow, conditional, map_task, dynamic
from pkg.fuzzed import *
from pkg import fuzzed
from .fuzzed import t, wf as sub_wf, Out


@task
def double(x: int) -> int:
    return x * 2


@workflow
def main_wf(a: int = 1, s: str = "x") -> int:
    r = t(x=a)
    y = fuzzed.t(x=s)
    z = sub_wf(a=r)
    o = Out(a=1)
    m = map_task(fuzzed.t)(x=[a, a])
    c = conditional("c").if_(a > 1).then(double(x=a)).else_().then(t(x=a))
    return double(x=y)
"#;

/// A workspace holding `files` (paths relative to [`ROOT`]).
fn workspace(files: &[(&str, &str)]) -> Workspace {
    let mut ws = Workspace::new(root(), Config::default());
    for (path, text) in files {
        ws.set_file(root().join(path), text.to_string());
    }
    ws
}

/// Parse `text`, then analyze it as `pkg/fuzzed.py` beside [`MAIN`], then change it and
/// analyze again (the incremental path re-parses only that file).
fn check_all(text: &str) {
    check_parse(text);
    let mut ws = workspace(&[("pkg/__init__.py", ""), ("pkg/fuzzed.py", text), ("pkg/main.py", MAIN)]);
    let analysis = ws.analyze();
    check_analysis(&ws, &analysis);
    // Same text as the importer, to exercise the entity/graph code on the fuzzed text itself.
    ws.set_file(root().join("pkg/main.py"), text.to_string());
    let analysis = ws.analyze();
    check_analysis(&ws, &analysis);
}

/// Analyzes one large `text` once (as `pkg/fuzzed.py` beside [`MAIN`]) and checks the result;
/// the syntax errors of the parse are checked through the `syntax-error` diagnostics.
fn check_big(text: &str) {
    let ws = workspace(&[("pkg/__init__.py", ""), ("pkg/fuzzed.py", text), ("pkg/main.py", MAIN)]);
    let analysis = ws.analyze();
    check_analysis(&ws, &analysis);
}

/// Runs `f` on a thread with a main thread's usual stack (8 MiB).
///
/// Deeply nested input is lowered only to a bounded depth, so this is plenty; see
/// [`deep_nesting_fits_a_two_mib_stack`] for the 2 MiB that spawned threads get.
fn on_main_sized_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(8 << 20).spawn(f).unwrap().join().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Realistic flytekit modules, mutated by the properties below.
const SEEDS: &[&str] = &[
    r#""""Orders pipeline."""
import typing
from dataclasses import dataclass
from typing import Dict, List, Optional

import pandas as pd
from flytekit import ImperativeWorkflow, LaunchPlan, Resources, conditional, dynamic, map_task, task, workflow
from flytekit.types.file import FlyteFile


@dataclass
class Out:
    a: int
    b: Optional[str] = None


Pair = typing.NamedTuple("Pair", [("left", int), ("right", str)])


@task(cache=True, cache_version="1.0", retries=3, requests=Resources(cpu="1", mem="2Gi"))
def t(x: int) -> int:
    return x + 1


@task
def split(n: int, tag: str = "x") -> Pair:
    return Pair(left=n, right=tag)


@task
def frame(rows: List[Dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


@task
def write(df: pd.DataFrame) -> FlyteFile["csv"]:
    df.to_csv("out.csv")
    return FlyteFile("out.csv")


@dynamic
def fan(n: int) -> List[int]:
    return [t(x=i) for i in range(n)]


@workflow
def wf(a: int = 3, flag: bool = True) -> Out:
    b = t(x=a)
    p = split(n=b, tag="y")
    c = (
        conditional("pick")
        .if_(flag.is_true())
        .then(t(x=p.left))
        .elif_(a > 10)
        .then(t(x=b))
        .else_()
        .fail("nope")
    )
    xs = map_task(t, concurrency=2)(x=[1, 2, 3])
    f = fan(n=c)
    t(x="not an int")
    return Out(a=c)


lp = LaunchPlan.get_or_create(wf, name="lp", default_inputs={"a": 1}, fixed_inputs={"flag": False})
"#,
    r#"from flytekit import task, workflow
from enum import Enum
import functools


class Color(Enum):
    RED = "red"
    BLUE = "blue"


@task(timeout=60)
def paint(c: Color, times: int) -> str:
    return c.value * times


@task
def nothing():
    print("hi")


@task
def bad(x):
    return x


@workflow
def wf(c: Color = Color.RED) -> str:
    n = nothing()
    s = paint(c=c, times=n)
    q = paint(c, 2)
    part = functools.partial(paint, times=3)
    b = bad(x=s)
    if s == "red":
        return s
    return s.upper()


@workflow
def cyc(a: int) -> int:
    x = cyc(a=a)
    return x
"#,
    "# -*- coding: utf-8 -*-\r\nfrom flytekit import task, workflow\r\n\r\n@task\r\ndef t(x: int) -> str:\r\n\treturn \"héllo 😀\" + str(x)  # fledge: ignore[type-mismatch]\r\n\r\n@workflow\r\ndef wf(a: int = 1) -> int:\r\n    return t(x=a)\r\n",
];

/// Pieces of Python and flytekit that token soups are made of.
const TOKENS: &[&str] = &[
    "@task",
    "@workflow",
    "@dynamic",
    "@task(cache=True)",
    "@task(",
    "@workflow(",
    "def ",
    "class ",
    "lambda ",
    "return ",
    "yield ",
    "import ",
    "from ",
    " as ",
    "if ",
    "elif ",
    "else",
    "for ",
    "in ",
    "while ",
    "with ",
    "try",
    "except ",
    "finally",
    "raise ",
    "async ",
    "await ",
    "match ",
    "case ",
    "global ",
    "nonlocal ",
    "pass",
    "del ",
    "assert ",
    "not ",
    "and ",
    "or ",
    "is ",
    "None",
    "True",
    "False",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    ";",
    "=",
    "==",
    "->",
    ":=",
    "*",
    "**",
    "+",
    "-",
    "/",
    "//",
    "%",
    "@",
    "|",
    "&",
    "~",
    "<",
    ">",
    "\n",
    "\n",
    "\n    ",
    "\n        ",
    "\t",
    "\r\n",
    "\r",
    " ",
    " ",
    "\\\n",
    "#",
    "# fledge: ignore",
    "'",
    "\"",
    "\"\"\"",
    "'''",
    "f\"",
    "f\"{",
    "b'",
    "r'",
    "0",
    "1",
    "1.5",
    "0x1F",
    "1_000",
    "1e10",
    "1j",
    "x",
    "t",
    "wf",
    "a",
    "b",
    "self",
    "int",
    "str",
    "float",
    "bool",
    "List",
    "Dict",
    "Optional",
    "typing.List[int]",
    "flytekit",
    "task",
    "workflow",
    "conditional(\"c\")",
    ".if_(",
    ".then(",
    ".elif_(",
    ".else_()",
    ".fail(",
    "map_task(",
    "LaunchPlan.get_or_create(",
    "Resources(",
    "cpu=\"1\"",
    "x=",
    "a=",
    "é",
    "😀",
    "\u{feff}",
    "\0",
    "\u{fffd}",
    "\u{2028}",
    "\u{200b}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..300).prop_map(|ts| ts.concat())
}

/// One edit of a byte string.
#[derive(Clone, Debug)]
enum Mutation {
    /// XOR one byte with a non-zero mask.
    Flip(Index, u8),
    /// Keep only the first part.
    Truncate(Index),
    /// Copy a slice (at most 256 bytes) and insert it elsewhere.
    Duplicate(Index, Index, Index),
    /// Remove a slice (at most 64 bytes).
    Delete(Index, Index),
    /// Insert a token.
    Insert(Index, &'static str),
    /// Swap two lines.
    SwapLines(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
        any::<Index>().prop_map(Mutation::Truncate),
        (any::<Index>(), any::<Index>(), any::<Index>()).prop_map(|(a, b, c)| Mutation::Duplicate(a, b, c)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Delete(a, b)),
        (any::<Index>(), prop::sample::select(TOKENS)).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    // `Index::index` needs a non-zero size; positions may equal the length.
    let pos = |i: &Index, len: usize| i.index(len + 1);
    match m {
        Mutation::Flip(i, mask) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes[at] ^= mask;
        }
        Mutation::Flip(..) => {}
        Mutation::Truncate(i) => bytes.truncate(pos(i, bytes.len())),
        Mutation::Duplicate(from, len, to) => {
            let start = pos(from, bytes.len());
            let end = start + len.index(257).min(bytes.len() - start);
            let piece = bytes[start..end].to_vec();
            let at = pos(to, bytes.len());
            bytes.splice(at..at, piece);
        }
        Mutation::Delete(from, len) => {
            let start = pos(from, bytes.len());
            let end = start + len.index(65).min(bytes.len() - start);
            bytes.drain(start..end);
        }
        Mutation::Insert(i, t) => {
            let at = pos(i, bytes.len());
            bytes.splice(at..at, t.bytes());
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
            *bytes = lines.join(&b'\n');
        }
    }
}

/// A seed file after 1..8 mutations, decoded lossily like files read from disk.
fn mutated_seed() -> impl Strategy<Value = String> {
    (prop::sample::select(SEEDS), prop::collection::vec(mutation(), 1..8)).prop_map(|(seed, ms)| {
        let mut bytes = seed.as_bytes().to_vec();
        for m in &ms {
            apply(&mut bytes, m);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Cases per property: `PROPTEST_CASES` when set, else `default`.
fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    // No regression files: they would land in core/tests/proptest-regressions.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn parse_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        check_parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parse_token_soup(text in token_soup()) {
        check_parse(&text);
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn analyze_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        check_all(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn analyze_token_soup(text in token_soup()) {
        check_all(&text);
    }

    #[test]
    fn analyze_mutated_flytekit(text in mutated_seed()) {
        check_all(&text);
    }

    /// Two mutated files that import each other (and themselves, through the star import).
    #[test]
    fn analyze_two_mutated_files(a in mutated_seed(), b in mutated_seed()) {
        let a = format!("from pkg.b import *\nfrom . import b\n{a}");
        let b = format!("from pkg.a import *\nfrom .a import t, wf\n{b}");
        let ws = workspace(&[("pkg/__init__.py", "from .a import *\n"), ("pkg/a.py", &a), ("pkg/b.py", &b)]);
        let analysis = ws.analyze();
        check_analysis(&ws, &analysis);
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic pathological inputs
// ---------------------------------------------------------------------------------------------

/// The unmutated seeds analyze cleanly enough: no panic and sane ranges (and the checks run).
#[test]
fn seeds_are_analyzed() {
    for seed in SEEDS {
        check_all(seed);
    }
    let ws = workspace(&[("pkg/__init__.py", ""), ("pkg/fuzzed.py", SEEDS[0]), ("pkg/main.py", MAIN)]);
    let analysis = ws.analyze();
    assert!(analysis.graphs.len() >= 2, "the seed's workflows are evaluated");
    assert!(analysis.diagnostics.iter().any(|d| d.code == "type-mismatch"), "{:#?}", analysis.diagnostics);
}

/// A generated 10 MB module of documented tasks and workflows: parsed and analyzed without
/// trouble. (Docstrings and comments make up most of the bytes, as in real code, which keeps
/// this at a few seconds in a debug build.)
#[test]
fn ten_megabyte_file() {
    let doc = "Explains what the task does, at some length, as real tasks do. ".repeat(12);
    let comment = format!("# {}\n", "-".repeat(200)).repeat(3);
    let mut text = String::from("from flytekit import task, workflow\n\n");
    let mut i = 0;
    while text.len() < 10 << 20 {
        text.push_str(&format!(
            "{comment}@task\ndef t{i}(x: int, s: str = \"{i}\") -> int:\n    \"\"\"{doc}\"\"\"\n    return x + {i}\n\n\
             @workflow\ndef wf{i}(a: int) -> int:\n    \"\"\"{doc}\"\"\"\n    b = t{i}(x=a)\n    return t{i}(x=b, s=\"y\")\n\n"
        ));
        i += 1;
    }
    let ws = workspace(&[("pkg/__init__.py", ""), ("pkg/big.py", &text)]);
    let analysis = ws.analyze();
    check_analysis(&ws, &analysis);
    assert_eq!(analysis.graphs.len(), i, "every workflow of the big file is evaluated");
    assert!(analysis.diagnostics.is_empty(), "{:#?}", &analysis.diagnostics[..3.min(analysis.diagnostics.len())]);
}

fn nested(open: &str, close: &str, n: usize) -> String {
    format!("x = {}1{}\ny = t(x=1)\n", open.repeat(n), close.repeat(n))
}

#[test]
fn hundred_thousand_nested_parentheses() {
    on_main_sized_stack(|| check_big(&nested("(", ")", 100_000)));
}

#[test]
fn hundred_thousand_nested_brackets() {
    on_main_sized_stack(|| check_big(&nested("[", "]", 100_000)));
    on_main_sized_stack(|| check_big(&nested("{", "}", 100_000)));
    on_main_sized_stack(|| check_big(&nested("f(", ")", 100_000)));
    on_main_sized_stack(|| check_big(&nested("[(", ")]", 50_000)));
}

#[test]
fn hundred_thousand_unclosed_brackets() {
    on_main_sized_stack(|| check_big(&"(".repeat(100_000)));
    on_main_sized_stack(|| check_big(&"[{(".repeat(33_000)));
    on_main_sized_stack(|| check_big(&")".repeat(100_000)));
}

#[test]
fn long_operator_chains() {
    // Left-nested binary operators, attribute chains and call chains are deep trees too.
    on_main_sized_stack(|| check_big(&format!("x = 1{}\n", " + 1".repeat(100_000))));
    on_main_sized_stack(|| check_big(&format!("x = a{}\n", ".b".repeat(100_000))));
    on_main_sized_stack(|| check_big(&format!("x = f{}\n", "()".repeat(100_000))));
    on_main_sized_stack(|| check_big(&format!("x = not{}\n", " not".repeat(50_000))));
    on_main_sized_stack(|| check_big(&format!("x = {}1\n", "-".repeat(100_000))));
    on_main_sized_stack(|| check_big(&format!("x = {}1\n", "lambda: ".repeat(20_000))));
}

/// `if` nested `depth` deep inside a workflow, one more space of indentation per level.
fn nested_ifs(depth: usize) -> String {
    let mut text = String::from("from flytekit import task, workflow\n\n@workflow\ndef wf(a: int) -> int:\n");
    for d in 1..=depth {
        text.push_str(&" ".repeat(d));
        text.push_str("if a:\n");
    }
    text.push_str(&" ".repeat(depth + 1));
    text.push_str("return a\n");
    text
}

#[test]
fn five_thousand_nested_ifs() {
    // 12.5 MB of indentation; Python itself stops at 100 levels, so a syntax error is fine.
    on_main_sized_stack(|| check_big(&nested_ifs(5000)));
}

#[test]
fn five_thousand_nested_defs_and_decorators() {
    let mut text = String::new();
    for depth in 0..5000 {
        text.push_str(&" ".repeat(depth));
        text.push_str("@task\n");
        text.push_str(&" ".repeat(depth));
        text.push_str("def f(x: int) -> int:\n");
    }
    text.push_str(&" ".repeat(5000));
    text.push_str("return x\n");
    on_main_sized_stack(move || check_big(&text));
}

/// Threads spawned by Rust (every `cargo test` thread, rayon workers, an LSP's workers) get
/// 2 MiB of stack. `syntax::parse` promises never to fail and the lowerer caps its recursion at
/// `MAX_DEPTH` = 200 "so pathological input cannot overflow the stack", but in a debug build
/// 200 levels of lowering frames need more than 2 MiB: the process aborts. Release builds fit
/// in 1 MiB.
#[test]
fn deep_nesting_fits_a_two_mib_stack() {
    // The work runs in a child process (this test, re-run), so an abort is a failure here
    // instead of the end of the whole test binary.
    const CHILD: &str = "FLEDGE_ROBUSTNESS_SMALL_STACK_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let small = |f: fn()| std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().unwrap();
        small(|| check_parse(&nested("f(", ")", 200)));
        small(|| check_parse(&nested_ifs(200)));
        small(|| check_all(&nested("f(", ")", 100_000)));
        small(|| check_all(&nested_ifs(1000)));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "deep_nesting_fits_a_two_mib_stack", "--include-ignored", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "parsing deep nesting on a 2 MiB stack failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn very_long_line() {
    check_all(&format!("x = \"{}\"\n", "a".repeat(1 << 20)));
    check_big(&format!("x = [{}]\n", "1, ".repeat(200_000)));
    check_all(&format!("@task\ndef t(x: int) -> int:\n    return x  # {}\n", "é😀".repeat(100_000)));
    check_all(&"a".repeat(1 << 20));
}

#[test]
fn nul_bytes() {
    check_all("\0");
    check_all("x = 1\0\ny = 2\n");
    check_all("@task\0\ndef t(x: int) -> int:\n    return x\0\n");
    check_all(&"\0".repeat(10_000));
    check_all("from flytekit import task\n@task\ndef t(x: int) -> int:\n    return \"\0\"\n");
}

#[test]
fn replacement_characters_from_lossy_decoding() {
    // Lone surrogates (CESU/WTF-8 bytes) and other invalid UTF-8 decode to U+FFFD.
    for bytes in [
        &b"x = '\xed\xa0\x80'\n"[..],
        b"\xed\xb0\x80 = 1\n",
        b"def t(x: int) -> \xff:\n    return x\n",
        b"@task\ndef t(x\xc3: int) -> int:\n    return x\n",
        b"\xf0\x9f\x98",
        b"\x80\x80\x80\x80",
        b"# \xfe\xff\n@workflow\ndef wf(a: int) -> int:\n    return a\xe2\x82\n",
    ] {
        check_all(&String::from_utf8_lossy(bytes));
    }
}

#[test]
fn byte_order_marks() {
    check_all("\u{feff}");
    check_all("\u{feff}from flytekit import task\n@task\ndef t(x: int) -> int:\n    return x\n");
    check_all("\u{feff}\u{feff}x = 1\n");
    check_all("x = 1\n\u{feff}y = 2\n");
    check_all("\u{feff}def f(:\n");
    // A BOM followed by a syntax error: the error points into the real text.
    let parsed = parse("\u{feff}def f(:\n");
    assert!(!parsed.syntax_errors.is_empty());
}

#[test]
fn line_endings() {
    let lf = "from flytekit import task, workflow\n\n@task\ndef t(x: int) -> int:\n    return x\n\n@workflow\ndef wf(a: int) -> int:\n    return t(x=\"s\")\n";
    check_all(lf);
    check_all(&lf.replace('\n', "\r\n"));
    check_all(&lf.replace('\n', "\r"));
    check_all(&lf.replace('\n', "\r\r\n"));
    check_all("\r");
    check_all("\r\r\r\n\n\r");
    check_all("x = (1,\r2)\ry = 3\r");
    check_all("x = 1\\\r\ny = 2\\\r");
    check_all("def f(:\r\n    pass\r\n");
    check_all(&"\r".repeat(10_000));
    check_all("x = 1\u{2028}y = 2\u{85}z = 3\u{c}\n");
}

#[test]
fn mixed_tabs_and_spaces() {
    check_all("@task\ndef t(x: int) -> int:\n\tif x:\n        return x\n\treturn 1\n");
    check_all("@task\ndef t(x: int) -> int:\n    \tif x:\n\t    return x\n  \t  return 1\n");
    check_all("def f():\n\t\t\t\tpass\n  pass\n\tpass\n");
    check_all(&"\t \t \n".repeat(1000));
    check_all("if x:\n\x0c    pass\n");
}

#[test]
fn empty_and_whitespace_only() {
    for text in ["", " ", "\n", "\t", "\\", "#", "'", "\"\"\"", "@", "@task", "def", "class", ":"] {
        check_all(text);
    }
}

/// Files read from disk that are not UTF-8 are reported at the first bad byte; the range must
/// cover whole characters of the lossily decoded text.
#[test]
fn invalid_utf8_file_range_is_on_char_boundaries() {
    let dir = tempdir();
    std::fs::write(dir.join("bad.py"), b"x = 1\n\xff = 2\n").unwrap();
    let ws = Workspace::load(std::slice::from_ref(&dir)).unwrap();
    let analysis = ws.analyze();
    assert!(analysis.diagnostics.iter().any(|d| d.code == "syntax-error"));
    check_analysis(&ws, &analysis);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Lossy decoding locates the first bad byte in the decoded text too.
#[test]
fn decode_locates_the_first_bad_byte() {
    let (text, at) = discover::decode(b"ab\xffcd".to_vec());
    assert_eq!(at, Some(2));
    assert!(text.is_char_boundary(2));
    assert_eq!(&text[2..5], "\u{fffd}");
}

/// A fresh folder under the system temp dir (no tempfile crate in core's dev-dependencies).
fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "fledge-robustness-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}
