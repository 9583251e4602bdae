import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Conflict, InvalidArgument, NotFound } from '../../common/errors.js';
import { readJson, writeJsonAtomic } from '../../common/atomic-file.js';
import { shortId } from '../../common/ids.js';
import { log } from '../../common/log.js';
import { ContentStore } from '../content/store.js';
import { Snapshotter } from '../layers/overlay.js';
import { applyLayer } from '../layers/apply.js';
import { unpackLayers, type LayerSource } from './layer-ingest.js';
import { BlobLeases, collectBlobs, unreferencedBlobGraceMs } from './blob-gc.js';
import { familiar, parseReference, referenceString, withDefaultTag, type Reference } from './reference.js';
import { chainIds, mediaTypes, type ContainerLookup, type CreateOptions, type DeleteItem, type ImageConfig, type ImageRecord, type LayerRef } from './types.js';

export { chainIds, type CreateOptions, type DeleteItem };

/**
 * ImageService owns images: their records, tags, and the unpacked layers under
 * them. An image ID is the digest of its config blob; config, manifest and
 * layers live in the content store, each layer unpacked once per chain ID into
 * an overlay snapshot shared by every image that has it.
 *
 *   const images = await ImageService.open('/var/lib/berth');
 *   const img = images.resolve('busybox');          // busybox:latest, an ID, a prefix…
 *   await images.tag(img.id, 'me/box', 'v1');
 *   await images.remove('me/box:v1', {});           // [{ Untagged: 'me/box:v1' }]
 */
export class ImageService {
  private records = new Map<string, ImageRecord>();
  private configs = new Map<string, ImageConfig>();
  /** Full reference string (`docker.io/library/busybox:latest`) → image ID. */
  private refs = new Map<string, string>();
  private lock: Promise<unknown> = Promise.resolve();
  private containers: ContainerLookup = () => [];
  /** Chain IDs an in-progress createImage relies on: GC leaves them alone. */
  private pinned = new Map<string, number>();
  private unpacking = new Map<string, Promise<number>>();
  /** Blobs a pull in progress needs: prune leaves them alone. */
  readonly leases = new BlobLeases();

  private constructor(readonly root: string, readonly content: ContentStore, readonly snapshots: Snapshotter) {}

  static async open(dataRoot: string): Promise<ImageService> {
    const content = await ContentStore.open(dataRoot);
    const snapshots = await Snapshotter.open(dataRoot);
    const svc = new ImageService(dataRoot, content, snapshots);
    await fs.mkdir(svc.recordDir, { recursive: true });
    for (const name of await fs.readdir(svc.recordDir)) {
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
      const rec = await readJson<ImageRecord>(path.join(svc.recordDir, name));
      if (!rec) continue;
      try {
        svc.configs.set(rec.id, JSON.parse((await content.readBuffer(rec.id)).toString('utf8')));
        svc.records.set(rec.id, rec);
      } catch (err) {
        log.warn('images', 'dropping image whose config is unreadable', { id: rec.id, error: String(err) });
      }
    }
    const saved = await readJson<{ Repositories: Record<string, string> }>(svc.repositoriesFile);
    for (const [ref, id] of Object.entries(saved?.Repositories ?? {})) if (svc.records.has(id)) svc.refs.set(ref, id);
    // A crash mid-unpack leaves a half-filled extract snapshot or layers no record names yet
    // (and one mid-build a builder's read-only view).
    for (const s of snapshots.list()) if (s.key.startsWith('extract-') || s.key.startsWith('build-view-')) await snapshots.remove(s.key).catch(() => undefined);
    await svc.collectLayers();
    return svc;
  }

  private get recordDir(): string { return path.join(this.root, 'image', 'records'); }
  private get repositoriesFile(): string { return path.join(this.root, 'image', 'repositories.json'); }

  /** Tells the service which containers use an image (set by the container service). */
  setContainerLookup(fn: ContainerLookup): void { this.containers = fn; }
  containersUsing(imageId: string): Array<{ id: string; running: boolean }> { return this.containers(imageId); }

