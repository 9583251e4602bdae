import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../../common/errors.js';
import { runtimeError } from './errors.js';
import type { OciRuntime } from './oci-runtime.js';

/**
 * conmon, Podman's container monitor: the only module that runs it. One
 * conmon per container holds the container's stdio, writes its k8s-file log,
 * records its exit code and OOM kill, and serves the attach socket and the
 * `ctl` resize fifo in the bundle. It double-forks into its own session, so
 * the container outlives the daemon.
 *
 * The handshake (conmon API version 1): we pass three extra pipes as fds
 * 3, 4 (and 5) named by `_OCI_SYNCPIPE`, `_OCI_STARTPIPE` (`_OCI_ATTACHPIPE`).
 * conmon waits for a byte on the start pipe, runs `runtime create` (or
 * `exec`), then writes `{"data": <pid>}` (or `{"data": -1, "message": …}`)
 * on the sync pipe; an exec also gets `{"data": <exit code>}` at the end.
 */

export interface ConmonContainerOptions {
  conmonPath: string;
  runtime: OciRuntime;
  id: string;
  /** Bundle directory with config.json; conmon puts attach, ctl, winsz here. */
  bundle: string;
  logPath: string;
  exitDir: string;
  /** Where conmon writes `exit` and `oom` for this container. */
  persistDir: string;
  socketDir: string;
  tty: boolean;
  /** Keep the container's stdin open (Docker OpenStdin). */
  stdin: boolean;
  /** Keep stdin open after an attached client leaves (OpenStdin without StdinOnce). */
  leaveStdinOpen: boolean;
}

/**
 * Creates the container (runtime `create`) under a new conmon and returns the
 * container's init pid and conmon's pid. The container is in state `created`;
 * `OciRuntime.start` runs it.
 *
 *   const { pid, conmonPid } = await createUnderConmon({ conmonPath: '/usr/bin/conmon', runtime, id, bundle, … });
 */
export function createUnderConmon(o: ConmonContainerOptions): Promise<{ pid: number; conmonPid: number }> {
  return startConmonWaiting(o).proceed();
}

/** A conmon started and blocked on its start pipe: nothing has run yet. */
export interface WaitingConmon {
  /** Lets conmon run `runtime create` (config.json must be in the bundle by now). */
  proceed(): Promise<{ pid: number; conmonPid: number }>;
  /** Kills the waiting conmon (it has not forked, so nothing else is left). */
  cancel(): void;
}

/**
 * Starts conmon for a container before its spec is ready. conmon reads its
 * start pipe first thing, before it forks or touches the bundle, so its
 * start-up (the spawn from this process, exec, linking; ~7 ms of a create
 * here) overlaps whatever the caller still prepares (mount, network).
 *
 *   const waiting = startConmonWaiting({ conmonPath, runtime, id, bundle, … });
 *   await writeSpec(bundle);
 *   const { pid, conmonPid } = await waiting.proceed();   // or waiting.cancel()
 */
export function startConmonWaiting(o: ConmonContainerOptions): WaitingConmon {
  const conmonPidFile = path.join(o.bundle, 'conmon.pid');
  const args = [
    '--api-version', '1', '-c', o.id, '-u', o.id, '-n', o.id,
    '-r', o.runtime.path, '-b', o.bundle, '-p', path.join(o.bundle, 'pidfile'),
    '--conmon-pidfile', conmonPidFile,
    '-l', `k8s-file:${o.logPath}`, '--log-size-max', '-1',
    '--exit-dir', o.exitDir, '--persist-dir', o.persistDir, '--socket-dir-path', o.socketDir,
    '--full-attach', ...o.runtime.conmonArgs(),
    ...(o.tty ? ['-t'] : []), ...(o.stdin ? ['-i'] : []), ...(o.stdin && o.leaveStdinOpen ? ['--leave-stdin-open'] : []),
  ];
  const child = spawnConmon(o.conmonPath, args, o.bundle, false);
  const sync = new SyncReader(child.stdio[3] as Readable, path.join(o.bundle, 'conmon.err'));
  let done = false;
  return {
    async proceed() {
      if (done) throw new BerthError('conmon was already started or cancelled');
      done = true;
      try {
        (child.stdio[4] as Writable).end('0');
        const first = await sync.next();
        if (first.data < 0) throw runtimeError('create', first.message ?? 'conmon failed to create the container');
        const conmonPid = Number((await fs.readFile(conmonPidFile, 'utf8')).trim());
        return { pid: first.data, conmonPid };
      } finally {
        release(child);
      }
    },
    cancel() {
      if (done) return;
      done = true;
      child.kill('SIGKILL');
      release(child);
    },
  };
}

export interface ConmonExecOptions {
  conmonPath: string;
  runtime: OciRuntime;
  containerId: string;
  execId: string;
  /** A fresh directory for this exec: attach socket, ctl fifo, exit files. */
  dir: string;
  processFile: string;
  socketDir: string;
  stdin: boolean;
  /**
   * Called once conmon's attach socket exists, before the process starts, so
   * no output is lost; must resolve once the caller is connected.
   */
  attach: (socketPath: string) => Promise<void>;
}

