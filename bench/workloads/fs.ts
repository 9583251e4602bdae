import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { BenchContext, WorkloadGroup } from '../context.js';
import { timeCommand, type Row, type Sample } from '../harness.js';

// Container filesystems and stats. Objects made in the peer engine are named
// `fs_…` and removed afterwards; the bench daemon is our own.

const WRITE_100M = 'for i in 0 1 2 3 4 5 6 7 8 9; do head -c 10485760 /dev/urandom > /f$i; done';

/** The upper dir of the one container that wrote /f9 (only the bench's containers live in this daemon). */
function upperDirWith(dataRoot: string, file: string): string {
  const snaps = path.join(dataRoot, 'overlay', 'snapshots');
  for (const s of readdirSync(snaps)) {
    const fsDir = path.join(snaps, s, 'fs');
    if (existsSync(path.join(fsDir, file))) return fsDir;
  }
  throw new Error(`no snapshot holds ${file}`);
}

async function commit(ctx: BenchContext): Promise<Row[]> {
  const { peer } = ctx;
  const rounds = Math.min(ctx.rounds, 3);
  const berth: Sample[] = [], floor: Sample[] = [], peerT: Sample[] = [], viaDocker: Sample[] = [];
  for (let r = 0; r < rounds; r++) {
    const name = `bfs_commit_${r}`;
    ctx.berthOut(['run', '--name', name, 'busybox', 'sh', '-c', WRITE_100M]);
    try {
      const upper = upperDirWith(ctx.daemon.dataRoot, 'f9');
      // Docker keeps a committed layer uncompressed, as tar writes it. Not `> /dev/null`:
      // GNU tar notices /dev/null and skips reading the files (an 11 ms "floor").
      floor.push(timeCommand('sh', ['-c', `tar cf - -C '${upper}' . | sha256sum > /dev/null`]));
      berth.push(ctx.berth(['commit', name, `bfs_img_${r}`]));
      // The same commit from the docker CLI (Go, ~150 ms less start-up than berth's Node CLI): the server's share.
      if (ctx.dockerCli) viaDocker.push(ctx.docker(ctx.daemon.host, ['commit', name, `bfs_imgd_${r}`]));
    } finally {
      ctx.berthOut(['rm', name]);
      ctx.berthOut(['rmi', `bfs_img_${r}`]);
      if (ctx.dockerCli) ctx.berthOut(['rmi', `bfs_imgd_${r}`]);
    }
    if (peer) {
      const pname = `fs_commit_${r}`;
      ctx.dockerOut(peer, ['run', '--name', pname, 'busybox', 'sh', '-c', WRITE_100M]);
      try {
        peerT.push(ctx.docker(peer, ['commit', pname, `fs_img_${r}`]));
      } finally {
        ctx.dockerOut(peer, ['rm', pname]);
        ctx.dockerOut(peer, ['rmi', `fs_img_${r}`]);
      }
    }
  }
  return [{ workload: 'commit of 10 × 10 MiB written', berth, floor, dockerCli: ctx.dockerCli ? viaDocker : undefined, peer: peer ? peerT : undefined, note: 'floor: tar of the upper dir | sha256sum' }];
}

/**
 * Runs each engine's variant once per round, round after round, so that none
 * of them always goes first (after the source file was written, or the
 * container's copy replaced), and returns each one's samples.
 */
function interleaved(rounds: number, runs: Record<string, (() => Sample) | undefined>): Record<string, Sample[] | undefined> {
  const out: Record<string, Sample[] | undefined> = {};
  for (const [k, fn] of Object.entries(runs)) out[k] = fn ? [] : undefined;
  for (let i = 0; i < rounds; i++) {
    for (const [k, fn] of Object.entries(runs)) if (fn) out[k]!.push(fn());
  }
  return out;
}

