/**
 * Helpers for registry tests: a berth registry on a loopback port with a temp
 * root, and small OCI images built in memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RegistryServer, type RegistryOptions } from '../../src/registry/server.js';

export interface TestRegistry {
  url: string;
  host: string;
  root: string;
  server: RegistryServer;
  stop(): Promise<void>;
}

export async function startRegistry(opts: Partial<RegistryOptions> = {}): Promise<TestRegistry> {
  const root = opts.root ?? (await mkdtemp(path.join(tmpdir(), 'berth-reg-test-')));
  const server = await RegistryServer.create({ ...opts, root });
  const a = await server.listen('127.0.0.1:0');
  const host = `127.0.0.1:${a.port}`;
  return {
    url: `${opts.tlsCert ? 'https' : 'http'}://${host}`,
    host,
    root,
    server,
    async stop() {
      await server.close();
      if (!opts.root) await rm(root, { recursive: true, force: true });
    },
  };
}

export function digestOf(b: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

export interface Blob { digest: string; size: number; bytes: Buffer }

export function blob(bytes: Buffer | string): Blob {
  const b = Buffer.from(bytes);
  return { digest: digestOf(b), size: b.length, bytes: b };
}

export interface TestImage {
  config: Blob;
  layers: Blob[];
  manifest: Buffer;
  digest: string;
  mediaType: string;
}

/** An OCI image manifest with random layers of the given sizes. */
export function makeImage(layerSizes: number[] = [1024], arch = 'amd64', extra: Record<string, unknown> = {}): TestImage {
  const layers = layerSizes.map((n) => blob(randomBytes(n)));
  const config = blob(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }));
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.size })),
    ...extra,
  }));
  return { config, layers, manifest, digest: digestOf(manifest), mediaType };
}

/** Monolithic POST ?digest= upload with fetch. */
export async function pushBlobRaw(base: string, repo: string, b: Blob, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: u8(b.bytes), headers });
}

export async function pushImageRaw(base: string, repo: string, img: TestImage, tag: string, headers: Record<string, string> = {}): Promise<Response> {
  for (const b of [img.config, ...img.layers]) {
    const r = await pushBlobRaw(base, repo, b, headers);
    if (r.status !== 201) throw new Error(`blob push ${r.status}: ${await r.text()}`);
  }
  return fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: u8(img.manifest), headers: { 'Content-Type': img.mediaType, ...headers } });
}

/** A Buffer as a fetch body (fetch's types want an ArrayBuffer-backed view). */
export function u8(b: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b);
}
