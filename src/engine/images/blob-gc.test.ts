import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { ImageService } from './service.js';
import { chunksOf } from '../content/store.js';
import { importRootfs } from './import.js';
import { makeTar, sha256, tempRoot } from '../../../test/helpers/storage.js';

async function blobs(svc: ImageService): Promise<string[]> {
  const out: string[] = [];
  for await (const b of svc.content.walk()) out.push(b.digest);
  return out.sort();
}

test('blobs a failed pull left: kept for a retry, held while a pull runs, removed by prune once past their grace', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  // An image whose blobs are referenced: prune must never take those.
  const img = await importRootfs(svc, Readable.from([await makeTar([{ name: 'keep', body: 'k' }])]), { repoTag: 'keep:1' });
  const kept = await blobs(svc);
  assert.ok(kept.includes(img.id) && kept.includes(img.layers[0].digest));

  // A failed pull: its first layer verified and stored, its second cut off.
  const plain = [await makeTar([{ name: 'a', body: randomBytes(30_000).toString('hex') }]), await makeTar([{ name: 'b', body: randomBytes(30_000).toString('hex') }])];
  const gz = plain.map((p) => gzipSync(p));
  const stream = (i: number, cut: boolean) => Readable.from((async function* () {
    yield gz[i].subarray(0, gz[i].length >> 1);
    if (cut) throw new Error('connection reset by peer');
    yield gz[i].subarray(gz[i].length >> 1);
  })());
  await assert.rejects(svc.prepareLayers(plain.map(sha256), async (i) => ({ body: chunksOf(stream(i, i === 1)), digest: sha256(gz[i]), size: gz[i].length, diffId: sha256(plain[i]) })), /connection reset/);
  const orphan = sha256(gz[0]);
  assert.deepEqual(await blobs(svc), [...kept, orphan].sort());

  // Within the grace a prune keeps it, so a retry resumes from it.
  let r = await svc.prune();
  assert.deepEqual(await blobs(svc), [...kept, orphan].sort(), 'fresh orphan kept');
  assert.equal(r.SpaceReclaimed, 0);

  // A pull in progress holding it: kept even past the grace.
  const release = svc.leases.hold([orphan]);
  await svc.prune({ blobGraceMs: 0 });
  assert.ok((await blobs(svc)).includes(orphan), 'held blob kept');
  release();

  // Past the grace (stored two hours ago) and held by nobody: gone, and counted.
  const old = new Date(Date.now() - 2 * 3600_000);
  await fs.utimes(svc.content.path(orphan), old, old);
  for (const d of kept) await fs.utimes(svc.content.path(d), old, old);
  r = await svc.prune();
  assert.deepEqual(await blobs(svc), kept, 'orphan removed, referenced blobs stay');
  assert.equal(r.SpaceReclaimed, gz[0].length);
  assert.equal(svc.resolve('keep:1').id, img.id);
});
