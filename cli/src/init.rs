//! `fledge init`: append a `[tool.fledge]` section with commented defaults to the project's
//! pyproject.toml and print a pre-commit hook entry.
//!
//! The file written is the one `fledge check` reads: `pyproject.toml` in the project root that
//! `fledge check DIR` would find (the nearest folder at or above DIR with pyproject.toml, setup.py,
//! setup.cfg or .git). It is created when missing. An existing `[tool.fledge]` (or any
//! `tool.fledge.*` table) is never touched: `init` refuses instead. The text is appended, so the
//! rest of the file (comments, formatting) stays byte for byte as it was.

use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct InitArgs {
    /// A folder of the project (default: the current folder); the section goes into the
    /// pyproject.toml of the root `fledge check` finds from there.
    pub path: Option<PathBuf>,
}

/// The section appended to pyproject.toml: every key of `[tool.fledge]`, commented out, at its
/// default. `cli/tests/docs.rs` checks that it names every key core's config reader accepts and
/// that it reads back as the default configuration.
pub const SECTION: &str = r#"[tool.fledge]
# fledge: static checks for Flyte workflow code (reference: docs/configuration.md in the
# fledge repository). Every key is optional; the values shown are the defaults, except
# the two marked "example".
#
# Files to check (glob patterns, relative to this file); empty: every .py file.
# include = []
# Files or folders to skip, on top of .venv, build, dist, caches, ...
# exclude = []
# Extra folders where top-level modules live (src/ is found by itself).
# src = []
# Rule codes to report (`fledge rule` lists them); empty: every rule.
# select = []
# Rule codes never to report.
# ignore = []
# The Python interpreter for `fledge run` (checks never run Python).
# python = "python3"  # example
#
# Per-rule severity: error, warning or info; empty: each rule's own.
# [tool.fledge.severity]
# pickle-fallback = "error"  # example
"#;

/// The `.pre-commit-config.yaml` entry `init` prints. It runs the `fledge` already installed in
/// the environment (`pip install flyte-fledge`), so it needs no network, and checks the whole
/// project once per commit: a change to one file can break a workflow in another.
pub const PRE_COMMIT_SNIPPET: &str = r#"repos:
  - repo: local
    hooks:
      - id: fledge-check
        name: fledge check
        entry: fledge check
        language: system
        types_or: [python, toml]
        pass_filenames: false
        require_serial: true
"#;

/// What `init` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// pyproject.toml did not exist; it was created with the section.
    Created(PathBuf),
    /// The section was appended to an existing pyproject.toml.
    Appended(PathBuf),
}

/// Why `init` wrote nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The file already configures fledge.
    AlreadyConfigured(PathBuf),
    /// The file is not valid TOML (appending to it would not help), or cannot be read or written.
    Problem(String),
}

pub fn run(args: InitArgs) -> ExitCode {
    let start = args.path.unwrap_or_else(|| PathBuf::from("."));
    if !start.is_dir() {
        eprintln!("fledge: {}: not a folder", start.display());
        return ExitCode::from(2);
    }
    let root = fledge_core::project::discover::find_root(&start);
    match init(&root) {
        Ok(outcome) => {
            let (verb, path) = match &outcome {
                Outcome::Created(p) => ("Created", p),
                Outcome::Appended(p) => ("Added [tool.fledge] to", p),
            };
            println!("{verb} {}", display(path));
            println!();
            println!("To check the project before every commit, add this to .pre-commit-config.yaml");
            println!("(it runs the fledge installed in your environment: pip install flyte-fledge):");
            println!();
            print!("{PRE_COMMIT_SNIPPET}");
            ExitCode::SUCCESS
        }
        Err(Refusal::AlreadyConfigured(path)) => {
            eprintln!(
                "fledge: {} already has a [tool.fledge] section; nothing changed (docs/configuration.md lists the keys)",
                display(&path)
            );
            ExitCode::from(1)
        }
        Err(Refusal::Problem(message)) => {
            eprintln!("fledge: {message}");
            ExitCode::from(2)
        }
    }
}

