//! Read-only requests, answered on a [`Snapshot`]. Each converts LSP positions to byte offsets,
//! calls a plain function of `fledge_core::ide`, and converts the result back.

use crate::conv::TextLines;
use crate::snapshot::{FileCtx, ProjectSnap, Snapshot};
use fledge_core::diagnostic::Fix;
use fledge_core::flyte::EntityKind;
use fledge_core::ide::{self, completion::CompletionKind};
use fledge_core::TextRange;
use lsp_server::{ErrorCode, Request, ResponseError};
use lsp_types as lt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

type Result<T> = std::result::Result<T, ResponseError>;

fn err(code: ErrorCode, message: impl Into<String>) -> ResponseError {
    ResponseError { code: code as i32, message: message.into(), data: None }
}

fn params<P: DeserializeOwned>(req: &Request) -> Result<P> {
    serde_json::from_value(req.params.clone())
        .map_err(|e| err(ErrorCode::InvalidParams, format!("invalid params for {}: {e}", req.method)))
}

fn to_value(v: impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| err(ErrorCode::InternalError, e.to_string()))
}

/// The requests this server answers (besides `initialize` and `shutdown`, handled by the loop).
pub const METHODS: &[&str] = &[
    "textDocument/completion",
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/documentSymbol",
    "workspace/symbol",
    "textDocument/prepareRename",
    "textDocument/rename",
    "textDocument/codeAction",
    "textDocument/inlayHint",
    "textDocument/codeLens",
    "fledge/graph",
];

pub fn handle(snap: &Snapshot, req: &Request) -> Result<Value> {
    match req.method.as_str() {
        "textDocument/completion" => completion(snap, params(req)?),
        "textDocument/hover" => hover(snap, params(req)?),
        "textDocument/definition" => definition(snap, params(req)?),
        "textDocument/references" => references(snap, params(req)?),
        "textDocument/documentSymbol" => document_symbols(snap, params(req)?),
        "workspace/symbol" => workspace_symbols(snap, params(req)?),
        "textDocument/prepareRename" => prepare_rename(snap, params(req)?),
        "textDocument/rename" => rename(snap, params(req)?),
        "textDocument/codeAction" => code_actions(snap, params(req)?),
        "textDocument/inlayHint" => inlay_hints(snap, params(req)?),
        "textDocument/codeLens" => code_lenses(snap, params(req)?),
        "fledge/graph" => graph(snap, params(req)?),
        m => Err(err(ErrorCode::MethodNotFound, format!("unknown method {m}"))),
    }
}

fn location(snap: &Snapshot, project: &ProjectSnap, path: &Path, range: TextRange) -> Option<lt::Location> {
    let lines = snap.lines_in(project, path)?;
    Some(lt::Location { uri: snap.uri_of(path)?, range: lines.range(range) })
}

/// Edits grouped by file as a workspace edit.
fn workspace_edit(
    snap: &Snapshot,
    project: &ProjectSnap,
    edits: &[fledge_core::diagnostic::TextEdit],
) -> Option<lt::WorkspaceEdit> {
    let mut changes: HashMap<lt::Url, Vec<lt::TextEdit>> = HashMap::new();
    for e in edits {
        let lines = snap.lines_in(project, &e.path)?;
        changes
            .entry(snap.uri_of(&e.path)?)
            .or_default()
            .push(lt::TextEdit { range: lines.range(e.range), new_text: e.new_text.clone() });
    }
    Some(lt::WorkspaceEdit { changes: Some(changes), ..Default::default() })
}

