import { existsSync, readFileSync, promises as fs } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { Conflict, InvalidArgument, NotFound } from '../../common/errors.js';
import { log } from '../../common/log.js';
import { connectAttach, type AttachStreams } from './attach.js';
import { resizeViaConmon, startConmonWaiting } from './conmon.js';
import { execProcess, execWithPipes, execWithTerminal, type ExecOptions, type ExecSession } from './exec.js';
import { ExitWatcher, processAlive, type ExitStatus } from './exit-watch.js';
import { OciRuntime, type RuntimeState } from './oci-runtime.js';
import type { Spec } from './oci-spec.js';

export interface RuntimeConfig {
  /** Root of the daemon's runtime state (tmpfs), e.g. /run/berth. */
  execRoot: string;
  /** OCI runtime; default: crun on a pure cgroup v2 host, runc otherwise. */
  runtime?: 'runc' | 'crun';
  runtimePath?: string;
  conmonPath?: string;
}

export interface CreateOptions {
  /**
   * The OCI spec, or a promise of it: conmon is started (and waits) while the
   * caller still mounts and sets up the network the spec names. With a
   * promise, `tty` must say whether the spec will ask for a terminal.
   */
  spec: Spec | Promise<Spec>;
  /** Whether the process gets a terminal; taken from the spec when omitted. */
  tty?: boolean;
  /** Where conmon writes the k8s-file log (on persistent storage). */
  logPath: string;
  /** Docker OpenStdin: the container gets a stdin attach clients can write to. */
  openStdin?: boolean;
  /** Docker StdinOnce: close the container's stdin when the first attached client leaves. */
  stdinOnce?: boolean;
}

/** What the runtime knows about a container, merged from runc, conmon and the exit files. */
export interface ContainerState {
  status: 'created' | 'running' | 'paused' | 'stopped' | 'unknown';
  /** Host pid of the container's init while it runs. */
  pid: number;
  conmonPid?: number;
  /** Set once it has exited and conmon recorded how. */
  exit?: ExitStatus;
}

const validId = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/**
 * The container runtime: from an OCI spec to a running, monitored
 * container and back. One conmon per container (so containers outlive the
 * daemon), runc or crun underneath, state in `execRoot`:
 *
 *   execRoot/runc/            the OCI runtime's own state root
 *   execRoot/containers/<id>/ bundle: config.json, attach socket, ctl fifo, exit/oom, conmon.pid
 *   execRoot/exits/<id>       exit code, written by conmon (watched with inotify)
 *
 *   const rt = await ContainerRuntime.open({ execRoot: '/run/berth' });
 *   await rt.create(id, { spec, logPath });
 *   const out = await rt.attach(id);        // before start: no output is missed
 *   await rt.start(id);
 *   const { exitCode } = await rt.wait(id);
 *   await rt.delete(id);
 *
 * Knows nothing of HTTP or of container records; errors are typed
 * (NotFound, Conflict, CommandNotFound, …).
 */
export class ContainerRuntime {
  readonly oci: OciRuntime;
  readonly conmonPath: string;
  private readonly exits: ExitWatcher;

  private constructor(readonly execRoot: string, oci: OciRuntime, conmonPath: string) {
    this.oci = oci;
    this.conmonPath = conmonPath;
    this.exits = new ExitWatcher(this.exitDir);
  }

  static async open(cfg: RuntimeConfig): Promise<ContainerRuntime> {
    const name = cfg.runtime ?? defaultRuntime();
    const runtimePath = cfg.runtimePath ?? findBinary(name);
    const conmonPath = cfg.conmonPath ?? findBinary('conmon');
    const root = path.resolve(cfg.execRoot);
    for (const d of ['runc', 'containers', 'exits', 'socks']) await fs.mkdir(path.join(root, d), { recursive: true, mode: 0o700 });
    const refusal = name === 'crun' ? crunRefusal() : undefined;
    // Better one clear message now than "OCI runtime create failed" on every container.
    if (refusal) throw new InvalidArgument(`--runtime crun: ${refusal}; use --runtime runc on this host`);
    return new ContainerRuntime(root, new OciRuntime(name, runtimePath, path.join(root, 'runc')), conmonPath);
  }

  get exitDir(): string {
    return path.join(this.execRoot, 'exits');
  }

