/**
 * The keys a compose file may hold and their types, checked on each file
 * before merging so an error names the file and line it came from.
 * Extension keys (`x-...`) are allowed at the top level and in services.
 *
 *   checkShape(value, serviceSchema, ['services', 'web'], report)
 */
export type Kind =
  | 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'any'
  | { list: Kind } | { map: Kind } | { obj: Record<string, Kind>; extensions?: boolean } | { oneOf: Kind[] };

const str: Kind = 'string';
const scalar: Kind = { oneOf: ['string', 'number', 'boolean', 'null'] };
const strList: Kind = { list: 'string' };
const strOrList: Kind = { oneOf: ['string', strList] };
const listOrMap: Kind = { oneOf: [{ list: { oneOf: ['string', 'number'] } }, { map: scalar }] };
const strOrNum: Kind = { oneOf: ['string', 'number'] };

const healthcheck: Kind = { obj: { test: strOrList, interval: str, timeout: str, start_period: str, start_interval: str, retries: 'number', disable: 'boolean' } };
const build: Kind = {
  oneOf: ['string', { obj: { context: str, dockerfile: str, args: listOrMap, target: str, labels: listOrMap, network: str,
    cache_from: strList, shm_size: strOrNum, extra_hosts: listOrMap, dockerfile_inline: str, pull: 'boolean', no_cache: 'boolean',
    // Accepted so real files load; the classic builder has no use for them.
    tags: strList, platforms: strList, ssh: 'any', secrets: 'any', cache_to: strList, isolation: str, privileged: 'boolean',
    additional_contexts: 'any' }, extensions: true }],
};
const resources: Kind = { obj: { cpus: strOrNum, memory: strOrNum, pids: 'integer' } };
const deploy: Kind = {
  obj: {
    mode: str, replicas: 'integer', labels: listOrMap, endpoint_mode: str,
    resources: { obj: { limits: resources, reservations: { obj: { cpus: strOrNum, memory: strOrNum, devices: 'any' } } } },
    restart_policy: { obj: { condition: str, delay: str, max_attempts: 'integer', window: str } },
    placement: 'any', update_config: 'any', rollback_config: 'any',
  },
};
const port: Kind = { oneOf: ['string', 'number', { obj: { target: 'integer', published: strOrNum, host_ip: str, protocol: str, mode: str, name: str, app_protocol: str } }] };
const volume: Kind = {
  oneOf: ['string', { obj: { type: str, source: str, target: str, read_only: 'boolean', consistency: str,
    bind: { obj: { propagation: str, create_host_path: 'boolean', selinux: str } },
    volume: { obj: { nocopy: 'boolean', subpath: str } }, tmpfs: { obj: { size: strOrNum, mode: 'number' } } } }],
};
const dependsOn: Kind = { oneOf: [strList, { map: { obj: { condition: str, required: 'boolean', restart: 'boolean' } } }] };
const serviceNetworks: Kind = {
  oneOf: [strList, { map: { oneOf: ['null', { obj: { aliases: strList, ipv4_address: str, ipv6_address: str, priority: 'number', link_local_ips: strList, mac_address: str } }] } }],
};

export const serviceSchema: Kind = {
  extensions: true,
  obj: {
    image: str, build, command: { oneOf: ['string', strList, 'null'] }, entrypoint: { oneOf: ['string', strList, 'null'] },
    environment: listOrMap, env_file: { oneOf: ['string', { list: { oneOf: ['string', { obj: { path: str, required: 'boolean' } }] } }] },
    ports: { list: port }, expose: { list: strOrNum }, volumes: { list: volume }, volumes_from: strList,
    links: strList, external_links: strList, depends_on: dependsOn, networks: serviceNetworks, network_mode: str,
    net: str, restart: str, healthcheck, labels: listOrMap, container_name: str, hostname: str, domainname: str,
    working_dir: str, user: str, tty: 'boolean', stdin_open: 'boolean', privileged: 'boolean', read_only: 'boolean',
    cap_add: strList, cap_drop: strList, dns: strOrList, dns_search: strOrList, extra_hosts: listOrMap, tmpfs: strOrList,
    ulimits: { map: { oneOf: ['integer', { obj: { soft: 'integer', hard: 'integer' } }] } },
    mem_limit: strOrNum, memswap_limit: strOrNum, mem_reservation: strOrNum, cpus: strOrNum, cpu_shares: strOrNum, cpuset: str,
    pids_limit: strOrNum, shm_size: strOrNum, deploy, scale: 'integer', init: 'boolean', stop_signal: str,
    stop_grace_period: str, profiles: strList, extends: { oneOf: ['string', { obj: { service: str, file: str } }] },
    pull_policy: str, logging: { obj: { driver: str, options: { map: { oneOf: ['string', 'number', 'null'] } } } },
    log_driver: str, log_opt: { map: str }, security_opt: strList, sysctls: listOrMap, devices: strList, ipc: str,
    pid: str, platform: str, platforms: strList, mac_address: str, oom_score_adj: 'integer', group_add: { list: strOrNum },
    secrets: 'any', configs: 'any', cgroup_parent: str, volume_driver: str, userns_mode: str, runtime: str, dns_opt: strList,
    cpu_period: 'integer', cpu_quota: 'integer', oom_kill_disable: 'boolean', uts: str,
    // Accepted so real files load, and ignored: no engine support behind them here.
    annotations: 'any', attach: 'boolean', blkio_config: 'any', cpu_count: 'integer', cpu_percent: 'integer', cpu_rt_runtime: 'any',
    cpu_rt_period: 'any', credential_spec: 'any', develop: 'any', device_cgroup_rules: strList, gpus: 'any', isolation: str,
    mem_swappiness: 'integer', post_start: 'any', pre_stop: 'any', storage_opt: 'any',
  },
};

