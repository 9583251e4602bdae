import { randomBytes } from 'node:crypto';
import type {
  BuildRequest, ComposeEngine, ContainerInspect, ContainerSummary, CreateContainerBody, CreateNetworkBody, CreateVolumeBody,
  EndpointSettings, ExecRequest, Filters, LogLine, NetworkSummary, VolumeSummary,
} from '../engine.js';
import { Conflict, NotFound } from '../../common/errors.js';

interface FakeContainer {
  id: string;
  name: string;
  body: CreateContainerBody;
  state: 'created' | 'running' | 'paused' | 'exited';
  exitCode: number;
  created: number;
  /** `anonymous`: created with the container (from `Volumes`), so `rm -v` takes it. */
  volumes: { name: string; dest: string; anonymous: boolean }[];
  networks: string[];
}

/**
 * An in-memory engine for compose's tests: it keeps containers, networks,
 * volumes and images as the daemon would, enforces unique names, and
 * records every mutating call in `calls` (`create app-web-1`,
 * `start app-web-1`, ...) so tests can check order.
 *
 *   const engine = new FakeEngine({ images: ['busybox'] });
 */
export class FakeEngine implements ComposeEngine {
  readonly calls: string[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, CreateNetworkBody & { Id: string }>();
  readonly volumes = new Map<string, CreateVolumeBody>();
  /** Image references and their IDs; a build or pull gives a new ID. */
  readonly images = new Map<string, string>();
  /** Log lines each container name prints. */
  readonly logLines = new Map<string, string[]>();
  /** Health reported for containers with a healthcheck. */
  health: 'healthy' | 'unhealthy' | 'starting' = 'healthy';
  private nextPort = 32768;

  constructor(opts: { images?: string[] } = {}) {
    for (const i of opts.images ?? []) this.images.set(normalizeRef(i), newImageId());
  }

  private find(ref: string): FakeContainer {
    const c = this.containers.get(ref) ?? [...this.containers.values()].find((x) => x.name === ref || x.id.startsWith(ref));
    if (!c) throw new NotFound(`No such container: ${ref}`);
    return c;
  }

  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name);
  }

  async listContainers(filters: Filters, all: boolean): Promise<ContainerSummary[]> {
    return [...this.containers.values()]
      .filter((c) => all || c.state === 'running' || c.state === 'paused')
      .filter((c) => (filters.label ?? []).every((f) => {
        const [k, v] = f.split('=');
        const labels = c.body.Labels ?? {};
        return v === undefined ? k in labels : labels[k] === v;
      }))
      .map((c) => this.summary(c));
  }

  private summary(c: FakeContainer): ContainerSummary {
    const ports: ContainerSummary['Ports'] = [];
    for (const [key, bindings] of Object.entries(c.body.HostConfig.PortBindings ?? {})) {
      const [p, type] = key.split('/');
      for (const b of bindings ?? []) {
        ports.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(p), PublicPort: Number(b.HostPort || 0) || this.nextPort++, Type: type });
      }
    }
    for (const key of Object.keys(c.body.ExposedPorts ?? {})) {
      const [p, type] = key.split('/');
      if (!ports.some((x) => x.PrivatePort === Number(p))) ports.push({ PrivatePort: Number(p), Type: type });
    }
    return {
      Id: c.id, Names: [`/${c.name}`], Image: c.body.Image ?? '', Command: [...(c.body.Entrypoint ?? []), ...(c.body.Cmd ?? [])].join(' '),
      Created: c.created, State: c.state,
      Status: c.state === 'running' ? 'Up 2 seconds' : c.state === 'exited' ? `Exited (${c.exitCode}) 1 second ago` : c.state === 'paused' ? 'Up 2 seconds (Paused)' : 'Created',
      Ports: c.state === 'running' ? ports : [], Labels: { ...(c.body.Labels ?? {}) },
    };
  }

  async inspectContainer(id: string): Promise<ContainerInspect> {
    const c = this.find(id);
    return {
      Id: c.id, Name: `/${c.name}`, Config: c.body,
      State: { Status: c.state, Running: c.state === 'running', ExitCode: c.exitCode, ...(c.body.Healthcheck?.Test ? { Health: { Status: this.health } } : {}) },
      Mounts: c.volumes.map((v) => ({ Type: 'volume', Name: v.name, Source: `/var/lib/berth/volumes/${v.name}/_data`, Destination: v.dest })),
    };
  }

  async createContainer(name: string, body: CreateContainerBody): Promise<{ Id: string }> {
    const taken = this.byName(name);
    if (taken) throw new Conflict(`Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    if (!this.images.has(normalizeRef(body.Image ?? ''))) throw new NotFound(`No such image: ${body.Image}`);
    const net = body.HostConfig.NetworkMode ?? 'bridge';
    if (!['bridge', 'host', 'none', 'default'].includes(net) && !net.startsWith('container:') && !this.networks.has(net)) throw new NotFound(`network ${net} not found`);
    const id = randomBytes(32).toString('hex');
    const volumes: FakeContainer['volumes'] = [];
    for (const b of body.HostConfig.Binds ?? []) {
      const [src, dest] = b.split(':');
      if (!src.startsWith('/')) {
        if (!this.volumes.has(src)) this.volumes.set(src, { Name: src, Labels: {} });
        volumes.push({ name: src, dest, anonymous: false });
      }
    }
    for (const dest of Object.keys(body.Volumes ?? {})) {
      const v = randomBytes(32).toString('hex');
      this.volumes.set(v, { Name: v, Labels: {} });
      volumes.push({ name: v, dest, anonymous: true });
    }
    this.containers.set(id, { id, name, body: structuredClone(body), state: 'created', exitCode: 0, created: Math.floor(Date.now() / 1000), volumes, networks: [net] });
    this.calls.push(`create ${name}`);
    return { Id: id };
  }

  async startContainer(id: string): Promise<void> {
    const c = this.find(id);
    c.state = 'running';
    this.calls.push(`start ${c.name}`);
  }

  async stopContainer(id: string, t?: number): Promise<void> {
    const c = this.find(id);
    if (c.state === 'running' || c.state === 'paused') { c.state = 'exited'; c.exitCode = 0; }
    this.calls.push(`stop ${c.name}${t !== undefined ? ` t=${t}` : ''}`);
  }

  async restartContainer(id: string): Promise<void> {
    const c = this.find(id);
    c.state = 'running';
    this.calls.push(`restart ${c.name}`);
  }

  async killContainer(id: string, signal?: string): Promise<void> {
    const c = this.find(id);
    c.state = 'exited';
    c.exitCode = 137;
    this.calls.push(`kill ${c.name} ${signal ?? ''}`.trim());
  }

  async pauseContainer(id: string): Promise<void> { const c = this.find(id); c.state = 'paused'; this.calls.push(`pause ${c.name}`); }
  async unpauseContainer(id: string): Promise<void> { const c = this.find(id); c.state = 'running'; this.calls.push(`unpause ${c.name}`); }

  async removeContainer(id: string, opts: { v?: boolean; force?: boolean }): Promise<void> {
    const c = this.find(id);
    if (c.state === 'running' && !opts.force) throw new Conflict(`You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`);
    this.containers.delete(c.id);
    // Like the daemon, -v removes only the anonymous volumes this container created.
    if (opts.v) for (const v of c.volumes) if (v.anonymous) this.volumes.delete(v.name);
    this.calls.push(`rm ${c.name}${opts.v ? ' -v' : ''}`);
  }

  async renameContainer(id: string, name: string): Promise<void> {
    const c = this.find(id);
    this.calls.push(`rename ${c.name} ${name}`);
    c.name = name;
  }

  async waitContainer(id: string): Promise<number> {
    const c = this.find(id);
    c.state = 'exited';
    return c.exitCode;
  }

  /** With `follow`, keep a log stream open while its container runs (as the daemon does); off by default. */
  followUntilStopped = false;

  async *logs(id: string, opts: { follow?: boolean } = {}): AsyncIterable<LogLine> {
    const c = this.find(id);
    for (const text of this.logLines.get(c.name) ?? []) yield { stream: 'stdout', text };
    while (opts.follow && this.followUntilStopped && (c.state === 'running' || c.state === 'paused')) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async top(id: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    this.find(id);
    return { Titles: ['PID', 'USER', 'COMMAND'], Processes: [['1', 'root', 'sleep 1000']] };
  }

  async listNetworks(filters: Filters): Promise<NetworkSummary[]> {
    return [...this.networks.values()].filter((n) => !filters.name || filters.name.some((x) => n.Name.includes(x)))
      .map((n) => ({ Id: n.Id, Name: n.Name, Labels: n.Labels }));
  }

  async createNetwork(body: CreateNetworkBody): Promise<{ Id: string }> {
    if (this.networks.has(body.Name)) throw new Conflict(`network with name ${body.Name} already exists`);
    const Id = randomBytes(32).toString('hex');
    this.networks.set(body.Name, { ...body, Id });
    this.calls.push(`network create ${body.Name}`);
    return { Id };
  }

  async removeNetwork(id: string): Promise<void> {
    const n = [...this.networks.values()].find((x) => x.Id === id || x.Name === id);
    if (!n) throw new NotFound(`network ${id} not found`);
    if ([...this.containers.values()].some((c) => c.networks.includes(n.Name))) throw new Conflict(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    this.networks.delete(n.Name);
    this.calls.push(`network rm ${n.Name}`);
  }

  async connectNetwork(network: string, container: string, _e: EndpointSettings): Promise<void> {
    const c = this.find(container);
    if (!this.networks.has(network)) throw new NotFound(`network ${network} not found`);
    c.networks.push(network);
    this.calls.push(`network connect ${network} ${c.name}`);
  }

  async listVolumes(filters: Filters): Promise<VolumeSummary[]> {
    return [...this.volumes.values()].filter((v) => !filters.name || filters.name.some((x) => v.Name.includes(x)))
      .map((v) => ({ Name: v.Name, Labels: v.Labels }));
  }

  async createVolume(body: CreateVolumeBody): Promise<VolumeSummary> {
    this.volumes.set(body.Name, body);
    this.calls.push(`volume create ${body.Name}`);
    return { Name: body.Name, Labels: body.Labels };
  }

  async removeVolume(name: string): Promise<void> {
    if (!this.volumes.has(name)) throw new NotFound(`get ${name}: no such volume`);
    if ([...this.containers.values()].some((c) => c.volumes.some((v) => v.name === name))) throw new Conflict(`remove ${name}: volume is in use`);
    this.volumes.delete(name);
    this.calls.push(`volume rm ${name}`);
  }

  async inspectImage(ref: string): Promise<{ Id: string; Size: number } | undefined> {
    const id = this.images.get(normalizeRef(ref));
    return id ? { Id: id, Size: 1_234_567 } : undefined;
  }

  async pullImage(ref: string): Promise<void> {
    this.images.set(normalizeRef(ref), newImageId());
    this.calls.push(`pull ${ref}`);
  }

  async pushImage(ref: string): Promise<void> { this.calls.push(`push ${ref}`); }

  async removeImage(ref: string): Promise<void> {
    this.images.delete(normalizeRef(ref));
    this.calls.push(`rmi ${ref}`);
  }

  async buildImage(opts: BuildRequest): Promise<void> {
    this.images.set(normalizeRef(opts.tag), newImageId());
    this.calls.push(`build ${opts.tag}`);
  }

  async exec(id: string, opts: ExecRequest): Promise<number> {
    const c = this.find(id);
    this.calls.push(`exec ${c.name} ${opts.cmd.join(' ')}`);
    return 0;
  }

  async runAttached(id: string): Promise<number> {
    const c = this.find(id);
    c.state = 'exited';
    this.calls.push(`run ${c.name}`);
    return 0;
  }
}

function newImageId(): string {
  return `sha256:${randomBytes(32).toString('hex')}`;
}

function normalizeRef(ref: string): string {
  const last = ref.split('/').pop() ?? '';
  return last.includes(':') ? ref : `${ref}:latest`;
}
