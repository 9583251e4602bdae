import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TarExtractor } from './tar-extract.js';

async function withDir(fn: (base: string) => Promise<void>): Promise<void> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-tarx-'));
  try { await fn(base); } finally { await fs.rm(base, { recursive: true, force: true }); }
}

/** A tree with names past ustar's 100/155 limits, UTF-8, a symlink with a long target, a hard link, an empty file. */
async function makeTree(src: string): Promise<void> {
  const deep = path.join(src, 'd'.repeat(120), 'é ü 日本');
  await fs.mkdir(deep, { recursive: true });
  await fs.writeFile(path.join(deep, `${'f'.repeat(150)}.txt`), Buffer.alloc(70_000, 7));
  await fs.writeFile(path.join(src, 'empty'), '');
  await fs.writeFile(path.join(src, 'odd\nname'), 'x');
  await fs.symlink(`../${'t'.repeat(140)}`, path.join(src, 'longlink'));
  await fs.link(path.join(src, 'empty'), path.join(src, 'hard'));
  await fs.chmod(path.join(src, 'empty'), 0o640);
  await fs.utimes(path.join(src, 'empty'), 1_400_000_000, 1_400_000_000);
}

/** Every path below `dir` with its type, mode, size, mtime and content digest (or link target). */
async function describeTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const name of (await fs.readdir(d)).sort()) {
      const p = path.join(d, name);
      const st = await fs.lstat(p);
      const rel = path.relative(dir, p);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${await fs.readlink(p)}`);
      else if (st.isDirectory()) { out.push(`${rel}/ ${(st.mode & 0o7777).toString(8)}`); await walk(p); }
      else out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${st.size} ${Math.floor(st.mtimeMs / 1000)} ${st.nlink} ${(await fs.readFile(p)).reduce((a, b) => (a * 31 + b) >>> 0, 0)}`);
    }
  };
  await walk(dir);
  return out;
}

for (const format of ['gnu', 'pax', 'ustar-short'] as const) {
  test(`GNU tar's ${format} archives unpack the same whatever the chunk sizes`, () => withDir(async (base) => {
    const src = path.join(base, 'src');
    await fs.mkdir(src);
    if (format === 'ustar-short') {
      await fs.writeFile(path.join(src, 'a'), 'hello');
      await fs.mkdir(path.join(src, 'sub'));
      await fs.writeFile(path.join(src, 'sub', 'b'), Buffer.alloc(1025, 1));
    } else await makeTree(src);
    const tarFormat = format === 'ustar-short' ? 'ustar' : format;
    const made = spawnSync('tar', ['-c', `--format=${tarFormat}`, '-C', src, '.'], { maxBuffer: 1 << 26 });
    assert.equal(made.status, 0, made.stderr?.toString());
    const archive = made.stdout;
    const want = await describeTree(src);
    for (const sizes of [[1], [511, 513], [100_000], [7, 4096, 3]]) {
      const dst = path.join(base, `dst-${sizes.join('-')}`);
      await fs.mkdir(dst);
      const x = new TarExtractor(dst);
      // One reused buffer, overwritten after every push, as the cp download does.
      const reused = Buffer.alloc(Math.max(...sizes));
      for (let off = 0, i = 0; off < archive.length; i++) {
        const n = Math.min(sizes[i % sizes.length], archive.length - off);
        archive.copy(reused, 0, off, off + n);
        x.push(reused.subarray(0, n));
        reused.fill(0xee);
        off += n;
      }
      x.finish();
      assert.deepEqual(await describeTree(dst), want, `chunks of ${sizes}`);
    }
  }));
}

test('a cut-short archive and a corrupt header are errors', () => withDir(async (base) => {
  const src = path.join(base, 'src');
  await fs.mkdir(src);
  await fs.writeFile(path.join(src, 'big'), Buffer.alloc(10_000, 1));
  const archive = spawnSync('tar', ['-c', '-C', src, 'big']).stdout;
  const cut = new TarExtractor(path.join(base, 'dst1'));
  await fs.mkdir(path.join(base, 'dst1'));
  cut.push(archive.subarray(0, 4000));
  assert.throws(() => cut.finish(), /cut short/);
  const bad = Buffer.from(archive);
  bad[0] ^= 0x20; // the name changes, the checksum no longer matches
  await fs.mkdir(path.join(base, 'dst2'));
  assert.throws(() => new TarExtractor(path.join(base, 'dst2')).push(bad), /bad checksum/);
  assert.deepEqual(await fs.readdir(path.join(base, 'dst2')), []);
}));
