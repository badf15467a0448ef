//! `fledge check`.

use crate::output::{self, Sources};
use crate::CheckFormat;
use clap::Args;
use fledge_core::diagnostic::Severity;
use fledge_core::fix::Applicability;
use fledge_core::Workspace;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct CheckArgs {
    /// Files or folders to check (default: the current folder). The project around the first
    /// one (pyproject.toml, setup.py, .git) is loaded so imports resolve.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: CheckFormat,
    /// Only report these rule codes (comma-separated; adds to `[tool.fledge] select`).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Never report these rule codes (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Colors in human output: auto, always or never.
    #[arg(long, default_value = "auto")]
    pub color: String,
    /// Apply the safe fixes to the files (a misspelled keyword with one clear match, a missing
    /// `cache_version`), then report what is left.
    #[arg(long)]
    pub fix: bool,
    /// With `--fix`, also apply fixes that are a good guess but need a look (e.g. missing inputs
    /// bound to `...` or to the workflow input of the same name).
    #[arg(long, requires = "fix")]
    pub unsafe_fixes: bool,
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Apply one round of fixes to the files on disk and to `ws`; returns the fixes applied and the
/// files written. A file whose bytes on disk are not exactly the analyzed text (not UTF-8, edited
/// meanwhile) is left alone with a message, so no fix can lose data.
fn apply_fixes(
    ws: &mut Workspace,
    diagnostics: &[fledge_core::Diagnostic],
    which: Applicability,
) -> (usize, Vec<PathBuf>) {
    let by_file = fledge_core::fix::collect(diagnostics, which);
    let (mut fixed, mut files) = (0, Vec::new());
    for (path, planned) in by_file {
        let Some(text) = ws.file_text(&path).map(str::to_string) else { continue };
        let on_disk = std::fs::read(&path).unwrap_or_default();
        let bom = on_disk.starts_with(b"\xEF\xBB\xBF") && on_disk[3..] == *text.as_bytes();
        if on_disk != text.as_bytes() && !bom {
            eprintln!("fledge: {}: not fixed (not UTF-8, or changed while checking)", path.display());
            continue;
        }
        let Some(new_text) = fledge_core::fix::apply(&text, &planned.edits) else { continue };
        let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        bytes.extend_from_slice(new_text.as_bytes());
        // Write beside, then rename: an interrupted fix never leaves a half-written file.
        let tmp = path.with_extension("py.fledge-fix");
        let written = std::fs::write(&tmp, &bytes).and_then(|()| {
            if let Ok(meta) = std::fs::metadata(&path) {
                std::fs::set_permissions(&tmp, meta.permissions())?;
            }
            std::fs::rename(&tmp, &path)
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            eprintln!("fledge: {}: could not write the fixes: {e}", path.display());
            continue;
        }
        fixed += planned.fixes;
        files.push(path.clone());
        ws.set_file(path, new_text);
    }
    (fixed, files)
}

/// Text of the files diagnostics point into.
struct WorkspaceSources<'a>(&'a Workspace);

impl Sources for WorkspaceSources<'_> {
    fn text(&self, path: &Path) -> Option<&str> {
        self.0.file_text(path)
    }
}

pub fn run(args: CheckArgs) -> ExitCode {
    let paths = crate::default_paths(args.paths);
    for code in args.select.iter().chain(&args.ignore) {
        if fledge_core::rules::rule(code).is_none() {
            eprintln!("fledge: unknown rule `{code}`; `fledge rule` lists them");
            return ExitCode::from(2);
        }
    }
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        eprintln!("fledge: {}: no such file or directory", missing.display());
        return ExitCode::from(2);
    }
    let started = std::time::Instant::now();
    let mut ws = match Workspace::load(&paths) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("fledge: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = ws.config().clone();
    let configured = config.select.iter().chain(&config.ignore).chain(config.severity.keys());
    if let Some(code) = configured.into_iter().find(|c| *c != "ALL" && fledge_core::rules::rule(c).is_none()) {
        eprintln!(
            "fledge: unknown rule `{code}` in [tool.fledge] of {}; `fledge rule` lists them",
            ws.root().join("pyproject.toml").display()
        );
        return ExitCode::from(2);
    }
    config.select.extend(args.select.iter().cloned());
    config.ignore.extend(args.ignore.iter().cloned());
    ws.set_config(config);
    let mut io_problem = false;
    for p in ws.walk_problems() {
        eprintln!("fledge: {}: {}", p.path.display(), p.message);
        io_problem = true;
    }
    // `stale-cache-version` compares with the files as committed at git HEAD.
    if ws.config().enabled(fledge_core::rules::stale_cache_version::META.code) {
        if let Err(e) = fledge_core::project::git::load_baseline(&mut ws) {
            eprintln!("fledge: cannot read the last commit ({e}); stale-cache-version is skipped");
        }
    }
    let loaded = started.elapsed();
    let mut analysis = ws.analyze();
    if args.fix {
        let which = if args.unsafe_fixes { Applicability::All } else { Applicability::Safe };
        let (mut fixed, mut files) = (0, std::collections::BTreeSet::new());
        // A fix can make room for another (overlapping ones wait a round); a few rounds settle it.
        for _round in 0..4 {
            let (n, written) = apply_fixes(&mut ws, &analysis.diagnostics, which);
            if n == 0 {
                break;
            }
            fixed += n;
            files.extend(written);
            analysis = ws.analyze();
        }
        if fixed > 0 {
            let files = files.len();
            eprintln!("fledge: fixed {fixed} problem{} in {files} file{}", plural(fixed), plural(files));
        }
        let left = analysis.diagnostics.iter().filter(|d| !d.fixes.is_empty()).count();
        if left > 0 && !args.unsafe_fixes {
            eprintln!("fledge: {left} more have fixes that need a look (--fix --unsafe-fixes applies them)");
        }
    }
    if std::env::var_os("FLEDGE_TIMINGS").is_some() {
        eprintln!(
            "fledge: {} files loaded and parsed in {:.1} ms, analyzed in {:.1} ms",
            ws.files().count(),
            loaded.as_secs_f64() * 1e3,
            (started.elapsed() - loaded).as_secs_f64() * 1e3
        );
    }
    let diags = &analysis.diagnostics;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let sources = WorkspaceSources(&ws);
    let text = match args.format {
        CheckFormat::Human => {
            let color = match args.color.as_str() {
                "always" => true,
                "never" => false,
                _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            output::render_human(diags, &sources, &cwd, color)
        }
        CheckFormat::Json => output::render_json(diags, &sources, &cwd),
        CheckFormat::Sarif => {
            let rules: Vec<output::RuleMeta> = fledge_core::rules::all_rules()
                .map(|m| output::RuleMeta { code: m.code, summary: m.summary, default_severity: m.severity })
                .collect();
            output::render_sarif(diags, &sources, &cwd, &rules)
        }
        CheckFormat::Github => output::render_github(diags, &sources, &cwd),
    };
    print!("{text}");
    if diags.iter().any(|d| d.severity == Severity::Error) {
        ExitCode::from(1)
    } else if io_problem {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
