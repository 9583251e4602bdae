import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { controllerDir, readCgroupNumber, type CgroupLayout } from '../stats/cgroupfs.js';
import type { HostConfig } from '../containers/types.js';

/** The limits a running container's cgroup takes, in Docker's units (bytes, shares, µs). */
export type Limits = Pick<HostConfig,
  'Memory' | 'MemorySwap' | 'MemoryReservation' | 'CpuShares' | 'CpuPeriod' | 'CpuQuota' | 'NanoCpus' |
  'CpusetCpus' | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight'>;

const defaultPeriod = 100_000;

/**
 * Writes changed limits straight into a running container's cgroup files —
 * v1 and v2 differ in names and units (memory.limit_in_bytes vs memory.max,
 * cpu.cfs_quota_us vs cpu.max, cpu.shares vs cpu.weight, blkio.weight vs
 * io.weight) — so `update` needs no runtime round trip. Only keys in
 * `changed` are written; `limits` holds the container's full new settings
 * (quota and period travel together).
 *
 *   await writeCgroupLimits(layout, '/berth/0123…', { Memory: 64 << 20 }, new Set(['Memory']))
 */
export async function writeCgroupLimits(layout: CgroupLayout, cgroupPath: string, limits: Limits, changed: Set<keyof Limits>): Promise<void> {
  if (layout.version === 1) await writeV1(layout, cgroupPath, limits, changed);
  else await writeV2(path.join(layout.root, cgroupPath), limits, changed);
}

async function put(dir: string | undefined, file: string, value: string | number): Promise<void> {
  if (!dir) throw new Error(`cgroup controller for ${file} is not mounted`);
  await fs.writeFile(path.join(dir, file), String(value));
}

/** Docker's NanoCpus → CFS quota over the default 100 ms period. */
function cfs(l: Limits): { period: number; quota: number } | undefined {
  if (l.NanoCpus && l.NanoCpus > 0) return { period: defaultPeriod, quota: Math.round((l.NanoCpus * defaultPeriod) / 1e9) };
  if (l.CpuQuota || l.CpuPeriod) return { period: l.CpuPeriod || defaultPeriod, quota: l.CpuQuota && l.CpuQuota > 0 ? l.CpuQuota : -1 };
  return undefined;
}

async function writeV1(layout: CgroupLayout, cg: string, l: Limits, changed: Set<keyof Limits>): Promise<void> {
  const mem = controllerDir(layout, 'memory', cg);
  if (changed.has('Memory') || changed.has('MemorySwap')) {
    const memory = l.Memory && l.Memory > 0 ? l.Memory : -1;
    const writeSwap = changed.has('MemorySwap') && l.MemorySwap !== undefined && l.MemorySwap !== 0;
    const swap = l.MemorySwap && l.MemorySwap > 0 ? l.MemorySwap : -1;
    // The kernel keeps memory <= memory+swap at every step: order the writes so it holds.
    const current = (await readCgroupNumber(mem, 'memory.limit_in_bytes')) ?? Infinity;
    const swapFirst = writeSwap && (swap === -1 || swap > current);
    if (swapFirst) await put(mem, 'memory.memsw.limit_in_bytes', swap);
    if (changed.has('Memory')) await put(mem, 'memory.limit_in_bytes', memory);
    if (writeSwap && !swapFirst) await put(mem, 'memory.memsw.limit_in_bytes', swap);
  }
  if (changed.has('MemoryReservation')) await put(mem, 'memory.soft_limit_in_bytes', l.MemoryReservation && l.MemoryReservation > 0 ? l.MemoryReservation : -1);
  const cpu = controllerDir(layout, 'cpu', cg);
  if (changed.has('CpuShares')) await put(cpu, 'cpu.shares', l.CpuShares || 1024);
  if (changed.has('NanoCpus') || changed.has('CpuQuota') || changed.has('CpuPeriod')) {
    const c = cfs(l) ?? { period: defaultPeriod, quota: -1 };
    await put(cpu, 'cpu.cfs_period_us', c.period);
    await put(cpu, 'cpu.cfs_quota_us', c.quota);
  }
  const cpuset = controllerDir(layout, 'cpuset', cg);
  if (changed.has('CpusetCpus') && l.CpusetCpus) await put(cpuset, 'cpuset.cpus', l.CpusetCpus);
  if (changed.has('CpusetMems') && l.CpusetMems) await put(cpuset, 'cpuset.mems', l.CpusetMems);
  if (changed.has('PidsLimit')) await put(controllerDir(layout, 'pids', cg), 'pids.max', l.PidsLimit && l.PidsLimit > 0 ? l.PidsLimit : 'max');
  if (changed.has('BlkioWeight') && l.BlkioWeight) {
    const blkio = controllerDir(layout, 'blkio', cg);
    const file = blkio && (await fs.access(path.join(blkio, 'blkio.weight')).then(() => 'blkio.weight', () => 'blkio.bfq.weight'));
    await put(blkio, file ?? 'blkio.weight', l.BlkioWeight);
  }
}

async function writeV2(dir: string, l: Limits, changed: Set<keyof Limits>): Promise<void> {
  if (changed.has('Memory')) await put(dir, 'memory.max', l.Memory && l.Memory > 0 ? l.Memory : 'max');
  if (changed.has('MemorySwap') || changed.has('Memory')) {
    // v2 limits swap alone; Docker's MemorySwap is memory plus swap.
    if (l.MemorySwap === -1) await put(dir, 'memory.swap.max', 'max');
    else if (l.MemorySwap && l.MemorySwap > 0 && l.Memory && l.Memory > 0) await put(dir, 'memory.swap.max', l.MemorySwap - l.Memory);
  }
  if (changed.has('MemoryReservation')) await put(dir, 'memory.low', l.MemoryReservation && l.MemoryReservation > 0 ? l.MemoryReservation : 0);
  if (changed.has('CpuShares') && l.CpuShares) await put(dir, 'cpu.weight', sharesToWeight(l.CpuShares));
  if (changed.has('NanoCpus') || changed.has('CpuQuota') || changed.has('CpuPeriod')) {
    const c = cfs(l) ?? { period: defaultPeriod, quota: -1 };
    await put(dir, 'cpu.max', `${c.quota > 0 ? c.quota : 'max'} ${c.period}`);
  }
  if (changed.has('CpusetCpus') && l.CpusetCpus) await put(dir, 'cpuset.cpus', l.CpusetCpus);
  if (changed.has('CpusetMems') && l.CpusetMems) await put(dir, 'cpuset.mems', l.CpusetMems);
  if (changed.has('PidsLimit')) await put(dir, 'pids.max', l.PidsLimit && l.PidsLimit > 0 ? l.PidsLimit : 'max');
  if (changed.has('BlkioWeight') && l.BlkioWeight) {
    const bfq = await fs.access(path.join(dir, 'io.bfq.weight')).then(() => true, () => false);
    if (bfq) await put(dir, 'io.bfq.weight', l.BlkioWeight);
    else await put(dir, 'io.weight', `default ${blkioToIoWeight(l.BlkioWeight)}`);
  }
}

/** runc's conversion of cpu.shares [2, 262144] to cpu.weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's conversion of blkio weight [10, 1000] to io.weight [1, 10000]. */
export function blkioToIoWeight(w: number): number {
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}
