import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SPECS } from './catalog.js';
import { commandWords } from './index.js';

test('catalog descriptions match the specs they load', async () => {
  for (const [key, ref] of Object.entries(SPECS)) {
    const spec = await ref.load();
    assert.ok(spec, `${key} loads a spec`);
    assert.equal(ref.description, spec.description, `description of ${key}`);
  }
});

test('every command spec a command module exports is in the catalog', async () => {
  const loaded = new Set(await Promise.all(Object.values(SPECS).map((r) => r.load())));
  for (const file of ['run', 'lifecycle', 'ps', 'logs', 'exec', 'inspect', 'images', 'system', 'pull-commit', 'build', 'system-prune', 'volume-network', 'cp', 'diff', 'system-df', 'stats', 'update', 'push-login']) {
    const mod = await import(`./${file}.js`);
    for (const [name, value] of Object.entries(mod)) {
      const specs = Array.isArray(value) ? value : [value];
      for (const s of specs) if (s && typeof s === 'object' && 'action' in s) assert.ok(loaded.has(s), `${file}.${name} (${s.name}) is missing from the catalog`);
    }
  }
});

test('commandWords finds the command past global options and their values', () => {
  assert.deepEqual(commandWords(['-H', 'unix:///x.sock', 'run', '--rm', 'busybox', 'true']), ['run']);
  assert.deepEqual(commandWords(['--log-level', 'debug', 'container', 'ls', '-a']), ['container', 'ls']);
  assert.deepEqual(commandWords(['-D', 'image', 'rm', 'x']), ['image', 'rm']);
  assert.deepEqual(commandWords(['--host=unix:///x.sock', 'ps']), ['ps']);
  assert.deepEqual(commandWords(['--version']), []);
});
