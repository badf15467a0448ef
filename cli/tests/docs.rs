//! Generated documentation that cannot drift from the code.
//!
//! - `docs/configuration.md`: the `[tool.fledge]` keys are read from the source of core's
//!   configuration reader (`core/src/project/config.rs`: the fields of `RawConfig`, which serde
//!   deserializes, with `deny_unknown_fields` and kebab-case names, and the `///` docs of the
//!   same-named fields of `Config`), cross-checked against the real reader
//!   (`Config::from_pyproject`); plus what `fledge init` writes, `fledge check --help` and
//!   `fledge rule`.
//! - `docs/cli.md`: `fledge --help` and the `--help` of every subcommand `fledge --help` lists
//!   (these double as snapshot tests of the help texts).
//!
//! Each test renders its page and fails when the file in docs/ differs. To accept a change:
//!
//!     UPDATE_DOCS=1 cargo test -p fledge-cli --test docs

use fledge_core::diagnostic::Severity;
use fledge_core::project::Config;
use std::path::{Path, PathBuf};
use std::process::Command;

const REGENERATE: &str = "UPDATE_DOCS=1 cargo test -p fledge-cli --test docs";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `fledge ARGS` with a fixed environment: its stdout, which must be a success.
fn fledge(args: &[&str], cwd: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fledge"))
        .args(args)
        .current_dir(cwd)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .env_remove("FLEDGE_TIMINGS")
        .output()
        .unwrap();
    assert!(out.status.success(), "fledge {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Compares `docs/<name>` with `rendered`, or rewrites it under UPDATE_DOCS=1.
fn check_page(name: &str, rendered: &str) {
    let path = repo().join("docs").join(name);
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v != "0") {
        std::fs::write(&path, rendered).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != rendered {
        let first = current.lines().zip(rendered.lines()).position(|(a, b)| a != b);
        let line = first.unwrap_or_else(|| current.lines().count().min(rendered.lines().count()));
        panic!(
            "docs/{name} is out of date (first difference at line {}):\n  file:      {:?}\n  generated: {:?}\nRegenerate it with:\n  {REGENERATE}",
            line + 1,
            current.lines().nth(line).unwrap_or("<end of file>"),
            rendered.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reading core/src/project/config.rs
// ---------------------------------------------------------------------------------------------

/// One field of a struct, as written in the source.
#[derive(Debug)]
struct Field {
    name: String,
    ty: String,
    doc: String,
    /// The text of the `#[...]` attributes on the field.
    attrs: String,
}

/// The attributes right above `struct NAME {` and the text of its body, from the source.
fn struct_source(src: &str, name: &str) -> (String, String) {
    let lines: Vec<&str> = src.lines().collect();
    let head = format!("struct {name} {{");
    let at = lines
        .iter()
        .position(|l| l.trim_start_matches("pub ").starts_with(&head))
        .unwrap_or_else(|| panic!("no `{head}` in config.rs: update cli/tests/docs.rs"));
    let attrs = lines[..at]
        .iter()
        .rev()
        .take_while(|l| l.trim().starts_with("#[") || l.trim().starts_with("///"))
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
    let body = lines[at + 1..].iter().take_while(|l| **l != "}").copied().collect::<Vec<_>>().join("\n");
    (attrs, body)
}

fn fields(body: &str) -> Vec<Field> {
    let mut out = Vec::new();
    let (mut doc, mut attrs) = (Vec::<String>::new(), String::new());
    for line in body.lines().map(str::trim) {
        if let Some(d) = line.strip_prefix("///") {
            doc.push(d.trim().to_string());
        } else if line.starts_with("#[") {
            attrs.push_str(line);
        } else if let Some((name, ty)) = line.trim_start_matches("pub ").split_once(':') {
            let name = name.trim();
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "field `{line}`");
            out.push(Field {
                name: name.to_string(),
                ty: ty.trim().trim_end_matches(',').trim().to_string(),
                doc: doc.join(" "),
                attrs: std::mem::take(&mut attrs),
            });
            doc.clear();
        } else {
            doc.clear();
            attrs.clear();
        }
    }
    out
}

/// A `[tool.fledge]` key: its TOML name, how it is written, its default and what it does.
struct Key {
    name: String,
    ty: &'static str,
    default: &'static str,
    doc: String,
    /// A valid value, to check the key against the real reader.
    sample: String,
}

fn config_keys() -> Vec<Key> {
    let src = std::fs::read_to_string(repo().join("core/src/project/config.rs")).unwrap();
    let (raw_attrs, raw_body) = struct_source(&src, "RawConfig");
    assert!(raw_attrs.contains("rename_all = \"kebab-case\""), "RawConfig is no longer kebab-case: {raw_attrs}");
    assert!(raw_attrs.contains("deny_unknown_fields"), "RawConfig no longer denies unknown fields: {raw_attrs}");
    let (_, config_body) = struct_source(&src, "Config");
    let docs = fields(&config_body);
    let raw = fields(&raw_body);
    assert!(raw.len() >= 5, "too few RawConfig fields found; the parser in cli/tests/docs.rs needs updating: {raw:?}");
    raw.into_iter()
        .map(|f| {
            assert!(f.attrs.contains("default"), "`{}` has no #[serde(default)]: document it as required", f.name);
            let name = match f.attrs.split_once("rename = \"") {
                Some((_, rest)) => rest.split('"').next().unwrap().to_string(),
                None => f.name.replace('_', "-"),
            };
            let doc = docs
                .iter()
                .find(|d| d.name == f.name)
                .map(|d| d.doc.clone())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| panic!("`Config::{}` in config.rs has no /// doc: write one", f.name));
            let (ty, default, sample) = match f.ty.as_str() {
                "Vec<String>" => ("list of strings", "`[]`", format!("{name} = [\"x\"]")),
                "Vec<PathBuf>" => ("list of paths", "`[]`", format!("{name} = [\"lib\"]")),
                "Option<String>" => ("string", "not set", format!("{name} = \"x\"")),
                "BTreeMap<String, String>" if name == "severity" => (
                    "table: rule code = severity",
                    "`{}`",
                    format!("[tool.fledge.{name}]\ntype-mismatch = \"warning\""),
                ),
                other => panic!("`{}: {other}`: describe this type in cli/tests/docs.rs (config_keys)", f.name),
            };
            Key { name, ty, default, doc, sample }
        })
        .collect()
}

/// Every severity, by name (the match fails to compile when one is added).
fn severities() -> Vec<&'static str> {
    [Severity::Error, Severity::Warning, Severity::Info]
        .into_iter()
        .map(|s| {
            match s {
                Severity::Error | Severity::Warning | Severity::Info => {}
            }
            s.as_str()
        })
        .collect()
}

#[test]
fn parsed_keys_are_what_the_reader_accepts() {
    let keys = config_keys();
    for k in &keys {
        let text = format!("[tool.fledge]\n{}\n", k.sample);
        Config::from_pyproject(&text).unwrap_or_else(|e| panic!("`{}` was rejected: {e}", k.sample));
    }
    let err = Config::from_pyproject("[tool.fledge]\nnot-a-key = 1\n").unwrap_err();
    assert!(err.contains("not-a-key"), "{err}");
    for s in severities() {
        Config::from_pyproject(&format!("[tool.fledge.severity]\ntype-mismatch = \"{s}\"\n")).unwrap();
    }
    assert!(Config::from_pyproject("[tool.fledge.severity]\ntype-mismatch = \"loud\"\n").is_err());
}

/// What `fledge init` writes into a project without pyproject.toml.
fn init_section() -> String {
    let dir = tempfile::tempdir().unwrap();
    fledge(&["init"], dir.path());
    std::fs::read_to_string(dir.path().join("pyproject.toml")).unwrap()
}

#[test]
fn init_names_every_key_and_means_the_defaults() {
    let section = init_section();
    assert_eq!(Config::from_pyproject(&section).unwrap(), Config::default());
    for k in config_keys() {
        let shown =
            if k.ty.starts_with("table") { format!("# [tool.fledge.{}]", k.name) } else { format!("# {} = ", k.name) };
        assert!(
            section.contains(&shown),
            "`fledge init` does not show `{}` (cli/src/init.rs SECTION):\n{section}",
            k.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// docs/configuration.md
// ---------------------------------------------------------------------------------------------

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn render_configuration() -> String {
    let root = repo();
    let keys = config_keys();
    let mut md = String::new();
    md.push_str(&format!(
        "<!-- Generated by cli/tests/docs.rs from core/src/project/config.rs, `fledge init`, `fledge check --help`\n     and `fledge rule`. Do not edit by hand: change the code, then run `{REGENERATE}`. -->\n\n"
    ));
    md.push_str(
        "# Configuration reference

fledge reads the `[tool.fledge]` table of `pyproject.toml` in the project root: the nearest folder at or
above the first checked path that holds `pyproject.toml`, `setup.py`, `setup.cfg` or `.git`. Every key
is optional. An unknown key, an unknown rule code or an unknown severity is a configuration error:
`fledge check` prints it and exits with status 2. `fledge init` appends a commented section with every
key (see [below](#what-fledge-init-writes)).

## `[tool.fledge]` keys

| key | type | default | meaning |
|---|---|---|---|
",
    );
    for k in &keys {
        md.push_str(&format!("| `{}` | {} | {} | {} |\n", k.name, k.ty, k.default, cell(&k.doc)));
    }
    let sev = severities().iter().map(|s| format!("`\"{s}\"`")).collect::<Vec<_>>().join(", ");
    md.push_str(&format!(
        "
Patterns in `include` and `exclude` are globs relative to the project root (`flows/**/*.py`,
`legacy_*.py`); folders such as `.venv`, `build`, `dist` and tool caches are always skipped.
`select` may contain `\"ALL\"`; a code in `ignore` is never reported, even when selected.

### `[tool.fledge.severity]`

One entry per rule code whose severity you want to change; the value is one of {sev}. Only errors
make `fledge check` exit with status 1, so raising a warning to `\"error\"` makes CI fail on it, and
lowering an error to `\"warning\"` or `\"info\"` keeps it visible without failing.

```toml
[tool.fledge]
ignore = [\"pickle-fallback\"]
src = [\"lib\"]

[tool.fledge.severity]
unresolved-import = \"error\"
```

## What `fledge init` writes

`fledge init [PATH]` appends this to the project's `pyproject.toml` (creating the file if there is none,
and refusing, with exit status 1, when it already has a `[tool.fledge]` section):

```toml
{}```

## Command-line flags

Flags of `fledge check` add to the file: `--select` codes are reported on top of `select`, and
`--ignore` codes on top of `ignore`.

```text
$ fledge check --help
{}```

## Suppression comments

`# fledge: ignore[CODE, ...]` at the end of a line hides those codes on that line, and `# fledge: ignore`
every code on it. The line is the one where the reported range starts.

## Rule codes

These are the codes `select`, `ignore`, `severity`, `--select` and `--ignore` accept (`fledge rule`
lists them, `fledge rule CODE` prints a rule's page):

| code | default severity | summary |
|---|---|---|
",
        init_section(),
        fledge(&["check", "--help"], &root),
    ));
    let listing = fledge(&["rule"], &root);
    let mut count = 0;
    for line in listing.lines() {
        // `CODE  SEVERITY  SUMMARY`, in padded columns.
        let (code, rest) = line.split_once(char::is_whitespace).unwrap();
        let (severity, summary) = rest.trim_start().split_once(char::is_whitespace).unwrap();
        assert!(root.join(format!("docs/rules/{code}.md")).is_file(), "no docs/rules/{code}.md");
        md.push_str(&format!("| [`{code}`](rules/{code}.md) | {severity} | {} |\n", cell(summary.trim())));
        count += 1;
    }
    assert_eq!(count, fledge_core::rules::all_rules().count(), "`fledge rule` lists every rule:\n{listing}");
    md
}

#[test]
fn configuration_reference_is_up_to_date() {
    check_page("configuration.md", &render_configuration());
}

// ---------------------------------------------------------------------------------------------
// docs/cli.md
// ---------------------------------------------------------------------------------------------

/// The subcommands `fledge --help` lists (without `help`).
fn subcommands(top: &str) -> Vec<String> {
    top.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

fn render_cli() -> String {
    let root = repo();
    let top = fledge(&["--help"], &root);
    let mut md = format!(
        "<!-- Generated by cli/tests/docs.rs from the help texts of the `fledge` binary. Do not edit by hand:\n     change the code, then run `{REGENERATE}`. -->\n\n"
    );
    md.push_str(
        "# Command-line reference

`fledge --version` prints the version and the git commit it was built from, e.g. `fledge 0.1.0 (1a2b3c4d5)`.
Exit status of `fledge check`: 0 when no error was found (warnings alone do not fail), 1 when errors
were found, 2 on usage errors, unreadable input or an invalid configuration.

```text
$ fledge --help
",
    );
    md.push_str(&top);
    md.push_str("```\n");
    let commands = subcommands(&top);
    assert!(commands.iter().any(|c| c == "check") && commands.iter().any(|c| c == "init"), "{top}");
    for c in commands {
        md.push_str(&format!("\n## `fledge {c}`\n\n```text\n$ fledge {c} --help\n"));
        md.push_str(&fledge(&[&c, "--help"], &root));
        md.push_str("```\n");
    }
    md
}

#[test]
fn cli_reference_is_up_to_date() {
    check_page("cli.md", &render_cli());
}
