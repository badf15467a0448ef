// Status bar item: "fledge: ok" / "fledge: N errors" / "fledge: not running".
// Click: the Problems view while the server runs, else the "fledge" output.
import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE, FledgeServer, ServerState } from './server';

export function countFledgeDiagnostics(): { errors: number; warnings: number; files: number } {
  let errors = 0;
  let warnings = 0;
  let files = 0;
  for (const [, diags] of vscode.languages.getDiagnostics()) {
    let any = false;
    for (const d of diags) {
      if (!d.source || d.source.toLowerCase() !== DIAGNOSTIC_SOURCE) continue;
      any = true;
      if (d.severity === vscode.DiagnosticSeverity.Error) errors++;
      else if (d.severity === vscode.DiagnosticSeverity.Warning) warnings++;
    }
    if (any) files++;
  }
  return { errors, warnings, files };
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export class StatusItem implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly server: FledgeServer) {
    this.item = vscode.window.createStatusBarItem('fledge.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'fledge';
    this.subs.push(
      server.onDidChangeState(() => this.update()),
      vscode.languages.onDidChangeDiagnostics(() => this.schedule()),
    );
    this.update();
    this.item.show();
  }

  private schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 150);
  }

  update(): void {
    const state: ServerState = this.server.state;
    const item = this.item;
    item.backgroundColor = undefined;
    if (state === 'running') {
      const c = countFledgeDiagnostics();
      const detail = `${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')} in ${plural(c.files, 'file')}`;
      if (c.errors > 0) {
        item.text = `$(error) fledge: ${plural(c.errors, 'error')}`;
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      } else {
        item.text = c.warnings > 0 ? `$(check) fledge: ok, ${plural(c.warnings, 'warning')}` : '$(check) fledge: ok';
      }
      const bin = this.server.binary;
      item.tooltip = `fledge language server running${bin ? ` (${bin.command})` : ''}\n${detail}\nClick to open the Problems view.`;
      item.command = 'workbench.actions.view.problems';
      return;
    }
    if (state === 'starting') {
      item.text = '$(sync~spin) fledge: starting';
      item.tooltip = 'Starting the fledge language server. Click to show its output.';
    } else {
      item.text = '$(circle-slash) fledge: not running';
      item.tooltip =
        state === 'missing'
          ? 'The fledge binary was not found: install fledge or set "fledge.path". Click to show the output.'
          : 'The fledge language server is not running. Click to show its output; "fledge: Restart Language Server" starts it again.';
      item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    }
    item.command = 'fledge.showOutput';
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
