import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { Conflict, InvalidArgument } from '../../common/errors.js';
import type { ContainerConfig, HostConfig } from '../containers/types.js';
import { writeContainerFiles } from './files.js';
import { linkEnv } from './links.js';
import type { NetworkService } from './service.js';

/**
 * Everything networking does for a container start, from the Docker API
 * shapes the container service already holds: the namespace for the OCI
 * spec, the three generated files to bind-mount, and the legacy link
 * variables to add to the environment. Undo with `svc.releaseContainer(id)`.
 *
 *   const net = await setupContainerNetwork(svc, { id, name: 'app', config, hostConfig,
 *     endpoints: body.NetworkingConfig?.EndpointsConfig, filesDir: `${ctrDir}/net`, linkInfo });
 *   // spec.linux.namespaces: { type: 'network', path: net.netnsPath } (none for host mode)
 *   // mounts: net.files.hosts → /etc/hosts, net.files.resolvConf → /etc/resolv.conf, net.files.hostname → /etc/hostname
 *   // env: [...env, ...net.env]
 */
export interface EndpointConfig {
  Aliases?: string[] | null;
  IPAMConfig?: { IPv4Address?: string } | null;
  MacAddress?: string;
}

export interface ContainerNetworkSpec {
  id: string;
  name: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** NetworkingConfig.EndpointsConfig, keyed by network name or ID. */
  endpoints?: Record<string, EndpointConfig> | null;
  /** Where hosts, resolv.conf and hostname are written. */
  filesDir: string;
  /** A linked container's identity, configured env and exposed ports (for ALIAS_ENV_*, ALIAS_PORT_*). */
  linkInfo?(ref: string): { id: string; name: string; env: string[]; exposed: string[] } | undefined;
  /** The NetworkMode network was disconnected while the container was stopped: start without it. */
  skipPrimary?: boolean;
  /** Resolves `container:<ref>` to a running container's ID. */
  resolveContainer?(ref: string): string | undefined;
}

export interface ContainerNetwork {
  /** Namespace to join; undefined means the host's (`--network host`). */
  netnsPath?: string;
  files: { hosts: string; resolvConf: string; hostname: string };
  /** Legacy link variables. */
  env: string[];
  /**
   * Resolves once the interfaces are up with their addresses and routes.
   * The namespace, addresses and files above are final already, so the OCI
   * runtime can create the container meanwhile; its process must not start
   * before. Absent when everything was done before returning. On failure the
   * container's networking is released.
   */
  ready?: Promise<void>;
}

/** Parses a HostConfig.Links entry: `db:mysql_host` (CLI form) or `/db:/app/mysql_host` (API form). */
export function parseLinkEntry(s: string): { name: string; alias: string } {
  const [name, alias] = s.split(':');
  if (!name) throw new InvalidArgument(`invalid link: ${s}`);
  return { name: name.replace(/^\//, ''), alias: (alias ?? name).split('/').filter(Boolean).pop() ?? name };
}

export async function setupContainerNetwork(svc: NetworkService, s: ContainerNetworkSpec): Promise<ContainerNetwork> {
  const mode = !s.hostConfig.NetworkMode || s.hostConfig.NetworkMode === 'default' ? 'bridge' : s.hostConfig.NetworkMode;
  const hostname = s.config.Hostname || (mode === 'host' ? os.hostname() : s.id.slice(0, 12));
  const fileOpts = { hostname, domainname: s.config.Domainname, extraHosts: s.hostConfig.ExtraHosts ?? [], dns: s.hostConfig.Dns ?? [],
    dnsSearch: s.hostConfig.DnsSearch ?? [], dnsOptions: s.hostConfig.DnsOptions ?? [] };

  if (mode === 'host') {
    const [hosts, resolv] = await Promise.all([fs.readFile('/etc/hosts', 'utf8').catch(() => ''), fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '')]);
    const files = await writeContainerFiles(s.filesDir, { hosts, resolvConf: resolv, hostname });
    return { files, env: [] };
  }
  if (mode.startsWith('container:')) {
    const ref = mode.slice('container:'.length);
    const other = s.resolveContainer?.(ref);
    const path = other ? svc.netnsPath(other) : undefined;
    if (!other || !path) throw new Conflict(`cannot join network of a non running container: ${ref}`);
    const files = await writeContainerFiles(s.filesDir, await svc.containerFiles(other, fileOpts));
    return { netnsPath: path, files, env: [] };
  }

  const eps = s.endpoints ?? {};
  // Without its NetworkMode network (disconnected while stopped) the container
  // joins its other networks, the first of them taking the primary's role, or none.
  const primaryRef = s.skipPrimary ? Object.keys(eps).find((k) => { try { svc.find(k); return true; } catch { return false; } }) : mode;
  const first = mode === 'none' || !primaryRef ? undefined : svc.find(primaryRef);
  const netnsPath = await svc.createNetns(s.id, s.name, { forDefaultBridge: !!first?.Default });
  try {
    const env: string[] = [];
    const links = (s.hostConfig.Links ?? []).map(parseLinkEntry);
    if (first) {
      const rest = Object.keys(eps).filter((k) => { try { return svc.find(k).Id !== first.Id; } catch { return true; } });
      for (const [ref, ep] of [[first.Name, eps[first.Name] ?? eps[first.Id] ?? {}] as const, ...rest.map((k) => [k, eps[k]] as const)]) {
        await svc.connect(s.id, {
          network: ref, name: s.name, aliases: ep?.Aliases ?? [], ip: ep?.IPAMConfig?.IPv4Address || undefined,
          mac: ep?.MacAddress || (ref === first.Name ? s.config.MacAddress : undefined) || undefined,
        });
      }
      await svc.publish(s.id, { PortBindings: s.hostConfig.PortBindings ?? undefined, ExposedPorts: s.config.ExposedPorts, PublishAllPorts: s.hostConfig.PublishAllPorts });
      for (const l of links) {
        const info = s.linkInfo?.(l.name);
        const target = svc.linkTarget(l.name);
        if (!info || !target) throw new InvalidArgument(`could not get container for ${l.name}`);
        env.push(...linkEnv({ alias: l.alias, name: info.name, ip: target.ip, ports: info.exposed, env: info.env, linkingName: s.name }));
      }
    }
    const files = await writeContainerFiles(s.filesDir, await svc.containerFiles(s.id, { ...fileOpts, links: first ? links : [] }));
    const ready = svc.ready(s.id).catch(async (e) => {
      await svc.releaseContainer(s.id).catch(() => {});
      throw e;
    });
    // runc writes net.* sysctls into the namespace while it creates the
    // container: they may name eth0, which must exist by then.
    if (Object.keys(s.hostConfig.Sysctls ?? {}).some((k) => k.startsWith('net.'))) {
      await ready;
      return { netnsPath, files, env };
    }
    ready.catch(() => {}); // the caller awaits it; this only keeps an early failure from counting as unhandled
    return { netnsPath, files, env, ready };
  } catch (e) {
    await svc.releaseContainer(s.id).catch(() => {});
    throw e;
  }
}
