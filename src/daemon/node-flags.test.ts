import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { daemonNodeFlags } from './node-flags.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('bin/berthd starts node with the daemon flags the test daemons use', () => {
  const shebang = readFileSync(path.join(repoRoot, 'bin/berthd'), 'utf8').split('\n')[0];
  assert.match(shebang, /^#!\/usr\/bin\/env -S node /);
  assert.deepEqual(shebang.replace('#!/usr/bin/env -S node', '').trim().split(/\s+/), [...daemonNodeFlags]);
});
