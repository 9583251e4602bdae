import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Snapshotter } from './overlay.js';
import { tempRoot } from '../../../test/helpers/storage.js';

// Only a power loss tells an fsynced record from one that was not; what can be
// checked is that skipping the fsync loses nothing a restarted daemon reads,
// and that sync() writes the same records.
test('snapshots saved without fsync survive a daemon restart, and sync() keeps them', async (t) => {
  const root = await tempRoot('berth-sn-test-');
  t.after(() => root.cleanup());
  const sn = await Snapshotter.open(root.dir);
  await sn.prepare('extract-a', undefined, { durable: false });
  await fs.writeFile(path.join(sn.dir('extract-a'), 'a'), 'A');
  await sn.commit('chain-a', 'extract-a', 1, undefined, { durable: false });
  await sn.prepare('extract-b', undefined, { durable: false });
  await sn.commit('chain-b', 'extract-b', 0, 'chain-a', { durable: false });
  const record = path.join(root.dir, 'overlay', 'snapshots.json');
  const before = await fs.readFile(record, 'utf8');
  await sn.sync();
  assert.equal(await fs.readFile(record, 'utf8'), before);

  const again = await Snapshotter.open(root.dir);
  assert.deepEqual(again.list().map((s) => [s.key, s.kind, s.parent]).sort(), [['chain-a', 'committed', undefined], ['chain-b', 'committed', 'chain-a']]);
  assert.equal(await fs.readFile(path.join(again.dir('chain-a'), 'a'), 'utf8'), 'A');
  assert.deepEqual(again.lowerDirs('chain-b'), [again.dir('chain-a')]);
});

test('an extraction directory with no record is removed when the snapshotter opens', async (t) => {
  const root = await tempRoot('berth-sn-test-');
  t.after(() => root.cleanup());
  const sn = await Snapshotter.open(root.dir);
  await sn.prepare('kept', undefined, { durable: false });
  // What a power loss leaves when the record of a prepare never reached the disk.
  const orphan = path.join(root.dir, 'overlay', 'snapshots', 'f'.repeat(32));
  await fs.mkdir(path.join(orphan, 'fs'), { recursive: true });
  await fs.writeFile(path.join(orphan, 'fs', 'half'), 'x');
  const again = await Snapshotter.open(root.dir);
  await assert.rejects(fs.stat(orphan), { code: 'ENOENT' });
  assert.ok(again.stat('kept'));
  await fs.stat(again.dir('kept'));
});
