import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument } from '../../common/errors.js';
import { log } from '../../common/log.js';
import type { BridgeDriver } from './bridge.js';
import type { NetworkDns } from './dns.js';
import { hostsFile, parseResolvConf, resolvConfFile } from './files.js';
import type { PreparedIp } from './ip.js';
import { allocate, isValidMac, macForIp, release, type AddressPool } from './ipam.js';
import { NETNS_DIR, type Netns, type PrewiredVeth } from './netns.js';
import type { PortManager } from './port-manager.js';
import type { PortMap } from './ports.js';
import { dnsNames, mtuOf, type ContainerNetRecord, type EndpointRecord, type NetworkRecord, type NetworkStore } from './records.js';
import { networkSettingsView } from './views.js';

/**
 * The container side of networking: a container's namespace, its endpoints
 * on networks, its published ports, and what it sees (NetworkSettings, the
 * PORTS column, /etc/hosts and resolv.conf). The networks themselves, and
 * the lock all changes go through, belong to NetworkService (service.ts),
 * which hands this class its state and forwards its public calls here.
 *
 *   const ep = new ContainerEndpoints(state);
 *   const nsPath = await ep.createNetns(id, 'web', { forDefaultBridge: true });
 *   await ep.connect(id, { name: 'web', network: 'bridge' });
 *   await ep.publish(id, { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } });
 *   await ep.ready(id);
 *   await ep.releaseContainer(id);
 */
export interface ConnectOptions {
  /** Network name or ID. */
  network: string;
  /** The container's name (DNS and inspect). */
  name: string;
  aliases?: string[];
  ip?: string;
  mac?: string;
}

export interface PublishOptions { PortBindings?: PortMap; ExposedPorts?: Record<string, unknown>; PublishAllPorts?: boolean }

export interface ContainerFilesOptions {
  hostname: string; domainname?: string; extraHosts?: string[]; links?: { name: string; alias: string }[];
  dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[];
}

/** An entry of the `Ports` array of GET /containers/json. */
export interface ListedPort { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }

/** What NetworkService shares with its container side. */
export interface NetworkState {
  readonly networks: Map<string, NetworkRecord>;
  readonly pools: Map<string, AddressPool>;
  readonly dns: Map<string, { server: NetworkDns; port: number }>;
  readonly store: NetworkStore;
  readonly bridge: BridgeDriver;
  readonly ports: PortManager;
  readonly netns: Netns;
  /** Where the host's resolvers are read from. */
  readonly resolvConf: string;
  /** Runs a state change alone (see NetworkService.locked). */
  locked<T>(fn: () => Promise<T>): Promise<T>;
  find(ref: string): NetworkRecord;
}

export class ContainerEndpoints {
  readonly containers = new Map<string, ContainerNetRecord>();
  /**
   * Containers between createNetns and ready(): their record is written once,
   * by ready(), instead of after every step (each write is an fsync). A crash
   * before that leaves an unrecorded namespace, which restore() sweeps.
   */
  readonly settingUp = new Set<string>();
  /** `ip` processes waiting in fresh namespaces for the first attach (see netns.ts), with the veth made ahead if any. */
  private prepared = new Map<string, { ip: PreparedIp; veth?: PrewiredVeth }>();
  /** Interfaces of starting containers still being brought up (see connect); ready() waits for them. */
  private wiring = new Map<string, Promise<void>[]>();
  /** Namespaces and records of released containers still being deleted (see releaseContainer). */
  private releasing = new Map<string, Promise<void>>();

  constructor(private s: NetworkState) {}

