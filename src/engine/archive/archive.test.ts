import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { readArchive } from './read.js';
import { writeArchive } from './write.js';
import { goFileMode, goTime, statPath, PathNotFound } from './stat.js';
import type { ContainerFs } from './resolve.js';
import type { MountPoint } from '../volumes/mounts.js';

let tmp: string;
before(async () => { tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-archive-test-')); });
after(async () => { await fs.rm(tmp, { recursive: true, force: true }); });

async function newRoot(name: string): Promise<string> {
  const d = path.join(tmp, name);
  await fs.mkdir(d, { recursive: true });
  return d;
}

/** Entries of a tar stream: name, type, link name, and content. */
async function listTar(s: Readable): Promise<{ name: string; type: string; linkname?: string; mode?: number; data: Buffer }[]> {
  const out: { name: string; type: string; linkname?: string; mode?: number; data: Buffer }[] = [];
  const ex = tar.extract();
  s.pipe(ex as any);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({ name: e.header.name, type: e.header.type, linkname: e.header.linkname ?? undefined, mode: e.header.mode, data: Buffer.concat(chunks) });
  }
  return out;
}

/** A tar built from entries, for PUT tests. */
function makeTar(entries: { name: string; type?: tar.Header['type']; linkname?: string; data?: string }[]): Readable {
  const p = tar.pack();
  (async () => {
    for (const e of entries) {
      await new Promise<void>((res, rej) => p.entry({ name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o644 }, e.data ?? '', (err) => (err ? rej(err) : res())));
    }
    p.finalize();
  })();
  return p as unknown as Readable;
}

/** Everything under a host directory, described bit for bit (mtime to the second, as tar keeps it). */
async function describeTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const inodes = new Map<number, string>();
  async function walk(rel: string) {
    const p = path.join(root, rel);
    const st = await fs.lstat(p);
    let what = '';
    if (st.isSymbolicLink()) what = `-> ${await fs.readlink(p)}`;
    else if (st.isFile()) {
      what = `file ${(await fs.readFile(p)).toString('base64')}`;
      if (st.nlink > 1) {
        const first = inodes.get(st.ino);
        if (first) what += ` hardlink-of ${first}`;
        else inodes.set(st.ino, rel);
      }
    } else if (st.isDirectory()) what = 'dir';
    else if (st.isFIFO()) what = 'fifo';
    const time = st.isSymbolicLink() ? '' : ` t=${Math.floor(st.mtimeMs / 1000)}`;
    out.push(`${JSON.stringify(rel)} ${(st.mode & 0o177777).toString(8)} ${st.uid}:${st.gid}${time} ${what}`);
    if (st.isDirectory()) for (const c of (await fs.readdir(p)).sort()) await walk(rel ? `${rel}/${c}` : c);
  }
  await walk('');
  return out;
}

