import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CgroupLayout } from './cgroupfs.js';
import { emptyCPUStats, emptyStats, zeroTime, type CPUStats, type NetworkStats, type StatsJSON } from './types.js';
import { readV1Stats } from './v1.js';
import { readV2Stats } from './v2.js';

/** What the stats reader needs to know about a container at the moment of reading. */
export interface StatsTarget {
  id: string;
  /** With the leading slash, as Docker reports it (`/web`). */
  name: string;
  /** The container's init pid, 0 when it is not running. */
  pid: number;
  /** `/berth/<id>` under each controller. */
  cgroupPath: string;
}

export interface CollectorOptions {
  /** Where /proc is (tests point it at a fake tree). */
  procRoot?: string;
  /** Caps an unlimited memory limit, as Docker does with the machine's memory. */
  hostMemory?: number;
  onlineCpus?: number;
}

/**
 * Reads one Docker stats frame for a running container: its cgroup's
 * accounting plus the host-wide CPU time (the denominator of CPU %) and the
 * container's network counters from its own network namespace.
 *
 *   const c = new StatsCollector(await detectCgroupLayout());
 *   const a = await c.frame(target);           // precpu empty
 *   const b = await c.frame(target, a);        // precpu = a's cpu
 */
export class StatsCollector {
  private procRoot: string;
  private hostMemory: number;
  private onlineCpus: number;

  constructor(readonly layout: CgroupLayout, opts: CollectorOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.hostMemory = opts.hostMemory ?? os.totalmem();
    this.onlineCpus = opts.onlineCpus ?? os.cpus().length;
  }

  async frame(t: StatsTarget, prev?: StatsJSON): Promise<StatsJSON> {
    if (!t.pid) return emptyStats(t.name, t.id);
    const read = new Date().toISOString();
    const [cg, system, networks] = await Promise.all([
      this.layout.version === 1 ? readV1Stats(this.layout, t.cgroupPath) : readV2Stats(this.layout, t.cgroupPath),
      readSystemCpuUsage(this.procRoot),
      readNetworks(this.procRoot, t.pid),
    ]);
    const memory = { ...cg.memory };
    if (memory.limit === undefined || memory.limit > this.hostMemory) memory.limit = this.hostMemory;
    const cpu: CPUStats = { cpu_usage: cg.cpu, system_cpu_usage: system, online_cpus: this.onlineCpus, throttling_data: cg.throttling };
    const out: StatsJSON = {
      read,
      preread: prev && prev.read !== zeroTime ? prev.read : zeroTime,
      pids_stats: cg.pids,
      blkio_stats: cg.blkio,
      num_procs: 0,
      storage_stats: {},
      cpu_stats: cpu,
      precpu_stats: prev && prev.read !== zeroTime ? prev.cpu_stats : emptyCPUStats(),
      memory_stats: memory,
      name: t.name,
      id: t.id,
    };
    if (networks && Object.keys(networks).length) out.networks = networks;
    return out;
  }
}

/** Host CPU time in ns from the `cpu` line of /proc/stat (Docker's system_cpu_usage). */
export async function readSystemCpuUsage(procRoot = '/proc'): Promise<number> {
  const text = await fs.readFile(path.join(procRoot, 'stat'), 'utf8');
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no cpu line in /proc/stat');
  // user nice system idle iowait irq softirq, in USER_HZ (100) ticks.
  const ticks = line.trim().split(/\s+/).slice(1, 8).reduce((a, b) => a + Number(b), 0);
  return ticks * (1e9 / 100);
}

/** Interface counters from /proc/<pid>/net/dev (the container's netns), loopback left out as Docker does. */
export async function readNetworks(procRoot: string, pid: number): Promise<Record<string, NetworkStats> | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(procRoot, String(pid), 'net/dev'), 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = {
      rx_bytes: f[0], rx_packets: f[1], rx_errors: f[2], rx_dropped: f[3],
      tx_bytes: f[8], tx_packets: f[9], tx_errors: f[10], tx_dropped: f[11],
    };
  }
  return out;
}
