import { promises as fs } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { BerthError } from '../../common/errors.js';
import { connectAttach, type AttachStreams } from './attach.js';
import { availableCapabilities } from './defaults.js';
import { execUnderConmon, resizeViaConmon } from './conmon.js';
import { runtimeError } from './errors.js';
import type { OciRuntime } from './oci-runtime.js';
import type { Process, Spec } from './oci-spec.js';
import { resolveUser } from './user.js';

/** A process to run in a running container (Docker's exec config). */
export interface ExecOptions {
  args: string[];
  /** `NAME=value` entries added to (or replacing) the container's environment. */
  env?: string[];
  /** Working directory; the container's when unset. */
  cwd?: string;
  /** Docker `-u`: `user`, `uid`, `user:group`, `uid:gid`; the container's user when unset. */
  user?: string;
  tty?: boolean;
  /** Give the process a stdin the caller can write to. */
  stdin?: boolean;
  /** All capabilities, as `docker exec --privileged`. */
  privileged?: boolean;
}

/** How an exec ended: `error` is set when the runtime could not start the process at all. */
export interface ExecExit {
  exitCode: number;
  error?: BerthError;
}

/** A running exec: its output streams, an input stream, its end, and resize for a terminal. */
export interface ExecSession {
  /** Terminal output, or the process's stdout. */
  stdout: Readable;
  /** The process's stderr (empty with a terminal). */
  stderr: Readable;
  /** Null unless `stdin` was asked for. */
  stdin: Writable | null;
  exited: Promise<ExecExit>;
  /** Host pid of the process once known. */
  pid(): Promise<number | undefined>;
  resize(rows: number, cols: number): Promise<void>;
}

/** The OCI process for an exec: the container's process with the exec's changes. */
export async function execProcess(spec: Spec, o: ExecOptions): Promise<Process> {
  const env = new Map<string, string>();
  const put = (kv: string) => {
    const i = kv.indexOf('=');
    if (i <= 0) return;
    const k = kv.slice(0, i);
    env.delete(k);
    env.set(k, kv);
  };
  for (const kv of spec.process.env) put(kv);
  if (o.tty && !env.has('TERM')) put('TERM=xterm');
  for (const kv of o.env ?? []) put(kv);
  let user = spec.process.user;
  if (o.user) {
    const u = await resolveUser(spec.root.path, o.user);
    user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
  }
  const caps = o.privileged ? [...availableCapabilities()] : undefined;
  return {
    ...spec.process,
    terminal: !!o.tty,
    args: o.args,
    env: [...env.values()],
    cwd: o.cwd || spec.process.cwd,
    user,
    ...(caps ? { capabilities: { bounding: caps, effective: caps, permitted: caps } } : {}),
  };
}

/** Runs `runc exec` straight on pipes: no conmon, so the fast path for non-terminal execs. */
export async function execWithPipes(runtime: OciRuntime, id: string, dir: string, proc: Process, stdin: boolean): Promise<ExecSession> {
  const processFile = path.join(dir, 'process.json');
  const logFile = path.join(dir, 'runtime.log');
  const pidFile = path.join(dir, 'pid');
  await fs.writeFile(processFile, JSON.stringify(proc));
  const child = runtime.spawnExec(id, processFile, logFile, [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], pidFile);
  const exited = new Promise<ExecExit>((resolve) => {
    child.on('error', (err) => resolve({ exitCode: 126, error: runtimeError('exec', String(err)) }));
    child.on('close', async (code, sig) => {
      const exitCode = code ?? 128 + signalNumber(sig);
      let error: BerthError | undefined;
      const log = await fs.readFile(logFile, 'utf8').catch(() => '');
      if (/"level":"(error|fatal)"/.test(log)) error = runtimeError('exec', log);
      // The exit code goes out first; the directory is only ours.
      resolve(error ? { exitCode: (error as any).exitCode ?? 126, error } : { exitCode });
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    });
  });
  return {
    stdout: child.stdout!,
    stderr: child.stderr!,
    stdin: child.stdin ?? null,
    exited,
    pid: () => readPid(pidFile),
    resize: async () => { /* no terminal: nothing to resize */ },
  };
}

/** Runs a terminal exec under conmon, which owns the pty; I/O through its attach socket. */
export async function execWithTerminal(
  o: { runtime: OciRuntime; conmonPath: string; socketDir: string; id: string; execId: string; dir: string },
  proc: Process, stdin: boolean,
): Promise<ExecSession> {
  const processFile = path.join(o.dir, 'process.json');
  await fs.writeFile(processFile, JSON.stringify(proc));
  let streams: AttachStreams | undefined;
  const handle = await execUnderConmon({
    conmonPath: o.conmonPath, runtime: o.runtime, containerId: o.id, execId: o.execId, dir: o.dir,
    processFile, socketDir: o.socketDir, stdin,
    attach: async (socketPath) => { streams = await connectAttach(socketPath); },
  });
  const s = streams!;
  const exited = handle.exited.then(
    async (exitCode) => { await s.closed; return { exitCode }; },
    (err) => ({ exitCode: (err as any).exitCode ?? 126, error: err }),
  ).finally(() => fs.rm(o.dir, { recursive: true, force: true }));
  const stderr = new PassThrough();
  stderr.end();
  return {
    stdout: s.stdout,
    stderr,
    stdin: stdin ? s.stdin : null,
    exited,
    pid: async () => handle.pid,
    resize: (rows, cols) => resizeViaConmon(o.dir, rows, cols),
  };
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const n = Number((await fs.readFile(file, 'utf8')).trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

function signalNumber(sig: NodeJS.Signals | null): number {
  return sig ? (osConstants.signals[sig] ?? 0) : 0;
}
