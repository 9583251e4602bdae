/**
 * The history texts Docker 20.10's legacy builder wrote for one context
 * (`docker build` with DOCKER_BUILDKIT=0, `docker history --no-trunc`), and
 * ours for the same files: equal, whether the context arrives as a tar held
 * in memory, as a tar extracted to disk, or is a directory used in place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextFromDirectory, contextFromTar, packContext, type BuildContext } from '../context.js';
import { historySources } from './docker-sum.js';

const DOCKERFILE = 'FROM busybox\nCOPY a.txt /a.txt\nCOPY d /d\nCOPY a.txt d/b.txt /m/\nCOPY --chown=1:2 a.txt /c.txt\nCOPY d/* /w/\nADD a.txt /add.txt\nCOPY . /all/\nCOPY d/sub /s\n';

// Sources → the sum part of Docker's `#(nop) COPY <this> in …` for this context.
const DOCKER_WROTE: [string[], string][] = [
  [['a.txt'], 'file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda'],
  [['d'], 'dir:1bd6821c6d96d7a194a0c536c96b7a21c39a4972f33e97ecdd280ad273724e62'],
  [['a.txt', 'd/b.txt'], 'multi:a6a38b381cfaa64c37a8b2c22e5a22dd3e5feb4ef688983378c565560b760688'],
  [['d/*'], 'multi:9701fb18a5dc2f0b898081ebc7fe52b0621a3eaa3128ab7f3bbe9ecdbd8e1591'],
  [['.'], 'dir:9799dd3aca8a28ca5d9c471e8d5f93ef2299af7faf534f26a94af0f1ac33a1cc'],
  [['d/sub'], 'dir:d54277cd398dba6290980b36ceb5ca93ae82fd207619c16bb5b943298d70bd33'],
];

async function fixture(root: string, withLink: boolean): Promise<void> {
  await mkdir(join(root, 'd/sub'), { recursive: true });
  await writeFile(join(root, 'Dockerfile'), DOCKERFILE);
  await writeFile(join(root, 'a.txt'), 'hello\n');
  await writeFile(join(root, 'd/b.txt'), 'bee\n');
  await writeFile(join(root, 'd/sub/run.sh'), '#!/bin/sh\necho x\n');
  if (withLink) await symlink('b.txt', join(root, 'd/link'));
  for (const [p, mode] of [['Dockerfile', 0o644], ['a.txt', 0o644], ['d', 0o755], ['d/b.txt', 0o644], ['d/sub', 0o700], ['d/sub/run.sh', 0o755]] as const) {
    await chmod(join(root, p), mode);
  }
}

async function historyOf(ctx: BuildContext, sources: string[]): Promise<string> {
  const srcs = await ctx.resolve(sources, '/x/', 'COPY');
  return historySources(await Promise.all(srcs.map(async (s) => ({ isDir: s.isDir, sum: await ctx.digest(s) }))));
}

test("COPY sums equal Docker's for the same context: in memory, extracted, and in place", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bsum-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  await fixture(src, true);
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  // The symlink keeps a received context off the memory path: a copy without it checks that path.
  const plain = join(dir, 'plain');
  await fixture(plain, false);
  const contexts: [string, BuildContext, boolean][] = [
    ['received, on disk', await contextFromTar((await packContext(src)).stream, { tmpRoot: tmp }), true],
    ['directory in place', await contextFromDirectory(src), true],
    ['received, in memory', await contextFromTar((await packContext(plain)).stream, { tmpRoot: tmp }), false],
  ];
  try {
    assert.ok(contexts[2]![1].received?.tree, 'the plain context is held in memory');
    for (const [name, ctx, hasLink] of contexts) {
      for (const [sources, docker] of DOCKER_WROTE) {
        const linkFree = sources.every((s) => s === 'a.txt' || s === 'd/b.txt' || s === 'd/sub');
        if (hasLink || linkFree) assert.equal(await historyOf(ctx, sources), docker, `${name}: COPY ${sources.join(' ')}`);
      }
    }
  } finally {
    for (const [, ctx] of contexts) await ctx.close();
  }
});

test('a link pointed elsewhere at an equal file keeps the sum (as in Docker) but changes the cache input', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bsum-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await fixture(dir, true);
  await writeFile(join(dir, 'd/b2.txt'), 'bee\n');
  const before = await contextFromDirectory(dir);
  const [d1] = await before.resolve(['d'], '/x/', 'COPY');
  const sum1 = await before.digest(d1!);
  const key1 = await before.sourcesDigest([d1!]);
  await before.close();
  await rm(join(dir, 'd/link'));
  await symlink('./b.txt', join(dir, 'd/link'));
  const after = await contextFromDirectory(dir);
  const [d2] = await after.resolve(['d'], '/x/', 'COPY');
  assert.equal(await after.digest(d2!), sum1, "Docker's sum follows the link to the same file");
  assert.notEqual(await after.sourcesDigest([d2!]), key1, 'the cache input sees the new target');
  await after.close();
});