const ipam: Kind = { obj: { driver: str, config: { list: { obj: { subnet: str, gateway: str, ip_range: str, aux_addresses: 'any' } } }, options: { map: str } } };
const external: Kind = { oneOf: ['boolean', { obj: { name: str } }] };
export const networkSchema: Kind = {
  oneOf: ['null', { extensions: true, obj: { name: str, driver: str, driver_opts: { map: strOrNum }, ipam, internal: 'boolean', attachable: 'boolean', enable_ipv6: 'boolean', external, labels: listOrMap } }],
};
export const volumeSchema: Kind = {
  oneOf: ['null', { extensions: true, obj: { name: str, driver: str, driver_opts: { map: strOrNum }, external, labels: listOrMap } }],
};

export const topSchema: Kind = {
  extensions: true,
  obj: {
    version: strOrNum, name: str, services: { map: serviceSchema }, networks: { map: networkSchema },
    volumes: { map: volumeSchema }, secrets: 'any', configs: 'any',
  },
};

/** Reports the first mismatch: `services.web.tty must be a boolean`. */
export type Report = (path: (string | number)[], message: string) => never;

export function checkShape(value: unknown, kind: Kind, path: (string | number)[], report: Report): void {
  if (matches(value, kind, path, report)) return;
  report(path, `${dotted(path)} must be ${describe(kind)}`);
}

function matches(value: unknown, kind: Kind, path: (string | number)[], report: Report): boolean {
  if (typeof kind === 'string') return primitive(value, kind);
  if ('oneOf' in kind) {
    // Pick the alternative whose container type fits, then check inside it, so
    // the error points at the deepest wrong key rather than at the whole value.
    for (const k of kind.oneOf) if (shallow(value, k)) return matches(value, k, path, report);
    return false;
  }
  if ('list' in kind) {
    if (!Array.isArray(value)) return false;
    value.forEach((v, i) => checkShape(v, kind.list, [...path, i], report));
    return true;
  }
  if (!isPlainObject(value)) return false;
  if ('map' in kind) {
    for (const [k, v] of Object.entries(value)) checkShape(v, kind.map, [...path, k], report);
    return true;
  }
  for (const [k, v] of Object.entries(value)) {
    if (kind.extensions && k.startsWith('x-')) continue;
    const sub = kind.obj[k];
    if (!sub) report([...path, k], `${path.length ? dotted(path) : '(root)'} additional properties '${k}' not allowed`);
    checkShape(v, sub, [...path, k], report);
  }
  return true;
}

function shallow(value: unknown, kind: Kind): boolean {
  if (typeof kind === 'string') return primitive(value, kind);
  if ('oneOf' in kind) return kind.oneOf.some((k) => shallow(value, k));
  if ('list' in kind) return Array.isArray(value);
  return isPlainObject(value);
}

function primitive(value: unknown, kind: string): boolean {
  switch (kind) {
    case 'any': return true;
    case 'string': return typeof value === 'string';
    case 'number': return typeof value === 'number';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'boolean': return typeof value === 'boolean';
    case 'null': return value === null;
  }
  return false;
}

function describe(kind: Kind): string {
  if (typeof kind === 'string') return ({ string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean', null: 'null', any: 'anything' } as Record<string, string>)[kind];
  if ('oneOf' in kind) return kind.oneOf.map(describe).join(' or ');
  if ('list' in kind) return 'a list';
  return 'a mapping';
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function dotted(path: (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
}
