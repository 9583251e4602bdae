import { InvalidArgument } from '../../common/errors.js';
import type { ContainerConfig } from '../containers/types.js';
import { familiar, parseReference } from './reference.js';
import type { ImageService } from './service.js';
import type { HistoryEntry, ImageRecord } from './types.js';

/**
 * The read-only answers of the image service in the Engine API's shapes:
 * `/images/json`, `/images/{name}/json`, `/images/{name}/history`.
 */

export interface ImageSummary {
  Id: string; ParentId: string; RepoTags: string[]; RepoDigests: string[]; Created: number; Size: number;
  SharedSize: number; VirtualSize?: number; Labels: Record<string, string>; Containers: number;
}

export type ImageFilters = Record<string, string[] | Record<string, boolean>>;

function filterValues(filters: ImageFilters | undefined, key: string): string[] {
  const v = filters?.[key];
  if (!v) return [];
  return Array.isArray(v) ? v : Object.entries(v).filter(([, on]) => on).map(([k]) => k);
}

const knownFilters = new Set(['dangling', 'label', 'before', 'since', 'reference', 'until']);

/** Image creation time in unix seconds (0 when the config has none). */
export function createdUnix(svc: ImageService, rec: ImageRecord): number {
  const c = svc.config(rec.id).created;
  return c ? Math.floor(Date.parse(c) / 1000) || 0 : 0;
}

/** `GET /images/json`: top-level images (all with `all`), newest first, filtered as Docker filters. */
export function listImages(svc: ImageService, opts: { all?: boolean; filters?: ImageFilters; digests?: boolean } = {}): ImageSummary[] {
  for (const k of Object.keys(opts.filters ?? {})) if (!knownFilters.has(k)) throw new InvalidArgument(`invalid filter '${k}'`);
  const dangling = filterValues(opts.filters, 'dangling');
  for (const d of dangling) if (!['true', 'false', '1', '0'].includes(d)) throw new InvalidArgument(`invalid filter 'dangling=${d}'`);
  const wantDangling = dangling.length ? ['true', '1'].includes(dangling[0]) : undefined;
  const labels = filterValues(opts.filters, 'label');
  const refs = filterValues(opts.filters, 'reference');
  const before = filterValues(opts.filters, 'before').map((r) => createdUnix(svc, svc.resolve(r)));
  const since = filterValues(opts.filters, 'since').map((r) => createdUnix(svc, svc.resolve(r)));
  const out: ImageSummary[] = [];
  for (const rec of svc.all()) {
    const tags = svc.repoTags(rec.id);
    const digests = svc.repoDigests(rec.id);
    const dangl = tags.length === 0 && digests.length === 0;
    if (!opts.all && dangl && svc.children(rec.id).length > 0) continue; // intermediate image
    if (wantDangling !== undefined && wantDangling !== (dangl && svc.children(rec.id).length === 0)) continue;
    const cfg = svc.config(rec.id);
    const imgLabels = cfg.config?.Labels ?? {};
    if (!labels.every((l) => matchLabel(imgLabels, l))) continue;
    const created = createdUnix(svc, rec);
    if (before.some((t) => created >= t) || since.some((t) => created <= t)) continue;
    let shownTags = tags;
    if (refs.length) {
      shownTags = tags.filter((t) => refs.some((p) => matchReference(t, p)));
      if (shownTags.length === 0) continue;
    }
    out.push({
      Containers: svc.containersUsing(rec.id).length,
      Created: created,
      Id: rec.id,
      Labels: imgLabels,
      ParentId: rec.parent ?? '',
      RepoDigests: digests,
      RepoTags: shownTags,
      SharedSize: -1,
      Size: svc.sizeOf(rec),
      VirtualSize: svc.sizeOf(rec),
    });
  }
  out.sort((a, b) => b.Created - a.Created || (a.Id < b.Id ? -1 : 1));
  return out;
}

