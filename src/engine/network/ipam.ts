import { Conflict, InvalidArgument } from '../../common/errors.js';

/**
 * IPv4 address management: CIDR parsing, choosing a subnet that overlaps
 * nothing, and handing out addresses inside a network. Pure functions over
 * plain records so the service can persist the state however it likes.
 *
 *   const subnet = chooseSubnet(DEFAULT_POOLS, [parseCidr('172.17.0.0/16')]);  // 172.18.0.0/16
 *   const pool: AddressPool = newPool(subnet, '172.18.0.1');
 *   const ip = allocate(pool);           // '172.18.0.2'
 *   release(pool, ip);
 */
export interface Cidr { addr: number; prefix: number }

/** Addresses a network hands out; `last` makes allocation round-robin like Docker's, so a freed address is not reused at once. */
export interface AddressPool {
  subnet: string;
  gateway: string;
  /** Allocation is limited to this sub-range when set (`--ip-range`). */
  range?: string;
  used: string[];
  last?: string;
}

/** Docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 cut into /20s. */
export const DEFAULT_POOLS: { base: string; size: number }[] = [
  { base: '172.17.0.0/16', size: 16 }, { base: '172.18.0.0/16', size: 16 }, { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 }, { base: '172.24.0.0/14', size: 16 }, { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) throw new InvalidArgument(`invalid IP address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isIPv4(s: string): boolean {
  try { ipToInt(s); return true; } catch { return false; }
}

/** Parses `a.b.c.d/n`; the address need not be the network address (Docker masks it). */
export function parseCidr(s: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32 || !isIPv4(m[1])) throw new InvalidArgument(`invalid CIDR address: ${s}`);
  const prefix = Number(m[2]);
  return { addr: (ipToInt(m[1]) & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.addr)}/${c.prefix}`;
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: string | number): boolean {
  const n = typeof ip === 'string' ? ipToInt(ip) : ip;
  return ((n & mask(c.prefix)) >>> 0) === c.addr;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.addr & mask(p)) >>> 0) === ((b.addr & mask(p)) >>> 0);
}

/**
 * The first subnet from the pools that overlaps none of `taken` (host routes
 * and existing networks). Throws when every pool is exhausted, with Docker's message.
 */
export function chooseSubnet(pools: { base: string; size: number }[], taken: Cidr[]): Cidr {
  for (const pool of pools) {
    const base = parseCidr(pool.base);
    if (pool.size < base.prefix || pool.size > 30) throw new InvalidArgument(`invalid address pool size ${pool.size} for ${pool.base}`);
    const step = 2 ** (32 - pool.size);
    for (let a = base.addr; a < base.addr + size(base); a += step) {
      const cand = { addr: a >>> 0, prefix: pool.size };
      if (!taken.some((t) => overlaps(t, cand))) return cand;
    }
  }
  throw new Conflict('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/** Parses `base=172.80.0.0/16,size=24` (the daemon's --default-address-pool). */
export function parseAddressPoolFlag(s: string): { base: string; size: number } {
  const kv = Object.fromEntries(s.split(',').map((p) => p.split('=', 2).map((x) => x.trim())));
  if (!kv.base || !kv.size || !/^\d+$/.test(kv.size)) throw new InvalidArgument(`invalid default address pool: ${s} (want base=CIDR,size=N)`);
  const base = parseCidr(kv.base);
  const sz = Number(kv.size);
  if (sz < base.prefix || sz > 30) throw new InvalidArgument(`invalid default address pool: size ${sz} does not fit ${kv.base}`);
  return { base: formatCidr(base), size: sz };
}

/** A fresh pool; the gateway defaults to the first host address. Validates `--gateway`/`--ip-range` against the subnet. */
export function newPool(subnet: string, gateway?: string, range?: string): AddressPool {
  const c = parseCidr(subnet);
  if (c.prefix > 30) throw new InvalidArgument(`subnet ${subnet} is too small: it leaves no addresses for containers`);
  const gw = gateway || intToIp(c.addr + 1);
  if (!isIPv4(gw)) throw new InvalidArgument(`invalid gateway address: ${gateway}`);
  if (!contains(c, gw)) throw new InvalidArgument(`no matching subnet for gateway ${gw}`);
  if (range) {
    const r = parseCidr(range);
    if (r.prefix < c.prefix || !contains(c, r.addr)) throw new InvalidArgument(`no matching subnet for range ${range}`);
    range = formatCidr(r);
  }
  return { subnet: formatCidr(c), gateway: gw, range, used: [] };
}

/**
 * Takes an address: the requested one (`--ip`) or the next free one after the
 * last handed out. Network, broadcast and gateway addresses are never given.
 */
export function allocate(pool: AddressPool, requested?: string): string {
  const net = parseCidr(pool.subnet);
  const reserved = new Set([net.addr, net.addr + size(net) - 1, ipToInt(pool.gateway)]);
  const used = new Set(pool.used.map(ipToInt));
  if (requested) {
    const n = ipToInt(requested);
    if (!contains(net, n)) throw new InvalidArgument(`Address ${requested} does not belong to subnet ${pool.subnet}`);
    if (reserved.has(n) || used.has(n)) throw new Conflict(`Address already in use`);
    pool.used.push(requested);
    return requested;
  }
  const span = pool.range ? parseCidr(pool.range) : net;
  const first = span.addr;
  const count = size(span);
  const start = pool.last && contains(span, pool.last) ? ipToInt(pool.last) - first + 1 : 0;
  for (let i = 0; i < count; i++) {
    const n = first + ((start + i) % count);
    if (reserved.has(n) || used.has(n)) continue;
    const ip = intToIp(n);
    pool.used.push(ip);
    pool.last = ip;
    return ip;
  }
  throw new Conflict(`no available IPv4 addresses on this network's address pools: ${pool.subnet}`);
}

export function release(pool: AddressPool, ip: string): void {
  pool.used = pool.used.filter((u) => u !== ip);
}

/** Docker's MAC for an address: 02:42 followed by the four IPv4 bytes. */
export function macForIp(ip: string): string {
  const n = ipToInt(ip);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export function isValidMac(mac: string): boolean {
  return /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac) && (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}
