import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { FakeDaemon, reply, runBerth } from './fake-daemon.js';

async function listTar(buf: Buffer): Promise<{ name: string; uid: number; gid: number; body: string }[]> {
  const out: { name: string; uid: number; gid: number; body: string }[] = [];
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => { ex.on('finish', resolve); ex.on('error', reject); });
  ex.on('entry', (h, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: unknown) => parts.push(c as Buffer));
    stream.on('end', () => { out.push({ name: h.name, uid: h.uid ?? -1, gid: h.gid ?? -1, body: Buffer.concat(parts).toString() }); next(); });
  });
  Readable.from([buf]).pipe(ex);
  await done;
  return out;
}

test('build: sends the context tar (.dockerignore applied, owner 0:0) and maps flags to /build', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-build-'));
  const d = new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return reply(res, 200, 'OK');
    if (req.path === '/build') {
      res!.writeHead(200, { 'Content-Type': 'application/json' });
      res!.write(JSON.stringify({ stream: 'Step 1/1 : FROM busybox\n' }) + '\n');
      if (req.query.q === '1') return void res!.end(JSON.stringify({ stream: 'sha256:' + 'b'.repeat(64) + '\n' }) + '\n');
      if (req.query.target === 'fail') return void res!.end(JSON.stringify({ errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: 'x' }) + '\n');
      return void res!.end(JSON.stringify({ stream: 'Successfully built bbbbbbbbbbbb\n' }) + '\n');
    }
    reply(res, 404, { message: 'nope' });
  });
  await d.listen();
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\n');
    writeFileSync(join(dir, 'a.txt'), 'hi\n');
    writeFileSync(join(dir, 'sub', 'secret.txt'), 'no\n');
    writeFileSync(join(dir, 'sub', 'keep.txt'), 'yes\n');
    writeFileSync(join(dir, '.dockerignore'), '# comment\nsub\n!sub/keep.txt\nDockerfile\n');
    let r = await runBerth(d.host, ['build', '-t', 'app:1', '-t', 'app:latest', '--build-arg', 'V=2', '--build-arg', 'FROM_ENV', '--label', 'k=v', '--no-cache', dir], undefined, { FROM_ENV: 'e' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Sending build context to Docker daemon +\d+(\.\d+)?kB\nStep 1\/1 : FROM busybox\nSuccessfully built bbbbbbbbbbbb\n$/);
    const req = d.seen.find((s) => s.path === '/build')!;
    assert.deepEqual(req.params.getAll('t'), ['app:1', 'app:latest']);
    assert.equal(req.query.dockerfile, 'Dockerfile');
    assert.deepEqual(JSON.parse(req.query.buildargs), { V: '2', FROM_ENV: 'e' });
    assert.deepEqual(JSON.parse(req.query.labels), { k: 'v' });
    assert.equal(req.query.nocache, '1');
    assert.equal(req.query.rm, '1');
    const entries = await listTar(req.raw);
    // The Dockerfile and .dockerignore travel even when ignored; sub/ only keeps its exception.
    assert.deepEqual(entries.map((e) => e.name).sort(), ['.dockerignore', 'Dockerfile', 'a.txt', 'sub/keep.txt']);
    assert.ok(entries.every((e) => e.uid === 0 && e.gid === 0));
    assert.equal(entries.find((e) => e.name === 'a.txt')!.body, 'hi\n');

    r = await runBerth(d.host, ['build', '-q', dir]);
    assert.equal(r.stdout, `sha256:${'b'.repeat(64)}\n`);
    r = await runBerth(d.host, ['build', '--target', 'fail', dir]);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n");
    r = await runBerth(d.host, ['build', join(dir, 'missing')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unable to prepare context: path ".*missing" not found/);
  } finally {
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
