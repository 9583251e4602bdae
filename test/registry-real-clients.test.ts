// Real clients nobody here wrote: skopeo (containers/image) against
// `berth registry`, and our client against the CNCF distribution registry
// (Debian's docker-registry), both ways. Skipped when the tools are missing.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import tar from 'tar-stream';
import { RegistryClient } from '../src/engine/distribution/client.js';
import { MediaType } from '../src/engine/distribution/oci.js';
import { blob, makeImage, startRegistry, type Blob, type TestRegistry } from './helpers/registry.js';

const run = promisify(execFile);
const skopeo = '/usr/bin/skopeo';
const distribution = '/usr/bin/docker-registry';

async function tarGz(files: Record<string, string>): Promise<{ gz: Buffer; diffId: string }> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return { gz: gzipSync(raw), diffId: blob(raw).digest };
}

/** Writes an OCI image layout holding one image tagged `tag`; returns its manifest digest. */
async function writeOciLayout(dir: string, tag: string): Promise<{ digest: string; layers: Blob[] }> {
  const tars = [await tarGz({ 'hello.txt': 'hello from berth\n' }), await tarGz({ 'etc/motd': 'second layer\n' })];
  const layers = tars.map((t) => blob(t.gz));
  const diffIds = tars.map((t) => t.diffId);
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const manifest = blob(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, digest: l.digest, size: l.size })),
  }));
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of [config, manifest, ...layers]) await writeFile(path.join(dir, 'blobs', 'sha256', b.digest.slice(7)), b.bytes);
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: MediaType.ociManifest, digest: manifest.digest, size: manifest.size, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  return { digest: manifest.digest, layers };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as any).port as number;
  await new Promise((r) => s.close(r));
  return port;
}

