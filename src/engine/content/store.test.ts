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

test('content store: writers reusing buffers of earlier ones store exactly their own bytes', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const cs = await ContentStore.open(root.dir);
  const { randomBytes } = await import('node:crypto');
  // A large blob fills both buffers, a cut-short one gives them back mid-way, then smaller blobs reuse them.
  const big = randomBytes(3 << 20);
  await cs.write(Readable.from([big.subarray(0, 1 << 19), big.subarray(1 << 19)]));
  const aborted = cs.ingest({ size: 5 << 20 });
  await aborted.write(randomBytes((1 << 20) + 12345));
  await aborted.abort();
  const blobs = [randomBytes(1_500_000), randomBytes(700), randomBytes((1 << 20) * 2 + 1)];
  const infos = await Promise.all(blobs.map((b) => cs.write(Readable.from([b]), { digest: sha256(b), size: b.length })));
  for (const [i, b] of blobs.entries()) {
    assert.equal(infos[i].digest, sha256(b));
    assert.deepEqual(await cs.readBuffer(infos[i].digest), b);
  }
  assert.deepEqual(await cs.readBuffer(sha256(big)), big);
});

test('content store: ingest copies each chunk before write returns, so a reader may reuse its buffer', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const cs = await ContentStore.open(root.dir);
  const expected: Buffer[] = [];
  const reused = Buffer.alloc(300_000);
  const w = cs.ingest();
  let waited = 0;
  for (let i = 0; i < 20; i++) {
    reused.fill(i + 1);
    expected.push(Buffer.from(reused));
    const p = w.write(reused);
    reused.fill(0xee); // what the writer kept of the chunk would now be wrong
    if (p) { waited++; await p; }
  }
  const { digest, size } = await w.commit();
  const all = Buffer.concat(expected);
  assert.equal(size, all.length);
  assert.equal(digest, sha256(all));
  assert.ok((await cs.readBuffer(digest)).equals(all));
  assert.ok(waited > 0, 'with 6 MB written the writer asked the caller to wait at least once');
});

test('content store: verify checks a blob before commit, and open reads it whatever commit does to its name', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const cs = await ContentStore.open(root.dir);
  const bytes = Buffer.alloc(3 << 20, 'v');
  const w = cs.ingest({ digest: sha256(bytes), size: bytes.length });
  await assert.rejects(w.open(), /before verify/);
  await w.write(bytes);
  assert.deepEqual(await w.verify(), { digest: sha256(bytes), size: bytes.length });
  assert.equal(await cs.has(sha256(bytes)), false, 'not visible before commit');
  const fh = await w.open();
  try {
    const { created } = await w.commit();
    assert.equal(created, true);
    const back = Buffer.alloc(bytes.length);
    await fh.read(back, 0, back.length, 0);
    assert.ok(back.equals(bytes));
  } finally {
    await fh.close();
  }
  const bad = cs.ingest({ digest: sha256(Buffer.from('other')), size: 5 });
  await bad.write(Buffer.from('wrong'));
  await assert.rejects(bad.verify(), /digest mismatch/);
  await assert.rejects(bad.commit(), /digest mismatch/);
  await bad.abort();
  assert.deepEqual(await fs.readdir(path.join(root.dir, 'content', 'ingest')), [], 'no temp file left');
});
