import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { extractLayerFile } from './host-tools.js';
import { makeTar, sha256, tempRoot } from '../../../test/helpers/storage.js';

/** Pids of this process's unpack helper shells. */
function helpers(): number[] {
  const found: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('berth-unpack-helper')) found.push(Number(p));
    } catch { /* gone */ }
  }
  return found;
}

async function blobFile(dir: string, name: string, bytes: Buffer): Promise<fs.FileHandle> {
  const f = path.join(dir, name);
  await fs.writeFile(f, bytes);
  return fs.open(f, 'r');
}

test('extractLayerFile unpacks a gzip blob from an open fd in the helper shell, with or without the diff ID', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const plain = await makeTar([{ name: 'dir/a.txt', body: randomBytes(30_000).toString('hex') }, { name: 'b', body: 'b' }]);
  const fh = await blobFile(root.dir, 'blob', gzipSync(plain));
  t.after(() => fh.close());
  // The blob's name may go away while it unpacks: the helper reads the daemon's fd.
  await fs.rename(path.join(root.dir, 'blob'), path.join(root.dir, 'renamed'));
  for (const diffId of [true, false]) {
    const dest = path.join(root.dir, `out-${diffId}`);
    await fs.mkdir(dest);
    const r = await extractLayerFile(fh.fd, dest, 'gzip', { diffId });
    assert.equal(r.tarDigest, diffId ? sha256(plain) : undefined);
    for (const name of ['dir/a.txt', 'b']) assert.ok(r.members.some((m) => m.name === name), `tar listed ${name}`);
    assert.equal(await fs.readFile(path.join(dest, 'b'), 'utf8'), 'b');
  }
  assert.equal(helpers().length, 1, 'one helper serves every job');
});

test('extractLayerFile: broken blobs are refused, and a helper that died is replaced', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const good = gzipSync(await makeTar([{ name: 'ok', body: 'fine' }]));
  const cases: [string, Buffer, RegExp][] = [
    ['truncated', good.subarray(0, good.length - 10), /invalid archive: unpigz|invalid archive: gzip/],
    ['not-a-tar', gzipSync(Buffer.alloc(2048, 7)), /invalid tar archive/],
  ];
  for (const [name, bytes, why] of cases) {
    const fh = await blobFile(root.dir, name, bytes);
    const dest = path.join(root.dir, `out-${name}`);
    await fs.mkdir(dest);
    await assert.rejects(extractLayerFile(fh.fd, dest, 'gzip').finally(() => fh.close()), (e: any) => e.status === 400 && why.test(e.message));
  }
  // Kill the helper: the next job starts another.
  for (const pid of helpers()) process.kill(pid, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(helpers(), []);
  const fh = await blobFile(root.dir, 'good', good);
  const dest = path.join(root.dir, 'out-good');
  await fs.mkdir(dest);
  const r = await extractLayerFile(fh.fd, dest, 'gzip').finally(() => fh.close());
  assert.ok(r.tarDigest?.startsWith('sha256:'));
  assert.equal(await fs.readFile(path.join(dest, 'ok'), 'utf8'), 'fine');
  assert.equal(helpers().length, 1);
});