fn completion(snap: &Snapshot, p: lt::CompletionParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document_position.text_document.uri) else { return Ok(Value::Null) };
    let offset = f.lines.offset(p.text_document_position.position);
    let items: Vec<lt::CompletionItem> = ide::completion::completions(f.analysis(), &f.path, offset)
        .into_iter()
        .map(|it| lt::CompletionItem {
            label: it.label,
            kind: Some(match it.kind {
                CompletionKind::Argument => lt::CompletionItemKind::VARIABLE,
                CompletionKind::Output => lt::CompletionItemKind::FIELD,
                CompletionKind::Entity => lt::CompletionItemKind::FUNCTION,
                CompletionKind::Value => lt::CompletionItemKind::VALUE,
                CompletionKind::Module => lt::CompletionItemKind::MODULE,
            }),
            detail: it.detail,
            documentation: it.documentation.map(|d| {
                lt::Documentation::MarkupContent(lt::MarkupContent { kind: lt::MarkupKind::Markdown, value: d })
            }),
            sort_text: Some(it.sort_text),
            filter_text: it.filter_text,
            text_edit: Some(lt::CompletionTextEdit::Edit(lt::TextEdit {
                range: f.lines.range(it.replace),
                new_text: it.insert_text,
            })),
            additional_text_edits: (!it.additional_edits.is_empty()).then(|| {
                it.additional_edits
                    .into_iter()
                    .map(|(range, new_text)| lt::TextEdit { range: f.lines.range(range), new_text })
                    .collect()
            }),
            ..Default::default()
        })
        .collect();
    let is_incomplete = items.len() >= ide::completion::MAX_ENTITY_ITEMS;
    to_value(lt::CompletionResponse::List(lt::CompletionList { is_incomplete, items }))
}

fn hover(snap: &Snapshot, p: lt::HoverParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document_position_params.text_document.uri) else { return Ok(Value::Null) };
    let offset = f.lines.offset(p.text_document_position_params.position);
    match ide::hover::hover(f.analysis(), &f.path, offset) {
        None => Ok(Value::Null),
        Some(h) => to_value(lt::Hover {
            contents: lt::HoverContents::Markup(lt::MarkupContent {
                kind: lt::MarkupKind::Markdown,
                value: h.markdown,
            }),
            range: Some(f.lines.range(h.range)),
        }),
    }
}

fn locations(snap: &Snapshot, f: &FileCtx, locs: Vec<ide::Location>) -> Vec<lt::Location> {
    locs.into_iter().filter_map(|l| location(snap, f.project, &l.path, l.range)).collect()
}

fn definition(snap: &Snapshot, p: lt::GotoDefinitionParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document_position_params.text_document.uri) else { return Ok(Value::Null) };
    let offset = f.lines.offset(p.text_document_position_params.position);
    let locs = locations(snap, &f, ide::nav::definition(f.analysis(), &f.path, offset));
    if locs.is_empty() {
        return Ok(Value::Null);
    }
    to_value(lt::GotoDefinitionResponse::Array(locs))
}

fn references(snap: &Snapshot, p: lt::ReferenceParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document_position.text_document.uri) else { return Ok(Value::Null) };
    let offset = f.lines.offset(p.text_document_position.position);
    let locs = ide::nav::references(f.analysis(), &f.path, offset, p.context.include_declaration);
    to_value(locations(snap, &f, locs))
}

fn symbol_kind(k: EntityKind) -> lt::SymbolKind {
    match k {
        EntityKind::Workflow | EntityKind::ReferenceWorkflow => lt::SymbolKind::CLASS,
        EntityKind::LaunchPlan | EntityKind::ReferenceLaunchPlan => lt::SymbolKind::OBJECT,
        _ => lt::SymbolKind::FUNCTION,
    }
}

#[allow(deprecated)]
fn document_symbols(snap: &Snapshot, p: lt::DocumentSymbolParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document.uri) else { return Ok(Value::Null) };
    let syms: Vec<lt::DocumentSymbol> = ide::nav::document_symbols(f.analysis(), &f.path)
        .into_iter()
        .map(|s| lt::DocumentSymbol {
            name: s.name,
            detail: Some(s.detail),
            kind: symbol_kind(s.kind),
            tags: None,
            deprecated: None,
            range: f.lines.range(s.range),
            selection_range: f.lines.range(s.selection),
            children: None,
        })
        .collect();
    to_value(lt::DocumentSymbolResponse::Nested(syms))
}

