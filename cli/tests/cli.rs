//! End-to-end tests of the `fledge` binary: what a user running it in a terminal or a script
//! would notice. Exit codes (0 clean, 1 errors, 2 bad usage or unreadable input), the exact
//! `--format json` document, rule selection from flags, comments and `[tool.fledge]`, odd files
//! and trees, `fledge rule`, `fledge graph`, and the help texts (insta snapshots).
//!
//! Every test builds its own small project in a temporary folder and runs the binary there.

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A throwaway project on disk.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// An empty project: a folder with a `pyproject.toml` (so it is its own root).
    fn new() -> Project {
        let p = Project { dir: tempfile::tempdir().unwrap() };
        p.file("pyproject.toml", "[project]\nname = \"demo\"\n");
        p
    }

    /// A project with one clean module `pkg/clean.py`.
    fn clean() -> Project {
        let p = Project::new();
        p.file("pkg/__init__.py", "");
        p.file("pkg/clean.py", CLEAN);
        p
    }

    /// The canonical root (what the binary prints paths relative to).
    fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes `rel` (creating folders), returning its path.
    fn file(&self, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `fledge ARGS` with the project root as the current folder.
    fn fledge(&self, args: &[&str]) -> Command {
        let mut c = fledge();
        c.current_dir(self.root()).args(args);
        c
    }

    /// `fledge check --format json ARGS` from the root: the exit code and the parsed document.
    fn check_json(&self, args: &[&str]) -> (i32, Vec<Diag>) {
        let out = self.fledge(&[&["check", "--format", "json"], args].concat()).output().unwrap();
        (out.status.code().expect("exited"), parse_json(&out))
    }
}

/// The binary under test, with an environment that does not depend on the caller's.
fn fledge() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_fledge"));
    c.env_remove("FLEDGE_TIMINGS").env("NO_COLOR", "1");
    c
}

/// One diagnostic of the JSON output.
#[derive(Debug, Clone, PartialEq)]
struct Diag {
    path: String,
    line: u64,
    column: u64,
    end_line: u64,
    end_column: u64,
    severity: String,
    code: String,
    message: String,
}

/// The key order of a JSON diagnostic.
const KEYS: [&str; 8] = ["path", "line", "column", "end_line", "end_column", "severity", "code", "message"];

/// Parses `fledge check --format json` output, checking that it is exactly
/// `{"version":1,"diagnostics":[{"path",..,"message"},..]}` plus a newline: those keys, in that
/// order, those types, compact, nothing else.
fn parse_json(out: &Output) -> Vec<Diag> {
    let stdout = String::from_utf8(out.stdout.clone()).expect("JSON output is UTF-8");
    let doc: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout:?}\nstderr: {}", String::from_utf8_lossy(&out.stderr)));
    let obj = doc.as_object().expect("an object");
    assert_eq!(obj.keys().map(String::as_str).collect::<Vec<_>>().len(), 2, "{stdout}");
    assert_eq!(doc["version"], 1, "{stdout}");
    let list = doc["diagnostics"].as_array().expect("diagnostics is a list");
    let mut entries = Vec::new();
    let mut diags = Vec::new();
    for d in list {
        let o = d.as_object().expect("a diagnostic is an object");
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort();
        let mut want = KEYS.to_vec();
        want.sort();
        assert_eq!(keys, want, "exactly these keys: {d}");
        for k in ["path", "severity", "code", "message"] {
            assert!(d[k].is_string(), "{k} is a string: {d}");
        }
        for k in ["line", "column", "end_line", "end_column"] {
            assert!(d[k].as_u64().is_some_and(|n| n >= 1), "{k} is a 1-based number: {d}");
        }
        assert!(["error", "warning", "info"].contains(&d["severity"].as_str().unwrap()), "{d}");
        // Re-serialize in the documented order: it must be byte-identical to the output.
        let fields: Vec<String> = KEYS.iter().map(|k| format!("{}:{}", Value::from(*k), d[*k])).collect();
        entries.push(format!("{{{}}}", fields.join(",")));
        let s = |k: &str| d[k].as_str().unwrap().to_string();
        let n = |k: &str| d[k].as_u64().unwrap();
        diags.push(Diag {
            path: s("path"),
            line: n("line"),
            column: n("column"),
            end_line: n("end_line"),
            end_column: n("end_column"),
            severity: s("severity"),
            code: s("code"),
            message: s("message"),
        });
    }
    assert_eq!(stdout, format!("{{\"version\":1,\"diagnostics\":[{}]}}\n", entries.join(",")), "exact JSON shape");
    diags
}

fn codes(diags: &[Diag]) -> Vec<&str> {
    diags.iter().map(|d| d.code.as_str()).collect()
}

