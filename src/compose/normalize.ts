import { existsSync } from 'node:fs';
import type { BuildConfig, DependsOn, Healthcheck, NetworkConfig, Service, ServiceNetwork, VolumeConfig } from './model.js';
import { parseBytes, parseDuration } from './units.js';
import { listOrMap, parsePorts, parseVolume, resolvePath, shellSplit, isPathSource } from './syntax.js';
import { readDotenv } from './dotenv.js';
import type { Env } from './interpolate.js';
import { isPlainObject } from './schema.js';

/** Where a service's values come from: relative paths resolve against `baseDir`; `env` fills bare variables. */
export interface NormalizeContext {
  baseDir: string;
  env: Env;
  /** Reports a bad value at a path inside the service (`['ports', 0]`). */
  report: (path: (string | number)[], message: string) => never;
}

/** An empty service: every list and map present, every scalar unset. Merging fills it in. */
export function emptyService(name: string): Service {
  return {
    name, environment: {}, ports: [], expose: [], volumes: [], volumes_from: [], links: [], external_links: [],
    depends_on: {}, networks: {}, labels: {}, cap_add: [], cap_drop: [], dns: [], dns_search: [], extra_hosts: [],
    tmpfs: [], ulimits: {}, profiles: [], security_opt: [], sysctls: {}, devices: [], group_add: [], dns_opt: [],
  };
}

/**
 * Turns one raw, already type-checked service mapping into the model. Keys
 * absent from `raw` stay unset, so an override file's partial service
 * merges cleanly over the base.
 */
