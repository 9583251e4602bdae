import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startTestDaemon, berthBin, type TestDaemon } from '../test/helpers/daemon.js';
import { printTable, repeat, run, timeCommand, type Row } from './harness.js';
import { RuncFloor } from './floor.js';

/**
 * `npm run bench -- [--peer unix:///path.sock] [--rounds N] [--only a,b]`
 *
 * Starts its own berthd on temp roots, measures each workload through the
 * berth CLI, the docker CLI against berthd (when `docker` is installed), the
 * bare runtime (the floor), and a peer engine when given.
 */
const args = process.argv.slice(2);
const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const rounds = Number(opt('--rounds') ?? 5);
const peer = opt('--peer');
const only = opt('--only')?.split(',');
const dockerCli = spawnSync('docker', ['--version']).status === 0 ? 'docker' : undefined;
const want = (name: string) => !only || only.includes(name);

function berth(d: TestDaemon, a: string[], input?: string) {
  return timeCommand(berthBin, a, { env: { ...process.env, BERTH_HOST: d.host }, input });
}
function docker(host: string, a: string[]) {
  return timeCommand('docker', ['-H', host, ...a], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
}

function rssOf(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const status = spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout;
      kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return kb / 1024;
}

function conmonPids(marker: string): number[] {
  const out = spawnSync('pgrep', ['-f', `conmon.*${marker}`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

async function main(): Promise<void> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bb-'));
  const floor = await RuncFloor.create(base);
  const d = await startTestDaemon();
  const rows: Row[] = [];
  try {
    // Warm up: first run pays for page cache and lazy module loading.
    berth(d, ['run', '--rm', 'busybox', 'true']);

    if (want('run')) {
      rows.push({
        workload: 'run --rm busybox true',
        berth: repeat(rounds, () => berth(d, ['run', '--rm', 'busybox', 'true'])),
        dockerCli: dockerCli ? repeat(rounds, () => docker(d.host, ['run', '--rm', 'busybox', 'true'])) : undefined,
        floor: repeat(rounds, () => floor.runTrue(Math.random() * 1e9 | 0)),
        peer: peer ? repeat(rounds, () => docker(peer, ['run', '--rm', 'busybox', 'true'])) : undefined,
      });
    }

    if (want('fifty')) {
      const starts: number[] = [], removals: number[] = [], mem: number[] = [], peerStarts: number[] = [], peerRemovals: number[] = [];
      for (let r = 0; r < Math.min(rounds, 3); r++) {
        const names = Array.from({ length: 50 }, (_, i) => `bench${r}_${i}`);
        starts.push(names.reduce((t, n) => t + berth(d, ['run', '-d', '--name', n, 'busybox', 'sleep', '1000']), 0));
        mem.push(rssOf([d.proc.pid!, ...conmonPids(d.execRoot)]));
        removals.push(berth(d, ['rm', '-f', ...names]));
        if (peer) {
          peerStarts.push(names.reduce((t, n) => t + docker(peer, ['run', '-d', '--name', n, 'busybox', 'sleep', '1000']), 0));
          peerRemovals.push(docker(peer, ['rm', '-f', ...names]));
        }
      }
      rows.push({ workload: '50 × run -d sleep', berth: starts, peer: peer ? peerStarts : undefined });
      rows.push({ workload: 'rm -f of those 50', berth: removals, peer: peer ? peerRemovals : undefined });
      rows.push({ workload: 'RSS daemon+conmons, 50 up', berth: mem, unit: 'MB', note: 'resident memory of berthd plus every conmon, in MB' });
    }

    if (want('exec')) {
      run(berthBin, ['run', '-d', '--name', 'bench_exec', 'busybox', 'sleep', '1000'], { env: { ...process.env, BERTH_HOST: d.host } });
      const floorExec = await floor.withSleeper((id) => repeat(rounds, () => floor.execTrue(id)));
      rows.push({
        workload: 'exec true',
        berth: repeat(rounds, () => berth(d, ['exec', 'bench_exec', 'true'])),
        dockerCli: dockerCli ? repeat(rounds, () => docker(d.host, ['exec', 'bench_exec', 'true'])) : undefined,
        floor: floorExec,
        peer: peer ? (() => {
          run('docker', ['-H', peer, 'run', '-d', '--name', 'bench_exec', 'busybox', 'sleep', '1000']);
          try { return repeat(rounds, () => docker(peer, ['exec', 'bench_exec', 'true'])); } finally { run('docker', ['-H', peer, 'rm', '-f', 'bench_exec']); }
        })() : undefined,
      });
      run(berthBin, ['rm', '-f', 'bench_exec'], { env: { ...process.env, BERTH_HOST: d.host } });
    }

    if (want('logs')) {
      run(berthBin, ['run', '--name', 'bench_logs', 'busybox', 'seq', '1', '200000'], { env: { ...process.env, BERTH_HOST: d.host } });
      let peerLogs: number[] | undefined;
      if (peer) {
        run('docker', ['-H', peer, 'run', '--name', 'bench_logs', 'busybox', 'seq', '1', '200000']);
        peerLogs = repeat(rounds, () => docker(peer, ['logs', 'bench_logs']));
        run('docker', ['-H', peer, 'rm', '-f', 'bench_logs']);
      }
      rows.push({
        workload: 'logs of 200,000 lines',
        berth: repeat(rounds, () => berth(d, ['logs', 'bench_logs'])),
        dockerCli: dockerCli ? repeat(rounds, () => docker(d.host, ['logs', 'bench_logs'])) : undefined,
        floor: repeat(rounds, () => timeCommand('sh', ['-c', `cat ${d.dataRoot}/containers/*/*-json.log > /dev/null`])),
        peer: peerLogs,
        note: 'floor: cat of the log file',
      });
      run(berthBin, ['rm', '-f', 'bench_logs'], { env: { ...process.env, BERTH_HOST: d.host } });
    }
  } finally {
    await d.cleanup();
    await fs.rm(base, { recursive: true, force: true });
  }
  console.log(`\nBerth benchmarks: ${rounds} rounds, ${os.cpus().length} CPUs, ${new Date().toISOString()}${peer ? `, peer ${peer}` : ''}\n`);
  printTable(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
