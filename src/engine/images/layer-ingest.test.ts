import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { ImageService, chainIds } from './service.js';
import type { IncomingLayer, LayerSource } from './layer-ingest.js';
import { chunksOf } from '../content/store.js';
import { makeTar, sha256, tempRoot } from '../../../test/helpers/storage.js';

interface Layer { blob: Buffer; digest: string; diffId: string }

async function layer(files: Record<string, string>, gzip: boolean): Promise<Layer> {
  const plain = await makeTar(Object.entries(files).map(([name, body]) => ({ name, body })));
  const blob = gzip ? gzipSync(plain) : plain;
  return { blob, digest: sha256(blob), diffId: sha256(plain) };
}

/** The blob in small chunks (so a failure lands mid-stream), optionally corrupted or cut off with an error. */
function incoming(l: Layer, opts: { flipAt?: number; failAt?: number } = {}): IncomingLayer {
  async function* chunks() {
    const bytes = Buffer.from(l.blob);
    if (opts.flipAt !== undefined) bytes[opts.flipAt] ^= 0xff;
    for (let off = 0; off < bytes.length; off += 512) {
      if (opts.failAt !== undefined && off >= opts.failAt) throw new Error('connection reset by peer');
      yield bytes.subarray(off, off + 512);
      await new Promise((r) => setImmediate(r));
    }
  }
  return { body: chunksOf(Readable.from(chunks())), digest: l.digest, size: l.blob.length, diffId: l.diffId };
}

/** What is left in the data root: snapshot keys and blob digests. */
async function leftovers(svc: ImageService): Promise<{ snapshots: string[]; blobs: string[] }> {
  const blobs: string[] = [];
  for await (const b of svc.content.walk()) blobs.push(b.digest);
  return { snapshots: svc.snapshots.list().map((s) => s.key).sort(), blobs: blobs.sort() };
}

// Incompressible, so a gzip blob is large enough to fail in its middle.
const bigs = new Map<string, string>();
const big = (tag: string) => { if (!bigs.has(tag)) bigs.set(tag, randomBytes(40_000).toString('base64')); return bigs.get(tag)!; };

test('one-pass pull: layers stream into the store and their snapshots, side by side, chained in order', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const layers = [await layer({ 'a.txt': big('a') }, true), await layer({ 'b.txt': big('b') }, false), await layer({ 'c.txt': 'c' }, true)];
  const diffIds = layers.map((l) => l.diffId);
  const chain = chainIds(diffIds);
  const started: number[] = [];
  let startedAtFirstCommit: number[] | undefined;
  const prep = await svc.prepareLayers(diffIds, async (i) => { started.push(i); return incoming(layers[i]); }, (_i, phase) => {
    if (phase === 'done') startedAtFirstCommit ??= [...started];
  });
  // Every source was asked for before any layer committed: they run side by side.
  assert.deepEqual(startedAtFirstCommit, [0, 1, 2]);
  for (let i = 0; i < 3; i++) {
    assert.equal(svc.snapshots.stat(chain[i])?.kind, 'committed');
    assert.equal(svc.snapshots.stat(chain[i])?.parent, chain[i - 1], `layer ${i} sits on layer ${i - 1}`);
    assert.equal(await fs.readFile(path.join(svc.content.path(layers[i].digest))).then((b) => sha256(b)), layers[i].digest, 'blob stored as received');
  }
  assert.equal(await fs.readFile(path.join(svc.snapshots.dir(chain[0]), 'a.txt'), 'utf8'), big('a'));
  assert.equal(await fs.readFile(path.join(svc.snapshots.dir(chain[1]), 'b.txt'), 'utf8'), big('b'));
  assert.equal(svc.snapshots.stat(chain[1])?.size, big('b').length);
  const cfg = await svc.content.writeBuffer(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
  try {
    const img = await svc.createImage(cfg.digest, layers.map((l) => ({ digest: l.digest, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })), { names: [{ domain: 'docker.io', path: 'library/one', tag: 'v1' }] });
    assert.deepEqual(img.layers.map((l) => l.diffId), diffIds);
  } finally {
    prep.release();
  }
  assert.ok(!svc.snapshots.list().some((s) => s.key.startsWith('extract-')), 'no extraction snapshot left');
});

test('one-pass pull: a blob corrupted mid-stream or cut short leaves no snapshot and no blob', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const l = await layer({ 'a.txt': big('a') }, true);
  await assert.rejects(svc.prepareLayers([l.diffId], async () => incoming(l, { flipAt: Math.floor(l.blob.length / 2) })), /digest mismatch|invalid archive/);
  assert.deepEqual(await leftovers(svc), { snapshots: [], blobs: [] });
  await assert.rejects(svc.prepareLayers([l.diffId], async () => incoming(l, { failAt: Math.floor(l.blob.length / 2) })), /connection reset/);
  assert.deepEqual(await leftovers(svc), { snapshots: [], blobs: [] });
  const plain = await layer({ 'p.txt': big('p') }, false);
  // Uncompressed: the tar itself is corrupted, which only the store's digest check sees.
  await assert.rejects(svc.prepareLayers([plain.diffId], async () => incoming(plain, { flipAt: 600 })), /digest mismatch/);
  assert.deepEqual(await leftovers(svc), { snapshots: [], blobs: [] });
});