export function normalizeService(name: string, raw: Record<string, unknown>, ctx: NormalizeContext): Service {
  const s = emptyService(name);
  const at = <T>(key: string | (string | number)[], fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      return ctx.report(Array.isArray(key) ? key : [key], `service "${name}": ${(err as Error).message}`);
    }
  };
  const r = raw as Record<string, any>;
  if (r.image !== undefined) s.image = r.image;
  if (r.build !== undefined) s.build = normalizeBuild(r.build, ctx.baseDir);
  if (r.command !== undefined) s.command = at('command', () => commandList(r.command));
  if (r.entrypoint !== undefined) s.entrypoint = at('entrypoint', () => commandList(r.entrypoint));
  if (r.env_file !== undefined) {
    const files: unknown[] = Array.isArray(r.env_file) ? r.env_file : [r.env_file];
    files.forEach((f, i) => {
      const path = resolvePath(typeof f === 'string' ? f : (f as { path: string }).path, ctx.baseDir);
      const required = typeof f === 'string' ? true : (f as { required?: boolean }).required !== false;
      if (!existsSync(path)) {
        if (required) ctx.report(['env_file', i], `service "${name}": env file ${path} not found`);
        return;
      }
      Object.assign(s.environment, at(['env_file', i], () => readDotenv(path, ctx.env)));
    });
  }
  if (r.environment !== undefined) {
    for (const [k, v] of Object.entries(listOrMap(r.environment))) s.environment[k] = v ?? ctx.env[k] ?? null;
  }
  if (r.ports !== undefined) {
    (r.ports as unknown[]).forEach((p, i) => {
      if (isPlainObject(p)) {
        if (typeof p.target !== 'number') ctx.report(['ports', i], `service "${name}": port target is required`);
        s.ports.push({ mode: (p.mode as 'host') ?? 'ingress', target: p.target as number, protocol: (p.protocol as 'tcp') ?? 'tcp',
          ...(p.published !== undefined ? { published: String(p.published) } : {}), ...(p.host_ip ? { host_ip: p.host_ip as string } : {}) });
      } else s.ports.push(...at(['ports', i], () => parsePorts(p as string)));
    });
  }
  if (r.expose !== undefined) s.expose = (r.expose as unknown[]).map(String);
  if (r.volumes !== undefined) {
    (r.volumes as unknown[]).forEach((v, i) => {
      if (typeof v === 'string') { s.volumes.push(at(['volumes', i], () => parseVolume(v, ctx.baseDir))); return; }
      const o = v as Record<string, any>;
      const type = o.type ?? (o.source === undefined ? 'volume' : isPathSource(o.source) ? 'bind' : 'volume');
      if (!['bind', 'volume', 'tmpfs'].includes(type)) ctx.report(['volumes', i, 'type'], `service "${name}": unsupported volume type "${type}"`);
      if (typeof o.target !== 'string') ctx.report(['volumes', i], `service "${name}": volume target is required`);
      if (type === 'bind' && typeof o.source !== 'string') ctx.report(['volumes', i], `service "${name}": bind mount source is required`);
      s.volumes.push({
        type, target: o.target,
        ...(o.source !== undefined ? { source: type === 'bind' ? resolvePath(o.source, ctx.baseDir) : o.source } : {}),
        ...(o.read_only ? { read_only: true } : {}),
        ...(type === 'bind' ? { bind: { create_host_path: o.bind?.create_host_path ?? true, ...(o.bind?.propagation ? { propagation: o.bind.propagation } : {}) } } : {}),
        ...(type === 'volume' ? { volume: o.volume?.nocopy ? { nocopy: true } : {} } : {}),
        ...(type === 'tmpfs' && o.tmpfs?.size !== undefined ? { tmpfs: { size: parseBytes(o.tmpfs.size) } } : {}),
      });
    });
  }
  if (r.volumes_from !== undefined) s.volumes_from = [...r.volumes_from];
  if (r.links !== undefined) s.links = [...r.links];
  if (r.external_links !== undefined) s.external_links = [...r.external_links];
  if (r.depends_on !== undefined) {
    if (Array.isArray(r.depends_on)) for (const d of r.depends_on) s.depends_on[d] = { condition: 'service_started', required: true };
    else {
      for (const [d, o] of Object.entries(r.depends_on as Record<string, any>)) {
        const condition = o.condition ?? 'service_started';
        if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition)) {
          ctx.report(['depends_on', d, 'condition'], `service "${name}": depends_on.${d}.condition must be one of service_started, service_healthy, service_completed_successfully`);
        }
        const dep: DependsOn = { condition, required: o.required ?? true };
        if (o.restart !== undefined) dep.restart = o.restart;
        s.depends_on[d] = dep;
      }
    }
  }
  if (r.networks !== undefined) {
    if (Array.isArray(r.networks)) for (const n of r.networks) s.networks[n] = null;
    else {
      for (const [n, o] of Object.entries(r.networks as Record<string, any>)) {
        if (o === null) { s.networks[n] = null; continue; }
        const sn: ServiceNetwork = {};
        if (o.aliases) sn.aliases = [...o.aliases];
        if (o.ipv4_address) sn.ipv4_address = o.ipv4_address;
        if (o.ipv6_address) sn.ipv6_address = o.ipv6_address;
        s.networks[n] = sn;
      }
    }
  }
  // Version 1's `net` is today's `network_mode`.
  const mode = r.network_mode ?? r.net;
  if (mode !== undefined) s.network_mode = mode;
  if (r.restart !== undefined) {
    if (!/^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(r.restart)) ctx.report(['restart'], `service "${name}": invalid restart policy "${r.restart}"`);
    s.restart = r.restart;
  }
  if (r.healthcheck !== undefined) s.healthcheck = at('healthcheck', () => normalizeHealthcheck(r.healthcheck));
  if (r.labels !== undefined) s.labels = strings(listOrMap(r.labels));
  for (const k of ['container_name', 'hostname', 'domainname', 'working_dir', 'user', 'stop_signal', 'pull_policy', 'ipc', 'pid',
    'uts', 'cpuset', 'runtime', 'cgroup_parent', 'userns_mode', 'mac_address', 'cpu_period', 'cpu_quota', 'oom_score_adj', 'oom_kill_disable'] as const) {
    if (r[k] !== undefined) (s as any)[k] = r[k];
  }
  for (const k of ['tty', 'stdin_open', 'privileged', 'read_only', 'init'] as const) if (r[k] !== undefined) s[k] = r[k];
  for (const k of ['cap_add', 'cap_drop', 'security_opt', 'devices', 'profiles', 'dns_opt'] as const) if (r[k] !== undefined) s[k] = [...r[k]];
  if (r.group_add !== undefined) s.group_add = r.group_add.map(String);
  if (r.memswap_limit !== undefined) s.memswap_limit = r.memswap_limit === -1 || r.memswap_limit === '-1' ? -1 : at('memswap_limit', () => bytes(r.memswap_limit));
  for (const k of ['dns', 'dns_search', 'tmpfs'] as const) if (r[k] !== undefined) s[k] = Array.isArray(r[k]) ? [...r[k]] : [r[k]];
  if (r.extra_hosts !== undefined) {
    s.extra_hosts = Array.isArray(r.extra_hosts) ? r.extra_hosts.map((h: string) => h.replace('=', ':'))
      : Object.entries(r.extra_hosts).map(([h, ip]) => `${h}:${ip}`);
  }
  if (r.sysctls !== undefined) s.sysctls = strings(listOrMap(r.sysctls));
  if (r.ulimits !== undefined) {
    for (const [k, v] of Object.entries(r.ulimits as Record<string, any>)) {
      s.ulimits[k] = typeof v === 'number' ? { soft: v, hard: v } : { soft: v.soft, hard: v.hard };
    }
  }
  for (const k of ['mem_limit', 'mem_reservation', 'shm_size'] as const) {
    if (r[k] !== undefined) s[k] = at(k, () => bytes(r[k]));
  }
  if (r.cpus !== undefined) s.cpus = at('cpus', () => num(r.cpus));
  if (r.cpu_shares !== undefined) s.cpu_shares = at('cpu_shares', () => num(r.cpu_shares));
  if (r.pids_limit !== undefined) s.pids_limit = at('pids_limit', () => num(r.pids_limit));
  if (r.scale !== undefined) s.scale = r.scale;
  if (r.stop_grace_period !== undefined) s.stop_grace_period = at('stop_grace_period', () => duration(r.stop_grace_period));
  if (r.deploy !== undefined) {
    const d = r.deploy;
    s.deploy = {};
    if (d.replicas !== undefined) s.deploy.replicas = d.replicas;
    const lim = d.resources?.limits;
    const res = d.resources?.reservations;
    if (lim || res) {
      s.deploy.resources = {};
      if (lim) s.deploy.resources.limits = at(['deploy', 'resources', 'limits'], () => resources(lim));
      if (res) s.deploy.resources.reservations = at(['deploy', 'resources', 'reservations'], () => resources(res));
    }
    if (d.restart_policy) s.deploy.restart_policy = { ...(d.restart_policy.condition ? { condition: d.restart_policy.condition } : {}), ...(d.restart_policy.max_attempts !== undefined ? { max_attempts: d.restart_policy.max_attempts } : {}) };
  }
  const logging = r.logging ?? (r.log_driver || r.log_opt ? { driver: r.log_driver, options: r.log_opt } : undefined);
  if (logging) {
    s.logging = {};
    if (logging.driver) s.logging.driver = logging.driver;
    if (logging.options) s.logging.options = strings(listOrMap(logging.options));
  }
  return s;
}

