import { controllerDir, parseKeyValues, readCgroupFile, readCgroupNumber, type CgroupLayout } from './cgroupfs.js';
import { emptyBlkio, type BlkioStatEntry, type CgroupStats } from './types.js';

/** cpuacct.stat counts in USER_HZ ticks; Linux fixes USER_HZ at 100 for userspace. */
const nsPerTick = 1e9 / 100;

/**
 * Reads a cgroup v1 container's accounting, one controller directory at a
 * time; a controller that is not mounted leaves its part empty rather than
 * failing the whole read.
 */
export async function readV1Stats(layout: CgroupLayout & { version: 1 }, cgroupPath: string): Promise<CgroupStats> {
  const dir = (c: 'cpu' | 'cpuacct' | 'memory' | 'pids' | 'blkio') => controllerDir(layout, c, cgroupPath);
  const [usage, percpu, acctStat, cpuStat, memUsage, memMax, memFail, memLimit, memStat, pidsCur, pidsMax, blkBytes, blkOps] = await Promise.all([
    readCgroupNumber(dir('cpuacct'), 'cpuacct.usage'),
    readCgroupFile(dir('cpuacct'), 'cpuacct.usage_percpu'),
    readCgroupFile(dir('cpuacct'), 'cpuacct.stat'),
    readCgroupFile(dir('cpu'), 'cpu.stat'),
    readCgroupNumber(dir('memory'), 'memory.usage_in_bytes'),
    readCgroupNumber(dir('memory'), 'memory.max_usage_in_bytes'),
    readCgroupNumber(dir('memory'), 'memory.failcnt'),
    readCgroupNumber(dir('memory'), 'memory.limit_in_bytes'),
    readCgroupFile(dir('memory'), 'memory.stat'),
    readCgroupNumber(dir('pids'), 'pids.current'),
    readCgroupNumber(dir('pids'), 'pids.max'),
    readBlkio(dir('blkio'), 'io_service_bytes_recursive'),
    readBlkio(dir('blkio'), 'io_serviced_recursive'),
  ]);
  const acct = parseKeyValues(acctStat);
  const thr = parseKeyValues(cpuStat);
  const blkio = emptyBlkio();
  blkio.io_service_bytes_recursive = blkBytes;
  blkio.io_serviced_recursive = blkOps;
  const percpuList = percpu?.trim().split(/\s+/).filter(Boolean).map(Number);
  return {
    cpu: {
      total_usage: usage ?? 0,
      ...(percpuList?.length ? { percpu_usage: percpuList } : {}),
      usage_in_kernelmode: (acct.system ?? 0) * nsPerTick,
      usage_in_usermode: (acct.user ?? 0) * nsPerTick,
    },
    throttling: { periods: thr.nr_periods ?? 0, throttled_periods: thr.nr_throttled ?? 0, throttled_time: thr.throttled_time ?? 0 },
    memory: omitZero({ usage: memUsage, max_usage: memMax, stats: memStat === undefined ? undefined : parseKeyValues(memStat), failcnt: memFail, limit: memLimit }),
    pids: omitZero({ current: pidsCur, limit: pidsMax }),
    blkio,
  };
}

/**
 * `blkio.<name>`, or the throttle layer's copy when the CFQ/BFQ file is absent
 * or empty (no proportional scheduler: the throttle layer still counts).
 * Lines are `8:0 Read 4096`; the closing `Total N` line is not per device.
 */
async function readBlkio(dir: string | undefined, name: string): Promise<BlkioStatEntry[] | null> {
  for (const file of [`blkio.${name}`, `blkio.throttle.${name}`]) {
    const text = await readCgroupFile(dir, file);
    const out: BlkioStatEntry[] = [];
    for (const line of (text ?? '').split('\n')) {
      const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
      if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
    }
    if (out.length) return out;
  }
  return null;
}

/** Docker's `omitempty`: zero and absent numbers are left out. */
export function omitZero<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== 0) (out as Record<string, unknown>)[k] = v;
  return out;
}
