import { Conflict, errorMessage } from '../../common/errors.js';
import { log } from '../../common/log.js';
import type { ContainerContext } from './context.js';
import type { ContainerRecord } from './record.js';
import { laps } from './steps.js';
import { raceTimeout } from './waiters.js';

// Freeing what containers hold: a run's resources after its exit, and the
// whole container on rm (and AutoRemove, prune).

/** SIGKILL's number, as the runtime takes signals. */
const sigkill = '9';

/** `rm [-f] [-v]`: Docker's refusal for a running container without force; with it, kills the container first. */
export async function removeContainer(c: ContainerContext, ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
  const { deps } = c;
  const rec = deps.store.get(ref);
  const lap = laps('remove', rec.Id);
  if (rec.State.Running && !opts.force) {
    throw new Conflict(`cannot remove container "${rec.Name}": container is running: stop the container before removing or force remove`);
  }
  if (rec.State.Running) {
    const exited = c.run.waitFor(rec.Id, 'next-exit');
    rec.ManuallyStopped = true;
    await deps.runtime.kill(rec.Id, sigkill).catch(() => undefined);
    if (rec.State.Paused) await deps.runtime.resume(rec.Id).catch(() => undefined);
    lap('killed');
    if (!(await raceTimeout(exited, 15_000))) log.warn('containers', 'container did not die after SIGKILL; removing anyway', { id: rec.Id });
    lap('exit seen');
  }
  c.restarts.cancel(rec.Id);
  await c.run.exclusive(rec.Id, () => removeLocked(c, rec, { force: !!opts.force, volumes: !!opts.volumes }));
  lap('removed');
}

/**
 * Removes a stopped container; the caller holds its lock. It is gone for
 * clients on return; its runtime state, mount, layer and files go after.
 */
export async function removeLocked(c: ContainerContext, rec: ContainerRecord, opts: { force: boolean; volumes: boolean }): Promise<void> {
  const { deps } = c;
  if (!deps.store.find(rec.Id)) return;
  rec.State.Status = 'removing';
  // The record on disk says 'removing' until its files go: a removal cut
  // short by a crash is finished at the next start (reconcile).
  await deps.store.saveState(rec);
  deps.store.forget(rec.Id);
  // What clients can see goes first (network endpoint, anonymous volumes);
  // then `wait?condition=removed` returns, so `run --rm` does not wait for
  // the runtime state, mount and layer to go.
  await deps.network?.release(rec.Id).catch((err) => log.warn('containers', 'network release failed', { id: rec.Id, error: errorMessage(err) }));
  if (opts.volumes) await deps.volumes?.releaseAnonymous(rec.Mounts ?? [], rec.Id).catch((err) => log.warn('containers', 'releasing volumes failed', { id: rec.Id, error: errorMessage(err) }));
  c.emit(rec, 'destroy');
  c.run.reached(rec.Id, ['next-exit', 'not-running', 'removed'], rec.State.ExitCode);
  log.debug('containers', 'remove: gone for clients', { id: rec.Id.slice(0, 12) });
  // The rest (runtime state, mount, layer, files) nobody can see any more:
  // it finishes after the answer. If it fails or the daemon dies first, the
  // record on disk still says 'removing' and the next start finishes it.
  c.run.afterAnswer(rec.Id, 'removing the container layer', async () => {
    if (!c.run.isReleased(rec.Id)) await releaseRun(c, rec.Id, false);
    c.run.setReleased(rec.Id, false);
    await deps.rootfs.removeContainerLayer(rec.Id);
    await deps.store.delete(rec.Id);
    log.debug('containers', 'remove: files gone', { id: rec.Id.slice(0, 12) });
  });
}

/** Frees what a run held: runtime state and cgroups, network endpoint (unless `network` is false), rootfs mount. Failures are logged. */
export async function releaseRun(c: ContainerContext, id: string, network = true): Promise<void> {
  const { deps } = c;
  const warn = (what: string) => (err: unknown) => log.warn('containers', `${what} failed`, { id, error: errorMessage(err) });
  const lap = laps('release', id);
  await Promise.all([
    deps.runtime.delete(id).then(() => lap('runtime deleted'), warn('runtime delete')),
    network ? deps.network?.release(id).then(() => lap('network released'), warn('network release')) : undefined,
  ]);
  await deps.rootfs.unmountContainer(id).then(() => lap('unmounted'), warn('unmount'));
  c.run.setReleased(id, true);
}

/** `container prune`: removes the stopped containers `filter` accepts; those that fail to go are skipped. */
export async function pruneContainers(c: ContainerContext, filter: (rec: ContainerRecord) => boolean): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
  const deleted: string[] = [];
  for (const rec of c.deps.store.all()) {
    if (rec.State.Running || rec.State.Restarting || !filter(rec)) continue;
    await removeContainer(c, rec.Id).then(() => deleted.push(rec.Id), () => undefined);
  }
  return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
}
