//! The `fledge run` and `fledge cache` commands: arguments, inputs, the terminal report.

use super::cache::Cache;
use super::events::{Event, Jsonl, Sink, Status};
use super::literals;
use super::plan::{plan_workflow, WfPlan};
use super::scheduler::{outputs_json, RunOptions, Runner, WfResult};
use clap::{Args, Subcommand, ValueEnum};
use fledge_core::diagnostic::Severity;
use fledge_core::flyte::export::{find_workflow, workflows_in_module};
use fledge_core::flyte::Var;
use fledge_core::line_index::LineIndex;
use fledge_core::types::LiteralType;
use fledge_core::{Analysis, Workspace};
use fledge_proto::flyteidl::core::LiteralMap;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RunFormat {
    /// Progress on stderr, outputs on stdout.
    Human,
    /// One JSON event per line on stdout.
    Jsonl,
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// A Python file, or a dotted module name (resolved from the current folder).
    pub target: String,
    /// The workflow's name in that module.
    pub workflow: String,
    /// The workflow's inputs, as `--name value` (named after the workflow's parameters, converted by
    /// their Flyte types: JSON for lists, dicts and dataclasses; paths for files and dataframes).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "--INPUT VALUE")]
    pub inputs: Vec<String>,
    /// Read inputs from a JSON or YAML file (command-line inputs win).
    #[arg(long = "inputs", value_name = "FILE")]
    pub inputs_file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: RunFormat,
    /// Neither read nor write the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Run this task even if cached (task name or module.name; repeatable).
    #[arg(long, value_name = "TASK")]
    pub force: Vec<String>,
    /// Print why each node ran or was cached.
    #[arg(long)]
    pub explain: bool,
    /// Task attempts running at once (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
}

#[derive(Args)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
    /// The project (default: the current folder).
    #[arg(long, global = true, default_value = ".")]
    pub project: PathBuf,
}

#[derive(Subcommand)]
pub enum CacheCommand {
    /// List cache entries (task, size, age).
    Ls,
    /// Remove every cache entry and stored value.
    Clear,
    /// Remove entries and stored values that no node's last run used.
    Gc,
}

