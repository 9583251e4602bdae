import type { Project } from './model.js';
import type { ComposeEngine, ContainerSummary, CreateContainerBody } from './engine.js';
import { endpointFor, L, primaryNetwork, imageName } from './container-spec.js';
import { buildImages, ensureImages, ensureNetworks, ensureVolumes } from './resources.js';
import { containersByService, findOrphans, nameOf, planUp, selectedServices, stopOrder, type Action, type ServicePlan, type UpOptions } from './plan.js';
import { Progress, type Verb } from './progress.js';
import { streamLogs } from './logs.js';
import { dependencyLevels } from './validate.js';
import { Conflict, InvalidArgument, NotFound } from '../common/errors.js';

/** Where a command's output goes, and how it asks the user (`rm` without `-f`). */
export interface ComposeIO {
  out(text: string): void;
  err(text: string): void;
  confirm?(question: string): Promise<boolean>;
  /** Registers a Ctrl-C handler for attached `up`; returns its remover. */
  onInterrupt?(handler: () => void): () => void;
}

export interface UpRunOptions extends UpOptions {
  detach?: boolean;
  build?: boolean;
  noBuild?: boolean;
  noStart?: boolean;
  removeOrphans?: boolean;
  /** Seconds to wait for a stop before killing. */
  timeout?: number;
  abortOnContainerExit?: boolean;
  exitCodeFrom?: string;
  noColor?: boolean;
  /** Say nothing about containers left as they were (`scale`). */
  quietUnchanged?: boolean;
  /** How often health is polled for `condition: service_healthy`, in ms. */
  healthPollMs?: number;
}

/**
 * Drives one project against an engine: `up`, `down`, `start`, `stop`,
 * `restart`, `kill`, `pause`, `unpause`, `rm`, `scale`. State lives only in
 * the engine, as labels on what compose created; every command lists the
 * project's containers first and acts on the difference.
 *
 *   const runner = new ComposeRunner(engine, loadProject({ cwd }), io);
 *   await runner.up({ detach: true });
 *   await runner.down({ volumes: true });
 */
export class ComposeRunner {
  readonly progress: Progress;

  constructor(readonly engine: ComposeEngine, readonly project: Project, readonly io: ComposeIO) {
    this.progress = new Progress(project.legacy ? 'v1' : 'v2', (t) => io.err(t));
  }

  /** The project's containers, one-offs only if asked. */
  async containers(opts: { all?: boolean; oneoff?: boolean; services?: string[] } = {}): Promise<ContainerSummary[]> {
    const list = await this.engine.listContainers({ label: [`${L.project}=${this.project.name}`] }, opts.all ?? true);
    return list.filter((c) => (opts.oneoff || c.Labels[L.oneoff] !== 'True')
      && (!opts.services?.length || opts.services.includes(c.Labels[L.service])));
  }

  /** Checks service names given on the command line. */
  checkServices(services: string[] | undefined): void {
    for (const s of services ?? []) {
      if (!this.project.services[s]) throw new NotFound(`no such service: ${s}`);
    }
  }

