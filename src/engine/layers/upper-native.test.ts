import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { copyUpperTree, extractTarStream, sha256OfFileSynced, writeLayerTarOfEntries } from './host-tools.js';
import { copyUpperSnapshot, layerFromUpper, scanUpper } from './diff.js';
import { ContentStore } from '../content/store.js';
import { describeTree, makeTar, tempRoot, type TarEntry } from '../../../test/helpers/storage.js';

// The native commit path (tar to a file, cp -a for the snapshot) must give what
// the header-rewriting path gives: these tests hold the two side by side.

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Every member as tar-stream reads it: header fields, pax records and a body hash. */
async function members(buf: Buffer): Promise<string[]> {
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex);
  const out: string[] = [];
  for await (const e of ex) {
    const h: any = e.header;
    const body = await collect(e as unknown as Readable);
    const pax = Object.entries(h.pax ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
    out.push([h.name, h.type, h.size, h.mode.toString(8), h.uid, h.gid, h.mtime?.getTime(), h.linkname ?? '', h.devmajor, h.devminor, pax,
      createHash('sha256').update(body).digest('hex').slice(0, 12)].join(' '));
  }
  return out;
}

async function upperFrom(dir: string, entries: TarEntry[]): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  // GNU tar sets what Node cannot: device nodes, owners and trusted.* xattrs, as overlayfs leaves them.
  await extractTarStream(Readable.from([await makeTar(entries)]), dir);
  return dir;
}

// No whiteout, no opaque dir: overlay bookkeeping, user xattrs, owners, links, devices, long names, placeholders.
const plainUpper: TarEntry[] = [
  { name: 'etc/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.origin': 'zz', 'SCHILY.xattr.trusted.overlay.impure': 'y', 'SCHILY.xattr.user.keep': 'v1' } },
  { name: 'etc/hosts', body: '' },
  { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n', pax: { 'SCHILY.xattr.trusted.overlay.origin': 'abc' } },
  { name: 'etc/tty', type: 'character-device', devmajor: 5, devminor: 0 },
  { name: 'run/', type: 'directory' },
  { name: 'run/secrets/', type: 'directory' },
  { name: 'home/', type: 'directory', uid: 1000, gid: 1000, mode: 0o750 },
  { name: 'home/u/', type: 'directory', uid: 1000, gid: 1000 },
  { name: `home/u/${'n'.repeat(120)}`, body: 'long', uid: 1000, gid: 100, mode: 0o4755 },
  { name: 'home/u/link', type: 'symlink', linkname: '../../etc/passwd' },
  { name: 'big', body: Buffer.alloc(300_000, 7) },
  { name: 'hl', type: 'link', linkname: 'big' },
  { name: 'fifo', type: 'fifo' },
  { name: 'plumbing', body: '' },
  { name: 'sp ace\\back', body: 'odd name' },
];
const skip = new Set(['etc/hosts', 'run/secrets', 'run']);
const keep = (name: string, size: number) => !(name === 'plumbing' && size === 0);

test('without whiteouts or opaque dirs, tar alone writes the layer the header-rewriting path writes', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const upper = await upperFrom(path.join(root.dir, 'upper'), plainUpper);
  const scan = await scanUpper(upper, { skip, keep });
  assert.ok(scan, 'getfattr is installed (Debian package attr)');
  assert.equal(scan.needsRewrite, false);
  assert.deepEqual(scan.names, ['big', 'etc', 'fifo', 'hl', 'home', 'plumbing', 'run', 'sp ace\\back']);
  const bookkeeping = Object.fromEntries([...scan.bookkeeping].map(([k, v]) => [k, [...v].sort()]));
  assert.deepEqual(bookkeeping, { etc: ['trusted.overlay.impure', 'trusted.overlay.origin'], 'etc/passwd': ['trusted.overlay.origin'] }, 'overlay bookkeeping found');
  assert.ok(scan.skip.has('plumbing') && scan.skip.has('etc/hosts'), 'keep refusals join the skips');
  assert.equal(scan.size, 300_000 + 26 + 4 + 8, 'regular files once, hard link not twice, skipped ones out');

  const reference = await collect(layerFromUpper(upper, { skip, keep }));
  for (const bigRecords of [false, true]) {
    const file = path.join(root.dir, `layer-${bigRecords}.tar`);
    const digest = await writeLayerTarOfEntries(upper, scan.names, scan.skip, file, { bigRecords });
    const native = await fs.readFile(file);
    assert.equal(digest, 'sha256:' + createHash('sha256').update(native).digest('hex'), 'digest of the bytes written');
    assert.deepEqual(await members(native), await members(reference), `same members, headers, pax records and bodies (bigRecords ${bigRecords})`);
    assert.equal(native.length % (bigRecords ? 65536 : 10240), 0, 'padded to a whole record');
    assert.ok(native.subarray(-1024).every((b) => b === 0));
  }
  assert.ok(!(await fs.readFile(path.join(root.dir, 'layer-false.tar'))).includes('trusted.overlay'), 'no overlay xattr in the layer');

  // The snapshot copy is the tree the tar-to-tar copy gives.
  const viaCp = path.join(root.dir, 'cp');
  const viaTar = path.join(root.dir, 'tartar');
  await fs.mkdir(viaCp);
  await fs.mkdir(viaTar);
  await copyUpperSnapshot(upper, viaCp, scan);
  await copyUpperTree(upper, viaTar, scan.names, scan.skip);
  assert.deepEqual(await describeTree(viaCp), await describeTree(viaTar));
  assert.equal((await fs.stat(path.join(viaCp, 'hl'))).ino, (await fs.stat(path.join(viaCp, 'big'))).ino, 'hard link kept');
  assert.equal((await fs.lstat(path.join(viaCp, 'etc'))).mtimeMs, 1_700_000_000_000, 'etc keeps its time after etc/hosts went');
  await assert.rejects(fs.lstat(path.join(viaCp, 'run')), { code: 'ENOENT' });
});

