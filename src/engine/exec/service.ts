import { Conflict, NotFound, InvalidArgument } from '../../common/errors.js';
import { newId } from '../../common/ids.js';
import type { ContainerService } from '../containers/service.js';
import type { ExecProcess, RootfsPort, RuntimePort } from '../containers/ports.js';

/** An exec instance as `GET /exec/{id}/json` shows it. */
export interface ExecRecord {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  OpenStdin: boolean;
  OpenStdout: boolean;
  OpenStderr: boolean;
  CanRemove: boolean;
  DetachKeys: string;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  env: string[];
  workingDir: string;
  process?: ExecProcess;
}

export interface ExecCreateBody {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  Cmd?: string[];
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Privileged?: boolean;
  DetachKeys?: string;
  ConsoleSize?: [number, number] | null;
}

/**
 * `exec`: extra processes in running containers. Exec instances live in
 * memory (as in Docker, they do not survive a daemon restart) and are dropped
 * a while after they finish.
 *
 *   const id = execs.create('web', { Cmd: ['ls'], AttachStdout: true });
 *   const proc = await execs.start(id);   // stream proc.stdout; await proc.exited
 */
export class ExecService {
  private execs = new Map<string, ExecRecord>();

  constructor(private containers: ContainerService, private runtime: RuntimePort, private rootfs: RootfsPort) {}

  create(containerRef: string, body: ExecCreateBody): string {
    const rec = this.containers.store.get(containerRef);
    if (!rec.State.Running) throw new Conflict(`container ${rec.Id} is not running`);
    if (rec.State.Paused) throw new Conflict(`container ${rec.Id} is paused, unpause the container before exec`);
    if (!body.Cmd || body.Cmd.length === 0) throw new InvalidArgument('No exec command specified');
    const id = newId();
    this.execs.set(id, {
      ID: id, ContainerID: rec.Id, Running: false, ExitCode: null, Pid: 0,
      OpenStdin: !!body.AttachStdin, OpenStdout: !!body.AttachStdout, OpenStderr: !!body.AttachStderr,
      CanRemove: false, DetachKeys: body.DetachKeys ?? '',
      ProcessConfig: { tty: !!body.Tty, entrypoint: body.Cmd[0], arguments: body.Cmd.slice(1), privileged: !!body.Privileged, user: body.User ?? '' },
      env: body.Env ?? [], workingDir: body.WorkingDir ?? '',
    });
    this.containers.emit(rec, `exec_create: ${body.Cmd.join(' ')}`, { execID: id });
    return id;
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw new NotFound(`No such exec instance: ${id}`);
    return e;
  }

  async start(id: string, opts: { tty?: boolean; consoleSize?: [number, number] | null } = {}): Promise<ExecProcess> {
    const e = this.get(id);
    if (e.Running || e.ExitCode !== null) throw new Conflict(`Error: Exec command ${id} has already run`);
    const rec = this.containers.store.get(e.ContainerID);
    if (!rec.State.Running) throw new Conflict(`container ${rec.Id} is not running`);
    const tty = opts.tty ?? e.ProcessConfig.tty;
    const rootfs = await this.rootfs.mountContainer(rec.Id);
    e.Running = true;
    let proc: ExecProcess;
    try {
      proc = await this.runtime.exec(rec.Id, {
        args: [e.ProcessConfig.entrypoint, ...e.ProcessConfig.arguments],
        env: [...(rec.Config.Env ?? []), ...e.env],
        cwd: e.workingDir || rec.Config.WorkingDir || '/',
        user: e.ProcessConfig.user || rec.Config.User || '',
        tty, stdin: e.OpenStdin, privileged: e.ProcessConfig.privileged,
        container: { config: rec.Config, hostConfig: rec.HostConfig, rootfs },
      });
    } catch (err) {
      e.Running = false;
      e.ExitCode = 126;
      throw err;
    }
    e.Pid = proc.pid;
    e.process = proc;
    if (opts.consoleSize && tty) void proc.resize(opts.consoleSize[0], opts.consoleSize[1]).catch(() => undefined);
    this.containers.emit(rec, `exec_start: ${[e.ProcessConfig.entrypoint, ...e.ProcessConfig.arguments].join(' ')}`, { execID: id });
    void proc.exited.then((code) => {
      e.Running = false;
      e.ExitCode = code;
      e.process = undefined;
      this.containers.emit(rec, 'exec_die', { execID: id, exitCode: String(code) });
      // Keep finished execs around long enough for clients to read the exit code.
      setTimeout(() => this.execs.delete(id), 5 * 60_000).unref();
    });
    return proc;
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const e = this.get(id);
    if (!e.process) throw new Conflict(`Exec ${id} is not running`);
    await e.process.resize(height, width);
  }

  /** The JSON `GET /exec/{id}/json` answers. */
  inspect(id: string): Record<string, unknown> {
    const { process: _p, env: _e, workingDir: _w, ...view } = this.get(id);
    return view;
  }

  idsFor(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.ContainerID === containerId).map((e) => e.ID);
  }
}