export interface ConmonExec {
  pid: number;
  /** Resolves with the exit code (128+n for signal n). */
  exited: Promise<number>;
}

/**
 * Runs a process with a terminal in a running container through conmon
 * (Node cannot receive the pty fd itself). Output and input flow through
 * the attach socket in `dir`; resize through `dir/ctl`.
 */
export async function execUnderConmon(o: ConmonExecOptions): Promise<ConmonExec> {
  const args = [
    '--api-version', '1', '-c', o.containerId, '-u', o.execId, '-n', o.execId,
    '-r', o.runtime.path, '-b', o.dir, '-p', path.join(o.dir, 'pid'),
    '--persist-dir', o.dir, '--exit-dir', path.join(o.dir, 'exits'), '-l', 'none',
    '--socket-dir-path', o.socketDir, '--full-attach', ...o.runtime.conmonArgs(),
    '-e', '--exec-process-spec', o.processFile, '-t', '--exec-attach', ...(o.stdin ? ['-i'] : []),
  ];
  await fs.mkdir(path.join(o.dir, 'exits'), { recursive: true });
  const child = spawnConmon(o.conmonPath, args, o.dir, true);
  const errFile = path.join(o.dir, 'conmon.err');
  const sync = new SyncReader(child.stdio[3] as Readable, errFile);
  const attachReady = new SyncReader((child.stdio as unknown[])[5] as Readable, errFile);
  const start = child.stdio[4] as Writable;
  try {
    start.write('0');
    const ready = await attachReady.next();
    if (ready.data < 0) throw runtimeError('exec', ready.message ?? 'conmon failed to prepare the exec');
    await o.attach(path.join(o.dir, 'attach'));
    start.end('0');
    const first = await sync.next();
    if (first.data < 0) throw runtimeError('exec', first.message ?? 'conmon failed to run the exec');
    const exited = sync.next().then((m) => m.data).finally(() => release(child));
    return { pid: first.data, exited };
  } catch (err) {
    release(child);
    throw err;
  }
}

/**
 * Writes a terminal size request into conmon's control fifo. Opening without
 * blocking fails (ENXIO) when no conmon is listening any more.
 */
export async function resizeViaConmon(dir: string, rows: number, cols: number): Promise<void> {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || rows > 1000 || cols > 1000) {
    throw new BerthError(`invalid terminal size ${rows}x${cols}`);
  }
  const fh = await fs.open(path.join(dir, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  try {
    await fh.write(`1 ${rows} ${cols}\n`);
  } finally {
    await fh.close();
  }
}

function spawnConmon(conmonPath: string, args: string[], dir: string, attachPipe: boolean): ChildProcess {
  // conmon's own complaints go to a file: after it daemonizes nobody reads a pipe.
  const errFd = openSync(path.join(dir, 'conmon.err'), 'a', 0o600);
  try {
    return spawn(conmonPath, args, {
      cwd: dir,
      detached: true,
      stdio: ['ignore', errFd, errFd, 'pipe', 'pipe', ...(attachPipe ? ['pipe' as const] : [])],
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', ...(attachPipe ? { _OCI_ATTACHPIPE: '5' } : {}),
      },
    });
  } finally {
    closeSync(errFd);
  }
}

/** Lets go of every pipe to conmon so it keeps running without us and we without it. */
function release(child: ChildProcess): void {
  for (const s of child.stdio) (s as any)?.destroy?.();
  child.unref();
}

interface SyncMessage { data: number; message?: string }

/** Reads the `{"data": n, "message": …}` lines conmon writes on a pipe, one at a time. */
class SyncReader {
  private buf = '';
  private queue: SyncMessage[] = [];
  private waiters: { resolve: (m: SyncMessage) => void; reject: (e: Error) => void }[] = [];
  private ended = false;

  constructor(stream: Readable, private readonly errFile: string) {
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => this.push(d));
    const end = () => { this.ended = true; this.flush(); };
    stream.on('end', end);
    stream.on('error', end);
    stream.on('close', end);
  }

  next(): Promise<SyncMessage> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.flush();
    });
  }

  private push(d: string): void {
    this.buf += d;
    let i;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i).trim();
      this.buf = this.buf.slice(i + 1);
      if (!line) continue;
      try {
        this.queue.push(JSON.parse(line));
      } catch {
        this.queue.push({ data: -1, message: line });
      }
    }
    this.flush();
  }

  private flush(): void {
    while (this.queue.length && this.waiters.length) this.waiters.shift()!.resolve(this.queue.shift()!);
    if (!this.ended || !this.waiters.length) return;
    let why = '';
    try {
      why = readFileSync(this.errFile, 'utf8').trim().split('\n').pop() ?? '';
    } catch { /* no complaints recorded */ }
    while (this.waiters.length) this.waiters.shift()!.reject(new BerthError(`conmon exited without reporting${why ? `: ${why}` : ''}`));
  }
}