#[allow(deprecated)]
fn workspace_symbols(snap: &Snapshot, p: lt::WorkspaceSymbolParams) -> Result<Value> {
    let mut out: Vec<lt::SymbolInformation> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // Inner projects first, so a file in a nested project is named by its own project.
    let mut projects: Vec<&ProjectSnap> = snap.projects.iter().map(|p| &**p).collect();
    projects.sort_by_key(|p| std::cmp::Reverse(p.root.components().count()));
    for project in projects {
        for s in ide::nav::workspace_symbols(&project.analysis, &p.query, 500) {
            if !seen.insert((s.path.clone(), s.selection)) {
                continue;
            }
            let Some(loc) = location(snap, project, &s.path, s.selection) else { continue };
            out.push(lt::SymbolInformation {
                name: s.name,
                kind: symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                location: loc,
                container_name: Some(s.container),
            });
        }
    }
    out.truncate(500);
    to_value(out)
}

fn prepare_rename(snap: &Snapshot, p: lt::TextDocumentPositionParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document.uri) else { return Ok(Value::Null) };
    let offset = f.lines.offset(p.position);
    match ide::nav::prepare_rename(f.analysis(), &f.path, offset) {
        Ok((range, name)) => {
            to_value(lt::PrepareRenameResponse::RangeWithPlaceholder { range: f.lines.range(range), placeholder: name })
        }
        Err(e) => Err(err(ErrorCode::RequestFailed, e)),
    }
}

fn rename(snap: &Snapshot, p: lt::RenameParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document_position.text_document.uri) else { return Ok(Value::Null) };
    let offset = f.lines.offset(p.text_document_position.position);
    match ide::nav::rename(f.analysis(), &f.path, offset, &p.new_name) {
        Ok(edits) => to_value(workspace_edit(snap, f.project, &edits)),
        Err(e) => Err(err(ErrorCode::RequestFailed, e)),
    }
}

/// Fixes carried in a published diagnostic's `data` (see `server::to_lsp_diagnostic`).
#[derive(Deserialize)]
struct DataFix {
    title: String,
    edits: Vec<DataEdit>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DataEdit {
    uri: lt::Url,
    range: lt::Range,
    new_text: String,
}

fn fix_action(
    title: String,
    diag: &lt::Diagnostic,
    edit: lt::WorkspaceEdit,
    preferred: bool,
) -> lt::CodeActionOrCommand {
    lt::CodeActionOrCommand::CodeAction(lt::CodeAction {
        title,
        kind: Some(lt::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diag.clone()]),
        edit: Some(edit),
        is_preferred: Some(preferred),
        ..Default::default()
    })
}

fn code_actions(snap: &Snapshot, p: lt::CodeActionParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document.uri) else { return Ok(Value::Null) };
    if let Some(only) = &p.context.only {
        if !only.iter().any(|k| k.as_str() == "quickfix" || k.as_str().is_empty()) {
            return to_value(Vec::<lt::CodeActionOrCommand>::new());
        }
    }
    let mut out = Vec::new();
    for d in &p.context.diagnostics {
        if d.source.as_deref() != Some("fledge") {
            continue;
        }
        let code = match &d.code {
            Some(lt::NumberOrString::String(s)) => s.clone(),
            _ => continue,
        };
        // Fixes from the diagnostic's data, else from the current analysis.
        let from_data: Vec<DataFix> = d
            .data
            .as_ref()
            .and_then(|v| v.get("fixes"))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        if !from_data.is_empty() {
            for (i, fx) in from_data.into_iter().enumerate() {
                let mut changes: HashMap<lt::Url, Vec<lt::TextEdit>> = HashMap::new();
                for e in fx.edits {
                    changes.entry(e.uri).or_default().push(lt::TextEdit { range: e.range, new_text: e.new_text });
                }
                out.push(fix_action(
                    fx.title,
                    d,
                    lt::WorkspaceEdit { changes: Some(changes), ..Default::default() },
                    i == 0,
                ));
            }
        } else {
            let range = f.lines.text_range(d.range);
            let fixes: Vec<&Fix> = f
                .analysis()
                .diagnostics
                .iter()
                .filter(|x| x.path == f.path && x.code == code && x.range == range)
                .flat_map(|x| x.fixes.iter())
                .collect();
            for (i, fx) in fixes.into_iter().enumerate() {
                if let Some(edit) = workspace_edit(snap, f.project, &fx.edits) {
                    out.push(fix_action(fx.title.clone(), d, edit, i == 0));
                }
            }
        }
        let start = f.lines.offset(d.range.start);
        if let Some(fx) = ide::ignore_fix(f.lines.text, &f.path, start, &code) {
            if let Some(edit) = workspace_edit(snap, f.project, &fx.edits) {
                out.push(fix_action(fx.title, d, edit, false));
            }
        }
    }
    to_value(out)
}

