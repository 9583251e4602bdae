import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, constants, createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { applyLayer } from './apply.js';
import { layerFromUpper, upperChanges } from './diff.js';
import { Snapshotter } from './overlay.js';
import { isMountPoint } from './host-tools.js';
import { makeTar, tempRoot, type TarEntry } from '../../../test/helpers/storage.js';

async function writeTar(dir: string, name: string, entries: TarEntry[]): Promise<string> {
  const p = path.join(dir, name);
  await fs.writeFile(p, await makeTar(entries));
  return p;
}

async function tarEntries(stream: Readable): Promise<Array<{ name: string; type: string; size: number; linkname?: string; pax?: any }>> {
  const ex = tar.extract();
  stream.pipe(ex);
  const out = [];
  for await (const e of ex) {
    const h: any = e.header;
    out.push({ name: h.name, type: h.type, size: h.size, linkname: h.linkname ?? undefined, pax: h.pax ?? undefined });
    e.resume();
  }
  return out;
}

test('OCI whiteouts become overlay whiteouts and back', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const layer = await writeTar(root.dir, 'l.tar', [
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.gone', body: '' },
    { name: 'opq/', type: 'directory', mode: 0o750, uid: 7 },
    { name: 'opq/.wh..wh..opq', body: '' },
    { name: 'opq/kept', body: 'k' },
    { name: '.wh.toplevel', body: '' },
  ]);
  const out = path.join(root.dir, 'out');
  await fs.mkdir(out);
  const scan = await applyLayer(layer, out);
  assert.deepEqual(scan.whiteouts.sort(), ['etc/gone', 'toplevel']);
  assert.deepEqual(scan.opaqueDirs, ['opq']);
  for (const w of ['etc/gone', 'toplevel']) {
    const st = await fs.lstat(path.join(out, w));
    assert.ok(st.isCharacterDevice(), `${w} is a char device`);
    assert.equal(st.rdev, 0, `${w} is 0/0`);
  }
  await assert.rejects(fs.lstat(path.join(out, 'etc/.wh.gone')), { code: 'ENOENT' });
  await assert.rejects(fs.lstat(path.join(out, 'opq/.wh..wh..opq')), { code: 'ENOENT' });
  const opq = await fs.stat(path.join(out, 'opq'));
  assert.equal(opq.mode & 0o7777, 0o750, 'directory metadata restored after fix-ups');
  assert.equal(opq.uid, 7);
  assert.equal(opq.mtime.getTime(), 1_700_000_000_000);

  const back = await tarEntries(layerFromUpper(out));
  const names = back.map((e) => e.name);
  assert.ok(names.includes('etc/.wh.gone'), names.join(' '));
  assert.ok(names.includes('.wh.toplevel'));
  assert.ok(names.includes('opq/.wh..wh..opq'));
  assert.ok(names.includes('opq/kept'));
  assert.ok(!names.includes('etc/gone'));
  assert.ok(back.every((e) => !Object.keys(e.pax ?? {}).some((k) => k.includes('trusted.overlay'))), 'no overlay xattrs leak');
});

