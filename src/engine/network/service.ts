import { promises as fs } from 'node:fs';
import { Conflict, InvalidArgument, NotFound } from '../../common/errors.js';
import { newId, validName } from '../../common/ids.js';
import { log } from '../../common/log.js';
import { BridgeDriver, writeSysctl } from './bridge.js';
import { NetworkDns } from './dns.js';
import { ContainerEndpoints, type ConnectOptions, type ContainerFilesOptions, type ListedPort, type PublishOptions } from './endpoints.js';
import { parseResolvConf, upstreamResolvers } from './files.js';
import { networkCommands, tableCommands, type FwNetwork, type FwPort } from './firewall.js';
import { forwardPolicyWarning } from './hostfw.js';
import { IpRunner } from './ip.js';
import { chooseSubnet, DEFAULT_POOLS, formatCidr, newPool, overlaps, parseCidr, type AddressPool, type Cidr } from './ipam.js';
import { NETNS_DIR, Netns } from './netns.js';
import { NftRunner } from './nft.js';
import { PortManager } from './port-manager.js';
import { dnsNames, mtuOf, NetworkStore, type ContainerNetRecord, type EndpointRecord, type NetworkRecord } from './records.js';
import { networkView, type NetworkInspect } from './views.js';
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
 * This file holds the networks (records, bridges, DNS servers, the nft
 * table, restore after a restart); the container side (namespaces,
 * endpoints, published ports, generated files) is in endpoints.ts, and its
 * calls above are forwarded there.
 */
export type { ConnectOptions } from './endpoints.js';

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

const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';

export class NetworkService {
  private networks = new Map<string, NetworkRecord>();
  private pools = new Map<string, AddressPool>();
  private dns = new Map<string, { server: NetworkDns; port: number }>();
  private chain: Promise<unknown> = Promise.resolve();
  private endpoints: ContainerEndpoints;
  /** Every container's record, live (owned by the endpoints side). */
  private containers: Map<string, ContainerNetRecord>;
  readonly table: string;
  readonly netns: Netns;
  /** Set when another engine's firewall blocks forwarding: for `info` and the log. */
  warnings: string[] = [];

  private constructor(private opts: NetworkServiceOptions, private store: NetworkStore, readonly ip: IpRunner, readonly nft: NftRunner,
    private bridge: BridgeDriver, private ports: PortManager) {
    this.table = opts.instance ? `berth-${opts.instance}` : 'berth';
    this.netns = new Netns(ip, this.table);
    this.netns.prewire = () => {
      const d = [...this.networks.values()].find((n) => n.Default);
      return d?.Bridge ? { bridge: d.Bridge, mtu: mtuOf(d) } : undefined;
    };
    this.endpoints = new ContainerEndpoints({
      networks: this.networks, pools: this.pools, dns: this.dns, store, bridge, ports, netns: this.netns,
      resolvConf: opts.resolvConf ?? '/etc/resolv.conf', locked: (fn) => this.locked(fn), find: (ref) => this.find(ref),
    });
    this.containers = this.endpoints.containers;
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
    const dns = this.dns.get(n.Id);
    this.dns.delete(n.Id);
    this.pools.delete(n.Id);
    // Rules, DNS server and bridge are independent: take them down side by
    // side (each is a process or socket round trip), then forget the record.
    const settled = await Promise.allSettled([
      this.nft.apply(networkCommands(this.table, this.fwNetworks())),
      dns?.server.close(),
      this.bridge.removeBridge(n.Bridge!),
    ]);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
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

  // The container side, delegated (see endpoints.ts).
  createNetns(containerId: string, name?: string, o?: { forDefaultBridge?: boolean }): Promise<string> { return this.endpoints.createNetns(containerId, name, o); }
  ready(containerId: string): Promise<void> { return this.endpoints.ready(containerId); }
  netnsPath(containerId: string): string | undefined { return this.endpoints.netnsPath(containerId); }
  connect(containerId: string, o: ConnectOptions): Promise<EndpointRecord | undefined> { return this.endpoints.connect(containerId, o); }
  disconnect(containerId: string, network: string): Promise<void> { return this.endpoints.disconnect(containerId, network); }
  publish(containerId: string, o: PublishOptions): Promise<void> { return this.endpoints.publish(containerId, o); }
  releaseContainer(containerId: string): Promise<void> { return this.endpoints.releaseContainer(containerId); }
  networkSettings(containerId: string, mode?: string): Record<string, unknown> { return this.endpoints.networkSettings(containerId, mode); }
  listPorts(containerId: string): ListedPort[] { return this.endpoints.listPorts(containerId); }
  linkTarget(nameOrId: string): { id: string; name: string; ip: string } | undefined { return this.endpoints.linkTarget(nameOrId); }
  containerFiles(containerId: string, o: ContainerFilesOptions): Promise<{ hosts: string; resolvConf: string; hostname: string }> { return this.endpoints.containerFiles(containerId, o); }
  hostGateway(): string | undefined { return this.endpoints.hostGateway(); }

  /** Stops DNS servers, proxies and helper processes. Bridges, rules and netns stay: running containers keep their network. */
  async close(): Promise<void> {
    for (const d of this.dns.values()) await d.server.close();
    this.dns.clear();
    this.ports.closeAll();
    await this.endpoints.closePrepared();
    await this.netns.close();
    this.ip.close();
    this.nft.close();
  }

  /** Removes everything this instance created on the host (tests, uninstall): table, bridges, netns files. */
  async destroy(): Promise<void> {
    for (const c of [...this.containers.keys()]) await this.releaseContainer(c).catch(() => {});
    // No pool refill may race the bridge's removal below.
    await this.netns.close();
    await this.nft.apply([`add table ip ${this.table}`, `delete table ip ${this.table}`]).catch(() => {});
    for (const n of this.networks.values()) if (n.Bridge) await this.bridge.removeBridge(n.Bridge).catch(() => {});
    await this.close();
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}