describe('archive', () => {
  it('round-trips a tree with symlinks, hard links, odd names, modes and owners bit for bit', async () => {
    const a = await newRoot('rt-a');
    const src = path.join(a, 'src');
    await fs.mkdir(path.join(src, 'sub dir/ünïcode ☃'), { recursive: true });
    await fs.writeFile(path.join(src, 'plain'), 'hello\n');
    await fs.writeFile(path.join(src, 'sub dir/with\nnewline'), Buffer.from([0, 1, 2, 255]));
    await fs.writeFile(path.join(src, 'sub dir/ünïcode ☃/big'), Buffer.alloc(3 * 1024 * 1024 + 7, 0xab));
    await fs.writeFile(path.join(src, 'setuid'), '#!/bin/sh\n');
    await fs.chmod(path.join(src, 'setuid'), 0o4755);
    await fs.writeFile(path.join(src, 'private'), 'secret');
    await fs.chmod(path.join(src, 'private'), 0o600);
    await fs.chown(path.join(src, 'private'), 1234, 5678);
    await fs.chmod(path.join(src, 'sub dir'), 0o1777);
    await fs.link(path.join(src, 'plain'), path.join(src, 'sub dir/hard'));
    await fs.symlink('../plain', path.join(src, 'sub dir/rel-link'));
    await fs.symlink('/etc/passwd', path.join(src, 'abs-link'));
    await fs.lchown(path.join(src, 'abs-link'), 42, 43);
    await fs.symlink('nowhere', path.join(src, 'dangling'));
    await fs.writeFile(path.join(src, 'x'.repeat(150)), 'long name');
    await fs.utimes(path.join(src, 'plain'), 1_000_000_000, 1_000_000_000);
    await fs.utimes(path.join(src, 'sub dir'), 1_200_000_000, 1_200_000_000);

    const { stat, tar: t } = await readArchive({ rootfs: a, mounts: [] }, '/src');
    assert.equal(stat.name, 'src');
    assert.ok(stat.mode >= 2 ** 31, 'directory bit set in Go FileMode');
    const b = await newRoot('rt-b');
    await writeArchive({ rootfs: b, mounts: [] }, '/', t);
    await fs.utimes(src, 0, 0); // roots compared without their own times: readArchive does not move them
    await fs.utimes(path.join(b, 'src'), 0, 0);
    assert.deepEqual(await describeTree(path.join(b, 'src')), await describeTree(src));
  });

  it('names entries as Docker does for "dir", "dir/", "dir/." and a file', async () => {
    const a = await newRoot('names');
    await fs.mkdir(path.join(a, 'd/e'), { recursive: true });
    await fs.writeFile(path.join(a, 'd/e/f'), 'f');
    const cfs = { rootfs: a, mounts: [] };
    const names = async (p: string) => (await listTar((await readArchive(cfs, p)).tar)).map((e) => e.name);
    assert.deepEqual(await names('/d'), ['d/', 'd/e/', 'd/e/f']);
    assert.deepEqual(await names('d/'), ['d/', 'd/e/', 'd/e/f']);
    assert.deepEqual(await names('/d/.'), ['./', './e/', './e/f']);
    assert.deepEqual(await names('/d/e/f'), ['f']);
    await assert.rejects(readArchive(cfs, '/d/e/f/'), /not a directory/);
  });

  it('archives a final symlink as the link, and follows symlinked parents', async () => {
    const a = await newRoot('links');
    await fs.mkdir(path.join(a, 'real'));
    await fs.writeFile(path.join(a, 'real/f'), 'content');
    await fs.symlink('/real', path.join(a, 'ln'));
    const cfs = { rootfs: a, mounts: [] };
    const asLink = await listTar((await readArchive(cfs, '/ln')).tar);
    assert.deepEqual(asLink.map((e) => [e.name, e.type, e.linkname]), [['ln', 'symlink', '/real']]);
    const through = await listTar((await readArchive(cfs, '/ln/f')).tar);
    assert.equal(through[0].data.toString(), 'content');
    const dirThrough = await listTar((await readArchive(cfs, '/ln/')).tar);
    assert.deepEqual(dirThrough.map((e) => e.name), ['ln/', 'ln/f']);
  });

  it('stat gives Go FileMode bits, RFC 3339 times and the resolved link target', async () => {
    const a = await newRoot('stat');
    await fs.writeFile(path.join(a, 'f'), '12345');
    await fs.chmod(path.join(a, 'f'), 0o640);
    await fs.utimes(path.join(a, 'f'), 1_700_000_000.5, 1_700_000_000.5);
    await fs.mkdir(path.join(a, 'etc'));
    await fs.symlink('../etc', path.join(a, 'l'));
    const cfs = { rootfs: a, mounts: [] };
    const s = await statPath(cfs, '/f');
    assert.deepEqual(s, { name: 'f', size: 5, mode: 0o640, mtime: '2023-11-14T22:13:20.5Z', linkTarget: '' });
    const l = await statPath(cfs, '/l');
    assert.equal(l.linkTarget, '/etc');
    assert.equal(l.mode, 2 ** 27 + 0o777);
    assert.equal((await statPath(cfs, '/')).name, '/');
    await assert.rejects(statPath(cfs, '/missing'), PathNotFound);
    assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666);
    assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777);
    assert.equal(goTime(1_000_000_000_000_000_000n), '2001-09-09T01:46:40Z');
  });

  it('never writes outside the rootfs through hostile symlinks', async () => {
    const root = await newRoot('hostile');
    const outside = await newRoot('outside');
    await fs.mkdir(path.join(root, 'tmp'));
    await fs.mkdir(path.join(root, 'etc'));
    await fs.symlink('/', path.join(root, 'tmp/evil'));
    await fs.symlink(outside, path.join(root, 'tmp/abs'));
    await fs.symlink('../../../../../../../../../..' + outside, path.join(root, 'tmp/rel'));
    await fs.symlink('/tmp/abs', path.join(root, 'parent'));
    const cfs = { rootfs: root, mounts: [] };

    await writeArchive(cfs, '/tmp/evil', makeTar([{ name: 'at-root', data: '1' }]));
    assert.equal(await fs.readFile(path.join(root, 'at-root'), 'utf8'), '1');
    await writeArchive(cfs, '/tmp', makeTar([
      { name: 'abs/pwn1', data: 'x' }, { name: 'rel/pwn2', data: 'x' }, { name: 'evil/etc/pwn3', data: 'x' },
    ]));
    await fs.mkdir(path.join(root, outside), { recursive: true }).catch(() => undefined);
    await writeArchive(cfs, '/parent', makeTar([{ name: 'pwn4', data: 'x' }]));
    // A symlink created by the archive itself, then written through.
    await writeArchive(cfs, '/', makeTar([
      { name: 'made', type: 'symlink', linkname: outside }, { name: 'made/pwn5', data: 'x' },
    ]));
    assert.deepEqual(await fs.readdir(outside), [], 'nothing escaped to the host directory');
    assert.equal(await fs.readFile(path.join(root, 'etc/pwn3'), 'utf8'), 'x');
    for (const f of ['pwn1', 'pwn2', 'pwn4', 'pwn5']) assert.equal(await fs.readFile(path.join(root, outside, f), 'utf8'), 'x', f);

    await assert.rejects(writeArchive(cfs, '/tmp', makeTar([{ name: '../../escape', data: 'x' }])), /is outside of/);
    await assert.rejects(writeArchive(cfs, '/tmp', makeTar([{ name: 'up', type: 'symlink', linkname: '../../..' }])), /invalid symlink/);
    await assert.rejects(writeArchive(cfs, '/tmp', makeTar([{ name: 'h', type: 'link', linkname: '../etc/passwd' }])), /invalid hardlink/);
    await assert.rejects(writeArchive(cfs, '/nope', makeTar([])), PathNotFound);
    await fs.writeFile(path.join(root, 'file'), '');
    await assert.rejects(writeArchive(cfs, '/file', makeTar([])), /extraction point is not a directory/);
  });

  it('honours noOverwriteDirNonDir and copyUIDGID', async () => {
    const root = await newRoot('overwrite');
    await fs.mkdir(path.join(root, 'd/sub'), { recursive: true });
    await fs.writeFile(path.join(root, 'd/file'), 'old');
    const cfs = { rootfs: root, mounts: [] };
    await assert.rejects(writeArchive(cfs, '/d', makeTar([{ name: 'sub', data: 'x' }]), { noOverwriteDirNonDir: true }), /cannot overwrite directory "\/d\/sub" with non-directory "\/d"/);
    await assert.rejects(writeArchive(cfs, '/d', makeTar([{ name: 'file', type: 'directory' }]), { noOverwriteDirNonDir: true }), /cannot overwrite non-directory/);
    await writeArchive(cfs, '/d', makeTar([{ name: 'file', data: 'new' }]), { chown: { uid: 1000, gid: 1001 } });
    const st = await fs.stat(path.join(root, 'd/file'));
    assert.equal(await fs.readFile(path.join(root, 'd/file'), 'utf8'), 'new');
    assert.deepEqual([st.uid, st.gid], [1000, 1001]);
    await writeArchive(cfs, '/d', makeTar([{ name: 'sub', data: 'replaced' }]));
    assert.equal(await fs.readFile(path.join(root, 'd/sub'), 'utf8'), 'replaced');
  });

  it('reads and writes paths under a volume in the volume\'s host directory', async () => {
    const root = await newRoot('vol-root');
    const vol = await newRoot('vol-data');
    const ro = await newRoot('vol-ro');
    await fs.mkdir(path.join(root, 'etc'));
    await fs.writeFile(path.join(vol, 'inside'), 'volume content');
    await fs.symlink('/etc', path.join(vol, 'to-etc'));
    const mounts: MountPoint[] = [
      { Type: 'volume', Name: 'v', Source: vol, Destination: '/data', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
      { Type: 'bind', Source: ro, Destination: '/data/ro', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    ];
    const cfs: ContainerFs = { rootfs: root, mounts };
    await writeArchive(cfs, '/data', makeTar([{ name: 'new', data: 'n' }, { name: 'to-etc/through', data: 't' }]));
    assert.equal(await fs.readFile(path.join(vol, 'new'), 'utf8'), 'n');
    assert.equal(await fs.readFile(path.join(root, 'etc/through'), 'utf8'), 't', 'a symlink in a volume resolves in the container');
    await assert.rejects(fs.stat(path.join(root, 'data/new')));
    const got = await listTar((await readArchive(cfs, '/data/inside')).tar);
    assert.equal(got[0].data.toString(), 'volume content');
    // The root's walk shows /data even though the rootfs has no such directory.
    const all = (await listTar((await readArchive(cfs, '/')).tar)).map((e) => e.name);
    assert.ok(all.includes('/data/inside') && all.includes('/data/ro/'), all.join(','));
    await writeArchive(cfs, '/', makeTar([{ name: 'data', type: 'directory' }, { name: 'data/from-root', data: 'r' }]));
    assert.equal(await fs.readFile(path.join(vol, 'from-root'), 'utf8'), 'r', 'a tar written at / lands in the volume under /data');
    await assert.rejects(writeArchive(cfs, '/data', makeTar([{ name: 'ro', type: 'directory' }])), /mounted volume is marked read-only/);
    await assert.rejects(writeArchive(cfs, '/data/ro', makeTar([{ name: 'x', data: 'x' }])), /mounted volume is marked read-only/);
    await assert.rejects(writeArchive(cfs, '/', makeTar([{ name: 'data/ro/x', data: 'x' }])), /read-only/);
    await assert.rejects(writeArchive(cfs, '/etc', makeTar([{ name: 'x', data: 'x' }]), { readonlyRootfs: true }), /container rootfs is marked read-only/);
    await writeArchive(cfs, '/data', makeTar([{ name: 'ok', data: 'x' }]), { readonlyRootfs: true });
    assert.deepEqual(await fs.readdir(ro), []);
  });

  it('accepts a gzip-compressed archive', async () => {
    const { createGzip } = await import('node:zlib');
    const root = await newRoot('gz');
    await writeArchive({ rootfs: root, mounts: [] }, '/', makeTar([{ name: 'z', data: 'zipped' }]).pipe(createGzip()));
    assert.equal(await fs.readFile(path.join(root, 'z'), 'utf8'), 'zipped');
  });

  it('reads a plain tar arriving a byte at a time, and takes an empty body as an empty archive', async () => {
    const { Readable } = await import('node:stream');
    const root = await newRoot('dribble');
    const parts: Buffer[] = [];
    for await (const c of makeTar([{ name: 'd', type: 'directory' }, { name: 'd/f', data: 'x'.repeat(3000) }])) parts.push(c as Buffer);
    const archive = Buffer.concat(parts);
    const bytes = Readable.from((function* () { for (let i = 0; i < archive.length; i++) yield archive.subarray(i, i + 1); })());
    await writeArchive({ rootfs: root, mounts: [] }, '/', bytes);
    assert.equal(await fs.readFile(path.join(root, 'd/f'), 'utf8'), 'x'.repeat(3000));
    await writeArchive({ rootfs: root, mounts: [] }, '/', Readable.from([]));
    assert.deepEqual(await fs.readdir(root), ['d']);
  });
});

