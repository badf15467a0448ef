// The workflow graph view: a webview panel fed by the server's `fledge/graph` request. It follows
// the workflow under the cursor, refreshes (debounced) when Python documents change, and opens
// the code of a node when it is clicked.
import * as crypto from 'crypto';
import * as path from 'path';
import * as vscode from 'vscode';
import { FromWebview, GraphParams, GraphResult, LspRange, ToWebview } from './protocol';
import { FledgeServer, NotRunningError } from './server';
import { toUri } from './target';
import { WorkflowDef, findWorkflows, shortName, workflowAt } from './workflows';

export const GRAPH_VIEW_TYPE = 'fledge.graph';
const EDIT_DEBOUNCE_MS = 400;
const CURSOR_DEBOUNCE_MS = 250;

interface Target {
  uri: string;
  /** Set once known (from the command or the server's answer); refreshes ask for it by name. */
  workflow?: string;
  /** Ask for the workflow around this position instead. */
  position?: { line: number; character: number };
}

interface PanelState {
  uri?: string;
  workflow?: string;
}

export class GraphPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private queue: ToWebview[] = [];
  private target: Target | undefined;
  private graph: GraphResult | undefined;
  private shownWorkflowKey: string | undefined;
  private seq = 0;
  private cts: vscode.CancellationTokenSource | undefined;
  private editTimer: NodeJS.Timeout | undefined;
  private cursorTimer: NodeJS.Timeout | undefined;
  private readonly defsCache = new Map<string, { version: number; defs: WorkflowDef[] }>();
  private readonly subs: vscode.Disposable[] = [];
  /** The editor column the graph's document was last seen in (to open code there). */
  private codeColumn: vscode.ViewColumn | undefined;
  /** For tests: the last graph given to the webview and how many nodes it drew. */
  lastRendered: { workflow: string; nodes: number; edges: number } | undefined;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly server: FledgeServer,
  ) {
    this.subs.push(
      vscode.window.registerWebviewPanelSerializer(GRAPH_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: PanelState | undefined) => {
          this.adopt(panel);
          if (state?.uri) this.setTarget({ uri: state.uri, workflow: state.workflow }, true);
          else this.followEditor(vscode.window.activeTextEditor, true);
        },
      }),
      vscode.workspace.onDidChangeTextDocument(e => this.onDocumentChanged(e.document)),
      vscode.window.onDidChangeTextEditorSelection(e => this.onCursor(e.textEditor)),
      vscode.window.onDidChangeActiveTextEditor(e => e && this.onCursor(e)),
      vscode.workspace.onDidCloseTextDocument(d => this.defsCache.delete(d.uri.toString())),
      server.onDidChangeState(s => {
        if (!this.panel) return;
        if (s === 'running') this.refresh(false);
        else if (s !== 'starting') this.post({ type: 'message', text: notRunningText(s), level: 'error', keepGraph: true });
      }),
    );
  }

  get isOpen(): boolean {
    return !!this.panel;
  }

  /** `fledge.showGraph [uri, workflowName]`: without arguments, the workflow under the cursor. */
  async show(uriArg?: unknown, workflowArg?: unknown): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const uri = toUri(uriArg) ?? editor?.document.uri;
    if (!uri) {
      void vscode.window.showInformationMessage('fledge: open a Python file with a workflow to see its graph.');
      return;
    }
    this.ensurePanel();
    let target: Target;
    if (typeof workflowArg === 'string' && workflowArg) {
      target = { uri: uri.toString(), workflow: workflowArg };
    } else if (editor && editor.document.uri.toString() === uri.toString()) {
      const pos = editor.selection.active;
      const defs = this.defs(editor.document);
      const here = workflowAt(defs, pos.line);
      // not inside a workflow: the file's only workflow, or let the server decide from the position
      target = here
        ? { uri: uri.toString(), position: { line: pos.line, character: pos.character } }
        : defs.length === 1
          ? { uri: uri.toString(), workflow: defs[0].name }
          : { uri: uri.toString(), position: { line: pos.line, character: pos.character } };
      if (!here && defs.length > 1) {
        const pick = await vscode.window.showQuickPick(
          defs.map(d => ({ label: d.name, description: `line ${d.defLine + 1}` })),
          { placeHolder: 'Workflow to show' },
        );
        if (pick) target = { uri: uri.toString(), workflow: pick.label };
      }
      this.codeColumn = editor.viewColumn;
    } else {
      const doc = await vscode.workspace.openTextDocument(uri);
      const defs = this.defs(doc);
      target = defs.length ? { uri: uri.toString(), workflow: defs[0].name } : { uri: uri.toString(), position: { line: 0, character: 0 } };
    }
    this.setTarget(target, true);
  }

  private ensurePanel() {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      GRAPH_VIEW_TYPE,
      'Workflow graph',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [this.webviewRoot()] },
    );
    this.adopt(panel);
  }

  private webviewRoot(): vscode.Uri {
    return vscode.Uri.joinPath(this.ctx.extensionUri, 'dist', 'webview');
  }

  private adopt(panel: vscode.WebviewPanel) {
    this.panel = panel;
    this.ready = false;
    this.queue = [];
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.webviewRoot()] };
    panel.webview.html = this.html(panel.webview);
    const subs: vscode.Disposable[] = [];
    subs.push(
      panel.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m)),
      panel.onDidDispose(() => {
        for (const s of subs) s.dispose();
        if (this.panel === panel) {
          this.panel = undefined;
          this.graph = undefined;
          this.target = undefined;
          this.shownWorkflowKey = undefined;
          this.cts?.cancel();
        }
      }),
    );
  }

  private html(webview: vscode.Webview): string {
    const nonce = crypto.randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
    const js = webview.asWebviewUri(vscode.Uri.joinPath(this.webviewRoot(), 'main.js'));
    const css = webview.asWebviewUri(vscode.Uri.joinPath(this.webviewRoot(), 'main.css'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>Workflow graph</title>
</head>
<body>
<div id="toolbar">
  <span id="title" class="title">Workflow graph</span>
  <span id="file" class="file"></span>
  <span class="spacer"></span>
  <button id="zoom-out" title="Zoom out (Ctrl+wheel)" aria-label="Zoom out">−</button>
  <button id="zoom-in" title="Zoom in (Ctrl+wheel)" aria-label="Zoom in">+</button>
  <button id="fit" title="Show the whole graph">Fit</button>
  <button id="direction" title="Switch between top-down and left-right layout">Left → right</button>
  <button id="refresh" title="Ask the server again">Refresh</button>
</div>
<div id="message" class="message hidden" role="status"></div>
<div id="canvas"><svg id="graph" class="fledge-graph" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="workflow graph"></svg></div>
<div id="legend">Click a node: go to the call · Ctrl/Cmd+click: its definition · drag or wheel: scroll · Ctrl+wheel: zoom</div>
<script nonce="${nonce}" src="${js}"></script>
</body>
</html>`;
  }

  private post(m: ToWebview) {
    if (!this.panel) return;
    if (!this.ready) {
      // only the newest graph/message matters
      this.queue = this.queue.filter(q => q.type !== m.type);
      this.queue.push(m);
      return;
    }
    void this.panel.webview.postMessage(m);
  }

  private onMessage(m: FromWebview) {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        for (const q of this.queue) void this.panel?.webview.postMessage(q);
        this.queue = [];
        break;
      case 'refresh':
        this.refresh(true);
        break;
      case 'open':
        void this.openNode(m.nodeId, m.definition);
        break;
      case 'rendered':
        if (this.graph) this.lastRendered = { workflow: this.graph.workflow, nodes: m.nodes, edges: m.edges };
        break;
    }
  }

  private setTarget(t: Target, refit: boolean) {
    this.target = t;
    this.refresh(refit);
  }

  private defs(doc: vscode.TextDocument): WorkflowDef[] {
    const key = doc.uri.toString();
    const c = this.defsCache.get(key);
    if (c && c.version === doc.version) return c.defs;
    const defs = findWorkflows(doc.getText());
    this.defsCache.set(key, { version: doc.version, defs });
    return defs;
  }

  /** Asks the server for the target's graph and shows it. */
  refresh(refit: boolean): void {
    const target = this.target;
    if (!this.panel || !target) return;
    this.cts?.cancel();
    const cts = new vscode.CancellationTokenSource();
    this.cts = cts;
    const seq = ++this.seq;
    const params: GraphParams = { textDocument: { uri: target.uri } };
    if (target.workflow) params.workflow = target.workflow;
    else if (target.position) params.position = target.position;
    this.post({ type: 'busy', busy: true });
    void (async () => {
      let result: GraphResult | null = null;
      let error: unknown;
      try {
        result = await this.server.graph(params, cts.token);
        // the server may want the short name where it answered with a qualified one
        if (!result && params.workflow && params.workflow.includes('.')) {
          result = await this.server.graph({ ...params, workflow: shortName(params.workflow) }, cts.token);
        }
      } catch (e) {
        error = e;
      }
      if (seq !== this.seq || !this.panel) return;
      this.post({ type: 'busy', busy: false });
      if (error) {
        const text =
          error instanceof NotRunningError
            ? notRunningText(this.server.state)
            : `fledge/graph failed: ${String((error as Error)?.message ?? error)}`;
        if (!(cts.token.isCancellationRequested)) this.post({ type: 'message', text, level: 'error', keepGraph: true });
        return;
      }
      if (!result) {
        const where = target.workflow ? `workflow \`${target.workflow}\`` : 'a workflow at the cursor';
        this.post({
          type: 'message',
          text: `No graph for ${where} in ${path.basename(vscode.Uri.parse(target.uri).fsPath)}${this.graph ? ' (showing the last one)' : ''}.`,
          level: 'info',
          keepGraph: true,
        });
        return;
      }
      this.graph = result;
      // follow-ups ask by name: positions move while typing
      this.target = { uri: result.uri || target.uri, workflow: result.workflow || target.workflow };
      const key = `${this.target.uri}#${result.workflow}`;
      const changed = key !== this.shownWorkflowKey;
      this.shownWorkflowKey = key;
      const file = vscode.Uri.parse(result.uri || target.uri);
      this.panel.title = `Graph: ${shortName(result.workflow)}`;
      this.post({ type: 'graph', graph: result, fileLabel: vscode.workspace.asRelativePath(file, false), refit: refit || changed });
    })();
  }

  private onDocumentChanged(doc: vscode.TextDocument) {
    if (!this.panel || !this.target || doc.languageId !== 'python' || doc.uri.scheme !== 'file') return;
    if (this.editTimer) clearTimeout(this.editTimer);
    this.editTimer = setTimeout(() => {
      this.editTimer = undefined;
      this.refresh(false);
    }, EDIT_DEBOUNCE_MS);
  }

  private onCursor(editor: vscode.TextEditor) {
    if (!this.panel || editor.document.languageId !== 'python' || editor.document.uri.scheme !== 'file') return;
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = undefined;
      this.followEditor(editor, false);
    }, CURSOR_DEBOUNCE_MS);
  }

  /** Switches to the workflow under EDITOR's cursor when it is another one. */
  private followEditor(editor: vscode.TextEditor | undefined, force: boolean) {
    if (!editor || !this.panel) return;
    const doc = editor.document;
    const pos = editor.selection.active;
    const defs = this.defs(doc);
    const here = workflowAt(defs, pos.line);
    const uri = doc.uri.toString();
    if (this.target && this.target.uri === uri) this.codeColumn = editor.viewColumn;
    if (!here) {
      // a file whose workflows the scan can't see: let the server decide
      if (defs.length === 0 && (force || !this.target)) this.setTarget({ uri, position: { line: pos.line, character: pos.character } }, true);
      return;
    }
    const same = this.target && this.target.uri === uri && this.target.workflow && shortName(this.target.workflow) === here.name;
    if (same && !force) return;
    this.codeColumn = editor.viewColumn;
    this.setTarget({ uri, position: { line: pos.line, character: pos.character } }, true);
  }

  private async openNode(nodeId: string, definition: boolean) {
    const g = this.graph;
    const node = g?.nodes.find(n => n.id === nodeId);
    if (!g || !node) return;
    let uri: vscode.Uri;
    let range: LspRange | undefined | null;
    if (definition && node.targetUri) {
      uri = toUri(node.targetUri) ?? vscode.Uri.parse(node.targetUri);
      range = node.targetRange ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    } else {
      uri = vscode.Uri.parse(g.uri);
      range = node.range;
      if (!range && node.targetUri) {
        uri = toUri(node.targetUri) ?? uri;
        range = node.targetRange;
      }
    }
    if (!range) {
      void vscode.window.showInformationMessage(`fledge: no source location for ${node.label}.`);
      return;
    }
    const start = new vscode.Position(range.start.line, range.start.character);
    const visible = vscode.window.visibleTextEditors.find(e => e.document.uri.toString() === uri.toString());
    const column = visible?.viewColumn ?? this.codeColumn ?? vscode.ViewColumn.One;
    try {
      const editor = await vscode.window.showTextDocument(uri, { viewColumn: column, preserveFocus: false, selection: new vscode.Range(start, start) });
      const end = new vscode.Position(range.end.line, range.end.character);
      editor.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } catch (e) {
      void vscode.window.showErrorMessage(`fledge: cannot open ${uri.toString()}: ${String((e as Error)?.message ?? e)}`);
    }
  }

  dispose(): void {
    if (this.editTimer) clearTimeout(this.editTimer);
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cts?.cancel();
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }
}

function notRunningText(state: string): string {
  return state === 'missing'
    ? 'The fledge binary was not found: install fledge or set "fledge.path", then run "fledge: Restart Language Server".'
    : 'The fledge language server is not running (see the "fledge" output; "fledge: Restart Language Server" starts it again).';
}