  /** Runs mutations one at a time so records, refs and snapshots stay consistent. */
  locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async saveRefs(): Promise<void> {
    const sorted = Object.fromEntries([...this.refs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
    await writeJsonAtomic(this.repositoriesFile, { Repositories: sorted });
  }

  all(): ImageRecord[] { return [...this.records.values()]; }
  get(id: string): ImageRecord | undefined { return this.records.get(id); }
  config(id: string): ImageConfig {
    const c = this.configs.get(id);
    if (!c) throw new NotFound(`No such image: ${id}`);
    return c;
  }

  /** Familiar `name:tag` references of an image, sorted. */
  repoTags(id: string): string[] {
    return [...this.refs.entries()].filter(([r, i]) => i === id && !r.includes('@')).map(([r]) => familiar(parseReference(r))).sort();
  }

  /** Familiar `name@sha256:…` references of an image, sorted. */
  repoDigests(id: string): string[] {
    return [...this.refs.entries()].filter(([r, i]) => i === id && r.includes('@')).map(([r]) => familiar(parseReference(r))).sort();
  }

  /** Chain IDs of an image's layers, bottom first; the last is the snapshot containers start from. */
  chainIdsOf(rec: ImageRecord): string[] { return chainIds(rec.layers.map((l) => l.diffId)); }

  /** Bytes of file content in all layers. */
  sizeOf(rec: ImageRecord): number { return rec.layers.reduce((n, l) => n + l.unpackedSize, 0); }

  /**
   * Finds an image by `name`, `name:tag`, `name@digest`, full or short ID
   * (with or without `sha256:`). Throws NotFound `No such image: <ref>`.
   */
  resolve(ref: string): ImageRecord {
    const full = /^(?:sha256:)?([a-f0-9]{64})$/.exec(ref);
    if (full) {
      const rec = this.records.get(`sha256:${full[1]}`);
      if (rec) return rec;
      throw new NotFound(`No such image: ${ref}`);
    }
    let parsed: Reference | undefined;
    try { parsed = withDefaultTag(parseReference(ref)); } catch { /* maybe an ID prefix */ }
    if (parsed) {
      const id = this.refs.get(referenceString(parsed));
      if (id && this.records.has(id)) return this.records.get(id)!;
    }
    const prefix = /^(?:sha256:)?([a-f0-9]{1,63})$/.exec(ref);
    if (prefix) {
      const hits = [...this.records.keys()].filter((id) => id.startsWith(`sha256:${prefix[1]}`));
      if (hits.length === 1) return this.records.get(hits[0])!;
      if (hits.length > 1) throw new InvalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw new NotFound(`No such image: ${parsed ? familiar(parsed) : ref}`);
  }

  /**
   * Stores an image whose config and layer blobs are already in the content
   * store: unpacks layers not yet unpacked (checking each against its diff ID),
   * writes the manifest and the record. Idempotent for an existing image.
   * Unpacking runs outside the service lock (it can take seconds); the layers
   * it needs are pinned meanwhile so no concurrent GC takes them.
   */
  async createImage(configDigest: string, layers: Array<{ digest: string; mediaType: string }>, opts: CreateOptions = {}): Promise<ImageRecord> {
    const existing = this.records.get(configDigest);
    if (existing && !opts.names?.length) return existing;
    const raw = await this.content.readBuffer(configDigest);
    let config: ImageConfig;
    try {
      config = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new InvalidArgument(`invalid image config ${configDigest}: not JSON`);
    }
    const diffIds = config?.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || config.rootfs.type !== 'layers' || !diffIds.every((d) => /^sha256:[a-f0-9]{64}$/.test(d))) {
      throw new InvalidArgument(`invalid image config ${configDigest}: bad rootfs.diff_ids`);
    }
    if (diffIds.length !== layers.length) throw new InvalidArgument(`invalid image: config lists ${diffIds.length} layers, found ${layers.length}`);
    const chain = chainIds(diffIds);
    this.pin(chain);
    let ok = false;
    try {
      const refs: LayerRef[] = [];
      for (let i = 0; i < layers.length; i++) {
        const blob = await this.content.info(layers[i].digest);
        const have = this.snapshots.stat(chain[i])?.size;
        opts.onUnpack?.(i, have !== undefined ? 'exists' : 'start');
        const unpacked = have ?? (await this.unpackOnce(blob.digest, diffIds[i], chain[i], chain[i - 1]));
        opts.onUnpack?.(i, 'done');
        refs.push({ digest: blob.digest, diffId: diffIds[i], mediaType: layers[i].mediaType, size: blob.size, unpackedSize: unpacked });
      }
      const rec = await this.locked(async () => {
        const again = this.records.get(configDigest);
        if (again) {
          await this.nameLocked(again.id, opts);
          return again;
        }
        // A pulled image keeps the registry's manifest, so push and RepoDigests
        // name the same bytes; local images get an OCI manifest of their own.
        let manifestDigest = opts.manifestDigest;
        if (!manifestDigest) {
          const manifest = {
            schemaVersion: 2,
            mediaType: mediaTypes.ociManifest,
            config: { mediaType: mediaTypes.ociConfig, digest: configDigest, size: raw.length },
            layers: refs.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
          };
          manifestDigest = (await this.content.writeBuffer(JSON.stringify(manifest))).digest;
        }
        const rec: ImageRecord = { id: configDigest, layers: refs, manifestDigest };
        if (opts.parent && this.records.has(opts.parent)) rec.parent = opts.parent;
        await writeJsonAtomic(path.join(this.recordDir, `${configDigest.slice(7)}.json`), rec);
        this.records.set(rec.id, rec);
        this.configs.set(rec.id, config);
        await this.nameLocked(rec.id, opts);
        return rec;
      });
      ok = true;
      return rec;
    } finally {
      this.unpin(chain);
      if (!ok) await this.collectLayers().catch(() => undefined);
    }
  }

  private pin(chain: string[]): void {
    for (const c of chain) this.pinned.set(c, (this.pinned.get(c) ?? 0) + 1);
  }

  private unpin(chain: string[]): void {
    for (const c of chain) {
      const n = (this.pinned.get(c) ?? 1) - 1;
      if (n > 0) this.pinned.set(c, n); else this.pinned.delete(c);
    }
  }

  /**
   * Unpacks an image's layers as their sources become ready, side by side (a
   * pull extracts each layer while it downloads: see layer-ingest.ts), so the
   * createImage that follows finds them done. A source is the digest of a
   * blob already stored or a blob arriving now. The layers stay pinned
   * against GC until `release()`; call it once the image is created. On
   * failure every layer has settled, nothing stays pinned and half layers are
   * gone.
   *
   *   const prep = await images.prepareLayers(diffIds, async (i) => ({ stream, digest, size, diffId: diffIds[i] }));
   *   try { await images.createImage(config, layers, opts) } finally { prep.release() }
   */
  async prepareLayers(diffIds: string[], source: (index: number) => Promise<LayerSource>, onUnpack?: CreateOptions['onUnpack']): Promise<{ release: () => void }> {
    const chain = chainIds(diffIds);
    this.pin(chain);
    let released = false;
    const release = () => { if (!released) { released = true; this.unpin(chain); } };
    const deps = {
      content: this.content,
      snapshots: this.snapshots,
      unpackStored: (blob: string, i: number) => this.unpackOnce(blob, diffIds[i], chain[i], chain[i - 1]),
    };
    try {
      await unpackLayers(deps, diffIds, chain, source, onUnpack);
    } catch (err) {
      release();
      await this.collectLayers().catch(() => undefined);
      throw err;
    }
    return { release };
  }

  /** Points names at a new image in the same critical section that created it (so prune never sees it nameless). */
  private async nameLocked(id: string, opts: CreateOptions): Promise<void> {
    if (!opts.names?.length) return;
    for (const n of opts.names) {
      const key = referenceString(withDefaultTag(n));
      const previous = this.refs.get(key);
      this.refs.set(key, id);
      if (previous && previous !== id) opts.replaced?.push({ ref: n, previous });
    }
    await this.saveRefs();
  }

  /** Unpacks a chain once even when several creates want it at the same time. */
  private unpackOnce(blob: string, diffId: string, chainId: string, parent?: string): Promise<number> {
    let p = this.unpacking.get(chainId);
    if (!p) {
      p = this.unpackLayer(blob, diffId, chainId, parent).finally(() => this.unpacking.delete(chainId));
      this.unpacking.set(chainId, p);
    }
    return p;
  }

  /** Unpacks one layer blob into a new snapshot named by its chain ID; returns its unpacked size. */
  private async unpackLayer(blob: string, diffId: string, chainId: string, parent?: string): Promise<number> {
    const key = `extract-${randomBytes(8).toString('hex')}`;
    await this.snapshots.prepare(key, parent);
    try {
      const scan = await applyLayer(this.content.path(blob), this.snapshots.dir(key), diffId);
      await this.snapshots.commit(chainId, key, scan.size);
      return scan.size;
    } catch (err) {
      await this.snapshots.remove(key).catch(() => undefined);
      throw err;
    }
  }

  /** Points `repo[:tag]` at an image (moving it from any other image). */
  async tag(source: string, ref: Reference): Promise<void> {
    await this.locked(async () => {
      const rec = this.resolve(source);
      const key = referenceString(withDefaultTag(ref));
      // Re-tagging what the name already holds (a fully cached rebuild) changes only
      // LastTagTime: losing that to a power cut is harmless, so skip both fsyncs and the refs file.
      const unchanged = this.refs.get(key) === rec.id;
      this.refs.set(key, rec.id);
      rec.lastTagTime = new Date().toISOString();
      await writeJsonAtomic(path.join(this.recordDir, `${rec.id.slice(7)}.json`), rec, { durable: !unchanged });
      if (!unchanged) await this.saveRefs();
    });
  }

  /** Images whose parent is `id` (made by commit from it). */
  children(id: string): ImageRecord[] {
    return [...this.records.values()].filter((r) => r.parent === id);
  }

  /**
   * `docker rmi`: untags a name; deletes the image once nothing names it (or
   * when given by ID), refusing while containers use it unless `force` (never
   * while one runs). Deleting also drops its layers no other image uses and,
   * unless `noprune`, untagged parents left behind.
   */
  remove(ref: string, opts: { force?: boolean; noprune?: boolean }): Promise<DeleteItem[]> {
    return this.locked(async () => {
      const rec = this.resolve(ref);
      const out: DeleteItem[] = [];
      const byId = /^(?:sha256:)?[a-f0-9]{1,64}$/.test(ref) && rec.id.startsWith(ref.startsWith('sha256:') ? ref : `sha256:${ref}`);
      const refsOf = () => [...this.refs.entries()].filter(([, i]) => i === rec.id).map(([r]) => r);
      let removedName = false;
      if (!byId) {
        const parsed = withDefaultTag(parseReference(ref));
        const users = this.containers(rec.id);
        if (!opts.force && refsOf().length === 1 && users.length > 0) {
          throw new Conflict(`conflict: unable to remove repository reference "${ref}" (must force) - container ${shortId(users[0].id)} is using its referenced image ${shortId(rec.id)}`);
        }
        const key = referenceString(parsed);
        this.refs.delete(key);
        out.push({ Untagged: familiar(parsed) });
        // A tag gone and only digests of that repository left: they go too.
        const left = refsOf().filter((r) => repoOf(r) === repoOf(key));
        if (!parsed.digest && left.length > 0 && left.every((r) => r.includes('@'))) {
          for (const r of left) { this.refs.delete(r); out.push({ Untagged: familiar(parseReference(r)) }); }
        }
        await this.saveRefs();
        if (refsOf().length > 0) return out;
        removedName = true;
      }
      const conflict = this.deleteConflict(rec, opts.force ?? false, byId);
      if (conflict) {
        // The name is gone; keeping an image a running container needs is the quiet outcome Docker has.
        if (removedName && (conflict.hard || !opts.force)) return out;
        throw new Conflict(conflict.message);
      }
      for (const r of refsOf()) { this.refs.delete(r); out.push({ Untagged: familiar(parseReference(r)) }); }
      await this.saveRefs();
      await this.deleteImage(rec, out);
      if (!opts.noprune) await this.pruneParents(rec.parent, out);
      return out;
    });
  }

  private deleteConflict(rec: ImageRecord, force: boolean, byId: boolean): { message: string; hard: boolean } | undefined {
    const sid = shortId(rec.id);
    if (this.children(rec.id).length > 0) return { hard: true, message: `conflict: unable to delete ${sid} (cannot be forced) - image has dependent child images` };
    const users = this.containers(rec.id);
    const running = users.find((u) => u.running);
    if (running) return { hard: true, message: `conflict: unable to delete ${sid} (cannot be forced) - image is being used by running container ${shortId(running.id)}` };
    if (force) return undefined;
    const names = [...this.refs.entries()].filter(([, i]) => i === rec.id).map(([r]) => repoOf(r));
    if (byId && new Set(names).size > 1) return { hard: false, message: `conflict: unable to delete ${sid} (must be forced) - image is referenced in multiple repositories` };
    if (users.length > 0) return { hard: false, message: `conflict: unable to delete ${sid} (must be forced) - image is being used by stopped container ${shortId(users[0].id)}` };
    return undefined;
  }

  /** Drops the record, then layers and blobs nothing else uses. */
  private async deleteImage(rec: ImageRecord, out: DeleteItem[]): Promise<void> {
    await fs.rm(path.join(this.recordDir, `${rec.id.slice(7)}.json`), { force: true });
    this.records.delete(rec.id);
    this.configs.delete(rec.id);
    for (const [r, i] of [...this.refs.entries()]) if (i === rec.id) this.refs.delete(r);
    out.push({ Deleted: rec.id });
    const usedChains = new Set<string>();
    const usedBlobs = new Set<string>();
    for (const r of this.records.values()) {
      for (const c of this.chainIdsOf(r)) usedChains.add(c);
      usedBlobs.add(r.id).add(r.manifestDigest);
      for (const l of r.layers) usedBlobs.add(l.digest);
    }
    for (const c of this.chainIdsOf(rec).reverse()) {
      if (usedChains.has(c) || this.pinned.has(c) || !this.snapshots.stat(c)) continue;
      try {
        await this.snapshots.remove(c);
        out.push({ Deleted: c });
      } catch (err) {
        if (!(err instanceof Conflict)) throw err;
        break; // a container still builds on it; it goes when the container does
      }
    }
    for (const d of [rec.id, rec.manifestDigest, ...rec.layers.map((l) => l.digest)]) if (!usedBlobs.has(d)) await this.content.delete(d);
  }

  private async pruneParents(parent: string | undefined, out: DeleteItem[]): Promise<void> {
    while (parent) {
      const p = this.records.get(parent);
      if (!p || this.repoTags(p.id).length > 0 || this.repoDigests(p.id).length > 0 || this.children(p.id).length > 0 || this.containers(p.id).length > 0) return;
      await this.deleteImage(p, out);
      parent = p.parent;
    }
  }

  /** Removes unpacked layers no image uses any more (kept while a container built on them). */
  collectLayers(): Promise<void> {
    return this.locked(async () => {
      const used = new Set<string>();
      for (const r of this.records.values()) for (const c of this.chainIdsOf(r)) used.add(c);
      for (let progress = true; progress;) {
        progress = false;
        for (const s of this.snapshots.list()) {
          if (s.kind !== 'committed' || used.has(s.key) || this.pinned.has(s.key)) continue;
          if (this.snapshots.list().some((c) => c.parent === s.key)) continue;
          await this.snapshots.remove(s.key);
          progress = true;
        }
      }
    });
  }

  /** Dangling: nothing names it and no image builds on it. */
  isDangling(rec: ImageRecord): boolean {
    return this.repoTags(rec.id).length === 0 && this.repoDigests(rec.id).length === 0 && this.children(rec.id).length === 0;
  }

  /**
   * `docker image prune`: deletes dangling images (with `all`, every image no
   * container uses), then blobs no image references that no pull holds and
   * that are older than `blobGraceMs` (default an hour: see blob-gc.ts),
   * returning what went and the bytes freed.
   */
  prune(opts: { all?: boolean; keep?: (rec: ImageRecord) => boolean; blobGraceMs?: number } = {}): Promise<{ ImagesDeleted: DeleteItem[]; SpaceReclaimed: number }> {
    return this.locked(async () => {
      const deleted: DeleteItem[] = [];
      let reclaimed = 0;
      for (let progress = true; progress;) {
        progress = false;
        for (const rec of [...this.records.values()]) {
          if (this.containers(rec.id).length > 0 || this.children(rec.id).length > 0) continue;
          if (!opts.all && !this.isDangling(rec)) continue;
          if (opts.keep?.(rec)) continue;
          for (const r of [...this.refs.entries()].filter(([, i]) => i === rec.id).map(([r]) => r)) {
            this.refs.delete(r);
            deleted.push({ Untagged: familiar(parseReference(r)) });
          }
          const before = deleted.length;
          await this.deleteImage(rec, deleted);
          reclaimed += rec.layers.filter((l, i) => deleted.slice(before).some((d) => 'Deleted' in d && d.Deleted === this.chainIdsOf(rec)[i])).reduce((n, l) => n + l.unpackedSize, 0);
          progress = true;
        }
      }
      await this.saveRefs();
      // Blobs no image references (a failed pull's) go too once past their grace: see blob-gc.ts.
      const referenced = new Set<string>();
      for (const r of this.records.values()) for (const d of [r.id, r.manifestDigest, ...r.layers.map((l) => l.digest)]) referenced.add(d);
      const blobs = await collectBlobs(this.content, referenced, this.leases, opts.blobGraceMs ?? unreferencedBlobGraceMs);
      return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed + blobs.bytes };
    });
  }
}

function repoOf(fullRef: string): string {
  const r = parseReference(fullRef);
  return `${r.domain}/${r.path}`;
}
