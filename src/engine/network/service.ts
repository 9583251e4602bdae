import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument, NotFound } from '../../common/errors.js';
import { newId, validName } from '../../common/ids.js';
import { log } from '../../common/log.js';
import { BridgeDriver, writeSysctl } from './bridge.js';
import { NetworkDns } from './dns.js';
import { hostsFile, parseResolvConf, resolvConfFile, upstreamResolvers } from './files.js';
import { networkCommands, tableCommands, type FwNetwork, type FwPort } from './firewall.js';
import { forwardPolicyWarning } from './hostfw.js';
import { IpRunner, type PreparedIp } from './ip.js';
import { allocate, chooseSubnet, DEFAULT_POOLS, formatCidr, isValidMac, macForIp, newPool, overlaps, parseCidr, release, type AddressPool, type Cidr } from './ipam.js';
import { NETNS_DIR, Netns } from './netns.js';
import { NftRunner } from './nft.js';
import { PortManager } from './port-manager.js';
import type { PortMap } from './ports.js';
import { NetworkStore, type ContainerNetRecord, type EndpointRecord, type NetworkRecord } from './records.js';
import { networkSettingsView, networkView, type NetworkInspect } from './views.js';
import { matchesFilters } from './filters.js';
import { defaultBridgeRecord, predefinedRecord } from './predefined.js';

/**
 * NetworkService: Docker's networks (`bridge`, `host`, `none` and user bridge
 * networks) and the plumbing of a container into them.
 *
 * A container's life, as the container service drives it:
 *
 *   const net = await NetworkService.open({ root: '/var/lib/berth/network' });
 *   const nsPath = await net.createNetns(id);                    // join it in the OCI spec
 *   await net.connect(id, { name: 'web', network: 'bridge' });   // eth0, address, route, DNS
 *   await net.publish(id, { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } });
 *   const files = await net.containerFiles(id, { hostname: 'web' });  // hosts, resolv.conf, hostname
 *   await net.ready(id);                                          // set-up complete and recorded: start the process
 *   ...
 *   await net.releaseContainer(id);                               // on stop: undo everything
 *
 * All changes are serialised; each either completes or leaves nothing behind.
 */
export interface NetworkServiceOptions {
  /** State directory (records), e.g. /var/lib/berth/network. */
  root: string;
  /** Distinguishes daemons on one host: nft table and netns prefix `berth-<instance>`. */
  instance?: string;
  /** Device of the default bridge network (Docker's docker0). */
  defaultBridge?: string;
  /** `--bip`: the default bridge's gateway address with prefix, e.g. 172.17.0.1/16. */
  bip?: string;
  /** `--default-address-pool`s, replacing Docker's defaults. */
  addressPools?: { base: string; size: number }[];
  /** Where the host's resolvers are read from. */
  resolvConf?: string;
  /** Overrides the embedded DNS servers' upstreams (tests). */
  dnsUpstreams?: string[];
}

export interface NetworkCreateRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  CheckDuplicate?: boolean;
  EnableIPv6?: boolean;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string }[]; Options?: Record<string, string> };
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
}

export interface ConnectOptions {
  /** Network name or ID. */
  network: string;
  /** The container's name (DNS and inspect). */
  name: string;
  aliases?: string[];
  ip?: string;
  mac?: string;
}

const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';

export class NetworkService {
  private networks = new Map<string, NetworkRecord>();
  private containers = new Map<string, ContainerNetRecord>();
  private pools = new Map<string, AddressPool>();
  private dns = new Map<string, { server: NetworkDns; port: number }>();
  /**
   * Containers between createNetns and ready(): their record is written once,
   * by ready(), instead of after every step (each write is an fsync). A crash
   * before that leaves an unrecorded namespace, which restore() sweeps.
   */
  private settingUp = new Set<string>();
  /** `ip` processes waiting in fresh namespaces for the first attach (see netns.ts). */
  private prepared = new Map<string, PreparedIp>();
  private chain: Promise<unknown> = Promise.resolve();
  readonly table: string;
  readonly netns: Netns;
  /** Set when another engine's firewall blocks forwarding: for `info` and the log. */
  warnings: string[] = [];

