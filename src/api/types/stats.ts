// The `/containers/{id}/stats` wire shape, shared by the daemon (which sends
// it) and clients (which read it): an API contract, so it lives under api/types.

/**
 * The `/containers/{id}/stats` body as Docker defines it (api/types StatsJSON).
 * Optional fields are the ones Docker omits when empty (`omitempty`), so the
 * JSON matches field for field what the docker CLI and SDKs decode.
 */
export interface StatsJSON {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: BlkioStats;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CPUStats;
  precpu_stats: CPUStats;
  memory_stats: MemoryStats;
  name?: string;
  id?: string;
  networks?: Record<string, NetworkStats>;
}

export interface CPUStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}

export interface BlkioStatEntry { major: number; minor: number; op: string; value: number }

export interface BlkioStats {
  io_service_bytes_recursive: BlkioStatEntry[] | null;
  io_serviced_recursive: BlkioStatEntry[] | null;
  io_queue_recursive: BlkioStatEntry[] | null;
  io_service_time_recursive: BlkioStatEntry[] | null;
  io_wait_time_recursive: BlkioStatEntry[] | null;
  io_merged_recursive: BlkioStatEntry[] | null;
  io_time_recursive: BlkioStatEntry[] | null;
  sectors_recursive: BlkioStatEntry[] | null;
}

export interface NetworkStats {
  rx_bytes: number; rx_packets: number; rx_errors: number; rx_dropped: number;
  tx_bytes: number; tx_packets: number; tx_errors: number; tx_dropped: number;
}

/**
 * The docker CLI's column formulas (`docker stats`): what a client derives
 * from the wire shape above. They sit with the wire type, not in the engine,
 * because the CLI must not import engine code and both sides (the berth CLI,
 * the engine's tests) must compute exactly what docker shows from the same JSON.
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
