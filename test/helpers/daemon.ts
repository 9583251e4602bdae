import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync, readdirSync, existsSync, openSync, closeSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { networkInstance } from '../../src/daemon/network-port.js';
import { daemonNodeFlags } from '../../src/daemon/node-flags.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The CLI as users run it: the bundle when `npm run build` made a fresh one, else tsc's output. */
export const berthBin = path.join(repoRoot, 'bin/berth');
export const berthdBin = path.join(repoRoot, 'bin/berthd');

/** A berthd started for one test file, on its own socket, data root and exec root. */
export interface TestDaemon {
  socket: string;
  host: string;
  dataRoot: string;
  execRoot: string;
  proc: ChildProcess;
  log: () => string;
  /** Calls the API: `await d.api('GET', '/containers/json')`. */
  api(method: string, p: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  /** Runs the berth CLI against this daemon. */
  berth(args: string[], opts?: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): { code: number; stdout: string; stderr: string };
  /** Kills the daemon process hard (to test recovery), leaving containers running. */
  crash(): Promise<void>;
  /** Starts the daemon again on the same roots. */
  restart(): Promise<void>;
  /** Removes every container, stops the daemon, and cleans mounts, monitors and dirs. */
  cleanup(): Promise<void>;
}

export async function startTestDaemon(extraArgs: string[] = [], opts: { entry?: 'berthd' | 'berth -d' } = {}): Promise<TestDaemon> {
  // Short paths: unix socket paths must stay under 108 bytes.
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-'));
  const socket = path.join(base, 'd.sock');
  const dataRoot = path.join(base, 'root');
  const execRoot = path.join(base, 'run');
  // The daemon logs to a file, not a pipe: tests block in spawnSync while the
  // CLI runs, and a daemon stuck writing to a full pipe would stall with them.
  const logFile = path.join(base, 'daemon.log');
  const readLog = () => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } };
  let proc!: ChildProcess;

  const launch = async () => {
    const fd = openSync(logFile, 'a');
    try {
      // `berth -d` is the Docker 1.x spelling the seed shows; it must start the same daemon.
      const entry = opts.entry === 'berth -d' ? [berthBin, '-d'] : [...daemonNodeFlags, path.join(repoRoot, 'dist/src/daemon/main.js')];
      proc = spawn(process.execPath, [...entry, '-H', `unix://${socket}`, '--data-root', dataRoot, '--exec-root', execRoot, '--log-level', 'debug', ...extraArgs], {
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`berthd exited early (${proc.exitCode}):\n${readLog()}`);
      try {
        const r = await request(socket, 'GET', '/_ping');
        if (r.status === 200) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not come up in 20s:\n${readLog()}`);
  };
  await launch();

  const d: TestDaemon = {
    socket, host: `unix://${socket}`, dataRoot, execRoot,
    get proc() { return proc; },
    log: readLog,
    api: (method, p, body) => request(socket, method, p, body),
    berth(args, opts = {}) {
      const r = spawnSync(process.execPath, [berthBin, ...args], {
        input: opts.input ?? '', encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000,
        env: { ...process.env, BERTH_HOST: `unix://${socket}`, DOCKER_HOST: '', ...opts.env },
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    async crash() {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    },
    async restart() {
      await launch();
    },
    async cleanup() {
      try {
        if (process.env.BERTH_TEST_LOG) process.stderr.write(readLog());
        if (proc.exitCode === null) {
          const list = await request(socket, 'GET', '/containers/json?all=1').catch((err) => {
            throw new Error(`daemon (exit ${proc.exitCode}, signal ${proc.signalCode}) did not answer at cleanup (${err}); its log:\n${readLog().slice(-4000)}`);
          });
          for (const c of (list.body as { Id: string }[]) ?? []) await request(socket, 'DELETE', `/containers/${c.Id}?force=1&v=1`).catch(() => undefined);
          proc.kill('SIGTERM');
          await Promise.race([new Promise((r) => proc.once('exit', r)), new Promise((r) => setTimeout(r, 5000))]);
          if (proc.exitCode === null) proc.kill('SIGKILL');
        }
      } finally {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGKILL');
          await new Promise((r) => proc.once('exit', r));
        }
        sweep(base);
        await fs.rm(base, { recursive: true, force: true }).catch(() => undefined);
      }
    },
  };
  return d;
}

/** Last-resort cleanup of what a test daemon may leave: monitors, mounts, runc state under `base`. */
function sweep(base: string): void {
  // conmon processes of this daemon carry its exec root in their command line.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(base) && /conmon|runc|crun/.test(cmd.split('\0')[0])) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone
    }
  }
  const runcRoot = path.join(base, 'run', 'runc');
  if (existsSync(runcRoot)) {
    for (const id of readdirSync(runcRoot)) spawnSync('runc', ['--root', runcRoot, 'delete', '--force', id]);
  }
  // The daemon's own network objects: its nft table, default bridge and namespaces.
  const { instance, defaultBridge } = networkInstance(path.join(base, 'root'));
  if (instance) {
    spawnSync('nft', ['delete', 'table', 'inet', `berth-${instance}`]);
    spawnSync('nft', ['delete', 'table', 'ip', `berth-${instance}`]);
    spawnSync('ip', ['link', 'del', defaultBridge]);
    if (existsSync('/run/netns')) {
      for (const ns of readdirSync('/run/netns').filter((n) => n.startsWith(`berth-${instance}-`))) spawnSync('ip', ['netns', 'del', ns]);
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(base));
  for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
}

export function request(socket: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({ socketPath: socket, agent: false, method, path: p, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = undefined;
        try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
