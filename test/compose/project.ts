import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { berthBin, repoRoot, type TestDaemon } from '../helpers/daemon.js';

/**
 * The seed's fig.yml with local images: busybox httpd as `web`, a busybox
 * stand-in as `db` (exposing 3306), linked as `mysql`.
 */
export const seedFigYml = `web:
  image: busybox
  command: httpd -f -v -p 80 -h /etc
  links:
    - db:mysql
  ports:
    - "80"
db:
  image: busybox
  command: sh -c 'echo db ready; exec sleep 1000'
  expose:
    - "3306"
`;

export interface RunResult { code: number; stdout: string; stderr: string }

/**
 * A compose project in a temp directory, driven as a user drives it: the
 * `berth compose` CLI (or docker-compose 1.29) run in that directory
 * against one test daemon.
 *
 *   const p = await tempProject(d, 'figapp', { 'fig.yml': 'web:\n  image: busybox\n' });
 *   p.compose(['up', '-d']);            // berth compose up -d, cwd = p.dir
 *   p.dockerCompose(['-f', 'fig.yml', 'ps']);
 *   await p.remove();
 */
export interface TempProject {
  dir: string;
  write(file: string, text: string): Promise<void>;
  compose(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): RunResult;
  composeAsync(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  dockerCompose(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): RunResult;
  /** `fig ARGS` (bin/fig, compose under its first name), as the seed types it. */
  fig(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): RunResult;
  remove(): Promise<void>;
}

const cliMain = berthBin;

export async function tempProject(d: TestDaemon, name: string, files: Record<string, string>): Promise<TempProject> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'btc-'));
  const dir = path.join(base, name);
  await fs.mkdir(dir);
  const env = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    ...process.env, BERTH_HOST: d.host, DOCKER_HOST: d.host, COMPOSE_PROJECT_NAME: '', COMPOSE_FILE: '', ...extra,
  });
  const p: TempProject = {
    dir,
    write: (file, text) => fs.writeFile(path.join(dir, file), text),
    compose(args, opts = {}) {
      const r = spawnSync(process.execPath, [cliMain, 'compose', ...args], { cwd: dir, encoding: 'utf8', timeout: opts.timeoutMs ?? 90_000, env: env(opts.env) });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    composeAsync(args, opts = {}) {
      return run(process.execPath, [cliMain, 'compose', ...args], dir, env(opts.env), opts.timeoutMs ?? 90_000);
    },
    dockerCompose(args, opts = {}) {
      const r = spawnSync('docker-compose', args, { cwd: dir, encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, env: env(opts.env) });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    fig(args, opts = {}) {
      const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/fig'), ...args], { cwd: dir, encoding: 'utf8', timeout: opts.timeoutMs ?? 90_000, env: env(opts.env) });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    remove: () => fs.rm(base, { recursive: true, force: true }),
  };
  for (const [f, text] of Object.entries(files)) await p.write(f, text);
  return p;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

/**
 * Removes every container, user network and volume of a test daemon: the
 * `after` hook's safety net when a test failed half-way (the daemon's own
 * cleanup does containers only, and a user network owns a host bridge).
 */
export async function removeEverything(d: TestDaemon): Promise<void> {
  const cs = await d.api('GET', '/containers/json?all=1');
  for (const c of (cs.body as { Id: string }[]) ?? []) await d.api('DELETE', `/containers/${c.Id}?force=1&v=1`);
  const ns = await d.api('GET', '/networks');
  for (const n of (ns.body as { Id: string; Name: string }[]) ?? []) {
    if (!['bridge', 'host', 'none'].includes(n.Name)) await d.api('DELETE', `/networks/${n.Id}`);
  }
  const vs = await d.api('GET', '/volumes');
  for (const v of (vs.body?.Volumes as { Name: string }[]) ?? []) await d.api('DELETE', `/volumes/${encodeURIComponent(v.Name)}`);
}

/** Objects of the daemon carrying `com.docker.compose.project=<name>`. */
export async function projectObjects(d: TestDaemon, project: string): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const f = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }));
  const cs = await d.api('GET', `/containers/json?all=1&filters=${f}`);
  const ns = await d.api('GET', `/networks?filters=${f}`);
  const vs = await d.api('GET', `/volumes?filters=${f}`);
  return {
    containers: (cs.body as { Names: string[] }[]).map((c) => c.Names[0].slice(1)).sort(),
    networks: (ns.body as { Name: string }[]).map((n) => n.Name).sort(),
    volumes: ((vs.body?.Volumes ?? []) as { Name: string }[]).map((v) => v.Name).sort(),
  };
}

/** GET http://127.0.0.1:port/path, retried briefly while the server comes up. */
export async function httpGet(port: number, p: string): Promise<{ status: number; body: string }> {
  let last: unknown;
  for (let i = 0; i < 30; i++) {
    try {
      return await new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => { body += c; });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

/** The host port `compose port` prints (`0.0.0.0:49153` → 49153). */
export function hostPort(out: string): number {
  const m = /:(\d+)\s*$/.exec(out.trim());
  if (!m) throw new Error(`no host port in ${JSON.stringify(out)}`);
  return Number(m[1]);
}
