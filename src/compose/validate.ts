import type { Project, Service } from './model.js';
import { serviceScale } from './model.js';
import { ComposeError, type ComposeSource } from './source.js';

/**
 * Project-wide rules, checked after merging: every service has an image or
 * a build, references (depends_on, links, volumes_from, networks, named
 * volumes) resolve, and depends_on has no cycle. Also fills in what compose
 * implies: the `default` network and the dependencies links and
 * volumes_from carry.
 *
 *   finalizeProject(project, sources, false) // throws ComposeError at the offending line
 */
export function finalizeProject(project: Project, sources: ComposeSource[], legacyFile: boolean): void {
  const fail = (service: string, path: (string | number)[], msg: string): never => {
    // Point at the last file that mentions the key: that is where the value came from.
    const full = ['services', service, ...path];
    const src = [...sources].reverse().find((s) => s.has(full)) ?? [...sources].reverse().find((s) => s.has(full.slice(0, 2))) ?? sources[0];
    throw new ComposeError(src.file, src.lineOf(full), msg);
  };
  const all = project.services;

  for (const s of Object.values(all)) {
    if (!s.image && !s.build) fail(s.name, [], `service "${s.name}" has neither an image nor a build context specified`);
    if (s.container_name && serviceScale(s) > 1) {
      fail(s.name, ['container_name'], `service "${s.name}": container_name "${s.container_name}" cannot be used with scale ${serviceScale(s)}: container names must be unique`);
    }
    addImpliedDependencies(s);
    for (const [dep, d] of Object.entries(s.depends_on)) {
      if (all[dep]) continue;
      if (project.disabled[dep]) {
        if (d.required) fail(s.name, ['depends_on'], `service "${s.name}" depends on service "${dep}" which is disabled by its profiles`);
        delete s.depends_on[dep];
        continue;
      }
      // An optional dependency on a service the file lacks is simply dropped.
      if (!d.required) {
        delete s.depends_on[dep];
        continue;
      }
      const where = s.links.some((l) => l.split(':')[0] === dep) ? 'links' : s.volumes_from.includes(dep) ? 'volumes_from' : 'depends_on';
      fail(s.name, [where], `service "${s.name}" depends on undefined service "${dep}"`);
    }
    if (!legacyFile) {
      if (!s.network_mode && Object.keys(s.networks).length === 0) s.networks = { default: null };
      if (s.network_mode) s.networks = {};
      for (const n of Object.keys(s.networks)) {
        if (n !== 'default' && !project.networks[n]) fail(s.name, ['networks', n], `service "${s.name}" refers to undefined network ${n}`);
      }
      s.volumes.forEach((v, i) => {
        if (v.type === 'volume' && v.source && !project.volumes[v.source]) {
          fail(s.name, ['volumes', i], `service "${s.name}" refers to undefined volume ${v.source}`);
        }
      });
    }
  }
  if (!legacyFile && Object.values(all).some((s) => 'default' in s.networks) && !project.networks.default) {
    project.networks.default = { name: `${project.name}_default`, driver_opts: {}, labels: {} };
  }
  const cycle = findCycle(all);
  if (cycle) fail(cycle[0], ['depends_on'], `dependency cycle detected: ${cycle.join(' -> ')}`);
}

/** links, volumes_from and `network_mode: service:x` all need the other service first. */
function addImpliedDependencies(s: Service): void {
  const add = (dep: string) => { if (!s.depends_on[dep]) s.depends_on[dep] = { condition: 'service_started', required: true }; };
  for (const l of s.links) add(l.split(':')[0]);
  for (const v of s.volumes_from) if (!v.startsWith('container:')) add(v.split(':')[0]);
  const mode = s.network_mode ?? '';
  if (mode.startsWith('service:')) add(mode.slice(8));
}

/** A depends_on cycle as `a -> b -> a`, or undefined. */
export function findCycle(services: Record<string, Service>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done' || !services[n]) return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of Object.keys(services[n].depends_on).sort()) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of Object.keys(services).sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

/**
 * Services grouped so each group depends only on earlier groups: the
 * groups start in order, the services inside one in parallel.
 *
 *   dependencyLevels(project.services) // → [['db'], ['web']]
 */
export function dependencyLevels(services: Record<string, Service>, only?: string[]): string[][] {
  const names = new Set(only ?? Object.keys(services));
  const level = new Map<string, number>();
  const depth = (n: string): number => {
    const known = level.get(n);
    if (known !== undefined) return known;
    level.set(n, 0);
    let d = 0;
    for (const dep of Object.keys(services[n]?.depends_on ?? {})) if (names.has(dep)) d = Math.max(d, depth(dep) + 1);
    level.set(n, d);
    return d;
  };
  const out: string[][] = [];
  for (const n of [...names].sort()) {
    const d = depth(n);
    (out[d] ??= []).push(n);
  }
  return out.filter(Boolean).map((g) => g.sort());
}

/** The services `names` and everything they depend on, transitively. */
export function withDependencies(services: Record<string, Service>, names: string[]): string[] {
  const out = new Set<string>();
  const add = (n: string) => {
    if (out.has(n) || !services[n]) return;
    out.add(n);
    for (const d of Object.keys(services[n].depends_on)) add(d);
  };
  names.forEach(add);
  return [...out].sort();
}
