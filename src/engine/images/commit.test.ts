import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ImageService } from './service.js';
import { ensureBuiltinImages } from './builtin.js';
import { ContainerRootfs } from './rootfs.js';
import { applyLayer } from '../layers/apply.js';
import { describeTree, tempRoot } from '../../../test/helpers/storage.js';

const hasBusybox = await fs.access('/bin/busybox').then(() => true, () => false);

/** describeTree, where a whiteout's own mode and time (meaningless to overlay) are left out. */
async function tree(dir: string): Promise<string[]> {
  return (await describeTree(dir)).map((l) => {
    const [name, type, , , , , , major, minor] = l.split(' ');
    return type === 'character-device' && major === '0' && minor === '0' ? `${name} whiteout` : l;
  });
}

async function blobs(svc: ImageService): Promise<string[]> {
  const out: string[] = [];
  for await (const b of svc.content.walk()) out.push(b.digest);
  return out.sort();
}

test('commit stores a layer whose digest is its bytes and whose snapshot is what unpacking it gives (tar-only and rewriting paths)', { skip: !hasBusybox && 'busybox-static not installed' }, async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const base = (await ensureBuiltinImages(svc))!;
  const rootfs = new ContainerRootfs(svc);
  await rootfs.createContainerLayer('c1', base.id);
  const merged = await rootfs.mountContainer('c1');
  // Plain additions and a change below an image directory (copied up: overlay bookkeeping xattrs).
  await fs.writeFile(path.join(merged, 'big'), randomBytes(3 << 20));
  await fs.link(path.join(merged, 'big'), path.join(merged, 'big-link'));
  await fs.appendFile(path.join(merged, 'etc/passwd'), 'u:x:1000:1000::/home/u:/bin/sh\n');
  await fs.writeFile(path.join(merged, 'etc/hosts'), '');
  const plain = await rootfs.commitContainer('c1', { imageId: base.id, repoTag: 'plain:1', mountTargets: ['/etc/hosts'] });
  // Then a deletion and an opaque dir: the layer needs whiteouts.
  await rootfs.createContainerLayer('c2', plain.id);
  const merged2 = await rootfs.mountContainer('c2');
  await fs.rm(path.join(merged2, 'big'));
  await fs.rm(path.join(merged2, 'etc'), { recursive: true });
  await fs.mkdir(path.join(merged2, 'etc'));
  await fs.writeFile(path.join(merged2, 'etc/only'), 'x');
  const rewritten = await rootfs.commitContainer('c2', { imageId: plain.id, repoTag: 'rewritten:1' });
  // Nothing changed (only a placeholder the runtime made): an empty layer, still a valid tar.
  await rootfs.createContainerLayer('c3', base.id);
  await fs.writeFile(path.join(svc.snapshots.dir('container-c3'), '.dockerenv'), '');
  const unchanged = await rootfs.commitContainer('c3', { imageId: base.id, mountTargets: ['/.dockerenv'] });
  assert.equal(execFileSync('tar', ['-tf', svc.content.path(unchanged.layers.at(-1)!.digest)]).toString(), '');
  assert.deepEqual(await fs.readdir(svc.snapshots.dir(svc.chainIdsOf(unchanged).at(-1)!)), []);
  await rootfs.unmountContainer('c1');
  await rootfs.unmountContainer('c2');

  for (const img of [plain, rewritten]) {
    const top = img.layers.at(-1)!;
    const file = svc.content.path(top.digest);
    const bytes = await fs.readFile(file);
    assert.equal(top.digest, 'sha256:' + createHash('sha256').update(bytes).digest('hex'), 'blob named by its bytes');
    assert.equal(top.diffId, top.digest, 'uncompressed: digest = diff ID');
    const fresh = path.join(root.dir, `unpacked-${img.id.slice(7, 15)}`);
    await fs.mkdir(fresh);
    await applyLayer(file, fresh, top.diffId);
    const snap = svc.snapshots.dir(svc.chainIdsOf(img).at(-1)!);
    assert.deepEqual(await tree(snap), await tree(fresh), 'snapshot = the blob unpacked');
  }
  const plainTop = await fs.readFile(svc.content.path(plain.layers.at(-1)!.digest));
  assert.ok(!plainTop.includes('trusted.overlay'), 'no overlay bookkeeping in the layer');
  assert.ok(!plainTop.includes('etc/hosts'), 'runtime placeholder left out');
  const listed = execFileSync('tar', ['-tf', svc.content.path(rewritten.layers.at(-1)!.digest)]).toString().split('\n');
  assert.ok(listed.includes('.wh.big') && listed.includes('etc/.wh..wh..opq'), listed.join(' '));
  assert.equal(plain.layers.at(-1)!.unpackedSize, (3 << 20) + (await fs.stat(path.join(svc.snapshots.dir(svc.chainIdsOf(plain).at(-1)!), 'etc/passwd'))).size);
});