  async up(opts: UpRunOptions = {}): Promise<number> {
    this.checkServices(opts.services);
    if (opts.exitCodeFrom) opts.abortOnContainerExit = true;
    if (opts.detach && opts.abortOnContainerExit) throw new InvalidArgument('--abort-on-container-exit and --detach are incompatible');
    if (opts.forceRecreate && opts.noRecreate) throw new InvalidArgument('--force-recreate and --no-recreate are incompatible');
    if (opts.build && opts.noBuild) throw new InvalidArgument('--build and --no-build are incompatible');
    for (const [name, n] of Object.entries(opts.scale ?? {})) {
      this.checkServices([name]);
      if (n > 1 && this.project.services[name].container_name) {
        throw new InvalidArgument(`service "${name}" has container_name "${this.project.services[name].container_name}": it cannot be scaled to ${n}`);
      }
    }
    // Listing the project and looking up images are independent round trips.
    const selected = selectedServices(this.project, opts);
    const [existing, imageIds] = await Promise.all([this.containers(), this.ensureImages(selected, opts)]);
    // Image IDs decide whether a rebuilt or re-pulled service is recreated.
    const plan = planUp(this.project, existing, { ...opts, imageIds });
    await this.handleOrphans(plan.orphans, !!opts.removeOrphans, opts.timeout);
    await Promise.all([this.ensureNetworks(plan.networks), this.ensureVolumes(plan.volumes)]);
    // New containers are created a level ahead of starting: creating one needs
    // only that what it links to exists, so a service's containers are made
    // while the services it depends on are still starting.
    const created: Promise<Map<string, string>>[] = [];
    let previous: Promise<unknown> = Promise.resolve();
    for (const level of plan.levels) {
      const ids = previous.then(() => Promise.all(level.map((sp) => this.createNew(sp)))).then((m) => new Map(m.flat()));
      ids.catch(() => undefined); // awaited below; a failure must not surface as an unhandled rejection meanwhile
      created.push(ids);
      previous = ids;
    }
    for (const [i, level] of plan.levels.entries()) {
      const ids = await created[i];
      await Promise.all(level.map(async (sp) => {
        if (!opts.noStart) await this.waitForDependencies(sp.service, opts.healthPollMs ?? 500);
        await Promise.all(sp.actions.filter((a) => a.kind !== 'remove').map((a) => this.apply(a, opts, ids.get(a.name))));
        await Promise.all(sp.actions.filter((a) => a.kind === 'remove').map((a) => this.apply(a, opts)));
      }));
    }
    if (opts.detach || opts.noStart) return 0;
    return this.attach(plan.levels.flat().map((p) => p.service), opts);
  }

  /** Creates a service's new containers in number order; resolves with name → ID. */
  private async createNew(sp: ServicePlan): Promise<[string, string][]> {
    const out: [string, string][] = [];
    for (const a of sp.actions) {
      if (a.kind !== 'create') continue;
      out.push([a.name, await this.create(a.name, a.body, a.service)]);
      this.progress.done('Container', a.name, 'Created');
    }
    return out;
  }

  /** Carries out one action; a `create` whose container `createNew` already made gets its ID. */
  private async apply(a: Action, opts: UpRunOptions, createdId?: string): Promise<void> {
    const p = this.progress;
    const start = async (id: string, verb: Verb | undefined) => {
      if (opts.noStart) return;
      await this.engine.startContainer(id);
      if (verb) p.done('Container', a.name, verb);
    };
    switch (a.kind) {
      case 'create': {
        let id = createdId;
        if (!id) {
          id = await this.create(a.name, a.body, a.service);
          p.done('Container', a.name, 'Created');
        }
        await start(id, p.style === 'v2' ? 'Started' : undefined);
        return;
      }
      case 'recreate': {
        const body = await this.carryAnonymousVolumes(a.old, a.body);
        if (a.old.State === 'running' || a.old.State === 'paused') await this.engine.stopContainer(a.old.Id, opts.timeout);
        // Out of the way first: the new container takes the same name.
        await this.engine.renameContainer(a.old.Id, `${a.old.Id.slice(0, 12)}_${a.name}`);
        let id: string;
        try {
          id = await this.create(a.name, body, a.service);
        } catch (err) {
          // Put the old container back as it was, so a failed recreate loses nothing.
          await this.engine.renameContainer(a.old.Id, a.name).catch(() => undefined);
          if (a.old.State === 'running') await this.engine.startContainer(a.old.Id).catch(() => undefined);
          throw err;
        }
        await this.engine.removeContainer(a.old.Id, { force: true });
        p.done('Container', a.name, 'Recreated');
        await start(id, p.style === 'v2' ? 'Started' : undefined);
        return;
      }
      case 'start':
        await start(a.container.Id, 'Started');
        return;
      case 'keep':
        if (!opts.quietUnchanged) p.done('Container', a.name, 'Running');
        return;
      case 'remove':
        if (a.container.State === 'running' || a.container.State === 'paused') await this.engine.stopContainer(a.container.Id, opts.timeout);
        await this.engine.removeContainer(a.container.Id, { force: true });
        p.done('Container', a.name, 'Downscaled');
    }
  }

  /** Creates a container and joins it to the service's other networks. */
  async create(name: string, body: CreateContainerBody, service: string): Promise<string> {
    const { Id } = await this.engine.createContainer(name, body);
    const s = this.project.services[service];
    if (s && !s.network_mode) {
      const primary = primaryNetwork(s);
      for (const key of Object.keys(s.networks).sort()) {
        if (key === primary) continue;
        const primaryEndpoint = Object.values(body.NetworkingConfig?.EndpointsConfig ?? {})[0];
        await this.engine.connectNetwork(this.project.networks[key].name, Id,
          endpointFor(s, key, { name, links: primaryEndpoint?.Links, oneoff: body.Labels?.[L.oneoff] === 'True' }));
      }
    }
    return Id;
  }

