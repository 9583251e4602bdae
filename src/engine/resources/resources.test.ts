import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { controllerDir, detectCgroupLayout, readCgroupNumber, type CgroupLayout } from '../stats/cgroupfs.js';
import { detectHostCaps, type HostCaps } from './caps.js';
import { blkioToIoWeight, sharesToWeight } from './cgroup-write.js';
import { updateResources } from './update.js';
import { parseCpuList, validateUpdate } from './validate.js';

const allCaps: HostCaps = {
  memory: true, swap: true, memoryReservation: true, cpuShares: true, cpuCfs: true, cpuset: true, pids: true, blkioWeight: true,
  cpusAvailable: '0-3', memsAvailable: '0', ncpu: 4,
};
const MiB = 1 << 20;

describe('update validation', () => {
  it('refuses impossible values with Docker\'s messages', () => {
    const bad: [object, RegExp][] = [
      [{ Memory: 4 * MiB }, /^Minimum memory limit allowed is 6MB$/],
      [{ Memory: 64 * MiB, MemorySwap: 32 * MiB }, /^Minimum memoryswap limit should be larger than memory limit, see usage$/],
      [{ MemoryReservation: MiB }, /^Minimum memory reservation allowed is 6MB$/],
      [{ Memory: 64 * MiB, MemoryReservation: 128 * MiB }, /^Minimum memory limit can not be less than memory reservation limit, see usage$/],
      [{ NanoCpus: 1e9, CpuPeriod: 100000 }, /^Conflicting options: Nano CPUs and CPU Period cannot both be set$/],
      [{ NanoCpus: 1e9, CpuQuota: 50000 }, /^Conflicting options: Nano CPUs and CPU Quota cannot both be set$/],
      [{ NanoCpus: 5e9 }, /^Range of CPUs is from 0.01 to 4.00, as there are only 4 CPUs available$/],
      [{ CpuPeriod: 500 }, /^CPU cfs period can not be less than 1ms \(i.e. 1000\) or larger than 1s \(i.e. 1000000\)$/],
      [{ CpuQuota: 999 }, /^CPU cfs quota can not be less than 1ms \(i.e. 1000\)$/],
      [{ CpusetCpus: '0-x' }, /^Invalid value 0-x for cpuset cpus$/],
      [{ CpusetCpus: '2-5' }, /^Requested CPUs are not available - requested 2-5, available: 0-3$/],
      [{ BlkioWeight: 5 }, /^Range of blkio weight is from 10 to 1000$/],
      [{ RestartPolicy: { Name: 'sometimes' } }, /unknown policy 'sometimes'/],
      [{ RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }, /maximum retry count can only be used with 'on-failure'/],
      [{ Memory: '64m' }, /invalid value for Memory/],
    ];
    for (const [req, msg] of bad) assert.throws(() => validateUpdate(req as any, allCaps), (e: Error) => msg.test(e.message), JSON.stringify(req));
  });

  it('drops what the kernel cannot limit, with Docker\'s warnings', () => {
    const caps = { ...allCaps, blkioWeight: false, pids: false, swap: false };
    const { update, warnings } = validateUpdate({ BlkioWeight: 300, PidsLimit: 10, Memory: 64 * MiB, MemorySwap: 128 * MiB, CpuShares: 512 }, caps);
    assert.deepEqual(update, { Memory: 64 * MiB, CpuShares: 512 });
    assert.deepEqual(warnings, [
      'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
      'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
      'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
    ]);
    assert.deepEqual([...parseCpuList('0-2,5')!], [0, 1, 2, 5]);
  });

  it('merges like Docker: only set fields change, Nano CPUs and CFS exclude each other', async () => {
    const layout: CgroupLayout = { version: 2, root: '/nonexistent' };
    const base = { id: 'c', running: false, cgroupPath: '/berth/c' };
    const r = await updateResources(layout, allCaps, { ...base, hostConfig: { Memory: 64 * MiB, CpuShares: 100, RestartPolicy: { Name: 'no' } } }, { CpuShares: 512, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
    assert.deepEqual(r.hostConfig, { Memory: 64 * MiB, CpuShares: 512, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } });
    await assert.rejects(updateResources(layout, allCaps, { ...base, hostConfig: { CpuQuota: 50000 } }, { NanoCpus: 1e9 }), /Cannot update container c: Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set/);
    await assert.rejects(updateResources(layout, allCaps, { ...base, hostConfig: { NanoCpus: 1e9 } }, { CpuPeriod: 50000 }), /CPU Period cannot be updated as NanoCPUs has already been set/);
    await assert.rejects(updateResources(layout, allCaps, { ...base, hostConfig: { Memory: 64 * MiB, MemorySwap: 128 * MiB } }, { Memory: 256 * MiB }), /Memory limit should be smaller than already set memoryswap limit/);
    await assert.rejects(updateResources(layout, allCaps, { ...base, hostConfig: { AutoRemove: true } }, { RestartPolicy: { Name: 'always' } }), /Restart policy cannot be updated because AutoRemove is enabled/);
  });
});

describe('update writes cgroup v2 files', () => {
  let tmp: string | undefined;
  after(async () => { if (tmp) await fs.rm(tmp, { recursive: true, force: true }); });
  it('uses v2 names and units', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-update-v2-'));
    const dir = path.join(tmp, 'berth/c');
    await fs.mkdir(dir, { recursive: true });
    const layout: CgroupLayout = { version: 2, root: tmp };
    await updateResources(layout, allCaps, { id: 'c', running: true, cgroupPath: '/berth/c', hostConfig: {} }, {
      Memory: 64 * MiB, MemorySwap: 96 * MiB, MemoryReservation: 32 * MiB, CpuShares: 512, NanoCpus: 1.5e9, CpusetCpus: '0-1', PidsLimit: 20, BlkioWeight: 500,
    });
    const read = (f: string) => fs.readFile(path.join(dir, f), 'utf8');
    assert.equal(await read('memory.max'), String(64 * MiB));
    assert.equal(await read('memory.swap.max'), String(32 * MiB), 'swap alone on v2');
    assert.equal(await read('memory.low'), String(32 * MiB));
    assert.equal(await read('cpu.weight'), String(sharesToWeight(512)));
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(await read('cpu.max'), '150000 100000');
    assert.equal(await read('cpuset.cpus'), '0-1');
    assert.equal(await read('pids.max'), '20');
    assert.equal(await read('io.weight'), `default ${blkioToIoWeight(500)}`);
    await updateResources(layout, allCaps, { id: 'c', running: true, cgroupPath: '/berth/c', hostConfig: { PidsLimit: 20 } }, { PidsLimit: -1, MemorySwap: -1 });
    assert.equal(await read('pids.max'), 'max');
    assert.equal(await read('memory.swap.max'), 'max');
  });
});