describe('copyUIDGID user lookup', () => {
  it('resolves names, numbers and groups from the container\'s own files', async () => {
    const { lookupUser } = await import('./user.js');
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-archive-user-'));
    try {
      await fs.mkdir(path.join(root, 'etc'));
      await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nweb:x:33:44::/:/bin/sh\n');
      await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\nstaff:x:50:\n');
      const cfs = { rootfs: root, mounts: [] };
      assert.deepEqual(await lookupUser(cfs, ''), { uid: 0, gid: 0 });
      assert.deepEqual(await lookupUser(cfs, 'web'), { uid: 33, gid: 44 });
      assert.deepEqual(await lookupUser(cfs, '33'), { uid: 33, gid: 44 });
      assert.deepEqual(await lookupUser(cfs, 'web:staff'), { uid: 33, gid: 50 });
      assert.deepEqual(await lookupUser(cfs, '1000:1000'), { uid: 1000, gid: 1000 });
      await assert.rejects(lookupUser(cfs, 'ghost'), /unable to find user ghost: no matching entries in passwd file/);
      await assert.rejects(lookupUser(cfs, 'web:nogroup'), /unable to find group nogroup/);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});

describe('directory handles against a racing container', () => {
  it('refuse a symlinked component and keep writing where they were opened after a swap', async () => {
    const { openDirBeneath } = await import('./dirfd.js');
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-archive-race-'));
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-archive-race-out-'));
    try {
      await fs.mkdir(path.join(base, 'a/b'), { recursive: true });
      await fs.symlink(outside, path.join(base, 'evil'));
      await assert.rejects(openDirBeneath(base, 'evil'), /ELOOP|ENOTDIR/);
      const d = await openDirBeneath(base, 'a/b');
      // The container swaps an ancestor for a symlink to the host after we opened it.
      await fs.rename(path.join(base, 'a'), path.join(base, 'a2'));
      await fs.symlink(outside, path.join(base, 'a'));
      await fs.writeFile(d.at('x'), 'held');
      await d.close();
      assert.equal(await fs.readFile(path.join(base, 'a2/b/x'), 'utf8'), 'held');
      assert.deepEqual(await fs.readdir(outside), []);
    } finally {
      await fs.rm(base, { recursive: true, force: true });
      await fs.rm(outside, { recursive: true, force: true });
    }
  });
});
