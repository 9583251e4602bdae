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
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/bundle');

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
  build({ ...common, entryPoints: [path.join(root, 'dist/src/cli/main.js')], outfile: path.join(outdir, 'berth.cjs'), format: 'cjs' }),
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
console.log(`bundle-cli: done in ${Date.now() - started} ms`);
