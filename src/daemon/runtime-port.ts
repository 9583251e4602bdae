import { promises as fs } from 'node:fs';
import { PassThrough } from 'node:stream';
import { newId } from '../common/ids.js';
import type { ExecProcess, ExecRequest, LogEntry, LogQuery, RuntimePort, SpecInput } from '../engine/containers/ports.js';
import type { ContainerRuntime } from '../engine/runtime/runtime.js';
import { buildSpec } from '../engine/runtime/spec.js';
import { readLogs } from '../engine/runtime/logs.js';

/**
 * Adapts the conmon/runc runtime to the port the container service uses.
 * Kept thin on purpose: translation only, no policy.
 */
export function runtimePort(rt: ContainerRuntime): RuntimePort {
  // The init pid is known from create; asking `runc state` again after start costs a spawn.
  const pids = new Map<string, number>();
  return {
    async create(req) {
      const { pid, conmonPid } = await rt.create(req.id, { spec: req.spec as any, tty: req.tty, logPath: req.logPath, openStdin: req.openStdin, stdinOnce: req.stdinOnce });
      pids.set(req.id, pid);
      return { monitorPid: conmonPid };
    },
    async start(id) {
      await rt.start(id);
      const pid = pids.get(id) ?? (await rt.state(id)).pid;
      pids.delete(id);
      return { pid };
    },
    kill: (id, signal) => rt.kill(id, signal),
    pause: (id) => rt.pause(id),
    resume: (id) => rt.resume(id),
    delete: (id) => rt.delete(id, { force: true }),
    async state(id) {
      const st = await rt.state(id);
      if (st.status === 'unknown') return undefined;
      return { status: st.status, pid: st.pid };
    },
    async exitStatus(id) {
      return (await rt.state(id)).exit;
    },
    waitExit: (id) => rt.wait(id),
    async attach(id, opts) {
      const a = await rt.attach(id);
      return { stdout: a.stdout, stderr: a.stderr, stdin: opts.stdin ? a.stdin : undefined, close: () => a.close() };
    },
    resize: (id, h, w) => rt.resize(id, h, w),
    readLogs: (logPath: string, q: LogQuery): AsyncIterable<LogEntry[]> => readLogs(logPath, {
      stdout: q.stdout, stderr: q.stderr, tail: q.tail,
      since: q.since ? q.since.getTime() / 1000 : undefined, until: q.until ? q.until.getTime() / 1000 : undefined,
      follow: !!q.follow, stop: q.follow, signal: q.signal,
    }),
    async exec(id: string, r: ExecRequest): Promise<ExecProcess> {
      const s = await rt.exec(id, newId().slice(0, 16), { args: r.args, env: r.env, cwd: r.cwd, user: r.user, tty: r.tty, stdin: r.stdin, privileged: r.privileged });
      const exited = s.exited.then((e) => {
        if (e.error) {
          // The process never ran: report the runtime's reason on stderr, as Docker does.
          const msg = `OCI runtime exec failed: ${e.error.message}\n`;
          if (r.tty) (s.stdout as PassThrough).write?.(msg);
        }
        return e.exitCode;
      });
      return {
        pid: (await s.pid()) ?? 0,
        stdout: s.stdout, stderr: r.tty ? undefined : s.stderr, stdin: s.stdin ?? undefined,
        exited, resize: (h, w) => s.resize(h, w),
      };
    },
  };
}

/** Builds the OCI spec from the container service's view of a container. */
export async function specFor(input: SpecInput): Promise<object> {
  // --tmpfs mounts arrive through the volume service's mounts; don't add them twice.
  const { Tmpfs: _t, ...hostConfig } = input.hostConfig;
  const network = input.network.mode === 'new' ? { mode: 'none' as const } : input.network;
  const { spec } = await buildSpec({
    id: input.id, config: input.config, hostConfig, rootfs: input.rootfs,
    mounts: input.mounts, network,
  });
  // Size the terminal from the start: a resize request can only arrive after
  // the process is already running (`stty size` as the first command).
  const cs = input.hostConfig.ConsoleSize;
  if (input.config.Tty && cs && cs[0] > 0 && cs[1] > 0) spec.process.consoleSize = { height: cs[0], width: cs[1] };
  return spec;
}

export async function fileExists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}