  private constructor(private opts: NetworkServiceOptions, private store: NetworkStore, readonly ip: IpRunner, readonly nft: NftRunner,
    private bridge: BridgeDriver, private ports: PortManager) {
    this.table = opts.instance ? `berth-${opts.instance}` : 'berth';
    this.netns = new Netns(ip, this.table);
  }

  /** Loads records, creates the predefined networks and re-creates bridges, DNS servers and rules (daemon start or restart). */
  static async open(opts: NetworkServiceOptions): Promise<NetworkService> {
    const ip = new IpRunner();
    const nft = new NftRunner();
    const table = opts.instance ? `berth-${opts.instance}` : 'berth';
    const svc = new NetworkService(opts, new NetworkStore(opts.root), ip, nft, new BridgeDriver(ip), new PortManager(nft, table));
    try {
      await svc.restore();
    } catch (e) {
      await svc.close();
      throw e;
    }
    return svc;
  }

  /** Serialises state changes: each runs alone, so checks and effects cannot interleave. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private restore(): Promise<void> {
    return this.locked(async () => {
      const { networks, containers } = await this.store.load();
      for (const n of networks) this.networks.set(n.Id, n);
      await this.ensurePredefined();
      for (const c of containers) {
        if (c.Netns && !(await exists(`${NETNS_DIR}/${c.Netns}`))) {
          // The namespace is gone (host reboot, or released while we were down): nothing of it is left to keep.
          await this.store.removeContainer(c.Id);
          continue;
        }
        this.containers.set(c.Id, c);
      }
      await this.netns.sweep(new Set([...this.containers.values()].flatMap((c) => (c.Netns ? [c.Netns] : []))));
      for (const n of this.networks.values()) {
        if (n.Driver !== 'bridge') continue;
        const pool = newPool(n.Subnet!, n.Gateway, n.IPRange);
        for (const c of this.containers.values()) for (const e of c.Endpoints) if (e.NetworkId === n.Id) pool.used.push(e.IPAddress);
        this.pools.set(n.Id, pool);
        await this.bridge.ensureBridge(n.Bridge!, n.Gateway!, n.Subnet!, mtuOf(n));
        if (!n.Default) await this.startDns(n);
      }
      await writeSysctl('net/ipv4/ip_forward', '1');
      const fwPorts: FwPort[] = [];
      for (const c of this.containers.values()) for (const p of c.Ports) fwPorts.push({ ...p });
      await this.nft.apply(tableCommands(this.table, this.fwNetworks(), fwPorts));
      for (const c of this.containers.values()) {
        if (c.Ports.length) await this.ports.hold(c.Id, c.Ports).catch((e) => log.warn('network', 'cannot hold published port again', { container: c.Id, error: e.message }));
      }
      for (const n of this.networks.values()) {
        if (n.Driver !== 'bridge' || n.Default) continue;
        for (const c of this.containers.values()) {
          const ep = c.Endpoints.find((e) => e.NetworkId === n.Id);
          if (ep) this.dns.get(n.Id)?.server.set(c.Id, dnsNames(c, ep), ep.IPAddress);
        }
      }
      this.warnings = await forwardPolicyWarning(this.nft, [...this.networks.values()].flatMap((n) => (n.Bridge ? [n.Bridge] : [])));
      for (const w of this.warnings) log.warn('network', w);
    });
  }

  private async ensurePredefined(): Promise<void> {
    const byName = (name: string) => [...this.networks.values()].find((n) => n.Name === name);
    const missing: NetworkRecord[] = [];
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) if (!byName(name)) missing.push(predefinedRecord(name, driver));
    if (!byName('bridge')) {
      const subnet = this.opts.bip ? undefined : formatCidr(chooseSubnet(this.opts.addressPools ?? DEFAULT_POOLS, await this.takenSubnets()));
      missing.push(defaultBridgeRecord(this.opts.defaultBridge ?? 'berth0', this.opts.bip, subnet));
    }
    for (const rec of missing) {
      await this.store.saveNetwork(rec);
      this.networks.set(rec.Id, rec);
    }
  }

  /** Subnets a new network must not overlap: host routes (other than our own bridges') and our networks. */
  private async takenSubnets(): Promise<Cidr[]> {
    const ours = new Set([...this.networks.values()].map((n) => n.Bridge).filter(Boolean));
    const routes: { dst: string; dev?: string }[] = await this.ip.query(['-4', 'route', 'show', 'table', 'main']);
    const taken = routes.filter((r) => r.dst !== 'default' && !ours.has(r.dev)).map((r) => parseCidr(r.dst.includes('/') ? r.dst : `${r.dst}/32`));
    for (const n of this.networks.values()) if (n.Subnet) taken.push(parseCidr(n.Subnet));
    return taken;
  }

