import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidArgument } from '../../common/errors.js';
import { capabilitySet } from './capabilities.js';
import { defaultCapabilities, defaultMaskedPaths } from './defaults.js';
import { cgroupResources, ownHardLimits, rlimits } from './resources.js';
import { buildSpec, commandLine, containerEnv, type SpecInput } from './spec.js';
import { resolveInRoot } from './rootfs-path.js';
import { resolveUser } from './user.js';

let root: string;
const limits = new Map([['RLIMIT_NOFILE', 20000]]);
const build = (o: Partial<SpecInput>) => buildSpec({ id: 'c0ffee000000aaaa', rootfs: root, config: {}, hostConfig: {}, image: { Cmd: ['sh'] }, hardLimits: limits, ...o });

before(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-spec-'));
  await fs.mkdir(path.join(root, 'etc'));
  await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001:A:/home/alice:/bin/sh\n# comment\nbroken line\n');
  await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\nalice:x:1001:\naudio:x:29:alice\nvideo:x:44:bob,alice\n');
});
after(async () => { await fs.rm(root, { recursive: true, force: true }); });

describe('buildSpec', () => {
  it('applies Docker defaults', async () => {
    const { spec } = await build({ config: { Cmd: ['echo', 'hi'] } });
    assert.deepEqual(spec.process.args, ['echo', 'hi']);
    assert.deepEqual(spec.process.capabilities!.bounding, [...defaultCapabilities]);
    assert.deepEqual(spec.linux.maskedPaths, [...defaultMaskedPaths]);
    assert.ok(spec.linux.readonlyPaths!.includes('/proc/sys'));
    assert.equal(spec.linux.cgroupsPath, '/berth/c0ffee000000aaaa');
    assert.equal(spec.hostname, 'c0ffee000000');
    assert.equal(spec.process.cwd, '/');
    assert.equal(spec.process.terminal, false);
    assert.equal(spec.process.noNewPrivileges, false);
    assert.equal(spec.root.readonly, false);
    const dests = spec.mounts.map((m) => m.destination);
    assert.deepEqual(dests, ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
    assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm')!.options!.includes(`size=${64 * 1024 * 1024}`));
    assert.deepEqual(spec.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
    assert.equal(spec.linux.resources!.devices![0].allow, false);
    assert.deepEqual(spec.process.env, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=c0ffee000000', 'HOME=/root',
    ]);
  });

  it('privileged: all caps, no masks, all devices, rw sysfs', async () => {
    const { spec } = await build({ hostConfig: { Privileged: true } });
    assert.ok(spec.process.capabilities!.bounding.includes('CAP_SYS_ADMIN'));
    assert.deepEqual(spec.linux.maskedPaths, []);
    assert.deepEqual(spec.linux.readonlyPaths, []);
    assert.deepEqual(spec.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
    assert.ok(spec.linux.devices!.some((d) => d.path === '/dev/null'));
    assert.ok(spec.mounts.find((m) => m.destination === '/sys')!.options!.includes('rw'));
  });

  it('tty, env merge, user, workdir, hostname, read-only, no-new-privileges, oom score, sysctls, shm', async () => {
    const { spec, user } = await build({
      config: { Tty: true, Env: ['FOO=2', 'PATH=/x'], User: 'alice', WorkingDir: '/work', Hostname: 'h1', Domainname: 'example.org' },
      image: { Env: ['FOO=1', 'BAR=b'], Cmd: ['sh'] },
      hostConfig: { ReadonlyRootfs: true, SecurityOpt: ['no-new-privileges'], OomScoreAdj: 500, Sysctls: { 'net.ipv4.ip_forward': '1' }, ShmSize: 1 << 20 },
    });
    assert.deepEqual(spec.process.env, ['HOSTNAME=h1', 'TERM=xterm', 'FOO=2', 'BAR=b', 'PATH=/x', 'HOME=/home/alice']);
    assert.deepEqual(spec.process.user, { uid: 1000, gid: 1001, additionalGids: [29, 44] });
    assert.equal(user.home, '/home/alice');
    assert.equal(spec.process.cwd, '/work');
    assert.equal(spec.process.terminal, true);
    assert.equal(spec.hostname, 'h1');
    assert.equal(spec.domainname, 'example.org');
    assert.equal(spec.root.readonly, true);
    assert.equal(spec.process.noNewPrivileges, true);
    assert.equal(spec.process.oomScoreAdj, 500);
    assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
    assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm')!.options!.includes('size=1048576'));
  });

  it('--init wraps the command with tini mounted read-only as /sbin/docker-init', async () => {
    const { spec } = await build({ config: { Cmd: ['sleep', '1'] }, hostConfig: { Init: true } });
    assert.deepEqual(spec.process.args, ['/sbin/docker-init', '--', 'sleep', '1']);
    const m = spec.mounts.find((x) => x.destination === '/sbin/docker-init')!;
    assert.equal(m.source, '/usr/bin/tini-static');
    assert.ok(m.options!.includes('ro'));
  });

  it('caller mounts replace defaults at the same place and are ordered parents first; tmpfs as Docker', async () => {
    const { spec } = await build({
      mounts: [
        { destination: '/data/sub', type: 'bind', source: '/tmp/b', options: ['rbind'] },
        { destination: '/data', type: 'bind', source: '/tmp/a', options: ['rbind'] },
        { destination: '/dev/shm', type: 'bind', source: '/tmp/shm', options: ['rbind'] },
      ],
      hostConfig: { Tmpfs: { '/run': 'size=10m,exec' } },
    });
    const dests = spec.mounts.map((m) => m.destination);
    assert.equal(dests.filter((d) => d === '/dev/shm').length, 1);
    assert.equal(spec.mounts.find((m) => m.destination === '/dev/shm')!.source, '/tmp/shm');
    assert.ok(dests.indexOf('/data') < dests.indexOf('/data/sub'));
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/run')!.options, ['nosuid', 'nodev', 'size=10m', 'exec']);
  });

  it('network and namespace modes', async () => {
    const host = await build({ network: { mode: 'host' }, hostConfig: { PidMode: 'host', UTSMode: 'host' } });
    assert.deepEqual(host.spec.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount']);
    const joined = await build({ network: { mode: 'path', path: '/run/netns/x' }, joinNamespaces: { ipc: '/proc/42/ns/ipc' } });
    assert.deepEqual(joined.spec.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
    assert.deepEqual(joined.spec.linux.namespaces.find((n) => n.type === 'ipc'), { type: 'ipc', path: '/proc/42/ns/ipc' });
    await assert.rejects(build({ network: { mode: 'host' }, hostConfig: { Sysctls: { 'net.ipv4.ip_forward': '1' } } }), InvalidArgument);
    await assert.rejects(build({ hostConfig: { Sysctls: { 'vm.swappiness': '1' } } }), /not allowed/);
  });

  it('resources and rlimits land in the spec', async () => {
    const { spec } = await build({ hostConfig: { Memory: 64 << 20, CpuShares: 512, NanoCpus: 1.5e9, PidsLimit: 50, Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 1 << 20 }] } });
    assert.deepEqual(spec.linux.resources!.memory, { limit: 64 << 20, swap: 128 << 20 });
    assert.deepEqual(spec.linux.resources!.cpu, { shares: 512, period: 100000, quota: 150000 });
    assert.deepEqual(spec.linux.resources!.pids, { limit: 50 });
    assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 20000 }]);
  });

  it('rejects bad input with Docker\'s messages', async () => {
    await assert.rejects(build({ config: { WorkingDir: 'rel' } }), /the working directory 'rel' is invalid, it needs to be an absolute path/);
    await assert.rejects(build({ config: { User: 'nobody' } }), /unable to find user nobody: no matching entries in passwd file/);
    await assert.rejects(build({ config: { User: 'alice:nogroup' } }), /unable to find group nogroup: no matching entries in group file/);
    await assert.rejects(build({ hostConfig: { CapAdd: ['NOT_A_CAP'] } }), /invalid capability/);
    await assert.rejects(build({ hostConfig: { SecurityOpt: ['bogus'] } }), /invalid --security-opt/);
    await assert.rejects(build({ image: {}, config: {} }), /no command specified/);
    await assert.rejects(build({ hostConfig: { OomScoreAdj: 2000 } }), /range for oom score adj/);
  });
});

