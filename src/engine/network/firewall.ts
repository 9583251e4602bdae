/**
 * Berth's nftables rules, as text. Everything lives in one `ip` table owned
 * by the daemon instance, so nothing else's rules are ever touched and a test
 * daemon's table (`berth-<suffix>`) never collides with the real one.
 *
 * Per-network rules (masquerade, isolation, internal, DNS redirect) are few
 * and change only on network create/remove, so their chains are rewritten
 * whole. Published ports are elements of DNAT maps, so a container's ports
 * are added and removed without rule handles, in the same transaction.
 *
 *   await nft.apply(tableCommands('berth', networks, ports));   // start-up / restore
 *   await nft.apply(portCommands('berth', 'add', ports));        // docker run -p
 */
export interface FwNetwork {
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  /** Local port of the embedded DNS server; the gateway's port 53 is redirected to it. */
  dnsPort?: number;
}

export interface FwPort {
  proto: 'tcp' | 'udp';
  /** '' or '0.0.0.0' for every host address. */
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

const q = (s: string) => JSON.stringify(s);

/** Drops and re-creates the whole table with the given state, atomically. */
export function tableCommands(table: string, networks: FwNetwork[], ports: FwPort[]): string[] {
  const t = `ip ${table}`;
  return [
    `add table ${t}`,
    `delete table ${t}`,
    `add table ${t}`,
    ...['tcp', 'udp'].flatMap((p) => [
      `add map ${t} ${p}_any { type inet_service : ipv4_addr . inet_service; }`,
      `add map ${t} ${p}_addr { type ipv4_addr . inet_service : ipv4_addr . inet_service; }`,
    ]),
    `add set ${t} bridges { type ifname; }`,
    `add chain ${t} ports`,
    ...['tcp', 'udp'].flatMap((p) => [
      `add rule ${t} ports dnat ip to ip daddr . ${p} dport map @${p}_addr`,
      `add rule ${t} ports dnat ip to ${p} dport map @${p}_any`,
    ]),
    `add chain ${t} dns`,
    `add chain ${t} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add rule ${t} prerouting iifname @bridges jump dns`,
    // Containers reaching a published port go through the userland proxy, as
    // with Docker's default: DNAT back onto the same bridge would be bridged
    // straight to the target (br_netfilter), skipping our masquerade, and the
    // reply would bypass the host.
    `add rule ${t} prerouting iifname != @bridges fib daddr type local jump ports`,
    `add chain ${t} output { type nat hook output priority -100; policy accept; }`,
    `add rule ${t} output fib daddr type local jump ports`,
    `add chain ${t} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add chain ${t} nets_nat`,
    `add rule ${t} postrouting oifname @bridges ip saddr 127.0.0.0/8 masquerade`,
    `add rule ${t} postrouting jump nets_nat`,
    `add chain ${t} forward { type filter hook forward priority filter; policy accept; }`,
    // A published port is reachable from every network, as Docker allows.
    `add rule ${t} forward ct status dnat accept`,
    `add chain ${t} nets_filter`,
    `add rule ${t} forward jump nets_filter`,
    ...networkCommands(table, networks),
    ...portCommands(table, 'add', ports),
  ];
}

/** Rewrites the per-network chains and the bridge set for the current networks. */
export function networkCommands(table: string, networks: FwNetwork[]): string[] {
  const t = `ip ${table}`;
  const cmds = [`flush set ${t} bridges`, `flush chain ${t} dns`, `flush chain ${t} nets_nat`, `flush chain ${t} nets_filter`];
  if (networks.length) cmds.push(`add element ${t} bridges { ${networks.map((n) => q(n.bridge)).join(', ')} }`);
  for (const n of networks) {
    const br = q(n.bridge);
    if (n.dnsPort) {
      for (const p of ['udp', 'tcp']) cmds.push(`add rule ${t} dns iifname ${br} ip daddr ${n.gateway} ${p} dport 53 redirect to :${n.dnsPort}`);
    }
    if (!n.internal) cmds.push(`add rule ${t} nets_nat ip saddr ${n.subnet} oifname != ${br} masquerade`);
    if (n.internal) {
      cmds.push(`add rule ${t} nets_filter iifname ${br} oifname != ${br} drop`);
      cmds.push(`add rule ${t} nets_filter oifname ${br} iifname != ${br} drop`);
    } else {
      // Isolation: nothing crosses from one Berth network to another.
      cmds.push(`add rule ${t} nets_filter iifname ${br} oifname != ${br} oifname @bridges drop`);
    }
  }
  return cmds;
}

function key(p: FwPort): string {
  return isAny(p.hostIp) ? `${p.hostPort}` : `${p.hostIp} . ${p.hostPort}`;
}

function isAny(ip: string): boolean {
  return ip === '' || ip === '0.0.0.0';
}

/** Adds or deletes the DNAT map elements of some published ports. */
export function portCommands(table: string, op: 'add' | 'delete', ports: FwPort[]): string[] {
  const groups = new Map<string, string[]>();
  for (const p of ports) {
    const map = `${p.proto}_${isAny(p.hostIp) ? 'any' : 'addr'}`;
    const el = op === 'add' ? `${key(p)} : ${p.containerIp} . ${p.containerPort}` : key(p);
    groups.set(map, [...(groups.get(map) ?? []), el]);
  }
  return [...groups].map(([map, els]) => `${op} element ip ${table} ${map} { ${els.join(', ')} }`);
}
