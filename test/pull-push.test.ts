// Pull and push through berthd, against registries on loopback: berth
// registry, Debian's docker-registry, fixtures that break transfers.
// Logins and the docker CLI are in registry-auth.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../src/engine/distribution/client.js';
import { MediaType } from '../src/engine/distribution/oci.js';
import { startTestDaemon, type TestDaemon } from './helpers/daemon.js';
import { berth } from './helpers/cli.js';
import { startRegistry, type TestRegistry } from './helpers/registry.js';
import { startProxy } from './helpers/proxy.js';
import { haveDistribution, makeTarImage, putImage, startDistribution } from './helpers/images.js';

const lines = (s: string) => s.split('\n').filter(Boolean);

describe('pull and push through berthd', () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let client: RegistryClient;
  let work: string;
  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'berth-pull-'));
    reg = await startRegistry();
    d = await startTestDaemon(['--max-concurrent-downloads', '2']);
    client = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent' });
  });
  after(async () => {
    await client?.close();
    await d?.cleanup();
    await reg?.stop();
    await rm(work, { recursive: true, force: true });
  });
  const env = () => ({ DOCKER_CONFIG: path.join(work, 'cfg') });

  it('pushes an image, pulls it back after rmi with the same ID and digest, and records RepoDigests', async () => {
    const name = `${reg.host}/pp/box`;
    const id = (await berth(d, ['images', '-q', '--no-trunc', 'busybox'])).stdout.trim();
    assert.equal((await berth(d, ['tag', 'busybox', name])).code, 0);
    const push = await berth(d, ['push', name], { env: env() });
    assert.equal(push.code, 0, push.stderr);
    const out = lines(push.stdout);
    assert.equal(out[0], 'Using default tag: latest');
    assert.equal(out[1], `The push refers to repository [${name}]`);
    assert.match(out.find((l) => l.endsWith(': Pushed')) ?? '', /^[a-f0-9]{12}: Pushed$/);
    const last = /^latest: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/.exec(out[out.length - 1]);
    assert.ok(last, push.stdout);
    const digest = last[1];
    const again = await berth(d, ['push', name], { env: env() });
    assert.match(again.stdout, /: Layer already exists\n/);
    // Another repository on the same registry: the layer is mounted, not uploaded again.
    assert.equal((await berth(d, ['tag', 'busybox', `${reg.host}/pp/other`])).code, 0);
    const mounted = await berth(d, ['push', `${reg.host}/pp/other`], { env: env() });
    assert.equal(mounted.code, 0, mounted.stderr);
    assert.match(mounted.stdout, /^[a-f0-9]{12}: Mounted from pp\/box$/m);
    assert.equal((await berth(d, ['rmi', `${reg.host}/pp/other`])).code, 0);
    const missing = await berth(d, ['push', `${reg.host}/pp/other:v9`], { env: env() });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `Error response from daemon: An image does not exist locally with the tag: ${reg.host}/pp/other\n`);

    assert.equal((await berth(d, ['rmi', name])).code, 0);
    const pull = await berth(d, ['pull', name], { env: env() });
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(lines(pull.stdout).slice(-3), [`Digest: ${digest}`, `Status: Downloaded newer image for ${name}:latest`, `${name}:latest`]);
    assert.equal((await berth(d, ['images', '-q', '--no-trunc', name])).stdout.trim(), id);
    const inspect = JSON.parse((await berth(d, ['image', 'inspect', name])).stdout)[0];
    assert.deepEqual(inspect.RepoDigests, [`${name}@${digest}`]);
    assert.match((await berth(d, ['images', '--digests', name])).stdout, new RegExp(`${name.replace(/[.]/g, '\\.')}\\s+latest\\s+${digest}`));
    const up = await berth(d, ['pull', name], { env: env() });
    assert.deepEqual(lines(up.stdout), ['Using default tag: latest', 'latest: Pulling from pp/box', `Digest: ${digest}`, `Status: Image is up to date for ${name}:latest`, `${name}:latest`]);
    // By digest, too.
    assert.equal((await berth(d, ['pull', '-q', `${name}@${digest}`])).code, 0);
  });

  it('pulls gzip, zstd and plain layers, unpacks them, and runs a missing image by pulling it', async () => {
    const img = await makeTarImage([
      { files: { 'a/one.txt': 'one\n' }, compression: 'gzip' },
      { files: { 'a/two.txt': 'two\n' }, compression: 'zstd' },
      { files: { 'a/three.txt': 'three\n' }, compression: 'none' },
    ]);
    const busybox = JSON.parse((await berth(d, ['image', 'inspect', 'busybox'])).stdout)[0];
    assert.ok(busybox.RootFS.Layers.length >= 1);
    await putImage(client, { domain: reg.host, path: 'pp/layers' }, img, 'v1');
    const name = `${reg.host}/pp/layers:v1`;
    const pull = await berth(d, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    for (const l of img.layers) {
      const short = l.digest.slice(7, 19);
      assert.ok(pull.stdout.includes(`${short}: Pulling fs layer\n`), pull.stdout);
      assert.ok(pull.stdout.includes(`${short}: Download complete\n`));
      assert.ok(pull.stdout.includes(`${short}: Pull complete\n`));
    }
    const inspect = JSON.parse((await berth(d, ['image', 'inspect', name])).stdout)[0];
    assert.equal(inspect.Id, img.config.digest);
    assert.deepEqual(inspect.RootFS.Layers, img.diffIds);

    // A runnable image on the registry: busybox's layer below a layer of our own.
    const runnable = `${reg.host}/pp/runme`;
    assert.equal((await berth(d, ['tag', 'busybox', runnable])).code, 0);
    assert.equal((await berth(d, ['push', '-q', runnable])).code, 0);
    assert.equal((await berth(d, ['rmi', runnable])).code, 0);
    const cleanName = `${reg.host}/pp/runme2`;
    assert.equal((await berth(d, ['tag', 'busybox', cleanName])).code, 0);
    assert.equal((await berth(d, ['push', '-q', cleanName])).code, 0);
    assert.equal((await berth(d, ['rmi', cleanName])).code, 0);
    const run = await berth(d, ['run', '--rm', cleanName, 'echo', 'pulled and ran']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'pulled and ran\n');
    assert.ok(run.stderr.startsWith(`Unable to find image '${cleanName}:latest' locally\n`), run.stderr);
    assert.match(run.stderr, /Status: Downloaded newer image for /);
    const missing = await berth(d, ['run', '--rm', `${reg.host}/pp/nothing`]);
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, new RegExp(`manifest for ${reg.host}/pp/nothing:latest not found: manifest unknown`));
  });

  it('picks this machine\'s platform from a multi-arch index, or the one asked for', async () => {
    const amd = await makeTarImage([{ files: { arch: 'amd64\n' } }], 'amd64');
    const arm = await makeTarImage([{ files: { arch: 'arm64\n' } }], 'arm64');
    const repo = { domain: reg.host, path: 'pp/multi' };
    await putImage(client, repo, amd, amd.digest);
    await putImage(client, repo, arm, arm.digest);
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociIndex,
      manifests: [
        { mediaType: arm.mediaType, digest: arm.digest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: amd.mediaType, digest: amd.digest, size: amd.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }));
    const indexDigest = await client.putManifest(repo, 'latest', index, MediaType.ociIndex);
    const name = `${reg.host}/pp/multi`;
    const pull = await berth(d, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, new RegExp(`Digest: ${indexDigest}\n`));
    const inspect = JSON.parse((await berth(d, ['image', 'inspect', name])).stdout)[0];
    assert.equal(inspect.Id, amd.config.digest);
    assert.equal(inspect.Architecture, 'amd64');
    assert.deepEqual(inspect.RepoDigests, [`${name}@${indexDigest}`]);
    const armPull = await berth(d, ['pull', '--platform', 'linux/arm64', `${name}:latest`]);
    assert.equal(armPull.code, 0, armPull.stderr);
    assert.equal(JSON.parse((await berth(d, ['image', 'inspect', name])).stdout)[0].Id, arm.config.digest);
    const none = await berth(d, ['pull', '--platform', 'linux/s390x', name]);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  it('pulls every tag with -a', async () => {
    const repo = { domain: reg.host, path: 'pp/tags' };
    const a = await makeTarImage([{ files: { t: 'a' } }]);
    const b = await makeTarImage([{ files: { t: 'b' } }]);
    await putImage(client, repo, a, 'one');
    await putImage(client, repo, b, 'two');
    const r = await berth(d, ['pull', '-a', `${reg.host}/pp/tags`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /one: Pulling from pp\/tags\n/);
    assert.match(r.stdout, /two: Pulling from pp\/tags\n/);
    assert.equal(lines(r.stdout).pop(), `${reg.host}/pp/tags`);
    assert.equal((await berth(d, ['images', '-q', '--no-trunc', `${reg.host}/pp/tags:one`])).stdout.trim(), a.config.digest);
    assert.equal((await berth(d, ['images', '-q', '--no-trunc', `${reg.host}/pp/tags:two`])).stdout.trim(), b.config.digest);
  });

  it('leaves no image when a blob is corrupt or cut short, and a retry reuses the layers it verified', async () => {
    const img = await makeTarImage([{ files: { first: 'x'.repeat(50_000) } }, { files: { second: 'y'.repeat(60_000) } }]);
    await putImage(client, { domain: reg.host, path: 'pp/broken' }, img, 'v1');
    const bad = img.layers[1].digest;
    let mode: 'corrupt' | 'truncate' | 'ok' = 'corrupt';
    const gets = new Map<string, number>();
    const proxy = await startProxy(reg.url, (req, res) => {
      const m = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '');
      if (m && req.method === 'GET') gets.set(m[1], (gets.get(m[1]) ?? 0) + 1);
      if (!m || m[1] !== bad || req.method !== 'GET' || mode === 'ok') return false;
      const bytes = Buffer.from(img.layers[1].bytes);
      if (mode === 'corrupt') {
        bytes[bytes.length - 20] ^= 0xff;
        res.writeHead(200, { 'Content-Length': bytes.length, 'Docker-Content-Digest': bad }).end(bytes);
      } else {
        res.writeHead(200, { 'Content-Length': bytes.length });
        res.end(bytes.subarray(0, 100)); // shorter than announced: the client sees the body end early
      }
      return true;
    });
    try {
      const name = `${proxy.host}/pp/broken:v1`;
      const corrupt = await berth(d, ['pull', name]);
      assert.notEqual(corrupt.code, 0);
      assert.match(corrupt.stderr, /digest mismatch|expected sha256/);
      assert.equal((await berth(d, ['images', '-q', `${proxy.host}/pp/broken`])).stdout, '');
      mode = 'truncate';
      const cut = await berth(d, ['pull', name]);
      assert.notEqual(cut.code, 0);
      assert.equal((await berth(d, ['images', '-q', `${proxy.host}/pp/broken`])).stdout, '');
      const firstGets = gets.get(img.layers[0].digest);
      mode = 'ok';
      const ok = await berth(d, ['pull', name]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(gets.get(img.layers[0].digest), firstGets, 'the verified first layer was fetched again');
      assert.match(ok.stdout, new RegExp(`${img.layers[0].digest.slice(7, 19)}: Download complete`));
      assert.equal((await berth(d, ['images', '-q', '--no-trunc', `${proxy.host}/pp/broken:v1`])).stdout.trim(), img.config.digest);
    } finally {
      await proxy.stop();
    }
  });

  it('retries a registry answering 5xx, and reports 404 and 401 as Docker does', async () => {
    const img = await makeTarImage([{ files: { f: 'flaky' } }]);
    await putImage(client, { domain: reg.host, path: 'pp/flaky' }, img, 'v1');
    let failures = 2;
    const proxy = await startProxy(reg.url, (req, res) => {
      if (/\/blobs\//.test(req.url ?? '') && req.method === 'GET' && failures > 0) {
        failures--;
        res.writeHead(503).end();
        return true;
      }
      return false;
    });
    try {
      const r = await berth(d, ['pull', '-q', `${proxy.host}/pp/flaky:v1`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(failures, 0);
      const missing = await berth(d, ['pull', `${proxy.host}/pp/absent:v1`]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, `Error response from daemon: manifest for ${proxy.host}/pp/absent:v1 not found: manifest unknown: manifest unknown\n`);
      const refused = await berth(d, ['pull', '127.0.0.1:1/pp/absent:v1']);
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr, 'Error response from daemon: Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused\n');
      const upper = await berth(d, ['pull', `${proxy.host}/Pp/Absent:v1`]);
      assert.deepEqual([upper.code, upper.stderr], [1, 'invalid reference format: repository name (Pp/Absent) must be lowercase\n']);
      const colons = await berth(d, ['pull', 'pp:a:b']);
      assert.deepEqual([colons.code, colons.stderr], [1, 'invalid reference format\n']);
    } finally {
      await proxy.stop();
    }
  });
});

describe('berthd with Debian docker-registry', { skip: !haveDistribution && 'docker-registry not installed' }, () => {
  let d: TestDaemon;
  let dist: { host: string; stop(): Promise<void> };
  before(async () => {
    dist = await startDistribution();
    d = await startTestDaemon();
  });
  after(async () => {
    await d?.cleanup();
    await dist?.stop();
  });

  it('pushes to and pulls from the CNCF registry with the same ID and digest', async () => {
    const name = `${dist.host}/bp/box:v1`;
    const id = (await berth(d, ['images', '-q', '--no-trunc', 'busybox'])).stdout.trim();
    assert.equal((await berth(d, ['tag', 'busybox', name])).code, 0);
    const push = await berth(d, ['push', name]);
    assert.equal(push.code, 0, push.stderr);
    const digest = /v1: digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    assert.equal((await berth(d, ['rmi', name])).code, 0);
    const pull = await berth(d, ['pull', name]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
    assert.equal((await berth(d, ['images', '-q', '--no-trunc', name])).stdout.trim(), id);
  });
});