async function cp(ctx: BenchContext): Promise<Row[]> {
  const { peer, rounds, base } = ctx;
  const src = path.join(base, 'fs_big');
  await fs.writeFile(src, randomBytes(100 << 20));
  // Written back before timing: the rounds must not pay for the source's writeback.
  spawnSync('sync');
  const out = path.join(base, 'fs_big_out');
  const floorDir = path.join(base, 'fs_floor');
  await fs.mkdir(floorDir, { recursive: true });
  const fresh = (fn: () => Sample) => () => { rmSync(out, { force: true }); return fn(); };
  const times = (fn: () => Sample) => Array.from({ length: rounds }, fresh(fn));
  ctx.berthOut(['run', '-d', '--name', 'bfs_cp', 'busybox', 'sleep', '1000']);
  if (peer) ctx.dockerOut(peer, ['run', '-d', '--name', 'fs_cp', 'busybox', 'sleep', '1000']);
  try {
    const floorIn = times(() => timeCommand('sh', ['-c', `tar cf - -C '${base}' fs_big | tar xf - -C '${floorDir}'`]));
    const cpIn = interleaved(rounds, {
      berth: () => ctx.berth(['cp', src, 'bfs_cp:/tmp/big']),
      dockerCli: ctx.dockerCli ? () => ctx.docker(ctx.daemon.host, ['cp', src, 'bfs_cp:/tmp/big']) : undefined,
      peer: peer ? () => ctx.docker(peer, ['cp', src, 'fs_cp:/tmp/big']) : undefined,
    });
    const cpOut = interleaved(rounds, {
      berth: fresh(() => ctx.berth(['cp', 'bfs_cp:/tmp/big', out])),
      dockerCli: ctx.dockerCli ? fresh(() => ctx.docker(ctx.daemon.host, ['cp', 'bfs_cp:/tmp/big', out])) : undefined,
      peer: peer ? fresh(() => ctx.docker(peer, ['cp', 'fs_cp:/tmp/big', out])) : undefined,
    });
    const rows: Row[] = [
      { workload: 'cp 100 MiB host → container', berth: cpIn.berth!, floor: floorIn, dockerCli: cpIn.dockerCli, peer: cpIn.peer, note: 'floor: tar | tar of the file; the three clients take turns each round' },
      { workload: 'cp 100 MiB container → host', berth: cpOut.berth!, floor: floorIn, dockerCli: cpOut.dockerCli, peer: cpOut.peer },
    ];
    return rows;
  } finally {
    ctx.berthOut(['rm', '-f', 'bfs_cp']);
    if (peer) ctx.dockerOut(peer, ['rm', '-f', 'fs_cp']);
    await fs.rm(src, { force: true });
    await fs.rm(out, { force: true });
    await fs.rm(floorDir, { recursive: true, force: true });
  }
}

async function stats(ctx: BenchContext): Promise<Row[]> {
  const { peer, rounds } = ctx;
  const names = Array.from({ length: 50 }, (_, i) => `bfs_s_${i}`);
  const peerNames = names.map((n) => n.replace(/^bfs_/, 'fs_'));
  for (const n of names) ctx.berthOut(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
  try {
    if (peer) for (const n of peerNames) ctx.dockerOut(peer, ['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
    const ids = ctx.berthOut(['inspect', '-f', '{{.Id}}', ...names]).split('\n').filter(Boolean);
    const files = ids.flatMap((id) => ['cpuacct/cpuacct.usage', 'memory/memory.stat', 'pids/pids.current', 'blkio/blkio.throttle.io_service_bytes']
      .map((f) => `/sys/fs/cgroup/${f.split('/')[0]}/berth/${id}/${f.split('/')[1]}`)).filter((f) => existsSync(f));
    return [{
      workload: 'stats --no-stream, 50 running',
      berth: Array.from({ length: rounds }, () => ctx.berth(['stats', '--no-stream', ...names])),
      dockerCli: ctx.dockerCli ? Array.from({ length: rounds }, () => ctx.docker(ctx.daemon.host, ['stats', '--no-stream', ...names])) : undefined,
      floor: files.length ? Array.from({ length: rounds }, () => timeCommand('cat', files)) : undefined,
      peer: peer ? Array.from({ length: rounds }, () => ctx.docker(peer, ['stats', '--no-stream', ...peerNames])) : undefined,
      note: 'floor: cat of their cgroup v1 stat files (no CPU % sampling interval)',
    }];
  } finally {
    ctx.berthOut(['rm', '-f', ...names]);
    if (peer) ctx.dockerOut(peer, ['rm', '-f', ...peerNames]);
  }
}

/** Runs each workload on its own so one failure (e.g. a client timing out on a loaded machine) keeps the others' rows. */
async function each(ctx: BenchContext, parts: [string, (ctx: BenchContext) => Promise<Row[]>][]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [name, fn] of parts) {
    try {
      rows.push(...await fn(ctx));
    } catch (err) {
      console.error(`bench fs/${name} failed: ${(err as Error).message.slice(0, 300)}`);
      rows.push({ workload: `${name} (FAILED)`, berth: [] });
    }
  }
  return rows;
}

export const fsWorkloads: WorkloadGroup[] = [
  {
    name: 'fs', describe: 'commit of 100 MiB written, cp 100 MiB in and out, stats --no-stream over 50 containers',
    run: (ctx) => each(ctx, [['commit', commit], ['cp', cp], ['stats', stats]]),
  },
];
