import type { Readable } from 'node:stream';
import { Conflict, InvalidArgument, NotFound, NotModified, errorMessage } from '../../common/errors.js';
import { newId, randomName, shortId } from '../../common/ids.js';
import { log } from '../../common/log.js';
import type { EventBus } from '../events/bus.js';
import { checkContainerName, commandLine, mergeImageConfig, newContainerRecord, parseSignal, validateCreate } from './create.js';
import { KeyedLock } from './lock.js';
import type { AttachSession, ExitStatus, LogEntry, LogQuery, NetworkPort, RootfsPort, RuntimePort, SpecBuilder } from './ports.js';
import { zeroTime, type ContainerRecord } from './record.js';
import { RestartManager } from './restart.js';
import { HealthMonitor, probeByExec } from './health.js';
import { AttachQueue } from './attach-queue.js';
import { reconcileContainers } from './reconcile.js';
import { Background, laps } from './steps.js';
import { prepareStartSpec } from './start-spec.js';
import { raceTimeout, startErrorExitCode, Waiters, type WaitCondition } from './waiters.js';

export type { WaitCondition } from './waiters.js';
export { startErrorExitCode } from './waiters.js';
import type { ContainerStore } from './store.js';
import type { ContainerConfig, HostConfig } from './types.js';
import type { VolumeService } from '../volumes/service.js';

/** Containers whose cleanup may still run after their answer before a new create waits for some to finish. */
const maxBackgroundCleanups = 32;

export interface ContainerServiceDeps {
  store: ContainerStore;
  rootfs: RootfsPort;
  runtime: RuntimePort;
  buildSpec: SpecBuilder;
  events: EventBus;
  /** Mounts and volumes; without it containers get no mounts beyond the generated files. */
  volumes?: VolumeService;
  /** Networking; without it containers get a private namespace and generated files only. */
  network?: NetworkPort;
}


/**
 * The container lifecycle: create, start, stop, kill, restart, remove,
 * pause, wait, attach, logs. It keeps records consistent with what the
 * runtime reports, applies restart policies and AutoRemove when a container
 * exits, and reconciles both after a daemon restart (containers outlive the
 * daemon: their monitor is conmon, not us).
 *
 *   const { Id } = await containers.create({ Image: 'busybox', Cmd: ['echo', 'hi'] }, {}, 'greeter');
 *   const exited = containers.wait(Id, 'next-exit');
 *   await containers.start(Id);
 *   (await exited).StatusCode   // 0
 */
export class ContainerService {
  private lock = new KeyedLock();
  private waiters = new Waiters();
  private pendingAttach = new AttachQueue();
  private watching = new Set<string>();
  /** Containers whose last run's runtime state, network and mount are already freed (so removal skips that). */
  private released = new Set<string>();
  /** Cleanup that continues after clients have their answer (see Background). */
  private background = new Background();
  private restarts: RestartManager;
  private health: HealthMonitor;

  constructor(private deps: ContainerServiceDeps) {
    this.restarts = new RestartManager((id) => this.restartByPolicy(id));
    this.health = new HealthMonitor((id, args, ms) => probeByExec(this.deps, id, args, ms), async (rec, status) => {
      await this.deps.store.save(rec);
      if (status) this.emit(rec, `health_status: ${status}`);
    });
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
    await this.background.room(maxBackgroundCleanups);
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
    this.background.run(id, 'mounting the rootfs ahead of start', async () => {
      await this.deps.rootfs.mountContainer(id);
      lap('rootfs mounted ahead');
    });
    this.emit(rec, 'create');
    return { Id: id, Warnings: [] };
  }

