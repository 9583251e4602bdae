import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { NotFound } from '../../common/errors.js';
import type { HostConfig } from '../../engine/containers/types.js';
import { StatsCollector } from '../../engine/stats/collect.js';
import type { CgroupLayout } from '../../engine/stats/cgroupfs.js';
import { Router } from '../router.js';
import { createApiServer } from '../server.js';
import { registerStatsRoutes } from './stats.js';
import { registerUpdateRoutes } from './update.js';

const run = promisify(execFile);
const dockerCli = '/usr/local/bin/docker';
const id = 'c0ffee'.padEnd(64, '0');

describe('stats and update routes with the real docker CLI', { skip: !(await fs.stat(dockerCli).catch(() => false)) && 'no docker CLI' }, () => {
  let tmp: string;
  let sock: string;
  let cg: string;
  let server: ReturnType<typeof createApiServer>;
  let hostConfig: HostConfig = { Memory: 0 };
  const docker = (...args: string[]) => run(dockerCli, ['-H', `unix://${sock}`, ...args], { env: { ...process.env, DOCKER_CONFIG: tmp } });

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-stats-api-'));
    sock = path.join(tmp, 'api.sock');
    cg = path.join(tmp, 'cgroup/berth', id);
    const proc = path.join(tmp, 'proc');
    await fs.mkdir(cg, { recursive: true });
    await fs.mkdir(path.join(proc, '77/net'), { recursive: true });
    const files: Record<string, string> = {
      'cpu.stat': 'usage_usec 1000\nuser_usec 600\nsystem_usec 400\n', 'memory.current': String(200 << 20), 'memory.max': String(400 << 20),
      'memory.stat': `inactive_file ${100 << 20}\n`, 'pids.current': '3', 'pids.max': 'max', 'io.stat': '8:0 rbytes=2000000 wbytes=3000000 rios=1 wios=1\n',
    };
    for (const [f, v] of Object.entries(files)) await fs.writeFile(path.join(cg, f), v);
    await fs.writeFile(path.join(proc, 'stat'), 'cpu  100 0 100 800 0 0 0\n');
    await fs.writeFile(path.join(proc, '77/net/dev'), 'h1\nh2\n  eth0: 1500000 1 0 0 0 0 0 0 2500000 1 0 0 0 0 0 0\n');
    const layout: CgroupLayout = { version: 2, root: path.join(tmp, 'cgroup') };
    const r = new Router();
    r.get('/_ping', (c) => { c.res.writeHead(200, { 'Content-Type': 'text/plain' }); c.res.end('OK'); });
    const find = (ref: string) => {
      if (ref !== 'box' && ref !== id) throw new NotFound(`No such container: ${ref}`);
    };
    registerStatsRoutes(r, {
      collector: new StatsCollector(layout, { procRoot: proc, hostMemory: 1 << 30, onlineCpus: 2 }),
      target: (ref) => { find(ref); return { id, name: '/box', pid: 77, cgroupPath: `/berth/${id}` }; },
    });
    registerUpdateRoutes(r, {
      layout,
      caps: { memory: true, swap: true, memoryReservation: true, cpuShares: true, cpuCfs: true, cpuset: true, pids: true, blkioWeight: false, cpusAvailable: '0-1', memsAvailable: '0', ncpu: 2 },
      target: (ref) => { find(ref); return { id, running: true, hostConfig, cgroupPath: `/berth/${id}` }; },
      saveHostConfig: async (_id, hc) => { hostConfig = hc; },
    });
    server = createApiServer(r);
    await new Promise<void>((res) => server.listen(sock, res));
  });
  after(async () => {
    await new Promise((res) => server.close(res));
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('docker stats --no-stream shows Docker\'s columns', async () => {
    const { stdout } = await docker('stats', '--no-stream', '--format', '{{.Name}}|{{.ID}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}|{{.NetIO}}|{{.BlockIO}}|{{.PIDs}}', 'box');
    assert.equal(stdout.trim(), 'box|c0ffee000000|0.00%|100MiB / 400MiB|25.00%|1.5MB / 2.5MB|2MB / 3MB|3');
  });

  it('docker update writes the cgroup and stores the HostConfig; warnings reach the user', async () => {
    const { stdout } = await docker('update', '--memory', '64m', '--memory-swap', '128m', '--pids-limit', '20', '--cpus', '0.5', '--blkio-weight', '300', 'box');
    assert.equal(stdout.split('\n')[0], 'box');
    assert.match(stdout, /Your kernel does not support Block I\/O weight or the cgroup is not mounted. Weight discarded./);
    assert.equal(await fs.readFile(path.join(cg, 'memory.max'), 'utf8'), String(64 << 20));
    assert.equal(await fs.readFile(path.join(cg, 'memory.swap.max'), 'utf8'), String(64 << 20));
    assert.equal(await fs.readFile(path.join(cg, 'pids.max'), 'utf8'), '20');
    assert.equal(await fs.readFile(path.join(cg, 'cpu.max'), 'utf8'), '50000 100000');
    assert.equal(hostConfig.Memory, 64 << 20);
    assert.equal(hostConfig.NanoCpus, 0.5e9);
    await assert.rejects(docker('update', '--memory', '1m', 'box'), /Minimum memory limit allowed is 6MB/);
    await assert.rejects(docker('update', '--cpu-quota', '50000', 'box'), /CPU Quota cannot be updated as NanoCPUs has already been set/);
    await assert.rejects(docker('update', '--memory', '64m', 'nope'), /No such container: nope/);
  });
});
