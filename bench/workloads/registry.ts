/**
 * Registry workloads: push then pull (after rmi) of an image with one 200 MiB
 * random layer, a 10-layer pull, both through berthd against Debian's
 * docker-registry on loopback, and serve-side blob GET throughput of
 * `berth registry` against docker-registry (what `bench/registry.ts` measured
 * on its own before). Floors: the same bytes through sha256sum, and through
 * `tar x` (gunzip | tar x for gzip layers). The peer pushes and pulls the same
 * image to the same registry.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { RegistryClient } from '../../src/engine/distribution/client.js';
import { MediaType } from '../../src/engine/distribution/oci.js';
import { freePort, tarOf } from '../../test/helpers/images.js';
import { repoRoot } from '../../test/helpers/daemon.js';
import type { BenchContext, WorkloadGroup } from '../context.js';
import { median, timeCommand, type Row, type Sample } from '../harness.js';

const bigMiB = 200;

interface Server { url: string; host: string; proc: ChildProcess }

async function waitUp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/v2/`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

async function startGoRegistry(dir: string): Promise<Server> {
  const host = `127.0.0.1:${await freePort()}`;
  const cfg = path.join(dir, 'dist.yml');
  await writeFile(cfg, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/dist\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n`);
  const proc = spawn('/usr/bin/docker-registry', ['serve', cfg], { stdio: 'ignore' });
  await waitUp(`http://${host}`);
  return { url: `http://${host}`, host, proc };
}

async function startBerthRegistry(dir: string): Promise<Server> {
  const host = `127.0.0.1:${await freePort()}`;
  const proc = spawn(process.execPath, [path.join(repoRoot, 'dist/src/registry/main.js'), 'serve', '--addr', host, '--root', path.join(dir, 'berth-reg')], { stdio: 'ignore' });
  await waitUp(`http://${host}`);
  return { url: `http://${host}`, host, proc };
}

/** A tar holding one file of random bytes; returns its path. */
async function randomLayerTar(dir: string, mib: number): Promise<string> {
  const data = path.join(dir, 'data');
  await mkdir(data, { recursive: true });
  const file = path.join(data, 'random.bin');
  const out = createWriteStream(file);
  for (let i = 0; i < mib; i++) if (!out.write(randomBytes(1 << 20))) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(() => r()));
  const tarFile = path.join(dir, 'big.tar');
  const r = spawnSync('tar', ['-cf', tarFile, '-C', data, 'random.bin']);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  await rm(data, { recursive: true, force: true });
  return tarFile;
}

/** The floor of a pull: hash the bytes, then unpack them (gunzip | tar x when gzip). */
function unpackFloor(dir: string, files: string[], gzip: boolean): Sample {
  const dest = path.join(dir, 'floor-x');
  let ms = timeCommand('sha256sum', files);
  for (const f of files) {
    spawnSync('mkdir', ['-p', dest]);
    ms += timeCommand('sh', ['-c', gzip ? `gunzip -c "$1" | tar -x -C "$2"` : `tar -xf "$1" -C "$2"`, 'floor', f, dest]);
  }
  spawnSync('rm', ['-rf', dest]);
  return ms;
}

/** Times `curl` fetching a URL into /dev/null (the client is never the bottleneck). */
function curlGet(url: string): Sample {
  return timeCommand('curl', ['-sSf', '-o', '/dev/null', url]);
}

