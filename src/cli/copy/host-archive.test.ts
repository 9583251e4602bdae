import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { extractToHost, packHostPath, splitPathDirEntry } from './host-archive.js';

function tarOf(entries: (Partial<tar.Header> & { name: string; body?: string })[]): Readable {
  const pack = tar.pack();
  for (const { body, ...h } of entries) pack.entry(h as tar.Header, body ?? '');
  pack.finalize();
  return pack as unknown as Readable;
}

async function withDirs(fn: (dst: string, canary: string) => Promise<void>): Promise<void> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-hostar-'));
  try {
    await fs.mkdir(path.join(base, 'dst'));
    await fs.mkdir(path.join(base, 'canary'));
    await fn(path.join(base, 'dst'), path.join(base, 'canary'));
  } finally {
    await fs.rm(base, { recursive: true, force: true });
  }
}

test('a file through a symlink the archive planted is refused, nothing lands outside', () => withDirs(async (dst, canary) => {
  const t = tarOf([{ name: 'esc', type: 'symlink', linkname: canary }, { name: 'esc/escaped', type: 'file', body: 'bad' }]);
  await assert.rejects(extractToHost(t, dst), /is a symbolic link/);
  assert.deepEqual(await fs.readdir(canary), []);
}));

test('.. entries and hard links out of the destination are refused', () => withDirs(async (dst, canary) => {
  await assert.rejects(extractToHost(tarOf([{ name: '../canary/up', type: 'file', body: 'bad' }]), dst), /outside the destination/);
  await fs.writeFile(path.join(canary, 'secret'), 's');
  await assert.rejects(extractToHost(tarOf([{ name: 'h', type: 'link', linkname: '../canary/secret' }]), dst), /outside the destination/);
  assert.deepEqual(await fs.readdir(canary), ['secret']);
  assert.deepEqual(await fs.readdir(dst), []);
}));

test('pack then extract keeps content, modes, times, links; rename applies to the top entry', () => withDirs(async (dst, canary) => {
  const src = path.join(canary, 'tree');
  await fs.mkdir(path.join(src, 'd'), { recursive: true });
  await fs.writeFile(path.join(src, 'd', 'f'), 'data', { mode: 0o640 });
  await fs.chmod(path.join(src, 'd', 'f'), 0o640);
  await fs.link(path.join(src, 'd', 'f'), path.join(src, 'hl'));
  await fs.symlink('d/f', path.join(src, 'sl'));
  await fs.utimes(path.join(src, 'd', 'f'), 1_500_000_000, 1_500_000_000);
  await extractToHost(packHostPath(src), dst, { rename: { from: 'tree', to: 'copy' } });
  const f = await fs.stat(path.join(dst, 'copy', 'd', 'f'));
  assert.equal(f.mode & 0o777, 0o640);
  assert.equal(f.mtimeMs, 1_500_000_000_000);
  assert.equal(f.nlink, 2);
  assert.equal((await fs.stat(path.join(dst, 'copy', 'hl'))).ino, f.ino);
  assert.equal(await fs.readlink(path.join(dst, 'copy', 'sl')), 'd/f');
  // An existing directory is not replaced by a file.
  await assert.rejects(extractToHost(tarOf([{ name: 'copy', type: 'file', body: 'x' }]), dst), /cannot overwrite directory/);
}));

test('splitPathDirEntry follows Docker: a trailing /. means the content', () => {
  assert.deepEqual(splitPathDirEntry('/a/b/'), { dir: '/a', base: 'b' });
  assert.deepEqual(splitPathDirEntry('/a/b/.'), { dir: '/a/b', base: '.' });
  assert.deepEqual(splitPathDirEntry('rel'), { dir: '.', base: 'rel' });
});
