import { Conflict, NotModified, errorMessage } from '../../common/errors.js';
import { log } from '../../common/log.js';
import type { ContainerContext } from './context.js';
import { followExit } from './exit.js';
import { zeroTime, type ContainerRecord } from './record.js';
import { removeContainer } from './removal.js';
import { prepareStartSpec } from './start-spec.js';
import { laps } from './steps.js';
import { startErrorExitCode } from './waiters.js';

// Starting a container: by the user (start, restart), by its restart policy,
// and at daemon boot. The spec's preparation is in start-spec.ts.

/** Starts container `ref` under its lock (Docker's errors for paused, running and removed ones). */
export async function startContainer(c: ContainerContext, ref: string): Promise<void> {
  const rec = c.deps.store.get(ref);
  await c.run.exclusive(rec.Id, () => startLocked(c, rec));
}

/** The restart policy's start after an exit (RestartManager's timer); a failure leaves the container exited. */
export async function restartByPolicy(c: ContainerContext, id: string): Promise<void> {
  const rec = c.deps.store.find(id);
  if (!rec || !rec.State.Restarting) return;
  rec.RestartCount++;
  rec.State.Restarting = false;
  try {
    await c.run.exclusive(id, () => startLocked(c, rec));
    c.emit(rec, 'restart');
  } catch (err) {
    log.warn('containers', 'restart by policy failed', { id, error: errorMessage(err) });
    rec.State.Status = 'exited';
    await c.deps.store.save(rec).catch(() => undefined);
    c.run.reached(id, ['not-running'], rec.State.ExitCode);
  }
}

async function startLocked(c: ContainerContext, rec: ContainerRecord): Promise<void> {
  const { deps } = c;
  if (rec.State.Paused) throw new Conflict('cannot start a paused container, try unpause instead');
  if (rec.State.Running) throw new NotModified('container already started');
  if (rec.State.Status === 'removing' || rec.State.Dead) throw new Conflict(`container ${rec.Id} is marked for removal and cannot be started`);
  c.restarts.cancel(rec.Id);
  // The last run's mount, network and runtime state may still be on their way out.
  await c.run.settled(rec.Id);
  c.run.setReleased(rec.Id, false);
  const lap = laps('start', rec.Id);
  // The runtime starts the container's monitor while the rootfs and the
  // network (which the spec names) are still being set up.
  const prepared = prepareStartSpec(deps, rec, lap);
  const spec = prepared.then((p) => p.spec);
  spec.catch(() => undefined); // create reports it; this only keeps it from counting as unhandled
  try {
    const { monitorPid } = await deps.runtime.create({
      id: rec.Id, spec, tty: !!rec.Config.Tty, openStdin: !!rec.Config.OpenStdin, stdinOnce: !!rec.Config.StdinOnce, logPath: rec.LogPath,
    }).catch(async (err) => {
      // Whatever the spec's preparation set up must be in place before failStart undoes it.
      await spec.catch(() => undefined);
      throw err;
    });
    rec.MonitorPid = monitorPid;
    lap('created under conmon');
    // The interfaces came up while runc created the container; the process needs them.
    const { networkReady } = await prepared;
    if (networkReady) {
      await networkReady;
      lap('network ready');
    }
    await c.pendingAttach.connect(rec.Id, (o) => deps.runtime.attach(rec.Id, o));
    const { pid } = await deps.runtime.start(rec.Id);
    lap('started');
    Object.assign(rec.State, {
      Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
      Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(), FinishedAt: zeroTime,
    });
    rec.HasBeenStartedBefore = true;
    rec.ManuallyStopped = false;
    await deps.store.saveState(rec);
  } catch (err) {
    await failStart(c, rec, err);
    throw err;
  }
  c.emit(rec, 'start');
  followExit(c, rec.Id);
  c.health.track(rec);
}

/** Records a failed start as Docker does: still "created" (or "exited"), exit code 126/127/128. */
async function failStart(c: ContainerContext, rec: ContainerRecord, err: unknown): Promise<void> {
  const { deps } = c;
  const msg = errorMessage(err);
  rec.State.Error = msg;
  rec.State.ExitCode = startErrorExitCode(msg);
  rec.State.Running = false;
  rec.State.Pid = 0;
  if (rec.HasBeenStartedBefore) rec.State.Status = 'exited';
  await deps.runtime.delete(rec.Id).catch(() => undefined);
  await deps.network?.release(rec.Id).catch(() => undefined);
  await deps.rootfs.unmountContainer(rec.Id).catch(() => undefined);
  await deps.store.saveState(rec).catch(() => undefined);
  c.pendingAttach.fail(rec.Id, err);
  c.run.reached(rec.Id, ['next-exit', 'not-running'], rec.State.ExitCode);
  if (rec.HostConfig.AutoRemove) void removeContainer(c, rec.Id, { force: true }).catch(() => undefined);
}
