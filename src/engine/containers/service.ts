import type { Readable } from 'node:stream';
import { Conflict, InvalidArgument } from '../../common/errors.js';
import { newId, randomName } from '../../common/ids.js';
import { AttachQueue } from './attach-queue.js';
import { emitContainerEvent, type ContainerContext, type ContainerServiceDeps } from './context.js';
import { checkContainerName, commandLine, mergeImageConfig, newContainerRecord, validateCreate } from './create.js';
import { followExit, recordExit } from './exit.js';
import { HealthMonitor, probeByExec } from './health.js';
import { killContainer, pauseContainer, restartContainer, stopContainer, unpauseContainer } from './lifecycle.js';
import type { AttachSession, LogEntry, LogQuery } from './ports.js';
import type { ContainerRecord } from './record.js';
import { reconcileContainers } from './reconcile.js';
import { pruneContainers, removeContainer, removeLocked } from './removal.js';
import { RestartManager } from './restart.js';
import { ContainerRunState } from './run-state.js';
import { restartByPolicy, startContainer } from './start.js';
import { laps } from './steps.js';
import type { ContainerStore } from './store.js';
import type { ContainerConfig, HostConfig } from './types.js';
import type { WaitCondition } from './waiters.js';

export type { ContainerServiceDeps } from './context.js';
export type { WaitCondition } from './waiters.js';
export { startErrorExitCode } from './waiters.js';

/** Containers whose cleanup may still run after their answer before a new create waits for some to finish. */
const maxBackgroundCleanups = 32;

/**
 * The container lifecycle: create, start, stop, kill, restart, remove,
 * pause, wait, attach, logs. It keeps records consistent with what the
 * runtime reports, applies restart policies and AutoRemove when a container
 * exits, and reconciles both after a daemon restart (containers outlive the
 * daemon: their monitor is conmon, not us).
 *
 * This class is the entry point and holds creation, waiting and stdio; the
 * rest is in one file per job, all sharing a ContainerContext (context.ts):
 * start.ts (start, restart policy's start), lifecycle.ts (stop, kill,
 * restart, pause), exit.ts (what an exit triggers), removal.ts (rm, prune,
 * freeing a run), and run-state.ts (the per-container lock, waiters and
 * background cleanups).
 *
 *   const { Id } = await containers.create({ Image: 'busybox', Cmd: ['echo', 'hi'] }, {}, 'greeter');
 *   const exited = containers.wait(Id, 'next-exit');
 *   await containers.start(Id);
 *   await exited   // 0, the exit code
 */
export class ContainerService {
  /** What start, lifecycle, exit handling and removal share. */
  private c: ContainerContext;

  constructor(private deps: ContainerServiceDeps) {
    const c: ContainerContext = {
      deps,
      run: new ContainerRunState(),
      pendingAttach: new AttachQueue(),
      restarts: new RestartManager((id) => restartByPolicy(c, id)),
      health: new HealthMonitor((id, args, ms) => probeByExec(deps, id, args, ms), async (rec, status) => {
        await deps.store.save(rec);
        if (status) this.emit(rec, `health_status: ${status}`);
      }),
      emit: (rec, action, extra) => this.emit(rec, action, extra),
    };
    this.c = c;
  }

  get store(): ContainerStore {
    return this.deps.store;
  }

  // ---- create ----------------------------------------------------------

  async create(config: ContainerConfig, hostConfig: HostConfig, name?: string, networking?: ContainerRecord['NetworkingConfig']): Promise<{ Id: string; Warnings: string[] }> {
    if (!config.Image) throw new InvalidArgument('config.Image: image name is required');
    validateCreate(config, hostConfig);
    const mode = hostConfig.NetworkMode ?? '';
    if (mode.startsWith('container:')) this.deps.store.get(mode.slice('container:'.length));
    else if (mode && this.deps.network) this.deps.network.checkMode(mode);
    if (name) checkContainerName(name, this.deps.store.nameOwner(name));
    const image = await this.deps.rootfs.resolveImage(config.Image);
    await this.c.run.room(maxBackgroundCleanups);
    const merged = mergeImageConfig(config, image.config);
    merged.Image = config.Image;
    const argv = commandLine(merged);
    if (argv.length === 0) throw new InvalidArgument('No command specified');

    const id = newId();
    const lap = laps('create', id);
    const finalName = name ?? randomName((n) => !!this.deps.store.nameOwner(n));
    const rec = newContainerRecord({ id, name: finalName, config: merged, hostConfig, imageId: image.id, argv, dir: this.deps.store.dir(id), networking });
    rec.Mounts = this.deps.volumes ? await this.deps.volumes.resolveForContainer(merged, hostConfig) : [];
    lap('volumes resolved');
    try {
      await this.deps.rootfs.createContainerLayer(id, image.id);
      lap('layer prepared');
      // A --rm container lives for one run and is removed after it anyway:
      // its record need not survive a power loss, so it skips the two fsyncs
      // (17-22 ms here). A kill -9 still finds it whole (atomic rename).
      await this.deps.store.save(rec, { durable: !rec.HostConfig.AutoRemove });
      lap('record saved');
    } catch (err) {
      await this.deps.rootfs.removeContainerLayer(id).catch(() => undefined);
      await this.deps.volumes?.releaseAnonymous(rec.Mounts, id).catch(() => undefined);
      throw err;
    }
    // Mount the rootfs behind the answer: the client's next requests (attach,
    // wait, start) take that long anyway, and start waits for this chain
    // before it mounts (finding it done). A container that is never started
    // keeps the mount until it is removed; a failure here is only logged,
    // start mounts again and reports it.
    this.c.run.afterAnswer(id, 'mounting the rootfs ahead of start', async () => {
      await this.deps.rootfs.mountContainer(id);
      lap('rootfs mounted ahead');
    });
    this.emit(rec, 'create');
    return { Id: id, Warnings: [] };
  }