  /** The bundle directory of a container. */
  bundle(id: string): string {
    if (!validId.test(id)) throw new InvalidArgument(`invalid container id: ${id}`);
    return path.join(this.execRoot, 'containers', id);
  }

  /**
   * Writes the bundle and creates the container under a new conmon. The
   * container is `created`: attach now to miss no output, then `start`.
   * Given a promise of the spec, the bundle and a waiting conmon are made
   * first; if the promise rejects, they go again and its error is thrown.
   */
  async create(id: string, o: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    const bundle = this.bundle(id);
    const tty = o.tty ?? (o.spec instanceof Promise ? undefined : !!o.spec.process.terminal);
    if (tty === undefined) throw new InvalidArgument('create: say whether the container has a terminal when its spec is still coming');
    // Leftovers of an earlier run (a crash between exit and cleanup) would make create fail.
    if (this.knows(id)) await this.oci.delete(id, true).catch(() => undefined);
    await Promise.all([
      fs.rm(bundle, { recursive: true, force: true }).then(() => fs.mkdir(bundle, { recursive: true, mode: 0o700 })),
      fs.rm(path.join(this.exitDir, id), { force: true }),
      fs.mkdir(path.dirname(o.logPath), { recursive: true }),
    ]);
    const conmon = startConmonWaiting({
      conmonPath: this.conmonPath, runtime: this.oci, id, bundle, logPath: o.logPath,
      exitDir: this.exitDir, persistDir: bundle, socketDir: path.join(this.execRoot, 'socks'),
      tty, stdin: !!o.openStdin, leaveStdinOpen: !!o.openStdin && !o.stdinOnce,
    });
    try {
      const spec = await o.spec;
      if (!!spec.process.terminal !== tty) throw new InvalidArgument(`create: the spec ${tty ? 'lacks' : 'asks for'} the terminal announced`);
      await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
    } catch (err) {
      conmon.cancel();
      await fs.rm(bundle, { recursive: true, force: true });
      throw err;
    }
    try {
      const res = await conmon.proceed();
      log.debug('runtime', 'created', { id, pid: res.pid, conmon: res.conmonPid });
      return res;
    } catch (err) {
      const msg = String((err as Error)?.message ?? err);
      if (/already exists/.test(msg)) throw new Conflict(`container ${id} already exists in the runtime`);
      await this.oci.delete(id, true).catch(() => undefined);
      await fs.rm(bundle, { recursive: true, force: true });
      throw err;
    }
  }

  async start(id: string): Promise<void> {
    await this.oci.start(id);
  }

  /** Sends a signal ('SIGTERM', 'TERM', 'KILL', '9', 9) to the container's init process. */
  async kill(id: string, signal: string | number = 'SIGKILL'): Promise<void> {
    const sig = normalizeSignal(signal);
    // What `runc kill` does, without spawning it (which cost a removal of 50
    // containers at once seconds of CPU): signal the init pid runc recorded.
    // Safe from pid reuse while no exit file exists: conmon, the init's parent,
    // writes it right after reaping. Anything unusual goes to the runtime.
    const pid = this.initPid(id);
    const num = /^\d+$/.test(sig) ? Number(sig) : osConstants.signals[sig as NodeJS.Signals];
    if (pid && num && processAlive(pid) && !existsSync(path.join(this.exitDir, id))) {
      try {
        process.kill(pid, num);
        return;
      } catch { /* fall through to the runtime, which reports properly */ }
    }
    await this.oci.kill(id, sig);
  }

