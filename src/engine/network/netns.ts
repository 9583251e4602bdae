import type { IpRunner } from './ip.js';

/**
 * Persistent network namespaces as files under /run/netns (the only place
 * `ip netns` accepts, and it creates them in-process: no fork, no exec). The
 * container's OCI spec joins one by path; the namespace outlives a daemon
 * restart because the bind mount holds it.
 *
 *   const ns = new Netns(ip, 'berth');
 *   const path = await ns.create(containerId);   // /run/netns/berth-<id>
 *   await ns.remove(containerId);
 */
export const NETNS_DIR = '/run/netns';

export class Netns {
  constructor(private ip: IpRunner, private prefix: string) {}

  /** The name `ip -n` takes for a container's namespace. */
  name(containerId: string): string {
    return `${this.prefix}-${containerId}`;
  }

  path(containerId: string): string {
    return `${NETNS_DIR}/${this.name(containerId)}`;
  }

  async create(containerId: string): Promise<string> {
    await this.ip.batch([`netns add ${this.name(containerId)}`]);
    return this.path(containerId);
  }

  /** Unmounts and deletes the file; the kernel frees the namespace (and its veths) when no process is left in it. */
  async remove(containerId: string): Promise<void> {
    await this.ip.batch([`netns delete ${this.name(containerId)}`]).catch((e) => {
      if (!/No such file|not exist/i.test(String(e?.message))) throw e;
    });
  }
}
