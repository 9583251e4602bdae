import type { BlkioStats, CPUStats, MemoryStats, StatsJSON } from '../../api/types/stats.js';

export type { BlkioStatEntry, BlkioStats, CPUStats, MemoryStats, NetworkStats, StatsJSON } from '../../api/types/stats.js';

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
