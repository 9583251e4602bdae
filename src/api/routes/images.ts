import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgument, NotFound } from '../../common/errors.js';
import { atLeast } from '../version.js';
import type { ApiContext, Router } from '../router.js';
import type { ImageService } from '../../engine/images/service.js';
import { imageHistory, inspectImage, listImages, type ImageFilters } from '../../engine/images/views.js';
import { loadImages, saveImages } from '../../engine/images/archive.js';
import { importRootfs } from '../../engine/images/import.js';
import { familiar, parseRepoTag } from '../../engine/images/reference.js';

export interface ImageRouteOptions {
  /** Handles `POST /images/create?fromImage=` (pull), which lives elsewhere. */
  pull?: (c: ApiContext) => Promise<void>;
}

/**
 * The `/images` part of the Engine API: list, inspect, history, tag, delete,
 * save (`get`), load, import (`create?fromSrc=`) and prune.
 *
 *   registerImageRoutes(router, images);
 */
export function registerImageRoutes(r: Router, images: ImageService, opts: ImageRouteOptions = {}): void {
  r.get('/images/json', (c) => {
    const list = listImages(images, { all: c.flag('all'), filters: filtersOf(c), digests: c.flag('digests') });
    // Before 1.43 untagged images carried placeholder names instead of empty lists.
    if (!atLeast(c.apiVersion, '1.43')) {
      for (const i of list) if (i.RepoTags.length === 0 && i.RepoDigests.length === 0) { i.RepoTags = ['<none>:<none>']; i.RepoDigests = ['<none>@<none>']; }
    }
    // VirtualSize left the API in 1.44.
    c.json(200, atLeast(c.apiVersion, '1.44') ? list.map(({ VirtualSize: _v, ...rest }) => rest) : list);
  });

  r.get('/images/get', async (c) => {
    await sendArchive(c, images, c.query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean));
  });

  r.post('/images/load', async (c) => {
    const lines = await loadImages(images, c.req);
    c.res.writeHead(200, { 'Content-Type': 'application/json' });
    for (const l of lines) c.res.write(JSON.stringify({ stream: `${l}\n` }) + '\n');
    c.res.end();
  });

  r.post('/images/create', async (c) => {
    const fromSrc = c.query.get('fromSrc');
    if (fromSrc === null || fromSrc === '') {
      if (opts.pull) return opts.pull(c);
      const img = c.query.get('fromImage') ?? '';
      throw new NotFound(`pull access denied for ${img}: no registry is reachable from this daemon`);
    }
    let repoTag = c.query.get('repo') || undefined;
    const tag = c.query.get('tag') || undefined;
    if (repoTag) repoTag = familiar(parseRepoTag(repoTag, tag)); // 400 before reading the body
    const changes = c.query.getAll('changes').filter(Boolean);
    const message = c.query.get('message') || undefined;
    const body: Readable = fromSrc === '-' ? c.req : await download(fromSrc);
    const rec = await importRootfs(images, body, { repoTag, changes, message, source: fromSrc });
    c.res.writeHead(200, { 'Content-Type': 'application/json' });
    c.res.end(JSON.stringify({ status: rec.id }) + '\n');
  });

  r.post('/images/prune', async (c) => {
    const filters = filtersOf(c) ?? {};
    for (const k of Object.keys(filters)) if (!['dangling', 'label', 'label!', 'until'].includes(k)) throw new InvalidArgument(`invalid filter '${k}'`);
    const dangling = values(filters, 'dangling');
    const all = dangling.length > 0 && ['false', '0'].includes(dangling[0]);
    const labels = values(filters, 'label');
    const notLabels = values(filters, 'label!');
    const until = values(filters, 'until').map(parseUntil);
    const result = await images.prune({
      all,
      keep: (rec) => {
        const cfg = images.config(rec.id);
        const l = cfg.config?.Labels ?? {};
        if (!labels.every((f) => labelMatches(l, f))) return true;
        if (notLabels.some((f) => labelMatches(l, f))) return true;
        const created = cfg.created ? Date.parse(cfg.created) / 1000 : 0;
        return until.some((u) => created >= u);
      },
    });
    c.json(200, { ImagesDeleted: result.ImagesDeleted.length ? result.ImagesDeleted : null, SpaceReclaimed: result.SpaceReclaimed });
  });

  r.get('/images/*name/json', (c) => {
    const info = inspectImage(images, c.params.name);
    if (atLeast(c.apiVersion, '1.44')) delete info.VirtualSize;
    // docker-compose 1.x negotiates the newest version yet still reads
    // ContainerConfig.Volumes when it recreates a container (the KeyError it
    // famously hit on Docker 25+): keep the field for it alone.
    const legacyCompose = /^docker-compose\/1\./.test(c.req.headers['user-agent'] ?? '');
    if (atLeast(c.apiVersion, '1.45') && !legacyCompose) { delete info.Container; delete info.ContainerConfig; }
    c.json(200, info);
  });

  r.get('/images/*name/history', (c) => c.json(200, imageHistory(images, c.params.name)));

  r.get('/images/*name/get', (c) => sendArchive(c, images, [c.params.name]));

  r.post('/images/*name/tag', async (c) => {
    const repo = c.query.get('repo');
    if (!repo) throw new InvalidArgument('repository name must have at least one component');
    const ref = parseRepoTag(repo, c.query.get('tag') || undefined);
    await images.tag(c.params.name, ref);
    c.empty(201);
  });

  r.delete('/images/*name', async (c) => {
    c.json(200, await images.remove(c.params.name, { force: c.flag('force'), noprune: c.flag('noprune') }));
  });
}

function filtersOf(c: ApiContext): ImageFilters | undefined {
  const f = c.jsonQuery<ImageFilters>('filters');
  if (f !== undefined && (typeof f !== 'object' || f === null)) throw new InvalidArgument('invalid filters parameter');
  return f;
}

function values(filters: ImageFilters, key: string): string[] {
  const v = filters[key];
  if (!v) return [];
  return Array.isArray(v) ? v : Object.entries(v).filter(([, on]) => on).map(([k]) => k);
}

function labelMatches(labels: Record<string, string>, f: string): boolean {
  const i = f.indexOf('=');
  return i < 0 ? f in labels : labels[f.slice(0, i)] === f.slice(i + 1);
}

/** `until=` as Docker takes it: unix seconds, an RFC 3339 time, or a duration like `24h` before now. */
function parseUntil(s: string): number {
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const d = /^(\d+)(s|m|h)$/.exec(s);
  if (d) return Date.now() / 1000 - Number(d[1]) * { s: 1, m: 60, h: 3600 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid filter 'until=${s}'`);
  return t / 1000;
}

async function sendArchive(c: ApiContext, images: ImageService, names: string[]): Promise<void> {
  if (names.length === 0) throw new InvalidArgument('no images specified');
  const stream = saveImages(images, names); // resolves every name first: 404 before any byte
  c.res.writeHead(200, { 'Content-Type': 'application/x-tar' });
  await pipeline(stream, c.res);
}

/** `import URL`: fetches an http(s) URL as the rootfs tar. */
async function download(url: string): Promise<Readable> {
  if (!/^https?:\/\//.test(url)) throw new InvalidArgument(`invalid fromSrc ${JSON.stringify(url)}: want - or an http(s) URL`);
  const res = await fetch(url).catch((err) => { throw new InvalidArgument(`error downloading ${url}: ${(err as Error).message}`); });
  if (!res.ok || !res.body) throw new InvalidArgument(`error downloading ${url}: HTTP ${res.status}`);
  const { Readable } = await import('node:stream');
  return Readable.fromWeb(res.body as any);
}