describe('cgroup v2 limits, checked against the kernel\'s cgroup-v2 interface files', () => {
  let tmp: string | undefined;
  after(async () => { if (tmp) await fs.rm(tmp, { recursive: true, force: true }); });
  it('CFS quota/period as cpu.max "$MAX $PERIOD", swap.max follows memory, io.bfq.weight when BFQ is there, caps from cgroup.controllers', async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-update-v2b-'));
    const dir = path.join(tmp, 'berth/c');
    await fs.mkdir(dir, { recursive: true });
    const layout: CgroupLayout = { version: 2, root: tmp };
    const read = (f: string) => fs.readFile(path.join(dir, f), 'utf8');
    const target = (hostConfig: object) => ({ id: 'c', running: true, cgroupPath: '/berth/c', hostConfig });
    await updateResources(layout, allCaps, target({}), { CpuQuota: 25_000, CpuPeriod: 50_000 });
    assert.equal(await read('cpu.max'), '25000 50000');
    // A quota of -1 lifts the limit and keeps the period.
    await updateResources(layout, allCaps, target({ CpuQuota: 25_000, CpuPeriod: 50_000 }), { CpuQuota: -1 });
    assert.equal(await read('cpu.max'), 'max 50000');
    // memory.swap.max is swap alone: raising memory under a set MemorySwap shrinks it.
    await updateResources(layout, allCaps, target({ Memory: 64 * MiB, MemorySwap: 256 * MiB }), { Memory: 128 * MiB });
    assert.equal(await read('memory.max'), String(128 * MiB));
    assert.equal(await read('memory.swap.max'), String(128 * MiB));
    // MemorySwap equal to Memory: no swap at all.
    await updateResources(layout, allCaps, target({ Memory: 128 * MiB, MemorySwap: 256 * MiB }), { MemorySwap: 128 * MiB });
    assert.equal(await read('memory.swap.max'), '0');
    // With BFQ the weight goes as is (10-1000) into io.bfq.weight, as runc does; io.weight is left alone.
    await fs.writeFile(path.join(dir, 'io.bfq.weight'), 'default 100\n');
    await fs.rm(path.join(dir, 'io.weight'), { force: true });
    await updateResources(layout, allCaps, target({}), { BlkioWeight: 300 });
    assert.equal(await read('io.bfq.weight'), '300');
    await assert.rejects(read('io.weight'), { code: 'ENOENT' });
    assert.equal(blkioToIoWeight(10), 1);
    assert.equal(blkioToIoWeight(1000), 10000);
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(262144), 10000);

    // What the host can limit comes from the root's cgroup.controllers.
    await fs.writeFile(path.join(tmp, 'cgroup.controllers'), 'cpuset cpu pids\n');
    await fs.writeFile(path.join(tmp, 'cpuset.cpus.effective'), '0-1\n');
    const caps = await detectHostCaps(layout);
    assert.deepEqual({ memory: caps.memory, swap: caps.swap, cpuCfs: caps.cpuCfs, pids: caps.pids, blkioWeight: caps.blkioWeight, cpusAvailable: caps.cpusAvailable },
      { memory: false, swap: false, cpuCfs: true, pids: true, blkioWeight: false, cpusAvailable: '0-1' });
  });
});

