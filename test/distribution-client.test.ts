// The registry client against `berth registry` on loopback, directly and
// through misbehaving fixtures: bearer-token auth, basic auth from config.json,
// 5xx and connection resets, corrupt blobs, bounded parallelism.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { RegistryClient, type Repository } from '../src/engine/distribution/client.js';
import { MediaType } from '../src/engine/distribution/oci.js';
import { Layout } from '../src/registry/layout.js';
import { RegistryServer } from '../src/registry/server.js';
import { createServer, type AddressInfo } from 'node:net';
import { startProxy, type Proxy } from './helpers/proxy.js';
import { blob, digestOf, makeImage, type TestImage, startRegistry, type TestRegistry } from './helpers/registry.js';

async function readStream(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function pushImage(c: RegistryClient, repo: Repository, img: TestImage, tag: string, mountFrom?: string) {
  const results = await Promise.all([img.config, ...img.layers].map((b) => c.pushBlob(repo, b, () => Readable.from([b.bytes]), mountFrom)));
  const digest = await c.putManifest(repo, tag, img.manifest, img.mediaType);
  return { results, digest };
}

const fast = { attempts: 4, baseDelayMs: 5 };

describe('registry client against berth registry', () => {
  let reg: TestRegistry;
  let client: RegistryClient;
  const cleanups: (() => Promise<unknown>)[] = [];
  before(async () => {
    reg = await startRegistry();
    client = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', retry: fast });
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await client.close();
    await reg.stop();
  });

  it('pushes an image, skips existing layers, mounts across repositories, and pulls it back verified', async () => {
    const repo = { domain: reg.host, path: 'team/app' };
    const img = makeImage([3000, 70_000]);
    const first = await pushImage(client, repo, img, 'v1');
    assert.deepEqual(first.results, ['pushed', 'pushed', 'pushed']);
    assert.equal(first.digest, img.digest);
    assert.deepEqual((await pushImage(client, repo, img, 'v2')).results, ['exists', 'exists', 'exists']);
    const other = { domain: reg.host, path: 'team/copy' };
    assert.deepEqual((await pushImage(client, other, img, 'v1', 'team/app')).results, ['mounted', 'mounted', 'mounted']);

    const m = await client.resolveManifest(`${reg.host}/team/app:v1`);
    assert.equal(m.digest, img.digest);
    assert.equal(m.mediaType, MediaType.ociManifest);
    assert.equal(m.index, undefined);
    for (const [i, l] of m.manifest.layers.entries()) {
      assert.ok((await readStream(await client.fetchBlob(m.repo, l))).equals(img.layers[i].bytes));
    }
    const byDigest = await client.resolveManifest(`${reg.host}/team/copy@${img.digest}`);
    assert.equal(byDigest.digest, img.digest);
    assert.deepEqual(await client.listTags(repo, 1), ['v1', 'v2']);
    await assert.rejects(client.resolveManifest(`${reg.host}/team/app:nope`), { name: 'NotFound', message: `manifest for ${reg.host}/team/app:nope not found: manifest unknown: manifest unknown` });
  });

  it('picks the platform from a multi-arch index', async () => {
    const repo = { domain: reg.host, path: 'multi' };
    const amd = makeImage([100], 'amd64');
    const arm = makeImage([200], 'arm64');
    await pushImage(client, repo, amd, amd.digest);
    await pushImage(client, repo, arm, arm.digest);
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociIndex,
      manifests: [
        { mediaType: arm.mediaType, digest: arm.digest, size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: amd.mediaType, digest: amd.digest, size: amd.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }));
    await client.putManifest(repo, 'latest', index, MediaType.ociIndex);
    const def = await client.resolveManifest(`${reg.host}/multi`);
    assert.equal(def.digest, process.arch === 'arm64' ? arm.digest : amd.digest);
    assert.equal(def.index?.digest, digestOf(index));
    assert.equal((await client.resolveManifest(`${reg.host}/multi:latest`, 'linux/arm64')).digest, arm.digest);
    await assert.rejects(client.resolveManifest(`${reg.host}/multi`, 'linux/ppc64le'), /no matching manifest for linux\/ppc64le/);
  });

  it('fails a blob stream whose bytes do not match the digest or are cut short', async () => {
    const repo = { domain: reg.host, path: 'tamper' };
    const b = blob(Buffer.alloc(50_000, 1));
    assert.equal(await client.pushBlob(repo, b, () => Readable.from([b.bytes])), 'pushed');
    const file = new Layout(reg.root).blob(b.digest);
    await writeFile(file, Buffer.alloc(50_000, 2)); // same size, other bytes
    await assert.rejects(readStream(await client.fetchBlob(repo, b)), /digest mismatch/);
    await writeFile(file, Buffer.alloc(10, 1)); // truncated
    await assert.rejects(readStream(await client.fetchBlob(repo, b)), /got 10 of 50000 bytes/);
    await assert.rejects(client.fetchBlob(repo, blob('absent')), { name: 'NotFound' });
  });

  it('runs the bearer-token flow with credentials from config.json', async () => {
    const cfg = await mkdtemp(path.join(tmpdir(), 'berth-client-cfg-'));
    cleanups.push(() => rm(cfg, { recursive: true, force: true }));
    const granted = new Map<string, string[]>();
    const tokenRequests: URLSearchParams[] = [];
    let proxy: Proxy;
    proxy = await startProxy(reg.url, (req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/token' && req.method === 'POST') {
        // OAuth2 refresh-token grant, as Docker uses for identity tokens.
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => {
          const form = new URLSearchParams(body);
          if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== 'refresh-me') {
            res.writeHead(401).end();
            return;
          }
          const token = `oauth-${form.get('scope')}`;
          granted.set(token, form.get('scope')!.split(' '));
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: token, expires_in: 300 }));
        });
        return true;
      }
      if (url.pathname === '/token') {
        tokenRequests.push(url.searchParams);
        if (req.headers.authorization !== 'Basic ' + Buffer.from('tokuser:tokpass').toString('base64')) {
          res.writeHead(401).end('{"details":"incorrect username or password"}');
          return true;
        }
        const token = `tok-${tokenRequests.length}`;
        granted.set(token, url.searchParams.getAll('scope'));
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
        return true;
      }
      const repo = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(url.pathname)?.[1];
      const need = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
      const scopes = granted.get((req.headers.authorization ?? '').replace(/^Bearer /, '')) ?? [];
      const ok = url.pathname === '/v2/' ? scopes.length > 0
        : scopes.some((s) => s.startsWith(`repository:${repo}:`) && s.split(':')[2].split(',').includes(need));
      if (ok) return false;
      const scope = `repository:${repo}:${need === 'push' ? 'pull,push' : 'pull'}`;
      res.writeHead(401, {
        'WWW-Authenticate': `Bearer realm="${proxy.url}/token",service="berth-test",scope="${scope}"`,
        'Content-Type': 'application/json',
      }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return true;
    });
    cleanups.push(() => proxy.stop());
    await writeFile(path.join(cfg, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from('tokuser:tokpass').toString('base64') } } }));

    const c = new RegistryClient({ dockerConfigDir: cfg, certsDir: '/nonexistent', retry: fast });
    cleanups.push(() => c.close());
    const repo = { domain: proxy.host, path: 'secure/app' };
    const img = makeImage([500, 600]);
    assert.deepEqual((await pushImage(c, repo, img, 'v1')).results, ['pushed', 'pushed', 'pushed']);
    const m = await c.resolveManifest(`${proxy.host}/secure/app:v1`);
    assert.equal(m.digest, img.digest);
    assert.ok((await readStream(await c.fetchBlob(repo, m.manifest.layers[1]))).equals(img.layers[1].bytes));
    assert.equal(tokenRequests[0].get('service'), 'berth-test');
    assert.equal(tokenRequests[0].get('account'), 'tokuser');
    assert.deepEqual(tokenRequests.map((q) => q.getAll('scope').join(' ')).sort(), ['repository:secure/app:pull', 'repository:secure/app:pull,push']);

    // An identity token (what `docker login` stores for OAuth registries) is exchanged by POST.
    await writeFile(path.join(cfg, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { identitytoken: 'refresh-me' } } }));
    const oauth = new RegistryClient({ dockerConfigDir: cfg, certsDir: '/nonexistent', retry: fast });
    cleanups.push(() => oauth.close());
    assert.equal((await oauth.resolveManifest(`${proxy.host}/secure/app:v1`)).digest, img.digest);
    assert.ok([...granted.keys()].includes('oauth-repository:secure/app:pull'));

    // Wrong password: the token server refuses and the client says so.
    await writeFile(path.join(cfg, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from('tokuser:nope').toString('base64') } } }));
    const bad = new RegistryClient({ dockerConfigDir: cfg, certsDir: '/nonexistent', retry: fast });
    cleanups.push(() => bad.close());
    await assert.rejects(bad.resolveManifest(`${proxy.host}/secure/app:v1`), { name: 'Unauthorized', message: 'unauthorized: incorrect username or password' });
  });

  it('uses basic auth against an htpasswd registry and reports 401 without credentials', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'berth-client-basic-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'htpasswd'), `bob:${bcrypt.hashSync('pw', 4)}\n`);
    const locked = await startRegistry({ htpasswd: path.join(dir, 'htpasswd') });
    cleanups.push(() => locked.stop());
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from('bob:pw').toString('base64') } } }));
    const c = new RegistryClient({ dockerConfigDir: dir, certsDir: '/nonexistent', retry: fast });
    cleanups.push(() => c.close());
    const img = makeImage([10]);
    await pushImage(c, { domain: locked.host, path: 'b' }, img, 'v1');
    assert.equal((await c.resolveManifest(`${locked.host}/b:v1`)).digest, img.digest);
    const anon = new RegistryClient({ dockerConfigDir: '/nonexistent', certsDir: '/nonexistent', retry: fast });
    cleanups.push(() => anon.close());
    // Docker's words, and not a 401 (the docker CLI would prompt for a login).
    await assert.rejects(anon.resolveManifest(`${locked.host}/b:v1`), { name: 'NoCredentials', status: 500, message: `Head "http://${locked.host}/v2/b/manifests/v1": no basic auth credentials` });
  });

  it('retries 5xx answers and connection resets, then succeeds', async () => {
    const img = makeImage([1000]);
    const repo = { path: 'flaky' };
    await pushImage(client, { domain: reg.host, ...repo }, img, 'v1');
    const seen = { manifest: 0, blob: 0, upload: 0 };
    const proxy = await startProxy(reg.url, (req, res) => {
      if (req.url!.includes('/manifests/') && ++seen.manifest <= 2) {
        res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
        return true;
      }
      if (req.url!.includes(`/blobs/${img.layers[0].digest}`) && ++seen.blob === 1) {
        req.socket.destroy(); // connection reset before any answer
        return true;
      }
      if (req.method === 'PUT' && req.url!.includes('/blobs/uploads/') && ++seen.upload === 1) {
        req.resume();
        res.writeHead(502).end();
        return true;
      }
      return false;
    });
    cleanups.push(() => proxy.stop());
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', retry: fast });
    cleanups.push(() => c.close());
    const m = await c.resolveManifest(`${proxy.host}/flaky:v1`);
    assert.equal(m.digest, img.digest);
    assert.ok(seen.manifest >= 3);
    assert.ok((await readStream(await c.fetchBlob({ domain: proxy.host, ...repo }, img.layers[0]))).equals(img.layers[0].bytes));
    assert.equal(seen.blob, 2);
    const nb = blob('uploaded after a 502');
    assert.equal(await c.pushBlob({ domain: proxy.host, ...repo }, nb, () => Readable.from([nb.bytes])), 'pushed');
    assert.equal(seen.upload, 2);

    // A registry that keeps failing: the error surfaces after the attempts run out.
    const down = await startProxy(reg.url, (_req, res) => { res.writeHead(500).end(); return true; });
    cleanups.push(() => down.stop());
    await assert.rejects(c.resolveManifest(`${down.host}/flaky:v1`), /unexpected status 500/);
  });

  it('resumes a blob download cut mid-stream with a Range request', async () => {
    const repo = { domain: reg.host, path: 'resume' };
    const b = blob(Buffer.from(Array.from({ length: 400_000 }, (_, i) => i % 251)));
    await client.pushBlob(repo, b, () => Readable.from([b.bytes]));
    for (const honourRange of [true, false]) {
      const ranges: (string | undefined)[] = [];
      const proxy = await startProxy(reg.url, (req, res) => {
        if (!req.url!.includes(`/blobs/${b.digest}`) || req.method !== 'GET') return false;
        ranges.push(req.headers.range);
        if (ranges.length === 1) {
          // Headers and 150 kB of the body, then the connection dies.
          res.writeHead(200, { 'Content-Length': b.size, 'Content-Type': 'application/octet-stream' });
          res.write(b.bytes.subarray(0, 150_000), () => setTimeout(() => req.socket.destroy(), 20));
          return true;
        }
        if (!honourRange) delete req.headers.range; // a server that ignores Range answers 200 with everything
        return false;
      });
      cleanups.push(() => proxy.stop());
      const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', retry: fast });
      cleanups.push(() => c.close());
      const got = await readStream(await c.fetchBlob({ domain: proxy.host, path: 'resume' }, b));
      assert.ok(got.equals(b.bytes), `honourRange=${honourRange}`);
      assert.equal(ranges.length, 2);
      assert.equal(ranges[0], undefined);
      assert.match(ranges[1]!, /^bytes=\d+-$/);
      assert.ok(Number(/=(\d+)-/.exec(ranges[1]!)![1]) > 0, 'resumed past the start');
    }
  });

  it('falls back to GET by tag when a registry refuses HEAD on manifests', async () => {
    const img = makeImage([10]);
    await pushImage(client, { domain: reg.host, path: 'nohead' }, img, 'v1');
    let heads = 0;
    const proxy = await startProxy(reg.url, (req, res) => {
      if (req.method !== 'HEAD' || !req.url!.includes('/manifests/')) return false;
      heads++;
      res.writeHead(405).end();
      return true;
    });
    cleanups.push(() => proxy.stop());
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', retry: fast });
    cleanups.push(() => c.close());
    assert.equal((await c.resolveManifest(`${proxy.host}/nohead:v1`)).digest, img.digest);
    assert.equal(heads, 1);
  });

  it('reports a registry that is down, and reaches it once it is up', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', retry: { attempts: 2, baseDelayMs: 5 } });
    cleanups.push(() => c.close());
    await assert.rejects(c.resolveManifest(`127.0.0.1:${port}/late:v1`), { code: 'ECONNREFUSED' });
    const late = await RegistryServer.create({ root: path.join(reg.root, 'late-root') });
    await late.listen(`127.0.0.1:${port}`);
    cleanups.push(() => late.close());
    const img = makeImage([10]);
    await pushImage(c, { domain: `127.0.0.1:${port}`, path: 'late' }, img, 'v1');
    assert.equal((await c.resolveManifest(`127.0.0.1:${port}/late:v1`)).digest, img.digest);
  });

  it('keeps at most maxConcurrentDownloads blob transfers in flight', async () => {
    const repo = { domain: reg.host, path: 'par' };
    const blobs = Array.from({ length: 6 }, (_, i) => blob(`layer ${i} `.repeat(1000)));
    for (const b of blobs) await client.pushBlob(repo, b, () => Readable.from([b.bytes]));
    let inFlight = 0;
    let peak = 0;
    const proxy = await startProxy(reg.url, async (req, res) => {
      if (req.method !== 'GET' || !req.url!.includes('/blobs/sha256:')) return false;
      inFlight++;
      peak = Math.max(peak, inFlight);
      res.once('close', () => inFlight--);
      await new Promise((r) => setTimeout(r, 40));
      return false;
    });
    cleanups.push(() => proxy.stop());
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', maxConcurrentDownloads: 2 });
    cleanups.push(() => c.close());
    const prepo = { domain: proxy.host, path: 'par' };
    const got = await Promise.all(blobs.map(async (b) => {
      const s = await c.fetchBlob(prepo, b);
      await new Promise((r) => setTimeout(r, 30));
      return readStream(s);
    }));
    got.forEach((g, i) => assert.ok(g.equals(blobs[i].bytes)));
    assert.equal(peak, 2);
  });

  it('keeps at most maxConcurrentUploads blob uploads in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const proxy = await startProxy(reg.url, async (req, res) => {
      if (req.method !== 'PUT' || !req.url!.includes('/blobs/uploads/')) return false;
      inFlight++;
      peak = Math.max(peak, inFlight);
      res.once('close', () => inFlight--);
      await new Promise((r) => setTimeout(r, 40));
      return false;
    });
    cleanups.push(() => proxy.stop());
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', maxConcurrentUploads: 3 });
    cleanups.push(() => c.close());
    const blobs = Array.from({ length: 8 }, (_, i) => blob(`upload ${i} `.repeat(500)));
    const results = await Promise.all(blobs.map((b) => c.pushBlob({ domain: proxy.host, path: 'uppar' }, b, () => Readable.from([b.bytes]))));
    assert.deepEqual(results, blobs.map(() => 'pushed'));
    assert.equal(peak, 3);
    for (const b of blobs) assert.equal(await client.blobExists({ domain: reg.host, path: 'uppar' }, b.digest), true);
  });
});
