import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { ImageService } from './service.js';
import { loadImages, saveImages } from './archive.js';
import { describeTree, makeTar, sha256, tempRoot } from '../../../test/helpers/storage.js';

async function collect(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Members of a tar as name → bytes. */
async function members(buf: Buffer): Promise<Map<string, Buffer>> {
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex);
  const out = new Map<string, Buffer>();
  for await (const e of ex) out.set(e.header.name, await collect(e as unknown as Readable));
  return out;
}

/** A two-layer docker-archive exercising everything a layer can hold. */
async function fixtureArchive(): Promise<{ archive: Buffer; diffIds: string[]; configDigest: string }> {
  const layer1 = await makeTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/tool', body: '#!/bin/sh\necho tool\n', mode: 0o4755, uid: 0, gid: 0 },
    { name: 'bin/tool-link', type: 'link', linkname: 'bin/tool' },
    { name: 'bin/sym', type: 'symlink', linkname: '/bin/tool' },
    { name: 'dev/', type: 'directory' },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    { name: 'dev/fifo', type: 'fifo', mode: 0o600 },
    { name: 'home/', type: 'directory' },
    { name: 'home/user/', type: 'directory', uid: 1000, gid: 1000, mode: 0o700 },
    { name: 'home/user/notes', body: 'mine', uid: 1000, gid: 1000, mode: 0o600, pax: { 'SCHILY.xattr.user.note': 'kept' } },
    { name: 'etc/', type: 'directory' },
    { name: 'etc/old', body: 'old' },
    { name: 'etc/conf.d/', type: 'directory' },
    { name: 'etc/conf.d/a', body: 'a' },
  ]);
  const layer2raw = await makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/.wh.old', body: '' },
    { name: 'etc/conf.d/', type: 'directory' },
    { name: 'etc/conf.d/.wh..wh..opq', body: '' },
    { name: 'etc/conf.d/b', body: 'b' },
  ]);
  const layer2 = gzipSync(layer2raw); // stored compressed, as a pulled layer would be
  const diffIds = [sha256(layer1), sha256(layer2raw)];
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', created: '2024-01-02T03:04:05Z',
    config: { Cmd: ['/bin/tool'], Env: ['PATH=/bin'], Labels: { purpose: 'test' } },
    history: [{ created: '2024-01-02T03:04:05Z', created_by: 'layer one' }, { created: '2024-01-02T03:04:05Z', created_by: 'layer two' }],
    rootfs: { type: 'layers', diff_ids: diffIds },
  }));
  const cfgHex = sha256(config).slice(7);
  const manifest = [{ Config: `${cfgHex}.json`, RepoTags: ['test/round:trip'], Layers: ['l1/layer.tar', 'l2/layer.tar'] }];
  const archive = await makeTar([
    { name: `${cfgHex}.json`, body: config },
    { name: 'l1/', type: 'directory' }, { name: 'l1/layer.tar', body: layer1 },
    { name: 'l2/', type: 'directory' }, { name: 'l2/layer.tar', body: layer2 },
    { name: 'manifest.json', body: JSON.stringify(manifest) },
  ]);
  return { archive, diffIds, configDigest: sha256(config) };
}