describe('commandLine and containerEnv', () => {
  it('an overridden entrypoint drops the image Cmd; explicit Cmd wins', () => {
    assert.deepEqual(commandLine({ Entrypoint: ['/bin/ls'] }, { Entrypoint: ['/e'], Cmd: ['-l'] }), ['/bin/ls']);
    assert.deepEqual(commandLine({}, { Entrypoint: ['/e'], Cmd: ['-l'] }), ['/e', '-l']);
    assert.deepEqual(commandLine({ Cmd: ['x'] }, { Entrypoint: ['/e'], Cmd: ['-l'] }), ['/e', 'x']);
  });
  it('keeps an explicit HOME and skips bare names', () => {
    assert.deepEqual(containerEnv({ hostname: 'h', tty: false, home: '/root', env: ['HOME=/x', 'UNSET'] }),
      ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h', 'HOME=/x']);
  });
});

describe('capabilities', () => {
  it('adds and drops with or without CAP_, any case, and ALL', () => {
    const caps = capabilitySet({ add: ['net_admin', 'CAP_SYS_TIME'], drop: ['mknod'] });
    assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_SYS_TIME') && !caps.includes('CAP_MKNOD'));
    assert.deepEqual(capabilitySet({ drop: ['ALL'], add: ['chown'] }), ['CAP_CHOWN']);
    const all = capabilitySet({ add: ['all'], drop: ['SYS_ADMIN'] });
    assert.ok(all.includes('CAP_SYS_MODULE') && !all.includes('CAP_SYS_ADMIN'));
  });
});

describe('user resolution', () => {
  it('handles uid, uid:gid, name:gid and unknown numeric ids', async () => {
    assert.deepEqual(await resolveUser(root, '1000'), { uid: 1000, gid: 1001, additionalGids: [29, 44], home: '/home/alice' });
    assert.deepEqual(await resolveUser(root, '1000:44'), { uid: 1000, gid: 44, additionalGids: [], home: '/home/alice' });
    assert.deepEqual(await resolveUser(root, '4242:4343'), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
    assert.deepEqual(await resolveUser(root, '', ['audio', '99']), { uid: 0, gid: 0, additionalGids: [29, 99], home: '/root' });
  });

  it('never follows a symlink out of the rootfs', async () => {
    const evil = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-evil-'));
    try {
      await fs.mkdir(path.join(evil, 'etc'));
      await fs.writeFile(path.join(evil, 'passwd-target'), 'mallory:x:0:0::/:/bin/sh\n');
      // An absolute link and a ../ climb: both must stay inside `evil`.
      await fs.symlink(path.join(evil, 'passwd-target'), path.join(evil, 'etc/passwd'));
      await fs.symlink('../../../../../../../../etc/shadow', path.join(evil, 'etc/group'));
      assert.equal(await resolveInRoot(evil, '/etc/group'), path.join(evil, 'etc/shadow'));
      assert.equal(await resolveInRoot(evil, '/etc/passwd'), path.join(evil, evil, 'passwd-target'));
      await assert.rejects(resolveUser(evil, 'mallory'), /unable to find user mallory/);
    } finally {
      await fs.rm(evil, { recursive: true, force: true });
    }
  });
});

describe('resources', () => {
  it('translates and validates like Docker', () => {
    assert.deepEqual(cgroupResources({ Memory: 64 << 20, MemorySwap: -1 }), { memory: { limit: 64 << 20, swap: -1 } });
    assert.deepEqual(cgroupResources({ Memory: 64 << 20 }, { swapAccounting: false }), { memory: { limit: 64 << 20 } });
    assert.deepEqual(cgroupResources({ CpuQuota: 50000, CpuPeriod: 100000, CpusetCpus: '0-1', BlkioWeight: 300 }),
      { cpu: { period: 100000, quota: 50000, cpus: '0-1' }, blockIO: { weight: 300 } });
    assert.throws(() => cgroupResources({ Memory: 1 << 20 }), /Minimum memory limit allowed is 6MB/);
    assert.throws(() => cgroupResources({ Memory: 64 << 20, MemorySwap: 32 << 20 }), /memoryswap limit should be larger/);
    assert.throws(() => cgroupResources({ NanoCpus: 1e9, CpuQuota: 5000 }), /Nano CPUs and CPU Quota/);
    assert.throws(() => cgroupResources({ BlkioWeight: 5 }), /Range of blkio weight is from 10 to 1000/);
    assert.throws(() => cgroupResources({ CpusetCpus: 'abc' }), /Invalid value abc/);
  });

  it('clamps rlimits to the daemon\'s hard limits', () => {
    assert.deepEqual(rlimits([{ Name: 'nofile', Soft: 30000, Hard: 40000 }], limits), [{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
    assert.throws(() => rlimits([{ Name: 'bogus', Soft: 1, Hard: 1 }], limits), /invalid ulimit type/);
    assert.throws(() => rlimits([{ Name: 'nproc', Soft: 5, Hard: 1 }], limits), /soft limit must be less/);
    assert.equal(ownHardLimits().get('RLIMIT_NOFILE')! > 0, true);
  });
});
