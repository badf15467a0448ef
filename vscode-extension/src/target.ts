// Which file and workflow a command is about: its arguments ([uri, workflowName], as code lenses
// pass them), else the active editor and the workflow under the cursor, else a quick pick.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { findWorkflows, shortName, workflowAt } from './workflows';

export interface WorkflowTarget {
  uri: vscode.Uri;
  workflow: string;
}

export function toUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg) {
    try {
      return /^[a-z][a-z0-9+.-]+:/i.test(arg) && !/^[a-z]:[\\/]/i.test(arg) ? vscode.Uri.parse(arg, true) : vscode.Uri.file(arg);
    } catch {
      return undefined;
    }
  }
  if (arg && typeof arg === 'object') {
    const o = arg as { uri?: unknown; fsPath?: unknown; scheme?: unknown; path?: unknown };
    if (o.uri !== undefined) return toUri(o.uri); // { uri } (e.g. a TextDocumentIdentifier)
    if (typeof o.scheme === 'string' && typeof o.path === 'string') return vscode.Uri.from(o as { scheme: string; path: string });
  }
  return undefined;
}

/** The workflow for `fledge run`/`fledge watch`: from args, the cursor, or a quick pick. */
export async function resolveWorkflowTarget(uriArg: unknown, workflowArg: unknown, verb: string): Promise<WorkflowTarget | undefined> {
  const editor = vscode.window.activeTextEditor;
  const uri = toUri(uriArg) ?? editor?.document.uri;
  if (!uri) {
    void vscode.window.showErrorMessage(`fledge: open a Python file with a workflow to ${verb} it.`);
    return undefined;
  }
  if (typeof workflowArg === 'string' && workflowArg) return { uri, workflow: shortName(workflowArg) };
  const doc = await vscode.workspace.openTextDocument(uri);
  const defs = findWorkflows(doc.getText());
  const onCursor =
    editor && editor.document.uri.toString() === uri.toString() ? workflowAt(defs, editor.selection.active.line) : undefined;
  if (onCursor) return { uri, workflow: onCursor.name };
  if (defs.length === 1) return { uri, workflow: defs[0].name };
  if (defs.length === 0) {
    void vscode.window.showErrorMessage(`fledge: no @workflow in ${path.basename(uri.fsPath)} to ${verb}.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    defs.map(d => ({ label: d.name, description: `line ${d.defLine + 1}` })),
    { placeHolder: `Workflow to ${verb}` },
  );
  return pick ? { uri, workflow: pick.label } : undefined;
}

/** The project folder of a file: the nearest ancestor with pyproject.toml/setup.py/.git inside
 *  its workspace folder, else the workspace folder, else the file's folder. */
export function projectRoot(file: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(file)?.uri.fsPath;
  let dir = path.dirname(file.fsPath);
  for (;;) {
    if (['pyproject.toml', 'setup.py', 'setup.cfg', '.git'].some(m => fs.existsSync(path.join(dir, m)))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir || (folder && path.relative(folder, dir) === '')) break;
    dir = parent;
  }
  return folder ?? path.dirname(file.fsPath);
}
