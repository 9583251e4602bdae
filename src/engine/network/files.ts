import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { InvalidArgument } from '../../common/errors.js';
import { isIPv4 } from './ipam.js';

/**
 * The three files Docker generates for every container: /etc/hosts,
 * /etc/resolv.conf and /etc/hostname. Generators are pure (text in, text
 * out); `writeContainerFiles` puts them in a directory the runtime bind-mounts.
 *
 *   const text = hostsFile({ hostname: 'web', ips: ['172.17.0.2'], extraHosts: ['db:10.0.0.5'] });
 */
export interface HostsOptions {
  hostname: string;
  domainname?: string;
  /** The container's own addresses (one per network). */
  ips: string[];
  /** `--add-host name:ip` entries; the ip may be `host-gateway`. */
  extraHosts?: string[];
  /** What `host-gateway` stands for (the default bridge's gateway unless configured). */
  hostGateway?: string;
  /** Legacy `--link` targets. */
  links?: { alias: string; name: string; id: string; ip: string }[];
}

export function hostsFile(o: HostsOptions): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const l of o.links ?? []) {
    const names = [l.alias, l.id.slice(0, 12), l.name.replace(/^\//, '')].filter((n, i, a) => a.indexOf(n) === i);
    lines.push(`${l.ip}\t${names.join(' ')}`);
  }
  for (const h of o.extraHosts ?? []) {
    const { name, ip } = parseExtraHost(h, o.hostGateway);
    lines.push(`${ip}\t${name}`);
  }
  const fqdn = o.domainname ? `${o.hostname}.${o.domainname} ${o.hostname}` : o.hostname;
  for (const ip of o.ips) lines.push(`${ip}\t${fqdn}`);
  return lines.join('\n') + '\n';
}

/** `name:ip` (or `name=ip`); `host-gateway` is replaced by the host's gateway address. */
export function parseExtraHost(s: string, hostGateway?: string): { name: string; ip: string } {
  const i = s.search(/[:=]/);
  if (i <= 0) throw new InvalidArgument(`invalid argument "${s}" for "--add-host" flag: bad format for add-host: "${s}"`);
  const name = s.slice(0, i);
  let ip = s.slice(i + 1).replace(/^\[|\]$/g, '');
  if (ip === 'host-gateway') {
    if (!hostGateway) throw new InvalidArgument('unable to derive the IP value for host-gateway');
    ip = hostGateway;
  }
  if (!isIPv4(ip) && !/^[0-9a-fA-F:]+$/.test(ip)) throw new InvalidArgument(`invalid IP address in add-host: "${ip}"`);
  return { name, ip };
}

export interface ResolvConf { nameservers: string[]; search: string[]; options: string[] }

export function parseResolvConf(text: string): ResolvConf {
  const r: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) r.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') r.search = rest;
    else if (key === 'options') r.options.push(...rest);
  }
  return r;
}

function isLoopback(ns: string): boolean {
  return ns.startsWith('127.') || ns === '::1';
}

/** The host's resolvers a container can reach: loopback ones are unreachable from its netns. */
export function upstreamResolvers(host: ResolvConf): string[] {
  return host.nameservers.filter((n) => !isLoopback(n));
}

export interface ResolvOptions {
  host: ResolvConf;
  /** The embedded DNS server address (user networks); host resolvers become its upstreams. */
  embeddedDns?: string;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
}

/** resolv.conf as Docker writes it: explicit flags win, then embedded DNS, then host resolvers minus loopback, then Google's. */
export function resolvConfFile(o: ResolvOptions): string {
  let servers: string[];
  if (o.dns?.length) servers = o.dns;
  else if (o.embeddedDns) servers = [o.embeddedDns];
  else {
    servers = upstreamResolvers(o.host);
    if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
  }
  const search = o.dnsSearch?.length ? o.dnsSearch.filter((s) => s !== '.') : o.host.search;
  const options = o.dnsOptions?.length ? o.dnsOptions : o.host.options;
  const lines = servers.map((s) => `nameserver ${s}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

const runState = { durable: false };

/**
 * Writes hosts, resolv.conf and hostname into `dir` (created if missing), each
 * atomically. Not fsynced: they are made again at every start, so a power loss
 * costs nothing, while six fsyncs were the slowest step of a container's
 * network set-up (8-16 ms of a start on a busy disk).
 */
export async function writeContainerFiles(dir: string, files: { hosts: string; resolvConf: string; hostname: string }): Promise<{ hosts: string; resolvConf: string; hostname: string }> {
  await fs.mkdir(dir, { recursive: true });
  const out = { hosts: path.join(dir, 'hosts'), resolvConf: path.join(dir, 'resolv.conf'), hostname: path.join(dir, 'hostname') };
  await Promise.all([
    writeFileAtomic(out.hosts, files.hosts, 0o644, runState),
    writeFileAtomic(out.resolvConf, files.resolvConf, 0o644, runState),
    writeFileAtomic(out.hostname, files.hostname.endsWith('\n') ? files.hostname : files.hostname + '\n', 0o644, runState),
  ]);
  return out;
}