/// Runs `cmd` and kills it if it takes longer than `limit` (then the test fails).
fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        so.read_to_end(&mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        se.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("fledge did not finish within {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

const CLEAN: &str = r#"from flytekit import task, workflow


@task
def double(x: int) -> int:
    return x * 2


@workflow
def wf(a: int = 1) -> int:
    return double(x=a)
"#;

/// `double` returns int, `shout` wants str: one type-mismatch at line 17, `s=b`.
const MISMATCH: &str = r#"from flytekit import task, workflow


@task
def double(x: int) -> int:
    return x * 2


@task
def shout(s: str) -> str:
    return s.upper()


@workflow
def wf(a: int = 1) -> str:
    b = double(x=a)
    return shout(s=b)
"#;

/// An error (type-mismatch) and a warning (unresolved-import).
const ERROR_AND_WARNING: &str = r#"from flytekit import task, workflow
import pkg.missing_module


@task
def double(x: int) -> int:
    return x * 2


@task
def shout(s: str) -> str:
    return s.upper()


@workflow
def wf(a: int = 1) -> str:
    return shout(s=double(x=a))
"#;

// ---------------------------------------------------------------------------------------------
// Exit codes and the human output
// ---------------------------------------------------------------------------------------------

#[test]
fn clean_project_exits_0() {
    let p = Project::clean();
    p.fledge(&["check"]).assert().code(0).stdout(predicate::str::contains("All checks passed.")).stderr("");
    let (code, diags) = p.check_json(&[]);
    assert_eq!((code, diags), (0, vec![]));
    // The default path is `.`; naming it, a folder or a file gives the same.
    p.fledge(&["check", "."]).assert().code(0);
    p.fledge(&["check", "pkg"]).assert().code(0);
    p.fledge(&["check", "pkg/clean.py"]).assert().code(0);
}

#[test]
fn errors_exit_1_with_an_annotated_snippet() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/wf.py", MISMATCH);
    p.fledge(&["check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error[type-mismatch]"))
        .stdout(predicate::str::contains("--> pkg/wf.py:17:20"))
        .stdout(predicate::str::contains("return shout(s=b)"))
        .stdout(predicate::str::contains("Found 1 error"));
}

#[test]
fn warnings_alone_exit_0() {
    let p = Project::clean();
    p.file("pkg/imports.py", "import pkg.not_there\n");
    let (code, diags) = p.check_json(&[]);
    assert_eq!(code, 0);
    assert_eq!(codes(&diags), ["unresolved-import"]);
    assert_eq!(diags[0].severity, "warning");
}

#[test]
fn missing_path_exits_2() {
    let p = Project::clean();
    p.fledge(&["check", "no/such/dir"]).assert().code(2).stderr(predicate::str::contains("no/such/dir"));
    p.fledge(&["check", "nope.py"]).assert().code(2).stderr(predicate::str::contains("nope.py"));
    // Also from a folder that is no project at all.
    let empty = tempfile::tempdir().unwrap();
    fledge().current_dir(empty.path()).args(["check", "nope"]).assert().code(2);
}

/// A missing path is reported once, under its own name, and nothing claims that all is well.
#[test]
fn missing_path_is_reported_once_and_clearly() {
    let p = Project::clean();
    let out = p.fledge(&["check", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("no such file or directory").count(), 1, "{stderr}");
    assert!(!stderr.contains("fledge: : "), "an empty path is reported: {stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("All checks passed"));
}

#[test]
fn unknown_rule_exits_2() {
    let p = Project::clean();
    for args in [
        &["check", "--select", "nope"][..],
        &["check", "--ignore", "nope"],
        &["check", "--select", "type-mismatch,nope"],
    ] {
        p.fledge(args).assert().code(2).stdout("").stderr(predicate::str::contains("unknown rule `nope`"));
    }
}

#[test]
fn invalid_tool_fledge_exits_2() {
    let cases = [
        ("[tool.fledge]\nselekt = [\"type-mismatch\"]\n", "selekt"),
        ("[tool.fledge.severity]\ntype-mismatch = \"loud\"\n", "loud"),
        ("[tool.fledge]\nignore = \"type-mismatch\"\n", "ignore"),
        ("not toml [[[\n", "not valid TOML"),
    ];
    for (pyproject, needle) in cases {
        let p = Project::clean();
        p.file("pyproject.toml", pyproject);
        p.fledge(&["check"]).assert().code(2).stdout("").stderr(predicate::str::contains(needle));
    }
}

/// A rule code in `[tool.fledge]` that does not exist is a typo; `--select nope` is refused,
/// so the same in the config should be too. Instead `select = ["nope"]` silently turns every
/// rule off and the check "passes".
#[test]
fn unknown_rule_in_tool_fledge_exits_2() {
    for pyproject in [
        "[tool.fledge]\nselect = [\"type-mismatch\", \"typo\"]\n",
        "[tool.fledge]\nignore = [\"typo\"]\n",
        "[tool.fledge.severity]\ntypo = \"warning\"\n",
    ] {
        let p = Project::new();
        p.file("pkg/wf.py", MISMATCH);
        p.file("pyproject.toml", pyproject);
        p.fledge(&["check"]).assert().code(2).stderr(predicate::str::contains("typo"));
    }
}

#[test]
fn bad_usage_exits_2() {
    let p = Project::clean();
    p.fledge(&["check", "--format", "xml"]).assert().code(2);
    p.fledge(&["frobnicate"]).assert().code(2);
    fledge().assert().code(2).stderr(predicate::str::contains("Usage"));
}

// ---------------------------------------------------------------------------------------------
// The JSON document
// ---------------------------------------------------------------------------------------------

#[test]
fn json_document_is_exact() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/wf.py", MISMATCH);
    let out = p.fledge(&["check", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let diags = parse_json(&out);
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(
        (d.path.as_str(), d.line, d.column, d.end_line, d.end_column, d.severity.as_str(), d.code.as_str()),
        ("pkg/wf.py", 17, 20, 17, 21, "error", "type-mismatch")
    );
    assert!(d.message.contains("`shout`") && d.message.contains("`str`"), "{}", d.message);
    // Nothing else on stdout or stderr.
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // A clean project: the empty document, byte for byte.
    Project::clean()
        .fledge(&["check", "--format", "json"])
        .assert()
        .code(0)
        .stdout("{\"version\":1,\"diagnostics\":[]}\n");
}

#[test]
fn json_is_sorted_by_path_line_column() {
    let p = Project::new();
    p.file("b.py", MISMATCH);
    p.file("a.py", format!("{MISMATCH}\n\n@workflow\ndef wf2(a: int = 1) -> str:\n    return shout(s=double(x=a))\n"));
    let (_, diags) = p.check_json(&[]);
    let keys: Vec<_> = diags.iter().map(|d| (d.path.clone(), d.line, d.column)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(diags.iter().filter(|d| d.path == "a.py").count(), 2);
}

#[test]
fn json_paths_are_relative_to_the_cwd() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/sub/__init__.py", "");
    p.file("pkg/sub/wf.py", MISMATCH);
    let path_from = |cwd: &Path, target: &str| -> String {
        let out = fledge().current_dir(cwd).args(["check", "--format", "json", target]).output().unwrap();
        let diags = parse_json(&out);
        assert_eq!(diags.len(), 1, "{diags:?}");
        diags[0].path.clone()
    };
    let root = p.root();
    assert_eq!(path_from(&root, "."), "pkg/sub/wf.py");
    assert_eq!(path_from(&root.join("pkg"), "."), "sub/wf.py");
    assert_eq!(path_from(&root.join("pkg/sub"), "wf.py"), "wf.py");
    let parent = root.parent().unwrap();
    let name = root.file_name().unwrap().to_str().unwrap();
    assert_eq!(path_from(parent, name), format!("{name}/pkg/sub/wf.py"));
    // Not under the cwd: the absolute path.
    let elsewhere = tempfile::tempdir().unwrap();
    let abs = root.join("pkg/sub/wf.py");
    assert_eq!(path_from(elsewhere.path(), abs.to_str().unwrap()), abs.to_str().unwrap());
}

// ---------------------------------------------------------------------------------------------
// Choosing what is reported
// ---------------------------------------------------------------------------------------------

#[test]
fn select_and_ignore_flags() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/wf.py", ERROR_AND_WARNING);
    let (code, diags) = p.check_json(&[]);
    assert_eq!((code, codes(&diags)), (1, vec!["unresolved-import", "type-mismatch"]));

    let (code, diags) = p.check_json(&["--select", "unresolved-import"]);
    assert_eq!((code, codes(&diags)), (0, vec!["unresolved-import"]));
    let (code, diags) = p.check_json(&["--ignore", "type-mismatch"]);
    assert_eq!((code, codes(&diags)), (0, vec!["unresolved-import"]));
    let (code, diags) = p.check_json(&["--ignore", "unresolved-import"]);
    assert_eq!((code, codes(&diags)), (1, vec!["type-mismatch"]));
    let (code, diags) = p.check_json(&["--select", "type-mismatch,unresolved-import"]);
    assert_eq!((code, codes(&diags)), (1, vec!["unresolved-import", "type-mismatch"]));
    let (code, diags) = p.check_json(&["--select", "type-mismatch", "--select", "unresolved-import"]);
    assert_eq!((code, codes(&diags)), (1, vec!["unresolved-import", "type-mismatch"]));
    let (code, diags) = p.check_json(&["--select", "type-mismatch", "--ignore", "type-mismatch"]);
    assert_eq!((code, diags), (0, vec![]));
    let (code, diags) = p.check_json(&["--ignore", "type-mismatch,unresolved-import"]);
    assert_eq!((code, diags), (0, vec![]));
}

#[test]
fn suppression_comments() {
    let p = Project::new();
    let with = |comment: &str| MISMATCH.replace("return shout(s=b)", &format!("return shout(s=b)  {comment}"));
    p.file("a.py", with("# fledge: ignore[type-mismatch]"));
    p.file("b.py", with("# fledge: ignore"));
    p.file("c.py", with("# fledge: ignore[missing-input, type-mismatch]"));
    p.file("d.py", with("# fledge: ignore[missing-input]"));
    p.file(
        "e.py",
        MISMATCH.replace("    return shout(s=b)", "    # fledge: ignore[type-mismatch]\n    return shout(s=b)"),
    );
    let (code, diags) = p.check_json(&[]);
    let paths: Vec<_> = diags.iter().map(|d| (d.path.as_str(), d.code.as_str())).collect();
    // The comment must be on the reported line and name the code (or name none).
    assert_eq!(paths, [("d.py", "type-mismatch"), ("e.py", "type-mismatch")]);
    assert_eq!(code, 1);
}

#[test]
fn tool_fledge_ignore_select_severity_exclude() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/wf.py", ERROR_AND_WARNING);
    p.file("generated/__init__.py", "");
    p.file("generated/wf.py", MISMATCH);
    p.file("pkg/build_stuff/wf.py", MISMATCH);
    let with = |toml: &str| {
        p.file("pyproject.toml", format!("[project]\nname = \"demo\"\n\n{toml}"));
        p.check_json(&[])
    };
    let all = with("");
    assert_eq!(all.0, 1);
    assert_eq!(
        all.1.iter().map(|d| (d.path.as_str(), d.code.as_str())).collect::<Vec<_>>(),
        [
            ("generated/wf.py", "type-mismatch"),
            ("pkg/build_stuff/wf.py", "type-mismatch"),
            ("pkg/wf.py", "unresolved-import"),
            ("pkg/wf.py", "type-mismatch")
        ]
    );

    let (code, diags) = with("[tool.fledge]\nexclude = [\"generated\", \"pkg/build_stuff\"]\n");
    assert_eq!((code, codes(&diags)), (1, vec!["unresolved-import", "type-mismatch"]));
    assert!(diags.iter().all(|d| d.path == "pkg/wf.py"), "{diags:?}");

    let (code, diags) =
        with("[tool.fledge]\nexclude = [\"generated/\", \"**/build_stuff\"]\nignore = [\"type-mismatch\"]\n");
    assert_eq!((code, codes(&diags)), (0, vec!["unresolved-import"]));

    let (code, diags) =
        with("[tool.fledge]\nexclude = [\"generated\", \"pkg/build_stuff\"]\nselect = [\"type-mismatch\"]\n");
    assert_eq!((code, codes(&diags)), (1, vec!["type-mismatch"]));

    let (code, diags) =
        with("[tool.fledge]\nexclude = [\"generated\", \"pkg/build_stuff\"]\n\n[tool.fledge.severity]\ntype-mismatch = \"warning\"\nunresolved-import = \"error\"\n");
    assert_eq!(code, 1);
    let sev: Vec<_> = diags.iter().map(|d| (d.code.as_str(), d.severity.as_str())).collect();
    assert_eq!(sev, [("unresolved-import", "error"), ("type-mismatch", "warning")]);

    let (code, diags) = with("[tool.fledge]\nexclude = [\"generated\", \"pkg/build_stuff\"]\nignore = [\"unresolved-import\"]\n[tool.fledge.severity]\ntype-mismatch = \"info\"\n");
    assert_eq!(code, 0, "an info is no error");
    assert_eq!(diags.iter().map(|d| d.severity.as_str()).collect::<Vec<_>>(), ["info"]);

    // The command line adds to the configuration's ignore list.
    let (code, diags) =
        with("[tool.fledge]\nexclude = [\"generated\", \"pkg/build_stuff\"]\nignore = [\"unresolved-import\"]\n");
    assert_eq!((code, codes(&diags)), (1, vec!["type-mismatch"]));
    let out = p.fledge(&["check", "--format", "json", "--ignore", "type-mismatch"]).output().unwrap();
    assert_eq!((out.status.code(), parse_json(&out)), (Some(0), vec![]));
}

/// `fledge check --help` says `--select` "adds to `[tool.fledge] select`"; it replaces it.
#[test]
fn select_flag_adds_to_tool_fledge_select() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/wf.py", ERROR_AND_WARNING);
    p.file("pyproject.toml", "[tool.fledge]\nselect = [\"unresolved-import\"]\n");
    let (_, diags) = p.check_json(&["--select", "type-mismatch"]);
    assert_eq!(codes(&diags), ["unresolved-import", "type-mismatch"]);
}

// ---------------------------------------------------------------------------------------------
// Odd files and trees
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_is_a_syntax_error_and_other_files_are_still_checked() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/latin1.py", b"# caf\xe9\nx = 1\n");
    p.file("pkg/wf.py", MISMATCH);
    let (code, diags) = p.check_json(&[]);
    assert_eq!(code, 1);
    let found: Vec<_> = diags.iter().map(|d| (d.path.as_str(), d.code.as_str(), d.line)).collect();
    assert!(found.contains(&("pkg/latin1.py", "syntax-error", 1)), "{diags:#?}");
    assert!(diags.iter().any(|d| d.path == "pkg/latin1.py" && d.message.contains("UTF-8")), "{diags:#?}");
    assert!(found.contains(&("pkg/wf.py", "type-mismatch", 17)), "{diags:#?}");
    // The human output shows the file too, without choking on the bad byte.
    p.fledge(&["check"]).assert().code(1).stdout(predicate::str::contains("pkg/latin1.py:1:"));
}