test('overlay mount shows whiteouts and opaque dirs as deletions', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const sn = await Snapshotter.open(root.dir);
  const l1 = await writeTar(root.dir, 'l1.tar', [
    { name: 'a', body: 'a' }, { name: 'd/', type: 'directory' }, { name: 'd/x', body: 'x' }, { name: 'd/y', body: 'y' },
  ]);
  const l2 = await writeTar(root.dir, 'l2.tar', [
    { name: '.wh.a', body: '' }, { name: 'd/', type: 'directory' }, { name: 'd/.wh..wh..opq', body: '' }, { name: 'd/z', body: 'z' },
  ]);
  await sn.prepare('x1');
  await applyLayer(l1, sn.dir('x1'));
  await sn.commit('L1', 'x1');
  await sn.prepare('x2', 'L1');
  await applyLayer(l2, sn.dir('x2'));
  await sn.commit('L2', 'x2');
  await sn.prepare('c', 'L2');
  const m = sn.mounts('c');
  assert.equal(m.type, 'overlay');
  assert.ok(m.lowerdirs.every((l) => /^l\/[A-Z0-9]{26}$/.test(l)), 'short link names');
  const merged = await sn.mount('c');
  assert.equal(await sn.mount('c'), merged, 'mount is idempotent');
  assert.deepEqual((await fs.readdir(merged)).sort(), ['d']);
  assert.deepEqual(await fs.readdir(path.join(merged, 'd')), ['z']);
  await fs.writeFile(path.join(merged, 'new'), 'n');
  await fs.rm(path.join(merged, 'd', 'z'));
  const changes = await upperChanges(sn.dir('c'), sn.lowerDirs('c'));
  assert.deepEqual(changes, [{ Path: '/d', Kind: 0 }, { Path: '/d/z', Kind: 2 }, { Path: '/new', Kind: 1 }]);
  // What the kernel writes (its own whiteouts and opaque dirs) turns into an OCI layer that recreates the same view.
  await fs.rm(path.join(merged, 'd'), { recursive: true });
  await fs.mkdir(path.join(merged, 'd'));
  await fs.writeFile(path.join(merged, 'd', 'fresh'), 'f');
  const layer3 = path.join(root.dir, 'l3.tar');
  await pipeline(layerFromUpper(sn.dir('c')), createWriteStream(layer3));
  const l3names = (await tarEntries(createReadStream(layer3))).map((e) => e.name);
  assert.ok(l3names.includes('d/.wh..wh..opq'), l3names.join(' '));
  await sn.prepare('x3', 'L2');
  await applyLayer(layer3, sn.dir('x3'));
  await sn.commit('L3', 'x3');
  await sn.view('v3', 'L3');
  const v3 = await sn.mount('v3');
  assert.deepEqual((await fs.readdir(v3)).sort(), ['d', 'new']);
  assert.deepEqual(await fs.readdir(path.join(v3, 'd')), ['fresh']);
  await sn.remove('v3');
  await sn.remove('L3');
  // Read-only views: a single layer is a bind mount, a chain an upper-less overlay.
  await sn.view('v1', 'L1');
  await sn.view('v2', 'L2');
  assert.equal(sn.mounts('v1').type, 'bind');
  assert.equal(sn.mounts('v2').type, 'overlay');
  const v1 = await sn.mount('v1');
  const v2 = await sn.mount('v2');
  assert.deepEqual((await fs.readdir(v1)).sort(), ['a', 'd']);
  assert.deepEqual(await fs.readdir(path.join(v2, 'd')), ['z']);
  await assert.rejects(fs.writeFile(path.join(v1, 'nope'), 'x'), { code: 'EROFS' });
  await assert.rejects(fs.writeFile(path.join(v2, 'nope'), 'x'), { code: 'EROFS' });
  await sn.remove('v1');
  await sn.remove('v2');
  await assert.rejects(sn.prepare('c', 'L2'), /already exists/);
  await assert.rejects(sn.prepare('p', 'nothing'), /does not exist/);
  await assert.rejects(sn.remove('L2'), /parent of c/);
  await sn.remove('c');
  assert.equal(await isMountPoint(merged), false, 'remove unmounts');
  await sn.remove('L2');
  await sn.remove('L1');
  assert.deepEqual(await fs.readdir(path.join(root.dir, 'overlay', 'l')), []);
  assert.deepEqual(await fs.readdir(path.join(root.dir, 'overlay', 'snapshots')), []);
});

test('hostile layer tars are refused before anything is written', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const outside = path.join(root.dir, 'outside');
  await fs.mkdir(outside);
  const cases: Record<string, TarEntry[]> = {
    dotdot: [{ name: '../outside/pwned', body: 'x' }],
    nestedDotdot: [{ name: 'a/../../outside/pwned', body: 'x' }],
    symlinkEscape: [{ name: 'evil', type: 'symlink', linkname: outside }, { name: 'evil/pwned', body: 'x' }],
    relSymlinkEscape: [{ name: 'evil', type: 'symlink', linkname: '../outside' }, { name: 'evil/pwned', body: 'x' }],
    hardlinkEscape: [{ name: 'h', type: 'link', linkname: '../outside/secret' }],
    hardlinkAbsolute: [{ name: 'h', type: 'link', linkname: path.join(outside, 'secret') }],
    hardlinkThroughSymlink: [{ name: 's', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 's/secret' }],
  };
  await fs.writeFile(path.join(outside, 'secret'), 'secret');
  for (const [name, entries] of Object.entries(cases)) {
    const file = await writeTar(root.dir, `${name}.tar`, [{ name: 'ok', body: 'fine' }, ...entries]);
    const dest = path.join(root.dir, `dest-${name}`);
    await fs.mkdir(dest);
    await assert.rejects(applyLayer(file, dest), (e: any) => e.status === 400, name);
    assert.deepEqual(await fs.readdir(dest), [], `${name}: nothing extracted`);
  }
  assert.deepEqual(await fs.readdir(outside), ['secret'], 'nothing written outside');
  assert.equal(await fs.readFile(path.join(outside, 'secret'), 'utf8'), 'secret');
  // Absolute member names are taken relative to the root, as tar does.
  const abs = await writeTar(root.dir, 'abs.tar', [{ name: path.join(outside, 'abs'), body: 'x' }]);
  const dest = path.join(root.dir, 'dest-abs');
  await fs.mkdir(dest);
  await applyLayer(abs, dest);
  await fs.access(path.join(dest, outside.slice(1), 'abs'), constants.F_OK);
  assert.deepEqual(await fs.readdir(outside), ['secret']);
  // Garbage is a clear error, not a crash.
  await fs.writeFile(path.join(root.dir, 'junk.tar'), Buffer.alloc(2048, 7));
  await fs.mkdir(path.join(root.dir, 'dest-junk'));
  await assert.rejects(applyLayer(path.join(root.dir, 'junk.tar'), path.join(root.dir, 'dest-junk')), (e: any) => e.status === 400 && /invalid tar/.test(e.message));
});
