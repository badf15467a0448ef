//! `fledge graph TARGET WORKFLOW`: a workflow's DAG as DOT, Mermaid or JSON.

use clap::{Args, ValueEnum};
use fledge_core::flyte::export::{export, find_workflow, workflows_in_module, GraphExport};
use fledge_core::line_index::LineIndex;
use fledge_core::Workspace;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

#[derive(Args)]
pub struct GraphArgs {
    /// A Python file, or a dotted module name (resolved from the current folder).
    pub target: String,
    /// The workflow's name in that module.
    pub workflow: String,
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
}

pub fn run(args: GraphArgs) -> ExitCode {
    let as_path = PathBuf::from(&args.target);
    let (load_from, module_file) = if as_path.is_file() {
        (as_path.clone(), Some(as_path.canonicalize().unwrap_or(as_path)))
    } else {
        (PathBuf::from("."), None)
    };
    let ws = match Workspace::load(&[load_from]) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("fledge: {e}");
            return ExitCode::from(2);
        }
    };
    let analysis = ws.analyze();
    let module_name = match &module_file {
        Some(f) => analysis.index.modules.iter().find(|m| m.path == *f).map(|m| m.name.clone()),
        None => Some(args.target.clone()),
    };
    let Some(module_name) = module_name else {
        eprintln!("fledge: {} is not part of the project", args.target);
        return ExitCode::from(2);
    };
    let Some(g) = find_workflow(&analysis, &module_name, &args.workflow) else {
        let known: Vec<&str> = workflows_in_module(&analysis, &module_name)
            .map(|g| analysis.entities.entities[g.entity].name.as_str())
            .collect();
        eprintln!(
            "fledge: no workflow `{}` in module `{module_name}`{}",
            args.workflow,
            if known.is_empty() { String::new() } else { format!("; its workflows are: {}", known.join(", ")) }
        );
        return ExitCode::from(2);
    };
    let ex = export(&analysis, g);
    let text = ws.file_text(&ex.path).unwrap_or("");
    match args.format {
        GraphFormat::Json => println!("{}", to_json(&ex, text)),
        GraphFormat::Dot => print!("{}", to_dot(&ex)),
        GraphFormat::Mermaid => print!("{}", to_mermaid(&ex)),
    }
    ExitCode::SUCCESS
}

fn to_json(ex: &GraphExport, text: &str) -> String {
    let idx = LineIndex::new(text);
    let cwd = std::env::current_dir().unwrap_or_default();
    let rel = |p: &Path| p.strip_prefix(&cwd).unwrap_or(p).display().to_string();
    let nodes: Vec<serde_json::Value> = ex
        .nodes
        .iter()
        .map(|n| {
            let pos = idx.char_pos(text, n.range.start);
            serde_json::json!({
                "id": n.id, "label": n.label, "kind": n.kind,
                "line": pos.line + 1, "column": pos.col + 1,
                "target": n.target.as_ref().map(|(p, _)| rel(p)),
            })
        })
        .collect();
    let edges: Vec<serde_json::Value> = ex
        .edges
        .iter()
        .map(|e| serde_json::json!({"from": e.from, "to": e.to, "label": e.label, "flyte_type": e.flyte_type, "python_type": e.python_type}))
        .collect();
    serde_json::json!({"workflow": ex.workflow, "path": rel(&ex.path), "nodes": nodes, "edges": edges}).to_string()
}

fn edge_label(e: &fledge_core::flyte::export::EdgeExport) -> String {
    match (&e.python_type, &e.flyte_type) {
        (Some(py), Some(ft)) => format!("{}\\n{py} ({ft})", e.label),
        _ => e.label.clone(),
    }
}

fn to_dot(ex: &GraphExport) -> String {
    let mut s = format!("digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, style=rounded];\n", ex.workflow);
    for n in &ex.nodes {
        let shape = match n.kind.as_str() {
            "start" | "end" => ", shape=circle",
            "branch" => ", shape=diamond",
            _ => "",
        };
        s += &format!("  \"{}\" [label=\"{}\"{shape}];\n", n.id, n.label.replace('"', "\\\""));
    }
    for e in &ex.edges {
        let style = if e.flyte_type.is_none() { ", style=dashed" } else { "" };
        s += &format!("  \"{}\" -> \"{}\" [label=\"{}\"{style}];\n", e.from, e.to, edge_label(e).replace('"', "\\\""));
    }
    s + "}\n"
}

fn to_mermaid(ex: &GraphExport) -> String {
    let mut s = String::from("flowchart LR\n");
    let esc = |t: &str| t.replace('"', "#quot;");
    // `end` is a keyword in Mermaid flowcharts.
    let id = |i: &str| match i {
        "start" => "wf_start".to_string(),
        "end" => "wf_end".to_string(),
        other => other.to_string(),
    };
    for n in &ex.nodes {
        let (open, close) = match n.kind.as_str() {
            "start" | "end" => ("((", "))"),
            "branch" => ("{", "}"),
            _ => ("[", "]"),
        };
        s += &format!("  {}{open}\"{}\"{close}\n", id(&n.id), esc(&n.label));
    }
    for e in &ex.edges {
        let label = match (&e.python_type, &e.flyte_type) {
            (Some(py), Some(ft)) => format!("{}: {py} ({ft})", e.label),
            _ => e.label.clone(),
        };
        if label.is_empty() {
            s += &format!("  {} -.-> {}\n", id(&e.from), id(&e.to));
        } else {
            s += &format!("  {} -->|\"{}\"| {}\n", id(&e.from), esc(&label), id(&e.to));
        }
    }
    s
}
