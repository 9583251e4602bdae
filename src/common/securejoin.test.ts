import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { secureJoin, secureJoinSync } from './securejoin.js';

test('symlinks resolve inside the root and never escape it', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'sj-'));
  try {
    await fs.mkdir(path.join(root, 'etc'));
    await fs.symlink('/etc', path.join(root, 'abs'));
    await fs.symlink('../../../../../../', path.join(root, 'climb'));
    await fs.symlink('etc', path.join(root, 'rel'));
    assert.equal(await secureJoin(root, '/abs/passwd'), path.join(root, 'etc/passwd'));
    assert.equal(await secureJoin(root, '/climb/etc/shadow'), path.join(root, 'etc/shadow'));
    assert.equal(await secureJoin(root, '../../x'), path.join(root, 'x'));
    assert.equal(await secureJoin(root, '/rel/./a/b'), path.join(root, 'etc/a/b'));
    for (const p of ['/abs/passwd', '/climb/etc/shadow', '../../x', '/rel/./a/b']) assert.equal(secureJoinSync(root, p), await secureJoin(root, p), p);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