test('whiteouts or an opaque dir send the layer through the header rewriting; the copy keeps them overlay-shaped', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  for (const [name, extra] of [
    ['whiteout', { name: 'etc/gone', type: 'character-device', devmajor: 0, devminor: 0, mode: 0 }],
    ['opaque', { name: 'opq/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y' } }],
  ] as Array<[string, TarEntry]>) {
    const upper = await upperFrom(path.join(root.dir, name), [...plainUpper, extra]);
    const scan = await scanUpper(upper, { skip });
    assert.ok(scan);
    assert.equal(scan.needsRewrite, true, name);
    assert.ok(![...scan.bookkeeping.values()].flat().includes('trusted.overlay.opaque'), 'opaque is content, not bookkeeping');
    const viaCp = path.join(root.dir, `${name}-cp`);
    const viaTar = path.join(root.dir, `${name}-tar`);
    await fs.mkdir(viaCp);
    await fs.mkdir(viaTar);
    await copyUpperSnapshot(upper, viaCp, scan);
    await copyUpperTree(upper, viaTar, scan.names, scan.skip);
    assert.deepEqual(await describeTree(viaCp), await describeTree(viaTar), name);
  }
  const gone = await fs.lstat(path.join(root.dir, 'whiteout-cp', 'etc/gone'));
  assert.ok(gone.isCharacterDevice() && gone.rdev === 0, 'whiteout device copied');
  const opq = await collect(layerFromUpper(path.join(root.dir, 'opaque-cp')));
  assert.ok((await members(opq)).some((m) => m.startsWith('opq/.wh..wh..opq ')), 'opaque xattr copied');
});

test('a skipped path or a socket below a directory is cut from the copy; a missing upper dir fails the scan', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const upper = await upperFrom(path.join(root.dir, 'upper'), [
    { name: 'data/', type: 'directory' },
    { name: 'data/mnt/', type: 'directory' },
    { name: 'data/real', body: 'x' },
  ]);
  // A socket someone left behind: tar ignores sockets, so the copy must not keep one either.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path.join(upper, 'data', 'sock'), resolve));
  t.after(() => server.close());
  const scan = (await scanUpper(upper, { skip: new Set(['data/mnt']) }))!;
  assert.ok(scan.skip.has('data/sock'));
  const dst = path.join(root.dir, 'dst');
  await fs.mkdir(dst);
  await copyUpperSnapshot(upper, dst, scan);
  assert.deepEqual(await fs.readdir(path.join(dst, 'data')), ['real']);
  const drift = (await fs.lstat(path.join(dst, 'data'))).mtimeMs - (await fs.lstat(path.join(upper, 'data'))).mtimeMs;
  assert.ok(Math.abs(drift) < 1, `data keeps its time (off by ${drift} ms)`);
  await assert.rejects(scanUpper(path.join(root.dir, 'nope')), { code: 'ENOENT' });
});

test('writeFile stores what the tool wrote under the digest of the file, and leaves nothing when the tool fails', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const cs = await ContentStore.open(root.dir);
  const body = Buffer.from('layer bytes '.repeat(1000));
  const write = async (tmp: string, data: Buffer | string) => { await fs.writeFile(tmp, data); return sha256OfFileSynced(tmp); };
  const blob = await cs.writeFile((tmp) => write(tmp, body));
  assert.equal(blob.digest, 'sha256:' + createHash('sha256').update(body).digest('hex'));
  assert.equal(blob.size, body.length);
  assert.ok(blob.created);
  assert.ok((await cs.readBuffer(blob.digest)).equals(body));
  assert.equal((await cs.writeFile((tmp) => write(tmp, body))).created, false, 'same bytes again: not created');
  await assert.rejects(cs.writeFile(async () => { throw new Error('tar died'); }), /tar died/);
  await assert.rejects(cs.writeFile(async (tmp) => { await fs.writeFile(tmp, 'x'); return 'sha256:nothex'; }), /invalid digest/);
  await assert.rejects(sha256OfFileSynced(path.join(root.dir, 'missing')), /openssl dgst/);
  await assert.rejects(writeLayerTarOfEntries(path.join(root.dir, 'missing'), ['a'], [], path.join(root.dir, 'out.tar')), /tar --create/);
  assert.deepEqual(await fs.readdir(path.join(root.dir, 'content', 'ingest')), [], 'no temp file left');
  const all = [];
  for await (const b of cs.walk()) all.push(b.digest);
  assert.deepEqual(all, [blob.digest]);
});
