import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { writeTree } from '../helpers/files.js';
import { buildSteps } from '../helpers/build-output.js';

// Where a build's base and cache come from: --cache-from images loaded into
// a data root with an empty build cache, FROM --platform and the automatic
// platform ARGs, and the intermediate containers metadata steps print.
let a: TestDaemon;
let b: TestDaemon;
let work: string;
before(async () => {
  [a, b] = await Promise.all([startTestDaemon(), startTestDaemon()]);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-bsrc-'));
});
after(async () => {
  await Promise.all([a?.cleanup(), b?.cleanup()]);
  await fs.rm(work, { recursive: true, force: true });
});

/** A context directory under the test's work dir. */
const context = (name: string, files: Record<string, string>) => writeTree(path.join(work, name), files);

const stepsOf = buildSteps;

const DOCKERFILE = 'FROM busybox\nENV A=1\nRUN echo built > /marker\nCOPY f.txt /f.txt\nCMD ["cat", "/marker"]\n';

test('--cache-from: an image saved on one daemon and loaded into another serves every step of the same build', async () => {
  const dir = await context('cf', { 'f.txt': 'file one\n', Dockerfile: DOCKERFILE });
  const first = a.berth(['build', '-q', '-t', 'bt-cf:1', dir], { timeoutMs: 120_000 });
  assert.equal(first.code, 0, first.stderr);
  const id = first.stdout.trim();
  const tar = path.join(work, 'cf.tar');
  const saved = a.berth(['save', '-o', tar, 'bt-cf:1']);
  assert.equal(saved.code, 0, saved.stderr);
  const loaded = b.berth(['load', '-i', tar]);
  assert.equal(loaded.code, 0, loaded.stderr);

  // Without --cache-from the other daemon's (empty) cache misses from the first step.
  const plain = b.berth(['build', '-t', 'bt-cf:plain', dir], { timeoutMs: 120_000 });
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(stepsOf(plain.stdout).map((s) => s.cached), [false, false, false, false, false]);
  const rm = b.berth(['rmi', 'bt-cf:plain']);
  assert.equal(rm.code, 0, rm.stderr);

  const r = b.berth(['build', '--cache-from', 'bt-cf:1', '-t', 'bt-cf:2', dir], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(stepsOf(r.stdout), [
    { step: 'FROM busybox', cached: false },
    { step: 'ENV A=1', cached: true },
    { step: 'RUN echo built > /marker', cached: true },
    { step: 'COPY f.txt /f.txt', cached: true },
    { step: 'CMD ["cat", "/marker"]', cached: true },
  ]);
  assert.doesNotMatch(r.stdout, /Running in/);
  // The last step's match is the source image itself.
  assert.match(r.stdout, new RegExp(`Successfully built ${id.slice(7, 19)}\n`));
  const out = b.berth(['run', '--rm', 'bt-cf:2']);
  assert.equal(out.stdout, 'built\n');
  // Restored intermediate images carry the source's history rows, so `history` matches.
  const ha = (await a.api('GET', '/images/bt-cf:1/history')).body as { CreatedBy: string }[];
  const hb = (await b.api('GET', '/images/bt-cf:2/history')).body as { CreatedBy: string }[];
  assert.deepEqual(hb.map((h) => h.CreatedBy), ha.map((h) => h.CreatedBy));
});

test('--cache-from: a changed file misses from its COPY on; an unknown source is skipped', async () => {
  const dir = await context('cf2', { 'f.txt': 'file one\n', Dockerfile: DOCKERFILE });
  const first = a.berth(['build', '-q', '-t', 'bt-cf2:1', dir], { timeoutMs: 120_000 });
  assert.equal(first.code, 0, first.stderr);
  const tar = path.join(work, 'cf2.tar');
  assert.equal(a.berth(['save', '-o', tar, 'bt-cf2:1']).code, 0);
  assert.equal(b.berth(['load', '-i', tar]).code, 0);
  await fs.writeFile(path.join(dir, 'f.txt'), 'file two\n');
  const r = b.berth(['build', '--cache-from', 'bt-cf2:1', '--cache-from', 'bt-nowhere:1', '-t', 'bt-cf2:2', dir], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(stepsOf(r.stdout).map((s) => s.cached), [false, true, true, false, false]);
  assert.equal(b.berth(['run', '--rm', 'bt-cf2:2', 'cat', '/f.txt']).stdout, 'file two\n');
  // As in Docker: naming only missing sources leaves the local cache unused.
  const none = b.berth(['build', '--cache-from', 'bt-nowhere:1', '-t', 'bt-cf2:4', dir], { timeoutMs: 120_000 });
  assert.equal(none.code, 0, none.stderr);
  assert.ok(stepsOf(none.stdout).every((s) => !s.cached), none.stdout);
  // --no-cache wins over --cache-from.
  const nc = b.berth(['build', '--no-cache', '--cache-from', 'bt-cf2:1', '-t', 'bt-cf2:3', dir], { timeoutMs: 120_000 });
  assert.equal(nc.code, 0, nc.stderr);
  assert.ok(stepsOf(nc.stdout).every((s) => !s.cached), nc.stdout);
});

test('FROM --platform: the host platform (any spelling) builds, another one is refused before anything runs; platform ARGs are set', async () => {
  const dir = await context('plat', {
    Dockerfile: [
      'ARG WHERE=$BUILDPLATFORM',
      'FROM --platform=$BUILDPLATFORM busybox',
      'ARG TARGETPLATFORM',
      'ARG TARGETARCH',
      'ARG WHERE',
      'RUN echo "target=$TARGETPLATFORM arch=$TARGETARCH build=$WHERE unset=$BUILDOS."',
    ].join('\n') + '\n',
  });
  const r = a.berth(['build', '--no-cache', dir], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
  assert.match(r.stdout, new RegExp(`\ntarget=linux/${arch} arch=${arch} build=linux/${arch} unset=\\.\n`));

  const x86 = await context('plat-x86', { Dockerfile: 'FROM --platform=linux/x86_64 busybox\nRUN true\n' });
  if (arch === 'amd64') assert.equal(a.berth(['build', '-q', x86]).code, 0);

  const other = arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
  const bad = await context('plat-bad', { Dockerfile: `FROM --platform=${other} busybox\nRUN touch /ran\n` });
  const before = (await a.api('GET', '/containers/json?all=1')).body.length;
  const rb = a.berth(['build', bad]);
  assert.notEqual(rb.code, 0);
  assert.match(rb.stderr, new RegExp(`image with reference busybox was found but does not match the specified platform: wanted ${other}, actual: linux/${arch}`));
  assert.doesNotMatch(rb.stdout, /Running in/);
  assert.match(rb.stdout, new RegExp(`Step 1/2 : FROM --platform=${other} busybox\n$`), 'reported after the FROM step, as Docker does');
  assert.equal((await a.api('GET', '/containers/json?all=1')).body.length, before);

  // The build's --platform applies to every FROM and sets TARGETPLATFORM.
  const plain = await context('plat-opt', { Dockerfile: 'FROM busybox\n' });
  const ro = a.berth(['build', '--platform', other, plain]);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /does not match the specified platform/);
  const unparsable = a.berth(['build', '--platform', 'a/b/c/d', plain]);
  assert.notEqual(unparsable.code, 0);
  assert.match(unparsable.stderr, /failed to parse platform a\/b\/c\/d: "a\/b\/c\/d": cannot parse platform specifier/);
  const badFrom = await context('plat-parse', { Dockerfile: 'FROM --platform=$NOPE busybox\n' });
  const rp = a.berth(['build', badFrom]);
  assert.notEqual(rp.code, 0);
  assert.match(rp.stderr, /Dockerfile:1: failed to parse platform : "" is an invalid component of ""/);
});

test('metadata steps print the real container they commit from, as the legacy builder does, and leave none behind', async () => {
  const dir = await context('meta', { Dockerfile: 'FROM busybox\nMAINTAINER Victor Vieux <victor@docker.com>\nENV A=1\nWORKDIR /w\nRUN true\n' });
  const r = a.berth(['build', '--no-cache', dir], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const ids = [...r.stdout.matchAll(/^ ---> Running in ([0-9a-f]{12})\nRemoving intermediate container \1\n ---> [0-9a-f]{12}$/gm)].map((m) => m[1]);
  assert.equal(ids.length, 4, r.stdout);
  assert.match(r.stdout, /Step 2\/5 : MAINTAINER Victor Vieux <victor@docker.com>\n ---> Running in /);
  assert.equal(new Set(ids).size, 4);
  // Real containers: their create and destroy events are on record.
  const ev = await a.api('GET', `/events?since=0&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ type: ['container'] }))}`);
  for (const id of ids) {
    assert.match(ev.text, new RegExp(`"status":"create","id":"${id}`));
    assert.match(ev.text, new RegExp(`"status":"destroy","id":"${id}`));
  }
  assert.equal((await a.api('GET', '/containers/json?all=1')).body.length, 0);
  // --rm=false keeps them, as Docker does.
  const keep = a.berth(['build', '--no-cache', '--rm=false', dir], { timeoutMs: 120_000 });
  assert.equal(keep.code, 0, keep.stderr);
  assert.doesNotMatch(keep.stdout, /Removing intermediate container/);
  const left = (await a.api('GET', '/containers/json?all=1')).body as { Id: string }[];
  assert.equal(left.length, 4);
  for (const c of left) await a.api('DELETE', `/containers/${c.Id}?force=1`);
});
