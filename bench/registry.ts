/**
 * `node dist/bench/registry.js [--mib 200] [--rounds 3]`
 *
 * Serve-side registry throughput: the same random blob uploaded to and then
 * fetched from `berth registry` and Debian's `docker-registry` (the CNCF Go
 * registry), each running as its own process on loopback with a temp root.
 * Floor: reading the blob file from disk (page cache warm). Prints medians.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (n: string, d: number) => { const i = args.indexOf(n); return i >= 0 ? Number(args[i + 1]) : d; };
const mib = opt('--mib', 200);
const rounds = opt('--rounds', 3);
const mainJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/registry/main.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as any).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function waitUp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(url + '/v2/')).ok) return; } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

/** Monolithic upload (POST + PUT) streamed from the file; returns ms. */
async function upload(base: string, repo: string, file: string, digest: string, size: number): Promise<number> {
  const t0 = performance.now();
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const loc = new URL(start.headers.get('location')!, base);
  loc.searchParams.set('digest', digest);
  await new Promise<void>((resolve, reject) => {
    const req = http.request(loc, { method: 'PUT', headers: { 'Content-Length': size, 'Content-Type': 'application/octet-stream' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`upload answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(req);
  });
  return performance.now() - t0;
}

/**
 * GET of the blob by curl into /dev/null, so the client (not Node's HTTP
 * parser) is never the bottleneck for either server; returns ms.
 */
function download(url: string, size: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = spawn('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download}', url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout!.on('data', (d) => { out += d; });
    p.on('exit', () => (Number(out) === size ? resolve(performance.now() - t0) : reject(new Error(`got ${out} of ${size}`))));
  });
}

async function readFloor(file: string): Promise<number> {
  const t0 = performance.now();
  for await (const _ of createReadStream(file, { highWaterMark: 1 << 20 })) { /* discard */ }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-regbench-'));
  const procs: ChildProcess[] = [];
  try {
    const file = path.join(dir, 'blob');
    const hash = createHash('sha256');
    const out = createWriteStream(file);
    for (let i = 0; i < mib; i++) {
      const chunk = randomBytes(1 << 20);
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    const digest = 'sha256:' + hash.digest('hex');
    const size = mib << 20;

    const servers: { name: string; url: string }[] = [];
    const bp = await freePort();
    procs.push(spawn(process.execPath, [mainJs, 'serve', '--addr', `127.0.0.1:${bp}`, '--root', path.join(dir, 'berth')], { stdio: 'ignore' }));
    servers.push({ name: 'berth registry', url: `http://127.0.0.1:${bp}` });
    if (existsSync('/usr/bin/docker-registry')) {
      const dp = await freePort();
      const cfg = path.join(dir, 'dist.yml');
      await writeFile(cfg, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/dist\nhttp:\n  addr: 127.0.0.1:${dp}\n`);
      procs.push(spawn('/usr/bin/docker-registry', ['serve', cfg], { stdio: 'ignore' }));
      servers.push({ name: 'docker-registry (Go)', url: `http://127.0.0.1:${dp}` });
    }
    for (const s of servers) await waitUp(s.url);

    const floor: number[] = [];
    for (let i = 0; i < rounds; i++) floor.push(await readFloor(file));
    const mbps = (ms: number, bytes = size) => (bytes / (1 << 20) / (ms / 1000)).toFixed(0);
    console.log(`blob: ${mib} MiB, ${rounds} rounds, medians`);
    console.log(`floor (read file from page cache): ${mbps(median(floor))} MiB/s`);
    for (const s of servers) {
      const up: number[] = [];
      for (let i = 0; i < rounds; i++) up.push(await upload(s.url, `bench/r${i}`, file, digest, size));
      const get: number[] = [];
      for (let i = 0; i < rounds; i++) get.push(await download(`${s.url}/v2/bench/r0/blobs/${digest}`, size));
      const par: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        await Promise.all([0, 1, 2, 3].map(() => download(`${s.url}/v2/bench/r0/blobs/${digest}`, size)));
        par.push(performance.now() - t0);
      }
      console.log(`${s.name.padEnd(22)} upload ${mbps(median(up)).padStart(5)} MiB/s | GET ${mbps(median(get)).padStart(5)} MiB/s | 4 parallel GETs ${mbps(median(par), 4 * size).padStart(5)} MiB/s total`);
    }
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