async function pushPullBig(ctx: BenchContext, reg: Server, dir: string): Promise<Row[]> {
  const { peer } = ctx;
  const tarFile = await randomLayerTar(dir, bigMiB);
  const rounds = Math.min(ctx.rounds, 3);
  ctx.berthOut(['import', tarFile, 'bench-big:src']);
  const pushes: Sample[] = [];
  const pulls: Sample[] = [];
  let current = 'bench-big:src';
  for (let i = 0; i < rounds; i++) {
    const name = `${reg.host}/bench/big${i}:v1`;
    ctx.berthOut(['tag', current, name]);
    ctx.berthOut(['rmi', current]); // no other name on this registry: a real upload, not a mount
    pushes.push(ctx.berth(['push', name]));
    ctx.berthOut(['rmi', name]); // the image, its blob and its unpacked layer go
    pulls.push(ctx.berth(['pull', name]));
    current = name;
  }
  ctx.berthOut(['rmi', current]);
  const floorHash = Array.from({ length: rounds }, () => timeCommand('sha256sum', [tarFile]));
  const floorPull = Array.from({ length: rounds }, () => unpackFloor(dir, [tarFile], false));
  let peerPush: Sample[] | undefined;
  let peerPull: Sample[] | undefined;
  if (peer) {
    peerPush = [];
    peerPull = [];
    // A fresh random layer each round: Docker remembers where it pushed a layer
    // and would mount it from the last round's repository instead of uploading.
    const srcs: string[] = [];
    try {
      for (let i = 0; i < rounds; i++) {
        const layerTar = i === 0 ? tarFile : await randomLayerTar(dir, bigMiB);
        const src = `breg_big:src${i}`;
        srcs.push(src);
        ctx.dockerOut(peer, ['import', layerTar, src]);
        const name = `${reg.host}/breg_big${i}:v1`;
        ctx.dockerOut(peer, ['tag', src, name]);
        peerPush.push(ctx.docker(peer, ['push', name]));
        ctx.dockerOut(peer, ['rmi', name]);
        ctx.dockerOut(peer, ['rmi', src]);
        peerPull.push(ctx.docker(peer, ['pull', name]));
        ctx.dockerOut(peer, ['rmi', name]);
      }
    } finally {
      for (const src of srcs) spawnSync('docker', ['-H', peer, 'rmi', '-f', src], { stdio: 'ignore' });
    }
  }
  const rate = (xs: Sample[]) => `${(bigMiB / (median(xs) / 1000)).toFixed(0)} MiB/s`;
  return [
    { workload: `push ${bigMiB} MiB layer`, berth: pushes, floor: floorHash, peer: peerPush, note: `berth ${rate(pushes)}; floor is sha256sum of the same bytes (${rate(floorHash)})${peerPush ? `; peer ${rate(peerPush)} (Docker gzips on push)` : ''}` },
    { workload: `pull ${bigMiB} MiB layer (after rmi)`, berth: pulls, floor: floorPull, peer: peerPull, note: `berth ${rate(pulls)}; floor is sha256sum + tar x of the same tar (${rate(floorPull)})${peerPull ? `; peer ${rate(peerPull)}` : ''}` },
  ];
}

async function tenLayers(ctx: BenchContext, reg: Server, dir: string): Promise<Row> {
  const { peer } = ctx;
  const rounds = Math.min(ctx.rounds, 3);
  const client = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent' });
  const files: string[] = [];
  const repo = { domain: reg.host, path: 'breg_ten' };
  try {
    const layers: { digest: string; size: number; bytes: Buffer }[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < 10; i++) {
      const raw = await tarOf({ [`layer${i}/data.bin`]: randomBytes(8 << 20), [`layer${i}/text.txt`]: 'berth '.repeat(100_000) });
      diffIds.push('sha256:' + createHash('sha256').update(raw).digest('hex'));
      const gz = gzipSync(raw, { level: 1 });
      const f = path.join(dir, `ten-${i}.tar.gz`);
      await writeFile(f, gz);
      files.push(f);
      layers.push({ digest: 'sha256:' + createHash('sha256').update(gz).digest('hex'), size: gz.length, bytes: gz });
    }
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
    const configDesc = { digest: 'sha256:' + createHash('sha256').update(config).digest('hex'), size: config.length };
    for (const b of [{ ...configDesc, bytes: config }, ...layers]) await client.pushBlob(repo, b, () => Readable.from([b.bytes]));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, ...configDesc },
      layers: layers.map((l) => ({ mediaType: MediaType.dockerLayerGzip, digest: l.digest, size: l.size })),
    }));
    await client.putManifest(repo, 'v1', manifest, MediaType.dockerManifest);
  } finally {
    await client.close();
  }
  const name = `${reg.host}/breg_ten:v1`;
  const pulls: Sample[] = [];
  for (let i = 0; i < rounds; i++) {
    pulls.push(ctx.berth(['pull', name]));
    ctx.berthOut(['rmi', name]);
  }
  const floor = Array.from({ length: rounds }, () => unpackFloor(dir, files, true));
  let peerPulls: Sample[] | undefined;
  if (peer) {
    peerPulls = [];
    // The peer's copy under its own name prefix, so nothing of ours is touched there.
    for (let i = 0; i < rounds; i++) {
      peerPulls.push(ctx.docker(peer, ['pull', name]));
      ctx.dockerOut(peer, ['rmi', name]);
    }
  }
  const mib = files.reduce((n, f) => n + Number(spawnSync('stat', ['-c', '%s', f], { encoding: 'utf8' }).stdout), 0) / (1 << 20);
  return { workload: `pull 10 gzip layers (${mib.toFixed(0)} MiB)`, berth: pulls, floor, peer: peerPulls, note: `berth ${(mib / (median(pulls) / 1000)).toFixed(0)} MiB/s; floor is sha256sum + gunzip | tar x of the same blobs` };
}

