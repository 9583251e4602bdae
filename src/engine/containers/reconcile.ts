import { errorMessage } from '../../common/errors.js';
import { log } from '../../common/log.js';
import type { ExitStatus, RuntimePort } from './ports.js';
import type { ContainerRecord } from './record.js';
import type { ContainerStore } from './store.js';

/** What reconciling needs from the container service (its own lifecycle steps). */
export interface ReconcileSteps {
  store: ContainerStore;
  runtime: RuntimePort;
  /** Finishes a removal a crash interrupted. */
  finishRemoval(rec: ContainerRecord): Promise<void>;
  /** Records an exit that happened while no daemon was watching. */
  recordExit(rec: ContainerRecord, status: ExitStatus): Promise<void>;
  /** Follows a container that is still running (exit watch, health checks). */
  follow(rec: ContainerRecord): void;
  start(id: string): Promise<void>;
}

/**
 * Brings records in line with reality after a daemon (re)start: containers
 * still running are watched again, those that exited meanwhile get their
 * real exit code, and restart policies apply to both kinds.
 *
 *   await reconcileContainers(steps);   // once, before the API serves
 */
export async function reconcileContainers(steps: ReconcileSteps): Promise<void> {
  for (const rec of steps.store.all()) {
    try {
      await reconcileOne(steps, rec);
    } catch (err) {
      log.error('containers', 'reconcile failed', { id: rec.Id, error: errorMessage(err) });
    }
  }
}

async function reconcileOne(steps: ReconcileSteps, rec: ContainerRecord): Promise<void> {
  if (rec.State.Status === 'removing') return steps.finishRemoval(rec);
  if (rec.State.Running || rec.State.Restarting) {
    const st = await steps.runtime.state(rec.Id);
    if (st && (st.status === 'running' || st.status === 'paused')) {
      Object.assign(rec.State, { Paused: st.status === 'paused', Status: st.status, Pid: st.pid, Running: true, Restarting: false });
      await steps.store.save(rec);
      steps.follow(rec);
      return;
    }
    const exit = await steps.runtime.exitStatus(rec.Id);
    rec.State.Running = true; // so the exit is recorded
    return steps.recordExit(rec, exit ?? { exitCode: 255, oomKilled: false, finishedAt: new Date() });
  }
  // Docker starts `always` containers (and `unless-stopped` ones not stopped by hand) when the daemon starts.
  const policy = rec.HostConfig.RestartPolicy?.Name;
  if (rec.HasBeenStartedBefore && !rec.ManuallyStopped && (policy === 'always' || policy === 'unless-stopped')) {
    await steps.start(rec.Id).catch((err) => log.warn('containers', 'start on daemon boot failed', { id: rec.Id, error: errorMessage(err) }));
  }
}
