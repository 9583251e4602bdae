/**
 * Where a reference's registry really lives and how to talk to it:
 * `docker.io` → https://registry-1.docker.io; loopback and
 * `--insecure-registry` hosts may be plain HTTP; CA certificates and client
 * certificates come from `/etc/berth/certs.d/HOST:PORT/` (`*.crt`, `client.cert`,
 * `client.key`) as in Docker's `/etc/docker/certs.d`.
 *
 *   const h = await resolveHost('localhost:5000', { insecureRegistries: [] })
 *   // { name: 'localhost:5000', endpoint: 'localhost:5000', insecure: true, tls: {} }
 */
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';

export interface RegistryHost {
  /** The registry as the reference names it (`docker.io`), used for credentials. */
  name: string;
  /** host[:port] the requests go to. */
  endpoint: string;
  /** HTTP allowed and TLS errors tolerated (Docker's insecure-registry semantics). */
  insecure: boolean;
  tls: { ca?: string[]; cert?: string; key?: string };
}

export interface HostOptions {
  /** `host:port` entries or CIDRs (`10.0.0.0/8`) treated as insecure. */
  insecureRegistries?: string[];
  certsDir?: string;
}

export const defaultCertsDir = '/etc/berth/certs.d';

export async function resolveHost(domain: string, opts: HostOptions = {}): Promise<RegistryHost> {
  const endpoint = domain === 'docker.io' || domain === 'index.docker.io' ? 'registry-1.docker.io' : domain;
  const tls = await loadCerts(path.join(opts.certsDir ?? defaultCertsDir, domain));
  return { name: domain, endpoint, insecure: isInsecure(domain, opts.insecureRegistries ?? []), tls };
}

/** Loopback (localhost, 127.0.0.0/8, ::1) is always insecure, as in Docker; else the configured list. */
export function isInsecure(domain: string, list: string[]): boolean {
  const host = hostOf(domain);
  if (host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))) return true;
  for (const entry of list) {
    if (entry === domain || entry === host) return true;
    if (entry.includes('/') && isIP(host) === 4 && inCidr(host, entry)) return true;
  }
  return false;
}

function hostOf(domain: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(domain);
  if (v6) return v6[1];
  return domain.replace(/:\d+$/, '');
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsRaw] = cidr.split('/');
  const bits = Number(bitsRaw);
  if (isIP(net) !== 4 || !(bits >= 0 && bits <= 32)) return false;
  const toInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(net) & mask) >>> 0);
}

async function loadCerts(dir: string): Promise<RegistryHost['tls']> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).sort();
  } catch {
    return {};
  }
  const tls: RegistryHost['tls'] = {};
  for (const n of names) {
    const file = path.join(dir, n);
    if (n.endsWith('.crt')) (tls.ca ??= []).push(await fs.readFile(file, 'utf8'));
    else if (n.endsWith('.cert')) tls.cert = await fs.readFile(file, 'utf8');
    else if (n.endsWith('.key')) tls.key = await fs.readFile(file, 'utf8');
  }
  return tls;
}
