import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as tar from 'tar-stream';
import { ImageService } from './service.js';
import { importRootfs } from './import.js';
import { busyboxRootfs, ensureBuiltinImages } from './builtin.js';
import { imageHistory, inspectImage, listImages } from './views.js';
import { ContainerRootfs } from './rootfs.js';
import { makeTar, tempRoot } from '../../../test/helpers/storage.js';

const rootfs = () => makeTar([{ name: 'bin/', type: 'directory' }, { name: 'bin/hello', body: 'hi', mode: 0o755 }]);

test('import: plain and gzip tars, changes, tag, message', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const plain = await rootfs();
  const img = await importRootfs(svc, Readable.from([gzipSync(plain)]), {
    repoTag: 'me/app:1',
    changes: ['CMD ["/bin/hello", "x"]', 'ENV A=1 B="two words"', 'ENV C 3', 'WORKDIR /bin', 'USER nobody', 'EXPOSE 80 53/udp',
      'LABEL a=b "c d"=e', 'VOLUME /data', 'STOPSIGNAL SIGINT', 'ENTRYPOINT /bin/sh'],
  });
  const info = inspectImage(svc, 'me/app:1') as any;
  assert.equal(info.Id, img.id);
  assert.deepEqual(info.RepoTags, ['me/app:1']);
  assert.deepEqual(info.RootFS, { Type: 'layers', Layers: ['sha256:' + createHash('sha256').update(plain).digest('hex')] }, 'layer stored uncompressed: digest = diff ID');
  assert.deepEqual(info.Config.Cmd, ['/bin/hello', 'x']);
  assert.deepEqual(info.Config.Entrypoint, ['/bin/sh', '-c', '/bin/sh']);
  assert.deepEqual(info.Config.Env, ['A=1', 'B=two words', 'C=3']);
  assert.equal(info.Config.WorkingDir, '/bin');
  assert.equal(info.Config.User, 'nobody');
  assert.deepEqual(info.Config.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(info.Config.Labels, { a: 'b', 'c d': 'e' });
  assert.deepEqual(info.Config.Volumes, { '/data': {} });
  assert.equal(info.Config.StopSignal, 'SIGINT');
  assert.equal(info.Comment, 'Imported from -');
  assert.equal(info.Size, 2);
  assert.equal(imageHistory(svc, 'me/app:1')[0].Comment, 'Imported from -');
  const xz = execFileSync('xz', ['--stdout'], { input: plain });
  assert.equal((await importRootfs(svc, Readable.from([xz]), { message: 'xz' })).layers[0].diffId, info.RootFS.Layers[0], 'xz import');
  // Plain tar gives the same layer, so the same chain is reused, not unpacked twice.
  const again = await importRootfs(svc, Readable.from([plain]), { message: 'second' });
  assert.equal(svc.snapshots.list().length, 1);
  assert.notEqual(again.id, img.id);
  assert.deepEqual(listImages(svc).map((i) => i.RepoTags).sort((x, y) => y.length - x.length), [['me/app:1'], [], []]);
  assert.equal(listImages(svc, { filters: { dangling: ['true'] } }).length, 2);
  assert.equal(listImages(svc, { filters: { reference: ['me/*'] } })[0].Id, img.id);
  assert.equal(listImages(svc, { filters: { label: ['a=b'] } }).length, 1);
  assert.throws(() => listImages(svc, { filters: { bogus: ['1'] } }), /invalid filter 'bogus'/);
});

test('import refuses bad input and leaves nothing behind', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const blobs = () => fs.readdir(path.join(root.dir, 'content', 'sha256'));
  await assert.rejects(importRootfs(svc, Readable.from([await rootfs()]), { changes: ['FROM busybox'] }), /FROM is not a valid change command/);
  await assert.rejects(importRootfs(svc, Readable.from([await rootfs()]), { repoTag: 'Bad:Name' }), /must be lowercase/);
  await assert.rejects(importRootfs(svc, Readable.from([Buffer.from('this is not a tar at all, just some words'.repeat(40))])), (e: any) => e.status === 400);
  await assert.rejects(importRootfs(svc, Readable.from([gzipSync(await rootfs()).subarray(0, 40)])), (e: any) => e.status === 400);
  await assert.rejects(importRootfs(svc, Readable.from([await makeTar([{ name: '../../x', body: 'x' }])])), /escapes the extraction root/);
  assert.deepEqual(svc.all(), []);
  assert.deepEqual(await blobs(), []);
  assert.deepEqual(svc.snapshots.list(), []);
});

