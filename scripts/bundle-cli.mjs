#!/usr/bin/env node
// Bundles the compiled CLI entry points (dist/src/cli/main.js and the compose
// plugin's) into dist/bundle/, so a `berth` invocation loads a handful of
// files instead of resolving and compiling ~30 ES modules one by one (about
// 150 ms of a `berth run --rm`'s client side before the bundle). Runs after
// tsc in `npm run build`; bin/berth uses the bundle only while it is newer
// than tsc's last output (see bin/cli-entry.js), so a tsc-only build is never
// shadowed by a stale bundle.
//
// Splitting keeps the lazy command loading of src/cli/commands: each command
// module (and compose, registry) becomes a chunk loaded only when it runs.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist/bundle');

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
// The chunks are ES modules whatever the nearest package.json above says.
writeFileSync(path.join(outdir, 'package.json'), '{"type":"module"}\n');

const started = Date.now();
const result = await build({
  entryPoints: {
    berth: path.join(root, 'dist/src/cli/main.js'),
    'compose-plugin': path.join(root, 'dist/src/compose/plugin-main.js'),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // A native addon: it must stay a real require() of node_modules.
  external: ['node-unix-socket'],
  // commander and other CommonJS deps call require(); an ES module has none.
  banner: { js: "import { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`bundle-cli: ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024).toFixed(0)} KiB in ${path.relative(root, outdir)} (${Date.now() - started} ms)`);