#[test]
fn syntax_error_and_type_error_in_different_files_are_both_reported() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/broken.py", "from flytekit import task\n\n@task\ndef f(x: int -> int:\n    return x\n");
    p.file("pkg/wf.py", MISMATCH);
    let (code, diags) = p.check_json(&[]);
    assert_eq!(code, 1);
    // tree-sitter may blame the decorator line of the broken definition, or the line itself.
    assert!(
        diags.iter().any(|d| d.path == "pkg/broken.py" && d.code == "syntax-error" && (3..=4).contains(&d.line)),
        "{diags:#?}"
    );
    assert!(diags.iter().any(|d| d.path == "pkg/wf.py" && d.code == "type-mismatch"), "{diags:#?}");
}

#[cfg(unix)]
#[test]
fn symlink_loops_do_not_hang() {
    use std::os::unix::fs::symlink;
    let p = Project::clean();
    p.file("pkg/wf.py", MISMATCH);
    symlink("..", p.path("pkg/up")).unwrap(); // a loop back to the root
    symlink(".", p.path("pkg/here")).unwrap(); // a loop onto itself
    symlink("loop_b", p.path("pkg/loop_a")).unwrap(); // links that point at each other
    symlink("loop_a", p.path("pkg/loop_b")).unwrap();
    symlink("x.py", p.path("pkg/x.py")).unwrap(); // a link to itself named like a module
    std::fs::create_dir_all(p.path("deep/a/b")).unwrap();
    symlink(p.path("deep"), p.path("deep/a/b/again")).unwrap();
    let mut cmd = p.fledge(&["check", "--format", "json"]);
    cmd.stdin(Stdio::null());
    let out = output_within(cmd, Duration::from_secs(120));
    let diags = parse_json(&out);
    // Each real file is checked once, under its real path.
    assert_eq!(
        diags.iter().filter(|d| d.code == "type-mismatch").map(|d| d.path.as_str()).collect::<Vec<_>>(),
        ["pkg/wf.py"],
        "{diags:#?}"
    );
}

