import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { makeTar, tempRoot, type TarEntry } from '../../../test/helpers/storage.js';
import { parseListing, parseListingLine, unquoteC } from './tar-listing.js';
import { extractLayerFile } from './host-tools.js';

const awkward: TarEntry[] = [
  { name: 'dir/', type: 'directory' },
  { name: 'dir/plain.txt', body: 'hello' },
  { name: 'dir/a -> b', body: 'arrow in the name' },
  { name: 'dir/quote"and\\back', body: 'q' },
  { name: 'dir/new\nline', body: 'n' },
  { name: 'dir/café ü', body: 'utf-8' },
  { name: 'dir/link', type: 'symlink', linkname: 'x -> y' },
  { name: 'dir/hard', type: 'link', linkname: 'dir/plain.txt' },
  { name: 'dir/null', type: 'character-device', devmajor: 1, devminor: 3 },
  { name: 'dir/fifo', type: 'fifo' },
  { name: 'deep/implied/file', body: '12345' },
];

test('GNU tar\'s -vv listing parses back to the archive\'s members, awkward names included', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const archive = await makeTar(awkward);
  const dest = path.join(root.dir, 'x');
  await fs.mkdir(dest);
  const r = spawnSync('tar', ['--extract', '-vv', '--quoting-style=c', '--numeric-owner', '--same-owner', '--file', '-', '--directory', dest], { input: archive, env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(r.status, 0, String(r.stderr));
  const members = parseListing(r.stdout.toString('latin1'));
  assert.deepEqual(members.map((m) => m.name), awkward.map((e) => e.name), 'implied parent directories are no members');
  const byName = new Map(members.map((m) => [m.name, m]));
  assert.deepEqual(byName.get('dir/link'), { type: 'symlink', name: 'dir/link', linkname: 'x -> y', size: 0 });
  assert.deepEqual(byName.get('dir/hard'), { type: 'link', name: 'dir/hard', linkname: 'dir/plain.txt', size: 0 });
  assert.equal(byName.get('dir/null')?.type, 'character-device');
  assert.equal(byName.get('dir/fifo')?.type, 'fifo');
  assert.equal(byName.get('dir/')?.type, 'directory');
  assert.equal(byName.get('deep/implied/file')?.size, 5);
  assert.equal(byName.get('dir/café ü')?.size, 5);
});

test('listing lines that are no member, or of a type a layer may not hold, are refused', () => {
  assert.throws(() => parseListingLine('garbage'), /invalid tar archive/);
  assert.throws(() => parseListingLine('V--------- 0/0 0 2024-01-01 00:00 "label" --Volume Header--'), /invalid tar/);
  assert.throws(() => parseListingLine('x--------- 0/0 0 2024-01-01 00:00 "odd"'), /unsupported entry type/);
  assert.equal(unquoteC('a\\\\b\\"c\\303\\251\\n'), 'a\\b"cé\n');
});

test('a zstd layer unpacks through the host pipeline with the digest of its tar; a corrupt one fails clearly', async (t) => {
  const root = await tempRoot();
  t.after(root.cleanup);
  const archive = await makeTar([{ name: 'a.txt', body: 'zstd layer' }, { name: 'b/.wh.c', body: '' }]);
  const z = spawnSync('zstd', ['-q', '-c'], { input: archive });
  assert.equal(z.status, 0);
  const unpack = async (name: string, blob: Buffer) => {
    const file = path.join(root.dir, `${name}.zst`);
    await fs.writeFile(file, blob);
    const dest = path.join(root.dir, name);
    await fs.mkdir(dest);
    const fh = await fs.open(file, 'r');
    try {
      return { dest, ...(await extractLayerFile(fh.fd, dest, 'zstd')) };
    } finally {
      await fh.close();
    }
  };
  const { dest, members, tarDigest } = await unpack('z', z.stdout);
  assert.equal(tarDigest, 'sha256:' + createHash('sha256').update(archive).digest('hex'));
  assert.deepEqual(members.map((m) => m.name), ['a.txt', 'b/.wh.c']);
  assert.equal(await fs.readFile(path.join(dest, 'a.txt'), 'utf8'), 'zstd layer');
  assert.deepEqual((await fs.readdir(root.dir)).sort(), ['z', 'z.zst'], 'the job\'s temp dir is not here, and nothing else was written');

  const bad = Buffer.from(z.stdout);
  bad.fill(0x55, 12, 40);
  await assert.rejects(unpack('bad', bad), (e: any) => e.status === 400 && /invalid archive: zstd/.test(e.message));
});
