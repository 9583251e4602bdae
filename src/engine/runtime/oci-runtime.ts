import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { BerthError, Conflict, NotFound } from '../../common/errors.js';
import { runtimeMessage } from './errors.js';
import { deleteStopped, startViaExecFifo } from './runc-state.js';

/** What `runc state` reports about a container. */
export interface RuntimeState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
  created: string;
}

/**
 * The OCI runtime binary (runc, or crun where it works). This module is the
 * only one that runs it; conmon is told how to run it via `conmonArgs()`.
 * Every call uses our own state root so we never see or touch containers of
 * other runc users on the host.
 *
 *   const rt = new OciRuntime('runc', '/usr/sbin/runc', '/run/berth/runc');
 *   await rt.kill(id, 'SIGTERM');
 *   const st = await rt.state(id); // { status: 'running', pid: 1234, … } or undefined
 */
export class OciRuntime {
  constructor(readonly name: 'runc' | 'crun', readonly path: string, readonly root: string) {}

  /** Arguments conmon passes to every runtime invocation. */
  conmonArgs(): string[] {
    return ['--runtime-arg', `--root=${this.root}`];
  }

  /** The container's state, or undefined when the runtime does not know it. */
  async state(id: string): Promise<RuntimeState | undefined> {
    const r = await this.run(['state', id]);
    if (r.code !== 0) {
      if (/does not exist|not found|No such file/i.test(r.stderr)) return undefined;
      throw new BerthError(`${this.name} state ${id}: ${runtimeMessage(r.stderr)}`);
    }
    return JSON.parse(r.stdout) as RuntimeState;
  }

  /** Runs the user process of a created container. */
  async start(id: string): Promise<void> {
    // runc's start is a read of its exec fifo: done here it costs no process (see runc-state.ts).
    if (this.name === 'runc' && (await startViaExecFifo(this.root, id))) return;
    await this.check(['start', id], id);
  }

  /** Sends a signal (name like 'SIGTERM'/'KILL' or number) to the init process, or to all with `all`. */
  async kill(id: string, signal: string | number, all = false): Promise<void> {
    await this.check(['kill', ...(all ? ['--all'] : []), id, String(signal)], id);
  }

  /** Freezes every process of the container (freezer cgroup). */
  async pause(id: string): Promise<void> {
    await this.check(['pause', id], id);
  }

  async resume(id: string): Promise<void> {
    await this.check(['resume', id], id);
  }

  /** Removes the container from the runtime; `force` kills it first. Unknown ids are not an error. */
  async delete(id: string, force = false): Promise<void> {
    if (this.name === 'runc' && (await deleteStopped(this.root, id))) return;
    const r = await this.run(['delete', ...(force ? ['--force'] : []), id]);
    if (r.code !== 0 && /not stopped|is running|is paused/i.test(r.stderr)) {
      throw new Conflict(`cannot remove a running container ${id}: stop it first or use force`);
    }
    if (r.code !== 0 && !/does not exist|not found/i.test(r.stderr)) {
      throw new BerthError(`${this.name} delete ${id}: ${runtimeMessage(r.stderr)}`);
    }
  }

  /** Host pids of every process in the container (for `top`). */
  async pids(id: string): Promise<number[]> {
    const r = await this.run(['ps', '--format', 'json', id]);
    if (r.code !== 0) throw this.error(['ps', id], id, r.stderr);
    return JSON.parse(r.stdout || '[]') ?? [];
  }

  /**
   * Starts `runc exec` for the process described by the JSON file
   * `processFile`, wired to pipes; runc's own error goes to `logFile`
   * (JSON), so a failure to start can be told apart from the process's
   * own exit code.
   */
  spawnExec(id: string, processFile: string, logFile: string, stdio: StdioOptions, pidFile?: string): ChildProcess {
    return spawn(this.path, [
      '--root', this.root, '--log', logFile, '--log-format', 'json',
      'exec', '--process', processFile, ...(pidFile ? ['--pid-file', pidFile] : []), id,
    ], { stdio });
  }

  private async check(args: string[], id: string): Promise<void> {
    const r = await this.run(args);
    if (r.code !== 0) throw this.error(args, id, r.stderr);
  }

  private error(args: string[], id: string, stderr: string): Error {
    const msg = runtimeMessage(stderr);
    if (/does not exist|not found/i.test(msg)) return new NotFound(`No such container: ${id}`);
    return new BerthError(`${this.name} ${args[0]} failed: ${msg}`);
  }

  private run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const p = spawn(this.path, ['--root', this.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
      p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      p.on('error', reject);
      p.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stdout, stderr }));
    });
  }
}
