import type { HostConfig, Mount, PortBinding } from '../engine/containers/types.js';
import type { Project, Service } from './model.js';
import type { CreateContainerBody, CreateNetworkBody, CreateVolumeBody, EndpointSettings } from './engine.js';
import { serviceConfigHash } from './hash.js';

/** The compose version compose records on what it creates (`com.docker.compose.version`). */
export const composeVersion = '2.24.0';

export const L = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  hash: 'com.docker.compose.config-hash',
  oneoff: 'com.docker.compose.oneoff',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
} as const;

/**
 * Container names as compose makes them: `container_name` if set, else
 * `<project>-<service>-<n>`, or `<project>_<service>_<n>` for version 1
 * files and `--compatibility`.
 *
 *   containerName(project, project.services.web, 2) // → 'app-web-2'
 */
export function containerName(project: Project, s: Service, n: number): string {
  if (s.container_name) return s.container_name;
  const sep = project.legacy ? '_' : '-';
  return `${project.name}${sep}${s.name}${sep}${n}`;
}

/** One-off (`run`) container names: `<project>-<service>-run-<id12>` / `<project>_<service>_run_<id12>`. */
export function oneoffName(project: Project, s: Service, suffix: string): string {
  const sep = project.legacy ? '_' : '-';
  return `${project.name}${sep}${s.name}${sep}run${sep}${suffix}`;
}

export function containerLabels(project: Project, s: Service, n: number, oneoff = false, imageId?: string): Record<string, string> {
  const deps = Object.entries(s.depends_on).sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([d, o]) => `${d}:${o.condition}:${o.restart ?? false}`).join(',');
  return {
    ...s.labels,
    [L.project]: project.name,
    [L.service]: s.name,
    [L.number]: String(n),
    [L.hash]: serviceConfigHash(s),
    [L.oneoff]: oneoff ? 'True' : 'False',
    [L.workingDir]: project.workingDir,
    [L.configFiles]: project.configFiles.join(','),
    [L.version]: composeVersion,
    [L.dependsOn]: deps,
    [L.image]: imageId ?? imageName(project, s),
  };
}

/** The image a service runs: `image`, else the one `build` makes, `<project>-<service>` (`_` for legacy). */
export function imageName(project: Project, s: Service): string {
  return s.image ?? `${project.name}${project.legacy ? '_' : '-'}${s.name}`;
}

/**
 * Where the other services' containers will be, by service, so links,
 * volumes_from and `network_mode: service:x` can name them.
 */
export type ContainerNames = Record<string, string[]>;

/**
 * The `POST /containers/create` body for container `n` of a service.
 *
 *   createBody(project, project.services.web, 1, { db: ['app-db-1'] })
 *   // → { Image: 'nginx', Labels: {...}, HostConfig: { NetworkMode: 'app_default', ... }, NetworkingConfig: {...} }
 */