describe('update writes a real cgroup v1', async () => {
  const layout = await detectCgroupLayout().catch(() => undefined);
  const ok = layout?.version === 1 && ['cpu', 'cpuacct', 'memory', 'pids'].every((c) => (layout.controllers as Record<string, string>)[c]);
  const name = `/berth-fs-test-${randomBytes(4).toString('hex')}`;
  const ctrls = ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset'] as const;
  let child: ChildProcess | undefined;
  after(async () => {
    if (child?.pid) { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }
    await sleep(100);
    if (layout?.version !== 1) return;
    for (const c of ctrls) {
      const d = controllerDir(layout, c, name);
      if (d) await fs.rmdir(d).catch(() => undefined);
    }
  });

  it('writes memory, swap, shares, CFS quota, cpuset and pids, and the quota holds', { skip: !ok && 'no cgroup v1 here' }, async () => {
    if (layout?.version !== 1) return;
    for (const c of ctrls) {
      const d = controllerDir(layout, c, name);
      if (d) await fs.mkdir(d);
    }
    const cpusetDir = controllerDir(layout, 'cpuset', name);
    if (cpusetDir) {
      await fs.writeFile(path.join(cpusetDir, 'cpuset.mems'), await fs.readFile(path.join(layout.controllers.cpuset, 'cpuset.mems'), 'utf8'));
      await fs.writeFile(path.join(cpusetDir, 'cpuset.cpus'), await fs.readFile(path.join(layout.controllers.cpuset, 'cpuset.cpus'), 'utf8'));
    }
    const caps = await detectHostCaps(layout);
    const target = { id: 'x', running: true, cgroupPath: name, hostConfig: {} };
    const mem = controllerDir(layout, 'memory', name);
    const cpu = controllerDir(layout, 'cpu', name);
    const r1 = await updateResources(layout, caps, target, { Memory: 64 * MiB, MemorySwap: 128 * MiB, CpuShares: 512, NanoCpus: 0.3e9, PidsLimit: 20, CpusetCpus: '0', BlkioWeight: 300 });
    assert.equal(await readCgroupNumber(mem, 'memory.limit_in_bytes'), 64 * MiB);
    if (caps.swap) assert.equal(await readCgroupNumber(mem, 'memory.memsw.limit_in_bytes'), 128 * MiB);
    assert.equal(await readCgroupNumber(cpu, 'cpu.shares'), 512);
    assert.equal(await readCgroupNumber(cpu, 'cpu.cfs_quota_us'), 30000);
    assert.equal(await readCgroupNumber(cpu, 'cpu.cfs_period_us'), 100000);
    assert.equal(await readCgroupNumber(controllerDir(layout, 'pids', name), 'pids.max'), 20);
    if (cpusetDir) assert.equal((await fs.readFile(path.join(cpusetDir, 'cpuset.cpus'), 'utf8')).trim(), '0');
    if (!caps.blkioWeight) assert.ok(r1.warnings.some((w) => w.startsWith('Your kernel does not support Block I/O weight')));

    // Raising memory above the old memory+swap needs the swap written first.
    await updateResources(layout, caps, { ...target, hostConfig: r1.hostConfig }, { Memory: 256 * MiB, MemorySwap: 512 * MiB });
    assert.equal(await readCgroupNumber(mem, 'memory.limit_in_bytes'), 256 * MiB);
    if (caps.swap) assert.equal(await readCgroupNumber(mem, 'memory.memsw.limit_in_bytes'), 512 * MiB);

    // A busy loop in the cgroup gets at most 0.3 CPU (less when other work shares CPU 0).
    child = spawn('sh', ['-c', 'read x; while :; do :; done'], { stdio: ['pipe', 'ignore', 'ignore'] });
    for (const c of ['cpu', 'cpuacct', 'memory', 'pids'] as const) await fs.writeFile(path.join(controllerDir(layout, c, name)!, 'cgroup.procs'), String(child.pid));
    child.stdin!.write('go\n');
    const acct = controllerDir(layout, 'cpuacct', name);
    const u0 = (await readCgroupNumber(acct, 'cpuacct.usage'))!;
    const t0 = process.hrtime.bigint();
    await sleep(1500);
    const used = ((await readCgroupNumber(acct, 'cpuacct.usage'))! - u0) / Number(process.hrtime.bigint() - t0);
    assert.ok(used > 0.1 && used < 0.33, `CPU used ${used.toFixed(3)} with a 0.3 quota`);

    // A limit the kernel refuses (memory above the cgroup's memory+swap, which this record does not know of) names the container.
    if (caps.swap) await assert.rejects(updateResources(layout, caps, { ...target, hostConfig: {} }, { Memory: 1024 * MiB }), /Cannot update container x: .*EINVAL/);
  });
});

