'use strict';
// Loads the berth CLI for bin/berth, bin/fig and bin/docker-compose: the
// esbuild bundle that `npm run build` writes (dist/bundle/, see
// scripts/bundle-cli.mjs) when it is at least as new as tsc's last output,
// else the plain tsc output. The check keeps a later tsc-only build
// (`npx tsc -p .`) from being shadowed by a stale bundle; it costs two stats.
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

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

/**
 * Runs the CommonJS bundle as require() would, but compiled with V8's code
 * cache that `npm run build` leaves beside it (`berth.cjs.v8cache`):
 * compiling the ~1 MB bundle from source took 21-27 ms of every command
 * here, from the cache 5-10 ms. V8 checks the cache against the source and
 * its own version and flags and ignores one that does not match (then this is
 * a plain compile). The bundle is ASCII (the build checks), so it is read as
 * latin1, which skips UTF-8 decoding.
 *
 * With BERTH_WRITE_V8CACHE=1 the cache is (re)written at exit, after the
 * command ran, so it also holds the functions that run compiled.
 */
function runBundle(file) {
  const cacheFile = `${file}.v8cache`;
  let cachedData;
  try { cachedData = readFileSync(cacheFile); } catch { /* no cache: compile from source */ }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'latin1')), { filename: file, cachedData });
  if (process.env.BERTH_WRITE_V8CACHE === '1') process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  const mod = new Module(file, module);
  mod.filename = file;
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
}

/** Runs the CLI (it reads process.argv itself). */
function runCli(which = 'berth') {
  const file = cliEntry(which);
  // The CommonJS bundle needs no ES module loader at all on that path.
  if (file.endsWith('.cjs')) runBundle(file);
  else import(pathToFileURL(file).href);
}

module.exports = { cliEntry, runCli };
