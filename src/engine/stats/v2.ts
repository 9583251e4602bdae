import { controllerDir, parseKeyValues, readCgroupFile, readCgroupNumber, type CgroupLayout } from './cgroupfs.js';
import { emptyBlkio, type BlkioStatEntry, type CgroupStats } from './types.js';
import { omitZero } from './v1.js';

/**
 * Reads a cgroup v2 container's accounting from the unified tree: cpu.stat
 * in microseconds, memory.current/max/stat, pids.current/max and io.stat
 * (`8:0 rbytes=… wbytes=… rios=… wios=…`), shaped as Docker shapes v2 stats
 * (no per-CPU usage, `read`/`write` ops in lower case).
 */
export async function readV2Stats(layout: CgroupLayout & { version: 2 }, cgroupPath: string): Promise<CgroupStats> {
  const dir = controllerDir(layout, 'cpu', cgroupPath);
  const [cpuStat, memCur, memMax, memStat, pidsCur, pidsMax, ioStat] = await Promise.all([
    readCgroupFile(dir, 'cpu.stat'),
    readCgroupNumber(dir, 'memory.current'),
    readCgroupNumber(dir, 'memory.max'),
    readCgroupFile(dir, 'memory.stat'),
    readCgroupNumber(dir, 'pids.current'),
    readCgroupNumber(dir, 'pids.max'),
    readCgroupFile(dir, 'io.stat'),
  ]);
  const cpu = parseKeyValues(cpuStat);
  const blkio = emptyBlkio();
  const bytes: BlkioStatEntry[] = [];
  const ops: BlkioStatEntry[] = [];
  for (const line of (ioStat ?? '').split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const f: Record<string, number> = {};
    for (const kv of kvs) {
      const [k, v] = kv.split('=');
      f[k] = Number(v);
    }
    const major = Number(m[1]);
    const minor = Number(m[2]);
    bytes.push({ major, minor, op: 'read', value: f.rbytes ?? 0 }, { major, minor, op: 'write', value: f.wbytes ?? 0 });
    ops.push({ major, minor, op: 'read', value: f.rios ?? 0 }, { major, minor, op: 'write', value: f.wios ?? 0 });
  }
  if (bytes.length) {
    blkio.io_service_bytes_recursive = bytes;
    blkio.io_serviced_recursive = ops;
  }
  return {
    cpu: {
      total_usage: (cpu.usage_usec ?? 0) * 1000,
      usage_in_kernelmode: (cpu.system_usec ?? 0) * 1000,
      usage_in_usermode: (cpu.user_usec ?? 0) * 1000,
    },
    throttling: { periods: cpu.nr_periods ?? 0, throttled_periods: cpu.nr_throttled ?? 0, throttled_time: (cpu.throttled_usec ?? 0) * 1000 },
    memory: omitZero({ usage: memCur, stats: memStat === undefined ? undefined : parseKeyValues(memStat), limit: memMax }),
    pids: omitZero({ current: pidsCur, limit: pidsMax }),
    blkio,
  };
}
