// `fledge check`, `fledge run`, `fledge watch` in the integrated terminal.
import * as path from 'path';
import * as vscode from 'vscode';
import { commandLine } from './binary';
import { FledgeServer, readSettings } from './server';
import { projectRoot, resolveWorkflowTarget, toUri } from './target';

export class TerminalCommands implements vscode.Disposable {
  private readonly terminals = new Map<string, vscode.Terminal>();
  private readonly sub: vscode.Disposable;

  constructor(private readonly server: FledgeServer) {
    this.sub = vscode.window.onDidCloseTerminal(t => {
      for (const [k, v] of this.terminals) if (v === t) this.terminals.delete(k);
    });
  }

  private program(): string | undefined {
    return this.server.resolve('always')?.command;
  }

  /** Runs a command line in the terminal NAME; `fresh` ends a previous one first (watch). */
  private send(name: string, cwd: string, line: string, fresh: boolean) {
    let t = this.terminals.get(name);
    if (t && (fresh || t.exitStatus !== undefined)) {
      t.dispose();
      t = undefined;
    }
    if (!t) {
      t = vscode.window.createTerminal({ name, cwd });
      this.terminals.set(name, t);
    } else {
      t.sendText(`cd ${commandLine(cwd, []).replace(/^& /, '')}`);
    }
    t.show(true);
    t.sendText(line);
  }

  async check(uriArg?: unknown): Promise<void> {
    const program = this.program();
    if (!program) return;
    const uri = toUri(uriArg) ?? vscode.window.activeTextEditor?.document.uri;
    const folder = (uri && vscode.workspace.getWorkspaceFolder(uri)) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void vscode.window.showErrorMessage('fledge: open a folder to check it.');
      return;
    }
    const s = readSettings(folder.uri);
    const args = ['check'];
    if (s.select.length) args.push('--select', s.select.join(','));
    if (s.ignore.length) args.push('--ignore', s.ignore.join(','));
    this.send('fledge', folder.uri.fsPath, commandLine(program, args), false);
  }

  async run(uriArg?: unknown, workflowArg?: unknown): Promise<void> {
    await this.workflowCommand('run', uriArg, workflowArg);
  }

  async watch(uriArg?: unknown, workflowArg?: unknown): Promise<void> {
    await this.workflowCommand('watch', uriArg, workflowArg);
  }

  private async workflowCommand(verb: 'run' | 'watch', uriArg: unknown, workflowArg: unknown) {
    const program = this.program();
    if (!program) return;
    const target = await resolveWorkflowTarget(uriArg, workflowArg, verb);
    if (!target) return;
    if (target.uri.scheme !== 'file') {
      void vscode.window.showErrorMessage(`fledge: can only ${verb} workflows in files on disk.`);
      return;
    }
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === target.uri.toString());
    if (doc?.isDirty) await doc.save();
    const cwd = projectRoot(target.uri);
    const file = path.relative(cwd, target.uri.fsPath) || target.uri.fsPath;
    const line = commandLine(program, [verb, file, target.workflow]);
    if (verb === 'run') this.send('fledge run', cwd, line, false);
    else this.send(`fledge watch: ${target.workflow}`, cwd, line, true);
  }

  dispose(): void {
    this.sub.dispose();
  }
}
