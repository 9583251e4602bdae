import { readFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Where each cgroup controller is mounted: v1 controller name → mount point, plus `unified` for cgroup2. */
export type CgroupMounts = Map<string, string>;

/**
 * Finds cgroup mount points in a mountinfo text (default: this process's),
 * never assuming a layout: v1 controllers may be co-mounted (`cpu,cpuacct`),
 * split, or missing; cgroup2 may be the root or sit at /sys/fs/cgroup/unified.
 *
 *   cgroupMounts().get('memory') // → '/sys/fs/cgroup/memory'
 */
export function cgroupMounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupMounts {
  const out: CgroupMounts = new Map();
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = unescapeMount(pre[4] ?? '');
    // Only mounts of the hierarchy root can hold our /berth tree.
    if (pre[3] !== '/') continue;
    if (fstype === 'cgroup2') {
      if (!out.has('unified')) out.set('unified', mountPoint);
    } else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (['rw', 'ro', 'relatime', 'noexec', 'nosuid', 'nodev', 'xattr', 'clone_children'].includes(opt) || opt.startsWith('release_agent=')) continue;
        if (!out.has(opt)) out.set(opt, mountPoint);
      }
    }
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Resource usage of one container's cgroup; fields are absent where the host lacks the controller. */
export interface CgroupStats {
  memoryUsage?: number;
  memoryLimit?: number;
  /** Total CPU time in nanoseconds. */
  cpuUsageNs?: number;
  pids?: number;
}

/**
 * Reads usage figures of a container's cgroup (`cgroupsPath` as in its
 * spec, e.g. `/berth/<id>`), from cgroup v1 controllers or cgroup2.
 */
export async function readCgroupStats(cgroupsPath: string, mounts: CgroupMounts = cgroupMounts()): Promise<CgroupStats> {
  const num = async (file: string | undefined): Promise<number | undefined> => {
    if (!file) return undefined;
    try {
      const t = (await fs.readFile(file, 'utf8')).trim();
      if (t === 'max') return Infinity;
      const n = Number(t.split(/\s+/)[0]);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  const v1 = (ctl: string, file: string) => (mounts.has(ctl) ? path.join(mounts.get(ctl)!, cgroupsPath, file) : undefined);
  const v2 = (file: string) => (mounts.has('unified') ? path.join(mounts.get('unified')!, cgroupsPath, file) : undefined);
  const stats: CgroupStats = {};
  stats.memoryUsage = (await num(v1('memory', 'memory.usage_in_bytes'))) ?? (await num(v2('memory.current')));
  stats.memoryLimit = (await num(v1('memory', 'memory.limit_in_bytes'))) ?? (await num(v2('memory.max')));
  stats.cpuUsageNs = await num(v1('cpuacct', 'cpuacct.usage'));
  if (stats.cpuUsageNs === undefined) {
    try {
      const t = await fs.readFile(v2('cpu.stat') ?? '', 'utf8');
      const m = /usage_usec (\d+)/.exec(t);
      if (m) stats.cpuUsageNs = Number(m[1]) * 1000;
    } catch { /* no cgroup2 cpu controller */ }
  }
  stats.pids = (await num(v1('pids', 'pids.current'))) ?? (await num(v2('pids.current')));
  for (const k of Object.keys(stats) as (keyof CgroupStats)[]) if (stats[k] === undefined) delete stats[k];
  return stats;
}
