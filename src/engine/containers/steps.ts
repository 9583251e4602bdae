import { errorMessage } from '../../common/errors.js';
import { log } from '../../common/log.js';

// Small helpers for the multi-step operations of the container service (start, release, remove).

/** Debug-level timing marks of one operation on one container: `lap('mounted')` logs ms since the start. */
export function laps(op: string, id: string): (what: string) => void {
  const t0 = performance.now();
  return (what) => log.debug('containers', `${op}: ${what}`, { id: id.slice(0, 12), ms: Math.round(performance.now() - t0) });
}

/**
 * Work that goes on after the client has its answer: releasing a run after
 * its exit, deleting a removed container's layer and record. One chain per
 * container, so the next step on that container (a start, the end of a
 * removal) can wait for what is still going on, while other containers'
 * cleanups run side by side; `drain` waits for all (daemon shutdown).
 *
 *   background.run(id, () => releaseRun(id));   // returns at once
 *   await background.settled(id);               // before mounting again
 */
export class Background {
  private chains = new Map<string, Promise<void>>();

  /** Queues `fn` after the container's earlier background work; a failure is logged, never thrown. */
  run(id: string, what: string, fn: () => Promise<void>): void {
    const next = (this.chains.get(id) ?? Promise.resolve())
      .then(fn)
      .catch((err) => log.warn('containers', `${what} failed`, { id, error: errorMessage(err) }))
      .finally(() => { if (this.chains.get(id) === next) this.chains.delete(id); });
    this.chains.set(id, next);
  }

  /** Resolves once the container's background work so far is done. */
  async settled(id: string): Promise<void> {
    for (let p = this.chains.get(id); p; p = this.chains.get(id)) {
      await p;
      if (this.chains.get(id) === p) return;
    }
  }

  /**
   * Resolves once fewer than `limit` containers have background work: new
   * containers wait here, so a burst of create/rm cannot outrun its cleanup
   * and pile up mounts and cgroups without bound.
   */
  async room(limit: number): Promise<void> {
    while (this.chains.size >= limit) await Promise.race([...this.chains.values()]);
  }

  /** Resolves once every container's background work is done. */
  async drain(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }
}
