/**
 * The bundled CLI (scripts/bundle-cli.mjs → dist/bundle/) is what bin/berth
 * runs after `npm run build`: these tests check the rule that picks it over
 * tsc's output, and that every lazily initialised command module of the
 * bundle loads and runs (one that needed something the bundle lacks would
 * only fail when that command runs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as vm from 'node:vm';
import { berthBin, repoRoot } from '../helpers/daemon.js';

type CliEntry = (which?: string, dist?: string) => string;
// bin/ is plain CommonJS (no declarations): load it untyped.
const entryModule: string = pathToFileURL(path.join(repoRoot, 'bin/cli-entry.js')).href;
const { cliEntry } = (await import(entryModule)).default as { cliEntry: CliEntry };

test('bin/berth takes the bundle only while it is at least as new as tsc output', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bcli-entry-'));
  try {
    const dist = dir;
    const bundle = path.join(dir, 'bundle/berth.cjs');
    const info = path.join(dir, '.tsbuildinfo');
    const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);

    assert.equal(cliEntry('berth', dist), path.join(dist, 'src/cli/main.js'), 'no bundle: tsc output');
    mkdirSync(path.dirname(bundle));
    writeFileSync(bundle, '');
    assert.equal(cliEntry('berth', dist), path.join(dist, 'bundle/berth.cjs'), 'bundle and no tsc record: bundle');
    writeFileSync(info, '{}');
    at(info, 2000); at(bundle, 1000);
    assert.equal(cliEntry('berth', dist), path.join(dist, 'src/cli/main.js'), 'tsc built after the bundle: tsc output');
    at(bundle, 2000);
    assert.equal(cliEntry('berth', dist), path.join(dist, 'bundle/berth.cjs'), 'bundled after tsc: bundle');
    assert.equal(cliEntry('compose-plugin', dist), path.join(dist, 'src/compose/plugin-main.js'), 'plugin bundle missing: tsc output');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the test run exercises the bundle (scripts/test.mjs refreshes a stale one)', () => {
  assert.equal(cliEntry(), path.join(repoRoot, 'dist/bundle/berth.cjs'));
  assert.equal(cliEntry('compose-plugin'), path.join(repoRoot, 'dist/bundle/compose-plugin.mjs'));
});

test('the bundle is ASCII and its V8 code cache is one V8 accepts', () => {
  const file = path.join(repoRoot, 'dist/bundle/berth.cjs');
  const bytes = readFileSync(file);
  // bin/cli-entry.js decodes it as latin1: a non-ASCII byte would be misread.
  assert.equal(bytes.findIndex((b) => b > 0x7f), -1, 'a non-ASCII byte in the bundle');
  const script = new vm.Script(Module.wrap(bytes.toString('latin1')), { filename: file, cachedData: readFileSync(`${file}.v8cache`) });
  assert.equal(script.cachedDataRejected, false, 'V8 rejected dist/bundle/berth.cjs.v8cache');
});

test('the launchers do not make node load NODE_EXTRA_CA_CERTS (about 50 ms per command here) but keep it for berth -d', () => {
  for (const bin of ['berth', 'fig', 'docker-compose']) {
    const first = readFileSync(path.join(repoRoot, 'bin', bin), 'utf8').split('\n')[0];
    assert.match(first, /^#!\/usr\/bin\/env -S -u NODE_EXTRA_CA_CERTS .*node$/, `bin/${bin}`);
  }
  const p = spawnSync(path.join(repoRoot, 'bin/berth'), ['--version'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/bcli-ca.pem' }, encoding: 'utf8' });
  // Node warns on stderr when it tries to load a missing NODE_EXTRA_CA_CERTS file.
  assert.equal(p.status, 0, p.stderr);
  assert.doesNotMatch(p.stderr, /bcli-ca\.pem/);
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

// One command per module of src/cli/commands, plus the lazily loaded groups.
const COMMANDS = [
  'attach', 'build', 'commit', 'cp', 'diff', 'exec', 'images', 'inspect', 'logs', 'ps', 'push', 'run', 'stats', 'info',
  'update', 'system df', 'system prune', 'volume ls', 'network ls', 'compose', 'registry',
];

test('every command module of the bundle loads: <command> --help through bin/berth', async () => {
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