export function createBody(project: Project, s: Service, n: number, names: ContainerNames,
  opts: { oneoff?: boolean; imageId?: string; name?: string } = {}): CreateContainerBody {
  const name = opts.name ?? containerName(project, s, n);
  const env = Object.keys(s.environment).sort().filter((k) => s.environment[k] !== null).map((k) => `${k}=${s.environment[k]}`);
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const p of s.ports) {
    const key = `${p.target}/${p.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
  }
  for (const e of s.expose) exposed[e.includes('/') ? e : `${e}/tcp`] = {};

  const binds: string[] = [];
  const mounts: Mount[] = [];
  const anonymous: Record<string, object> = {};
  const tmpfs: Record<string, string> = {};
  for (const v of s.volumes) {
    if (v.type === 'tmpfs') {
      tmpfs[v.target] = v.tmpfs?.size ? `size=${v.tmpfs.size}` : '';
    } else if (v.type === 'volume' && !v.source) {
      anonymous[v.target] = {};
    } else if (v.type === 'volume' && v.volume?.nocopy) {
      mounts.push({ Type: 'volume', Source: volumeEngineName(project, v.source!), Target: v.target, ReadOnly: !!v.read_only, VolumeOptions: { NoCopy: true } });
    } else {
      const source = v.type === 'volume' ? volumeEngineName(project, v.source!) : v.source!;
      const mode = [v.read_only ? 'ro' : 'rw', ...(v.bind?.propagation ? [v.bind.propagation] : [])].join(',');
      binds.push(`${source}:${v.target}:${mode}`);
    }
  }
  for (const t of s.tmpfs) {
    const i = t.indexOf(':');
    if (i < 0) tmpfs[t] = '';
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }

  const first = (svc: string): string => names[svc]?.[0] ?? containerName(project, project.services[svc] ?? { name: svc } as Service, 1);
  // Alias → container, as docker-compose builds it: a link alias names the
  // service's last container, and every container is also reachable by its
  // own name and as `<service>_<n>` (`<service>-<n>`).
  const links = new Map<string, string>();
  const sep = project.legacy ? '_' : '-';
  for (const l of s.links) {
    const [svc, alias = svc] = l.split(':');
    for (const c of names[svc] ?? []) {
      links.set(alias, c);
      links.set(c, c);
      const m = /[-_](\d+)$/.exec(c);
      if (m) links.set(`${svc}${sep}${m[1]}`, c);
    }
  }
  for (const l of s.external_links) {
    const [c, alias = c] = l.split(':');
    links.set(alias, c);
  }
  const volumesFrom = s.volumes_from.map((v) => {
    if (v.startsWith('container:')) return v.slice(10);
    const [svc, mode] = v.split(':');
    return mode ? `${first(svc)}:${mode}` : first(svc);
  });

  const linkList = [...links].map(([alias, c]) => `${c}:${alias}`);
  let networkMode: string;
  const endpoints: Record<string, EndpointSettings> = {};
  const netKeys = Object.keys(s.networks);
  if (s.network_mode) {
    networkMode = s.network_mode.startsWith('service:') ? `container:${first(s.network_mode.slice(8))}` : s.network_mode;
  } else if (netKeys.length === 0) {
    networkMode = 'bridge';
  } else {
    const primary = primaryNetwork(s);
    networkMode = project.networks[primary].name;
    endpoints[networkMode] = endpointFor(s, primary, { name, links: linkList, oneoff: opts.oneoff });
  }

  const memory = s.mem_limit ?? s.deploy?.resources?.limits?.memory;
  const cpus = s.cpus ?? s.deploy?.resources?.limits?.cpus;
  const host: HostConfig = {
    Binds: binds,
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restartPolicy(s),
    // The engine honours HostConfig links on the default bridge only; on
    // project networks they ride on each endpoint, as docker compose sends them.
    Links: linkList.length && networkMode === 'bridge' ? linkList : null,
    VolumesFrom: volumesFrom.length ? volumesFrom : null,
    ...(mounts.length ? { Mounts: mounts } : {}),
    ...(Object.keys(tmpfs).length ? { Tmpfs: tmpfs } : {}),
    ...(s.privileged !== undefined ? { Privileged: s.privileged } : {}),
    ...(s.read_only !== undefined ? { ReadonlyRootfs: s.read_only } : {}),
    ...(s.cap_add.length ? { CapAdd: s.cap_add } : {}),
    ...(s.cap_drop.length ? { CapDrop: s.cap_drop } : {}),
    ...(s.dns.length ? { Dns: s.dns } : {}),
    ...(s.dns_search.length ? { DnsSearch: s.dns_search } : {}),
    ...(s.extra_hosts.length ? { ExtraHosts: s.extra_hosts } : {}),
    ...(s.security_opt.length ? { SecurityOpt: s.security_opt } : {}),
    ...(Object.keys(s.sysctls).length ? { Sysctls: s.sysctls } : {}),
    ...(Object.keys(s.ulimits).length ? { Ulimits: Object.entries(s.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })) } : {}),
    ...(memory !== undefined ? { Memory: memory } : {}),
    ...(s.mem_reservation !== undefined ? { MemoryReservation: s.mem_reservation } : {}),
    ...(cpus !== undefined ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
    ...(s.cpu_shares !== undefined ? { CpuShares: s.cpu_shares } : {}),
    ...(s.pids_limit !== undefined ? { PidsLimit: s.pids_limit } : {}),
    ...(s.shm_size !== undefined ? { ShmSize: s.shm_size } : {}),
    ...(s.init !== undefined ? { Init: s.init } : {}),
    ...(s.ipc ? { IpcMode: s.ipc } : {}),
    ...(s.pid ? { PidMode: s.pid } : {}),
    ...(s.uts ? { UTSMode: s.uts } : {}),
    ...(s.cpuset ? { CpusetCpus: s.cpuset } : {}),
    ...(s.cpu_period !== undefined ? { CpuPeriod: s.cpu_period } : {}),
    ...(s.cpu_quota !== undefined ? { CpuQuota: s.cpu_quota } : {}),
    ...(s.memswap_limit !== undefined ? { MemorySwap: s.memswap_limit } : {}),
    ...(s.oom_score_adj !== undefined ? { OomScoreAdj: s.oom_score_adj } : {}),
    ...(s.oom_kill_disable !== undefined ? { OomKillDisable: s.oom_kill_disable } : {}),
    ...(s.group_add.length ? { GroupAdd: s.group_add } : {}),
    ...(s.dns_opt.length ? { DnsOptions: s.dns_opt } : {}),
    ...(s.runtime ? { Runtime: s.runtime } : {}),
    ...(s.logging?.driver ? { LogConfig: { Type: s.logging.driver, Config: s.logging.options ?? {} } } : {}),
    ...(s.devices.length ? { Devices: s.devices.map(device) } : {}),
  };

  // Passed through to the engine though the shared HostConfig type does not name them.
  Object.assign(host, { ...(s.cgroup_parent ? { CgroupParent: s.cgroup_parent } : {}), ...(s.userns_mode ? { UsernsMode: s.userns_mode } : {}) });

  const body: CreateContainerBody = {
    Image: imageName(project, s),
    Labels: containerLabels(project, s, n, opts.oneoff, opts.imageId),
    Env: env,
    ...(s.command !== undefined ? { Cmd: s.command } : {}),
    ...(s.entrypoint !== undefined ? { Entrypoint: s.entrypoint } : {}),
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    ...(Object.keys(anonymous).length ? { Volumes: anonymous } : {}),
    ...(s.tty !== undefined ? { Tty: s.tty } : {}),
    ...(s.stdin_open !== undefined ? { OpenStdin: s.stdin_open } : {}),
    ...(s.hostname ? { Hostname: s.hostname } : {}),
    ...(s.domainname ? { Domainname: s.domainname } : {}),
    ...(s.mac_address ? { MacAddress: s.mac_address } : {}),
    ...(s.user ? { User: s.user } : {}),
    ...(s.working_dir ? { WorkingDir: s.working_dir } : {}),
    ...(s.stop_signal ? { StopSignal: s.stop_signal } : {}),
    ...(s.stop_grace_period !== undefined ? { StopTimeout: Math.round(s.stop_grace_period / 1e9) } : {}),
    ...(s.healthcheck ? { Healthcheck: {
      ...(s.healthcheck.test ? { Test: s.healthcheck.test } : {}),
      ...(s.healthcheck.interval !== undefined ? { Interval: s.healthcheck.interval } : {}),
      ...(s.healthcheck.timeout !== undefined ? { Timeout: s.healthcheck.timeout } : {}),
      ...(s.healthcheck.start_period !== undefined ? { StartPeriod: s.healthcheck.start_period } : {}),
      ...(s.healthcheck.retries !== undefined ? { Retries: s.healthcheck.retries } : {}),
    } } : {}),
    HostConfig: host,
    ...(Object.keys(endpoints).length ? { NetworkingConfig: { EndpointsConfig: endpoints } } : {}),
  };
  return body;
}

/** The network a container is created on; the rest are connected after creation. */
export function primaryNetwork(s: Service): string {
  return Object.keys(s.networks).sort()[0];
}

/**
 * Endpoint settings on one of the service's networks: reachable by its
 * container name, its service name and its aliases (one-offs by name only),
 * and by its links' aliases.
 */
export function endpointFor(s: Service, key: string, c: { name: string; links?: string[]; oneoff?: boolean }): EndpointSettings {
  const cfg = s.networks[key];
  const aliases = c.oneoff ? [c.name] : [c.name, s.name, ...(cfg?.aliases ?? [])];
  const e: EndpointSettings = { Aliases: aliases };
  if (c.links?.length) e.Links = c.links;
  if (cfg?.ipv4_address || cfg?.ipv6_address) {
    e.IPAMConfig = { ...(cfg.ipv4_address ? { IPv4Address: cfg.ipv4_address } : {}), ...(cfg.ipv6_address ? { IPv6Address: cfg.ipv6_address } : {}) };
  }
  return e;
}

function restartPolicy(s: Service): HostConfig['RestartPolicy'] {
  const r = s.restart ?? ({ any: 'always', 'on-failure': 'on-failure', none: 'no' } as Record<string, string>)[s.deploy?.restart_policy?.condition ?? ''];
  if (!r) return { Name: 'no' };
  const m = /^on-failure:(\d+)$/.exec(r);
  if (m) return { Name: 'on-failure', MaximumRetryCount: Number(m[1]) };
  if (r === 'on-failure' && s.deploy?.restart_policy?.max_attempts) return { Name: 'on-failure', MaximumRetryCount: s.deploy.restart_policy.max_attempts };
  return { Name: r as 'no' };
}

function device(d: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const [host, inside = host, perms = 'rwm'] = d.split(':');
  return { PathOnHost: host, PathInContainer: inside, CgroupPermissions: perms };
}

/** Named volumes go by their engine name; in fig files an undeclared name is used as written. */
export function volumeEngineName(project: Project, source: string): string {
  return project.volumes[source]?.name ?? source;
}

export function networkCreateBody(project: Project, key: string): CreateNetworkBody {
  const n = project.networks[key];
  return {
    Name: n.name, CheckDuplicate: true,
    ...(n.driver ? { Driver: n.driver } : {}),
    ...(n.internal !== undefined ? { Internal: n.internal } : {}),
    ...(n.attachable !== undefined ? { Attachable: n.attachable } : {}),
    ...(n.enable_ipv6 !== undefined ? { EnableIPv6: n.enable_ipv6 } : {}),
    ...(n.ipam ? { IPAM: { ...(n.ipam.driver ? { Driver: n.ipam.driver } : {}), Config: n.ipam.config.map((c) => ({
      ...(c.subnet ? { Subnet: c.subnet } : {}), ...(c.gateway ? { Gateway: c.gateway } : {}), ...(c.ip_range ? { IPRange: c.ip_range } : {}) })) } } : {}),
    ...(Object.keys(n.driver_opts).length ? { Options: n.driver_opts } : {}),
    Labels: { ...n.labels, [L.project]: project.name, [L.network]: key, [L.version]: composeVersion },
  };
}

export function volumeCreateBody(project: Project, key: string): CreateVolumeBody {
  const v = project.volumes[key];
  return {
    Name: v.name,
    ...(v.driver ? { Driver: v.driver } : {}),
    ...(Object.keys(v.driver_opts).length ? { DriverOpts: v.driver_opts } : {}),
    Labels: { ...v.labels, [L.project]: project.name, [L.volume]: key, [L.version]: composeVersion },
  };
}
