import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { Router } from '../src/api/router.js';
import { createApiServer } from '../src/api/server.js';
import { registerArchiveRoutes } from '../src/api/routes/archive.js';
import { readArchive } from '../src/engine/archive/read.js';
import { writeArchive } from '../src/engine/archive/write.js';
import { controllerDir, detectCgroupLayout } from '../src/engine/stats/cgroupfs.js';
import { StatsCollector } from '../src/engine/stats/collect.js';

/**
 * `node dist/bench/fs-engine.js [rounds]`: the container-filesystem and stats
 * engines alone, before a daemon wires them — 100 MiB through the archive
 * API (engine and docker CLI → route) against GNU tar, and one stats frame
 * for each of 50 real cgroups. Medians of `rounds` (default 5), in ms.
 */
const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
async function sample(name: string, fn: () => Promise<unknown>): Promise<void> {
  const xs: number[] = [];
  for (let i = 0; i < rounds; i++) xs.push(await time(fn));
  console.log(`${name.padEnd(48)} ${median(xs).toFixed(0).padStart(6)} ms  (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`);
}

async function main(): Promise<void> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-fs-bench-'));
  const root = path.join(tmp, 'rootfs');
  const server = await (async () => {
    await fs.mkdir(path.join(root, 'out'), { recursive: true });
    await fs.mkdir(path.join(root, 'in'));
    const big = path.join(root, 'out/big');
    await fs.writeFile(big, randomBytes(100 << 20));
    await run('tar', ['cf', path.join(tmp, 'big.tar'), '-C', path.join(root, 'out'), 'big']);
    const r = new Router();
    r.get('/_ping', (c) => { c.res.writeHead(200); c.res.end('OK'); });
    registerArchiveRoutes(r, { rootfsOf: async () => ({ rootfs: root, mounts: [], release() {} }) });
    const s = createApiServer(r);
    await new Promise<void>((res) => s.listen(path.join(tmp, 'api.sock'), res));
    return s;
  })();
  const cfs = { rootfs: root, mounts: [] };
  const sock = `unix://${path.join(tmp, 'api.sock')}`;
  try {
    await sample('floor: tar cf (100 MiB file) > /dev/null-ish', () => run('sh', ['-c', `tar cf - -C ${root}/out big | cat > /dev/null`]));
    await sample('floor: tar xf (100 MiB)', () => run('tar', ['xf', path.join(tmp, 'big.tar'), '-C', path.join(root, 'in')]));
    await sample('engine: readArchive 100 MiB', async () => pipeline((await readArchive(cfs, '/out/big')).tar, createWriteStream('/dev/null')));
    await sample('engine: writeArchive 100 MiB', () => writeArchive(cfs, '/in', createReadStream(path.join(tmp, 'big.tar'), { highWaterMark: 1 << 20 })));
    const docker = '/usr/local/bin/docker';
    if (await fs.stat(docker).catch(() => false)) {
      const env = { ...process.env, DOCKER_CONFIG: tmp };
      await sample('docker cp 100 MiB out (CLI → route)', () => run(docker, ['-H', sock, 'cp', 'c:/out/big', path.join(tmp, 'copied')], { env }));
      await sample('docker cp 100 MiB in (CLI → route)', () => run(docker, ['-H', sock, 'cp', path.join(root, 'out/big'), 'c:/in/big'], { env }));
    }
    await statsBench();
  } finally {
    await new Promise((res) => server.close(res));
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** One frame per cgroup for 50 cgroups, read concurrently, as `docker stats --no-stream` over 50 containers needs. */
async function statsBench(): Promise<void> {
  const layout = await detectCgroupLayout();
  if (layout.version !== 1) return console.log('stats: not a cgroup v1 host, skipped');
  const ctrls = ['cpu', 'cpuacct', 'memory', 'pids', 'blkio'] as const;
  const names = Array.from({ length: 50 }, () => `/berth-fs-bench-${randomBytes(4).toString('hex')}`);
  try {
    for (const n of names) for (const c of ctrls) { const d = controllerDir(layout, c, n); if (d) await fs.mkdir(d); }
    const collector = new StatsCollector(layout);
    await sample('stats: one frame each for 50 cgroups', () => Promise.all(names.map((n) => collector.frame({ id: n, name: n, pid: process.pid, cgroupPath: n }))));
  } finally {
    for (const n of names) for (const c of ctrls) { const d = controllerDir(layout, c, n); if (d) await fs.rmdir(d).catch(() => undefined); }
  }
}

await main();
