//! `fledge check`.

use crate::output::{self, Sources};
use crate::CheckFormat;
use clap::Args;
use fledge_core::diagnostic::Severity;
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
    let analysis = ws.analyze();
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
