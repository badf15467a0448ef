// Unit tests of the parts without `vscode`: the workflow scan and the binary lookup.
// Bundled by build.sh with esbuild and run with `node --test`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { commandLine, expandPath, resolveBinary, shellQuote, which } from '../src/binary';
import { findWorkflows, shortName, workflowAt } from '../src/workflows';

const SRC = `import functools
from flytekit import task, workflow
import flytekit as fk


@task
def t(x: int) -> int:
    return x


@workflow
def first(a: int = 1) -> int:
    """doc"""
    b = t(x=a)

# a comment at column 0 inside the body
    return t(x=b)


def helper():
    pass


@fk.workflow(
    interruptible=True,
)
def second(
    n: int,
    m: str = "(",
) -> int:
    return t(x=n)

@workflow
async def third() -> None:
    pass
`;

test('findWorkflows finds decorated workflows with their extent', () => {
  const defs = findWorkflows(SRC);
  assert.deepEqual(
    defs.map(d => [d.name, d.startLine, d.defLine, d.endLine]),
    [
      ['first', 10, 11, 16],
      ['second', 23, 26, 30],
      ['third', 32, 33, 34],
    ],
  );
});

test('workflowAt maps lines to the enclosing workflow', () => {
  const defs = findWorkflows(SRC);
  assert.equal(workflowAt(defs, 10)?.name, 'first'); // the decorator line
  assert.equal(workflowAt(defs, 13)?.name, 'first');
  assert.equal(workflowAt(defs, 15)?.name, 'first'); // comment at column 0
  assert.equal(workflowAt(defs, 19), undefined); // helper
  assert.equal(workflowAt(defs, 6), undefined); // a task
  assert.equal(workflowAt(defs, 28)?.name, 'second'); // inside the signature
  assert.equal(workflowAt(defs, 34)?.name, 'third');
});

test('findWorkflows on the shop example', () => {
  const file = path.resolve(__dirname, '../../examples/shop/shop/pipeline.py');
  if (!fs.existsSync(file)) return;
  const names = findWorkflows(fs.readFileSync(file, 'utf8')).map(d => d.name);
  assert.deepEqual(names, ['price_lines', 'shop_report']);
});

test('shortName drops the module', () => {
  assert.equal(shortName('shop.pipeline.shop_report'), 'shop_report');
  assert.equal(shortName('shop_report'), 'shop_report');
});

test('expandPath expands ~, ${workspaceFolder} and relative paths', () => {
  assert.equal(expandPath('~/bin/fledge', '/ws', '/home/u'), '/home/u/bin/fledge');
  assert.equal(expandPath('${workspaceFolder}/target/release/fledge', '/ws', '/home/u'), '/ws/target/release/fledge');
  assert.equal(expandPath('target/release/fledge', '/ws', '/home/u'), '/ws/target/release/fledge');
  assert.equal(expandPath('fledge', '/ws', '/home/u'), 'fledge');
});

test('resolveBinary: setting, bundled, PATH, missing', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-unit-'));
  try {
    const ext = path.join(tmp, 'ext');
    const pathDir = path.join(tmp, 'pathbin');
    fs.mkdirSync(path.join(ext, 'bin'), { recursive: true });
    fs.mkdirSync(pathDir);
    const env = { PATH: pathDir };
    const opts = { extensionPath: ext, env, platform: 'linux' as NodeJS.Platform };
    // nothing anywhere
    const none = resolveBinary({ ...opts, configured: '' });
    assert.equal(none.command, undefined);
    assert.equal(none.source, 'path');
    // on PATH
    fs.writeFileSync(path.join(pathDir, 'fledge'), '#!/bin/sh\n', { mode: 0o755 });
    assert.deepEqual(resolveBinary({ ...opts, configured: '' }), { command: path.join(pathDir, 'fledge'), source: 'path' });
    assert.equal(which('fledge', env, 'linux'), path.join(pathDir, 'fledge'));
    // bundled wins over PATH, and gets its executable bit back
    const bundled = path.join(ext, 'bin', 'fledge');
    fs.writeFileSync(bundled, '#!/bin/sh\n', { mode: 0o644 });
    assert.deepEqual(resolveBinary({ ...opts, configured: '' }), { command: bundled, source: 'bundled' });
    assert.ok(fs.statSync(bundled).mode & 0o100);
    // the setting wins over both; a missing configured file is an error, not a fallback
    const custom = path.join(tmp, 'custom-fledge');
    fs.writeFileSync(custom, '#!/bin/sh\n', { mode: 0o755 });
    assert.deepEqual(resolveBinary({ ...opts, configured: custom }), { command: custom, source: 'setting' });
    const missing = resolveBinary({ ...opts, configured: path.join(tmp, 'nope') });
    assert.equal(missing.command, undefined);
    assert.equal(missing.source, 'setting');
    // a bare name in the setting is looked up on PATH
    assert.deepEqual(resolveBinary({ ...opts, configured: 'fledge' }), { command: path.join(pathDir, 'fledge'), source: 'setting' });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('commandLine quotes for POSIX shells and PowerShell', () => {
  assert.equal(commandLine('/usr/bin/fledge', ['run', 'shop/pipeline.py', 'shop_report'], 'linux'), '/usr/bin/fledge run shop/pipeline.py shop_report');
  assert.equal(commandLine('/opt/my tools/fledge', ['check'], 'linux'), "'/opt/my tools/fledge' check");
  assert.equal(shellQuote("it's", 'linux'), `'it'\\''s'`);
  assert.equal(commandLine('C:\\Program Files\\fledge.exe', ['check'], 'win32'), "& 'C:\\Program Files\\fledge.exe' check");
});