test('resolve accepts names, tags, IDs and prefixes; tag and rmi behave as docker', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const img = await importRootfs(svc, Readable.from([await rootfs()]), { repoTag: 'app' });
  const hex = img.id.slice(7);
  for (const ref of ['app', 'app:latest', 'docker.io/library/app:latest', img.id, hex, hex.slice(0, 12), `sha256:${hex.slice(0, 8)}`]) {
    assert.equal(svc.resolve(ref).id, img.id, ref);
  }
  assert.throws(() => svc.resolve('nope'), (e: any) => e.status === 404 && e.message === 'No such image: nope:latest');
  assert.throws(() => svc.resolve('app:v2'), /No such image: app:v2/);
  await svc.tag('app', { domain: 'localhost:5000', path: 'x/app', tag: 'v2' });
  await svc.tag(hex.slice(0, 6), { domain: 'docker.io', path: 'library/other', tag: 'latest' });
  assert.deepEqual(svc.repoTags(img.id), ['localhost:5000/x/app:v2', 'app:latest', 'other:latest'].sort());

  // A container using it: untag is fine while other names remain; the last name and ID deletes are refused.
  let users = [{ id: 'c0ffee0000001234abcd', running: false }];
  svc.setContainerLookup(() => users);
  assert.deepEqual(await svc.remove('other', {}), [{ Untagged: 'other:latest' }]);
  await assert.rejects(svc.remove(hex, {}), (e: any) => e.status === 409 && /unable to delete [0-9a-f]{12} \(must be forced\) - image is referenced in multiple repositories/.test(e.message));
  assert.deepEqual(await svc.remove('localhost:5000/x/app:v2', {}), [{ Untagged: 'localhost:5000/x/app:v2' }]);
  await assert.rejects(svc.remove('app', {}), /unable to remove repository reference "app" \(must force\) - container c0ffee000000 is using its referenced image/);
  await assert.rejects(svc.remove(hex, {}), (e: any) => e.message === `conflict: unable to delete ${hex.slice(0, 12)} (must be forced) - image is being used by stopped container c0ffee000000`);
  users = [{ id: 'c0ffee0000001234abcd', running: true }];
  await assert.rejects(svc.remove(hex, { force: true }), (e: any) => e.message === `conflict: unable to delete ${hex.slice(0, 12)} (cannot be forced) - image is being used by running container c0ffee000000`);
  assert.equal(svc.resolve('app').id, img.id, 'refused removals changed nothing');
  users = [];
  const out = await svc.remove('app', {});
  assert.deepEqual(out.slice(0, 2), [{ Untagged: 'app:latest' }, { Deleted: img.id }]);
  assert.equal(svc.all().length, 0);
  assert.deepEqual(await fs.readdir(path.join(root.dir, 'content', 'sha256')), [], 'blobs released');
  assert.deepEqual(svc.snapshots.list(), [], 'layers released');
});

test('prune deletes dangling images, -a unused ones', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const kept = await importRootfs(svc, Readable.from([await rootfs()]), { repoTag: 'kept', message: 'a' });
  const dangling = await importRootfs(svc, Readable.from([await makeTar([{ name: 'x', body: 'xyz' }])]), { message: 'b' });
  const used = await importRootfs(svc, Readable.from([await makeTar([{ name: 'y', body: 'y' }])]), { repoTag: 'used', message: 'c' });
  svc.setContainerLookup((id) => (id === used.id ? [{ id: 'abc', running: false }] : []));
  const r1 = await svc.prune();
  assert.deepEqual(r1.ImagesDeleted.filter((d) => 'Deleted' in d).map((d: any) => d.Deleted)[0], dangling.id);
  assert.equal(r1.SpaceReclaimed, 3);
  const r2 = await svc.prune({ all: true });
  assert.ok(r2.ImagesDeleted.some((d) => 'Untagged' in d && d.Untagged === 'kept:latest'));
  assert.deepEqual(svc.all().map((r) => r.id), [used.id]);
  assert.ok(kept.id);
});

