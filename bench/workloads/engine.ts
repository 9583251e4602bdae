import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { BenchContext, WorkloadGroup } from '../context.js';
import { repeat, timeCommand, type Row } from '../harness.js';

/** Resident memory of the given processes, in MB. */
export function rssOf(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const status = spawnSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' }).stdout ?? '';
    kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return kb / 1024;
}

/** Mounts under a path (the daemon's container rootfs mounts live under its data root). */
function mountsUnder(root: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(root + '/')).length;
}

/** Waits (polling every 5 ms) until no mount is left under root; returns the ms waited. */
async function untilUnmounted(root: string, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  while (mountsUnder(root) > 0 && performance.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 5));
  return performance.now() - t0;
}

function conmonPids(marker: string): number[] {
  const out = spawnSync('pgrep', ['-f', `conmon.*${marker}`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

async function runRm(ctx: BenchContext): Promise<Row[]> {
  const { rounds, peer, dockerCli, daemon, floor } = ctx;
  const row: Row = {
    workload: 'run --rm busybox true',
    berth: repeat(rounds, () => ctx.berth(['run', '--rm', 'busybox', 'true'])),
    dockerCli: dockerCli ? repeat(rounds, () => ctx.docker(daemon.host, ['run', '--rm', 'busybox', 'true'])) : undefined,
    floor: repeat(rounds, () => floor.runTrue(Math.random() * 1e9 | 0)),
    peer: peer ? repeat(rounds, () => ctx.docker(peer, ['run', '--rm', 'busybox', 'true'])) : undefined,
    note: 'floor: runc run of the `runc spec` bundle',
  };
  // The same samples against runc running the container Docker and Berth
  // actually make (seccomp profile, capabilities, masks, mounts).
  const dockerSettings = repeat(rounds, () => floor.runTrue(Math.random() * 1e9 | 0, 'docker-settings'));
  return [row, { ...row, workload: 'run --rm busybox true (Docker settings floor)', floor: dockerSettings, note: 'floor: runc run of the spec berthd writes (seccomp, caps, masks, mounts)' }];
}

async function fifty(ctx: BenchContext): Promise<Row[]> {
  const { peer, daemon } = ctx;
  const starts: number[] = [], removals: number[] = [], drained: number[] = [], mem: number[] = [], peerStarts: number[] = [], peerRemovals: number[] = [];
  const viaDocker: number[] = [], viaDockerRm: number[] = [];
  for (let r = 0; r < Math.min(ctx.rounds, 3); r++) {
    const names = Array.from({ length: 50 }, (_, i) => `bench${r}_${i}`);
    starts.push(names.reduce((t, n) => t + ctx.berth(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']), 0));
    mem.push(rssOf([daemon.proc.pid!, ...conmonPids(daemon.execRoot)]));
    const rm = ctx.berth(['rm', '-f', ...names]);
    removals.push(rm);
    // rm answers once the containers are gone for clients; unmounting and layer
    // removal finish behind it. Count that too, so the row compares with
    // Docker's rm -f, which returns after all of it.
    drained.push(rm + await untilUnmounted(daemon.dataRoot));
    // The same through the docker CLI: the engine without the berth CLI's Node start-up.
    if (ctx.dockerCli) {
      viaDocker.push(names.reduce((t, n) => t + ctx.docker(daemon.host, ['run', '-d', '--name', n, 'busybox', 'sleep', '1000']), 0));
      const rmd = ctx.docker(daemon.host, ['rm', '-f', ...names]);
      viaDockerRm.push(rmd + await untilUnmounted(daemon.dataRoot));
    }
    if (peer) {
      peerStarts.push(names.reduce((t, n) => t + ctx.docker(peer, ['run', '-d', '--name', n, 'busybox', 'sleep', '1000']), 0));
      peerRemovals.push(ctx.docker(peer, ['rm', '-f', ...names]));
    }
  }
  return [
    { workload: '50 × run -d sleep', berth: starts, dockerCli: viaDocker.length ? viaDocker : undefined, peer: peer ? peerStarts : undefined },
    { workload: 'rm -f of those 50', berth: removals, peer: peer ? peerRemovals : undefined },
    {
      workload: 'rm -f of 50 until all unmounted', berth: drained, dockerCli: viaDockerRm.length ? viaDockerRm : undefined, peer: peer ? peerRemovals : undefined,
      note: 'berth: until no container mount is left under its data root (cleanup finishes after rm answers)',
    },
    { workload: 'RSS daemon+conmons, 50 up', berth: mem, unit: 'MB', note: 'resident memory of berthd plus every conmon, in MB' },
  ];
}

async function exec(ctx: BenchContext): Promise<Row[]> {
  const { rounds, peer, dockerCli, daemon, floor } = ctx;
  ctx.berthOut(['run', '-d', '--name', 'bench_exec', 'busybox', 'sleep', '1000']);
  try {
    const floorExec = await floor.withSleeper((id) => repeat(rounds, () => floor.execTrue(id)));
    const floorExecDocker = await floor.withSleeper((id) => repeat(rounds, () => floor.execTrue(id)), 'docker-settings');
    let peerExec: number[] | undefined;
    if (peer) {
      ctx.dockerOut(peer, ['run', '-d', '--name', 'bench_exec', 'busybox', 'sleep', '1000']);
      try { peerExec = repeat(rounds, () => ctx.docker(peer, ['exec', 'bench_exec', 'true'])); } finally { ctx.dockerOut(peer, ['rm', '-f', 'bench_exec']); }
    }
    const row: Row = {
      workload: 'exec true',
      berth: repeat(rounds, () => ctx.berth(['exec', 'bench_exec', 'true'])),
      dockerCli: dockerCli ? repeat(rounds, () => ctx.docker(daemon.host, ['exec', 'bench_exec', 'true'])) : undefined,
      floor: floorExec,
      peer: peerExec,
      note: 'floor: runc exec into the `runc spec` container',
    };
    return [row, { ...row, workload: 'exec true (Docker settings floor)', floor: floorExecDocker, note: 'floor: runc exec into a container with the spec berthd writes' }];
  } finally {
    ctx.berthOut(['rm', '-f', 'bench_exec']);
  }
}

async function logs(ctx: BenchContext): Promise<Row[]> {
  const { rounds, peer, dockerCli, daemon } = ctx;
  ctx.berthOut(['run', '--name', 'bench_logs', 'busybox', 'seq', '1', '200000']);
  try {
    let peerLogs: number[] | undefined;
    if (peer) {
      ctx.dockerOut(peer, ['run', '--name', 'bench_logs', 'busybox', 'seq', '1', '200000']);
      try { peerLogs = repeat(rounds, () => ctx.docker(peer, ['logs', 'bench_logs'])); } finally { ctx.dockerOut(peer, ['rm', '-f', 'bench_logs']); }
    }
    return [{
      workload: 'logs of 200,000 lines',
      berth: repeat(rounds, () => ctx.berth(['logs', 'bench_logs'])),
      dockerCli: dockerCli ? repeat(rounds, () => ctx.docker(daemon.host, ['logs', 'bench_logs'])) : undefined,
      floor: repeat(rounds, () => timeCommand('sh', ['-c', `cat ${daemon.dataRoot}/containers/*/*-json.log > /dev/null`])),
      peer: peerLogs,
      note: 'floor: cat of the log file',
    }];
  } finally {
    ctx.berthOut(['rm', '-f', 'bench_logs']);
  }
}

/**
 * `stop` of a running container, two ways: a PID 1 that exits on SIGTERM
 * (the stop returns at its exit), and `stop -t 1` of one that ignores it
 * (SIGKILL after the timeout: about 1 s plus the engine's work). Each round
 * starts the container again, untimed.
 */
async function stop(ctx: BenchContext): Promise<Row[]> {
  const { rounds, peer, dockerCli, daemon } = ctx;
  const polite = ['sh', '-c', "trap 'exit 0' TERM; sleep 1000 & wait"];
  const stubborn = ['sleep', '1000'];
  const client = (host: string | undefined, args: string[]) => (host ? ctx.docker(host, args) : ctx.berth(args));
  const clientOut = (host: string | undefined, args: string[]) => (host ? ctx.dockerOut(host, args) : ctx.berthOut(args));
  // Times `stop ARGS` of a container running `cmd` through one client, `rounds` times.
  const stops = (host: string | undefined, name: string, cmd: string[], stopArgs: string[]): number[] => {
    clientOut(host, ['run', '-d', '--name', name, 'busybox', ...cmd]);
    try {
      return repeat(rounds, () => {
        clientOut(host, ['start', name]);
        // The shell sets its trap a moment after the start returns; a SIGTERM
        // before that is ignored (PID 1) and the stop would take its 10 s.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
        return client(host, ['stop', ...stopArgs, name]);
      });
    } finally {
      clientOut(host, ['rm', '-f', name]);
    }
  };
  return [
    {
      workload: 'stop (exits on SIGTERM)',
      berth: stops(undefined, 'bengine_stop', polite, []),
      dockerCli: dockerCli ? stops(daemon.host, 'bengine_stop', polite, []) : undefined,
      peer: peer ? stops(peer, 'bengine_stop', polite, []) : undefined,
    },
    {
      workload: 'stop -t 1 (ignores SIGTERM)',
      berth: stops(undefined, 'bengine_stop', stubborn, ['-t', '1']),
      peer: peer ? stops(peer, 'bengine_stop', stubborn, ['-t', '1']) : undefined,
      note: 'SIGKILL after the 1 s timeout',
    },
  ];
}

export const engineWorkloads: WorkloadGroup[] = [
  { name: 'run', describe: 'run --rm busybox true', run: runRm },
  { name: 'fifty', describe: '50 × run -d sleep, then rm -f of all 50, with daemon+conmon RSS', run: fifty },
  { name: 'stop', describe: 'stop of a container that exits on SIGTERM, and stop -t 1 of one that ignores it', run: stop },
  { name: 'exec', describe: 'exec true into a running container', run: exec },
  { name: 'logs', describe: 'logs of a container that printed 200,000 lines', run: logs },
];
