import { Background } from './steps.js';
import { KeyedLock } from './lock.js';
import { Waiters, type WaitCondition } from './waiters.js';

/**
 * ContainerRunState is the daemon's in-memory bookkeeping of containers'
 * runs, shared by start, stop, exit handling and removal. Nothing in it is
 * saved: after a daemon restart the records and the runtime say what runs
 * (see reconcile.ts), and this starts empty.
 *
 * It holds, per container ID:
 *   - the lock: state changes (start, the record of an exit, pause,
 *     removal) of one container happen one at a time, in call order, while
 *     other containers proceed in parallel. A stop or kill only sends a
 *     signal and takes no lock; the exit it causes is recorded under it.
 *   - the waiters: callers waiting for the next exit, for "not running" or
 *     for the removal (`wait`, stop, `run --rm`). A waiter is registered
 *     synchronously, before the action that ends the wait, so a fast exit
 *     is never missed.
 *   - the background cleanups: work that goes on after the client has its
 *     answer (freeing an exited run's runtime state, network and mount;
 *     deleting a removed container's layer and files). One chain per
 *     container, so the next step on it waits for what is still going on.
 *   - whether the last run's resources are already freed (so a removal does
 *     not free them twice), and whether its exit is being followed.
 *
 * Example, a stop and what follows it:
 *
 *   const exited = run.waitFor(id, 'next-exit');        // before the signal
 *   await runtime.kill(id, '15');
 *   // ...the exit watcher, once the process is gone:
 *   await run.exclusive(id, async () => {
 *     rec.State.Running = false;                          // and saved
 *     run.reached(id, ['next-exit', 'not-running'], 0);   // `exited` resolves with 0
 *     run.afterAnswer(id, 'releasing a run', () => releaseRun(id));
 *   });
 *   // ...a later start of the same container:
 *   await run.exclusive(id, async () => {
 *     await run.settled(id);                              // the release is done
 *     // mount, create, start
 *   });
 */
export class ContainerRunState {
  private lock = new KeyedLock();
  private waiters = new Waiters();
  private background = new Background();
  private released = new Set<string>();
  private following = new Set<string>();

  /** Runs `fn` once earlier state changes of container `id` are done, and before later ones; a failure of an earlier one does not stop it. */
  exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.lock.run(id, fn);
  }

  /** Resolves with the exit code once container `id` reaches `cond`. Registers at once. */
  waitFor(id: string, cond: WaitCondition): Promise<number> {
    return this.waiters.add(id, cond);
  }

  /** Container `id` reached the conditions `conds`: their waiters get exit code `code`. */
  reached(id: string, conds: WaitCondition[], code: number): void {
    this.waiters.resolve(id, conds, code);
  }

  /** Queues cleanup after the container's earlier cleanups and returns at once; a failure is logged as "`what` failed". */
  afterAnswer(id: string, what: string, fn: () => Promise<void>): void {
    this.background.run(id, what, fn);
  }

  /** Resolves once the cleanups of container `id` queued so far (and any they queue) are done. */
  settled(id: string): Promise<void> {
    return this.background.settled(id);
  }

  /** Resolves once fewer than `limit` containers have cleanups pending: creates wait here so cleanup keeps pace. */
  room(limit: number): Promise<void> {
    return this.background.room(limit);
  }

  /** Resolves once no container has cleanups pending (daemon shutdown). */
  drain(): Promise<void> {
    return this.background.drain();
  }

  /** The last run's runtime state, network and mount are freed (or, with false, a new run holds them again). */
  setReleased(id: string, released: boolean): void {
    if (released) this.released.add(id);
    else this.released.delete(id);
  }

  isReleased(id: string): boolean {
    return this.released.has(id);
  }

  /** Claims following container `id`'s exit: false if someone already follows it. */
  follow(id: string): boolean {
    if (this.following.has(id)) return false;
    this.following.add(id);
    return true;
  }

  /** The exit being followed was seen (or following it failed). */
  unfollow(id: string): void {
    this.following.delete(id);
  }
}
