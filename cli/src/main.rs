//! `fledge`: the command-line front end. It only translates between the terminal and
//! `fledge-core`; all Flyte knowledge lives in the core.

mod check;
mod completions;
mod digest;
mod graph;
mod init;
mod output;
mod register;
mod run;
mod user_cache;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// The analysis allocates many small nodes; mimalloc is markedly faster at that than glibc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "fledge",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("FLEDGE_GIT_COMMIT"), ")"),
    about = "Fast static checks for Flyte workflow code: type and DAG errors before anything runs",
    long_about = None,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check Flyte tasks and workflows for errors flytekit or FlyteAdmin would report.
    Check(check::CheckArgs),
    /// Print a workflow's DAG with the types on its edges.
    Graph(graph::GraphArgs),
    /// Print the documentation of a rule (or list all rules).
    Rule {
        /// The rule code, e.g. `type-mismatch`. Omit to list every rule.
        code: Option<String>,
    },
    /// Add a commented [tool.fledge] section to pyproject.toml and print a pre-commit hook entry.
    Init(init::InitArgs),
    /// Print a shell completion script (bash, zsh, fish, ...).
    #[command(after_help = completions::AFTER_HELP)]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Run a workflow locally, re-running only what changed since the last run (cached in .fledge/).
    Run(run::command::RunArgs),
    /// Run a workflow, then re-run what changed on every save (a live view, or --format jsonl events).
    Watch(run::watch::WatchArgs),
    /// Inspect or clean the run cache (.fledge/cache).
    Cache(run::command::CacheArgs),
    /// Check, bundle, serialize and register a project on a Flyte cluster (only what is new).
    Register(Box<register::RegisterArgs>),
    /// Run the language server (LSP over stdio).
    Lsp {
        /// Talk over stdin/stdout (the only transport; accepted for editors that pass it).
        #[arg(long)]
        stdio: bool,
    },
}

/// Output formats of `fledge check`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Human,
    Json,
    Sarif,
    Github,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Deeply nested user code must not overflow the main thread's stack.
    let worker = std::thread::Builder::new().stack_size(256 << 20).spawn(move || match cli.command {
        Command::Check(args) => check::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Rule { code } => rule(code),
        Command::Init(args) => init::run(args),
        Command::Completions { shell } => completions::run(shell),
        Command::Register(args) => register::run(*args),
        Command::Lsp { stdio: _ } => fledge_lsp::run_stdio(),
        Command::Run(args) => run::command::run(args),
        Command::Cache(args) => run::command::cache(args),
        Command::Watch(args) => run::watch::watch(args),
    });
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("fledge: internal error (please report it with the file that caused it)");
            ExitCode::from(2)
        }
    }
}

fn rule(code: Option<String>) -> ExitCode {
    match code {
        None => {
            for m in fledge_core::rules::all_rules() {
                println!("{:<28} {:<8} {}", m.code, m.severity.as_str(), m.summary);
            }
            ExitCode::SUCCESS
        }
        Some(code) => match fledge_core::rules::rule(&code) {
            Some(m) => {
                print!("{}", m.doc);
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("fledge: unknown rule `{code}`; `fledge rule` lists them");
                ExitCode::from(2)
            }
        },
    }
}

/// The paths to analyze, defaulting to the current folder.
fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    }
}
