import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { controllerDir, detectCgroupLayout, parseCgroupMounts, type CgroupLayout } from './cgroupfs.js';
import { StatsCollector } from './collect.js';
import { blockIO, cpuPercent, memoryPercent, memoryUsage, networkIO } from '../../api/types/stats.js';
import { statsFrames } from './stream.js';

const hybridMountinfo = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/mem\\040ory rw,relatime - cgroup cgroup rw,memory
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

describe('cgroup layout', () => {
  it('finds v1 controllers one per directory, combined, or missing', () => {
    const l = parseCgroupMounts(hybridMountinfo);
    assert.deepEqual(l, { version: 1, controllers: { cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', memory: '/sys/fs/cgroup/mem ory' } });
    assert.equal(controllerDir(l, 'pids', '/berth/x'), undefined);
    const combined = parseCgroupMounts('25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct');
    assert.equal(controllerDir(combined, 'cpuacct', '/berth/x'), '/sys/fs/cgroup/cpu,cpuacct/berth/x');
  });
  it('uses the unified tree on a pure v2 host', () => {
    const l = parseCgroupMounts('29 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate');
    assert.deepEqual(l, { version: 2, root: '/sys/fs/cgroup' });
    assert.equal(controllerDir(l, 'memory', '/berth/abc'), '/sys/fs/cgroup/berth/abc');
  });
});

describe('stats from a cgroup2-shaped tree', () => {
  let tmp: string;
  after(async () => { if (tmp) await fs.rm(tmp, { recursive: true, force: true }); });

  it('produces Docker\'s JSON and the CLI columns', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-stats-v2-'));
    const cg = path.join(tmp, 'cgroup/berth/c1');
    const proc = path.join(tmp, 'proc');
    await fs.mkdir(cg, { recursive: true });
    await fs.mkdir(path.join(proc, '4242/net'), { recursive: true });
    const files: Record<string, string> = {
      'cpu.stat': 'usage_usec 2000000\nuser_usec 1500000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 3\nthrottled_usec 7000\n',
      'memory.current': '104857600\n',
      'memory.max': 'max\n',
      'memory.stat': 'anon 50000000\nfile 54857600\ninactive_file 4857600\nactive_file 50000000\n',
      'pids.current': '7\n',
      'pids.max': '100\n',
      'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n254:0 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
    };
    for (const [f, v] of Object.entries(files)) await fs.writeFile(path.join(cg, f), v);
    await fs.writeFile(path.join(proc, 'stat'), 'cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n');
    await fs.writeFile(path.join(proc, '4242/net/dev'), `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0
  eth0:    1000      10    1    2    0     0          0         0     2000      20    3    4    0     0       0          0
`);
    const layout: CgroupLayout = { version: 2, root: path.join(tmp, 'cgroup') };
    const c = new StatsCollector(layout, { procRoot: proc, hostMemory: 1 << 30, onlineCpus: 2 });
    const target = { id: 'c1', name: '/web', pid: 4242, cgroupPath: '/berth/c1' };
    const a = await c.frame(target);
    assert.equal(a.preread, '0001-01-01T00:00:00Z');
    assert.deepEqual(a.cpu_stats, {
      cpu_usage: { total_usage: 2e9, usage_in_kernelmode: 5e8, usage_in_usermode: 1.5e9 },
      system_cpu_usage: 1000 * 1e7, online_cpus: 2,
      throttling_data: { periods: 10, throttled_periods: 3, throttled_time: 7e6 },
    });
    assert.equal(a.memory_stats.usage, 104857600);
    assert.equal(a.memory_stats.limit, 1 << 30, 'memory.max "max" reports the host memory');
    assert.equal(a.memory_stats.stats?.inactive_file, 4857600);
    assert.deepEqual(a.pids_stats, { current: 7, limit: 100 });
    assert.deepEqual(a.blkio_stats.io_service_bytes_recursive?.slice(0, 2), [{ major: 8, minor: 0, op: 'read', value: 4096 }, { major: 8, minor: 0, op: 'write', value: 8192 }]);
    assert.deepEqual(a.networks, { eth0: { rx_bytes: 1000, rx_packets: 10, rx_errors: 1, rx_dropped: 2, tx_bytes: 2000, tx_packets: 20, tx_errors: 3, tx_dropped: 4 } });
    assert.equal(a.name, '/web');

    // One second later: +0.5 s CPU over +2 s of host time on 2 CPUs = 50 %.
    await fs.writeFile(path.join(cg, 'cpu.stat'), 'usage_usec 2500000\nuser_usec 1500000\nsystem_usec 1000000\n');
    await fs.writeFile(path.join(proc, 'stat'), 'cpu  150 0 150 900 0 0 0 0 0 0\n');
    await fs.writeFile(path.join(cg, 'memory.max'), '200000000\n');
    const b = await c.frame(target, a);
    assert.equal(b.preread, a.read);
    assert.deepEqual(b.precpu_stats, a.cpu_stats);
    assert.equal(cpuPercent(b), 50);
    assert.equal(memoryUsage(b), 100_000_000, 'usage minus inactive_file');
    assert.equal(memoryPercent(b), 50);
    assert.deepEqual(blockIO(b), { read: 4196, write: 8192 });
    assert.deepEqual(networkIO(b), { rx: 1000, tx: 2000 });

    const stopped = await c.frame({ ...target, pid: 0 });
    assert.equal(stopped.read, '0001-01-01T00:00:00Z');
    assert.deepEqual(stopped.memory_stats, {});
  });
});

describe('stats from a real cgroup v1', async () => {
  const layout = await detectCgroupLayout().catch(() => undefined);
  const skip = layout?.version !== 1 || !layout.controllers.cpuacct || !layout.controllers.memory ? 'no cgroup v1 cpuacct/memory here' : false;
  const name = `/berth-fs-test-${randomBytes(4).toString('hex')}`;
  const ctrls = ['cpu', 'cpuacct', 'memory', 'pids', 'blkio'] as const;
  let child: ChildProcess | undefined;

  after(async () => {
    if (child?.pid) { try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ } }
    await sleep(100);
    if (layout?.version !== 1) return;
    for (const c of ctrls) {
      const d = controllerDir(layout, c, name);
      if (d) await fs.rmdir(d).catch(() => undefined);
    }
  });

  it('reads a busy process\'s cgroup and streams frames with precpu', { skip }, async () => {
    if (layout?.version !== 1) return;
    const dirs: string[] = [];
    for (const c of ctrls) {
      const d = controllerDir(layout, c, name);
      if (!d) continue;
      await fs.mkdir(d);
      dirs.push(d);
    }
    await fs.writeFile(path.join(controllerDir(layout, 'memory', name)!, 'memory.limit_in_bytes'), String(64 << 20));
    const pidsDir = controllerDir(layout, 'pids', name);
    if (pidsDir) await fs.writeFile(path.join(pidsDir, 'pids.max'), '50');
    child = spawn('sh', ['-c', 'read x; dd if=/dev/zero of=/dev/null bs=4M count=20 2>/dev/null; while :; do :; done'], { stdio: ['pipe', 'ignore', 'ignore'] });
    for (const d of dirs) await fs.writeFile(path.join(d, 'cgroup.procs'), String(child.pid));
    child.stdin!.write('go\n');
    await sleep(300);

    const c = new StatsCollector(layout);
    const target = { id: 'x', name: '/t', pid: child.pid!, cgroupPath: name };
    const ac = new AbortController();
    const frames = [];
    for await (const f of statsFrames(c, () => target, { stream: true, intervalMs: 300, signal: ac.signal })) {
      frames.push(f);
      if (frames.length === 3) ac.abort();
    }
    assert.equal(frames.length, 3);
    const [f1, f2, f3] = frames;
    assert.ok(f1.cpu_stats.cpu_usage.total_usage > 0);
    assert.equal(f1.cpu_stats.cpu_usage.percpu_usage?.length, os.cpus().length);
    assert.ok(f1.cpu_stats.cpu_usage.usage_in_usermode + f1.cpu_stats.cpu_usage.usage_in_kernelmode > 0);
    assert.equal(f1.precpu_stats.cpu_usage.total_usage, 0);
    assert.deepEqual(f2.precpu_stats, f1.cpu_stats);
    assert.equal(f3.preread, f2.read);
    assert.equal(f1.memory_stats.limit, 64 << 20);
    assert.ok((f1.memory_stats.max_usage ?? 0) > 0, 'dd charged memory to the cgroup');
    assert.ok(f1.memory_stats.stats && 'total_inactive_file' in f1.memory_stats.stats);
    if (pidsDir) assert.deepEqual(f1.pids_stats, { current: 1, limit: 50 });
    assert.ok(f1.networks === undefined || !('lo' in f1.networks));
    // A busy loop keeps one CPU busy: at most ~100 %, far less on a loaded machine (others share the CPUs).
    const pct = cpuPercent(f3);
    assert.ok(pct > 3 && pct < 110, `cpu ${pct}%`);

    const once = [];
    for await (const f of statsFrames(c, () => target, { stream: false, intervalMs: 200 })) once.push(f);
    assert.equal(once.length, 1);
    assert.ok(once[0].precpu_stats.cpu_usage.total_usage > 0, 'stream=0 samples twice');
    const shot = [];
    for await (const f of statsFrames(c, () => target, { stream: false, oneShot: true })) shot.push(f);
    assert.equal(shot[0].precpu_stats.cpu_usage.total_usage, 0);
  });
});

describe('OOM kills', async () => {
  const { readOomKills } = await import('./oom.js');
  const layout = await detectCgroupLayout().catch(() => undefined);
  const name = `/berth-fs-test-${randomBytes(4).toString('hex')}`;
  let tmp: string | undefined;
  const tmps: string[] = [];
  after(async () => {
    for (const t of tmps) await fs.rm(t, { recursive: true, force: true });
    if (layout?.version === 1) {
      const d = controllerDir(layout, 'memory', name);
      for (let i = 0; i < 20 && d; i++) { if (await fs.rmdir(d).then(() => true, () => false)) break; await sleep(100); }
    }
  });

  it('reports a numeric memory.max as the limit and v2 inactive_file comes off MEM USAGE', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-stats-v2b-'));
    tmps.push(tmp);
    const cg = path.join(tmp, 'cgroup/berth/c2');
    await fs.mkdir(cg, { recursive: true });
    for (const [f, v] of Object.entries({ 'cpu.stat': 'usage_usec 10\n', 'memory.current': '60000000\n', 'memory.max': '67108864\n',
      'memory.stat': 'anon 40000000\nfile 20000000\ninactive_file 10000000\n', 'pids.current': '1\n', 'pids.max': 'max\n' })) await fs.writeFile(path.join(cg, f), v);
    await fs.mkdir(path.join(tmp, 'proc/77/net'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'proc/stat'), 'cpu  100 0 100 800 0 0 0 0 0 0\n');
    const c = new StatsCollector({ version: 2, root: path.join(tmp, 'cgroup') }, { procRoot: path.join(tmp, 'proc'), hostMemory: 1 << 30, onlineCpus: 2 });
    const f = await c.frame({ id: 'c2', name: '/m', pid: 77, cgroupPath: '/berth/c2' });
    assert.equal(f.memory_stats.limit, 67108864);
    assert.equal(memoryUsage(f), 50000000);
    assert.equal(memoryPercent(f).toFixed(2), '74.51');
    assert.equal(f.pids_stats.current, 1);
    assert.equal(f.pids_stats.limit, undefined, 'pids.max "max" is no limit');
  });

  it('reads v2 memory.events', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-oom-v2-'));
    tmps.push(tmp);
    await fs.mkdir(path.join(tmp, 'berth/c'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'berth/c/memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n');
    assert.equal(await readOomKills({ version: 2, root: tmp }, '/berth/c'), 1);
    assert.equal(await readOomKills({ version: 2, root: tmp }, '/berth/missing'), undefined);
    // Before any OOM the kernel still lists the key with 0.
    await fs.mkdir(path.join(tmp, 'berth/d'), { recursive: true });
    await fs.writeFile(path.join(tmp, 'berth/d/memory.events'), 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
    assert.equal(await readOomKills({ version: 2, root: tmp }, '/berth/d'), 0);
  });

  it('counts a real OOM kill under a v1 memory limit', { skip: layout?.version !== 1 && 'not cgroup v1' }, async () => {
    if (layout?.version !== 1) return;
    const dir = controllerDir(layout, 'memory', name)!;
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, 'memory.limit_in_bytes'), String(16 << 20));
    await fs.writeFile(path.join(dir, 'memory.memsw.limit_in_bytes'), String(16 << 20)).catch(() => undefined);
    assert.equal(await readOomKills(layout, name), 0);
    // Waits to be moved in, then holds 64 MiB in memory.
    const child = spawn('sh', ['-c', 'read x; x=$(head -c 67108864 /dev/zero | tr "\\\\0" a); echo survived'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((res) => child.on('exit', (code, sig) => res(sig === 'SIGKILL' ? 137 : code)));
    await fs.writeFile(path.join(dir, 'cgroup.procs'), String(child.pid));
    child.stdin!.write('go\n');
    await exited;
    assert.ok(((await readOomKills(layout, name)) ?? 0) > 0, 'the kernel OOM-killed a process in the cgroup');
  });
});