test('busybox image: deterministic, fast, idempotent', async (t) => {
  try { await fs.access('/bin/busybox'); } catch { t.skip('busybox-static not installed'); return; }
  const a = await tempRoot();
  const b = await tempRoot();
  t.after(async () => { await a.cleanup(); await b.cleanup(); });
  const bytes = async () => { const h = createHash('sha256'); for await (const c of (await busyboxRootfs()).tar) h.update(c as Buffer); return h.digest('hex'); };
  assert.equal(await bytes(), await bytes(), 'same rootfs bytes twice');
  const svcA = await ImageService.open(a.dir);
  const start = Date.now();
  const imgA = await ensureBuiltinImages(svcA);
  const took = Date.now() - start;
  assert.ok(imgA);
  assert.ok(took < 5000, `built in ${took} ms`);
  const svcB = await ImageService.open(b.dir);
  assert.equal((await ensureBuiltinImages(svcB))!.id, imgA.id, 'same image ID in another data root');
  assert.equal((await ensureBuiltinImages(svcA))!.id, imgA.id);
  const info = inspectImage(svcA, 'busybox') as any;
  assert.deepEqual(info.Config.Cmd, ['sh']);
  // A container rootfs over it works and is writable.
  const rootfsSvc = new ContainerRootfs(svcA);
  await rootfsSvc.createContainerLayer('ctr1', 'busybox');
  const dir = await rootfsSvc.mountContainer('ctr1');
  assert.equal(await fs.readlink(path.join(dir, 'bin', 'ls')), 'busybox');
  assert.equal((await fs.stat(path.join(dir, 'tmp'))).mode & 0o7777, 0o1777);
  assert.match(await fs.readFile(path.join(dir, 'etc', 'passwd'), 'utf8'), /^root:x:0:0:/);
  await fs.writeFile(path.join(dir, 'etc', 'motd'), 'hi');
  const exported: string[] = [];
  const ex = tar.extract();
  (await rootfsSvc.exportContainer('ctr1')).pipe(ex);
  for await (const e of ex) { exported.push(e.header.name.replace(/^\.\//, '')); e.resume(); }
  assert.ok(exported.includes('bin/busybox') && exported.includes('etc/motd'), 'export holds the merged filesystem');
  assert.deepEqual(await rootfsSvc.containerChanges('ctr1'), [{ Path: '/etc', Kind: 0 }, { Path: '/etc/motd', Kind: 1 }]);
  const committed = await rootfsSvc.commitContainer('ctr1', { imageId: 'busybox', repoTag: 'bb:committed', comment: 'with motd' });
  assert.equal(committed.layers.length, 2);
  assert.equal(committed.parent, imgA.id);
  assert.equal(imageHistory(svcA, 'bb:committed')[0].Comment, 'with motd');
  await assert.rejects(svcA.remove(imgA.id, {}), /image has dependent child images/);
  await rootfsSvc.removeContainerLayer('ctr1');
  await svcA.remove('bb:committed', {});
  assert.equal(svcA.resolve('busybox').id, imgA.id, 'tagged parent kept');
});

test('concurrent imports of the same layer unpack it once and GC spares it', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const layer = await makeTar(Array.from({ length: 200 }, (_, i) => ({ name: `f${i}`, body: `content ${i}` })));
  const results = await Promise.all([
    ...['a', 'b', 'c', 'd'].map((m) => importRootfs(svc, Readable.from([layer]), { message: m, repoTag: `img:${m}` })),
    svc.prune(),
    svc.prune(),
  ]);
  const imgs = results.slice(0, 4) as Awaited<ReturnType<typeof importRootfs>>[];
  assert.equal(new Set(imgs.map((i) => i.id)).size, 4);
  assert.equal(svc.snapshots.list().length, 1, 'one unpacked layer shared by four images');
  for (const i of imgs) assert.equal(svc.resolve(i.id).layers[0].unpackedSize, imgs[0].layers[0].unpackedSize);
  // Reopening finds the same state.
  const again = await ImageService.open(root.dir);
  assert.equal(again.all().length, svc.all().length);
  assert.deepEqual(again.repoTags(imgs[0].id), svc.repoTags(imgs[0].id));
  assert.equal(again.snapshots.list().length, 1);
});