  /**
   * Creates the container's persistent netns (loopback up) and returns its path for the OCI spec.
   * `forDefaultBridge`: the first connect will be to the default bridge, so a namespace whose eth0 is already on it will do.
   */
  createNetns(containerId: string, name = containerId.slice(0, 12), o: { forDefaultBridge?: boolean } = {}): Promise<string> {
    return this.s.locked(async () => {
      // A record of the last run still being deleted must not take the new one with it.
      await this.releasing.get(containerId)?.catch(() => {});
      if (this.containers.get(containerId)?.Netns) throw new Conflict(`container ${containerId} already has a network namespace`);
      const warm = await this.s.netns.take(!!o.forDefaultBridge);
      const rec: ContainerNetRecord = { Id: containerId, Name: name.replace(/^\//, ''), Netns: warm.name, Endpoints: [], Ports: [], Exposed: [] };
      this.containers.set(containerId, rec);
      this.settingUp.add(containerId);
      this.prepared.set(containerId, { ip: warm.ip, veth: warm.veth });
      // `--network none` never attaches: let the waiting process go soon.
      setTimeout(() => void this.finishPrepared(containerId), 2000).unref();
      return warm.path;
    });
  }

  /**
   * Waits until the container's namespace is fully set up (loopback up even
   * when nothing was connected, as for `--network none`). Call it after
   * connect/publish and before starting the container's process.
   */
  ready(containerId: string): Promise<void> {
    return this.s.locked(async () => {
      await this.finishPrepared(containerId);
      await this.wired(containerId);
      const c = this.containers.get(containerId);
      if (c && this.settingUp.delete(containerId)) await this.s.store.saveContainer(c);
    });
  }

  /** Waits for the container's interfaces still coming up; the first failure is thrown once all have settled. */
  private async wired(containerId: string): Promise<void> {
    const pending = this.wiring.get(containerId);
    if (!pending) return;
    this.wiring.delete(containerId);
    const failed = (await Promise.allSettled(pending)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Persists a container's record, unless it is still being set up (see settingUp). */
  private async save(c: ContainerNetRecord): Promise<void> {
    if (!this.settingUp.has(c.Id)) await this.s.store.saveContainer(c);
  }

  private async finishPrepared(containerId: string): Promise<void> {
    const p = this.prepared.get(containerId);
    this.prepared.delete(containerId);
    // Not connected after all (`--network none`): a pre-made eth0 goes.
    if (p && !p.ip.used) await p.ip.finish(p.veth ? ['link del eth0'] : []).catch((e) => log.warn('network', 'loopback set-up failed', { container: containerId, error: e.message }));
  }

  /** The path of a container's netns (for `--network container:<id>`), if Berth created one. */
  netnsPath(containerId: string): string | undefined {
    const ns = this.containers.get(containerId)?.Netns;
    return ns ? `${NETNS_DIR}/${ns}` : undefined;
  }

  /**
   * Plugs a container (whose netns exists, see createNetns) into a network:
   * veth, address (`--ip` or the next free), MAC (`--mac-address` or 02:42+IP),
   * default route through the first non-internal network, and DNS names on user networks.
   */
  connect(containerId: string, o: ConnectOptions): Promise<EndpointRecord | undefined> {
    return this.s.locked(async () => {
      const c = this.containers.get(containerId);
      if (!c?.Netns) throw new Conflict(`container ${containerId} has no network namespace to connect`);
      const n = this.s.find(o.network);
      if (n.Driver === 'null') return undefined; // `none`: loopback only, which the attach-free netns already is
      if (n.Driver === 'host') throw new Conflict('container cannot be disconnected from host network or connected to host network');
      if (c.Endpoints.some((e) => e.NetworkId === n.Id)) throw new Conflict(`endpoint with name ${o.name.replace(/^\//, '')} already exists in network ${n.Name}`);
      if (n.Default && (o.ip || o.aliases?.length)) {
        throw new InvalidArgument(o.ip ? 'user specified IP address is supported on user defined networks only' : 'network-scoped alias is supported only for containers in user defined networks');
      }
      if (o.mac && !isValidMac(o.mac)) throw new InvalidArgument(`invalid MAC address: ${o.mac}`);
      const pool = this.s.pools.get(n.Id)!;
      const ip = allocate(pool, o.ip || undefined);
      const mac = o.mac || macForIp(ip);
      const ifname = `eth${[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].find((i) => !c.Endpoints.some((e) => e.IfName === `eth${i}`))}`;
      const hasGateway = c.Endpoints.some((e) => !this.s.networks.get(e.NetworkId)?.Internal);
      const prepared = this.prepared.get(c.Id);
      this.prepared.delete(c.Id);
      const { veth, wired } = this.s.bridge.startAttach({ netns: c.Netns, bridge: n.Bridge!, ifname, ip, subnet: n.Subnet!, gateway: n.Internal || hasGateway ? undefined : n.Gateway, mac, mtu: mtuOf(n) }, prepared?.ip, prepared?.veth);
      const ep: EndpointRecord = {
        NetworkId: n.Id, EndpointId: randomBytes(32).toString('hex'), IPAddress: ip, MacAddress: mac,
        Aliases: (o.aliases ?? []).filter((a) => a), RequestedIp: o.ip || undefined, Veth: veth, IfName: ifname,
      };
      c.Name = o.name.replace(/^\//, '') || c.Name;
      c.Endpoints.push(ep);
      const undo = () => {
        c.Endpoints = c.Endpoints.filter((e) => e !== ep);
        release(pool, ip);
        this.s.dns.get(n.Id)?.server.remove(c.Id);
      };
      const done = wired.then(
        () => { this.s.dns.get(n.Id)?.server.set(c.Id, dnsNames(c, ep), ip); },
        (e) => { undo(); throw e; },
      );
      if (this.settingUp.has(c.Id)) {
        // A starting container: the address and name are settled, the
        // interface comes up while the runtime creates the container;
        // ready() waits for it (see ContainerNetwork.ready).
        done.catch(() => {});
        this.wiring.set(c.Id, [...(this.wiring.get(c.Id) ?? []), done]);
        return ep;
      }
      await done;
      try {
        await this.save(c);
      } catch (e) {
        undo();
        await this.s.bridge.detach(veth).catch(() => {});
        throw e;
      }
      return ep;
    });
  }

  /** Unplugs a running container from one network. */
  disconnect(containerId: string, network: string): Promise<void> {
    return this.s.locked(async () => {
      const n = this.s.find(network);
      const c = this.containers.get(containerId);
      const ep = c?.Endpoints.find((e) => e.NetworkId === n.Id);
      if (!c || !ep) throw new Conflict(`container ${containerId} is not connected to network ${n.Name}`);
      await this.s.bridge.detach(ep.Veth);
      this.s.dns.get(n.Id)?.server.remove(c.Id);
      release(this.s.pools.get(n.Id)!, ep.IPAddress);
      c.Endpoints = c.Endpoints.filter((e) => e !== ep);
      await this.save(c);
    });
  }

  /**
   * Publishes ports (HostConfig.PortBindings, plus every ExposedPorts entry with
   * PublishAllPorts) to the container's first non-internal address. All or
   * nothing: a taken port fails the whole call with nothing programmed.
   */
  publish(containerId: string, o: PublishOptions): Promise<void> {
    return this.s.locked(async () => {
      const c = this.containers.get(containerId);
      if (!c) throw new Conflict(`container ${containerId} has no network namespace`);
      c.Exposed = [...new Set([...Object.keys(o.ExposedPorts ?? {}), ...Object.keys(o.PortBindings ?? {})])];
      const target = c.Endpoints.find((e) => !this.s.networks.get(e.NetworkId)?.Internal);
      if (!target) {
        await this.save(c);
        return; // `none` or internal-only: nothing can be reached, as with Docker
      }
      const taken = [...this.containers.values()].filter((x) => x.Id !== c.Id).flatMap((x) => x.Ports);
      const bound = await this.s.ports.publish(c.Id, o, target.IPAddress, [...taken, ...c.Ports]);
      c.Ports.push(...bound);
      try {
        await this.save(c);
      } catch (e) {
        await this.s.ports.unpublish(c.Id, bound);
        c.Ports = c.Ports.filter((p) => !bound.includes(p));
        throw e;
      }
    });
  }

  /**
   * Undoes everything for a container (stop or remove): ports, DNS names,
   * addresses, veths and its netns. Idempotent. The lock covers the bookkeeping
   * only: deleting the namespace and the record file wait on the `ip` helper
   * and the disk, and a burst of removals (rm -f of 50) used to queue all of
   * that behind one another (the record's unlink alone took 10-40 ms each
   * with the thread pool busy with the containers' own files).
   */
  async releaseContainer(containerId: string): Promise<void> {
    const io = await this.s.locked(async () => {
      const c = this.containers.get(containerId);
      if (!c) return { gone: this.releasing.get(containerId)?.catch(() => {}) };
      // Interfaces still coming up must be done with the namespace before it goes.
      await this.wired(c.Id).catch(() => {});
      if (c.Ports.length) await this.s.ports.unpublish(c.Id, c.Ports);
      for (const ep of c.Endpoints) {
        this.s.dns.get(ep.NetworkId)?.server.remove(c.Id);
        // With our own netns, deleting it takes the veths along (in the kernel's
        // background cleanup, instead of ~15 ms of synchronous `link del` each).
        if (!c.Netns) await this.s.bridge.detach(ep.Veth);
      }
      await this.finishPrepared(c.Id);
      this.containers.delete(c.Id);
      this.settingUp.delete(c.Id);
      const gone: Promise<void> = Promise.all([c.Netns ? this.s.netns.remove(c.Netns) : undefined, this.s.store.removeContainer(c.Id)]).then(() => {}).finally(() => {
        // Addresses go back to the pool once their interfaces are on their way out.
        for (const ep of c.Endpoints) {
          const pool = this.s.pools.get(ep.NetworkId);
          if (pool) release(pool, ep.IPAddress);
        }
        this.s.netns.refill();
        if (this.releasing.get(c.Id) === gone) this.releasing.delete(c.Id);
      });
      this.releasing.set(c.Id, gone);
      // Wrapped: a promise returned as such would hold the lock until it settles.
      return { gone };
    });
    await io.gone;
  }

  /** Docker's NetworkSettings for container inspect. */
  networkSettings(containerId: string, mode?: string): Record<string, unknown> {
    return networkSettingsView(this.containers.get(containerId), this.s.networks, this.netnsPath(containerId) ?? '', mode);
  }

  /** The `Ports` array of GET /containers/json (the PORTS column of `ps`): published and exposed-only ports. */
  listPorts(containerId: string): ListedPort[] {
    const c = this.containers.get(containerId);
    if (!c) return [];
    const out: ListedPort[] = c.Ports.map((p) => ({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto }));
    for (const k of c.Exposed) {
      const [port, proto = 'tcp'] = k.split('/');
      if (!c.Ports.some((p) => p.containerPort === Number(port) && p.proto === proto)) out.push({ PrivatePort: Number(port), Type: proto });
    }
    return out;
  }

  /** Name, id and address on the default bridge of a container, for `--link` (hosts file and env). */
  linkTarget(nameOrId: string): { id: string; name: string; ip: string } | undefined {
    const ref = nameOrId.replace(/^\//, '');
    const c = [...this.containers.values()].find((x) => x.Id === ref || x.Name === ref) ?? [...this.containers.values()].find((x) => x.Id.startsWith(ref));
    const ep = c?.Endpoints[0];
    return c && ep ? { id: c.Id, name: c.Name, ip: ep.IPAddress } : undefined;
  }

  /** /etc/hosts, /etc/resolv.conf and /etc/hostname contents for a container. */
  async containerFiles(containerId: string, o: ContainerFilesOptions): Promise<{ hosts: string; resolvConf: string; hostname: string }> {
    const c = this.containers.get(containerId);
    const eps = c?.Endpoints ?? [];
    const def = [...this.s.networks.values()].find((n) => n.Default);
    const user = eps.map((e) => this.s.networks.get(e.NetworkId)).find((n) => n && !n.Default);
    const links = (o.links ?? []).map((l) => {
      const t = this.linkTarget(l.name);
      if (!t) throw new InvalidArgument(`could not get container for ${l.name}`);
      return { alias: l.alias, name: t.name, id: t.id, ip: t.ip };
    });
    const hostText = await fs.readFile(this.s.resolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => '');
    return {
      hosts: hostsFile({ hostname: o.hostname, domainname: o.domainname, ips: eps.map((e) => e.IPAddress), extraHosts: o.extraHosts, hostGateway: def?.Gateway, links }),
      resolvConf: resolvConfFile({ host: parseResolvConf(hostText), embeddedDns: user?.Gateway, dns: o.dns, dnsSearch: o.dnsSearch, dnsOptions: o.dnsOptions }),
      hostname: o.hostname + '\n',
    };
  }

  /** The address `host-gateway` stands for. */
  hostGateway(): string | undefined {
    return [...this.s.networks.values()].find((n) => n.Default)?.Gateway;
  }

  /** Ends the helpers still waiting in namespaces (daemon stop). */
  async closePrepared(): Promise<void> {
    for (const id of [...this.prepared.keys()]) await this.finishPrepared(id);
  }
}
