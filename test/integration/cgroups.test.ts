import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { containerCgroupPath, controllerDir, detectCgroupLayout, type CgroupLayout, type V1Controller } from '../../src/engine/stats/cgroupfs.js';
import { spawn } from 'node:child_process';
import { berthBin, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// Resource limits through the berth CLI with real containers, checked in the
// kernel's own accounting (the container's cgroup files) and in inspect.
let d: TestDaemon;
let layout: CgroupLayout;
before(async () => {
  d = await startTestDaemon();
  layout = await detectCgroupLayout();
});
after(async () => { await d?.cleanup(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idOf = (name: string) => d.berth(['inspect', '-f', '{{.Id}}', name]).stdout.trim();

/** A cgroup file of the container, v1 file name first, v2 second. */
async function cgroupFile(name: string, controller: V1Controller, v1: string, v2: string): Promise<string> {
  const dir = controllerDir(layout, controller, containerCgroupPath(idOf(name)));
  assert.ok(dir, `controller ${controller} not mounted`);
  return (await fs.readFile(`${dir}/${layout.version === 2 ? v2 : v1}`, 'utf8')).trim();
}

test('a memory limit gets a hungry process OOM-killed: exit 137 and State.OOMKilled', async () => {
  // `tail` of an endless line keeps it all in memory.
  const r = d.berth(['run', '--name', 'oom', '-m', '16m', '--memory-swap', '16m', 'busybox', 'tail', '/dev/zero'], { timeoutMs: 60_000 });
  assert.equal(r.code, 137, r.stderr);
  const state = JSON.parse(d.berth(['inspect', '-f', '{{json .State}}', 'oom']).stdout);
  assert.equal(state.OOMKilled, true);
  assert.equal(state.ExitCode, 137);
  assert.equal(JSON.parse(d.berth(['inspect', '-f', '{{json .HostConfig.Memory}}', 'oom']).stdout), 16 * 1024 * 1024);
  d.berth(['rm', 'oom']);
});

test('a pids limit stops a fork bomb; the container can still be removed', async () => {
  const r = d.berth(['run', '-d', '--name', 'bomb', '--pids-limit', '12', 'busybox', 'sh', '-c', 'b() { b | b & }; b; sleep 1000']);
  assert.equal(r.code, 0, r.stderr);
  await sleep(2000);
  const current = Number(await cgroupFile('bomb', 'pids', 'pids.current', 'pids.current'));
  assert.ok(current <= 12 && current >= 6, `pids.current ${current}`);
  assert.equal(await cgroupFile('bomb', 'pids', 'pids.max', 'pids.max'), '12');
  const events = await cgroupFile('bomb', 'pids', 'pids.events', 'pids.events');
  assert.match(events, /max [1-9]/, 'forks were refused');
  const rm = d.berth(['rm', '-f', 'bomb'], { timeoutMs: 30_000 });
  assert.equal(rm.code, 0, rm.stderr);
});

test('--cpus 0.5 holds a busy loop near half a CPU', async (t) => {
  // An unlimited spinner beside it shows what the machine could give at the time (other work shares these 2 cores).
  assert.equal(d.berth(['run', '-d', '--name', 'spin', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done']).code, 0);
  assert.equal(d.berth(['run', '-d', '--name', 'spinfree', 'busybox', 'sh', '-c', 'while :; do :; done']).code, 0);
  assert.equal(await cgroupFile('spin', 'cpu', 'cpu.cfs_quota_us', 'cpu.max').then((s) => s.split(' ')[0]), '50000');
  const usage = async (name: string) => layout.version === 2
    ? Number(/usage_usec (\d+)/.exec(await cgroupFile(name, 'cpu', '', 'cpu.stat'))![1]) * 1000
    : Number(await cgroupFile(name, 'cpuacct', 'cpuacct.usage', ''));
  const throttled = async () => Number(/nr_throttled (\d+)/.exec(await cgroupFile('spin', 'cpu', 'cpu.stat', 'cpu.stat'))![1]);
  // Each reading carries its own clock: under load a cgroup read can take longer than a CFS period.
  const sample = async (name: string) => { const u = await usage(name); return { u, t: process.hrtime.bigint() }; };
  const rate = (a: { u: number; t: bigint }, b: { u: number; t: bigint }) => (b.u - a.u) / Number(b.t - a.t);
  await sleep(500);
  const th0 = await throttled();
  const [s0, f0] = [await sample('spin'), await sample('spinfree')];
  await sleep(4000);
  const [s1, f1] = [await sample('spin'), await sample('spinfree')];
  const share = rate(s0, s1);
  const free = rate(f0, f1);
  const msg = `limited ${share.toFixed(2)}, unlimited ${free.toFixed(2)} of a CPU`;
  // 50 ms per 100 ms period; a window's ends can catch part of one extra period.
  assert.ok(share <= 0.62, msg);
  // Where the machine had room the limited loop got close to its half; either way the quota was what held it.
  if (free >= 0.75) {
    assert.ok(share >= 0.35, msg);
    assert.ok((await throttled()) > th0, `the quota throttled it (${msg})`);
  } else t.diagnostic(`machine too busy to reach the quota: ${msg}`);
  d.berth(['rm', '-f', 'spin', 'spinfree']);
});

test('update of a running container shows in inspect and in the cgroup', async () => {
  assert.equal(d.berth(['run', '-d', '--name', 'upd', 'busybox', 'sleep', '1000']).code, 0);
  const r = d.berth(['update', '-m', '64m', '--memory-swap', '128m', '--pids-limit', '20', '--cpus', '1.5', '--cpu-shares', '512', 'upd']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n')[0], 'upd');
  const hc = JSON.parse(d.berth(['inspect', '-f', '{{json .HostConfig}}', 'upd']).stdout);
  assert.equal(hc.Memory, 64 << 20);
  assert.equal(hc.MemorySwap, 128 << 20);
  assert.equal(hc.PidsLimit, 20);
  assert.equal(hc.NanoCpus, 1.5e9);
  assert.equal(hc.CpuShares, 512);
  assert.equal(await cgroupFile('upd', 'memory', 'memory.limit_in_bytes', 'memory.max'), String(64 << 20));
  assert.equal(await cgroupFile('upd', 'pids', 'pids.max', 'pids.max'), '20');
  assert.equal(await cgroupFile('upd', 'cpu', 'cpu.cfs_quota_us', 'cpu.max').then((s) => s.split(' ')[0]), '150000');
  // The limit is live: stats reads it back.
  const st = d.berth(['stats', '--no-stream', '--format', '{{.MemUsage}}|{{.PIDs}}', 'upd']);
  assert.match(st.stdout, /^\S+ \/ 64MiB\|1\n$/, st.stderr);
  const bad = d.berth(['update', '-m', '64m', 'nosuch']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'Error response from daemon: No such container: nosuch\n');
  const none = d.berth(['update', 'upd']);
  assert.match(none.stderr, /you must provide one or more flags/);
  d.berth(['rm', '-f', 'upd']);
});

test('live stats follows containers as they start and go, without a name list', async (t) => {
  assert.equal(d.berth(['run', '-d', '--name', 'live1', 'busybox', 'sleep', '300']).code, 0);
  const proc = spawn(process.execPath, [berthBin, 'stats', '--format', 'table {{.Name}}'], { env: { ...process.env, BERTH_HOST: d.host, DOCKER_HOST: '' } });
  t.after(() => { proc.kill('SIGKILL'); });
  let out = '';
  proc.stdout.on('data', (c) => { out += c; });
  proc.stderr.on('data', (c) => { out += c; });
  // The names of the latest complete redraw (non-tty output: one block per half second).
  const lastFrame = () => {
    const frames = out.split('NAME\n').slice(1, -1);
    return (frames.at(-1) ?? '').split('\n').filter(Boolean).sort();
  };
  const until = async (want: string[], what: string) => {
    for (let i = 0; i < 100; i++) {
      if (JSON.stringify(lastFrame()) === JSON.stringify(want)) return;
      await sleep(100);
    }
    assert.fail(`${what}: last frame ${JSON.stringify(lastFrame())}, output:\n${out.slice(-2000)}`);
  };
  await until(['live1'], 'the running container');
  assert.equal(d.berth(['run', '-d', '--name', 'live2', 'busybox', 'sleep', '300']).code, 0);
  await until(['live1', 'live2'], 'a container started later joins');
  assert.equal(d.berth(['rm', '-f', 'live1']).code, 0);
  await until(['live2'], 'a removed one leaves');
  assert.equal(d.berth(['kill', 'live2']).code, 0);
  await until([], 'a dead one leaves (no -a)');
  assert.equal(proc.exitCode, null, 'still running');
  d.berth(['rm', '-f', 'live2']);
});
