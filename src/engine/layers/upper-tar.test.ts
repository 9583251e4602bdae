import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { copyUpperTree, createTarOfEntries, extractTarStream } from './host-tools.js';
import { layerFromUpper } from './diff.js';
import { applyLayerStream } from './apply.js';
import { makeTar, tempRoot } from '../../../test/helpers/storage.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function entries(buf: Buffer): Promise<Map<string, { type: string; size: number; mode: number; pax?: Record<string, string>; body: string }>> {
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex);
  const out = new Map();
  for await (const e of ex) {
    const h: any = e.header;
    out.set(h.name, { type: h.type, size: h.size, mode: h.mode, pax: h.pax ?? undefined, body: (await collect(e as unknown as Readable)).toString() });
  }
  return out;
}

test('an upper dir becomes an OCI layer: whiteouts, opaque dirs, overlay xattrs, long names, skips', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const upper = path.join(root.dir, 'upper');
  await fs.mkdir(upper);
  const longDir = 'd'.repeat(90);
  const longName = 'n'.repeat(60);
  // GNU tar sets what Node cannot: device nodes and trusted.* xattrs, as overlayfs leaves them.
  await extractTarStream(Readable.from([await makeTar([
    { name: 'etc/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.origin': 'zz', 'SCHILY.xattr.user.keep': 'v1' } },
    { name: 'etc/gone', type: 'character-device', devmajor: 0, devminor: 0, mode: 0 },
    { name: 'etc/hosts', body: '' },
    { name: 'etc/tty', type: 'character-device', devmajor: 5, devminor: 0 },
    { name: 'opq/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } },
    { name: 'opq/kept', body: 'kept' },
    { name: `${longDir}/`, type: 'directory' },
    { name: `${longDir}/${longName}`, type: 'character-device', devmajor: 0, devminor: 0, mode: 0 },
    { name: 'big', body: Buffer.alloc(200_000, 7) },
    { name: 'hl', type: 'link', linkname: 'big' },
    { name: 'plumbing', body: '' },
  ])]), upper);
  const layer = layerFromUpper(upper, { skip: new Set(['etc/hosts']), keep: (name, size) => !(name === 'plumbing' && size === 0) });
  const bytes = await collect(layer);
  assert.ok(bytes.subarray(-1024).every((b) => b === 0) && bytes.length % 512 === 0, 'ends with the two zero blocks');
  const got = await entries(bytes);
  const names = [...got.keys()];
  assert.ok(names.every((n) => !n.startsWith('./') && n !== '' && n !== '/'), `no ./ prefix, no root: ${names.join(' ')}`);
  assert.equal(got.get('etc/.wh.gone')?.type, 'file');
  assert.equal(got.get('etc/.wh.gone')?.mode, 0o600);
  assert.equal(got.get(`${longDir}/.wh.${longName}`)?.type, 'file', 'long whiteout name carried by a pax path');
  assert.equal(got.get('etc/tty')?.type, 'character-device', 'real devices stay devices');
  assert.ok(!got.has('etc/gone') && !got.has('etc/hosts') && !got.has('plumbing'), 'skipped and refused entries are gone');
  assert.equal(got.get('opq/.wh..wh..opq')?.type, 'file');
  assert.ok(names.indexOf('opq/.wh..wh..opq') > names.indexOf('opq/'), 'marker follows its directory');
  assert.equal(got.get('opq/kept')?.body, 'kept');
  assert.equal(got.get('big')?.body, Buffer.alloc(200_000, 7).toString(), 'contents pass through untouched');
  const etcPax = got.get('etc/')?.pax ?? {};
  assert.equal(etcPax['SCHILY.xattr.user.keep'], 'v1', 'user xattrs stay');
  for (const e of got.values()) assert.ok(!Object.keys(e.pax ?? {}).some((k) => k.includes('trusted.overlay')), 'no overlay xattrs leak');
  // The scan it built is what applyLayerStream would have found.
  assert.deepEqual(layer.scan.whiteouts.sort(), [`${longDir}/${longName}`, 'etc/gone']);
  assert.deepEqual(layer.scan.opaqueDirs, ['opq']);
  assert.equal(layer.scan.size, 200_000 + 4 + 0);

  // Unpacked with that scan, the layer is overlay-shaped again.
  const out = path.join(root.dir, 'out');
  await fs.mkdir(out);
  const again = layerFromUpper(upper, { skip: new Set(['etc/hosts']) });
  await applyLayerStream(again, out, () => again.scan);
  const gone = await fs.lstat(path.join(out, 'etc/gone'));
  assert.ok(gone.isCharacterDevice() && gone.rdev === 0);
  await assert.rejects(fs.lstat(path.join(out, 'opq/.wh..wh..opq')), { code: 'ENOENT' });
  assert.equal((await fs.stat(path.join(out, 'hl'))).ino, (await fs.stat(path.join(out, 'big'))).ino, 'hardlink kept');
  // Copied tar-to-tar, the snapshot is the same tree: opaque kept, overlay bookkeeping and skips gone.
  const copied = path.join(root.dir, 'copied');
  await fs.mkdir(copied);
  await copyUpperTree(upper, copied, (await fs.readdir(upper)).sort(), ['etc/hosts']);
  const listing = async (d: string) => [...(await entries(await collect(layerFromUpper(d))))].map(([n, e]) => `${n} ${e.type} ${e.size}`).sort();
  assert.deepEqual(await listing(copied), await listing(out));
  const fromCopy = await entries(await collect(layerFromUpper(copied)));
  assert.ok(fromCopy.has('opq/.wh..wh..opq'), 'opaque xattr survives the copy');
  assert.equal(fromCopy.get('etc/')?.pax?.['SCHILY.xattr.user.keep'], 'v1');
  const raw = await collect(createTarOfEntries(copied, ['etc']).stream);
  assert.ok(!raw.includes('trusted.overlay.origin'), 'origin xattr left behind');
  const goneCopy = await fs.lstat(path.join(copied, 'etc/gone'));
  assert.ok(goneCopy.isCharacterDevice() && goneCopy.rdev === 0);
  await assert.rejects(fs.lstat(path.join(copied, 'etc/hosts')), { code: 'ENOENT' });
  await assert.rejects(copyUpperTree(upper, path.join(root.dir, 'nonexistent'), ['etc'], []), /tar --extract/);

  // Same upper dir, same bytes: commit digests are reproducible.
  assert.ok((await collect(layerFromUpper(upper, { skip: new Set(['etc/hosts']), keep: (n, s) => !(n === 'plumbing' && s === 0) }))).equals(bytes));
});

test('a missing upper dir fails the layer stream instead of ending it short', async () => {
  await assert.rejects(collect(layerFromUpper('/nonexistent-berth-upper')), /ENOENT/);
});
