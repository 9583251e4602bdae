import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CgroupLayout } from '../stats/cgroupfs.js';

/**
 * What this host's cgroups can limit (Docker's sysinfo): a limit the kernel
 * cannot apply is discarded with a warning rather than silently ignored.
 */
export interface HostCaps {
  memory: boolean;
  swap: boolean;
  memoryReservation: boolean;
  cpuShares: boolean;
  cpuCfs: boolean;
  cpuset: boolean;
  pids: boolean;
  /** Needs a proportional I/O scheduler (CFQ/BFQ) on v1, the io controller on v2. */
  blkioWeight: boolean;
  /** CPUs and memory nodes a cpuset may use, as lists (`0-3`). */
  cpusAvailable: string;
  memsAvailable: string;
  ncpu: number;
}

const exists = (p: string | undefined) => (p ? fs.access(p).then(() => true, () => false) : Promise.resolve(false));
const readTrim = (p: string) => fs.readFile(p, 'utf8').then((t) => t.trim(), () => '');

export async function detectHostCaps(layout: CgroupLayout): Promise<HostCaps> {
  const ncpu = os.cpus().length;
  const fallbackCpus = (await readTrim('/sys/devices/system/cpu/online')) || `0-${ncpu - 1}`;
  if (layout.version === 1) {
    const c = layout.controllers;
    const at = (ctrl: string, file: string) => (c[ctrl] ? path.join(c[ctrl], file) : undefined);
    return {
      memory: await exists(at('memory', 'memory.limit_in_bytes')),
      swap: await exists(at('memory', 'memory.memsw.limit_in_bytes')),
      memoryReservation: await exists(at('memory', 'memory.soft_limit_in_bytes')),
      cpuShares: await exists(at('cpu', 'cpu.shares')),
      cpuCfs: await exists(at('cpu', 'cpu.cfs_quota_us')),
      cpuset: !!c.cpuset,
      pids: !!c.pids,
      blkioWeight: (await exists(at('blkio', 'blkio.weight'))) || (await exists(at('blkio', 'blkio.bfq.weight'))),
      cpusAvailable: (c.cpuset && (await readTrim(path.join(c.cpuset, 'cpuset.cpus')))) || fallbackCpus,
      memsAvailable: (c.cpuset && (await readTrim(path.join(c.cpuset, 'cpuset.mems')))) || '0',
      ncpu,
    };
  }
  const ctrls = new Set((await readTrim(path.join(layout.root, 'cgroup.controllers'))).split(/\s+/));
  return {
    memory: ctrls.has('memory'),
    swap: ctrls.has('memory'),
    memoryReservation: ctrls.has('memory'),
    cpuShares: ctrls.has('cpu'),
    cpuCfs: ctrls.has('cpu'),
    cpuset: ctrls.has('cpuset'),
    pids: ctrls.has('pids'),
    blkioWeight: ctrls.has('io'),
    cpusAvailable: (await readTrim(path.join(layout.root, 'cpuset.cpus.effective'))) || fallbackCpus,
    memsAvailable: (await readTrim(path.join(layout.root, 'cpuset.mems.effective'))) || '0',
    ncpu,
  };
}