  /** A recreated container keeps the data of its anonymous volumes, as compose does. */
  private async carryAnonymousVolumes(old: ContainerSummary, body: CreateContainerBody): Promise<CreateContainerBody> {
    if (!body.Volumes || Object.keys(body.Volumes).length === 0) return body;
    const info = await this.engine.inspectContainer(old.Id);
    const volumes = { ...body.Volumes };
    const binds = [...(body.HostConfig.Binds ?? [])];
    for (const m of info.Mounts ?? []) {
      if (m.Type !== 'volume' || !m.Name || !(m.Destination in volumes)) continue;
      binds.push(`${m.Name}:${m.Destination}:rw`);
      delete volumes[m.Destination];
    }
    return { ...body, Volumes: volumes, HostConfig: { ...body.HostConfig, Binds: binds } };
  }

  private async handleOrphans(orphans: ContainerSummary[], remove: boolean, timeout?: number): Promise<void> {
    if (orphans.length === 0) return;
    if (!remove) {
      this.progress.note(`Found orphan containers ([${orphans.map(nameOf).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
      return;
    }
    for (const c of orphans) {
      if (c.State === 'running') {
        await this.engine.stopContainer(c.Id, timeout);
        this.progress.done('Container', nameOf(c), 'Stopped');
      }
      await this.engine.removeContainer(c.Id, { force: true });
      this.progress.done('Container', nameOf(c), 'Removed');
    }
  }

  ensureNetworks(keys: string[]): Promise<void> {
    return ensureNetworks(this.engine, this.project, this.progress, keys);
  }

  ensureVolumes(keys: string[]): Promise<void> {
    return ensureVolumes(this.engine, this.project, this.progress, keys);
  }

  /** Builds what must be built and pulls what is missing, before any container is created. */
  ensureImages(services: string[], opts: { build?: boolean; noBuild?: boolean }): Promise<Record<string, string>> {
    return ensureImages(this.engine, this.project, this.progress, services, opts, (t) => this.io.err(t));
  }

  build(services: string[], opts: { noCache?: boolean; pull?: boolean } = {}): Promise<void> {
    return buildImages(this.engine, this.project, this.progress, services, opts, (t) => this.io.err(t));
  }

  /** Honours `depends_on` conditions before a service starts. */
  private async waitForDependencies(service: string, pollMs: number): Promise<void> {
    const deps = this.project.services[service].depends_on;
    for (const [dep, d] of Object.entries(deps)) {
      if (d.condition === 'service_started' || !this.project.services[dep]) continue;
      for (const c of await this.containers({ services: [dep] })) {
        const name = nameOf(c);
        if (d.condition === 'service_completed_successfully') {
          const code = await this.engine.waitContainer(c.Id);
          if (code !== 0) throw new Conflict(`service "${dep}" didn't complete successfully: exit ${code}`);
          this.progress.done('Container', name, 'Exited');
          continue;
        }
        for (;;) {
          const info = await this.engine.inspectContainer(c.Id);
          if (!info.State.Health) throw new Conflict(`container ${name} has no healthcheck configured`);
          if (info.State.Health.Status === 'healthy') break;
          if (info.State.Health.Status === 'unhealthy' || !info.State.Running) {
            throw new Conflict(`dependency failed to start: container ${name} is ${info.State.Running ? 'unhealthy' : 'not running'}`);
          }
          await new Promise((r) => setTimeout(r, pollMs));
        }
        this.progress.done('Container', name, 'Healthy');
      }
    }
  }

  /** Attached `up`: every service's logs until all exit or Ctrl-C (which stops them). */
  private async attach(services: string[], opts: UpRunOptions): Promise<number> {
    const containers = await this.containers({ services });
    this.io.out(`Attaching to ${containers.map(nameOf).join(', ')}\n`);
    let stopping: Promise<void> | undefined;
    let exitCode = 0;
    const stopAll = () => (stopping ??= this.stop(services, opts.timeout));
    const remove = this.io.onInterrupt?.(() => {
      this.io.err('Gracefully stopping... (press Ctrl+C again to force)\n');
      void stopAll();
    });
    const exits: Promise<void>[] = [];
    try {
      await streamLogs(this.engine, containers, { follow: true, noColor: opts.noColor, legacy: this.project.legacy },
        (t) => this.io.out(t), (c) => exits.push((async () => {
          const code = (await this.engine.inspectContainer(c.Id)).State.ExitCode;
          this.io.out(`${nameOf(c)} exited with code ${code}\n`);
          if (!opts.abortOnContainerExit || stopping) return;
          if (!opts.exitCodeFrom || opts.exitCodeFrom === c.Labels[L.service]) exitCode = code;
          this.io.err('Aborting on container exit...\n');
          await stopAll();
        })()));
      await Promise.all(exits);
      if (stopping) await stopping;
      if (opts.exitCodeFrom) {
        const c = containers.find((x) => x.Labels[L.service] === opts.exitCodeFrom);
        if (c) exitCode = (await this.engine.inspectContainer(c.Id)).State.ExitCode;
      }
    } finally {
      remove?.();
    }
    return exitCode;
  }

  async down(opts: { volumes?: boolean; removeOrphans?: boolean; timeout?: number; rmi?: 'all' | 'local' } = {}): Promise<void> {
    const all = await this.containers({ oneoff: true });
    const orphans = new Set(findOrphans(this.project, all).map((c) => c.Id));
    if (orphans.size && !opts.removeOrphans) await this.handleOrphans(all.filter((c) => orphans.has(c.Id)), false);
    const targets = all.filter((c) => opts.removeOrphans || !orphans.has(c.Id));
    // Dependents stop before what they depend on; a stopped container is
    // removed while the next group stops.
    const removals: Promise<void>[] = [];
    for (const group of stopOrder(this.project, targets)) {
      await Promise.all(group.map(async (c) => {
        if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
          await this.engine.stopContainer(c.Id, opts.timeout);
          this.progress.done('Container', nameOf(c), 'Stopped');
        }
        const removed = this.removeStopped(c, !!opts.volumes);
        removed.catch(() => undefined); // awaited below
        removals.push(removed);
      }));
    }
    await Promise.all(removals);
    await Promise.all([
      ...Object.keys(this.project.networks).sort().map(async (key) => {
        const n = this.project.networks[key];
        if (n.external) return;
        const found = (await this.engine.listNetworks({ name: [n.name] })).find((x) => x.Name === n.name);
        if (!found) return;
        await this.engine.removeNetwork(found.Id);
        this.progress.done('Network', n.name, 'Removed');
      }),
      ...(opts.volumes ? Object.keys(this.project.volumes).sort() : []).map(async (key) => {
        const v = this.project.volumes[key];
        if (v.external) return;
        const found = (await this.engine.listVolumes({ name: [v.name] })).find((x) => x.Name === v.name);
        if (!found) return;
        await this.engine.removeVolume(v.name);
        this.progress.done('Volume', v.name, 'Removed');
      }),
    ]);
    if (opts.rmi) {
      for (const s of Object.values(this.project.services)) {
        if (opts.rmi === 'local' && s.image) continue;
        const ref = imageName(this.project, s);
        if (!(await this.engine.inspectImage(ref))) continue;
        await this.engine.removeImage(ref);
        this.progress.done('Image', ref, 'Removed');
      }
    }
  }

  async start(services?: string[]): Promise<void> {
    this.checkServices(services);
    const byService = containersByService(await this.containers({ services }));
    const names = services?.length ? services : Object.keys(this.project.services);
    for (const s of names) if (!byService.get(s)?.length && services?.length) throw new NotFound(`service "${s}" has no container to start`);
    for (const level of dependencyLevels(this.project.services, names.filter((s) => byService.has(s)))) {
      await Promise.all(level.map(async (s) => {
        for (const c of byService.get(s) ?? []) {
          if (c.State === 'running') continue;
          await this.engine.startContainer(c.Id);
          if (this.progress.style === 'v2') this.progress.done('Container', nameOf(c), 'Started');
        }
        // docker-compose 1.x reported `start` per service.
        if (this.progress.style === 'v1') this.progress.done('Container', s, 'Started');
      }));
    }
  }

  async stop(services?: string[], timeout?: number): Promise<void> {
    this.checkServices(services);
    for (const group of stopOrder(this.project, await this.containers({ services }), services)) {
      await Promise.all(group.filter((c) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting').map(async (c) => {
        await this.engine.stopContainer(c.Id, timeout);
        this.progress.done('Container', nameOf(c), 'Stopped');
      }));
    }
  }

  async restart(services?: string[], timeout?: number): Promise<void> {
    this.checkServices(services);
    const byService = containersByService(await this.containers({ services }));
    for (const level of dependencyLevels(this.project.services, [...byService.keys()].filter((s) => this.project.services[s]))) {
      await Promise.all(level.flatMap((s) => byService.get(s)!).map(async (c) => {
        await this.engine.restartContainer(c.Id, timeout);
        this.progress.done('Container', nameOf(c), 'Restarted');
      }));
    }
  }

  async kill(services?: string[], signal = 'SIGKILL'): Promise<void> {
    this.checkServices(services);
    const running = (await this.containers({ services })).filter((c) => c.State === 'running');
    if (running.length === 0) throw new NotFound('no container to kill');
    await Promise.all(running.map(async (c) => {
      await this.engine.killContainer(c.Id, signal);
      this.progress.done('Container', nameOf(c), 'Killed');
    }));
  }

  async pause(services?: string[], unpause = false): Promise<void> {
    this.checkServices(services);
    const want = unpause ? 'paused' : 'running';
    for (const c of (await this.containers({ services })).filter((x) => x.State === want)) {
      await (unpause ? this.engine.unpauseContainer(c.Id) : this.engine.pauseContainer(c.Id));
      this.progress.done('Container', nameOf(c), unpause ? 'Unpaused' : 'Paused');
    }
  }

  /** Removes stopped containers (`-s` stops them first); asks unless `force`. */
  async rm(services: string[] | undefined, opts: { force?: boolean; stop?: boolean; volumes?: boolean; timeout?: number } = {}): Promise<void> {
    this.checkServices(services);
    if (opts.stop) await this.stop(services, opts.timeout);
    const stopped = (await this.containers({ services })).filter((c) => c.State !== 'running' && c.State !== 'paused' && c.State !== 'restarting');
    if (stopped.length === 0) {
      this.io.err('No stopped containers\n');
      return;
    }
    if (!opts.force) {
      const names = stopped.map(nameOf).join(', ');
      const ok = this.io.confirm ? await this.io.confirm(`Going to remove ${names}\nAre you sure? [yN] `) : false;
      if (!ok) return;
    }
    for (const c of stopped) {
      const anonymous = opts.volumes ? await this.anonymousVolumes(c) : [];
      await this.engine.removeContainer(c.Id, { v: !!opts.volumes, force: true });
      this.progress.done('Container', nameOf(c), 'Removed');
      await this.removeVolumesQuietly(anonymous);
    }
  }

  /** Removes a stopped container, with its anonymous volumes if asked. */
  private async removeStopped(c: ContainerSummary, volumes: boolean): Promise<void> {
    const anonymous = volumes ? await this.anonymousVolumes(c) : [];
    await this.engine.removeContainer(c.Id, { v: volumes, force: true });
    this.progress.done('Container', nameOf(c), 'Removed');
    await this.removeVolumesQuietly(anonymous);
  }

  /**
   * Anonymous volumes a container uses. A recreated container mounts its
   * predecessor's by name, which the engine's `rm -v` then leaves behind.
   */
  private async anonymousVolumes(c: ContainerSummary): Promise<string[]> {
    const info = await this.engine.inspectContainer(c.Id);
    const named = new Set(Object.values(this.project.volumes).map((v) => v.name));
    return (info.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name && /^[0-9a-f]{64}$/.test(m.Name) && !named.has(m.Name)).map((m) => m.Name!);
  }

  private async removeVolumesQuietly(names: string[]): Promise<void> {
    for (const n of names) {
      // Already gone with the container, or shared with another: both are fine.
      await this.engine.removeVolume(n).catch(() => undefined);
    }
  }

  /** `scale web=3`: adds or removes containers of those services, leaving the rest alone. */
  async scale(counts: Record<string, number>, timeout?: number): Promise<void> {
    await this.up({ services: Object.keys(counts), scale: counts, noDeps: true, noRecreate: true, detach: true, timeout, quietUnchanged: true });
  }
}
