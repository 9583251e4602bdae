import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { log } from '../../common/log.js';
import type { IpRunner, PreparedIp } from './ip.js';

/**
 * Persistent network namespaces as files under /run/netns (the only place
 * `ip netns` accepts, and it creates them in-process: no fork, no exec). The
 * container's OCI spec joins one by path; the namespace outlives a daemon
 * restart because the bind mount holds it.
 *
 * A small pool keeps namespaces ready ahead of demand, each with loopback up
 * and an `ip` process already waiting inside for the attach commands, so a
 * container start pays neither the namespace creation nor a process start.
 * When told the default bridge (`prewire`), each pooled namespace also gets
 * its `eth0` veth already on that bridge: most containers join it, and then
 * attaching is only an address and a route (see BridgeDriver.attach).
 *
 *   const ns = new Netns(ip, 'berth');
 *   ns.prewire = () => ({ bridge: 'berth0' });
 *   const warm = await ns.take();          // { name: 'berth-<16 hex>', path, ip, veth? }
 *   await warm.ip.finish(['addr add ...']); // or let it finish on its own
 *   await ns.remove(warm.name);
 */
export const NETNS_DIR = '/run/netns';
/**
 * How long after a take the pool refills. The taker's container is then
 * still being set up and started (runc, ~150 ms and more): the refill's spawn
 * blocks the event loop and its netlink work contends with the start, which
 * measured 2-3x slower set-ups when the refill came 30 ms after the take.
 */
const REFILL_AFTER_TAKE_MS = 250;

export interface WarmNetns {
  name: string;
  path: string;
  /** Waiting `ip -n name -batch -`; loopback is already up. */
  ip: PreparedIp;
  /** A veth made ahead: `eth0` inside, `host` on `bridge` and up. */
  veth?: PrewiredVeth;
}

export interface PrewiredVeth { host: string; bridge: string; mtu?: number }

export class Netns {
  /** Two pools: plain namespaces (`--network none`, user networks first) and ones pre-wired to the default bridge. */
  private pools = { plain: [] as WarmNetns[], wired: [] as WarmNetns[] };
  private filling?: Promise<void>;
  private wanted = new Set<'plain' | 'wired'>();
  private closed = false;
  /** The bridge (and MTU) pooled namespaces are wired to ahead of time; undefined: none. */
  prewire?: () => { bridge: string; mtu?: number } | undefined;

  constructor(private ip: IpRunner, readonly prefix: string, private poolSize = 2) {}

  /** True for names this instance generates (and may therefore sweep). */
  owns(name: string): boolean {
    return new RegExp(`^${this.prefix.replace(/[.]/g, '\\.')}-[0-9a-f]{16}$`).test(name);
  }

  /**
   * A ready namespace: from the pool when one is waiting, else made now; that
   * pool refills in the background. `wired`: the caller will connect it to
   * the default bridge first.
   */
  async take(wired = false): Promise<WarmNetns> {
    const kind = wired && this.prewire?.() ? 'wired' : 'plain';
    const w = this.pools[kind].shift() ?? (await this.make(kind));
    this.wanted.add(kind);
    this.refill(REFILL_AFTER_TAKE_MS);
    return w;
  }

  private async make(kind: 'plain' | 'wired'): Promise<WarmNetns> {
    const name = `${this.prefix}-${randomBytes(8).toString('hex')}`;
    await this.ip.batch([`netns add ${name}`]);
    const wire = kind === 'wired' ? this.prewire?.() : undefined;
    if (!wire) return { name, path: `${NETNS_DIR}/${name}`, ip: this.ip.prepareInNetns(name, ['link set lo up']) };
    const host = vethName();
    const mtu = wire.mtu ? ` mtu ${wire.mtu}` : '';
    // Born inside, host end sent out by path (see BridgeDriver.attach for why not the other way round).
    const ip = this.ip.prepareInNetns(name, ['link set lo up', `link add eth0${mtu} type veth peer name ${host}${mtu} netns /proc/${process.pid}/ns/net`]);
    try {
      await ip.done();
      await this.ip.batch([`link set ${host} master ${wire.bridge} up`]);
    } catch (e) {
      await ip.finish().catch(() => {});
      await this.remove(name).catch(() => {});
      throw e;
    }
    return { name, path: `${NETNS_DIR}/${name}`, ip, veth: { host, bridge: wire.bridge, mtu: wire.mtu } };
  }

  /** Refills the pools after `delayMs` (see REFILL_AFTER_TAKE_MS); a container just released is a good moment: its user is done. */
  refill(delayMs = 0): void {
    if (this.filling || this.closed || this.poolSize === 0) return;
    this.filling = (async () => {
      await new Promise((r) => setTimeout(r, delayMs));
      for (const kind of ['wired', 'plain'] as const) {
        if (!this.wanted.has(kind)) continue;
        while (!this.closed && this.pools[kind].length < this.poolSize) this.pools[kind].push(await this.make(kind));
      }
    })().catch((e) => log.warn('network', 'cannot prepare a network namespace', { error: String(e?.message ?? e) }))
      .finally(() => { this.filling = undefined; });
  }

  /** Unmounts and deletes the file; the kernel frees the namespace (and its veths) when no process is left in it. */
  async remove(name: string): Promise<void> {
    await this.ip.batch([`netns delete ${name}`]).catch((e) => {
      if (!/No such file|not exist/i.test(String(e?.message))) throw e;
    });
  }

  /** Deletes namespaces of this instance that nothing refers to any more (pool leftovers after a crash). */
  async sweep(keep: Set<string>): Promise<void> {
    const names = await fs.readdir(NETNS_DIR).catch(() => [] as string[]);
    const pooled = [...this.pools.plain, ...this.pools.wired];
    for (const n of names) if (this.owns(n) && !keep.has(n) && !pooled.some((w) => w.name === n)) await this.remove(n);
  }

  /** Empties the pool: waiting processes end, their namespaces are deleted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    for (const w of [...this.pools.plain.splice(0), ...this.pools.wired.splice(0)]) {
      await w.ip.finish().catch(() => {});
      await this.remove(w.name).catch(() => {});
    }
  }
}

/** Host-side veth names, as Docker's: `veth` and 7 hex digits. */
export function vethName(): string {
  return `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
}