async function blobGet(ctx: BenchContext, go: Server, dir: string): Promise<Row> {
  const rounds = Math.min(ctx.rounds, 3);
  const ours = await startBerthRegistry(dir);
  const client = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent' });
  try {
    const bytes = randomBytes(bigMiB << 20);
    const desc = { digest: 'sha256:' + createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    const file = path.join(dir, 'blob.bin');
    await writeFile(file, bytes);
    for (const s of [ours, go]) await client.pushBlob({ domain: s.host, path: 'bench/blob' }, desc, () => Readable.from([bytes]));
    const url = (s: Server) => `${s.url}/v2/bench/blob/blobs/${desc.digest}`;
    curlGet(url(ours));
    curlGet(url(go));
    const berth: Sample[] = [];
    const peer: Sample[] = [];
    for (let i = 0; i < rounds; i++) { berth.push(curlGet(url(ours))); peer.push(curlGet(url(go))); }
    const floor = Array.from({ length: rounds }, () => timeCommand('cat', [file]));
    const rate = (xs: Sample[]) => `${(bigMiB / (median(xs) / 1000)).toFixed(0)} MiB/s`;
    return { workload: `registry blob GET ${bigMiB} MiB`, berth, floor, peer, note: `berth registry ${rate(berth)} vs docker-registry ${rate(peer)} (peer column); floor is cat of the file (${rate(floor)})` };
  } finally {
    await client.close();
    ours.proc.kill('SIGTERM');
  }
}

/** Runs `rows` against a docker-registry of its own in a scratch directory. */
async function withGoRegistry(ctx: BenchContext, rows: (go: Server, dir: string) => Promise<Row[]>): Promise<Row[]> {
  if (!existsSync('/usr/bin/docker-registry')) throw new Error('docker-registry not installed (apt-get install docker-registry)');
  const dir = path.join(ctx.base, 'registry');
  await mkdir(dir, { recursive: true });
  const go = await startGoRegistry(dir);
  try {
    return await rows(go, dir);
  } finally {
    go.proc.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

async function registryGroup(ctx: BenchContext): Promise<Row[]> {
  return withGoRegistry(ctx, async (go, dir) => [...(await pushPullBig(ctx, go, dir)), await tenLayers(ctx, go, dir), await blobGet(ctx, go, dir)]);
}

export const registryWorkloads: WorkloadGroup[] = [
  { name: 'registry', describe: `push/pull of a ${bigMiB} MiB layer and a 10-layer pull via docker-registry; berth registry vs docker-registry blob GET`, run: registryGroup },
  // The 10-layer pull alone, for measuring changes to the pull path quickly.
  { name: 'registry-pull10', describe: 'only the 10-gzip-layer pull of the registry group', onlyWhenNamed: true, run: (ctx) => withGoRegistry(ctx, async (go, dir) => [await tenLayers(ctx, go, dir)]) },
];