test('save → load round trip keeps IDs, digests and every file attribute', async (t) => {
  const a = await tempRoot();
  const b = await tempRoot();
  const c = await tempRoot();
  t.after(async () => { await a.cleanup(); await b.cleanup(); await c.cleanup(); });
  const { archive, diffIds, configDigest } = await fixtureArchive();

  const svcA = await ImageService.open(a.dir);
  assert.deepEqual(await loadImages(svcA, Readable.from([archive])), ['Loaded image: test/round:trip']);
  const recA = svcA.resolve('test/round:trip');
  assert.equal(recA.id, configDigest);
  assert.deepEqual(recA.layers.map((l) => l.diffId), diffIds);
  const chain = svcA.chainIdsOf(recA);
  const treeA1 = await describeTree(svcA.snapshots.dir(chain[0]));
  const treeA2 = await describeTree(svcA.snapshots.dir(chain[1]));
  // The first layer really holds what the tar said (so equality below means preserved, not equally lost).
  const line = (tree: string[], name: string) => tree.find((l) => l.startsWith(name + ' ')) ?? '';
  assert.match(line(treeA1, './bin/tool'), /^\.\/bin\/tool file 4755 0 0 /);
  assert.match(line(treeA1, './bin/tool-link'), / link .*\.\/bin\/tool/);
  assert.match(line(treeA1, './bin/sym'), / symlink .* \/bin\/tool /);
  assert.match(line(treeA1, './dev/null'), / character-device 666 0 0 \d+  1 3 /);
  assert.match(line(treeA1, './dev/fifo'), / fifo 600 /);
  assert.match(line(treeA1, './home/user/notes'), / file 600 1000 1000 1700000000000 .*SCHILY\.xattr\.user\.note=kept/);
  assert.match(line(treeA2, './etc/old'), / character-device .* 0 0 /);
  assert.match(line(treeA2, './etc/conf.d'), /SCHILY\.xattr\.trusted\.overlay\.opaque=y/);

  const savedA = await collect(saveImages(svcA, ['test/round:trip']));
  const svcB = await ImageService.open(b.dir);
  assert.deepEqual(await loadImages(svcB, Readable.from([savedA])), ['Loaded image: test/round:trip']);
  const recB = svcB.resolve('test/round:trip');
  assert.equal(recB.id, recA.id);
  assert.deepEqual(recB.layers, recA.layers, 'same blobs, digests and sizes');
  assert.deepEqual(await describeTree(svcB.snapshots.dir(chain[0])), treeA1);
  assert.deepEqual(await describeTree(svcB.snapshots.dir(chain[1])), treeA2);
  const savedB = await collect(saveImages(svcB, ['test/round:trip']));
  assert.ok(savedA.equals(savedB), 'save after load is bit for bit the same archive');

  // The archive is also an OCI image layout: load it without manifest.json.
  const m = await members(savedA);
  assert.ok(m.has('oci-layout') && m.has('index.json') && m.has('repositories'));
  const index = JSON.parse(m.get('index.json')!.toString());
  assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'docker.io/test/round:trip');
  const ociOnly = await makeTar([...m.entries()].filter(([n]) => n !== 'manifest.json' && !n.endsWith('/')).map(([name, body]) => ({ name, body })));
  const svcC = await ImageService.open(c.dir);
  assert.deepEqual(await loadImages(svcC, Readable.from([ociOnly])), ['Loaded image: test/round:trip']);
  assert.equal(svcC.resolve('test/round:trip').id, recA.id);
  assert.deepEqual(await describeTree(svcC.snapshots.dir(chain[1])), treeA2);

  // Saving by ID gives an untagged entry; loading it reports the ID.
  const byId = await collect(saveImages(svcA, [recA.id.slice(7, 19)]));
  const svcB2 = await ImageService.open(b.dir);
  assert.deepEqual(await loadImages(svcB2, Readable.from([byId])), [`Loaded image ID: ${recA.id}`]);
});

test('a hostile or broken archive on load is refused and leaves no trace', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const svc = await ImageService.open(root.dir);
  const { archive } = await fixtureArchive();
  const cases: Record<string, Buffer> = {
    dotdot: await makeTar([{ name: '../escape', body: 'x' }, { name: 'manifest.json', body: '[]' }]),
    linkOut: await makeTar([{ name: 'l', type: 'symlink', linkname: '../../etc/passwd' }]),
    noManifest: await makeTar([{ name: 'hello', body: 'x' }]),
    badJson: await makeTar([{ name: 'manifest.json', body: '{nope' }]),
    missingLayer: await makeTar([{ name: 'c.json', body: '{"rootfs":{"type":"layers","diff_ids":["sha256:' + 'a'.repeat(64) + '"]}}' }, { name: 'manifest.json', body: '[{"Config":"c.json","Layers":["nope.tar"]}]' }]),
    truncated: archive.subarray(0, 3000),
    garbage: Buffer.alloc(4096, 0x41),
  };
  const hostileLayer = await makeTar([{ name: 'evil', type: 'symlink', linkname: '/' }, { name: 'evil/tmp/pwned', body: 'x' }]);
  const hostileCfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(hostileLayer)] } }));
  cases.hostileLayer = await makeTar([{ name: 'c.json', body: hostileCfg }, { name: 'l.tar', body: hostileLayer },
    { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['l.tar'] }]) }]);
  const wrongDiff = await makeTar([{ name: 'c.json', body: hostileCfg }, { name: 'l.tar', body: await makeTar([{ name: 'x', body: 'y' }]) },
    { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['evil:2'], Layers: ['l.tar'] }]) }]);
  cases.wrongDiffId = wrongDiff;
  for (const [name, buf] of Object.entries(cases)) {
    await assert.rejects(loadImages(svc, Readable.from([buf])), (e: any) => e.status === 400, name);
    assert.deepEqual(svc.all(), [], `${name}: no image`);
    assert.deepEqual(await fs.readdir(path.join(root.dir, 'content', 'sha256')), [], `${name}: no blobs left`);
    assert.deepEqual(svc.snapshots.list(), [], `${name}: no layers left`);
  }
  await assert.rejects(fs.access('/tmp/pwned'));
});