  // ---- start -------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const rec = this.deps.store.get(ref);
    await this.lock.run(rec.Id, () => this.startLocked(rec));
  }

  private async startLocked(rec: ContainerRecord): Promise<void> {
    if (rec.State.Paused) throw new Conflict('cannot start a paused container, try unpause instead');
    if (rec.State.Running) throw new NotModified('container already started');
    if (rec.State.Status === 'removing' || rec.State.Dead) throw new Conflict(`container ${rec.Id} is marked for removal and cannot be started`);
    this.restarts.cancel(rec.Id);
    // The last run's mount, network and runtime state may still be on their way out.
    await this.background.settled(rec.Id);
    this.released.delete(rec.Id);
    const lap = laps('start', rec.Id);
    // The runtime starts the container's monitor while the rootfs and the
    // network (which the spec names) are still being set up.
    const prepared = prepareStartSpec(this.deps, rec, lap);
    const spec = prepared.then((p) => p.spec);
    spec.catch(() => undefined); // create reports it; this only keeps it from counting as unhandled
    try {
      const { monitorPid } = await this.deps.runtime.create({
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
      await this.pendingAttach.connect(rec.Id, (o) => this.deps.runtime.attach(rec.Id, o));
      const { pid } = await this.deps.runtime.start(rec.Id);
      lap('started');
      Object.assign(rec.State, {
        Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: pid, ExitCode: 0, Error: '', StartedAt: new Date().toISOString(), FinishedAt: zeroTime,
      });
      rec.HasBeenStartedBefore = true;
      rec.ManuallyStopped = false;
      await this.deps.store.saveState(rec);
    } catch (err) {
      await this.failStart(rec, err);
      throw err;
    }
    this.emit(rec, 'start');
    this.watchExit(rec.Id);
    this.health.track(rec);
  }

  /** Records a failed start as Docker does: still "created" (or "exited"), exit code 126/127/128. */
  private async failStart(rec: ContainerRecord, err: unknown): Promise<void> {
    const msg = errorMessage(err);
    rec.State.Error = msg;
    rec.State.ExitCode = startErrorExitCode(msg);
    rec.State.Running = false;
    rec.State.Pid = 0;
    if (rec.HasBeenStartedBefore) rec.State.Status = 'exited';
    await this.deps.runtime.delete(rec.Id).catch(() => undefined);
    await this.deps.network?.release(rec.Id).catch(() => undefined);
    await this.deps.rootfs.unmountContainer(rec.Id).catch(() => undefined);
    await this.deps.store.saveState(rec).catch(() => undefined);
    this.pendingAttach.fail(rec.Id, err);
    this.waiters.resolve(rec.Id, ['next-exit', 'not-running'], rec.State.ExitCode);
    if (rec.HostConfig.AutoRemove) void this.remove(rec.Id, { force: true }).catch(() => undefined);
  }

  // ---- exit handling and restart policies --------------------------------

  /** Follows a running container until it exits, then records the exit. */
  private watchExit(id: string): void {
    if (this.watching.has(id)) return;
    this.watching.add(id);
    this.deps.runtime.waitExit(id).then(
      (status) => this.lock.run(id, () => this.onExit(id, status)),
      (err) => log.error('containers', 'waiting for exit failed', { id, error: errorMessage(err) }),
    ).finally(() => this.watching.delete(id));
  }

  private async onExit(id: string, status: ExitStatus): Promise<void> {
    const rec = this.deps.store.find(id);
    if (!rec || !rec.State.Running) return;
    log.debug('containers', 'exit seen', { id: id.slice(0, 12), exitCode: status.exitCode });
    const ranFor = Date.now() - Date.parse(rec.State.StartedAt);
    Object.assign(rec.State, {
      Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0,
      ExitCode: status.exitCode, OOMKilled: status.oomKilled, FinishedAt: status.finishedAt.toISOString(),
    });
    rec.MonitorPid = undefined;
    this.health.stop(id);
    if (status.oomKilled) this.emit(rec, 'oom');
    this.emit(rec, 'die', { exitCode: String(status.exitCode) });
    const restart = this.restarts.shouldRestart(rec, ranFor);
    if (!restart && rec.HostConfig.AutoRemove) return this.removeLocked(rec, { force: true, volumes: true });
    if (restart) {
      rec.State.Restarting = true;
      rec.State.Status = 'restarting';
    }
    await this.deps.store.saveState(rec);
    // Waiters learn the exit code now; the cleanup goes on in the background
    // (a start or rm that follows waits for it where it must), so a `stop`
    // returns as soon as the process is gone.
    this.waiters.resolve(id, restart ? ['next-exit'] : ['next-exit', 'not-running'], status.exitCode);
    this.background.run(id, 'releasing a run', async () => {
      await this.releaseRun(id);
      if (restart) this.restarts.schedule(rec, ranFor);
    });
  }

  /** Frees what a run held: runtime state and cgroups, network endpoint, rootfs mount. */
  private async releaseRun(id: string, network = true): Promise<void> {
    const warn = (what: string) => (err: unknown) => log.warn('containers', `${what} failed`, { id, error: errorMessage(err) });
    const lap = laps('release', id);
    await Promise.all([
      this.deps.runtime.delete(id).then(() => lap('runtime deleted'), warn('runtime delete')),
      network ? this.deps.network?.release(id).then(() => lap('network released'), warn('network release')) : undefined,
    ]);
    await this.deps.rootfs.unmountContainer(id).then(() => lap('unmounted'), warn('unmount'));
    this.released.add(id);
  }

  private async restartByPolicy(id: string): Promise<void> {
    const rec = this.deps.store.find(id);
    if (!rec || !rec.State.Restarting) return;
    rec.RestartCount++;
    rec.State.Restarting = false;
    try {
      await this.lock.run(id, () => this.startLocked(rec));
      this.emit(rec, 'restart');
    } catch (err) {
      log.warn('containers', 'restart by policy failed', { id, error: errorMessage(err) });
      rec.State.Status = 'exited';
      await this.deps.store.save(rec).catch(() => undefined);
      this.waiters.resolve(id, ['not-running'], rec.State.ExitCode);
    }
  }

  /** After a daemon (re)start: see reconcile.ts. */
  reconcile(): Promise<void> {
    return reconcileContainers({
      store: this.deps.store,
      runtime: this.deps.runtime,
      // Before the API serves: the files of a removal cut short go for good
      // (its mount, if any, takes a umount now).
      finishRemoval: async (rec) => {
        await this.removeLocked(rec, { force: true, volumes: false });
        await this.background.settled(rec.Id);
      },
      recordExit: (rec, status) => this.onExit(rec.Id, status),
      follow: (rec) => { this.watchExit(rec.Id); this.health.track(rec); },
      start: (id) => this.start(id),
    });
  }

  // ---- stop, kill, restart, pause -----------------------------------------

  async stop(ref: string, timeoutSeconds?: number, signal?: string): Promise<void> {
    const rec = this.deps.store.get(ref);
    if (rec.State.Restarting) {
      this.restarts.cancel(rec.Id);
      await this.lock.run(rec.Id, async () => {
        rec.ManuallyStopped = true;
        Object.assign(rec.State, { Restarting: false, Status: 'exited' });
        await this.deps.store.save(rec);
      });
      this.waiters.resolve(rec.Id, ['not-running'], rec.State.ExitCode);
      return;
    }
    if (!rec.State.Running) throw new NotModified('container already stopped');
    // Run state, like the exit that follows: atomic, not fsynced (see ContainerStore.saveState).
    rec.ManuallyStopped = true;
    await this.deps.store.saveState(rec);
    const sig = signal || rec.Config.StopSignal || 'SIGTERM';
    const t = timeoutSeconds ?? rec.Config.StopTimeout ?? 10;
    const exited = this.waiters.add(rec.Id, 'next-exit');
    await this.signal(rec, sig).catch(() => undefined);
    if (rec.State.Paused) await this.deps.runtime.resume(rec.Id).catch(() => undefined);
    if (t < 0 ? await exited.then(() => true) : await raceTimeout(exited, t * 1000)) return;
    log.info('containers', `container did not exit within ${t}s of ${sig}: killing it`, { id: rec.Id });
    await this.signal(rec, 'SIGKILL').catch(() => undefined);
    await exited;
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.deps.store.get(ref);
    if (!parseSignal(signal)) throw new InvalidArgument(`Invalid signal: ${signal}`);
    if (!rec.State.Running) throw new Conflict(`Cannot kill container: ${shortId(rec.Id)}: Container ${rec.Id} is not running`);
    rec.ManuallyStopped = true;
    await this.deps.store.saveState(rec);
    await this.signal(rec, signal);
    this.emit(rec, 'kill', { signal: String(parseSignal(signal)) });
  }

  private async signal(rec: ContainerRecord, signal: string): Promise<void> {
    const n = parseSignal(signal);
    if (!n) throw new InvalidArgument(`Invalid signal: ${signal}`);
    await this.deps.runtime.kill(rec.Id, String(n));
  }

  async restart(ref: string, timeoutSeconds?: number): Promise<void> {
    const rec = this.deps.store.get(ref);
    if (rec.State.Running) await this.stop(rec.Id, timeoutSeconds);
    await this.start(rec.Id);
    this.emit(rec, 'restart');
  }

  async pause(ref: string): Promise<void> {
    const rec = this.deps.store.get(ref);
    await this.lock.run(rec.Id, async () => {
      if (!rec.State.Running) throw new Conflict(`Container ${rec.Id} is not running`);
      if (rec.State.Paused) throw new Conflict(`Container ${rec.Id} is already paused`);
      await this.deps.runtime.pause(rec.Id);
      Object.assign(rec.State, { Paused: true, Status: 'paused' });
      await this.deps.store.save(rec);
    });
    this.emit(rec, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.deps.store.get(ref);
    await this.lock.run(rec.Id, async () => {
      if (!rec.State.Paused) throw new Conflict(`Container ${rec.Id} is not paused`);
      await this.deps.runtime.resume(rec.Id);
      Object.assign(rec.State, { Paused: false, Status: 'running' });
      await this.deps.store.save(rec);
    });
    this.emit(rec, 'unpause');
  }

  // ---- wait ----------------------------------------------------------------

  /**
   * Resolves with the exit code when `cond` is met. Registering happens
   * synchronously, so a caller can wait for `next-exit` and then start.
   */
  wait(ref: string, cond: WaitCondition = 'not-running'): Promise<number> {
    const rec = this.deps.store.get(ref);
    if (cond === 'not-running' && !rec.State.Running && !rec.State.Restarting) return Promise.resolve(rec.State.ExitCode);
    return this.waiters.add(rec.Id, cond);
  }

  // ---- remove ----------------------------------------------------------------

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.deps.store.get(ref);
    const lap = laps('remove', rec.Id);
    if (rec.State.Running && !opts.force) {
      throw new Conflict(`cannot remove container "${rec.Name}": container is running: stop the container before removing or force remove`);
    }
    if (rec.State.Running) {
      const exited = this.waiters.add(rec.Id, 'next-exit');
      rec.ManuallyStopped = true;
      await this.signal(rec, 'SIGKILL').catch(() => undefined);
      if (rec.State.Paused) await this.deps.runtime.resume(rec.Id).catch(() => undefined);
      lap('killed');
      if (!(await raceTimeout(exited, 15_000))) log.warn('containers', 'container did not die after SIGKILL; removing anyway', { id: rec.Id });
      lap('exit seen');
    }
    this.restarts.cancel(rec.Id);
    await this.lock.run(rec.Id, () => this.removeLocked(rec, { force: !!opts.force, volumes: !!opts.volumes }));
    lap('removed');
  }

  private async removeLocked(rec: ContainerRecord, opts: { force: boolean; volumes: boolean }): Promise<void> {
    if (!this.deps.store.find(rec.Id)) return;
    rec.State.Status = 'removing';
    // The record on disk says 'removing' until its files go: a removal cut
    // short by a crash is finished at the next start (reconcile).
    await this.deps.store.saveState(rec);
    this.deps.store.forget(rec.Id);
    // What clients can see goes first (network endpoint, anonymous volumes);
    // then `wait?condition=removed` returns, so `run --rm` does not wait for
    // the runtime state, mount and layer to go.
    await this.deps.network?.release(rec.Id).catch((err) => log.warn('containers', 'network release failed', { id: rec.Id, error: errorMessage(err) }));
    if (opts.volumes) await this.deps.volumes?.releaseAnonymous(rec.Mounts ?? [], rec.Id).catch((err) => log.warn('containers', 'releasing volumes failed', { id: rec.Id, error: errorMessage(err) }));
    this.emit(rec, 'destroy');
    this.waiters.resolve(rec.Id, ['next-exit', 'not-running', 'removed'], rec.State.ExitCode);
    log.debug('containers', 'remove: gone for clients', { id: rec.Id.slice(0, 12) });
    // The rest (runtime state, mount, layer, files) nobody can see any more:
    // it finishes after the answer. If it fails or the daemon dies first, the
    // record on disk still says 'removing' and the next start finishes it.
    this.background.run(rec.Id, 'removing the container layer', async () => {
      if (!this.released.has(rec.Id)) await this.releaseRun(rec.Id, false);
      this.released.delete(rec.Id);
      await this.deps.rootfs.removeContainerLayer(rec.Id);
      await this.deps.store.delete(rec.Id);
      log.debug('containers', 'remove: files gone', { id: rec.Id.slice(0, 12) });
    });
  }

  /**
   * Resolves once cleanup still running after earlier answers (released
   * runs, removed containers' layers and files) is done: at daemon shutdown,
   * and for callers that need the disk state settled.
   */
  drain(): Promise<void> {
    return this.background.drain();
  }

  async prune(filter: (c: ContainerRecord) => boolean = () => true): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    for (const rec of this.deps.store.all()) {
      if (rec.State.Running || rec.State.Restarting || !filter(rec)) continue;
      await this.remove(rec.Id).then(() => deleted.push(rec.Id), () => undefined);
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: 0 };
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
      return this.pendingAttach.wait(rec.Id, opts);
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

  emit(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events.publish({
      Type: 'container', Action: action,
      Actor: { ID: rec.Id, Attributes: { ...(rec.Config.Labels ?? {}), image: rec.Config.Image ?? rec.Image, name: rec.Name.slice(1), ...extra } },
    });
  }
}
