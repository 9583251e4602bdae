import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore } from './store.js';
import { sha256, tempRoot } from '../../../test/helpers/storage.js';

test('content store: write, info, read, walk, delete', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const cs = await ContentStore.open(root.dir);
  const data = Buffer.from('hello layers');
  const info = await cs.write(Readable.from([data.subarray(0, 5), data.subarray(5)]));
  assert.equal(info.digest, sha256(data));
  assert.equal(info.size, data.length);
  assert.equal(info.created, true);
  assert.equal((await cs.write(Readable.from([data]))).created, false, 'second write of same bytes is not new');
  assert.deepEqual(await cs.info(info.digest), { digest: info.digest, size: data.length });
  let read = Buffer.alloc(0);
  for await (const c of await cs.read(info.digest)) read = Buffer.concat([read, c]);
  assert.deepEqual(read, data);
  const all = [];
  for await (const b of cs.walk()) all.push(b.digest);
  assert.deepEqual(all, [info.digest]);
  await cs.delete(info.digest);
  await assert.rejects(cs.info(info.digest), /not found/);
  await cs.delete(info.digest); // idempotent
});

test('content store: a blob with the wrong digest or size never becomes visible', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const cs = await ContentStore.open(root.dir);
  const data = Buffer.from('payload');
  const wrong = sha256(Buffer.from('something else'));
  await assert.rejects(cs.write(Readable.from([data]), { digest: wrong }), (e: any) => e.status === 400 && /digest mismatch/.test(e.message));
  await assert.rejects(cs.write(Readable.from([data]), { size: 3 }), /larger than the expected/);
  await assert.rejects(cs.write(Readable.from([data]), { digest: sha256(data), size: 99 }), /size mismatch/);
  assert.equal(await cs.has(wrong), false);
  assert.equal(await cs.has(sha256(data)), false);
  assert.deepEqual(await fs.readdir(path.join(root.dir, 'content', 'ingest')), [], 'no temp files left');
  await assert.rejects(cs.info('sha256:nothex'), /invalid digest/);
  assert.equal((await cs.write(Readable.from([data]), { digest: sha256(data), size: data.length })).digest, sha256(data));
});
