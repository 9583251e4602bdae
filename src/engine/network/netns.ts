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
 *
 *   const ns = new Netns(ip, 'berth');
 *   const warm = await ns.take();          // { name: 'berth-<16 hex>', path, ip }
 *   await warm.ip.finish(['addr add ...']); // or let it finish on its own
 *   await ns.remove(warm.name);
 */
export const NETNS_DIR = '/run/netns';

export interface WarmNetns {
  name: string;
  path: string;
  /** Waiting `ip -n name -batch -`; loopback is already up. */
  ip: PreparedIp;
}

export class Netns {
  private pool: WarmNetns[] = [];
  private filling?: Promise<void>;
  private closed = false;

  constructor(private ip: IpRunner, readonly prefix: string, private poolSize = 2) {}

  /** True for names this instance generates (and may therefore sweep). */
  owns(name: string): boolean {
    return new RegExp(`^${this.prefix.replace(/[.]/g, '\\.')}-[0-9a-f]{16}$`).test(name);
  }

  /** A ready namespace: from the pool when one is waiting, else made now. The pool refills in the background. */
  async take(): Promise<WarmNetns> {
    const w = this.pool.shift() ?? (await this.make());
    this.refill();
    return w;
  }

  private async make(): Promise<WarmNetns> {
    const name = `${this.prefix}-${randomBytes(8).toString('hex')}`;
    await this.ip.batch([`netns add ${name}`]);
    return { name, path: `${NETNS_DIR}/${name}`, ip: this.ip.prepareInNetns(name, ['link set lo up']) };
  }

  private refill(): void {
    if (this.filling || this.closed || this.poolSize === 0) return;
    this.filling = (async () => {
      while (!this.closed && this.pool.length < this.poolSize) this.pool.push(await this.make());
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
    for (const n of names) if (this.owns(n) && !keep.has(n) && !this.pool.some((w) => w.name === n)) await this.remove(n);
  }

  /** Empties the pool: waiting processes end, their namespaces are deleted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
    for (const w of this.pool.splice(0)) {
      await w.ip.finish().catch(() => {});
      await this.remove(w.name).catch(() => {});
    }
  }
}