test('a commit whose snapshot copy fails leaves no blob, snapshot or image behind', { skip: !hasBusybox && 'busybox-static not installed' }, async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  // Snapshots on a small tmpfs, blobs on the real disk: the copy runs out of space, the blob does not.
  const snaps = path.join(root.dir, 'overlay', 'snapshots');
  await fs.mkdir(snaps, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'berth-commit-test', snaps]);
  const svc = await ImageService.open(root.dir);
  const base = (await ensureBuiltinImages(svc))!;
  const rootfs = new ContainerRootfs(svc);
  await rootfs.createContainerLayer('c1', base.id);
  const upper = svc.snapshots.dir('container-c1');
  const before = { blobs: await blobs(svc), snaps: svc.snapshots.list().map((s) => s.key).sort(), images: svc.all().length };
  // The upper dir is on the tmpfs too: 8 MiB fit once (next to busybox), not twice.
  await fs.writeFile(path.join(upper, 'big'), randomBytes(8 << 20));
  await assert.rejects(rootfs.commitContainer('c1', { imageId: base.id, repoTag: 'full:1' }), /No space left|ENOSPC/);
  assert.deepEqual(await blobs(svc), before.blobs, 'the blob written before the copy failed is gone');
  assert.deepEqual(svc.snapshots.list().map((s) => s.key).sort(), before.snaps, 'no half-made snapshot');
  assert.equal(svc.all().length, before.images);
  assert.deepEqual(await fs.readdir(path.join(root.dir, 'content', 'ingest')), []);
  // A commit that fits still works afterwards.
  await fs.rm(path.join(upper, 'big'));
  await fs.writeFile(path.join(upper, 'small'), 'ok');
  const img = await rootfs.commitContainer('c1', { imageId: base.id, repoTag: 'fits:1' });
  assert.equal(await fs.readFile(path.join(svc.snapshots.dir(svc.chainIdsOf(img).at(-1)!), 'small'), 'utf8'), 'ok');
});

test('without getfattr (Debian attr missing) commit falls back to the header-rewriting stream and tar-to-tar copy, with the same result', { skip: !hasBusybox && 'busybox-static not installed' }, async (t) => {
  const root = await tempRoot();
  const savedPath = process.env.PATH;
  t.after(async () => { process.env.PATH = savedPath; await root.cleanup(); });
  const svc = await ImageService.open(path.join(root.dir, 'data'));
  const base = (await ensureBuiltinImages(svc))!;
  const rootfs = new ContainerRootfs(svc);
  await rootfs.createContainerLayer('c1', base.id);
  const merged = await rootfs.mountContainer('c1');
  await fs.writeFile(path.join(merged, 'new'), 'fresh');
  await fs.appendFile(path.join(merged, 'etc/passwd'), 'u:x:1000:1000::/home/u:/bin/sh\n');
  await fs.rm(path.join(merged, 'etc/group'));
  await rootfs.unmountContainer('c1');
  // Every tool commit may run, but getfattr.
  const bin = path.join(root.dir, 'bin');
  await fs.mkdir(bin);
  for (const tool of ['tar', 'cp', 'sh', 'openssl', 'sync', 'mount', 'umount', 'setfattr']) await fs.symlink(execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim(), path.join(bin, tool));
  process.env.PATH = bin;
  const img = await rootfs.commitContainer('c1', { imageId: base.id });
  process.env.PATH = savedPath;
  const top = img.layers.at(-1)!;
  const bytes = await fs.readFile(svc.content.path(top.digest));
  assert.equal(top.digest, 'sha256:' + createHash('sha256').update(bytes).digest('hex'));
  const chunks: Buffer[] = [];
  for await (const c of rootfs.containerDiff('c1')) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(bytes), 'the blob is the JS filter\'s stream, byte for byte');
  const fresh = path.join(root.dir, 'fresh');
  await fs.mkdir(fresh);
  await applyLayer(svc.content.path(top.digest), fresh, top.diffId);
  assert.deepEqual(await tree(svc.snapshots.dir(svc.chainIdsOf(img).at(-1)!)), await tree(fresh));
  assert.ok(!bytes.includes('trusted.overlay'));
});
