'use strict';
// Loads the berth CLI for bin/berth, bin/fig and bin/docker-compose: the
// esbuild bundle that `npm run build` writes (dist/bundle/, see
// scripts/bundle-cli.mjs) when it is at least as new as tsc's last output,
// else the plain tsc output. The check keeps a later tsc-only build
// (`npx tsc -p .`) from being shadowed by a stale bundle; it costs two stats.
const { statSync } = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const ENTRIES = {
  berth: { bundle: 'bundle/berth.cjs', compiled: 'src/cli/main.js' },
  'compose-plugin': { bundle: 'bundle/compose-plugin.mjs', compiled: 'src/compose/plugin-main.js' },
};

/**
 * The file to run for `which` (`berth`, the CLI, or `compose-plugin`, the
 * docker CLI plugin); `dist` is the build output directory.
 *
 *   cliEntry()   // '/…/dist/bundle/berth.cjs' after `npm run build`
 */
function cliEntry(which = 'berth', dist = path.join(__dirname, '../dist')) {
  const e = ENTRIES[which];
  const bundle = path.join(dist, e.bundle);
  const bundled = statSync(bundle, { throwIfNoEntry: false });
  const compiled = statSync(path.join(dist, '.tsbuildinfo'), { throwIfNoEntry: false });
  if (bundled && (!compiled || bundled.mtimeMs >= compiled.mtimeMs)) return bundle;
  return path.join(dist, e.compiled);
}

/** Runs the CLI (it reads process.argv itself). */
function runCli(which = 'berth') {
  const file = cliEntry(which);
  // The CommonJS bundle is require()d: no ES module loader at all on that path.
  if (file.endsWith('.cjs')) require(file);
  else import(pathToFileURL(file).href);
}

module.exports = { cliEntry, runCli };