pub fn cache(args: CacheArgs) -> ExitCode {
    let root = fledge_core::project::discover::find_root(&args.project);
    let cache = Cache::open(&root);
    match args.command {
        CacheCommand::Ls => {
            let now = std::time::SystemTime::now();
            let entries = cache.entries();
            for e in &entries {
                let age = now.duration_since(e.modified).map(|d| d.as_secs()).unwrap_or(0);
                println!("{}  {:<40} {:>9} B  {}s ago", &e.key[..16.min(e.key.len())], e.task, e.bytes, age);
            }
            eprintln!("{} entries in {}", entries.len(), root.join(".fledge/cache").display());
            ExitCode::SUCCESS
        }
        CacheCommand::Clear => match cache.clear() {
            Ok(()) => {
                eprintln!("cleared {}", root.join(".fledge/cache").display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("fledge: cannot clear the cache: {e}");
                ExitCode::from(2)
            }
        },
        CacheCommand::Gc => match cache.gc() {
            Ok((entries, blobs)) => {
                // Leftovers of runs without the cache (their printed paths pointed there).
                let _ = std::fs::remove_dir_all(root.join(".fledge").join("runs"));
                eprintln!("removed {entries} entries and {blobs} stored values");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("fledge: cache gc failed: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// A loaded project with the workflow to run.
pub struct Loaded {
    pub ws: Workspace,
    pub module: String,
    pub plan: Arc<WfPlan>,
    /// Every task and launch plan of the project (for `@dynamic` sub-workflows).
    pub tasks: Arc<super::plan::ProjectTable>,
}

/// Loads the project, refuses to go on while it has errors, and plans the workflow.
/// `before_plan` runs once the project is known (it finds the Python, whose flytekit version is part
/// of every task's fingerprint).
pub fn load(
    target: &str,
    workflow: &str,
    before_plan: impl FnOnce(&Workspace) -> Result<(), String>,
) -> Result<Loaded, String> {
    let as_path = PathBuf::from(target);
    let (load_from, module_file) = if as_path.is_file() {
        (as_path.clone(), Some(as_path.canonicalize().unwrap_or(as_path)))
    } else {
        (PathBuf::from("."), None)
    };
    let ws = Workspace::load(&[load_from]).map_err(|e| e.to_string())?;
    before_plan(&ws)?;
    let analysis = ws.analyze();
    let module = match &module_file {
        Some(f) => analysis.index.modules.iter().find(|m| m.path == *f).map(|m| m.name.clone()),
        None => Some(target.to_string()),
    }
    .ok_or_else(|| format!("{target} is not part of the project"))?;
    let plan = plan_in(&ws, &analysis, &module, workflow)?;
    let tasks = Arc::new(super::plan::project_table(&analysis));
    Ok(Loaded { ws, module, plan, tasks })
}

/// Plans `module.workflow` from an analysis of `ws`; errors in the project stop it (listed).
pub fn plan_in(ws: &Workspace, analysis: &Analysis, module: &str, workflow: &str) -> Result<Arc<WfPlan>, String> {
    let errors = error_report(ws, analysis);
    if !errors.is_empty() {
        return Err(format!("the project has errors; fix them first (`fledge check`):\n{errors}"));
    }
    let graph = find_workflow(analysis, module, workflow).ok_or_else(|| {
        let known: Vec<&str> = workflows_in_module(analysis, module)
            .filter(|g| !g.dynamic)
            .map(|g| analysis.entities.entities[g.entity].name.as_str())
            .collect();
        format!(
            "no workflow `{workflow}` in module `{module}`{}",
            if known.is_empty() { String::new() } else { format!("; its workflows are: {}", known.join(", ")) }
        )
    })?;
    Ok(Arc::new(plan_workflow(analysis, graph).map_err(|e| e.to_string())?))
}

/// `path:line:col: error[code]: message` for each error of the project.
pub fn error_report(ws: &Workspace, analysis: &Analysis) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut out = String::new();
    for d in analysis.diagnostics.iter().filter(|d| d.severity == Severity::Error) {
        let text = ws.file_text(&d.path).unwrap_or("");
        let pos = LineIndex::new(text).char_pos(text, d.range.start);
        let p = d.path.strip_prefix(&cwd).unwrap_or(&d.path);
        out += &format!("{}:{}:{}: error[{}]: {}\n", p.display(), pos.line + 1, pos.col + 1, d.code, d.message);
    }
    out
}

/// The workflow's inputs from the file, the command line and the defaults, converted by type.
pub fn build_inputs(plan: &WfPlan, args: &[String], file: Option<&Path>) -> Result<LiteralMap, String> {
    let find = |name: &str| -> Result<&Var, String> {
        let norm = name.replace('-', "_");
        plan.inputs.iter().find(|v| v.name == norm).ok_or_else(|| {
            let names: Vec<String> = plan.inputs.iter().map(|v| format!("--{}", v.name)).collect();
            format!(
                "unknown input `{name}`; the inputs of `{}` are: {}",
                plan.name,
                if names.is_empty() { "(none)".to_string() } else { names.join(", ") }
            )
        })
    };
    let mut m = LiteralMap::default();
    if let Some(f) = file {
        for (k, v) in literals::read_inputs_file(f)? {
            let var = find(&k)?;
            m.literals.insert(var.name.clone(), literals::from_json(&var.name, &var.ty.lit, &v)?);
        }
    }
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let Some(flag) = a.strip_prefix("--") else {
            return Err(format!("unexpected argument `{a}`: inputs are given as `--name value`"));
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        // `--flag` / `--no-flag` for booleans.
        let bool_flag = |n: &str| {
            find(n)
                .ok()
                .filter(|v| matches!(v.ty.lit, LiteralType::Simple { simple: fledge_core::types::Simple::Boolean }))
        };
        let next_is_value = args.get(i + 1).is_some_and(|n| !n.starts_with("--"));
        let (var, value) = match inline {
            Some(v) => (find(name)?, v),
            None if !next_is_value && bool_flag(name).is_some() => (find(name)?, "true".to_string()),
            None if !next_is_value
                && (name.starts_with("no-") || name.starts_with("no_"))
                && bool_flag(&name[3..]).is_some() =>
            {
                (find(&name[3..])?, "false".to_string())
            }
            None => {
                let var = find(name)?;
                i += 1;
                let v = args.get(i).ok_or_else(|| format!("input `{}` needs a value", var.name))?.clone();
                (var, v)
            }
        };
        m.literals.insert(var.name.clone(), literals::from_cli(&var.name, &var.ty.lit, &value)?);
        i += 1;
    }
    for var in &plan.inputs {
        if m.literals.contains_key(&var.name) {
            continue;
        }
        if let Some(d) = &var.default {
            m.literals.insert(var.name.clone(), literals::default_literal(var, d)?);
        } else if var.ty.lit.is_optional() {
            m.literals.insert(var.name.clone(), literals::none_lit());
        } else {
            return Err(format!("missing input `{}` ({}): pass --{} VALUE", var.name, var.ty.py, var.name));
        }
    }
    Ok(m)
}

/// The terminal view (stderr): on a terminal, a spinner with the elapsed time for each running node
/// (indicatif) above the lines of finished nodes (ran, cached, FAILED, skipped, with durations);
/// elsewhere, only the lines.
pub struct Human {
    explain: bool,
    live: Option<MultiProgress>,
    running: Mutex<HashMap<String, ProgressBar>>,
}

impl Human {
    pub fn new(explain: bool) -> Human {
        let live = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)));
        Human { explain, live, running: Mutex::new(HashMap::new()) }
    }

    fn line(&self, text: &str) {
        match &self.live {
            Some(mp) => {
                let _ = mp.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

impl Sink for Human {
    fn emit(&self, e: &Event) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let color = self.live.is_some();
        match e {
            Event::RunStarted { workflow, .. } => self.line(&format!("running {workflow}")),
            Event::NodeStarted { node, task, attempt } => {
                if *attempt > 0 {
                    self.line(&format!("  retry    {node} {task} (attempt {})", attempt + 1));
                }
                if let (Some(mp), false) = (&self.live, running.contains_key(node)) {
                    let bar = mp.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("  {spinner} running {msg} {elapsed_precise}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_message(format!("{node} {task}"));
                    bar.enable_steady_tick(Duration::from_millis(100));
                    running.insert(node.clone(), bar);
                }
            }
            Event::NodeFinished { node, task, status, duration_ms, reason, error } => {
                if let Some(bar) = running.remove(node) {
                    bar.finish_and_clear();
                }
                let (word, c) = match status {
                    Status::Succeeded => ("ran", "\x1b[32m"),
                    Status::Cached => ("cached", "\x1b[36m"),
                    Status::Failed => ("FAILED", "\x1b[31m"),
                    Status::Skipped => ("skipped", "\x1b[2m"),
                };
                let (c, r) = if color { (c, "\x1b[0m") } else { ("", "") };
                let dur = if matches!(status, Status::Succeeded | Status::Failed) {
                    format!(" {:.2}s", *duration_ms as f64 / 1000.0)
                } else {
                    String::new()
                };
                let mut line = format!("  {c}{word:<8}{r} {node} {task}{dur}");
                if self.explain || *status == Status::Failed {
                    line += &format!("  ({reason})");
                }
                if let Some(err) = error {
                    line += &format!(": {err}");
                }
                self.line(&line);
            }
            Event::CheckFailed { errors } => {
                self.line("not running:");
                for e in errors {
                    self.line(&format!("  {e}"));
                }
            }
            Event::RunFinished { status, duration_ms, .. } => {
                for (_, bar) in running.drain() {
                    bar.finish_and_clear();
                }
                let word = match status {
                    Status::Failed => "failed",
                    Status::Cached => "done (all cached)",
                    _ => "done",
                };
                self.line(&format!("{word} in {:.2}s", *duration_ms as f64 / 1000.0));
            }
        }
    }
}

/// Prints a finished run: outputs (values; files and dataframes as paths) or the failures with
/// their Python tracebacks.
pub fn print_result(r: &WfResult, format: RunFormat) {
    if let Some(out) = &r.outputs {
        if format == RunFormat::Human {
            let j = outputs_json(out);
            if let serde_json::Value::Object(m) = j {
                for (k, v) in m {
                    let shown = match &v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    println!("{k}: {shown}");
                }
            }
        }
    }
    for f in &r.failures {
        eprintln!("\nerror: node {} ({}) failed: {}", f.node, f.task, f.message);
        if let Some(tf) = &f.failure {
            if !tf.traceback.is_empty() {
                eprintln!("Traceback (most recent call last):");
                for fr in &tf.traceback {
                    eprintln!("  File \"{}\", line {}, in {}", fr.file.display(), fr.line, fr.function);
                }
            }
        }
        if let Some(logs) = &f.logs {
            let lines: Vec<&str> = logs.lines().collect();
            eprintln!("output of the failed attempt{}:", if lines.len() > 40 { " (last 40 lines)" } else { "" });
            for l in &lines[lines.len().saturating_sub(40)..] {
                eprintln!("  | {l}");
            }
        }
    }
}

/// fledge's own options written after the workflow's inputs (`fledge run f.py wf --n 3 --explain`),
/// unless the workflow has an input of that name.
pub fn take_run_flags(args: &mut RunArgs, plan: &WfPlan) -> Result<(), String> {
    let is_input = |n: &str| plan.inputs.iter().any(|v| v.name == n.replace('-', "_"));
    let mut rest = Vec::new();
    let mut it = std::mem::take(&mut args.inputs).into_iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let flag = name.strip_prefix("--").unwrap_or("");
        if flag.is_empty() || is_input(flag) {
            rest.push(a);
            continue;
        }
        let mut value =
            |what: &str| inline.clone().or_else(|| it.next()).ok_or_else(|| format!("--{flag} needs {what}"));
        match flag {
            "explain" => args.explain = true,
            "no-cache" => args.no_cache = true,
            "force" => args.force.push(value("a task name")?),
            "inputs" => args.inputs_file = Some(PathBuf::from(value("a file")?)),
            "parallel" => {
                let v = value("a number")?;
                args.parallel = Some(v.parse().map_err(|_| format!("--parallel needs a number, got `{v}`"))?);
            }
            "format" => {
                args.format = match value("human or jsonl")?.as_str() {
                    "human" => RunFormat::Human,
                    "jsonl" => RunFormat::Jsonl,
                    other => return Err(format!("--format: `{other}` is not human or jsonl")),
                }
            }
            _ => rest.push(a),
        }
    }
    args.inputs = rest;
    Ok(())
}

/// Finds the project's Python (with flytekit) and records its flytekit version for fingerprints.
pub fn find_python(ws: &Workspace) -> Result<PathBuf, String> {
    let env = super::pyenv::detect(ws.root(), ws.config()).map_err(|e| e.to_string())?;
    // SAFETY-free: set before any other thread starts (the runtime is built later).
    std::env::set_var("FLEDGE_FLYTEKIT_VERSION", &env.flytekit_version);
    Ok(env.python)
}

/// Load the workflow to run and find the project's Python; a message and exit code 2 when either fails.
pub fn load_with_python(target: &str, workflow: &str) -> Result<(Loaded, PathBuf), ExitCode> {
    let mut python = PathBuf::new();
    let loaded = load(target, workflow, |ws| {
        python = find_python(ws)?;
        Ok(())
    })
    .map_err(|e| {
        eprintln!("fledge: {e}");
        ExitCode::from(2)
    })?;
    Ok((loaded, python))
}

pub fn run(args: RunArgs) -> ExitCode {
    let (loaded, python) = match load_with_python(&args.target, &args.workflow) {
        Ok(pair) => pair,
        Err(code) => return code,
    };
    let mut args = args;
    if let Err(e) = take_run_flags(&mut args, &loaded.plan) {
        eprintln!("fledge: {e}");
        return ExitCode::from(2);
    }
    let inputs = match build_inputs(&loaded.plan, &args.inputs, args.inputs_file.as_deref()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("fledge: {e}");
            return ExitCode::from(2);
        }
    };
    let mut tasks = std::collections::BTreeSet::new();
    loaded.plan.task_names(&mut tasks);
    for f in &args.force {
        let short = f.rsplit('.').next().unwrap_or(f);
        if !tasks.contains(short) {
            eprintln!(
                "fledge: --force {f}: no such task in this workflow (its tasks: {})",
                tasks.into_iter().collect::<Vec<_>>().join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let root = loaded.ws.root().to_path_buf();
    let (exec, sink) = match executor_and_sink(&root, &python, args.format, args.explain) {
        Ok(pair) => pair,
        Err(code) => return code,
    };
    let opts = RunOptions {
        no_cache: args.no_cache,
        force: args.force.iter().cloned().collect(),
        parallel: args.parallel.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
    };
    let run_id = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let raw_root = root.join(".fledge").join("runs").join(run_id.to_string());
    let runner = Runner::new(
        exec,
        Some(Cache::open(&root)),
        sink,
        opts,
        raw_root.clone(),
        loaded.plan.name.clone(),
        loaded.tasks.clone(),
    );
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fledge: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let r = rt.block_on(runner.run(loaded.plan.clone(), inputs, run_id));
    // Outputs were copied into the cache; without it they stay where the tasks wrote them.
    if !args.no_cache {
        let _ = std::fs::remove_dir_all(&raw_root);
    }
    print_result(&r, args.format);
    if r.failures.is_empty() && r.outputs.is_some() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// What runs tasks, and where run events go.
pub type RunIo = (Arc<dyn super::executor::Executor>, Arc<dyn Sink>);

/// The Python worker for the project at `root` and where events go; a message and exit code 2 when
/// the worker cannot be prepared.
pub fn executor_and_sink(root: &Path, python: &Path, format: RunFormat, explain: bool) -> Result<RunIo, ExitCode> {
    let exec = super::executor_for(root, python).map_err(|e| {
        eprintln!("fledge: {e}");
        ExitCode::from(2)
    })?;
    let sink: Arc<dyn Sink> = match format {
        RunFormat::Human => Arc::new(Human::new(explain)),
        RunFormat::Jsonl => Arc::new(Jsonl),
    };
    Ok((exec, sink))
}
