import { createHash } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStages } from './dockerfile/instructions.js';
import { planBuild, type PlanOptions, type Step } from './plan.js';
import { contextFromDirectory } from './context.js';
import { copyCreatedBy, stepCacheKey } from './cache-key.js';

const base = { Env: ['PATH=/bin'], Cmd: ['sh'] };

function steps(text: string, opts: PlanOptions = {}): Step[] {
  return planBuild(parseStages(text), { ...opts, baseConfigs: new Map([['busybox', base]]) }).steps.filter((s) => s.kind !== 'from' && s.kind !== 'meta-arg');
}

/** Keys as an executor chains them: each step's parent is the previous step's result (here: its key). */
function chain(list: Step[], parent: string, digests: Record<number, string> = {}): string[] {
  const keys: string[] = [];
  list.forEach((s, i) => {
    const k = stepCacheKey(parent, s, s.kind === 'copy' ? { sourcesDigest: digests[i] ?? 'd' } : undefined);
    keys.push(k);
    parent = k;
  });
  return keys;
}

const changedAt = (a: string[], b: string[]) => a.map((k, i) => (k === b[i] ? '.' : 'x')).join('');

const DF = 'FROM busybox\nARG V=1\nENV E=e\nRUN build\nCOPY app /app\nCMD ["run"]\n';

test('same inputs give the same keys; a different parent changes every key', () => {
  const a = chain(steps(DF), 'sha256:p1');
  assert.deepEqual(chain(steps(DF), 'sha256:p1'), a);
  assert.equal(changedAt(a, chain(steps(DF), 'sha256:p2')), 'xxxxx');
  assert.match(a[0], /^sha256:[0-9a-f]{64}$/);
});

test('build args: unused ones change nothing; a changed one invalidates from the first RUN', () => {
  const a = chain(steps(DF), 'p');
  assert.equal(changedAt(a, chain(steps(DF, { buildArgs: { OTHER: 'x' } }), 'p')), '.....');
  assert.equal(changedAt(a, chain(steps(DF, { buildArgs: { V: '2' } }), 'p')), '..xxx');
  // An instruction that expands the arg changes itself.
  const df = 'FROM busybox\nARG V=1\nENV E=$V\nRUN build\n';
  assert.equal(changedAt(chain(steps(df), 'p'), chain(steps(df, { buildArgs: { V: '2' } }), 'p')), '.xx');
  // Proxy args are not part of the key.
  assert.equal(changedAt(a, chain(steps(DF, { buildArgs: { http_proxy: 'http://proxy:3128' } }), 'p')), '.....');
});

test('an edited instruction invalidates itself and what follows', () => {
  const a = chain(steps(DF), 'p');
  assert.equal(changedAt(a, chain(steps(DF.replace('ENV E=e', 'ENV E=f')), 'p')), '.xxxx');
  assert.equal(changedAt(a, chain(steps(DF.replace('RUN build', 'RUN build2')), 'p')), '..xxx');
  // Spacing between the instruction and its arguments is not part of the command.
  assert.equal(changedAt(a, chain(steps(DF.replace('RUN build', 'RUN   build')), 'p')), '.....');
  assert.equal(changedAt(a, chain(steps(DF.replace('/app', '/srv')), 'p')), '...xx');
  assert.equal(changedAt(a, chain(steps(DF.replace('COPY app', 'COPY --chown=1:1 app')), 'p')), '...xx');
  assert.equal(changedAt(a, chain(steps(DF.replace('CMD ["run"]', 'CMD ["go"]')), 'p')), '....x');
});

test('COPY keys follow the source checksums: touching one file invalidates from its COPY on', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cachekey-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.txt'), 'a');
  await writeFile(join(dir, 'b.txt'), 'b');
  await writeFile(join(dir, 'c.txt'), 'c');
  const df = 'FROM busybox\nCOPY a.txt /a\nRUN step\nCOPY b.txt /b\nRUN step2\nCOPY c.txt /c\n';
  const list = steps(df);
  const keysNow = async () => {
    const ctx = await contextFromDirectory(dir);
    try {
      const digests: Record<number, string> = {};
      for (const [i, s] of list.entries()) {
        if (s.kind === 'copy') digests[i] = await ctx.sourcesDigest(await ctx.resolve(s.sources, s.dest, 'COPY'));
      }
      return chain(list, 'p', digests);
    } finally {
      await ctx.close();
    }
  };
  const before = await keysNow();
  assert.deepEqual(await keysNow(), before);
  await writeFile(join(dir, 'b.txt'), 'B');
  assert.equal(changedAt(before, await keysNow()), '..xxx');
});

test('COPY history text names the kind of source and the destination', () => {
  const [copy] = steps('FROM busybox\nCOPY a /dst/\n') as Extract<Step, { kind: 'copy' }>[];
  assert.equal(copyCreatedBy(copy, [{ isDir: false }], 'abc'), '/bin/sh -c #(nop) COPY file:abc in /dst/ ');
  assert.equal(copyCreatedBy(copy, [{ isDir: true }], 'abc'), '/bin/sh -c #(nop) COPY dir:abc in /dst/ ');
  assert.equal(copyCreatedBy(copy, [{ isDir: false }, { isDir: false }], 'abc'), '/bin/sh -c #(nop) COPY multi:abc in /dst/ ');
  // With Docker's sums: one source is its sum, several a multi: sum over their typed sums.
  assert.equal(copyCreatedBy(copy, [{ isDir: false, sum: 'f1' }]), '/bin/sh -c #(nop) COPY file:f1 in /dst/ ');
  assert.equal(copyCreatedBy(copy, [{ isDir: true, sum: 'd1' }]), '/bin/sh -c #(nop) COPY dir:d1 in /dst/ ');
  const multi = createHash('sha256').update('file:f1,dir:d1').digest('hex');
  assert.equal(copyCreatedBy(copy, [{ isDir: false, sum: 'f1' }, { isDir: true, sum: 'd1' }]), `/bin/sh -c #(nop) COPY multi:${multi} in /dst/ `);
  const [chowned] = steps('FROM busybox\nCOPY --chown=1:2 a /dst/\n') as Extract<Step, { kind: 'copy' }>[];
  assert.equal(copyCreatedBy(chowned, [{ isDir: false, sum: 'f1' }]), '/bin/sh -c #(nop) COPY --chown=1:2file:f1 in /dst/ ', "Docker's text, no space before the sum");
  assert.throws(() => stepCacheKey('p', copy), /needs the sources digest/);
});
