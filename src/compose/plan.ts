import type { Project } from './model.js';
import { serviceScale } from './model.js';
import type { ContainerSummary, CreateContainerBody } from './engine.js';
import { containerName, createBody, L, type ContainerNames } from './container-spec.js';
import { serviceConfigHash } from './hash.js';
import { dependencyLevels, withDependencies } from './validate.js';

export interface UpOptions {
  /** Services named on the command line (with their dependencies unless `noDeps`); default all. */
  services?: string[];
  scale?: Record<string, number>;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  noDeps?: boolean;
  /**
   * Image IDs by service, when known: a container whose `com.docker.compose.image`
   * differs (a rebuilt or newly pulled image) is recreated, as docker compose does.
   */
  imageIds?: Record<string, string>;
}

/** What `up` does to one container slot of a service. */
export type Action =
  | { kind: 'create'; service: string; number: number; name: string; body: CreateContainerBody }
  | { kind: 'recreate'; service: string; number: number; name: string; body: CreateContainerBody; old: ContainerSummary }
  | { kind: 'start'; service: string; number: number; name: string; container: ContainerSummary }
  | { kind: 'keep'; service: string; number: number; name: string; container: ContainerSummary }
  | { kind: 'remove'; service: string; number: number; name: string; container: ContainerSummary };

export interface ServicePlan { service: string; actions: Action[] }

export interface UpPlan {
  /** Network keys (`project.networks`) the selected services use. */
  networks: string[];
  /** Named volume keys the selected services use. */
  volumes: string[];
  /** Groups in dependency order; services inside a group are independent. */
  levels: ServicePlan[][];
  /** Project containers of services no longer in the file. */
  orphans: ContainerSummary[];
}

/**
 * Decides what `up` must do, as a pure function of the project and the
 * project's containers as `GET /containers/json?all=1` with a project label
 * filter returns them: create missing containers, recreate those whose
 * config hash changed, start stopped ones, leave running ones, remove the
 * surplus when scaling down. Nothing here talks to an engine.
 *
 *   const plan = planUp(project, await engine.listContainers({ label: [`${L.project}=${project.name}`] }, true));
 *   plan.levels[0][0] // → { service: 'db', actions: [{ kind: 'create', name: 'app-db-1', ... }] }
 */
export function planUp(project: Project, existing: ContainerSummary[], opts: UpOptions = {}): UpPlan {
  const all = project.services;
  const selected = selectedServices(project, opts);
  const byService = containersByService(existing);

  // Pass 1: which numbers each selected service ends up with, so bodies can name other services' containers.
  const slots: Record<string, { number: number; old?: ContainerSummary }[]> = {};
  const surplus: Record<string, ContainerSummary[]> = {};
  for (const name of selected) {
    const want = opts.scale?.[name] ?? serviceScale(all[name]);
    const have = byService.get(name) ?? [];
    const kept = have.slice(0, want);
    surplus[name] = have.slice(want).reverse();
    let next = Math.max(0, ...have.map(containerNumber)) + 1;
    slots[name] = kept.map((c) => ({ number: containerNumber(c), old: c }));
    while (slots[name].length < want) slots[name].push({ number: next++ });
  }
  const names: ContainerNames = {};
  for (const name of Object.keys(all)) {
    names[name] = slots[name]
      ? slots[name].map((s) => containerName(project, all[name], s.number))
      : (byService.get(name) ?? []).map(nameOf);
  }

  const levels = dependencyLevels(all, selected).map((group) => group.map((service): ServicePlan => {
    const s = all[service];
    const hash = serviceConfigHash(s);
    const imageId = opts.imageIds?.[service];
    const actions: Action[] = [];
    for (const slot of slots[service]) {
      const name = containerName(project, s, slot.number);
      const c = slot.old;
      if (!c) {
        actions.push({ kind: 'create', service, number: slot.number, name, body: createBody(project, s, slot.number, names, { imageId }) });
      } else if (!opts.noRecreate && (opts.forceRecreate || c.Labels[L.hash] !== hash || (imageId !== undefined && c.Labels[L.image] !== imageId))) {
        actions.push({ kind: 'recreate', service, number: slot.number, name, body: createBody(project, s, slot.number, names, { imageId }), old: c });
      } else if (c.State === 'running' || c.State === 'paused' || c.State === 'restarting') {
        actions.push({ kind: 'keep', service, number: slot.number, name, container: c });
      } else {
        actions.push({ kind: 'start', service, number: slot.number, name, container: c });
      }
    }
    for (const c of surplus[service]) actions.push({ kind: 'remove', service, number: containerNumber(c), name: nameOf(c), container: c });
    return { service, actions };
  }));

  const networks = new Set<string>();
  const volumes = new Set<string>();
  for (const name of selected) {
    for (const n of Object.keys(all[name].networks)) networks.add(n);
    for (const v of all[name].volumes) if (v.type === 'volume' && v.source && project.volumes[v.source]) volumes.add(v.source);
  }
  return { networks: [...networks].sort(), volumes: [...volumes].sort(), levels, orphans: findOrphans(project, existing) };
}

/** The services `up` acts on: those named (with their dependencies unless `noDeps`), else all. */
export function selectedServices(project: Project, opts: UpOptions): string[] {
  const all = project.services;
  return opts.services?.length ? (opts.noDeps ? [...opts.services] : withDependencies(all, opts.services)) : Object.keys(all);
}

/** The project's non-one-off containers by service, lowest number first. */
export function containersByService(existing: ContainerSummary[]): Map<string, ContainerSummary[]> {
  const out = new Map<string, ContainerSummary[]>();
  for (const c of existing) {
    if (c.Labels[L.oneoff] === 'True') continue;
    const s = c.Labels[L.service];
    if (!s) continue;
    if (!out.has(s)) out.set(s, []);
    out.get(s)!.push(c);
  }
  for (const list of out.values()) list.sort((a, b) => containerNumber(a) - containerNumber(b));
  return out;
}

/** Containers labelled with the project whose service the file no longer has (disabled profiles are not orphans). */
export function findOrphans(project: Project, existing: ContainerSummary[]): ContainerSummary[] {
  return existing.filter((c) => c.Labels[L.project] === project.name && c.Labels[L.oneoff] !== 'True'
    && !project.services[c.Labels[L.service]] && !project.disabled[c.Labels[L.service]]);
}

export function containerNumber(c: ContainerSummary): number {
  return Number(c.Labels[L.number] ?? 0) || 0;
}

export function nameOf(c: ContainerSummary): string {
  return (c.Names[0] ?? c.Id).replace(/^\//, '');
}

/**
 * The order `stop` and `down` use: dependents before what they depend on.
 *
 *   stopOrder(project, containers) // → [[web-1, web-2], [db-1]]
 */
export function stopOrder(project: Project, containers: ContainerSummary[], services?: string[]): ContainerSummary[][] {
  const byService = new Map<string, ContainerSummary[]>();
  for (const c of containers) {
    const s = c.Labels[L.service] ?? '';
    if (services?.length && !services.includes(s)) continue;
    if (!byService.has(s)) byService.set(s, []);
    byService.get(s)!.push(c);
  }
  const known = [...byService.keys()].filter((s) => project.services[s]);
  const out: ContainerSummary[][] = [];
  const unknown = [...byService.keys()].filter((s) => !project.services[s]).flatMap((s) => byService.get(s)!);
  if (unknown.length) out.push(unknown);
  for (const group of dependencyLevels(project.services, known).reverse()) {
    out.push(group.flatMap((s) => byService.get(s)!.sort((a, b) => containerNumber(b) - containerNumber(a))));
  }
  return out.filter((g) => g.length > 0);
}