  /** The container's init pid as the runtime wrote it at create, if any. */
  private initPid(id: string): number | undefined {
    try {
      const n = Number(readFileSync(path.join(this.bundle(id), 'pidfile'), 'utf8').trim());
      return n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Docker's stop: `signal` (default SIGTERM), then SIGKILL once
   * `timeoutSeconds` (default 10; negative waits forever) pass without an exit.
   *
   *   const { exitCode } = await rt.stop(id, { timeoutSeconds: 2 }); // 137 if it ignored SIGTERM
   */
  async stop(id: string, o: { signal?: string | number; timeoutSeconds?: number } = {}): Promise<ExitStatus> {
    const timeout = o.timeoutSeconds ?? 10;
    const st = await this.oci.state(id);
    if (!st) throw new NotFound(`No such container: ${id}`);
    if (st.status === 'stopped') return this.wait(id);
    if (st.status === 'paused') await this.oci.resume(id).catch(() => undefined);
    const exited = this.wait(id);
    await this.oci.kill(id, normalizeSignal(o.signal ?? 'SIGTERM')).catch((err) => {
      if (!/not running|stopped|process already finished/i.test(String(err?.message))) throw err;
    });
    if (timeout < 0) return exited;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeout * 1000)));
    const first = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    await this.oci.kill(id, 'SIGKILL').catch(() => undefined);
    return exited;
  }

  async pause(id: string): Promise<void> {
    await this.oci.pause(id);
  }

  async resume(id: string): Promise<void> {
    await this.oci.resume(id);
  }

  /**
   * Forgets a container: runtime state, cgroups, bundle, exit file. Refuses
   * a running one unless `force` (which kills it). Unknown ids are fine.
   */
  async delete(id: string, o: { force?: boolean } = {}): Promise<void> {
    const bundle = this.bundle(id);
    // Asking the runtime about a container it never had (or already forgot) costs a process spawn.
    if (this.knows(id)) await this.oci.delete(id, !!o.force);
    const conmonPid = this.conmonPid(id);
    const exitWritten = existsSync(path.join(this.exitDir, id));
    if (!exitWritten && conmonPid && processAlive(conmonPid) && isConmon(conmonPid)) {
      // A forced delete just killed the container: let conmon record the exit
      // before the files go, or it would leave a stale exit file behind.
      await waitGone(conmonPid, 2000);
    }
    await fs.rm(bundle, { recursive: true, force: true });
    await fs.rm(path.join(this.exitDir, id), { force: true });
  }

  /** The merged state of a container; `unknown` when neither runc nor conmon ever heard of it. */
  async state(id: string): Promise<ContainerState> {
    const bundle = this.bundle(id);
    const [st, exit] = await Promise.all([this.oci.state(id), this.exits.read(id, bundle)]);
    const conmonPid = this.conmonPid(id);
    if (!st) return { status: exit ? 'stopped' : 'unknown', pid: 0, conmonPid, exit };
    const status = st.status === 'creating' ? 'created' : st.status;
    return { status, pid: status === 'stopped' ? 0 : st.pid, conmonPid, exit: status === 'stopped' ? exit : undefined };
  }

  /** Resolves when the container has exited (immediately if it already has). */
  async wait(id: string, signal?: AbortSignal): Promise<ExitStatus> {
    const bundle = this.bundle(id);
    const conmonPid = this.conmonPid(id);
    if (!conmonPid && !(await this.exits.read(id, bundle))) throw new NotFound(`No such container: ${id}`);
    return this.exits.wait(id, bundle, () => processAlive(conmonPid), signal);
  }

  /** Connects to the container's stdio through conmon. */
  async attach(id: string): Promise<AttachStreams> {
    const socket = path.join(this.bundle(id), 'attach');
    try {
      return await connectAttach(socket);
    } catch (err: any) {
      throw new Conflict(`cannot attach to container ${id}: ${err?.message ?? err}`);
    }
  }

  /** Sets the terminal size of a container started with a tty. */
  async resize(id: string, rows: number, cols: number): Promise<void> {
    try {
      await resizeViaConmon(this.bundle(id), rows, cols);
    } catch (err: any) {
      if (err?.code === 'ENXIO' || err?.code === 'ENOENT') throw new Conflict(`container ${id} is not running`);
      throw err;
    }
  }

  /**
   * Runs a process in a running container. Without a terminal runc runs it
   * on plain pipes (fast); with one, conmon holds the pty.
   *
   *   const s = await rt.exec(id, execId, { args: ['sh', '-c', 'echo hi'] });
   *   s.stdout.pipe(process.stdout);
   *   const { exitCode } = await s.exited;
   */
  async exec(id: string, execId: string, o: ExecOptions): Promise<ExecSession> {
    if (!validId.test(execId)) throw new InvalidArgument(`invalid exec id: ${execId}`);
    if (!o.args.length) throw new InvalidArgument('No exec command specified');
    const bundle = this.bundle(id);
    // Files, not `runc state` (a process spawn, a third of an exec's cost):
    // the runtime's directory says it exists, conmon's exit file that it ended.
    // runc itself refuses a paused container.
    if (!this.knows(id)) throw new NotFound(`No such container: ${id}`);
    if (existsSync(path.join(this.exitDir, id))) throw new Conflict(`Container ${id} is not running`);
    const spec = JSON.parse(await fs.readFile(path.join(bundle, 'config.json'), 'utf8')) as Spec;
    const proc = await execProcess(spec, o);
    // Short directory names keep the attach socket path reasonable. Exec ids
    // are random, so the directory is new (no leftovers to clear first).
    const dir = path.join(bundle, 'x', execId.slice(0, 16));
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      if (!o.tty) return await execWithPipes(this.oci, id, dir, proc, !!o.stdin);
      return await execWithTerminal(
        { runtime: this.oci, conmonPath: this.conmonPath, socketDir: path.join(this.execRoot, 'socks'), id, execId, dir },
        proc, !!o.stdin,
      );
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Host pids of the container's processes. */
  async pids(id: string): Promise<number[]> {
    return this.oci.pids(id);
  }

  /** Containers the OCI runtime knows under our root (for reconciling after a daemon restart). */
  async list(): Promise<string[]> {
    const entries = await fs.readdir(path.join(this.execRoot, 'containers')).catch(() => []);
    return entries.filter((e) => validId.test(e));
  }

  /** Raw runtime state (runc's view) of one container. */
  async runtimeState(id: string): Promise<RuntimeState | undefined> {
    return this.oci.state(id);
  }

  /** Stops watching exit files; containers keep running. */
  close(): void {
    this.exits.close();
  }

  /** Whether the OCI runtime holds state for `id` (runc and crun keep a directory per container under their root). */
  private knows(id: string): boolean {
    return existsSync(path.join(this.oci.root, id));
  }

  /** conmon's pid from its pidfile (survives a daemon restart). */
  conmonPid(id: string): number | undefined {
    try {
      const n = Number(readFileSync(path.join(this.bundle(id), 'conmon.pid'), 'utf8').trim());
      return n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  }
}

/** 'term', 'SIGTERM', '15', 15 → 'SIGTERM' / '15' as runc accepts; rejects unknown signals with Docker's message. */
export function normalizeSignal(signal: string | number): string {
  if (typeof signal === 'number' || /^\d+$/.test(String(signal))) {
    const n = Number(signal);
    if (n < 1 || n > 64) throw new InvalidArgument(`Invalid signal: ${signal}`);
    return String(n);
  }
  const up = String(signal).toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  if (!(name in osConstants.signals) && !/^SIGRTM(IN|AX)([+-]\d+)?$/.test(name)) throw new InvalidArgument(`Invalid signal: ${signal}`);
  return name;
}

/** crun where it works (pure cgroup v2); runc on hybrid/v1 hosts, which crun 1.8 refuses. */
export function defaultRuntime(): 'runc' | 'crun' {
  try {
    const mi = readFileSync('/proc/self/mountinfo', 'utf8');
    const v2root = mi.split('\n').some((l) => / \/sys\/fs\/cgroup [^ ]+ .* - cgroup2 /.test(l));
    if (v2root && existsSync(findBinary('crun'))) return 'crun';
  } catch { /* fall through */ }
  return 'runc';
}

/**
 * Why crun cannot run containers on this host, or undefined when it can.
 * crun 1.8 refuses a hybrid host (cgroup v1 hierarchies plus a cgroup2 one
 * beside them) once the cgroup2 hierarchy holds any controller, even with
 * `--cgroup-manager=disabled`; pure v1 and pure v2 hosts are fine.
 *
 *   crunRefusal()  // 'crun 1.8 refuses hybrid cgroup hosts whose cgroup2 hierarchy (/sys/fs/cgroup/unified) has controllers (hugetlb)'
 */
export function crunRefusal(mountinfo?: string, readControllers = (dir: string) => readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8')): string | undefined {
  let lines: string[];
  try {
    lines = (mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const v2 = lines.filter((l) => / - cgroup2 /.test(l)).map((l) => l.split(' ')[4]);
  if (!lines.some((l) => / - cgroup /.test(l)) || v2.length === 0 || v2.includes('/sys/fs/cgroup')) return undefined;
  for (const dir of v2) {
    let controllers = '';
    try { controllers = readControllers(dir).trim(); } catch { /* unreadable: assume none */ }
    if (controllers) return `crun 1.8 refuses hybrid cgroup hosts whose cgroup2 hierarchy (${dir}) has controllers (${controllers})`;
  }
  return undefined;
}

function findBinary(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin'])) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return `/usr/bin/${name}`;
}

function isConmon(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'conmon';
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (processAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}