test('one-pass pull: a blob that matches its digest but not its diff ID is refused and removed', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const l = await layer({ 'a.txt': 'a' }, true);
  const other = await layer({ 'b.txt': 'b' }, false);
  await assert.rejects(svc.prepareLayers([other.diffId], async () => ({ ...incoming(l), diffId: other.diffId })), /does not match its diff ID/);
  assert.deepEqual(await leftovers(svc), { snapshots: [], blobs: [] });
  // A plain tar is its own diff ID; a zstd one's is taken on the host, after unpacking.
  await assert.rejects(svc.prepareLayers([l.diffId], async () => ({ ...incoming(other), diffId: l.diffId })), /does not match its diff ID/);
  assert.deepEqual(await leftovers(svc), { snapshots: [], blobs: [] });
  const plain = await makeTar([{ name: 'z.txt', body: 'zstd' }]);
  const z = spawnSync('zstd', ['-q', '-c'], { input: plain }).stdout;
  await assert.rejects(svc.prepareLayers([l.diffId], async () => incoming({ blob: z, digest: sha256(z), diffId: l.diffId })), /does not match its diff ID/);
  assert.deepEqual(await leftovers(svc), { snapshots: [], blobs: [] });
});

test('one-pass pull: after an interruption the verified blobs stay and a retry resumes from them', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const layers = [await layer({ 'a.txt': big('a') }, true), await layer({ 'b.txt': big('b') }, true)];
  const diffIds = layers.map((l) => l.diffId);
  await assert.rejects(svc.prepareLayers(diffIds, async (i) => incoming(layers[i], i === 1 ? { failAt: Math.floor(layers[1].blob.length / 2) } : {})), /connection reset/);
  assert.deepEqual((await leftovers(svc)).blobs, [layers[0].digest], 'the verified layer stays');
  assert.ok(!svc.snapshots.list().some((s) => s.key.startsWith('extract-')), 'no half extraction');
  const streamed: number[] = [];
  const source = async (i: number): Promise<LayerSource> => {
    if (await svc.content.has(layers[i].digest)) return layers[i].digest;
    streamed.push(i);
    return incoming(layers[i]);
  };
  const prep = await svc.prepareLayers(diffIds, source);
  prep.release();
  assert.deepEqual(streamed, [1], 'only the interrupted layer is fetched again');
  const chain = chainIds(diffIds);
  assert.equal(await fs.readFile(path.join(svc.snapshots.dir(chain[1]), 'b.txt'), 'utf8'), big('b'));
  assert.equal(svc.snapshots.stat(chain[1])?.parent, chain[0]);
});

test('one-pass pull: a hostile layer is refused and writes nothing outside its snapshot', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const outside = path.join(root.dir, 'outside');
  await fs.mkdir(outside);
  const hostile = [
    await makeTar([{ name: 'ok', body: 'fine' }, { name: '../escape', body: 'x' }]),
    await makeTar([{ name: 'link', type: 'symlink', linkname: outside }, { name: 'link/escape', body: 'x' }]),
    await makeTar([{ name: 'hl', type: 'link', linkname: '../../etc/hostname' }]),
  ];
  for (const plain of hostile) {
    const l = { blob: gzipSync(plain), digest: sha256(gzipSync(plain)), diffId: sha256(plain) };
    await assert.rejects(svc.prepareLayers([l.diffId], async () => incoming(l)), /escapes|outside|invalid|failed/);
    assert.deepEqual(await leftovers(svc), { snapshots: [], blobs: [] }, 'no snapshot, and the verified but unusable blob is gone');
  }
  assert.deepEqual(await fs.readdir(outside), []);
});

test('one-pass pull: whiteouts and opaque dirs of a streamed layer become overlay\'s, directory metadata kept', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const plain = await makeTar([
    { name: 'etc/', type: 'directory', mode: 0o711, uid: 5, mtime: new Date(1_600_000_000_000) },
    { name: 'etc/.wh.gone', body: '' },
    { name: 'opq/', type: 'directory', mode: 0o750, uid: 7 },
    { name: 'opq/.wh..wh..opq', body: '' },
    { name: 'opq/kept', body: 'k' },
    { name: '.wh.toplevel', body: '' },
  ]);
  for (const gzip of [true, false]) {
    const blob = gzip ? gzipSync(plain) : plain;
    const l = { blob, digest: sha256(blob), diffId: sha256(plain) };
    const prep = await svc.prepareLayers([l.diffId], async () => incoming(l));
    try {
      const dir = svc.snapshots.dir(chainIds([l.diffId])[0]);
      for (const w of ['etc/gone', 'toplevel']) {
        const st = await fs.lstat(path.join(dir, w));
        assert.ok(st.isCharacterDevice() && st.rdev === 0, `${w} is a 0/0 char device (gzip: ${gzip})`);
      }
      await assert.rejects(fs.lstat(path.join(dir, 'etc/.wh.gone')), { code: 'ENOENT' });
      await assert.rejects(fs.lstat(path.join(dir, 'opq/.wh..wh..opq')), { code: 'ENOENT' });
      const opq = await fs.stat(path.join(dir, 'opq'));
      assert.equal(opq.mode & 0o7777, 0o750);
      assert.equal(opq.uid, 7);
      const xattr = spawnSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', path.join(dir, 'opq')], { encoding: 'utf8' });
      assert.equal(xattr.stdout, 'y', 'opq is opaque');
      const etc = await fs.stat(path.join(dir, 'etc'));
      assert.equal(etc.mtime.getTime(), 1_600_000_000_000, 'mtime as in the archive, not touched by the fix-ups');
      assert.equal(etc.mode & 0o7777, 0o711);
      assert.equal(svc.snapshots.stat(chainIds([l.diffId])[0])?.size, 1, 'size counts file content');
    } finally {
      prep.release();
    }
    await svc.collectLayers();
    await svc.content.delete(l.digest);
  }
});