#[cfg(unix)]
#[test]
fn unreadable_files_and_folders_are_reported_and_the_rest_checked() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let p = Project::clean();
    p.file("pkg/wf.py", MISMATCH);
    // A module that cannot be read: a dangling link (works even as root).
    symlink("gone.py", p.path("pkg/dangling.py")).unwrap();
    let out = p.fledge(&["check", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "errors win over read problems");
    assert!(String::from_utf8_lossy(&out.stderr).contains("dangling.py"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(codes(&parse_json(&out)), ["type-mismatch"]);
    std::fs::write(p.path("pkg/wf.py"), CLEAN).unwrap();
    p.fledge(&["check"]).assert().code(2).stderr(predicate::str::contains("dangling.py"));
    std::fs::remove_file(p.path("pkg/dangling.py")).unwrap();

    // An unreadable folder. Tests usually run as root here, and root reads through mode 000,
    // so this part only runs when the permission actually blocks reading.
    let locked = p.path("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("hidden.py"), MISMATCH).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let blocked = std::fs::read_dir(&locked).is_err();
    let out = p.fledge(&["check"]).output().unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    if !blocked {
        eprintln!("skipped the unreadable-folder case: mode 000 does not stop this user (root) from reading");
        return;
    }
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("locked"));
}

/// A named pipe whose name ends in `.py` (or any non-regular file) must not block the check.
#[cfg(unix)]
#[test]
fn fifo_named_like_a_module_does_not_hang() {
    let p = Project::clean();
    let status = Command::new("mkfifo").arg(p.path("pkg/pipe.py")).status().unwrap();
    assert!(status.success());
    let out = output_within(p.fledge(&["check", "--format", "json"]), Duration::from_secs(60));
    assert_eq!(parse_json(&out), vec![]);
}

#[test]
fn ten_megabyte_file_completes() {
    let p = Project::clean();
    // Realistic code with docstrings (most of the bytes); the time is not asserted.
    let doc = "Explains what the task does, at some length, as real tasks do. ".repeat(12);
    let mut text = String::from("from flytekit import task, workflow\n\n");
    let mut i = 0;
    while text.len() < 10 << 20 {
        text.push_str(&format!(
            "@task\ndef t{i}(x: int) -> int:\n    \"\"\"{doc}\"\"\"\n    return x + {i}\n\n\
             @workflow\ndef wf{i}(a: int) -> int:\n    \"\"\"{doc}\"\"\"\n    return t{i}(x=a)\n\n"
        ));
        i += 1;
    }
    // One mistake at the very end, to show the whole file was analyzed.
    text.push_str("@workflow\ndef last(a: str) -> int:\n    return t0(x=a)\n");
    let lines = text.lines().count() as u64;
    p.file("pkg/big.py", &text);
    let (code, diags) = p.check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!((diags[0].path.as_str(), diags[0].code.as_str(), diags[0].line), ("pkg/big.py", "type-mismatch", lines));
}

#[test]
fn files_over_the_size_limit_are_reported_not_read() {
    let p = Project::clean();
    let f = std::fs::File::create(p.path("pkg/huge.py")).unwrap();
    f.set_len(21 << 20).unwrap(); // sparse: 21 MB of NUL bytes without writing them
    p.fledge(&["check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("huge.py").and(predicate::str::contains("limit")));
}

// ---------------------------------------------------------------------------------------------
// fledge check never runs Python
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn check_never_starts_python() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/wf.py", ERROR_AND_WARNING);
    p.file("setup.py", "import sys\nsys.exit(1)\n");
    let bin = tempfile::tempdir().unwrap();
    let marker = bin.path().join("python-was-started");
    for name in ["python", "python3", "python3.11", "python3.12", "pyflyte", "pip", "uv", "fake-interpreter"] {
        let script = bin.path().join(name);
        std::fs::write(&script, format!("#!/bin/sh\necho \"{name} $*\" >> '{}'\nexit 0\n", marker.display())).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let interpreter = bin.path().join("fake-interpreter");
    p.file(
        "pyproject.toml",
        format!("[project]\nname = \"demo\"\n\n[tool.fledge]\npython = \"{}\"\n", interpreter.display()),
    );
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let with_path = |args: &[&str]| {
        let mut c = p.fledge(args);
        c.env("PATH", &path).env("VIRTUAL_ENV", bin.path()).env("PYTHON", &interpreter);
        c
    };
    // The trap works: running the fake python writes the marker.
    Command::new("python3").env("PATH", &path).status().unwrap();
    assert!(marker.exists(), "the fake python3 on PATH did not run");
    std::fs::remove_file(&marker).unwrap();

    for format in ["human", "json", "sarif", "github"] {
        with_path(&["check", "--format", format]).assert().code(1);
    }
    with_path(&["check", "pkg/wf.py"]).assert().code(1);
    with_path(&["graph", "pkg/wf.py", "wf"]).assert().code(0);
    with_path(&["rule", "type-mismatch"]).assert().code(0);
    assert!(
        !marker.exists(),
        "fledge started a Python program: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
}

// ---------------------------------------------------------------------------------------------
// Other output formats (smoke tests; the formats have unit tests of their own)
// ---------------------------------------------------------------------------------------------

#[test]
fn sarif_and_github_formats() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/wf.py", MISMATCH);
    let out = p.fledge(&["check", "--format", "sarif"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "type-mismatch");
    assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "pkg/wf.py");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 17);
    p.fledge(&["check", "--format", "github"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("::error").and(predicate::str::contains("file=pkg/wf.py,line=17")));
}

// ---------------------------------------------------------------------------------------------
// fledge rule
// ---------------------------------------------------------------------------------------------

#[test]
fn rule_prints_its_page() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules/type-mismatch.md")).unwrap();
    fledge().args(["rule", "type-mismatch"]).assert().code(0).stdout(page).stderr("");
}

#[test]
fn unknown_rule_page_exits_2() {
    fledge()
        .args(["rule", "nope"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("unknown rule `nope`").and(predicate::str::contains("fledge rule")));
}

#[test]
fn rule_lists_every_rule() {
    let out = fledge().arg("rule").assert().code(0).get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    let codes: Vec<&str> = text.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
    for code in ["syntax-error", "type-mismatch", "unresolved-import", "missing-input", "dependency-cycle"] {
        assert!(codes.contains(&code), "{code} missing from:\n{text}");
    }
    // Every listed code has a page.
    for code in codes {
        fledge().args(["rule", code]).assert().code(0).stdout(predicate::str::starts_with(format!("# {code}")));
    }
}

// ---------------------------------------------------------------------------------------------
// fledge graph
// ---------------------------------------------------------------------------------------------

/// `wf`: start -> double -> shout -> end, with an int edge and a str edge.
fn graph_project() -> Project {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file(
        "pkg/flow.py",
        r#"from flytekit import task, workflow


@task
def double(x: int) -> int:
    return x * 2


@task
def describe(n: int) -> str:
    return f"n={n}"


@workflow
def wf(a: int = 1) -> str:
    b = double(x=a)
    return describe(n=b)
"#,
    );
    p
}

#[test]
fn graph_json() {
    let p = graph_project();
    let out =
        p.fledge(&["graph", "pkg/flow.py", "wf", "--format", "json"]).assert().code(0).get_output().stdout.clone();
    let g: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(g["workflow"], "pkg.flow.wf");
    assert_eq!(g["path"], "pkg/flow.py");
    let nodes = g["nodes"].as_array().unwrap();
    let node =
        |label: &str| nodes.iter().find(|n| n["label"] == label).unwrap_or_else(|| panic!("no node {label}: {g}"));
    assert_eq!(node("double")["kind"], "task");
    assert_eq!(node("double")["line"], 16);
    assert_eq!(node("describe")["kind"], "task");
    assert_eq!(node("describe")["target"], "pkg/flow.py");
    let (start, double, describe, end) = (
        node("start")["id"].clone(),
        node("double")["id"].clone(),
        node("describe")["id"].clone(),
        node("end")["id"].clone(),
    );
    let edges: Vec<_> = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone(), e["python_type"].clone(), e["flyte_type"].clone()))
        .collect();
    assert!(edges.contains(&(start, double.clone(), "int".into(), "INTEGER".into())), "{edges:?}");
    assert!(edges.contains(&(double, describe.clone(), "int".into(), "INTEGER".into())), "{edges:?}");
    assert!(edges.contains(&(describe, end, "str".into(), "STRING".into())), "{edges:?}");
    // A dotted module name works as well as a path.
    let by_name =
        p.fledge(&["graph", "pkg.flow", "wf", "--format", "json"]).assert().code(0).get_output().stdout.clone();
    assert_eq!(serde_json::from_slice::<Value>(&by_name).unwrap(), g);
}

#[test]
fn graph_dot() {
    let p = graph_project();
    let out = p.fledge(&["graph", "pkg/flow.py", "wf", "--format", "dot"]).assert().code(0).get_output().stdout.clone();
    let dot = String::from_utf8(out).unwrap();
    assert!(dot.starts_with("digraph \"pkg.flow.wf\" {"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
    assert!(dot.contains("[label=\"double\"]") && dot.contains("[label=\"describe\"]"), "{dot}");
    assert!(dot.contains("int (INTEGER)") && dot.contains("str (STRING)"), "{dot}");
    assert_eq!(dot.lines().filter(|l| l.trim_start().starts_with('"') && l.contains("\" -> \"")).count(), 3, "{dot}");
    // The default format is DOT.
    p.fledge(&["graph", "pkg/flow.py", "wf"]).assert().code(0).stdout(dot);
}

#[test]
fn graph_mermaid() {
    let p = graph_project();
    let out =
        p.fledge(&["graph", "pkg/flow.py", "wf", "--format", "mermaid"]).assert().code(0).get_output().stdout.clone();
    let m = String::from_utf8(out).unwrap();
    assert!(m.starts_with("flowchart LR\n"), "{m}");
    assert!(m.contains("[\"double\"]") && m.contains("[\"describe\"]"), "{m}");
    assert!(m.contains("int (INTEGER)") && m.contains("str (STRING)"), "{m}");
    assert_eq!(m.matches("-->").count(), 3, "{m}");
}

/// Mermaid's flowchart grammar treats a lowercase `end` as the keyword closing a subgraph; a
/// node with that id breaks the whole diagram (the Mermaid docs say to capitalize it).
#[test]
fn graph_mermaid_avoids_reserved_ids() {
    let p = graph_project();
    let out = p.fledge(&["graph", "pkg/flow.py", "wf", "--format", "mermaid"]).output().unwrap();
    let m = String::from_utf8(out.stdout).unwrap();
    for line in m.lines().skip(1) {
        let ids = line.split(['(', '[', '{', ' ', '|']).filter(|t| !t.is_empty() && !t.starts_with('"'));
        for id in ids {
            assert_ne!(id, "end", "node id `end` in line {line:?}");
        }
    }
}

#[test]
fn graph_errors_exit_2() {
    let p = graph_project();
    p.fledge(&["graph", "pkg/flow.py", "nope"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("no workflow `nope`").and(predicate::str::contains("wf")));
    p.fledge(&["graph", "pkg.nowhere", "wf"]).assert().code(2).stdout("");
    p.fledge(&["graph", "pkg/flow.py", "wf", "--format", "png"]).assert().code(2);
}

// ---------------------------------------------------------------------------------------------
// Help texts
// ---------------------------------------------------------------------------------------------

fn help(args: &[&str]) -> String {
    let out = fledge().args(args).env("COLUMNS", "100").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(&["--help"]));
    insta::assert_snapshot!("check_help", help(&["check", "--help"]));
    insta::assert_snapshot!("graph_help", help(&["graph", "--help"]));
    insta::assert_snapshot!("rule_help", help(&["rule", "--help"]));
    // `help SUBCOMMAND` and `-h` say the same.
    assert_eq!(help(&["help", "check"]), help(&["check", "--help"]));
    assert!(help(&["-h"]).contains("Usage: fledge"));
}

#[test]
fn every_subcommand_has_help() {
    // Subcommands added later get at least a working --help (snapshots cover the ones above).
    let top = help(&["--help"]);
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.contains(&"check") && commands.contains(&"graph") && commands.contains(&"rule"), "{top}");
    for c in commands {
        assert!(help(&[c, "--help"]).contains(&format!("Usage: fledge {c}")), "{c}");
    }
}

#[test]
fn version() {
    fledge()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(format!("fledge {}", env!("CARGO_PKG_VERSION"))));
}

// ---------------------------------------------------------------------------------------------
// --fix
// ---------------------------------------------------------------------------------------------

const FIXABLE: &str = "from flytekit import task, workflow


@task(cache=True)
def scale(n: int, factor: int) -> int:
    return n * factor


@workflow
def wf(n: int, factor: int = 2) -> int:
    a = scale(n=n, factr=3)
    return scale(n=a)
";

#[test]
fn fix_applies_safe_fixes_and_unsafe_ones_only_when_asked() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    p.file("pkg/wf.py", FIXABLE);
    let path = p.root().join("pkg/wf.py");
    // Safe: the one misspelled keyword, the missing cache_version. The missing input is left.
    p.fledge(&["check", "--fix"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("fixed 2 problems in 1 file"))
        .stderr(predicate::str::contains("1 more have fixes that need a look"))
        .stdout(predicate::str::contains("error[missing-input]"))
        .stdout(predicate::str::contains("Found 1 error"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("@task(cache=True, cache_version=\"1.0\")"), "{text}");
    assert!(text.contains("scale(n=n, factor=3)"), "{text}");
    // Unsafe too: `factor` is bound to the workflow input of the same name and type.
    p.fledge(&["check", "--fix", "--unsafe-fixes"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("fixed 1 problem in 1 file"))
        .stdout(predicate::str::contains("All checks passed."));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("return scale(n=a, factor=factor)"), "{text}");
    // Nothing left to fix: the file is not touched again.
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    p.fledge(&["check", "--fix"]).assert().code(0).stderr("");
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), before);
    // `--unsafe-fixes` means nothing without `--fix`.
    p.fledge(&["check", "--unsafe-fixes"]).assert().code(2);
}

#[test]
fn fix_never_rewrites_a_file_that_is_not_utf8() {
    let p = Project::new();
    p.file("pkg/__init__.py", "");
    let mut bytes = FIXABLE.replace("def scale", "# caf\u{e9}\ndef scale").into_bytes();
    let at = bytes.iter().position(|&b| b == 0xC3).unwrap();
    bytes.splice(at..at + 2, [0xE9]); // Latin-1 é: invalid UTF-8
    std::fs::write(p.root().join("pkg/wf.py"), &bytes).unwrap();
    p.fledge(&["check", "--fix"]).assert().code(1).stderr(predicate::str::contains("not fixed"));
    assert_eq!(std::fs::read(p.root().join("pkg/wf.py")).unwrap(), bytes);
}
