// fledge for VS Code: runs `fledge lsp --stdio` (diagnostics, completion, hover, … come from the
// server), shows the workflow graph, and runs `fledge check/run/watch` in a terminal.
import * as vscode from 'vscode';
import { GraphPanel } from './graphPanel';
import { FledgeServer, ServerState } from './server';
import { StatusItem, countFledgeDiagnostics } from './status';
import { TerminalCommands } from './terminal';

/** What `activate` returns (used by tests through `extension.exports`). */
export interface FledgeApi {
  serverState(): ServerState;
  binary(): string | undefined;
  diagnostics(): { errors: number; warnings: number; files: number };
  graphRendered(): { workflow: string; nodes: number; edges: number } | undefined;
}

let server: FledgeServer | undefined;

export async function activate(ctx: vscode.ExtensionContext): Promise<FledgeApi> {
  const output = vscode.window.createOutputChannel('fledge');
  const srv = new FledgeServer(ctx, output);
  server = srv;
  const status = new StatusItem(srv);
  const graph = new GraphPanel(ctx, srv);
  const terminals = new TerminalCommands(srv);
  ctx.subscriptions.push(
    output,
    srv,
    status,
    graph,
    terminals,
    vscode.commands.registerCommand('fledge.check', (uri?: unknown) => terminals.check(uri)),
    vscode.commands.registerCommand('fledge.runWorkflow', (uri?: unknown, workflow?: unknown) => terminals.run(uri, workflow)),
    vscode.commands.registerCommand('fledge.watchWorkflow', (uri?: unknown, workflow?: unknown) => terminals.watch(uri, workflow)),
    vscode.commands.registerCommand('fledge.showGraph', (uri?: unknown, workflow?: unknown) => graph.show(uri, workflow)),
    vscode.commands.registerCommand('fledge.restartServer', () => srv.restart()),
    vscode.commands.registerCommand('fledge.showOutput', () => output.show(true)),
    vscode.workspace.onDidChangeConfiguration(e => srv.onConfigurationChanged(e)),
  );
  // don't hold up activation (and never fail it) on the server
  void srv.start();
  return {
    serverState: () => srv.state,
    binary: () => srv.binary?.command,
    diagnostics: countFledgeDiagnostics,
    graphRendered: () => graph.lastRendered,
  };
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
