import { InvalidArgument } from '../../common/errors.js';
import type { ContainerRecord } from './record.js';

/** Docker's `filters` query value: `{"name":["web"],"status":["exited"]}` (old clients send `{"name":{"web":true}}`). */
export type Filters = Record<string, string[]>;

export function parseFilters(raw: unknown): Filters {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object') throw new InvalidArgument('invalid filter: expected a JSON object');
  const out: Filters = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(v)) out[k] = v.map(String);
    else if (v && typeof v === 'object') out[k] = Object.keys(v);
    else throw new InvalidArgument(`invalid filter '${k}'`);
  }
  return out;
}

const containerFilterKeys = new Set(['id', 'name', 'status', 'label', 'ancestor', 'exited', 'before', 'since', 'health', 'network', 'volume', 'publish', 'expose', 'is-task']);
const statuses = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

/**
 * Builds the predicate `ps --filter` applies. `resolveImage` maps an
 * `ancestor=` value to image IDs (the image and its descendants).
 */
export function containerFilter(f: Filters, ctx: {
  find: (ref: string) => ContainerRecord | undefined;
  ancestorIds: (ref: string) => Set<string>;
}): (c: ContainerRecord) => boolean {
  for (const key of Object.keys(f)) if (!containerFilterKeys.has(key)) throw new InvalidArgument(`invalid filter '${key}'`);
  for (const s of f.status ?? []) {
    if (!statuses.has(s)) throw new InvalidArgument(`invalid filter 'status=${s}'`);
  }
  const ancestors = (f.ancestor ?? []).map((a) => ({ ref: a, ids: ctx.ancestorIds(a) }));
  const before = f.before?.[0] ? ctx.find(f.before[0]) : undefined;
  const since = f.since?.[0] ? ctx.find(f.since[0]) : undefined;
  if (f.before?.[0] && !before) throw new InvalidArgument(`No such container: ${f.before[0]}`);
  if (f.since?.[0] && !since) throw new InvalidArgument(`No such container: ${f.since[0]}`);
  return (c) => {
    if (f.id && !f.id.some((v) => c.Id.startsWith(v))) return false;
    if (f.name && !f.name.some((v) => new RegExp(v.replace(/^\//, '')).test(c.Name.slice(1)))) return false;
    if (f.status && !f.status.includes(c.State.Status)) return false;
    if (f.exited && !(c.State.Status === 'exited' && f.exited.includes(String(c.State.ExitCode)))) return false;
    if (f.label && !f.label.every((l) => matchLabel(c.Config.Labels ?? {}, l))) return false;
    if (ancestors.length && !ancestors.some((a) => a.ids.has(c.Image) || c.Config.Image === a.ref)) return false;
    if (before && !(Date.parse(c.Created) < Date.parse(before.Created))) return false;
    if (since && !(Date.parse(c.Created) > Date.parse(since.Created))) return false;
    if (f.health && !f.health.includes(c.State.Health?.Status ?? 'none')) return false;
    return true;
  };
}

export function matchLabel(labels: Record<string, string>, expr: string): boolean {
  const eq = expr.indexOf('=');
  if (eq < 0) return expr in labels;
  const k = expr.slice(0, eq);
  const v = expr.slice(eq + 1);
  if (k.endsWith('!')) return labels[k.slice(0, -1)] !== v;
  return labels[k] === v;
}