  // ---- start, stop, kill, restart, pause (start.ts, lifecycle.ts) ------------

  start(ref: string): Promise<void> {
    return startContainer(this.c, ref);
  }

  stop(ref: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    return stopContainer(this.c, ref, timeoutSeconds, signal);
  }

  kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    return killContainer(this.c, ref, signal);
  }

  restart(ref: string, timeoutSeconds?: number): Promise<void> {
    return restartContainer(this.c, ref, timeoutSeconds);
  }

  pause(ref: string): Promise<void> {
    return pauseContainer(this.c, ref);
  }

  unpause(ref: string): Promise<void> {
    return unpauseContainer(this.c, ref);
  }

  /** After a daemon (re)start: see reconcile.ts. */
  reconcile(): Promise<void> {
    return reconcileContainers({
      store: this.deps.store,
      runtime: this.deps.runtime,
      // Before the API serves: the files of a removal cut short go for good
      // (its mount, if any, takes a umount now).
      finishRemoval: async (rec) => {
        await removeLocked(this.c, rec, { force: true, volumes: false });
        await this.c.run.settled(rec.Id);
      },
      recordExit: (rec, status) => recordExit(this.c, rec.Id, status),
      follow: (rec) => { followExit(this.c, rec.Id); this.c.health.track(rec); },
      start: (id) => this.start(id),
    });
  }

  // ---- wait ----------------------------------------------------------------

  /**
   * Resolves with the exit code when `cond` is met. Registering happens
   * synchronously, so a caller can wait for `next-exit` and then start.
   */
  wait(ref: string, cond: WaitCondition = 'not-running'): Promise<number> {
    const rec = this.deps.store.get(ref);
    if (cond === 'not-running' && !rec.State.Running && !rec.State.Restarting) return Promise.resolve(rec.State.ExitCode);
    return this.c.run.waitFor(rec.Id, cond);
  }

  // ---- remove (removal.ts) -------------------------------------------------------

  remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return removeContainer(this.c, ref, opts);
  }

  /**
   * Resolves once cleanup still running after earlier answers (released
   * runs, removed containers' layers and files) is done: at daemon shutdown,
   * and for callers that need the disk state settled.
   */
  drain(): Promise<void> {
    return this.c.run.drain();
  }

  prune(filter: (c: ContainerRecord) => boolean = () => true): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    return pruneContainers(this.c, filter);
  }

  // ---- rename ------------------------------------------------------------------

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.deps.store.get(ref);
    if (!newName) throw new InvalidArgument('Neither old nor new names may be empty');
    const n = '/' + newName.replace(/^\//, '');
    if (n === rec.Name) throw new InvalidArgument(`Renaming a container with the same name as its current name`);
    checkContainerName(newName, this.deps.store.nameOwner(n));
    const old = rec.Name;
    rec.Name = n;
    await this.deps.store.save(rec);
    this.emit(rec, 'rename', { oldName: old });
  }

  // ---- stdio -----------------------------------------------------------------------

  /**
   * Attaches to the container's stdio. For a container not started yet the
   * session is connected between runtime create and start, so no output of
   * the first instant is lost (docker run attaches before it starts).
   */
  async attach(ref: string, opts: { stdin: boolean }): Promise<AttachSession | undefined> {
    const rec = this.deps.store.get(ref);
    if (rec.State.Running) return this.deps.runtime.attach(rec.Id, opts);
    if (rec.State.Status === 'created' || rec.State.Restarting) {
      return this.c.pendingAttach.wait(rec.Id, opts);
    }
    return undefined;
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const rec = this.deps.store.get(ref);
    if (!rec.State.Running) throw new Conflict(`Container ${rec.Id} is not running`);
    if (!(height > 0 && width > 0)) return;
    await this.deps.runtime.resize(rec.Id, height, width);
  }

  logs(ref: string, q: Omit<LogQuery, 'follow'> & { follow?: boolean }): AsyncIterable<LogEntry[]> {
    const rec = this.deps.store.get(ref);
    const follow = q.follow && (rec.State.Running || rec.State.Restarting) ? this.wait(rec.Id, 'not-running') : undefined;
    return this.deps.runtime.readLogs(rec.LogPath, { ...q, follow });
  }

  async export(ref: string): Promise<Readable> {
    const rec = this.deps.store.get(ref);
    return this.deps.rootfs.exportContainer(rec.Id);
  }

  // ---- helpers ------------------------------------------------------------------------

  /** The record with live network state filled in, for inspect and list. */
  withNetwork(rec: ContainerRecord): ContainerRecord {
    if (!this.deps.network) return rec;
    return { ...rec, NetworkSettings: this.deps.network.settings(rec) };
  }

  /** Published and exposed ports for the list view. */
  ports(rec: ContainerRecord): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] | undefined {
    return this.deps.network?.ports(rec.Id);
  }

  /** Publishes a container event (exec and commit report theirs through it too). */
  emit(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    emitContainerEvent(this.deps.events, rec, action, extra);
  }
}