function normalizeBuild(v: unknown, baseDir: string): BuildConfig {
  const o = (typeof v === 'string' ? { context: v } : v) as Record<string, any>;
  const ctxText: string = o.context ?? '.';
  // Remote contexts (git, http) are passed to the builder as written.
  const context = /^(https?:\/\/|git@|github\.com\/)/.test(ctxText) ? ctxText : resolvePath(ctxText, baseDir);
  const b: BuildConfig = { context, args: o.args ? listOrMap(o.args) : {}, labels: o.labels ? strings(listOrMap(o.labels)) : {}, cache_from: o.cache_from ?? [] };
  b.dockerfile = o.dockerfile ?? 'Dockerfile';
  if (o.target) b.target = o.target;
  if (o.network) b.network = o.network;
  return b;
}

function normalizeHealthcheck(o: Record<string, any>): Healthcheck {
  const h: Healthcheck = {};
  if (o.disable) return { test: ['NONE'], disable: true };
  if (o.test !== undefined) {
    h.test = typeof o.test === 'string' ? ['CMD-SHELL', o.test] : [...o.test];
    if (h.test.length > 0 && !['CMD', 'CMD-SHELL', 'NONE'].includes(h.test[0])) {
      throw new Error(`healthcheck.test must start with CMD, CMD-SHELL or NONE`);
    }
  }
  for (const k of ['interval', 'timeout', 'start_period'] as const) if (o[k] !== undefined) h[k] = duration(o[k]);
  if (o.retries !== undefined) h.retries = o.retries;
  return h;
}

function resources(o: Record<string, any>): { cpus?: number; memory?: number; pids?: number } {
  const out: { cpus?: number; memory?: number; pids?: number } = {};
  if (o.cpus !== undefined) out.cpus = num(o.cpus);
  if (o.memory !== undefined) out.memory = bytes(o.memory);
  if (o.pids !== undefined) out.pids = o.pids;
  return out;
}

function commandList(v: unknown): string[] | null {
  if (v === null) return null;
  return typeof v === 'string' ? shellSplit(v) : (v as unknown[]).map(String);
}

function bytes(v: unknown): number {
  const b = parseBytes(v);
  if (b === undefined) throw new Error(`invalid size: '${v}'`);
  return b;
}

function duration(v: unknown): number {
  const d = parseDuration(v);
  if (d === undefined) throw new Error(`invalid duration: '${v}'`);
  return d;
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`invalid number: '${v}'`);
  return n;
}

function strings(m: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v ?? '']));
}

/** Top-level networks: engine name `<project>_<key>` unless named or external. */
export function normalizeNetwork(project: string, key: string, raw: Record<string, any> | null): NetworkConfig {
  const o = raw ?? {};
  const external = o.external === true || isPlainObject(o.external);
  const name = o.name ?? (isPlainObject(o.external) ? o.external.name : undefined) ?? (external ? key : `${project}_${key}`);
  const n: NetworkConfig = { name, driver_opts: o.driver_opts ? strings(listOrMap(o.driver_opts)) : {}, labels: o.labels ? strings(listOrMap(o.labels)) : {} };
  if (external) n.external = true;
  if (o.driver) n.driver = o.driver;
  if (o.ipam) n.ipam = { ...(o.ipam.driver ? { driver: o.ipam.driver } : {}), config: (o.ipam.config ?? []).map((c: any) => ({ ...c })) };
  for (const k of ['internal', 'attachable', 'enable_ipv6'] as const) if (o[k] !== undefined) n[k] = o[k];
  return n;
}

export function normalizeVolume(project: string, key: string, raw: Record<string, any> | null): VolumeConfig {
  const o = raw ?? {};
  const external = o.external === true || isPlainObject(o.external);
  const name = o.name ?? (isPlainObject(o.external) ? o.external.name : undefined) ?? (external ? key : `${project}_${key}`);
  const v: VolumeConfig = { name, driver_opts: o.driver_opts ? strings(listOrMap(o.driver_opts)) : {}, labels: o.labels ? strings(listOrMap(o.labels)) : {} };
  if (external) v.external = true;
  if (o.driver) v.driver = o.driver;
  return v;
}
