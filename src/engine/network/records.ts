import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readJson, writeJsonAtomic } from '../../common/atomic-file.js';
import type { Binding } from './ports.js';

/**
 * What the network service persists: one file per network (its configuration,
 * never changed after create) and one per container with network state (its
 * endpoints and published ports). Address allocations are derived from the
 * container files on load, so there is a single source of truth and a crash
 * between two writes cannot leave an address both free and used.
 *
 *   const store = new NetworkStore('/var/lib/berth/network');
 *   await store.saveNetwork(rec);
 *   const { networks, containers } = await store.load();
 */
export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  /** 'bridge' for bridge networks; 'host' and 'null' for the predefined ones. */
  Driver: 'bridge' | 'host' | 'null';
  Internal: boolean;
  Attachable: boolean;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  /** Bridge networks only. */
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
  /** Bridge device name. */
  Bridge?: string;
  /** The default `bridge` network: no embedded DNS, legacy links. */
  Default?: boolean;
}

export interface EndpointRecord {
  NetworkId: string;
  EndpointId: string;
  IPAddress: string;
  MacAddress: string;
  Aliases: string[];
  /** The address was asked for (`--ip`): kept across restarts of the container. */
  RequestedIp?: string;
  /** Host end of the veth pair. */
  Veth: string;
  /** Name inside the container (eth0, eth1, ...). */
  IfName: string;
}

export interface ContainerNetRecord {
  Id: string;
  /** The container's name without the leading slash (DNS, links). */
  Name: string;
  /** netns name under /run/netns, when Berth created one. */
  Netns?: string;
  Endpoints: EndpointRecord[];
  Ports: (Binding & { containerIp: string })[];
  /** Exposed ports (`80/tcp`) for NetworkSettings.Ports. */
  Exposed: string[];
}

export class NetworkStore {
  constructor(private root: string) {}

  private netDir() { return path.join(this.root, 'networks'); }
  private ctrDir() { return path.join(this.root, 'containers'); }

  async load(): Promise<{ networks: NetworkRecord[]; containers: ContainerNetRecord[] }> {
    await fs.mkdir(this.netDir(), { recursive: true });
    await fs.mkdir(this.ctrDir(), { recursive: true });
    return { networks: await readAll<NetworkRecord>(this.netDir()), containers: await readAll<ContainerNetRecord>(this.ctrDir()) };
  }

  saveNetwork(n: NetworkRecord): Promise<void> {
    return writeJsonAtomic(path.join(this.netDir(), `${n.Id}.json`), n);
  }

  async removeNetwork(id: string): Promise<void> {
    await fs.rm(path.join(this.netDir(), `${id}.json`), { force: true });
  }

  /**
   * A container's endpoints are run state (its netns lives on tmpfs and is
   * gone after a reboot): written atomically, which a daemon crash needs, but
   * not fsynced, which only a power loss would.
   */
  saveContainer(c: ContainerNetRecord): Promise<void> {
    return writeJsonAtomic(path.join(this.ctrDir(), `${c.Id}.json`), c, { durable: false });
  }

  async removeContainer(id: string): Promise<void> {
    await fs.rm(path.join(this.ctrDir(), `${id}.json`), { force: true });
  }
}

async function readAll<T>(dir: string): Promise<T[]> {
  const out: T[] = [];
  for (const f of await fs.readdir(dir)) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    const v = await readJson<T>(path.join(dir, f)).catch(() => undefined);
    if (v) out.push(v);
  }
  return out;
}

/** Names a container answers to on a user network's DNS: its name, its aliases there, its short ID. */
export function dnsNames(c: ContainerNetRecord, ep: EndpointRecord): string[] {
  return [c.Name, ...ep.Aliases, c.Id.slice(0, 12)];
}

/** The network's `com.docker.network.driver.mtu` option, when it differs from the kernel's default. */
export function mtuOf(n: NetworkRecord): number | undefined {
  const v = Number(n.Options['com.docker.network.driver.mtu']);
  return v && v !== 1500 ? v : undefined;
}