describe('a pids limit set by update stops a fork bomb', async () => {
  const layout = await detectCgroupLayout().catch(() => undefined);
  const ok = layout?.version === 1 && !!layout.controllers.pids;
  const name = `/berth-fs-test-${randomBytes(4).toString('hex')}`;
  let child: ChildProcess | undefined;
  after(async () => {
    if (child?.pid) { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }
    await sleep(200);
    if (layout?.version === 1) {
      const d = controllerDir(layout, 'pids', name);
      // Children killed with the group; the cgroup empties shortly after.
      for (let i = 0; i < 20 && d; i++) { if (await fs.rmdir(d).then(() => true, () => false)) break; await sleep(100); }
    }
  });

  it('caps the processes a shell can fork', { skip: !ok && 'no cgroup v1 pids controller here' }, async () => {
    if (layout?.version !== 1) return;
    const dir = controllerDir(layout, 'pids', name)!;
    await fs.mkdir(dir);
    const caps = await detectHostCaps(layout);
    await updateResources(layout, caps, { id: 'x', running: true, cgroupPath: name, hostConfig: {} }, { PidsLimit: 10 });
    // The shell waits until it is inside the cgroup, then tries to start 50 sleepers.
    child = spawn('sh', ['-c', 'read x; n=0; for i in $(seq 50); do sleep 30 & n=$((n+1)); done 2>/dev/null; echo started; wait'], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    await fs.writeFile(path.join(dir, 'cgroup.procs'), String(child.pid));
    child.stdin!.write('go\n');
    // pids.events counts the forks the limit refused.
    const refused = async () => Number(/max (\d+)/.exec(await fs.readFile(path.join(dir, 'pids.events'), 'utf8'))?.[1] ?? 0);
    for (let i = 0; i < 50 && (await refused()) === 0; i++) await sleep(100);
    assert.ok((await refused()) > 0, 'forks were refused');
    const current = await readCgroupNumber(dir, 'pids.current');
    assert.ok(current !== undefined && current <= 10, `pids.current ${current}`);
    assert.ok(Number(await fs.readFile(path.join(dir, 'pids.max'), 'utf8')) === 10);
  });
});