fn inlay_hints(snap: &Snapshot, p: lt::InlayHintParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document.uri) else { return Ok(Value::Null) };
    let range = f.lines.text_range(p.range);
    let hints: Vec<lt::InlayHint> = ide::hints::inlay_hints(f.analysis(), &f.path, range)
        .into_iter()
        .map(|h| lt::InlayHint {
            position: f.lines.position(h.offset),
            label: lt::InlayHintLabel::String(h.label),
            kind: Some(lt::InlayHintKind::TYPE),
            text_edits: None,
            tooltip: Some(lt::InlayHintTooltip::String(h.tooltip)),
            padding_left: None,
            padding_right: None,
            data: None,
        })
        .collect();
    to_value(hints)
}

fn code_lenses(snap: &Snapshot, p: lt::CodeLensParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document.uri) else { return Ok(Value::Null) };
    let uri = p.text_document.uri.clone();
    let lenses: Vec<lt::CodeLens> = ide::hints::code_lenses(f.analysis(), &f.path)
        .into_iter()
        .map(|l| lt::CodeLens {
            range: f.lines.range(l.range),
            command: Some(lt::Command {
                title: l.title,
                command: l.command,
                arguments: Some(vec![json!(uri), json!(l.workflow)]),
            }),
            data: None,
        })
        .collect();
    to_value(lenses)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphParams {
    text_document: lt::TextDocumentIdentifier,
    #[serde(default)]
    position: Option<lt::Position>,
    #[serde(default)]
    workflow: Option<String>,
}

/// `fledge/graph`: the DAG of the workflow at a position or by name, for graph views.
fn graph(snap: &Snapshot, p: GraphParams) -> Result<Value> {
    let Some(f) = snap.file(&p.text_document.uri) else { return Ok(Value::Null) };
    let offset = p.position.map(|pos| f.lines.offset(pos));
    let Some(g) = ide::graph_at(f.analysis(), &f.path, offset, p.workflow.as_deref()) else { return Ok(Value::Null) };
    let Some(wf_lines) = snap.lines_in(f.project, &g.path) else { return Ok(Value::Null) };
    let range = |lines: &TextLines, r: TextRange| to_value(lines.range(r));
    let mut nodes = Vec::new();
    for n in &g.nodes {
        let mut node = json!({
            "id": n.id,
            "label": n.label,
            "kind": n.kind,
            "range": range(&wf_lines, n.range)?,
        });
        if let Some((tp, tr)) = &n.target {
            if let (Some(uri), Some(lines)) = (snap.uri_of(tp), snap.lines_in(f.project, tp)) {
                node["targetUri"] = json!(uri);
                node["targetRange"] = range(&lines, *tr)?;
            }
        }
        nodes.push(node);
    }
    let edges: Vec<Value> = g
        .edges
        .iter()
        .map(|e| {
            let mut v = json!({"from": e.from, "to": e.to, "label": e.label});
            if let Some(t) = &e.flyte_type {
                v["flyteType"] = json!(t);
            }
            if let Some(t) = &e.python_type {
                v["pythonType"] = json!(t);
            }
            v
        })
        .collect();
    Ok(json!({
        "workflow": g.workflow,
        "uri": snap.uri_of(&g.path),
        "nodes": nodes,
        "edges": edges,
    }))
}
