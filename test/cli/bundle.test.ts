/**
 * The bundled CLI (scripts/bundle-cli.mjs → dist/bundle/) is what bin/berth
 * runs after `npm run build`: these tests check the rule that picks it over
 * tsc's output, and that every lazily loaded command chunk of the bundle
 * loads and runs (a chunk missing a CommonJS require or a native addon would
 * only fail when that command runs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { berthBin, repoRoot } from '../helpers/daemon.js';

type CliEntry = (which?: string, dist?: URL) => string;
// bin/ is plain JavaScript (no declarations): load it untyped.
const entryModule: string = pathToFileURL(path.join(repoRoot, 'bin/cli-entry.js')).href;
const { cliEntry } = (await import(entryModule)) as { cliEntry: CliEntry };

test('bin/berth takes the bundle only while it is at least as new as tsc output', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bcli-entry-'));
  try {
    const dist = pathToFileURL(`${dir}/`);
    const bundle = path.join(dir, 'bundle/berth.js');
    const info = path.join(dir, '.tsbuildinfo');
    const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);

    assert.equal(cliEntry('berth', dist), new URL('src/cli/main.js', dist).href, 'no bundle: tsc output');
    mkdirSync(path.dirname(bundle));
    writeFileSync(bundle, '');
    assert.equal(cliEntry('berth', dist), new URL('bundle/berth.js', dist).href, 'bundle and no tsc record: bundle');
    writeFileSync(info, '{}');
    at(info, 2000); at(bundle, 1000);
    assert.equal(cliEntry('berth', dist), new URL('src/cli/main.js', dist).href, 'tsc built after the bundle: tsc output');
    at(bundle, 2000);
    assert.equal(cliEntry('berth', dist), new URL('bundle/berth.js', dist).href, 'bundled after tsc: bundle');
    assert.equal(cliEntry('compose-plugin', dist), new URL('src/compose/plugin-main.js', dist).href, 'plugin bundle missing: tsc output');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the test run exercises the bundle (scripts/test.mjs refreshes a stale one)', () => {
  assert.equal(cliEntry(), pathToFileURL(path.join(repoRoot, 'dist/bundle/berth.js')).href);
  assert.equal(cliEntry('compose-plugin'), pathToFileURL(path.join(repoRoot, 'dist/bundle/compose-plugin.js')).href);
});

function runBin(bin: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // No daemon anywhere near: --help must not need one.
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, BERTH_HOST: 'unix:///nonexistent/bcli.sock', DOCKER_HOST: '' } });
    let out = '';
    p.stdout.on('data', (c) => { out += c; });
    p.stderr.on('data', (c) => { out += c; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
  });
}

// One command per module chunk of src/cli/commands, plus the lazily loaded groups.
const COMMANDS = [
  'attach', 'build', 'commit', 'cp', 'diff', 'exec', 'images', 'inspect', 'logs', 'ps', 'push', 'run', 'stats', 'info',
  'update', 'system df', 'system prune', 'volume ls', 'network ls', 'compose', 'registry',
];

test('every command chunk of the bundle loads: <command> --help through bin/berth', async () => {
  const results = await Promise.all(COMMANDS.map(async (c) => ({ c, ...(await runBin(berthBin, [...c.split(' '), '--help'])) })));
  for (const r of results) {
    assert.equal(r.code, 0, `berth ${r.c} --help: ${r.out}`);
    assert.match(r.out, /Usage:/, `berth ${r.c} --help`);
  }
});

test('bin/docker-compose runs from its bundle entry', async () => {
  const r = await runBin(path.join(repoRoot, 'bin/docker-compose'), ['docker-cli-plugin-metadata']);
  assert.equal(r.code, 0, r.out);
  assert.equal(JSON.parse(r.out).Vendor, 'Berth');
});
