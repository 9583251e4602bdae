import type { ContainerRecord } from './record.js';
import type { RootfsPort, RuntimePort } from './ports.js';
import type { ContainerStore } from './store.js';
import { raceTimeout } from './waiters.js';

/** Runs one probe in the container and reports its exit code and (trimmed) output. */
export type ProbeRunner = (containerId: string, args: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }>;

const ns = 1e6; // Docker's durations are nanoseconds
const defaults = { interval: 30_000, timeout: 30_000, startPeriod: 0, retries: 3 };

/**
 * HEALTHCHECK as Docker runs it: after the start period, every interval run
 * the test with a timeout; `retries` consecutive failures make the container
 * unhealthy, one success healthy. The last five results are kept in
 * `State.Health.Log`.
 *
 *   monitor.track(rec);   // after start
 *   monitor.stop(rec.Id); // on exit
 */
export class HealthMonitor {
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private probe: ProbeRunner,
    private changed: (rec: ContainerRecord, status: string) => Promise<void>,
  ) {}

  /** The probe command line, or undefined when the container has no (or a disabled) check. */
  static command(rec: ContainerRecord): string[] | undefined {
    const test = rec.Config.Healthcheck?.Test;
    if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
    if (test[0] === 'CMD') return test.slice(1);
    if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
    return test;
  }

  track(rec: ContainerRecord): void {
    const cmd = HealthMonitor.command(rec);
    if (!cmd) return;
    this.stop(rec.Id);
    const hc = rec.Config.Healthcheck ?? {};
    const interval = hc.Interval ? hc.Interval / ns : defaults.interval;
    const timeout = hc.Timeout ? hc.Timeout / ns : defaults.timeout;
    const startPeriod = hc.StartPeriod ? hc.StartPeriod / ns : defaults.startPeriod;
    const retries = hc.Retries || defaults.retries;
    const startedAt = Date.now();
    rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    const tick = async () => {
      if (!rec.State.Running) return;
      const start = new Date();
      let result: { exitCode: number; output: string };
      try {
        result = await this.probe(rec.Id, cmd, timeout);
      } catch (err) {
        result = { exitCode: -1, output: String((err as Error)?.message ?? err) };
      }
      if (!rec.State.Running || !rec.State.Health) return;
      const h = rec.State.Health;
      h.Log = [...h.Log, { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: result.exitCode, Output: result.output }].slice(-5);
      const before = h.Status;
      if (result.exitCode === 0) {
        h.Status = 'healthy';
        h.FailingStreak = 0;
      } else if (Date.now() - startedAt >= startPeriod || before !== 'starting') {
        h.FailingStreak++;
        if (h.FailingStreak >= retries) h.Status = 'unhealthy';
      }
      await this.changed(rec, h.Status !== before ? h.Status : '');
      this.schedule(rec.Id, tick, interval);
    };
    // Docker runs the first probe one interval after start (or after the start period's first interval).
    this.schedule(rec.Id, tick, interval);
  }

  private schedule(id: string, fn: () => Promise<void>, ms: number): void {
    const t = setTimeout(() => { void fn(); }, ms);
    t.unref();
    this.timers.set(id, t);
  }

  stop(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }
}

/** One health probe as an exec: its exit code and the first 4 KiB of its combined output. */
export async function probeByExec(deps: { store: ContainerStore; rootfs: RootfsPort; runtime: RuntimePort }, id: string, args: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
  const rec = deps.store.get(id);
  const rootfs = await deps.rootfs.mountContainer(id);
  const proc = await deps.runtime.exec(id, {
    args, env: rec.Config.Env ?? [], cwd: rec.Config.WorkingDir || '/', user: rec.Config.User ?? '', tty: false, stdin: false, privileged: false,
    container: { config: rec.Config, hostConfig: rec.HostConfig, rootfs },
  });
  let output = '';
  const collect = (b: Buffer) => { if (output.length < 4096) output += b.toString('utf8'); };
  proc.stdout.on('data', collect);
  proc.stderr?.on('data', collect);
  if (!(await raceTimeout(proc.exited, timeoutMs))) return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs / 1000}s)` };
  return { exitCode: await proc.exited, output: output.slice(0, 4096) };
}
