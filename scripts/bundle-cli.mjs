#!/usr/bin/env node
// Bundles the compiled CLI entry points into dist/bundle/, so a `berth`
// invocation reads one file instead of resolving, loading and linking ~30 ES
// modules one by one. Runs after tsc in `npm run build` (it bundles tsc's
// output, so the bundle is the very code tsc checked); bin/berth uses it only
// while it is newer than tsc's last output (see bin/cli-entry.js), so a
// tsc-only build is never shadowed by a stale bundle.
//
// `berth` is bundled as one CommonJS file: measured here, that starts faster
// than an ES module bundle (split into chunks or not), because Node builds an
// ES module facade for every builtin an ES module imports and, for `node:fs`,
// that facade reads every lazy export (loading fs streams) even when unused.
// Command modules stay lazily initialised (esbuild turns their `import()`
// into an init call), and V8 compiles functions only when they first run.
//
// The compose plugin's entry uses top-level await, so it is an ES module bundle.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/bundle');

// `node:child_process` costs ~7 ms to load here, and commander and the CLI's
// terminal code require it at start-up though most commands never spawn
// anything: inside the bundle it becomes an object that loads the real module
// on first use.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.namespace === 'lazy' ? { path: 'node:child_process', external: true } : { path: 'child_process', namespace: 'lazy' });
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "let real; const load = () => (real ??= require('node:child_process'));\n" +
        'module.exports = new Proxy({}, { get: (_, k) => load()[k], has: (_, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()), getOwnPropertyDescriptor: (_, k) => Object.getOwnPropertyDescriptor(load(), k) });\n',
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // A native addon: it must stay a real require() of node_modules.
  external: ['node-unix-socket'],
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
};

const started = Date.now();
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const results = await Promise.all([
  // Whitespace and syntax minified (names kept): every command reads and
  // hashes the whole file, and on these VMs each fresh page costs; 938 -> 613
  // KB took 4-5 ms off reading and compiling it.
  build({
    ...common, entryPoints: [path.join(root, 'dist/src/cli/main.js')], outfile: path.join(outdir, 'berth.cjs'), format: 'cjs', plugins: [lazyChildProcess],
    minifyWhitespace: true, minifySyntax: true, charset: 'ascii',
  }),
  build({
    ...common,
    entryPoints: [path.join(root, 'dist/src/compose/plugin-main.js')],
    outfile: path.join(outdir, 'compose-plugin.mjs'),
    format: 'esm',
    // commander and other CommonJS dependencies call require(); an ES module has none.
    banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  }),
]);
for (const r of results) {
  for (const [file, o] of Object.entries(r.metafile.outputs)) console.log(`bundle-cli: ${file} ${(o.bytes / 1024).toFixed(0)} KiB`);
}

// bin/cli-entry.js reads the CommonJS bundle as latin1 (no UTF-8 decoding):
// escape the few non-ASCII characters (comments, a `µs` in a regex), which
// means the same in JavaScript strings, regexes and comments.
const cjs = path.join(outdir, 'berth.cjs');
const text = readFileSync(cjs, 'utf8');
if (/[^\x00-\x7f]/.test(text)) {
  writeFileSync(cjs, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

// V8's code cache for the bundle (see bin/cli-entry.js), written by running
// it once: `--help` compiles commander and the command table that every
// command goes through.
const cache = spawnSync(process.execPath, [path.join(root, 'bin/berth'), '--help'], {
  env: { ...process.env, BERTH_WRITE_V8CACHE: '1', BERTH_HOST: 'unix:///nonexistent/bundle-cli.sock' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (cache.status !== 0) throw new Error(`bundle-cli: writing the code cache failed (exit ${cache.status})`);
console.log(`bundle-cli: done in ${Date.now() - started} ms`);
