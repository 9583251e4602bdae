import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { copyTargets, resolveSources } from './context/sources.js';
import { copyLayer, resolveChown } from './copy-layer.js';

interface Entry { name: string; type: string; mode: number; uid: number; gid: number; linkname?: string; body: string }

async function entries(layer: Readable): Promise<Entry[]> {
  const out: Entry[] = [];
  const ex = tar.extract();
  layer.pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const h = e.header;
    out.push({ name: h.name, type: h.type ?? '', mode: h.mode ?? 0, uid: h.uid ?? -1, gid: h.gid ?? -1, linkname: h.linkname ?? undefined, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

let work: string;
let ctx: string;
let image: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'berth-copy-layer-'));
  ctx = join(work, 'ctx');
  image = join(work, 'image');
  await mkdir(join(ctx, 'app', 'lib'), { recursive: true });
  await writeFile(join(ctx, 'app', 'run.sh'), 'run\n');
  await chmod(join(ctx, 'app', 'run.sh'), 0o700);
  await writeFile(join(ctx, 'app', 'lib', 'x.txt'), 'x\n');
  await symlink('run.sh', join(ctx, 'app', 'link'));
  await writeFile(join(ctx, 'one.txt'), 'one\n');
  // The image: /bin is a link into usr/bin (merged /usr), /etc exists, users in passwd/group.
  await mkdir(join(image, 'usr', 'bin'), { recursive: true });
  await mkdir(join(image, 'etc'), { recursive: true });
  await mkdir(join(image, 'existing'), { recursive: true });
  await symlink('usr/bin', join(image, 'bin'));
  await writeFile(join(image, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\nweb:x:33:44::/var/www:/bin/sh\n');
  await writeFile(join(image, 'etc', 'group'), 'root:x:0:\nweb:x:55:\nstaff:x:50:\n');
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('a directory source copies its contents as root, modes kept, missing parents created', async () => {
  const srcs = await resolveSources(ctx, ['app'], { cmd: 'COPY', dest: '/opt/svc/' });
  const got = await entries(copyLayer({ targets: copyTargets(srcs, '/opt/svc/'), inline: [], dest: '/opt/svc/', parentRoot: image }));
  assert.deepEqual(got.map((e) => `${e.type} ${e.name}`), [
    'directory opt/', 'directory opt/svc/', 'directory opt/svc/lib/', 'file opt/svc/lib/x.txt', 'symlink opt/svc/link', 'file opt/svc/run.sh',
  ]);
  const run = got.find((e) => e.name === 'opt/svc/run.sh')!;
  assert.equal(run.mode & 0o777, 0o700);
  assert.equal(run.body, 'run\n');
  assert.equal(got.find((e) => e.name === 'opt/svc/link')!.linkname, 'run.sh');
  assert.ok(got.every((e) => e.uid === 0 && e.gid === 0));
});

test('--chown and --chmod apply to copied entries; directories that exist are left alone', async () => {
  const owner = await resolveChown('web:staff', image, (p) => readFile(p, 'utf8'));
  assert.deepEqual(owner, { uid: 33, gid: 50 });
  const srcs = await resolveSources(ctx, ['one.txt'], { cmd: 'COPY', dest: '/existing/' });
  const got = await entries(copyLayer({ targets: copyTargets(srcs, '/existing/'), inline: [], dest: '/existing/', parentRoot: image, owner, mode: 0o640 }));
  assert.deepEqual(got.map((e) => [e.name, e.uid, e.gid, e.mode]), [['existing/one.txt', 33, 50, 0o640]]);
});

test('a file copied to an existing directory without a trailing slash goes inside it; into a symlinked dir, through the link', async () => {
  const srcs = await resolveSources(ctx, ['one.txt'], { cmd: 'COPY', dest: '/existing' });
  const into = await entries(copyLayer({ targets: copyTargets(srcs, '/existing'), inline: [], dest: '/existing', parentRoot: image }));
  assert.deepEqual(into.map((e) => e.name), ['existing/one.txt']);
  const viaLink = await entries(copyLayer({ targets: copyTargets(srcs, '/bin/'), inline: [], dest: '/bin/', parentRoot: image }));
  assert.deepEqual(viaLink.map((e) => e.name), ['usr/bin/one.txt']);
});

test('chown names: a user alone means the group of the same name; unknown names are errors', async () => {
  const read = (p: string) => readFile(p, 'utf8');
  assert.deepEqual(await resolveChown('web', image, read), { uid: 33, gid: 55 });
  assert.deepEqual(await resolveChown('1000:1001', image, read), { uid: 1000, gid: 1001 });
  assert.deepEqual(await resolveChown('7', image, read), { uid: 7, gid: 7 });
  await assert.rejects(resolveChown('nobody', image, read), /can't find uid for user nobody/);
});

test('ADD unpacks a local gzip tar into the destination, keeping its entries', async () => {
  const src = join(work, 'tarsrc');
  await mkdir(join(src, 'pkg'), { recursive: true });
  await writeFile(join(src, 'pkg', 'a.txt'), 'from tar\n');
  const archive = join(ctx, 'pkg.tgz');
  assert.equal(spawnSync('tar', ['czf', archive, '-C', src, 'pkg']).status, 0);
  const srcs = await resolveSources(ctx, ['pkg.tgz'], { cmd: 'ADD', dest: '/srv' });
  const got = await entries(copyLayer({ targets: copyTargets(srcs, '/srv'), inline: [], dest: '/srv', parentRoot: image, unpackArchives: true }));
  assert.deepEqual(got.map((e) => `${e.type} ${e.name}`), ['directory srv/', 'directory srv/pkg/', 'file srv/pkg/a.txt']);
  assert.equal(got[2].body, 'from tar\n');
  // COPY never unpacks.
  const copied = await entries(copyLayer({ targets: copyTargets(srcs, '/srv'), inline: [], dest: '/srv', parentRoot: image }));
  assert.deepEqual(copied.map((e) => e.name), ['srv']);
});

test('heredoc sources become files; WORKDIR-style dirs are created once', async () => {
  const got = await entries(copyLayer({
    targets: [], inline: [{ name: 'greeting', data: 'hello\n', expand: false }], dest: '/etc/app/', parentRoot: image, dirs: ['/w/x'],
  }));
  assert.deepEqual(got.map((e) => `${e.type} ${e.name}`), ['directory w/', 'directory w/x/', 'directory etc/app/', 'file etc/app/greeting']);
  assert.equal(got[3].body, 'hello\n');
});
