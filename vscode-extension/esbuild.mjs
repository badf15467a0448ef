// Bundles the extension (Node, CommonJS, `vscode` external) and the graph webview (browser IIFE
// with dagre inside, plus its CSS) into dist/. `--dev` adds source maps and skips minification.
import * as esbuild from 'esbuild';

const dev = process.argv.includes('--dev');
const common = { bundle: true, minify: !dev, sourcemap: dev, logLevel: 'warning', legalComments: 'none' };

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    external: ['vscode'],
  }),
  esbuild.build({
    ...common,
    entryPoints: { main: 'webview/main.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: ['chrome114'],
  }),
  esbuild.build({
    ...common,
    entryPoints: { main: 'webview/main.css' },
    outdir: 'dist/webview',
    target: ['chrome114'],
  }),
]);