describe('skopeo against berth registry', { skip: !existsSync(skopeo) && 'skopeo not installed (apt-get install skopeo)' }, () => {
  let reg: TestRegistry;
  let work: string;
  before(async () => {
    reg = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'berth-skopeo-'));
  });
  after(async () => {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('copies an OCI layout in and back out with identical digests, and inspects it', async () => {
    const src = path.join(work, 'src');
    const img = await writeOciLayout(src, 'v1');
    const dest = `docker://${reg.host}/skopeo/app:v1`;
    await run(skopeo, ['copy', '--dest-tls-verify=false', `oci:${src}:v1`, dest]);
    const { stdout } = await run(skopeo, ['inspect', '--tls-verify=false', dest]);
    const info = JSON.parse(stdout);
    assert.equal(info.Digest, img.digest);
    assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
    assert.equal(info.Architecture, 'amd64');
    const raw = JSON.parse((await run(skopeo, ['inspect', '--raw', '--tls-verify=false', dest])).stdout);
    assert.equal(raw.mediaType, MediaType.ociManifest);

    const back = path.join(work, 'back');
    await run(skopeo, ['copy', '--src-tls-verify=false', dest, `oci:${back}:v1`]);
    const index = JSON.parse(await readFile(path.join(back, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, img.digest);
    for (const l of img.layers) {
      assert.ok((await readFile(path.join(back, 'blobs', 'sha256', l.digest.slice(7)))).equals(l.bytes));
    }
    const tags = JSON.parse((await run(skopeo, ['list-tags', '--tls-verify=false', `docker://${reg.host}/skopeo/app`])).stdout);
    assert.deepEqual(tags.Tags, ['v1']);
  });

  it('pushes a Docker schema 2 conversion and copies between repositories', async () => {
    const src = path.join(work, 'src2');
    await writeOciLayout(src, 'v1');
    const dest = `docker://${reg.host}/skopeo/docker:v2s2`;
    await run(skopeo, ['copy', '--dest-tls-verify=false', '--format', 'v2s2', `oci:${src}:v1`, dest]);
    const raw = JSON.parse((await run(skopeo, ['inspect', '--raw', '--tls-verify=false', dest])).stdout);
    assert.equal(raw.mediaType, MediaType.dockerManifest);
    // Registry to registry: skopeo mounts or re-uploads the layers; the manifest stays byte-identical.
    await run(skopeo, ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', dest, `docker://${reg.host}/other/repo:copied`]);
    const a = (await run(skopeo, ['inspect', '--tls-verify=false', dest])).stdout;
    const b = (await run(skopeo, ['inspect', '--tls-verify=false', `docker://${reg.host}/other/repo:copied`])).stdout;
    assert.equal(JSON.parse(a).Digest, JSON.parse(b).Digest);
    await run(skopeo, ['delete', '--tls-verify=false', `docker://${reg.host}/other/repo:copied`]);
    await assert.rejects(run(skopeo, ['inspect', '--tls-verify=false', `docker://${reg.host}/other/repo:copied`]), /manifest unknown/);
  });

  it('round-trips through a docker-archive', async () => {
    const src = path.join(work, 'src4');
    const img = await writeOciLayout(src, 'v1');
    await run(skopeo, ['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${reg.host}/arch/src:v1`]);
    const archive = path.join(work, 'image.tar');
    await run(skopeo, ['copy', '--src-tls-verify=false', `docker://${reg.host}/arch/src:v1`, `docker-archive:${archive}:arch/src:v1`]);
    await run(skopeo, ['copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${reg.host}/arch/loaded:v1`]);
    const info = JSON.parse((await run(skopeo, ['inspect', '--tls-verify=false', `docker://${reg.host}/arch/loaded:v1`])).stdout);
    // A docker-archive holds uncompressed layers; skopeo recompresses them on push, so compare the contents' count and config.
    assert.equal(info.Layers.length, img.layers.length);
    assert.deepEqual(info.Config?.Cmd ?? JSON.parse((await run(skopeo, ['inspect', '--config', '--tls-verify=false', `docker://${reg.host}/arch/loaded:v1`])).stdout).config.Cmd, ['sh']);
    const raw = JSON.parse((await run(skopeo, ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/arch/loaded:v1`])).stdout);
    assert.equal(raw.mediaType, MediaType.dockerManifest);
  });

  it('authenticates with htpasswd credentials and is refused without them', async () => {
    const file = path.join(work, 'htpasswd');
    await writeFile(file, `sk:${bcrypt.hashSync('pw', 4)}\n`);
    const locked = await startRegistry({ htpasswd: file });
    try {
      const src = path.join(work, 'src3');
      await writeOciLayout(src, 'v1');
      await assert.rejects(run(skopeo, ['copy', '--dest-tls-verify=false', `oci:${src}:v1`, `docker://${locked.host}/a:v1`]), /authentication required|unauthorized/i);
      await run(skopeo, ['copy', '--dest-tls-verify=false', '--dest-creds', 'sk:pw', `oci:${src}:v1`, `docker://${locked.host}/a:v1`]);
      const info = JSON.parse((await run(skopeo, ['inspect', '--tls-verify=false', '--creds', 'sk:pw', `docker://${locked.host}/a:v1`])).stdout);
      assert.equal(info.Layers.length, 2);
    } finally {
      await locked.stop();
    }
  });
});

describe('registry client against the CNCF distribution registry', { skip: !existsSync(distribution) && 'docker-registry not installed' }, () => {
  let proc: ChildProcess | undefined;
  let dir: string;
  let host: string;
  let ours: TestRegistry;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-distribution-'));
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    await writeFile(path.join(dir, 'config.yml'), [
      'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`,
      '  delete:', '    enabled: true', 'http:', `  addr: ${host}`, '',
    ].join('\n'));
    proc = spawn(distribution, ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://${host}/v2/`)).status === 200) break;
      } catch { /* not up yet */ }
      if (i > 100) throw new Error('docker-registry did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    ours = await startRegistry();
  });
  after(async () => {
    if (proc && proc.exitCode === null) {
      const gone = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    }
    await ours?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes, resolves a multi-arch index, and pulls verified blobs', async () => {
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent' });
    try {
      const repo = { domain: host, path: 'dist/app' };
      const amd = makeImage([4000, 100], 'amd64');
      const arm = makeImage([300], 'arm64');
      for (const img of [amd, arm]) {
        for (const b of [img.config, ...img.layers]) assert.equal(await c.pushBlob(repo, b, () => Readable.from([b.bytes])), 'pushed');
        await c.putManifest(repo, img.digest, img.manifest, img.mediaType);
      }
      assert.equal(await c.pushBlob(repo, amd.layers[0], () => Readable.from([amd.layers[0].bytes])), 'exists');
      const index = Buffer.from(JSON.stringify({
        schemaVersion: 2, mediaType: MediaType.ociIndex,
        manifests: [amd, arm].map((i, n) => ({ mediaType: i.mediaType, digest: i.digest, size: i.manifest.length, platform: { os: 'linux', architecture: n ? 'arm64' : 'amd64' } })),
      }));
      await c.putManifest(repo, 'multi', index, MediaType.ociIndex);
      const m = await c.resolveManifest(`${host}/dist/app:multi`, 'linux/arm64');
      assert.equal(m.digest, arm.digest);
      const layer = await c.fetchBlob(repo, m.manifest.layers[0]);
      const chunks: Buffer[] = [];
      for await (const ch of layer) chunks.push(ch as Buffer);
      assert.ok(Buffer.concat(chunks).equals(arm.layers[0].bytes));
      assert.equal(await c.pushBlob({ domain: host, path: 'dist/mounted' }, amd.layers[0], () => Readable.from([amd.layers[0].bytes]), 'dist/app'), 'mounted');
      assert.deepEqual(await c.listTags(repo), ['multi']);
    } finally {
      await c.close();
    }
  });

  it('copies an image from docker-registry to berth registry and back, byte for byte', async () => {
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent' });
    try {
      const img = makeImage([20_000, 5_000]);
      const theirs = { domain: host, path: 'roundtrip' };
      const mine = { domain: ours.host, path: 'roundtrip' };
      const copy = async (from: typeof theirs, to: typeof theirs, tag: string) => {
        const m = await c.resolveManifest({ ...from, tag });
        for (const d of [m.manifest.config, ...m.manifest.layers]) {
          // Stream straight from one registry into the other, verified on the way.
          const exists = await c.blobExists(to, d.digest);
          if (!exists) {
            const bytes: Buffer[] = [];
            for await (const ch of await c.fetchBlob(from, d)) bytes.push(ch as Buffer);
            await c.pushBlob(to, d, () => Readable.from([Buffer.concat(bytes)]));
          }
        }
        return c.putManifest(to, tag, m.bytes, m.mediaType);
      };
      for (const b of [img.config, ...img.layers]) await c.pushBlob(theirs, b, () => Readable.from([b.bytes]));
      await c.putManifest(theirs, 'v1', img.manifest, img.mediaType);
      assert.equal(await copy(theirs, mine, 'v1'), img.digest);
      await copy(mine, { domain: host, path: 'roundtrip2' }, 'v1');
      const back = await c.resolveManifest(`${host}/roundtrip2:v1`);
      assert.equal(back.digest, img.digest);
      assert.ok(back.bytes.equals(img.manifest));
    } finally {
      await c.close();
    }
  });
});