  private fwNetworks(): FwNetwork[] {
    return [...this.networks.values()].filter((n) => n.Driver === 'bridge').map((n) => ({
      bridge: n.Bridge!, subnet: n.Subnet!, gateway: n.Gateway!, internal: n.Internal, dnsPort: this.dns.get(n.Id)?.port,
    }));
  }

  private async upstreams(): Promise<string[]> {
    if (this.opts.dnsUpstreams) return this.opts.dnsUpstreams;
    return upstreamResolvers(parseResolvConf(await fs.readFile(this.opts.resolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => '')));
  }

  private async startDns(n: NetworkRecord): Promise<void> {
    const server = new NetworkDns({ upstreams: await this.upstreams(), networkName: n.Name });
    const port = await server.listen(n.Gateway!);
    this.dns.set(n.Id, { server, port });
  }

  /** Finds a network by full ID, name, or unique ID prefix, as Docker does. */
  find(ref: string): NetworkRecord {
    const all = [...this.networks.values()];
    const hit = all.find((n) => n.Id === ref) ?? all.find((n) => n.Name === ref);
    if (hit) return hit;
    const byPrefix = ref ? all.filter((n) => n.Id.startsWith(ref)) : [];
    if (byPrefix.length === 1) return byPrefix[0];
    if (byPrefix.length > 1) throw new InvalidArgument(`network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw new NotFound(`network ${ref} not found`);
  }

  inspect(ref: string): NetworkInspect {
    return networkView(this.find(ref), this.containers.values());
  }

  /** Networks matching Docker's list filters (`name`, `id`, `driver`, `label`, `type`, `dangling`). */
  list(filters: Record<string, string[]> = {}): NetworkInspect[] {
    return [...this.networks.values()].filter((n) => matchesFilters(n, filters, this.inUse(n.Id)))
      .sort((a, b) => a.Name.localeCompare(b.Name))
      .map((n) => networkView(n, this.containers.values()));
  }

  private inUse(netId: string): boolean {
    return [...this.containers.values()].some((c) => c.Endpoints.some((e) => e.NetworkId === netId));
  }

  create(req: NetworkCreateRequest): Promise<{ Id: string; Warning: string }> {
    return this.locked(async () => {
      const name = req.Name ?? '';
      if (!name) throw new InvalidArgument('network name must not be empty'); // ...
      if (!validName.test(name)) throw new InvalidArgument(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      if ([...this.networks.values()].some((n) => n.Name === name)) throw new Conflict(`network with name ${name} already exists`);
      const driver = req.Driver || 'bridge';
      if (driver !== 'bridge') throw new NotFound(`plugin "${driver}" not found`);
      if (req.EnableIPv6) throw new InvalidArgument('IPv6 networks are not supported');
      const cfg = req.IPAM?.Config ?? [];
      if (cfg.length > 1) throw new InvalidArgument('only one IPv4 subnet per network is supported');
      const c = cfg[0] ?? {};
      if (!c.Subnet && (c.Gateway || c.IPRange)) throw new InvalidArgument('invalid pool request: gateway and ip-range need a --subnet');
      let subnet: string;
      if (c.Subnet) {
        const want = parseCidr(c.Subnet);
        for (const n of this.networks.values()) {
          if (n.Subnet && overlaps(parseCidr(n.Subnet), want)) throw new Conflict('invalid pool request: Pool overlaps with other one on this address space');
        }
        subnet = formatCidr(want);
      } else {
        subnet = formatCidr(chooseSubnet(this.opts.addressPools ?? DEFAULT_POOLS, await this.takenSubnets()));
      }
      const pool = newPool(subnet, c.Gateway, c.IPRange);
      const id = newId();
      const dev = req.Options?.[BRIDGE_NAME_OPT] ?? `br-${id.slice(0, 12)}`;
      if (!/^[A-Za-z0-9_.-]{1,15}$/.test(dev)) throw new InvalidArgument(`invalid bridge name: ${dev}`);
      if ([...this.networks.values()].some((n) => n.Bridge === dev)) throw new Conflict(`bridge name ${dev} is already in use by another network`);
      const rec: NetworkRecord = {
        Id: id, Name: name, Created: new Date().toISOString(), Driver: 'bridge', Internal: !!req.Internal, Attachable: !!req.Attachable,
        Labels: req.Labels ?? {}, Options: req.Options ?? {}, Subnet: pool.subnet, Gateway: pool.gateway, IPRange: pool.range, Bridge: dev,
      };
      try {
        await this.bridge.ensureBridge(dev, pool.gateway, pool.subnet, mtuOf(rec));
        this.networks.set(id, rec);
        await this.startDns(rec);
        await this.nft.apply(networkCommands(this.table, this.fwNetworks()));
        await this.store.saveNetwork(rec);
      } catch (e) {
        this.networks.delete(id);
        await this.dns.get(id)?.server.close();
        this.dns.delete(id);
        await this.bridge.removeBridge(dev).catch(() => {});
        await this.nft.apply(networkCommands(this.table, this.fwNetworks())).catch(() => {});
        throw e;
      }
      this.pools.set(id, pool);
      return { Id: id, Warning: '' };
    });
  }

  remove(ref: string): Promise<void> {
    return this.locked(async () => {
      const n = this.find(ref);
      if (n.Default || n.Driver !== 'bridge') throw new Conflict(`${n.Name} is a pre-defined network and cannot be removed`);
      if (this.inUse(n.Id)) throw new Conflict(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
      await this.dropNetwork(n);
    });
  }

  private async dropNetwork(n: NetworkRecord): Promise<void> {
    this.networks.delete(n.Id);
    await this.nft.apply(networkCommands(this.table, this.fwNetworks()));
    await this.dns.get(n.Id)?.server.close();
    this.dns.delete(n.Id);
    this.pools.delete(n.Id);
    await this.bridge.removeBridge(n.Bridge!);
    await this.store.removeNetwork(n.Id);
  }

  /** Removes unused user networks; returns their names. */
  prune(filters: Record<string, string[]> = {}): Promise<{ NetworksDeleted: string[] }> {
    return this.locked(async () => {
      const gone: string[] = [];
      for (const n of [...this.networks.values()]) {
        if (n.Default || n.Driver !== 'bridge' || this.inUse(n.Id) || !matchesFilters(n, filters, false)) continue;
        await this.dropNetwork(n);
        gone.push(n.Name);
      }
      return { NetworksDeleted: gone };
    });
  }

  /** Creates the container's persistent netns (loopback up) and returns its path for the OCI spec. */
  createNetns(containerId: string, name = containerId.slice(0, 12)): Promise<string> {
    return this.locked(async () => {
      if (this.containers.get(containerId)?.Netns) throw new Conflict(`container ${containerId} already has a network namespace`);
      const warm = await this.netns.take();
      const rec: ContainerNetRecord = { Id: containerId, Name: name.replace(/^\//, ''), Netns: warm.name, Endpoints: [], Ports: [], Exposed: [] };
      this.containers.set(containerId, rec);
      this.settingUp.add(containerId);
      this.prepared.set(containerId, warm.ip);
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
    return this.locked(async () => {
      await this.finishPrepared(containerId);
      const c = this.containers.get(containerId);
      if (c && this.settingUp.delete(containerId)) await this.store.saveContainer(c);
    });
  }

  /** Persists a container's record, unless it is still being set up (see settingUp). */
  private async save(c: ContainerNetRecord): Promise<void> {
    if (!this.settingUp.has(c.Id)) await this.store.saveContainer(c);
  }

  private async finishPrepared(containerId: string): Promise<void> {
    const p = this.prepared.get(containerId);
    this.prepared.delete(containerId);
    if (p && !p.used) await p.finish().catch((e) => log.warn('network', 'loopback set-up failed', { container: containerId, error: e.message }));
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
    return this.locked(async () => {
      const c = this.containers.get(containerId);
      if (!c?.Netns) throw new Conflict(`container ${containerId} has no network namespace to connect`);
      const n = this.find(o.network);
      if (n.Driver === 'null') return undefined; // `none`: loopback only, which the attach-free netns already is
      if (n.Driver === 'host') throw new Conflict('container cannot be disconnected from host network or connected to host network');
      if (c.Endpoints.some((e) => e.NetworkId === n.Id)) throw new Conflict(`endpoint with name ${o.name.replace(/^\//, '')} already exists in network ${n.Name}`);
      if (n.Default && (o.ip || o.aliases?.length)) {
        throw new InvalidArgument(o.ip ? 'user specified IP address is supported on user defined networks only' : 'network-scoped alias is supported only for containers in user defined networks');
      }
      if (o.mac && !isValidMac(o.mac)) throw new InvalidArgument(`invalid MAC address: ${o.mac}`);
      const pool = this.pools.get(n.Id)!;
      const ip = allocate(pool, o.ip || undefined);
      const mac = o.mac || macForIp(ip);
      const ifname = `eth${[0, 1, 2, 3, 4, 5, 6, 7, 8, 9].find((i) => !c.Endpoints.some((e) => e.IfName === `eth${i}`))}`;
      const hasGateway = c.Endpoints.some((e) => !this.networks.get(e.NetworkId)?.Internal);
      let veth: string;
      const prepared = this.prepared.get(c.Id);
      this.prepared.delete(c.Id);
      try {
        veth = await this.bridge.attach({ netns: c.Netns, bridge: n.Bridge!, ifname, ip, subnet: n.Subnet!, gateway: n.Internal || hasGateway ? undefined : n.Gateway, mac, mtu: mtuOf(n) }, prepared);
      } catch (e) {
        release(pool, ip);
        throw e;
      }
      const ep: EndpointRecord = {
        NetworkId: n.Id, EndpointId: randomBytes(32).toString('hex'), IPAddress: ip, MacAddress: mac,
        Aliases: (o.aliases ?? []).filter((a) => a), RequestedIp: o.ip || undefined, Veth: veth, IfName: ifname,
      };
      c.Name = o.name.replace(/^\//, '') || c.Name;
      c.Endpoints.push(ep);
      try {
        await this.save(c);
      } catch (e) {
        c.Endpoints.pop();
        release(pool, ip);
        await this.bridge.detach(veth).catch(() => {});
        throw e;
      }
      this.dns.get(n.Id)?.server.set(c.Id, dnsNames(c, ep), ip);
      return ep;
    });
  }

  /** Unplugs a running container from one network. */
  disconnect(containerId: string, network: string): Promise<void> {
    return this.locked(async () => {
      const n = this.find(network);
      const c = this.containers.get(containerId);
      const ep = c?.Endpoints.find((e) => e.NetworkId === n.Id);
      if (!c || !ep) throw new Conflict(`container ${containerId} is not connected to network ${n.Name}`);
      await this.bridge.detach(ep.Veth);
      this.dns.get(n.Id)?.server.remove(c.Id);
      release(this.pools.get(n.Id)!, ep.IPAddress);
      c.Endpoints = c.Endpoints.filter((e) => e !== ep);
      await this.save(c);
    });
  }

  /**
   * Publishes ports (HostConfig.PortBindings, plus every ExposedPorts entry with
   * PublishAllPorts) to the container's first non-internal address. All or
   * nothing: a taken port fails the whole call with nothing programmed.
   */
  publish(containerId: string, o: { PortBindings?: PortMap; ExposedPorts?: Record<string, unknown>; PublishAllPorts?: boolean }): Promise<void> {
    return this.locked(async () => {
      const c = this.containers.get(containerId);
      if (!c) throw new Conflict(`container ${containerId} has no network namespace`);
      c.Exposed = [...new Set([...Object.keys(o.ExposedPorts ?? {}), ...Object.keys(o.PortBindings ?? {})])];
      const target = c.Endpoints.find((e) => !this.networks.get(e.NetworkId)?.Internal);
      if (!target) {
        await this.save(c);
        return; // `none` or internal-only: nothing can be reached, as with Docker
      }
      const taken = [...this.containers.values()].filter((x) => x.Id !== c.Id).flatMap((x) => x.Ports);
      const bound = await this.ports.publish(c.Id, o, target.IPAddress, [...taken, ...c.Ports]);
      c.Ports.push(...bound);
      try {
        await this.save(c);
      } catch (e) {
        await this.ports.unpublish(c.Id, bound);
        c.Ports = c.Ports.filter((p) => !bound.includes(p));
        throw e;
      }
    });
  }

  /** Undoes everything for a container (stop or remove): ports, DNS names, addresses, veths and its netns. Idempotent. */
  releaseContainer(containerId: string): Promise<void> {
    return this.locked(async () => {
      const c = this.containers.get(containerId);
      if (!c) return;
      if (c.Ports.length) await this.ports.unpublish(c.Id, c.Ports);
      for (const ep of c.Endpoints) {
        this.dns.get(ep.NetworkId)?.server.remove(c.Id);
        const pool = this.pools.get(ep.NetworkId);
        if (pool) release(pool, ep.IPAddress);
        // With our own netns, deleting it takes the veths along (in the kernel's
        // background cleanup, instead of ~15 ms of synchronous `link del` each).
        if (!c.Netns) await this.bridge.detach(ep.Veth);
      }
      await this.finishPrepared(c.Id);
      if (c.Netns) await this.netns.remove(c.Netns);
      this.containers.delete(c.Id);
      this.settingUp.delete(c.Id);
      await this.store.removeContainer(c.Id);
    });
  }

  /** Docker's NetworkSettings for container inspect. */
  networkSettings(containerId: string, mode?: string): Record<string, unknown> {
    return networkSettingsView(this.containers.get(containerId), this.networks, this.netnsPath(containerId) ?? '', mode);
  }

  /** The `Ports` array of GET /containers/json (the PORTS column of `ps`): published and exposed-only ports. */
  listPorts(containerId: string): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
    const c = this.containers.get(containerId);
    if (!c) return [];
    const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = c.Ports.map((p) => ({ IP: p.hostIp || '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto }));
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
  async containerFiles(containerId: string, o: { hostname: string; domainname?: string; extraHosts?: string[]; links?: { name: string; alias: string }[];
    dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[] }): Promise<{ hosts: string; resolvConf: string; hostname: string }> {
    const c = this.containers.get(containerId);
    const eps = c?.Endpoints ?? [];
    const def = [...this.networks.values()].find((n) => n.Default);
    const user = eps.map((e) => this.networks.get(e.NetworkId)).find((n) => n && !n.Default);
    const links = (o.links ?? []).map((l) => {
      const t = this.linkTarget(l.name);
      if (!t) throw new InvalidArgument(`could not get container for ${l.name}`);
      return { alias: l.alias, name: t.name, id: t.id, ip: t.ip };
    });
    const hostText = await fs.readFile(this.opts.resolvConf ?? '/etc/resolv.conf', 'utf8').catch(() => '');
    return {
      hosts: hostsFile({ hostname: o.hostname, domainname: o.domainname, ips: eps.map((e) => e.IPAddress), extraHosts: o.extraHosts, hostGateway: def?.Gateway, links }),
      resolvConf: resolvConfFile({ host: parseResolvConf(hostText), embeddedDns: user?.Gateway, dns: o.dns, dnsSearch: o.dnsSearch, dnsOptions: o.dnsOptions }),
      hostname: o.hostname + '\n',
    };
  }

  /** The address `host-gateway` stands for. */
  hostGateway(): string | undefined {
    return [...this.networks.values()].find((n) => n.Default)?.Gateway;
  }

  /** Stops DNS servers, proxies and helper processes. Bridges, rules and netns stay: running containers keep their network. */
  async close(): Promise<void> {
    for (const d of this.dns.values()) await d.server.close();
    this.dns.clear();
    this.ports.closeAll();
    for (const id of [...this.prepared.keys()]) await this.finishPrepared(id);
    await this.netns.close();
    this.ip.close();
    this.nft.close();
  }

  /** Removes everything this instance created on the host (tests, uninstall): table, bridges, netns files. */
  async destroy(): Promise<void> {
    for (const c of [...this.containers.keys()]) await this.releaseContainer(c).catch(() => {});
    await this.nft.apply([`add table ip ${this.table}`, `delete table ip ${this.table}`]).catch(() => {});
    for (const n of this.networks.values()) if (n.Bridge) await this.bridge.removeBridge(n.Bridge).catch(() => {});
    await this.close();
  }
}

function dnsNames(c: ContainerNetRecord, ep: EndpointRecord): string[] {
  return [c.Name, ...ep.Aliases, c.Id.slice(0, 12)];
}

function mtuOf(n: NetworkRecord): number | undefined {
  const v = Number(n.Options['com.docker.network.driver.mtu']);
  return v && v !== 1500 ? v : undefined;
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}
