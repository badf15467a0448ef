// The fledge language server: finding the binary, starting `fledge lsp --stdio` with a
// LanguageClient, settings (initializationOptions + workspace/didChangeConfiguration), restarts.
import * as vscode from 'vscode';
import {
  CancellationToken,
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { BinaryNotFound, ResolvedBinary, resolveBinary } from './binary';
import { GRAPH_REQUEST, GraphParams, GraphResult } from './protocol';

export type ServerState = 'stopped' | 'starting' | 'running' | 'missing' | 'failed';

export interface FledgeSettings {
  select: string[];
  ignore: string[];
  severity: Record<string, string>;
}

export const DIAGNOSTIC_SOURCE = 'fledge';

export function readSettings(scope?: vscode.ConfigurationScope): FledgeSettings {
  const cfg = vscode.workspace.getConfiguration('fledge', scope);
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const sev = cfg.get<unknown>('severity');
  const severity: Record<string, string> = {};
  if (sev && typeof sev === 'object') {
    for (const [k, v] of Object.entries(sev as Record<string, unknown>)) if (typeof v === 'string') severity[k] = v;
  }
  return { select: strings(cfg.get('select')), ignore: strings(cfg.get('ignore')), severity };
}

function firstFolder(): string | undefined {
  const f = vscode.workspace.workspaceFolders?.[0];
  return f && f.uri.scheme === 'file' ? f.uri.fsPath : undefined;
}

export class FledgeServer implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private _state: ServerState = 'stopped';
  private _binary: ResolvedBinary | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  readonly onDidChangeState = this.stateEmitter.event;
  private starting: Promise<void> | undefined;
  private missingShown = false;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
  ) {}

  get state(): ServerState {
    return this._state;
  }

  /** The binary the server runs (or the terminal commands use), when found. */
  get binary(): ResolvedBinary | undefined {
    return this._binary;
  }

  private setState(s: ServerState) {
    if (s === this._state) return;
    this._state = s;
    this.stateEmitter.fire(s);
  }

  /** Finds the binary. When it is missing, shows the "not found" error: `true` once per server
   *  start, `'always'` every time (for commands the user just ran). */
  resolve(showError: boolean | 'always'): ResolvedBinary | undefined {
    const configured = vscode.workspace.getConfiguration('fledge').get<string>('path') ?? '';
    const r = resolveBinary({ configured, extensionPath: this.ctx.extensionPath, workspaceFolder: firstFolder() });
    if (!('tried' in r)) {
      this._binary = r;
      return r;
    }
    this._binary = undefined;
    if (showError) this.reportMissing(r, configured, showError === 'always');
    return undefined;
  }

  private reportMissing(r: BinaryNotFound, configured: string, always: boolean) {
    const msg =
      r.source === 'setting'
        ? `fledge: the binary set in "fledge.path" was not found or is not executable: ${r.tried.join(', ')}. ` +
          'Fix the setting (an absolute path to the `fledge` binary), or clear it to use `fledge` from PATH.'
        : 'fledge: the `fledge` binary was not found (no binary bundled with the extension and none on PATH). ' +
          'Install fledge (e.g. `cargo install --path cli` in a fledge checkout) and put it on PATH, ' +
          'or set "fledge.path" to the binary (e.g. …/fledge/target/release/fledge).';
    this.output.appendLine(`[fledge] ${msg}`);
    this.output.appendLine(`[fledge] looked for: ${r.tried.join(', ')}; fledge.path = ${JSON.stringify(configured)}`);
    this.output.appendLine(
      '[fledge] note: VS Code starts language servers with the PATH of a login shell; an absolute "fledge.path" avoids surprises.',
    );
    if (this.missingShown && !always) return;
    this.missingShown = true;
    void vscode.window.showErrorMessage(msg, 'Open Settings', 'Show Output').then(choice => {
      if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'fledge.path');
      else if (choice === 'Show Output') this.output.show(true);
    });
  }

  /** Starts the server. Never throws: failures end up in the state, the output and a message. */
  start(): Promise<void> {
    if (!this.starting) this.starting = this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.client) return;
    this.missingShown = false;
    const bin = this.resolve(true);
    if (!bin) {
      this.setState('missing');
      return;
    }
    this.setState('starting');
    const cwd = firstFolder();
    const args = ['lsp', '--stdio'];
    this.output.appendLine(`[fledge] starting ${bin.command} ${args.join(' ')} (${bin.source} binary)${cwd ? ` in ${cwd}` : ''}`);
    // `transport` stays unset: TransportKind.stdio would append a second `--stdio`
    const exe = { command: bin.command, args, options: cwd ? { cwd } : {} };
    const serverOptions: ServerOptions = { run: exe, debug: exe };
    this.watcher = vscode.workspace.createFileSystemWatcher('**/{*.py,pyproject.toml}');
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'python' }],
      outputChannel: this.output,
      traceOutputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: { fledge: readSettings() },
      synchronize: { fileEvents: this.watcher },
      initializationFailedHandler: err => {
        this.output.appendLine(`[fledge] initialization failed: ${String((err as Error)?.message ?? err)}`);
        return false;
      },
      middleware: {
        // diagnostics carry source "fledge" (the status bar counts them by it)
        handleDiagnostics: (uri, diagnostics, next) => {
          for (const d of diagnostics) if (!d.source) d.source = DIAGNOSTIC_SOURCE;
          next(uri, diagnostics);
        },
        provideDiagnostics: async (doc, previousResultId, token, next) => {
          const r = await next(doc, previousResultId, token);
          const items = (r as { items?: vscode.Diagnostic[] } | null | undefined)?.items;
          if (Array.isArray(items)) for (const d of items) if (!d.source) d.source = DIAGNOSTIC_SOURCE;
          return r;
        },
      },
    };
    const client = new LanguageClient('fledge', 'fledge', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState(e => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.setState('running');
      else if (e.newState === State.Starting) this.setState('starting');
      else if (e.newState === State.Stopped && this._state !== 'failed') this.setState('stopped');
    });
    try {
      await client.start();
      this.output.appendLine(`[fledge] language server running (${client.initializeResult?.serverInfo?.name ?? 'fledge'} ${client.initializeResult?.serverInfo?.version ?? ''})`.trimEnd());
      this.setState('running');
    } catch (e) {
      this.output.appendLine(`[fledge] the language server did not start: ${String((e as Error)?.message ?? e)}`);
      this.setState('failed');
      if (this.client === client) {
        this.client = undefined;
        this.watcher?.dispose();
        this.watcher = undefined;
      }
      try {
        await client.dispose(2000);
      } catch {
        /* already gone */
      }
      void vscode.window
        .showErrorMessage(
          `fledge: the language server (${bin.command} lsp --stdio) did not start: ${String((e as Error)?.message ?? e)}`,
          'Show Output',
        )
        .then(c => c && this.output.show(true));
    }
  }

  async stop(): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    this.watcher?.dispose();
    this.watcher = undefined;
    if (client) {
      try {
        if (client.isRunning()) await client.stop(3000);
      } catch (e) {
        this.output.appendLine(`[fledge] stopping the server: ${String((e as Error)?.message ?? e)}`);
      }
      try {
        await client.dispose(1000);
      } catch {
        /* already stopped */
      }
    }
    this.setState('stopped');
  }

  async restart(): Promise<void> {
    this.output.appendLine('[fledge] restarting the language server');
    await this.stop();
    await this.start();
  }

  /** Settings changed: restart for a new binary, else send the new settings to the server. */
  async onConfigurationChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!e.affectsConfiguration('fledge')) return;
    if (e.affectsConfiguration('fledge.path')) {
      await this.restart();
      return;
    }
    if (['fledge.select', 'fledge.ignore', 'fledge.severity'].some(s => e.affectsConfiguration(s))) {
      const client = this.client;
      if (client && client.isRunning()) {
        const settings = { fledge: readSettings() };
        this.output.appendLine(`[fledge] settings changed: ${JSON.stringify(settings)}`);
        await client.sendNotification(DidChangeConfigurationNotification.type, { settings });
      }
    }
  }

  async graph(params: GraphParams, token?: CancellationToken): Promise<GraphResult | null> {
    const client = this.client;
    if (!client || !client.isRunning()) throw new NotRunningError();
    return client.sendRequest<GraphResult | null>(GRAPH_REQUEST, params, token);
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }
}

export class NotRunningError extends Error {
  constructor() {
    super('the fledge language server is not running');
  }
}
