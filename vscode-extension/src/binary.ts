// Finding the `fledge` binary: the `fledge.path` setting, else the binary bundled in the
// extension (`bin/fledge`), else `fledge` on PATH. No `vscode` import, so it can be unit-tested.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export type BinarySource = 'setting' | 'bundled' | 'path';

export interface ResolvedBinary {
  /** Absolute path of an existing executable file. */
  command: string;
  source: BinarySource;
}

export interface BinaryNotFound {
  command?: undefined;
  source: BinarySource;
  /** What was looked for, for the error message. */
  tried: string[];
}

export interface ResolveOptions {
  /** The `fledge.path` setting (may be empty). */
  configured: string;
  /** The extension's install folder. */
  extensionPath: string;
  /** First workspace folder, for relative paths and `${workspaceFolder}`. */
  workspaceFolder?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

const exeName = (platform: NodeJS.Platform) => (platform === 'win32' ? 'fledge.exe' : 'fledge');

export function expandPath(p: string, workspaceFolder?: string, home = os.homedir()): string {
  let s = p.trim();
  if (workspaceFolder) s = s.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  s = s.replace(/\$\{userHome\}/g, home);
  if (s === '~' || s.startsWith('~/') || s.startsWith('~\\')) s = path.join(home, s.slice(1));
  if (!path.isAbsolute(s) && (s.includes('/') || s.includes('\\')) && workspaceFolder) s = path.resolve(workspaceFolder, s);
  return s;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function isExecutable(p: string, platform: NodeJS.Platform): boolean {
  if (!isFile(p)) return false;
  if (platform === 'win32') return true;
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks NAME up on PATH like a shell would (PATHEXT on Windows). */
export function which(name: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const pathVar = env.PATH ?? env.Path ?? '';
  const exts = platform === 'win32' ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').map(e => e.toLowerCase())] : [''];
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutable(candidate, platform)) return candidate;
    }
  }
  return undefined;
}

export function resolveBinary(o: ResolveOptions): ResolvedBinary | BinaryNotFound {
  const platform = o.platform ?? process.platform;
  const env = o.env ?? process.env;
  const configured = (o.configured ?? '').trim();
  if (configured) {
    const p = expandPath(configured, o.workspaceFolder);
    if (path.isAbsolute(p)) {
      return isExecutable(p, platform) ? { command: p, source: 'setting' } : { source: 'setting', tried: [p] };
    }
    // a bare name such as "fledge": look it up on PATH
    const found = which(p, env, platform);
    return found ? { command: found, source: 'setting' } : { source: 'setting', tried: [`${p} (on PATH)`] };
  }
  const bundled = path.join(o.extensionPath, 'bin', exeName(platform));
  if (isFile(bundled)) {
    if (platform !== 'win32' && !isExecutable(bundled, platform)) {
      // a .vsix may lose the executable bit on the way; restore it
      try {
        fs.chmodSync(bundled, 0o755);
      } catch {
        /* reported below */
      }
    }
    if (isExecutable(bundled, platform)) return { command: bundled, source: 'bundled' };
  }
  const onPath = which('fledge', env, platform);
  if (onPath) return { command: onPath, source: 'path' };
  return { source: 'path', tried: [bundled, 'fledge (on PATH)'] };
}

/** Quotes one argument for the integrated terminal's shell. */
export function shellQuote(arg: string, platform: NodeJS.Platform = process.platform): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(arg)) return arg;
  if (platform === 'win32') return `'${arg.replace(/'/g, "''")}'`; // PowerShell
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line for the integrated terminal (PowerShell needs `&` before a quoted program). */
export function commandLine(program: string, args: string[], platform: NodeJS.Platform = process.platform): string {
  const prog = shellQuote(program, platform);
  const head = platform === 'win32' && prog.startsWith("'") ? `& ${prog}` : prog;
  return [head, ...args.map(a => shellQuote(a, platform))].join(' ');
}
