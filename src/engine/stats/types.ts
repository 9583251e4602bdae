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

/** What one read of a cgroup yields, before host-wide figures are added. */
export interface CgroupStats {
  cpu: CPUStats['cpu_usage'];
  throttling: CPUStats['throttling_data'];
  memory: MemoryStats;
  pids: StatsJSON['pids_stats'];
  blkio: BlkioStats;
}

/** Go's zero time.Time, which Docker sends for "never read". */
export const zeroTime = '0001-01-01T00:00:00Z';

export function emptyCPUStats(): CPUStats {
  return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
}

export function emptyBlkio(): BlkioStats {
  return {
    io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
    io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
  };
}

/** Docker's answer for a container that is not running: names and zeros. */
export function emptyStats(name: string, id: string): StatsJSON {
  return {
    read: zeroTime, preread: zeroTime, pids_stats: {}, blkio_stats: emptyBlkio(), num_procs: 0, storage_stats: {},
    cpu_stats: emptyCPUStats(), precpu_stats: emptyCPUStats(), memory_stats: {}, name, id,
  };
}
