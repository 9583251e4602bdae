import { stringify } from 'yaml';
import type { Project, Service } from './model.js';
import { formatDuration } from './units.js';

/**
 * The normalised project as `docker compose config` prints it: every short
 * syntax in long form, paths absolute, variables substituted, durations in
 * Go's format, sizes in bytes, empty keys left out, keys sorted.
 *
 *   renderConfig(loadProject({ cwd }))  // 'name: app\nservices:\n  web:\n ...'
 */
export function renderConfig(project: Project, format: 'yaml' | 'json' = 'yaml'): string {
  const doc = configDocument(project);
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0, nullStr: 'null' });
}

/** The project as one plain document: what `config` prints. */
export function configDocument(project: Project): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: project.name, services: {} };
  for (const name of Object.keys(project.services).sort()) {
    (doc.services as Record<string, unknown>)[name] = serviceDocument(project.services[name]);
  }
  const nets = Object.keys(project.networks).sort();
  if (nets.length) doc.networks = Object.fromEntries(nets.map((n) => [n, prune(project.networks[n])]));
  const vols = Object.keys(project.volumes).sort();
  if (vols.length) doc.volumes = Object.fromEntries(vols.map((v) => [v, prune(project.volumes[v])]));
  return doc;
}

/** One service as a plain, sorted document (also what the config hash is computed over). */
export function serviceDocument(s: Service): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'name') continue;
    if (k === 'stop_grace_period' && typeof v === 'number') out[k] = formatDuration(v);
    else if (k === 'healthcheck' && v) {
      const h = { ...(v as Record<string, unknown>) };
      for (const d of ['interval', 'timeout', 'start_period']) if (typeof h[d] === 'number') h[d] = formatDuration(h[d] as number);
      out[k] = h;
    } else if ((k === 'mem_limit' || k === 'mem_reservation' || k === 'shm_size') && typeof v === 'number') out[k] = String(v);
    else if (k === 'deploy' && v) out[k] = deployDocument(v as NonNullable<Service['deploy']>);
    else out[k] = v;
  }
  return prune(out) as Record<string, unknown>;
}

/** Sizes print as strings of bytes, as docker compose prints them. */
function deployDocument(d: NonNullable<Service['deploy']>): Record<string, unknown> {
  const res = (r?: { cpus?: number; memory?: number; pids?: number }) => r && { ...r, memory: r.memory === undefined ? undefined : String(r.memory) };
  return { ...d, resources: d.resources && { limits: res(d.resources.limits), reservations: res(d.resources.reservations) } };
}

/** Drops undefined values and empty lists/maps (but keeps `null` network entries), sorting keys. */
function prune(v: unknown, inList = false): unknown {
  if (Array.isArray(v)) return v.map((x) => prune(x, true));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    // Port and mount entries read best in compose's own order: what, where from, where to.
    const keys = Object.keys(v).sort((a, b) => (inList ? rank(a) - rank(b) : 0) || (a < b ? -1 : a > b ? 1 : 0));
    for (const k of keys) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined) continue;
      const y = prune(x);
      if (Array.isArray(y) && y.length === 0) continue;
      if (y && typeof y === 'object' && !Array.isArray(y) && Object.keys(y).length === 0 && k !== 'volume' && k !== 'bind') continue;
      out[k] = y;
    }
    return out;
  }
  return v;
}

const listKeyOrder = ['type', 'mode', 'host_ip', 'source', 'target', 'published', 'protocol', 'read_only'];
function rank(k: string): number {
  const i = listKeyOrder.indexOf(k);
  return i < 0 ? listKeyOrder.length : i;
}

/** `config --services`: one name a line. */
export function renderServices(project: Project): string {
  return Object.keys(project.services).sort().map((s) => `${s}\n`).join('');
}

/** `config --volumes`: the top-level volume keys. */
export function renderVolumes(project: Project): string {
  return Object.keys(project.volumes).sort().map((v) => `${v}\n`).join('');
}
