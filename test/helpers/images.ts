/**
 * Real (unpackable) test images for pull tests: tar layers built in memory,
 * plain, gzip or zstd, and a way to put them on a registry; plus Debian's
 * docker-registry on a loopback port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import type { RegistryClient, Repository } from '../../src/engine/distribution/client.js';
import { MediaType } from '../../src/engine/distribution/oci.js';
import { blob, type Blob } from './registry.js';

export interface TarImage {
  config: Blob;
  layers: (Blob & { mediaType: string })[];
  manifest: Buffer;
  digest: string;
  mediaType: string;
  diffIds: string[];
}

export async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function compress(raw: Buffer, how: 'none' | 'gzip' | 'zstd'): { bytes: Buffer; mediaType: string } {
  if (how === 'gzip') return { bytes: gzipSync(raw), mediaType: MediaType.ociLayerGzip };
  if (how === 'zstd') {
    const r = spawnSync('zstd', ['-q', '-c'], { input: raw, maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
    return { bytes: r.stdout, mediaType: MediaType.ociLayerZstd };
  }
  return { bytes: raw, mediaType: MediaType.ociLayer };
}

/** An OCI image whose layers are tars of the given files, compressed as asked. */
export async function makeTarImage(layers: Array<{ files: Record<string, string | Buffer>; compression?: 'none' | 'gzip' | 'zstd' }>, arch = 'amd64', cmd = ['sh']): Promise<TarImage> {
  const built = [];
  const diffIds: string[] = [];
  for (const l of layers) {
    const raw = await tarOf(l.files);
    diffIds.push(blob(raw).digest);
    const c = compress(raw, l.compression ?? 'gzip');
    built.push({ ...blob(c.bytes), mediaType: c.mediaType });
  }
  const config = blob(JSON.stringify({ architecture: arch, os: 'linux', config: { Cmd: cmd }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
    layers: built.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
  return { config, layers: built, manifest, digest: blob(manifest).digest, mediaType: MediaType.ociManifest, diffIds };
}

export async function putImage(c: RegistryClient, repo: Repository, img: TarImage, ref: string): Promise<void> {
  for (const b of [img.config, ...img.layers]) await c.pushBlob(repo, b, () => Readable.from([b.bytes]));
  await c.putManifest(repo, ref, img.manifest, img.mediaType);
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as any).port as number;
  await new Promise((r) => s.close(r));
  return port;
}

export const distributionBin = '/usr/bin/docker-registry';
export const haveDistribution = existsSync(distributionBin);

/** Debian's docker-registry (CNCF distribution) on a loopback port with a temp root. */
export async function startDistribution(): Promise<{ host: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-pull-dist-'));
  const host = `127.0.0.1:${await freePort()}`;
  await writeFile(path.join(dir, 'config.yml'), [
    'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${dir}/data`,
    '  delete:', '    enabled: true', 'http:', `  addr: ${host}`, '',
  ].join('\n'));
  const proc: ChildProcess = spawn(distributionBin, ['serve', path.join(dir, 'config.yml')], { stdio: 'ignore' });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).status === 200) break;
    } catch { /* not up yet */ }
    if (i > 100) { await stop(); throw new Error('docker-registry did not start'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { host, stop };
}
