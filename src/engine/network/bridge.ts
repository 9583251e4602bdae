import { promises as fs } from 'node:fs';
import type { IpRunner, PreparedIp } from './ip.js';
import { parseCidr } from './ipam.js';
import { vethName, type PrewiredVeth } from './netns.js';

/**
 * Linux bridges and veth pairs: the data path of `bridge` networks.
 *
 * Attaching costs one `ip` process (started ahead when the namespace came
 * from the warm pool, see netns.ts): a short `ip -n` run inside the namespace
 * creates the pair (container end named and with its MAC, host end sent to
 * the daemon's namespace), adds the address and routes; the long-lived host
 * `ip` then puts the host end on the bridge. When the pool already wired the
 * namespace's `eth0` to this bridge, only the inside part is left: MAC,
 * address, up, route. Detaching deletes the host end, which takes the peer
 * with it.
 *
 *   const br = new BridgeDriver(ip);
 *   await br.ensureBridge('br-0123456789ab', '172.18.0.1', '172.18.0.0/16');
 *   const veth = await br.attach({ netns: 'berth-<id>', bridge: 'br-0123456789ab', ifname: 'eth0',
 *     ip: '172.18.0.2', subnet: '172.18.0.0/16', gateway: '172.18.0.1', mac: '02:42:ac:12:00:02' });
 *   await br.detach(veth);
 */
export interface AttachSpec {
  /** Name of the namespace under /run/netns. */
  netns: string;
  bridge: string;
  /** Interface name inside the container (`eth0`, `eth1`, ...). */
  ifname: string;
  ip: string;
  subnet: string;
  /** Default route through it; omitted for `--internal` networks and extra interfaces. */
  gateway?: string;
  mac: string;
  mtu?: number;
}

export class BridgeDriver {
  constructor(private ip: IpRunner) {}

  /** Creates the bridge if missing, gives it the gateway address and brings it up. Idempotent. */
  async ensureBridge(name: string, gateway: string, subnet: string, mtu?: number): Promise<void> {
    const prefix = parseCidr(subnet).prefix;
    await this.ip.batch([`link add ${name}${mtu ? ` mtu ${mtu}` : ''} type bridge`]).catch((e) => {
      if (!/File exists/.test(String(e?.message))) throw e;
    });
    await this.ip.batch([`addr replace ${gateway}/${prefix} dev ${name}`, `link set ${name} up`]);
    // Published ports bound to 127.0.0.1 are DNATed to the bridge: the kernel
    // routes loopback-sourced packets out of it only with route_localnet.
    await writeSysctl(`net/ipv4/conf/${name}/route_localnet`, '1');
  }

  async removeBridge(name: string): Promise<void> {
    await this.ip.batch([`link del ${name}`]).catch((e) => {
      if (!/Cannot find device|does not exist/.test(String(e?.message))) throw e;
    });
  }

  /** Plugs a namespace into a bridge. Returns the host-side veth name. On failure nothing is left behind. */
  async attach(s: AttachSpec, prepared?: PreparedIp, prewired?: PrewiredVeth): Promise<string> {
    const a = this.startAttach(s, prepared, prewired);
    await a.wired;
    return a.veth;
  }

  /**
   * Starts plugging a namespace into a bridge and names the host-side veth
   * at once; `wired` resolves when the interface is up with its address and
   * route (on failure nothing is left behind). A container start lets the
   * OCI runtime create the container meanwhile: only its process needs the
   * network, and the namespace it joins exists already.
   *
   *   const { veth, wired } = br.startAttach(spec, prepared, prewired);
   *   await Promise.all([runtimeCreate(), wired]);
   */
  startAttach(s: AttachSpec, prepared?: PreparedIp, prewired?: PrewiredVeth): { veth: string; wired: Promise<void> } {
    const usable = prewired && prepared && !prepared.used && prewired.bridge === s.bridge && s.ifname === 'eth0' && prewired.mtu === s.mtu;
    const veth = usable ? prewired.host : vethName();
    const wired = usable ? this.finishPrewired(s, prepared, prewired) : this.wireNew(s, veth, prepared, prewired);
    return { veth, wired };
  }

  private async finishPrewired(s: AttachSpec, prepared: PreparedIp, prewired: PrewiredVeth): Promise<void> {
    const prefix = parseCidr(s.subnet).prefix;
    const inside = [`link set eth0 address ${s.mac}`, `addr add ${s.ip}/${prefix} dev eth0`, 'link set eth0 up'];
    if (s.gateway) inside.push(`route add default via ${s.gateway} dev eth0`);
    try {
      await prepared.finish(inside);
    } catch (e) {
      await this.detach(prewired.host).catch(() => {});
      throw e;
    }
  }

  private async wireNew(s: AttachSpec, veth: string, prepared?: PreparedIp, prewired?: PrewiredVeth): Promise<void> {
    const prefix = parseCidr(s.subnet).prefix;
    const mtu = s.mtu ? ` mtu ${s.mtu}` : '';
    // The pair is born inside the namespace, its host end sent to ours by
    // path. Doing it the other way round from the long-lived host `ip`
    // (`peer ... netns NAME`) leaks that process an fd on the namespace,
    // which then never dies.
    const usePrepared = !!prepared && !prepared.used;
    const inside = [
      // A pre-made pair for another bridge goes first (its host end with it).
      ...(prewired && usePrepared ? ['link del eth0'] : []),
      `link add ${s.ifname}${mtu} address ${s.mac} type veth peer name ${veth}${mtu} netns /proc/${process.pid}/ns/net`,
      'link set lo up', `addr add ${s.ip}/${prefix} dev ${s.ifname}`, `link set ${s.ifname} up`,
    ];
    if (s.gateway) inside.push(`route add default via ${s.gateway} dev ${s.ifname}`);
    try {
      if (usePrepared) await prepared!.finish(inside);
      else await this.ip.batchInNetns(s.netns, inside);
    } catch (e) {
      await this.ip.batchInNetns(s.netns, [`link del ${s.ifname}`]).catch(() => {});
      throw e;
    }
    try {
      await this.ip.batch([`link set ${veth} master ${s.bridge} up`]);
    } catch (e) {
      await this.detach(veth).catch(() => {});
      throw e;
    }
  }

  /** Unplugs: deleting the host end removes the container end too. Missing links are fine (the netns may be gone). */
  async detach(veth: string): Promise<void> {
    await this.ip.batch([`link del ${veth}`]).catch((e) => {
      if (!/Cannot find device|does not exist/.test(String(e?.message))) throw e;
    });
  }

  /** Brings the loopback up in a namespace with no other interface (`--network none`). */
  async loopbackOnly(netns: string): Promise<void> {
    await this.ip.batchInNetns(netns, ['link set lo up']);
  }
}

/** Writes /proc/sys/<key>; the kernel's own interface, no `sysctl` process needed. */
export async function writeSysctl(key: string, value: string): Promise<void> {
  const file = `/proc/sys/${key}`;
  const cur = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (cur?.trim() !== value) await fs.writeFile(file, value);
}

export async function readSysctl(key: string): Promise<string | undefined> {
  return (await fs.readFile(`/proc/sys/${key}`, 'utf8').catch(() => undefined))?.trim();
}