function matchLabel(labels: Record<string, string>, f: string): boolean {
  const i = f.indexOf('=');
  if (i < 0) return f in labels;
  return labels[f.slice(0, i)] === f.slice(i + 1);
}

/** Docker's `reference=` filter: a glob over the familiar name, with or without the tag. */
function matchReference(tag: string, pattern: string): boolean {
  const glob = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  const name = familiar({ ...parseReference(tag), tag: undefined });
  // A colon before the last slash is a registry port (`127.0.0.1:5000/app`), not a tag.
  const hasTag = pattern.lastIndexOf(':') > pattern.lastIndexOf('/');
  return glob.test(tag) || (!hasTag && glob.test(name));
}

const emptyConfig: ContainerConfig = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null,
  WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null,
};

/** `GET /images/{name}/json`. */
export function inspectImage(svc: ImageService, ref: string): Record<string, unknown> {
  const rec = svc.resolve(ref);
  const cfg = svc.config(rec.id);
  const chain = svc.chainIdsOf(rec);
  const top = chain[chain.length - 1];
  const lowers = chain.slice(0, -1).reverse().map((c) => svc.snapshots.stat(c) ? svc.snapshots.dir(c) : '').filter(Boolean);
  return {
    Id: rec.id,
    RepoTags: svc.repoTags(rec.id),
    RepoDigests: svc.repoDigests(rec.id),
    Parent: rec.parent ?? '',
    Comment: cfg.comment ?? '',
    Created: cfg.created ?? new Date(0).toISOString(),
    Container: cfg.container ?? '',
    ContainerConfig: { ...emptyConfig, ...(cfg.container_config ?? {}) },
    DockerVersion: cfg.docker_version ?? '',
    Author: cfg.author ?? '',
    Config: { ...emptyConfig, ...(cfg.config ?? {}) },
    Architecture: cfg.architecture,
    ...(cfg.variant ? { Variant: cfg.variant } : {}),
    Os: cfg.os,
    Size: svc.sizeOf(rec),
    VirtualSize: svc.sizeOf(rec),
    GraphDriver: {
      Name: 'overlay2',
      Data: top && svc.snapshots.stat(top)
        ? { ...(lowers.length ? { LowerDir: lowers.join(':') } : {}), MergedDir: svc.snapshots.mountPoint(top), UpperDir: svc.snapshots.dir(top), WorkDir: svc.snapshots.dir(top).replace(/fs$/, 'work') }
        : {},
    },
    RootFS: { Type: 'layers', Layers: rec.layers.map((l) => l.diffId) },
    Metadata: { LastTagTime: rec.lastTagTime ?? '0001-01-01T00:00:00Z' },
  };
}

export interface HistoryItem { Id: string; Created: number; CreatedBy: string; Tags: string[] | null; Size: number; Comment: string }

/** `GET /images/{name}/history`: newest first; the entry of the image itself carries its ID. */
export function imageHistory(svc: ImageService, ref: string): HistoryItem[] {
  const rec = svc.resolve(ref);
  const cfg = svc.config(rec.id);
  const history: HistoryEntry[] = cfg.history?.length ? cfg.history : rec.layers.map(() => ({ created: cfg.created, created_by: '' }));
  const items: HistoryItem[] = [];
  let layer = 0;
  for (const h of history) {
    const size = h.empty_layer ? 0 : rec.layers[layer++]?.unpackedSize ?? 0;
    items.push({ Id: '<missing>', Created: h.created ? Math.floor(Date.parse(h.created) / 1000) || 0 : 0, CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
  }
  items.reverse();
  if (items.length === 0) items.push({ Id: '<missing>', Created: createdUnix(svc, rec), CreatedBy: '', Tags: null, Size: 0, Comment: '' });
  items[0].Id = rec.id;
  const tags = svc.repoTags(rec.id);
  items[0].Tags = tags.length ? tags : null;
  return items;
}