/// Writes the section into `root/pyproject.toml`.
pub fn init(root: &Path) -> Result<Outcome, Refusal> {
    let path = root.join("pyproject.toml");
    let existing = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Refusal::Problem(format!("{}: {e}", display(&path)))),
    };
    let Some(bytes) = existing else {
        std::fs::write(&path, SECTION).map_err(|e| Refusal::Problem(format!("{}: {e}", display(&path))))?;
        return Ok(Outcome::Created(path));
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| Refusal::Problem(format!("{}: not UTF-8 text; nothing changed", display(&path))))?;
    let doc: toml::Table = toml::from_str(&text)
        .map_err(|e| Refusal::Problem(format!("{}: not valid TOML, nothing changed: {e}", display(&path))))?;
    if doc.get("tool").and_then(|t| t.as_table()).is_some_and(|t| t.contains_key("fledge")) {
        return Err(Refusal::AlreadyConfigured(path));
    }
    let mut appended = text.clone();
    if !appended.is_empty() {
        if !appended.ends_with('\n') {
            appended.push('\n');
        }
        appended.push('\n');
    }
    appended.push_str(SECTION);
    // Never leave a file that no longer parses (e.g. `tool = "x"` as a top-level key).
    if let Err(e) = toml::from_str::<toml::Table>(&appended) {
        return Err(Refusal::Problem(format!(
            "{}: cannot add [tool.fledge] to this file ({e}); nothing changed",
            display(&path)
        )));
    }
    std::fs::write(&path, appended).map_err(|e| Refusal::Problem(format!("{}: {e}", display(&path))))?;
    Ok(Outcome::Appended(path))
}

/// A path as the user would type it: relative to the current folder when it is inside it.
fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().ok().and_then(|c| c.canonicalize().ok());
    match cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()) {
        Some(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fledge_core::project::Config;

    #[test]
    fn section_reads_back_as_the_default_configuration() {
        assert_eq!(Config::from_pyproject(SECTION).unwrap(), Config::default());
        // Uncommenting every key (the example severity too) still gives a valid configuration.
        let is_setting = |l: &str| {
            l.starts_with("[tool.")
                || l.split_once(" = ").is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        };
        let uncommented: String = SECTION
            .lines()
            .map(|l| l.strip_prefix("# ").filter(|l| is_setting(l)).unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        let c = Config::from_pyproject(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert_eq!(c.python.as_deref(), Some("python3"));
        assert_eq!(c.severity.len(), 1);
    }

    #[test]
    fn creates_a_missing_pyproject() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(init(dir.path()), Ok(Outcome::Created(dir.path().join("pyproject.toml"))));
        assert_eq!(std::fs::read_to_string(dir.path().join("pyproject.toml")).unwrap(), SECTION);
    }

    #[test]
    fn appends_and_keeps_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let before = "# my project\n[project]\nname = \"x\"  # keep this comment\n\n[tool.ruff]\nline-length = 100";
        std::fs::write(dir.path().join("pyproject.toml"), before).unwrap();
        assert!(matches!(init(dir.path()), Ok(Outcome::Appended(_))));
        let after = std::fs::read_to_string(dir.path().join("pyproject.toml")).unwrap();
        assert_eq!(after, format!("{before}\n\n{SECTION}"));
        assert_eq!(Config::from_pyproject(&after).unwrap(), Config::default());
    }

    #[test]
    fn refuses_to_duplicate_an_existing_section() {
        for existing in [
            "[tool.fledge]\nignore = [\"pickle-fallback\"]\n",
            "[project]\nname = \"x\"\n[tool.fledge.severity]\npickle-fallback = \"error\"\n",
            "tool = { fledge = { src = [\"lib\"] } }\n",
            "[tool]\nfledge = {}\n",
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("pyproject.toml");
            std::fs::write(&path, existing).unwrap();
            assert_eq!(init(dir.path()), Err(Refusal::AlreadyConfigured(path.clone())), "{existing}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), existing, "unchanged");
        }
    }

    #[test]
    fn refuses_invalid_toml_and_files_it_cannot_extend() {
        for existing in ["[project\nname = 1\n", "tool = \"not a table\"\n"] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("pyproject.toml");
            std::fs::write(&path, existing).unwrap();
            assert!(matches!(init(dir.path()), Err(Refusal::Problem(_))), "{existing}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), existing, "unchanged");
        }
    }
}
