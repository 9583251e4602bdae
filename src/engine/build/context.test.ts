import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, link, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, utimes, writeFile, lstat, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import {
  IgnoreRules, readIgnoreFile, packContext, humanSize, sendingContextLine, resolveSources, copyTargets,
  SourceHasher, contextFromTar, contextFromDirectory,
} from './context.js';
import { receiveContext } from './context/receive.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-build-test-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

async function files(root: string, tree: Record<string, string>): Promise<void> {
  for (const [p, content] of Object.entries(tree)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    if (p.endsWith('/')) await mkdir(join(root, p), { recursive: true });
    else await writeFile(join(root, p), content);
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function tarEntries(buf: Buffer): Promise<tar.Header[]> {
  const ex = tar.extract();
  const out: tar.Header[] = [];
  const done = (async () => {
    for await (const e of ex) {
      out.push(e.header);
      e.resume();
    }
  })();
  Readable.from([buf]).pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

function makeTar(entries: (Partial<tar.Header> & { name: string; data?: string })[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { data, ...h } of entries) pack.entry(h, data ?? '');
  pack.finalize();
  return collect(pack as unknown as Readable);
}

test('.dockerignore reading: comments, blank lines, cleaning, leading slash, ! prefix', () => {
  assert.deepEqual(readIgnoreFile('# comment\n\n  *.log  \n/build/\n! /build/keep \n./a/../b\n'), ['*.log', 'build', '!build/keep', 'b']);
});

test('.dockerignore matching as Docker does it', () => {
  const ig = new IgnoreRules(readIgnoreFile([
    '**/*.tmp', '*.md', '!README.md', 'node_modules', 'docs/*', '!docs/keep', '/secret', 'a/**/z',
  ].join('\n')));
  const cases: [string, boolean][] = [
    ['x.tmp', true], ['deep/er/x.tmp', true], ['notes.md', true], ['README.md', false], ['sub/notes.md', false],
    ['node_modules', true], ['node_modules/pkg/index.js', true], ['sub/node_modules', false],
    ['docs/a.txt', true], ['docs/keep', false], ['docs/keep/inner.txt', false], ['docs', false],
    ['secret', true], ['secret/file', true], ['a/z', true], ['a/b/c/z', true], ['b/z', false], ['main.go', false],
  ];
  for (const [p, want] of cases) assert.equal(ig.excludes(p), want, p);
  // The last matching line wins.
  assert.equal(new IgnoreRules(['!a.txt', '*.txt']).excludes('a.txt'), true);
  // The Dockerfile and .dockerignore are kept for sending even when excluded.
  const kept = new IgnoreRules(['*', '!src']).keepingBuildFiles('build/Dockerfile.dev');
  assert.equal(kept.excludes('.dockerignore'), false);
  assert.equal(kept.excludes('build/Dockerfile.dev'), false);
  assert.equal(kept.excludes('other'), true);
});

test('packContext: filters, keeps build files, owner 0:0, modes, symlinks and hardlinks', async (t) => {
  const dir = await tempDir(t);
  await files(dir, {
    'Dockerfile': 'FROM busybox\n', '.dockerignore': '*.log\nDockerfile\n.dockerignore\nbuild\n!build/keep.txt\n',
    'app.js': 'x', 'debug.log': 'l', 'build/out.o': 'o', 'build/keep.txt': 'k', 'src/lib/a.js': 'a',
  });
  await chmod(join(dir, 'app.js'), 0o750);
  await symlink('src/lib/a.js', join(dir, 'link'));
  await link(join(dir, 'app.js'), join(dir, 'hard.js'));
  const { stream, files: listed } = await packContext(dir, { extra: [{ name: '.dockerfile.stdin', data: 'FROM x\n' }] });
  const entries = await tarEntries(await collect(stream));
  const names = entries.map((e) => e.name);
  assert.deepEqual(names, ['.dockerignore', 'Dockerfile', 'app.js', 'build/keep.txt', 'hard.js', 'link', 'src', 'src/lib', 'src/lib/a.js', '.dockerfile.stdin']);
  assert.deepEqual(listed, ['.dockerignore', 'Dockerfile', 'app.js', 'build/keep.txt', 'hard.js', 'link', 'src/', 'src/lib/', 'src/lib/a.js']);
  for (const e of entries) assert.deepEqual([e.uid, e.gid], [0, 0], e.name);
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal(byName.get('app.js')!.mode & 0o777, 0o750);
  assert.deepEqual([byName.get('link')!.type, byName.get('link')!.linkname], ['symlink', 'src/lib/a.js']);
  assert.deepEqual([byName.get('hard.js')!.type, byName.get('hard.js')!.linkname], ['link', 'app.js']);
});

test('Docker-style sizes and the "Sending build context" line', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(2560), '2.56kB');
  assert.equal(humanSize(2048), '2.048kB');
  assert.equal(humanSize(18829000), '18.83MB');
  assert.equal(humanSize(999), '999B');
  assert.equal(sendingContextLine(2048), 'Sending build context to Docker daemon  2.048kB');
  assert.equal(sendingContextLine(2560), 'Sending build context to Docker daemon   2.56kB');
});

test('receiveContext: a packed directory round-trips, also gzipped', async (t) => {
  const src = await tempDir(t);
  await files(src, { 'Dockerfile': 'FROM busybox\n', 'a/b/c.txt': 'hello', 'e/': '' });
  await chmod(join(src, 'a/b/c.txt'), 0o604);
  await utimes(join(src, 'a/b/c.txt'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  await symlink('../a/b/c.txt', join(src, 'e/ln'));
  const buf = await collect((await packContext(src)).stream);
  for (const body of [buf, gzipSync(buf)]) {
    const dst = await tempDir(t);
    const r = await receiveContext(Readable.from([body]), dst);
    assert.equal(r.kind, 'tar');
    assert.equal(r.bytes, body.length);
    assert.equal(await readFile(join(dst, 'a/b/c.txt'), 'utf8'), 'hello');
    const st = await stat(join(dst, 'a/b/c.txt'));
    assert.equal(st.mode & 0o777, 0o604);
    assert.equal(st.mtime.toISOString(), '2020-01-02T03:04:05.000Z');
    assert.equal(await readlink(join(dst, 'e/ln')), '../a/b/c.txt');
  }
});

test('receiveContext: a body that is no archive is the Dockerfile; an empty body is an empty context', async (t) => {
  const dst = await tempDir(t);
  assert.equal((await receiveContext(Readable.from([Buffer.from('FROM busybox\nCMD ["sh"]\n')]), dst)).kind, 'dockerfile');
  assert.equal(await readFile(join(dst, 'Dockerfile'), 'utf8'), 'FROM busybox\nCMD ["sh"]\n');
  const empty = await tempDir(t);
  assert.equal((await receiveContext(Readable.from([]), empty)).kind, 'empty');
});

test('receiveContext never writes outside its directory', async (t) => {
  const parent = await tempDir(t);
  const dst = join(parent, 'ctx');
  const attacks: [string, (Partial<tar.Header> & { name: string; data?: string })[]][] = [
    ['dot-dot', [{ name: '../escaped', data: 'x' }]],
    ['nested dot-dot', [{ name: 'a/../../escaped', data: 'x' }]],
    ['through symlink', [{ name: 'ln', type: 'symlink', linkname: '..' }, { name: 'ln/escaped', data: 'x' }]],
    ['hardlink out', [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }]],
    ['hardlink to a directory', [{ name: 'd', type: 'directory' }, { name: 'h', type: 'link', linkname: 'd' }]],
    ['hardlink to nothing yet', [{ name: 'h', type: 'link', linkname: 'later' }, { name: 'later', data: 'x' }]],
  ];
  for (const [what, entries] of attacks) {
    await rm(dst, { recursive: true, force: true });
    await mkdir(dst);
    await assert.rejects(receiveContext(Readable.from([await makeTar(entries)]), dst), /invalid (path|hardlink) in build context/, what);
    assert.deepEqual((await readdir(parent)).sort(), ['ctx'], what);
  }
  // An absolute name is taken relative to the context, as Docker does.
  await rm(dst, { recursive: true, force: true });
  await mkdir(dst);
  await receiveContext(Readable.from([await makeTar([{ name: '/abs/file', data: 'ok' }])]), dst);
  assert.equal(await readFile(join(dst, 'abs/file'), 'utf8'), 'ok');
});

test('COPY sources: files, directories, Go wildcards, missing and excluded files', async (t) => {
  const root = await tempDir(t);
  await files(root, { 'a.txt': '1', 'b.txt': '2', 'c.md': '3', 'dir/x.txt': '4', 'dir/sub/y.txt': '5', 'f[1].txt': '6', 'Dockerfile': '' });
  const rels = async (srcs: string[], dest = '/d/', ignore?: IgnoreRules) =>
    (await resolveSources(root, srcs, { cmd: 'COPY', dest, ignore })).map((s) => [s.rel, s.isDir]);
  assert.deepEqual(await rels(['*.txt']), [['a.txt', false], ['b.txt', false], ['f[1].txt', false]]);
  assert.deepEqual(await rels(['?.txt', '/c.md']), [['a.txt', false], ['b.txt', false], ['c.md', false]]);
  assert.deepEqual(await rels(['[ab].txt']), [['a.txt', false], ['b.txt', false]]);
  assert.deepEqual(await rels(['f\\[1\\].txt']), [['f[1].txt', false]]);
  assert.deepEqual(await rels(['dir/*']), [['dir/sub', true], ['dir/x.txt', false]]);
  assert.deepEqual(await rels(['*/x.txt']), [['dir/x.txt', false]]);
  assert.deepEqual(await rels(['.']), [['', true]]);
  assert.deepEqual(await rels(['./dir/../a.txt'], '/d'), [['a.txt', false]]);
  await assert.rejects(rels(['nope.txt']), { message: 'COPY failed: file not found in build context or excluded by .dockerignore: stat nope.txt: file does not exist', status: 404 } as object);
  await assert.rejects(rels(['*.none']), /COPY failed: no source files were specified/);
  // Heredoc or URL sources of the same instruction count too.
  assert.deepEqual(await resolveSources(root, [], { cmd: 'COPY', dest: '/d', others: 1 }), []);
  await assert.rejects(resolveSources(root, ['a.txt'], { cmd: 'ADD', dest: '/d', others: 1 }), /When using ADD with more than one source file/);
  await assert.rejects(rels(['a.txt', 'b.txt'], '/d'), /When using COPY with more than one source file, the destination must be a directory and end with a \//);
  await assert.rejects(rels(['*.txt'], '/d'), /must be a directory and end with a \//);
  const ig = new IgnoreRules(['*.md', 'dir/sub']);
  await assert.rejects(rels(['c.md'], '/d', ig), /not found in build context or excluded by .dockerignore: stat c.md/);
  assert.deepEqual(await rels(['*'], '/d/', ig), [['Dockerfile', false], ['a.txt', false], ['b.txt', false], ['dir', true], ['f[1].txt', false]]);
});

test('COPY sources: symlinks are followed but never out of the root', async (t) => {
  const outside = await tempDir(t);
  await writeFile(join(outside, 'secret'), 'no');
  const root = await tempDir(t);
  await files(root, { 'real/file': 'in', 'secret': 'root-secret' });
  await symlink('/secret', join(root, 'abs-link'));
  await symlink(join(outside, 'secret'), join(root, 'out-link'));
  await symlink('../../../../secret', join(root, 'real/rel-link'));
  await symlink('real', join(root, 'dirlink'));
  const r = await resolveSources(root, ['abs-link', 'real/rel-link', 'dirlink/file'], { cmd: 'COPY', dest: '/d/' });
  assert.deepEqual(r.map((s) => s.abs), [join(root, 'secret'), join(root, 'secret'), join(root, 'real/file')]);
  // A link to a host path means that path inside the root, which does not exist here.
  await assert.rejects(resolveSources(root, ['out-link'], { cmd: 'COPY', dest: '/d' }), /stat out-link: file does not exist/);
});

test('copy targets: trailing slash means into; a directory copies its contents', () => {
  const f = { pattern: 'a.txt', rel: 'sub/a.txt', abs: '/c/sub/a.txt', isDir: false };
  const d = { pattern: 'src', rel: 'src', abs: '/c/src', isDir: true };
  assert.deepEqual(copyTargets([f], '/app/').map((x) => [x.dest, x.intoIfDir]), [['/app/a.txt', false]]);
  assert.deepEqual(copyTargets([f], '/app/b.txt').map((x) => [x.dest, x.intoIfDir]), [['/app/b.txt', true]]);
  assert.deepEqual(copyTargets([d], '/app/').map((x) => [x.dest, x.intoIfDir]), [['/app', false]]);
  assert.deepEqual(copyTargets([d], '/').map((x) => x.dest), ['/']);
});

test('checksums: stable, and a change to one file changes only that file and its parents', async (t) => {
  const root = await tempDir(t);
  const tree: Record<string, string> = {};
  for (let i = 0; i < 30; i++) tree[`d${i % 3}/f${i}.txt`] = `content ${i}`;
  await files(root, tree);
  const paths = Object.keys(tree);
  const all = async () => {
    const h = new SourceHasher({ root });
    try {
      const out = new Map<string, string>();
      for (const p of [...paths, 'd0', 'd1', 'd2', '']) out.set(p, await h.digest(join(root, p)));
      return out;
    } finally {
      await h.close();
    }
  };
  const before = await all();
  assert.deepEqual(await all(), before, 'stable across hashers');
  // Times are not part of the checksum.
  await utimes(join(root, 'd1/f4.txt'), new Date(0), new Date(0));
  assert.deepEqual(await all(), before, 'touching times changes nothing');
  await writeFile(join(root, 'd1/f4.txt'), 'changed');
  const after = await all();
  const changed = [...before.keys()].filter((k) => before.get(k) !== after.get(k));
  assert.deepEqual(changed.sort(), ['', 'd1', 'd1/f4.txt']);
  // Metadata counts: mode, and a file's name inside its directory.
  await chmod(join(root, 'd2/f5.txt'), 0o600);
  const moded = await all();
  assert.notEqual(moded.get('d2/f5.txt'), after.get('d2/f5.txt'));
  const digestOnce = async (p: string) => {
    const h = new SourceHasher({ root });
    try {
      return await h.digest(p);
    } finally {
      await h.close();
    }
  };
  const d0 = await digestOnce(join(root, 'd0'));
  await writeFile(join(root, 'd0/f0-renamed.txt'), await readFile(join(root, 'd0/f0.txt')));
  await rm(join(root, 'd0/f0.txt'));
  assert.notEqual(await digestOnce(join(root, 'd0')), d0);
  // What one walk hashed is remembered.
  const once = new SourceHasher({ root });
  try {
    await once.digest(join(root, 'd1'));
    await once.digest(join(root, 'd1/f1.txt'));
    assert.equal(once.walks, 1);
    await assert.rejects(once.digest(join(root, 'missing')), /ENOENT/);
  } finally {
    await once.close();
  }
});

test('a received context hides an excluded Dockerfile and .dockerignore from COPY', async (t) => {
  const src = await tempDir(t);
  await files(src, { 'Dockerfile': 'FROM busybox\nCOPY . /\n', '.dockerignore': 'Dockerfile\n.dockerignore\n', 'app': 'a' });
  const tmp = await tempDir(t);
  const ctx = await contextFromTar((await packContext(src)).stream, { tmpRoot: tmp });
  try {
    assert.equal(await ctx.readDockerfile('Dockerfile'), 'FROM busybox\nCOPY . /\n');
    await ctx.hideBuildFiles('Dockerfile');
    await assert.rejects(ctx.resolve(['Dockerfile'], '/x', 'COPY'), /excluded by .dockerignore: stat Dockerfile/);
    const [dot] = await ctx.resolve(['.'], '/', 'COPY');
    await ctx.materialize();
    const plain = new SourceHasher({ root: ctx.root });
    const withHidden = await plain.digest(dot.abs);
    await plain.close();
    assert.notEqual(await ctx.digest(dot), withHidden, 'hidden files do not count in the checksum');
    assert.equal(typeof await ctx.sourcesDigest(await ctx.resolve(['app'], '/x', 'COPY')), 'string');
    await assert.rejects(ctx.readDockerfile('nope/Dockerfile'), /Cannot locate specified Dockerfile: nope\/Dockerfile/);
  } finally {
    await ctx.close();
  }
  assert.deepEqual(await readdir(tmp), [], 'close removes the received files');
});

test('a directory context hides what .dockerignore excludes', async (t) => {
  const dir = await tempDir(t);
  await files(dir, { 'Dockerfile': '', '.dockerignore': 'logs\n', 'logs/a.log': 'x', 'src/a': 'y' });
  const ctx = await contextFromDirectory(dir);
  await assert.rejects(ctx.resolve(['logs/a.log'], '/x', 'ADD'), /ADD failed: file not found/);
  assert.deepEqual((await ctx.resolve(['*'], '/x/', 'COPY')).map((s) => s.rel), ['.dockerignore', 'Dockerfile', 'src']);
  await ctx.close();
  assert.ok((await lstat(join(dir, 'logs/a.log'))).isFile(), 'a directory context is left alone');
});

test('digests taken while receiving equal digests read from disk (small, large and hardlinked files)', async (t) => {
  const src = await tempDir(t);
  await files(src, { 'Dockerfile': 'FROM x\n', 'a/small.txt': 'small', 'a/b/c.txt': 'c' });
  await writeFile(join(src, 'a/big.bin'), Buffer.alloc(5 << 20, 7));
  await chmod(join(src, 'a/small.txt'), 0o700);
  await link(join(src, 'a/small.txt'), join(src, 'a/hard.txt'));
  await symlink('b/c.txt', join(src, 'a/ln'));
  const tmp = await tempDir(t);
  const received = await contextFromTar((await packContext(src)).stream, { tmpRoot: tmp });
  const onDisk = await contextFromDirectory(received.root);
  try {
    for (const p of ['a', 'a/big.bin', 'a/hard.txt', '.']) {
      const [viaTar] = await received.resolve([p], '/x/', 'COPY');
      const [viaDir] = await onDisk.resolve([p], '/x/', 'COPY');
      assert.equal(await received.digest(viaTar), await onDisk.digest(viaDir), p);
    }
  } finally {
    await received.close();
    await onDisk.close();
  }
});

test('ADD recognises tar archives by content, not by name', async (t) => {
  const dir = await tempDir(t);
  const tarBuf = await makeTar([{ name: 'x/y.txt', data: 'y' }]);
  await writeFile(join(dir, 'a.tar'), tarBuf);
  await writeFile(join(dir, 'a.tgz'), gzipSync(tarBuf));
  await writeFile(join(dir, 'fake.tar.gz'), gzipSync(Buffer.from('just text, no tar header here')));
  await writeFile(join(dir, 'notes.txt'), 'hello');
  await writeFile(join(dir, 'big.tar.gz'), gzipSync(Buffer.concat([tarBuf.subarray(0, 512), randomBytes(1 << 20)])));
  const { archiveKind } = await import('./context/archive.js');
  assert.equal(await archiveKind(join(dir, 'a.tar')), 'tar');
  assert.equal(await archiveKind(join(dir, 'a.tgz')), 'gzip');
  assert.equal(await archiveKind(join(dir, 'big.tar.gz')), 'gzip');
  assert.equal(await archiveKind(join(dir, 'fake.tar.gz')), undefined);
  assert.equal(await archiveKind(join(dir, 'notes.txt')), undefined);
});

test('a small plain context is held in memory with the same answers as on disk; its files reach the disk only on materialize', async (t) => {
  const src = await tempDir(t);
  await files(src, { 'Dockerfile': 'FROM x\n', 'a/x.txt': 'x', 'a/b/c.txt': 'c', 'd/': '', 'sp ace.txt': 's', 'b.txt': 'b' });
  await chmod(join(src, 'a/x.txt'), 0o600);
  await chmod(join(src, 'd'), 0o750);
  const tmp = await tempDir(t);
  const mem = await contextFromTar((await packContext(src)).stream, { tmpRoot: tmp });
  const disk = await contextFromTar((await packContext(src)).stream, { tmpRoot: tmp, memory: false });
  // A tar without entries for its parent directories: they are made as mkdir -p makes them.
  const bare = await makeTar([{ name: './', type: 'directory', mode: 0o755 }, { name: 'q/r/s.txt', data: 's', mode: 0o640 }, { name: 'Dockerfile', data: 'FROM y\n' }]);
  const memBare = await contextFromTar(Readable.from([bare]), { tmpRoot: tmp });
  const diskBare = await contextFromTar(Readable.from([bare]), { tmpRoot: tmp, memory: false });
  try {
    assert.ok(mem.received?.tree && memBare.received?.tree, 'held in memory');
    assert.equal(disk.received?.tree, undefined);
    assert.deepEqual(await readdir(mem.root), [], 'nothing written yet');
    assert.equal(await mem.readDockerfile('./Dockerfile'), 'FROM x\n');
    for (const [m, d, patterns] of [[mem, disk, ['a', 'a/x.txt', '.', 'a/b', 'd', '*.txt', 'a/*', '/a//b/']], [memBare, diskBare, ['q', '.', 'q/r/s.txt', '*/r']]] as const) {
      for (const p of patterns) {
        const viaMem = await m.resolve([p], '/x/', 'COPY');
        const viaDisk = await d.resolve([p], '/x/', 'COPY');
        assert.deepEqual(viaMem.map((s) => [s.rel, s.isDir]), viaDisk.map((s) => [s.rel, s.isDir]), p);
        assert.equal(await m.sourcesDigest(viaMem), await d.sourcesDigest(viaDisk), p);
      }
    }
    await assert.rejects(mem.resolve(['nope'], '/x', 'COPY'), /COPY failed: file not found in build context or excluded by .dockerignore: stat nope/);
    await assert.rejects(mem.readDockerfile('a'), /Cannot locate specified Dockerfile: a/);
    await mem.materialize();
    assert.equal(await readFile(join(mem.root, 'a/b/c.txt'), 'utf8'), 'c');
    assert.equal((await stat(join(mem.root, 'a/x.txt'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(mem.root, 'd'))).mode & 0o777, 0o750);
    const [dot] = await mem.resolve(['.'], '/', 'COPY');
    const h = new SourceHasher({ root: mem.root });
    assert.equal(await h.digest(mem.root), await mem.digest(dot), 'the materialized files hash as the memory tree did');
    await h.close();
  } finally {
    for (const c of [mem, disk, memBare, diskBare]) await c.close();
  }
});

test('contexts with links, or too big for memory, go to disk (a spill keeps what came before)', async (t) => {
  const tmp = await tempDir(t);
  const big = await makeTar([{ name: 'first.txt', data: 'first' }, { name: 'big.bin', data: 'z'.repeat(9 << 20) }, { name: 'after.txt', data: 'after' }]);
  const ctx = await contextFromTar(Readable.from([big]), { tmpRoot: tmp });
  const linked = await contextFromTar(Readable.from([await makeTar([{ name: 'f', data: 'f' }, { name: 'l', type: 'symlink', linkname: 'f' }])]), { tmpRoot: tmp });
  try {
    assert.equal(ctx.received?.tree, undefined);
    assert.deepEqual((await readdir(ctx.root)).sort(), ['after.txt', 'big.bin', 'first.txt']);
    assert.equal(linked.received?.tree, undefined);
    assert.equal(await readlink(join(linked.root, 'l')), 'f');
  } finally {
    await ctx.close();
    await linked.close();
  }
});
