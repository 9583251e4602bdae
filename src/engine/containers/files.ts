import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../common/atomic-file.js';

/**
 * The per-container files bind-mounted over /etc/hostname, /etc/hosts and
 * /etc/resolv.conf, kept in the container's directory so they survive
 * restarts and can be rewritten (links, network connect) while it runs.
 */
export interface GeneratedFiles { hostname: string; hosts: string; resolvConf: string }

export async function writeContainerFiles(dir: string, opts: {
  hostname: string;
  domainname?: string;
  extraHosts?: string[];
  ownAddresses?: string[];
  hostNetwork?: boolean;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
}): Promise<GeneratedFiles> {
  const files = {
    hostname: path.join(dir, 'hostname'),
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
  };
  // Made again at every start: atomic against a crash, not fsynced (a power loss costs nothing).
  const write = (file: string, text: string) => writeFileAtomic(file, text, 0o644, { durable: false });
  if (opts.hostNetwork) {
    const [hosts, resolv] = await Promise.all([readOr('/etc/hosts', '127.0.0.1\tlocalhost\n'), readOr('/etc/resolv.conf', '')]);
    await Promise.all([write(files.hostname, opts.hostname + '\n'), write(files.hosts, hosts), write(files.resolvConf, resolv)]);
    return files;
  }
  const fqdn = opts.domainname ? `${opts.hostname}.${opts.domainname}` : opts.hostname;
  const hosts = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    ...(opts.extraHosts ?? []).map(formatExtraHost),
    ...(opts.ownAddresses ?? []).map((ip) => `${ip}\t${fqdn === opts.hostname ? fqdn : `${fqdn} ${opts.hostname}`}`),
  ];
  const resolv = resolvConf(await readOr('/etc/resolv.conf', ''), opts);
  await Promise.all([write(files.hostname, opts.hostname + '\n'), write(files.hosts, hosts.join('\n') + '\n'), write(files.resolvConf, resolv)]);
  return files;
}

/** `--add-host name:ip` (or `name=ip`) becomes a hosts line `ip\tname`. */
function formatExtraHost(spec: string): string {
  const m = /^([^:=]+)[:=](.+)$/.exec(spec);
  if (!m) return `# invalid --add-host ${spec}`;
  return `${m[2].replace(/^\[|\]$/g, '')}\t${m[1]}`;
}

/** The host's resolv.conf without loopback resolvers, which a container cannot reach. */
export function resolvConf(host: string, opts: { dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[] }): string {
  const lines = host.split('\n');
  let servers = lines.map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s)
    .filter((s) => !s.startsWith('127.') && s !== '::1');
  let search = lines.map((l) => /^\s*(?:search|domain)\s+(.+)/.exec(l)?.[1]).filter((s): s is string => !!s).flatMap((s) => s.split(/\s+/));
  let options = lines.map((l) => /^\s*options\s+(.+)/.exec(l)?.[1]).filter((s): s is string => !!s).flatMap((s) => s.split(/\s+/));
  if (opts.dns?.length) servers = opts.dns;
  if (opts.dnsSearch?.length) search = opts.dnsSearch.filter((s) => s !== '.');
  if (opts.dnsOptions?.length) options = opts.dnsOptions;
  // Docker falls back to public resolvers when the host only has loopback ones.
  if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
  const out: string[] = [];
  if (search.length) out.push(`search ${search.join(' ')}`);
  out.push(...servers.map((s) => `nameserver ${s}`));
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}

async function readOr(file: string, dflt: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return dflt;
  }
}

/** The files of a container started without a network service (unit tests, minimal daemons). */
export async function writeStandaloneFiles(dir: string, rec: { Id: string; Config: { Hostname?: string; Domainname?: string }; HostConfig: { ExtraHosts?: string[] | null; NetworkMode?: string; Dns?: string[] | null; DnsSearch?: string[] | null; DnsOptions?: string[] | null } }): Promise<GeneratedFiles> {
  return writeContainerFiles(dir, {
    hostname: rec.Config.Hostname ?? rec.Id.slice(0, 12),
    domainname: rec.Config.Domainname,
    extraHosts: rec.HostConfig.ExtraHosts ?? [],
    hostNetwork: rec.HostConfig.NetworkMode === 'host',
    dns: rec.HostConfig.Dns ?? [],
    dnsSearch: rec.HostConfig.DnsSearch ?? [],
    dnsOptions: rec.HostConfig.DnsOptions ?? [],
  });
}
