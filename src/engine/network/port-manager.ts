import { randomInt } from 'node:crypto';
import { Conflict } from '../../common/errors.js';
import { portCommands } from './firewall.js';
import type { NftRunner } from './nft.js';
import { allocatedError, clashes, ephemeralRange, requestedPorts, type Binding, type PortMap } from './ports.js';
import { PortProxy } from './proxy.js';

export type ProgrammedPort = Binding & { containerIp: string };

/**
 * Turns port requests into programmed ports: picks host ports (explicit,
 * from a range, or random ephemeral), holds each with a userland proxy (which
 * proves no other process has it) and adds the DNAT map elements in one nft
 * transaction. Any failure undoes what the call did.
 *
 *   const bound = await pm.publish(id, { PortBindings: { '80/tcp': [{ HostPort: '8080' }] } }, '172.17.0.2', taken);
 *   await pm.unpublish(id, bound);
 */
export class PortManager {
  private proxies = new Map<string, { key: string; proxy: PortProxy }[]>();

  constructor(private nft: NftRunner, private table: string) {}

  async publish(containerId: string, o: { PortBindings?: PortMap; ExposedPorts?: Record<string, unknown>; PublishAllPorts?: boolean },
    containerIp: string, taken: Binding[]): Promise<ProgrammedPort[]> {
    const reqs = requestedPorts(o.PortBindings, o.ExposedPorts, !!o.PublishAllPorts);
    if (reqs.length === 0) return [];
    const done: ProgrammedPort[] = [];
    const held: { key: string; proxy: PortProxy }[] = [];
    try {
      const [lo, hi] = await ephemeralRange();
      for (const r of reqs) {
        const busy = (port: number) => [...taken, ...done].some((b) => clashes(b, { proto: r.proto, hostIp: r.hostIp, hostPort: port }));
        const candidates = r.hostPorts.length ? r.hostPorts : Array.from({ length: 64 }, () => randomInt(lo, hi + 1));
        let lastErr: Error | undefined;
        let bound: ProgrammedPort | undefined;
        for (const port of candidates) {
          if (busy(port)) { lastErr = allocatedError(r.hostIp, port); continue; }
          try {
            const proxy = await PortProxy.open(r.proto, r.hostIp, port, containerIp, r.containerPort);
            bound = { proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: port, containerIp };
            held.push({ key: keyOf(bound), proxy });
            break;
          } catch (e) {
            if (!(e instanceof Conflict)) throw e;
            lastErr = e;
          }
        }
        if (!bound) throw lastErr ?? new Conflict('no free host port');
        done.push(bound);
      }
      await this.nft.apply(portCommands(this.table, 'add', done));
    } catch (e) {
      for (const h of held) h.proxy.close();
      throw e;
    }
    this.proxies.set(containerId, [...(this.proxies.get(containerId) ?? []), ...held]);
    return done;
  }

  /** Re-binds holders for ports restored after a daemon restart (the nft elements are restored with the table). */
  async hold(containerId: string, ports: ProgrammedPort[]): Promise<void> {
    const held = [];
    for (const p of ports) held.push({ key: keyOf(p), proxy: await PortProxy.open(p.proto, p.hostIp, p.hostPort, p.containerIp, p.containerPort) });
    this.proxies.set(containerId, [...(this.proxies.get(containerId) ?? []), ...held]);
  }

  async unpublish(containerId: string, ports: ProgrammedPort[]): Promise<void> {
    if (ports.length) await this.nft.apply(portCommands(this.table, 'delete', ports));
    const keys = new Set(ports.map(keyOf));
    const mine = this.proxies.get(containerId) ?? [];
    for (const h of mine) if (keys.has(h.key)) h.proxy.close();
    const rest = mine.filter((h) => !keys.has(h.key));
    if (rest.length) this.proxies.set(containerId, rest);
    else this.proxies.delete(containerId);
  }

  closeAll(): void {
    for (const list of this.proxies.values()) for (const h of list) h.proxy.close();
    this.proxies.clear();
  }
}

function keyOf(p: Binding): string {
  return `${p.proto}/${p.hostIp}/${p.hostPort}`;
}
