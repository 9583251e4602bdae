import { pipeline } from 'node:stream/promises';
import { InvalidArgument, NotModified } from '../../common/errors.js';
import type { ContainerService, WaitCondition } from '../../engine/containers/service.js';
import type { ExecService } from '../../engine/exec/service.js';
import { containerFilter, parseFilters } from '../../engine/containers/filters.js';
import { inspectView, summaryView } from '../../engine/containers/view.js';
import { listContainerProcesses } from '../../engine/containers/top.js';
import type { ContainerConfig, HostConfig } from '../../engine/containers/types.js';
import type { ApiContext, Router } from '../router.js';
import { atLeast } from '../version.js';
import { serveAttach, serveLogs } from './stdio.js';

export interface ContainerRouteDeps {
  containers: ContainerService;
  execs: ExecService;
  /** IDs of an image and its descendants, for `ancestor=` filters. */
  ancestorIds: (ref: string) => Set<string>;
  /** The container's writable-layer size and that plus its image (`ps -s`, `inspect -s`). */
  sizes?: (id: string, image: string) => Promise<{ SizeRw: number; SizeRootFs: number }>;
}

/** Routes under /containers: the lifecycle, stdio, and listings. */
export function registerContainerRoutes(r: Router, d: ContainerRouteDeps): void {
  const svc = d.containers;

  r.post('/containers/create', async (c) => {
    const body = await c.body<ContainerConfig & { HostConfig?: HostConfig; NetworkingConfig?: any }>();
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgument('config cannot be empty in order to create a container');
    const { HostConfig: host, NetworkingConfig: net, ...config } = body;
    const name = c.query.get('name') ?? undefined;
    c.json(201, await svc.create(config, host ?? {}, name || undefined, net ?? undefined));
  });

  r.get('/containers/json', async (c) => {
    const filters = parseFilters(c.jsonQuery('filters'));
    const pred = containerFilter(filters, { find: (ref) => svc.store.find(ref), ancestorIds: d.ancestorIds });
    const all = c.flag('all') || Object.keys(filters).some((k) => k === 'status' || k === 'exited');
    let list = svc.store.all().filter((rec) => (all || rec.State.Running || rec.State.Restarting) && pred(rec));
    list.sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    const limit = Number(c.query.get('limit') ?? -1);
    if (limit > 0) list = list.slice(0, limit);
    const withSize = c.flag('size') && d.sizes;
    c.json(200, await Promise.all(list.map(async (rec) => ({
      ...summaryView(svc.withNetwork(rec), svc.ports(rec)),
      ...(withSize ? await withSize(rec.Id, rec.Image) : {}),
    }))));
  });

  r.get('/containers/:id/json', async (c) => {
    const rec = svc.store.get(c.params.id);
    const sizes = c.flag('size') && d.sizes ? await d.sizes(rec.Id, rec.Image) : {};
    c.json(200, { ...inspectView(svc.withNetwork(rec)), ExecIDs: nullIfEmpty(d.execs.idsFor(rec.Id)), ...sizes });
  });

  r.post('/containers/:id/start', async (c) => {
    await notModifiedAs304(c, () => svc.start(c.params.id));
  });

  r.post('/containers/:id/stop', async (c) => {
    const t = c.query.get('t') ?? c.query.get('timeout');
    await notModifiedAs304(c, () => svc.stop(c.params.id, t === null ? undefined : intParam('t', t), c.query.get('signal') ?? undefined));
  });

  r.post('/containers/:id/restart', async (c) => {
    const t = c.query.get('t') ?? c.query.get('timeout');
    await svc.restart(c.params.id, t === null ? undefined : intParam('t', t));
    c.empty();
  });

  r.post('/containers/:id/kill', async (c) => {
    await svc.kill(c.params.id, c.query.get('signal') || 'SIGKILL');
    c.empty();
  });

  r.post('/containers/:id/pause', async (c) => { await svc.pause(c.params.id); c.empty(); });
  r.post('/containers/:id/unpause', async (c) => { await svc.unpause(c.params.id); c.empty(); });

  r.post('/containers/:id/rename', async (c) => {
    await svc.rename(c.params.id, c.query.get('name') ?? '');
    c.empty();
  });

  r.delete('/containers/:id', async (c) => {
    await svc.remove(c.params.id, { force: c.flag('force'), volumes: c.flag('v') });
    c.empty();
  });

  r.post('/containers/:id/wait', async (c) => {
    const cond = (c.query.get('condition') || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new InvalidArgument(`invalid condition: "${cond}"`);
    const waiting = svc.wait(c.params.id, cond);
    // Send headers at once: clients start the container only after wait is registered.
    c.res.writeHead(200, { 'Content-Type': 'application/json' });
    c.res.flushHeaders();
    const code = await waiting;
    const rec = svc.store.find(c.params.id);
    const error = rec?.State.Error ? { Message: rec.State.Error } : null;
    c.res.end(JSON.stringify(atLeast(c.apiVersion, '1.30') ? { StatusCode: code, Error: error } : { StatusCode: code }) + '\n');
  });

  r.post('/containers/:id/resize', async (c) => {
    await svc.resize(c.params.id, Number(c.query.get('h') ?? 0), Number(c.query.get('w') ?? 0));
    c.empty(200);
  });

  r.get('/containers/:id/top', async (c) => {
    const rec = svc.store.get(c.params.id);
    if (!rec.State.Running) throw new InvalidArgument(`Container ${rec.Id} is not running`);
    c.json(200, await listContainerProcesses(rec.State.Pid, c.query.get('ps_args') || '-ef'));
  });

  r.post('/containers/:id/attach', (c) => serveAttach(c, svc));
  r.get('/containers/:id/logs', (c) => serveLogs(c, svc));

  r.get('/containers/:id/export', async (c) => {
    const tar = await svc.export(c.params.id);
    c.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipeline(tar, c.res);
  });

  r.post('/containers/prune', async (c) => {
    const filters = parseFilters(c.jsonQuery('filters'));
    const labelPred = containerFilter({ label: filters.label ?? [] }, { find: () => undefined, ancestorIds: () => new Set() });
    const until = filters.until?.[0] ? parseUntil(filters.until[0]) : undefined;
    c.json(200, await svc.prune((rec) => labelPred(rec) && (until === undefined || Date.parse(rec.Created) < until)));
  });
}

async function notModifiedAs304(c: ApiContext, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
    c.empty();
  } catch (err) {
    if (err instanceof NotModified) c.empty(304);
    else throw err;
  }
}

function intParam(name: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgument(`invalid value for ${name}: ${v}`);
  return Number(v);
}

function nullIfEmpty<T>(a: T[]): T[] | null {
  return a.length ? a : null;
}

/** `until` in prune filters: a unix timestamp, RFC3339 date, or Go duration like `24h`. */
export function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+)(s|m|h)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid filter 'until=${v}'`);
  return t;
}
