import { Conflict, InvalidArgument, NotModified } from '../../common/errors.js';
import { shortId } from '../../common/ids.js';
import { log } from '../../common/log.js';
import type { ContainerContext } from './context.js';
import { parseSignal } from './create.js';
import type { ContainerRecord } from './record.js';
import { startContainer } from './start.js';
import { raceTimeout } from './waiters.js';

// Stop, kill, restart, pause and unpause of a container the user asked for.
// Stop and kill only signal the process: its exit is recorded by exit.ts.

/**
 * `stop`: the stop signal (the request's, the image's StopSignal, or
 * SIGTERM), then SIGKILL if the container is still running after the
 * timeout (the request's, StopTimeout, or 10 s; negative waits for ever).
 * Resolves once the exit is recorded. A restarting container is only kept
 * from restarting.
 */
export async function stopContainer(c: ContainerContext, ref: string, timeoutSeconds?: number, signal?: string): Promise<void> {
  const { deps } = c;
  const rec = deps.store.get(ref);
  if (rec.State.Restarting) {
    c.restarts.cancel(rec.Id);
    await c.run.exclusive(rec.Id, async () => {
      rec.ManuallyStopped = true;
      Object.assign(rec.State, { Restarting: false, Status: 'exited' });
      await deps.store.save(rec);
    });
    c.run.reached(rec.Id, ['not-running'], rec.State.ExitCode);
    return;
  }
  if (!rec.State.Running) throw new NotModified('container already stopped');
  // Run state, like the exit that follows: atomic, not fsynced (see ContainerStore.saveState).
  rec.ManuallyStopped = true;
  await deps.store.saveState(rec);
  const sig = signal || rec.Config.StopSignal || 'SIGTERM';
  const t = timeoutSeconds ?? rec.Config.StopTimeout ?? 10;
  const exited = c.run.waitFor(rec.Id, 'next-exit');
  await sendSignal(c, rec, sig).catch(() => undefined);
  if (rec.State.Paused) await deps.runtime.resume(rec.Id).catch(() => undefined);
  if (t < 0 ? await exited.then(() => true) : await raceTimeout(exited, t * 1000)) return;
  log.info('containers', `container did not exit within ${t}s of ${sig}: killing it`, { id: rec.Id });
  await sendSignal(c, rec, 'SIGKILL').catch(() => undefined);
  await exited;
}

/** `kill`: sends `signal` (a name or number) to a running container; no restart by policy follows. */
export async function killContainer(c: ContainerContext, ref: string, signal = 'SIGKILL'): Promise<void> {
  const rec = c.deps.store.get(ref);
  if (!parseSignal(signal)) throw new InvalidArgument(`Invalid signal: ${signal}`);
  if (!rec.State.Running) throw new Conflict(`Cannot kill container: ${shortId(rec.Id)}: Container ${rec.Id} is not running`);
  rec.ManuallyStopped = true;
  await c.deps.store.saveState(rec);
  await sendSignal(c, rec, signal);
  c.emit(rec, 'kill', { signal: String(parseSignal(signal)) });
}

/** `restart`: a stop (if running) with `timeoutSeconds`, then a start. */
export async function restartContainer(c: ContainerContext, ref: string, timeoutSeconds?: number): Promise<void> {
  const rec = c.deps.store.get(ref);
  if (rec.State.Running) await stopContainer(c, rec.Id, timeoutSeconds);
  await startContainer(c, rec.Id);
  c.emit(rec, 'restart');
}

/** `pause`: freezes a running container's processes. */
export async function pauseContainer(c: ContainerContext, ref: string): Promise<void> {
  const { deps } = c;
  const rec = deps.store.get(ref);
  await c.run.exclusive(rec.Id, async () => {
    if (!rec.State.Running) throw new Conflict(`Container ${rec.Id} is not running`);
    if (rec.State.Paused) throw new Conflict(`Container ${rec.Id} is already paused`);
    await deps.runtime.pause(rec.Id);
    Object.assign(rec.State, { Paused: true, Status: 'paused' });
    await deps.store.save(rec);
  });
  c.emit(rec, 'pause');
}

/** `unpause`: thaws a paused container. */
export async function unpauseContainer(c: ContainerContext, ref: string): Promise<void> {
  const { deps } = c;
  const rec = deps.store.get(ref);
  await c.run.exclusive(rec.Id, async () => {
    if (!rec.State.Paused) throw new Conflict(`Container ${rec.Id} is not paused`);
    await deps.runtime.resume(rec.Id);
    Object.assign(rec.State, { Paused: false, Status: 'running' });
    await deps.store.save(rec);
  });
  c.emit(rec, 'unpause');
}

async function sendSignal(c: ContainerContext, rec: ContainerRecord, signal: string): Promise<void> {
  const n = parseSignal(signal);
  if (!n) throw new InvalidArgument(`Invalid signal: ${signal}`);
  await c.deps.runtime.kill(rec.Id, String(n));
}
