import type { StatsJSON } from './types.js';

/**
 * The docker CLI's column formulas (`docker stats`), kept here so the berth
 * CLI and tests compute exactly what docker shows from the same JSON.
 *
 *   cpuPercent(frame)  // 37.5 — may exceed 100 with several CPUs
 */
export function cpuPercent(s: StatsJSON): number {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const systemDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  if (systemDelta > 0 && cpuDelta > 0) return (cpuDelta / systemDelta) * cpus * 100;
  return 0;
}

/** MEM USAGE: usage minus inactive file cache (total_inactive_file on v1, inactive_file on v2). */
export function memoryUsage(s: StatsJSON): number {
  const usage = s.memory_stats.usage ?? 0;
  const st = s.memory_stats.stats ?? {};
  if (st.total_inactive_file !== undefined && st.total_inactive_file < usage) return usage - st.total_inactive_file;
  if (st.inactive_file !== undefined && st.inactive_file < usage) return usage - st.inactive_file;
  return usage;
}

export function memoryPercent(s: StatsJSON): number {
  const limit = s.memory_stats.limit ?? 0;
  return limit ? (memoryUsage(s) / limit) * 100 : 0;
}

/** BLOCK I/O: bytes read and written over all devices. */
export function blockIO(s: StatsJSON): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') read += e.value;
    else if (op === 'write') write += e.value;
  }
  return { read, write };
}

/** NET I/O: bytes received and sent over all interfaces. */
export function networkIO(s: StatsJSON): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  return { rx, tx };
}
