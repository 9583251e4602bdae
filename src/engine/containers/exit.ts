import { errorMessage } from '../../common/errors.js';
import { log } from '../../common/log.js';
import type { ContainerContext } from './context.js';
import type { ExitStatus } from './ports.js';
import { releaseRun, removeLocked } from './removal.js';

// What happens when a container's process exits: the record, the events,
// the waiters, then AutoRemove, the restart policy or the release of the run.

/** Follows a running container until it exits, then records the exit (under its lock). */
export function followExit(c: ContainerContext, id: string): void {
  if (!c.run.follow(id)) return;
  c.deps.runtime.waitExit(id).then(
    (status) => c.run.exclusive(id, () => recordExit(c, id, status)),
    (err) => log.error('containers', 'waiting for exit failed', { id, error: errorMessage(err) }),
  ).finally(() => c.run.unfollow(id));
}

/**
 * Records the exit of a running container: state, `oom` and `die` events,
 * then removal (AutoRemove), a restart (policy) or the run's release. The
 * caller holds the lock, or is the daemon's boot (reconcile) before any
 * request is served.
 */
export async function recordExit(c: ContainerContext, id: string, status: ExitStatus): Promise<void> {
  const rec = c.deps.store.find(id);
  if (!rec || !rec.State.Running) return;
  log.debug('containers', 'exit seen', { id: id.slice(0, 12), exitCode: status.exitCode });
  const ranFor = Date.now() - Date.parse(rec.State.StartedAt);
  Object.assign(rec.State, {
    Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0,
    ExitCode: status.exitCode, OOMKilled: status.oomKilled, FinishedAt: status.finishedAt.toISOString(),
  });
  rec.MonitorPid = undefined;
  c.health.stop(id);
  if (status.oomKilled) c.emit(rec, 'oom');
  c.emit(rec, 'die', { exitCode: String(status.exitCode) });
  const restart = c.restarts.shouldRestart(rec, ranFor);
  if (!restart && rec.HostConfig.AutoRemove) return removeLocked(c, rec, { force: true, volumes: true });
  if (restart) {
    rec.State.Restarting = true;
    rec.State.Status = 'restarting';
  }
  await c.deps.store.saveState(rec);
  // Waiters learn the exit code now; the cleanup goes on in the background
  // (a start or rm that follows waits for it where it must), so a `stop`
  // returns as soon as the process is gone.
  c.run.reached(id, restart ? ['next-exit'] : ['next-exit', 'not-running'], status.exitCode);
  c.run.afterAnswer(id, 'releasing a run', async () => {
    await releaseRun(c, id);
    if (restart) c.restarts.schedule(rec, ranFor);
  });
}
