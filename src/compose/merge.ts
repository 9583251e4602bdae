import type { Service } from './model.js';
import { emptyService } from './normalize.js';

/**
 * Merges an override service over a base, as compose merges `-f` files and
 * `extends`: scalars and `command`/`entrypoint` are replaced; mappings
 * (environment, labels, depends_on, networks, ulimits...) merge by key;
 * `ports` and plain lists are concatenated without duplicates; `volumes`
 * merge by mount target; `build`, `healthcheck`, `deploy`, `logging` merge
 * field by field. An override's `!reset` empties an attribute and its
 * `!override` replaces one outright.
 *
 *   mergeService(base, override) // base's environment + override's, override wins
 */
export function mergeService(original: Service, over: Service): Service {
  const tags = mergeTags.get(over);
  const base: Service = { ...original };
  for (const k of tags?.reset ?? []) (base as any)[k] = (emptyService(over.name) as any)[k];
  const out: Service = { ...base, name: over.name };
  for (const [k, v] of Object.entries(over) as [keyof Service, unknown][]) {
    if (v === undefined || k === 'name') continue;
    const prev = base[k];
    if (tags?.override.has(k)) (out as any)[k] = v;
    else if (k === 'volumes') out.volumes = mergeByKey(base.volumes, over.volumes, (m) => m.target);
    else if (k === 'command' || k === 'entrypoint') (out as any)[k] = v;
    else if (k === 'build' && base.build && over.build) {
      out.build = { ...base.build, ...over.build, args: { ...base.build.args, ...over.build.args }, labels: { ...base.build.labels, ...over.build.labels } };
    } else if (k === 'healthcheck' || k === 'deploy') (out as any)[k] = deepMerge(prev, v);
    else if (k === 'logging') {
      out.logging = base.logging && over.logging && (!over.logging.driver || over.logging.driver === base.logging.driver)
        ? { ...base.logging, ...over.logging, options: { ...base.logging.options, ...over.logging.options } } : over.logging;
    } else if (Array.isArray(v)) (out as any)[k] = unique([...((prev as unknown[]) ?? []), ...v]);
    else if (v && typeof v === 'object') (out as any)[k] = { ...(prev as object), ...v };
    else (out as any)[k] = v;
  }
  return out;
}

/** Attribute names an override file tagged `!reset` or `!override` for one service. */
export interface MergeTags { reset: Set<string>; override: Set<string> }

const mergeTags = new WeakMap<Service, MergeTags>();

/** Marks how `over` merges onto what came before (see mergeService). */
export function setMergeTags(over: Service, tags: MergeTags): void {
  mergeTags.set(over, tags);
}

function mergeByKey<T>(base: T[], over: T[], key: (t: T) => string): T[] {
  const out = new Map<string, T>();
  for (const t of base) out.set(key(t), t);
  for (const t of over) out.set(key(t), t);
  return [...out.values()];
}

function unique<T>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = JSON.stringify(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const out: Record<string, unknown> = { ...(a as object) };
    for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return b === undefined ? a : b;
}
