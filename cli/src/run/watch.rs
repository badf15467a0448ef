//! `fledge watch`: run once, then re-check the project on every save and re-run what changed.
//!
//! The worker stays warm between runs and is told which modules changed; the core re-computes every
//! task's fingerprint, so only tasks whose code (or whose inputs) changed run again, and early cutoff
//! keeps their dependents cached when their outputs did not change. While the project has errors,
//! nothing runs and the errors are shown.

use super::cache::Cache;
use super::command::{build_inputs, error_report, plan_in, print_result, take_run_flags, RunArgs, RunFormat};
use super::events::{Event, Sink};
use super::scheduler::{RunOptions, Runner};
use clap::Args;
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{new_debouncer, DebounceEventResult};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// How long to wait for more saves before re-running (milliseconds).
    #[arg(long, default_value = "30", value_name = "MS")]
    pub debounce_ms: u64,
}

/// Is this path something whose change can change a run?
fn relevant(root: &Path, p: &Path) -> bool {
    let rel = p.strip_prefix(root).unwrap_or(p);
    if rel.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        s == ".fledge" || s == "__pycache__" || s == ".git" || s.starts_with(".venv")
    }) {
        return false;
    }
    matches!(p.extension().and_then(|e| e.to_str()), Some("py")) || p.file_name().is_some_and(|n| n == "pyproject.toml")
}

pub fn watch(args: WatchArgs) -> ExitCode {
    let (loaded, python) = match super::command::load_with_python(&args.run.target, &args.run.workflow) {
        Ok(pair) => pair,
        Err(code) => return code,
    };
    let mut run_args = args.run.clone();
    if let Err(e) = take_run_flags(&mut run_args, &loaded.plan) {
        eprintln!("fledge: {e}");
        return ExitCode::from(2);
    }
    let mut ws = loaded.ws;
    let module = loaded.module;
    let mut plan = loaded.plan;
    let mut tasks = loaded.tasks;
    let root = ws.root().to_path_buf();
    let (exec, sink) = match super::command::executor_and_sink(&root, &python, run_args.format, run_args.explain) {
        Ok(pair) => pair,
        Err(code) => return code,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fledge: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let (tx, rx) = std::sync::mpsc::channel::<DebounceEventResult>();
    let mut debouncer = match new_debouncer(Duration::from_millis(args.debounce_ms.max(1)), tx) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("fledge: cannot watch files: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = debouncer.watcher().watch(&root, RecursiveMode::Recursive) {
        eprintln!("fledge: cannot watch {}: {e}", root.display());
        return ExitCode::from(2);
    }
    let opts = RunOptions {
        no_cache: run_args.no_cache,
        force: run_args.force.iter().cloned().collect(),
        parallel: run_args.parallel.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
    };
    let mut run_id = 0u64;
    let mut ready = true;
    loop {
        if ready {
            match build_inputs(&plan, &run_args.inputs, run_args.inputs_file.as_deref()) {
                Ok(inputs) => {
                    run_id += 1;
                    let raw_root =
                        root.join(".fledge").join("runs").join(format!("watch-{}-{run_id}", std::process::id()));
                    let runner = Runner::new(
                        exec.clone(),
                        Some(Cache::open(&root)),
                        sink.clone(),
                        opts.clone(),
                        raw_root.clone(),
                        plan.name.clone(),
                        tasks.clone(),
                    );
                    let r = rt.block_on(runner.run(plan.clone(), inputs, run_id));
                    // Outputs were copied into the cache; without it they stay where the tasks wrote them.
                    if !opts.no_cache {
                        let _ = std::fs::remove_dir_all(&raw_root);
                    }
                    print_result(&r, run_args.format);
                }
                Err(e) => report_problem(run_args.format, &sink, &e),
            }
            if run_args.format == RunFormat::Human {
                eprintln!("watching {} for changes (Ctrl-C to stop)", root.display());
            }
        }
        // Wait for a save that changes a file's text (reads and touches also raise events).
        let changed: BTreeSet<PathBuf> = loop {
            let mut batch = match rx.recv() {
                Ok(Ok(events)) => events,
                Ok(Err(e)) => {
                    eprintln!("fledge: file watching failed: {e}");
                    continue;
                }
                Err(_) => return ExitCode::from(2),
            };
            // A save can arrive in pieces (truncate, then write): take what follows right after too.
            while let Ok(more) = rx.recv_timeout(Duration::from_millis(15)) {
                if let Ok(events) = more {
                    batch.extend(events);
                }
            }
            let mut paths = BTreeSet::new();
            for p in batch.into_iter().map(|e| e.path).filter(|p| relevant(&root, p)) {
                if p.file_name().is_some_and(|n| n == "pyproject.toml") {
                    continue;
                }
                match std::fs::read(&p) {
                    Ok(bytes) => {
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        if ws.file_text(&p) != Some(text.as_str()) {
                            ws.set_file(p.clone(), text);
                            paths.insert(p);
                        }
                    }
                    Err(_) if ws.file_text(&p).is_some() => {
                        ws.remove_file(&p);
                        paths.insert(p);
                    }
                    Err(_) => {}
                }
            }
            if !paths.is_empty() {
                break paths;
            }
        };
        let mut modules = Vec::new();
        let analysis = ws.analyze();
        for p in &changed {
            if let Some(m) = analysis.index.modules.iter().find(|m| &m.path == p) {
                modules.push(m.name.clone());
            }
        }
        exec.invalidate(&modules);
        ready = match plan_in(&ws, &analysis, &module, &run_args.workflow) {
            Ok(p) => {
                plan = p;
                tasks = Arc::new(super::plan::project_table(&analysis));
                true
            }
            Err(e) => {
                let errors = error_report(&ws, &analysis);
                report_problem(run_args.format, &sink, if errors.is_empty() { &e } else { &errors });
                false
            }
        };
    }
}

fn report_problem(format: RunFormat, sink: &Arc<dyn Sink>, message: &str) {
    match format {
        RunFormat::Human => eprintln!("not running: {message}"),
        RunFormat::Jsonl => sink.emit(&Event::CheckFailed { errors: message.lines().map(str::to_string).collect() }),
    }
}
