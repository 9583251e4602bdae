import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerHost, parsePluginArgs } from './plugin.js';

test('docker\'s global options before `compose` are split off; -H and --context are kept', () => {
  assert.deepEqual(parsePluginArgs(['compose', 'up', '-d']), { args: ['compose', 'up', '-d'] });
  assert.deepEqual(parsePluginArgs(['-H', 'unix:///x.sock', '--debug', 'compose', '-f', 'a.yml', 'ps']),
    { host: 'unix:///x.sock', args: ['compose', '-f', 'a.yml', 'ps'] });
  assert.deepEqual(parsePluginArgs(['--context=berth', '--log-level', 'debug', 'compose', 'ps']), { context: 'berth', args: ['compose', 'ps'] });
  assert.deepEqual(parsePluginArgs(['up', '-d']), { args: ['compose', 'up', '-d'] });
  assert.throws(() => parsePluginArgs(['-H']), /flag needs an argument: -H/);
});

test('the daemon is chosen as docker chooses it: -H, DOCKER_HOST, context, default socket', () => {
  const cfg = mkdtempSync(join(tmpdir(), 'bt-plugcfg-'));
  try {
    const meta = join(cfg, 'contexts', 'meta', createHash('sha256').update('berth').digest('hex'));
    mkdirSync(meta, { recursive: true });
    writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: 'berth', Endpoints: { docker: { Host: 'unix:///run/berth.sock' } } }));
    const env = { DOCKER_CONFIG: cfg };
    assert.equal(dockerHost({ host: 'tcp://1.2.3.4:2375', args: [] }, { ...env, DOCKER_HOST: 'unix:///b' }), 'tcp://1.2.3.4:2375');
    assert.equal(dockerHost({ args: [] }, { ...env, DOCKER_HOST: 'unix:///b' }), 'unix:///b');
    assert.equal(dockerHost({ args: [] }, env), 'unix:///var/run/docker.sock');
    assert.equal(dockerHost({ context: 'berth', args: [] }, env), 'unix:///run/berth.sock');
    assert.equal(dockerHost({ args: [] }, { ...env, DOCKER_CONTEXT: 'berth' }), 'unix:///run/berth.sock');
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ currentContext: 'berth' }));
    assert.equal(dockerHost({ args: [] }, env), 'unix:///run/berth.sock');
    assert.throws(() => dockerHost({ context: 'nope', args: [] }, env), /context "nope" does not exist/);
  } finally {
    rmSync(cfg, { recursive: true, force: true });
  }
});
