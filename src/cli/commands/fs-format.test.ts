import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listRenderer } from '../format/list-format.js';
import { STATS_HEADERS, StatsRow } from './stats.js';
import { usageLines } from './system-df.js';
import { splitCpArg } from './cp.js';

const frame = (over: Record<string, unknown> = {}): any => ({
  id: 'c0ffee0000000000000000000000000000000000000000000000000000000000', name: '/web',
  read: '', preread: '', num_procs: 0, storage_stats: {},
  pids_stats: { current: 3 },
  cpu_stats: { cpu_usage: { total_usage: 2_000_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 20_000_000_000, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  precpu_stats: { cpu_usage: { total_usage: 1_000_000_000, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 10_000_000_000, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  memory_stats: { usage: 110 << 20, limit: 400 << 20, stats: { total_inactive_file: 10 << 20 } },
  blkio_stats: { io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'Read', value: 2_000_000 }, { major: 8, minor: 0, op: 'Write', value: 3_000_000 }], io_serviced_recursive: null },
  networks: { eth0: { rx_bytes: 1_500_000, tx_bytes: 2_500_000 } },
  ...over,
});

test('stats rows compute the docker CLI columns from a frame', () => {
  const r = new StatsRow('web', frame(), true);
  assert.deepEqual([r.Container, r.ID, r.Name, r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs],
    ['web', 'c0ffee000000', 'web', '20.00%', '100MiB / 400MiB', '25.00%', '1.5MB / 2.5MB', '2MB / 3MB', '3']);
  const none = new StatsRow('gone', undefined, true);
  assert.deepEqual([none.Name, none.CPUPerc, none.MemUsage, none.PIDs], ['--', '--', '-- / --', '--']);
  const table = listRenderer('table {{.Container}}\t{{.CPUPerc}}', '', STATS_HEADERS)([r]);
  assert.equal(table, 'CONTAINER   CPU %\nweb         20.00%\n');
});

test('system df summary: reclaimable sizes and percentages as docker prints them', () => {
  const lines = usageLines({
    LayersSize: 10_000_000,
    Images: [{ Size: 6_000_000, SharedSize: 0, Containers: 1 }, { Size: 4_000_000, SharedSize: 0, Containers: 0 }],
    Containers: [{ State: 'running', SizeRw: 1000 }, { State: 'exited', SizeRw: 3000 }],
    Volumes: [{ UsageData: { Size: 500, RefCount: 0 } }, { UsageData: { Size: 1500, RefCount: 2 } }],
  });
  assert.deepEqual(lines.map((l) => [l.Type, l.TotalCount, l.Active, l.Size, l.Reclaimable]), [
    ['Images', '2', '1', '10MB', '4MB (40%)'],
    ['Containers', '2', '1', '4kB', '3kB (75%)'],
    ['Local Volumes', '2', '1', '2kB', '500B (25%)'],
    ['Build Cache', '0', '0', '0B', '0B'],
  ]);
});

test('cp arguments: a leading / or . is always local', () => {
  assert.deepEqual(splitCpArg('web:/etc/passwd'), { container: 'web', path: '/etc/passwd' });
  assert.deepEqual(splitCpArg('./a:b'), { path: './a:b' });
  assert.deepEqual(splitCpArg('/tmp/x:y'), { path: '/tmp/x:y' });
  assert.deepEqual(splitCpArg('-'), { path: '-' });
});
