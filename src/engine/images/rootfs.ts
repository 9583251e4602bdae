import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import { NotFound } from '../../common/errors.js';
import type { ContainerConfig } from '../containers/types.js';
import { copyUpperSnapshot, layerFromUpper, runtimePlaceholders, scanUpper, upperChanges, type Change } from '../layers/diff.js';
import { applyLayerStream } from '../layers/apply.js';
import { copyUpperTree, createTarStream, isMountPoint, sha256OfFileSynced, writeLayerTarOfEntries } from '../layers/host-tools.js';
import { log } from '../../common/log.js';
import { treeSize } from '../layers/usage.js';
import { UpperTarFilter } from '../layers/upper-tar.js';
import { settleBoth } from '../../common/settle.js';
import { tee } from '../../common/tee.js';
import { parseRepoTag } from './reference.js';
import type { ImageService } from './service.js';
import { chainIds, mediaTypes, type ImageConfig, type ImageRecord } from './types.js';

const keyOf = (containerId: string) => `container-${containerId}`;

/**
 * Container root filesystems: a writable overlay snapshot per container on
 * top of its image's layers. The container service calls these; they know
 * nothing of container state.
 *
 *   await rootfs.createContainerLayer(id, img.id);
 *   const dir = await rootfs.mountContainer(id);   // give it to runc as root.path
 *   …
 *   await rootfs.removeContainerLayer(id);
 */
export class ContainerRootfs {
  constructor(private readonly images: ImageService) {}

  private get sn() { return this.images.snapshots; }

  /** Creates the empty writable layer of a new container over `imageId`. */
  async createContainerLayer(containerId: string, imageId: string): Promise<void> {
    const img = this.images.resolve(imageId);
    const chain = this.images.chainIdsOf(img);
    await this.sn.prepare(keyOf(containerId), chain[chain.length - 1]);
  }

  /** Mounts the container's overlay (idempotent) and returns the rootfs path. */
  async mountContainer(containerId: string): Promise<string> {
    this.need(containerId);
    return this.sn.mount(keyOf(containerId));
  }

  async unmountContainer(containerId: string): Promise<void> {
    if (!this.sn.stat(keyOf(containerId))) return;
    await this.sn.unmount(keyOf(containerId));
  }

  /** Unmounts and deletes the container's layer, then layers of deleted images it kept alive. */
  async removeContainerLayer(containerId: string): Promise<void> {
    if (this.sn.stat(keyOf(containerId))) await this.sn.remove(keyOf(containerId));
    await this.images.collectLayers();
  }

  /** A tar of the container's whole filesystem (`docker export`). */
  async exportContainer(containerId: string): Promise<Readable> {
    this.need(containerId);
    const key = keyOf(containerId);
    const wasMounted = await isMountPoint(this.sn.mountPoint(key));
    const dir = await this.sn.mount(key);
    const { stream, done } = createTarStream(dir);
    const out = new PassThrough();
    stream.pipe(out, { end: false });
    done.then(
      async () => { if (!wasMounted) await this.sn.unmount(key).catch(() => undefined); out.end(); },
      async (err) => { if (!wasMounted) await this.sn.unmount(key).catch(() => undefined); out.destroy(err); },
    );
    return out;
  }

  /** `docker diff`: what the container changed, added and deleted, less the runtime's own mount targets. */
  async containerChanges(containerId: string, mountTargets: string[] = []): Promise<Change[]> {
    this.need(containerId);
    const key = keyOf(containerId);
    const skip = await runtimePlaceholders(this.sn.dir(key), this.sn.lowerDirs(key), mountTargets);
    return (await upperChanges(this.sn.dir(key), this.sn.lowerDirs(key))).filter((c) => c.Kind === 2 || !skip.has(c.Path.slice(1)));
  }

  /** Bytes the container wrote (its writable layer): `SizeRw` in `ps -s` and `system df`. */
  async containerSize(containerId: string): Promise<number> {
    if (!this.sn.stat(keyOf(containerId))) return 0;
    return treeSize(this.sn.dir(keyOf(containerId)));
  }

  /** The container's changes as a layer tar, streamed (storeContainerLayer stores them faster). */
  containerDiff(containerId: string, keep?: (name: string, size: number) => boolean): Readable {
    this.need(containerId);
    return layerFromUpper(this.sn.dir(keyOf(containerId)), { keep });
  }

  /**
   * `docker commit`: a new image of the container's image plus one layer
   * holding the container's changes (only the diff is stored). `mountTargets`
   * are the runtime's mount points; the ones it had to create stay out.
   */
  async commitContainer(containerId: string, opts: { imageId: string; config?: ContainerConfig; comment?: string; author?: string; repoTag?: string; containerConfig?: ContainerConfig; mountTargets?: string[] }): Promise<ImageRecord> {
    this.need(containerId);
    const lap = laps();
    const key = keyOf(containerId);
    const skip = await runtimePlaceholders(this.sn.dir(key), this.sn.lowerDirs(key), opts.mountTargets ?? []);
    lap('placeholders');
    const ref = opts.repoTag ? parseRepoTag(opts.repoTag) : undefined;
    const base = this.images.resolve(opts.imageId);
    const baseConfig = this.images.config(base.id);
    const layer = await this.storeUpperLayer(this.sn.dir(key), skip, base.layers.map((l) => l.diffId));
    const created = new Date().toISOString();
    const config: ImageConfig = {
      ...baseConfig,
      config: opts.config ?? baseConfig.config,
      container: containerId,
      container_config: opts.containerConfig ?? opts.config ?? baseConfig.config,
      created,
      ...(opts.author ? { author: opts.author } : {}),
      ...(opts.comment ? { comment: opts.comment } : { comment: undefined }),
      history: [...(baseConfig.history ?? []), { created, ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}) }],
      rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer.digest] },
    };
    lap('layer');
    const cfg = await this.images.content.writeBuffer(JSON.stringify(config));
    lap('config');
    const rec = await this.images.createImage(cfg.digest, [...base.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType })), { digest: layer.digest, mediaType: mediaTypes.ociLayer }], { parent: base.id, names: ref ? [ref] : [] });
    log.debug('images', 'committed', lap.report());
    return rec;
  }

  /**
   * Stores a layer tar in the content store and unpacks it into the snapshot
   * its chain ID names, from the one stream: createImage then finds the layer
   * unpacked instead of reading the blob back to scan and extract it. Only
   * for tars the engine made itself: the builder's COPY/ADD layers (commit
   * and RUN steps use storeContainerLayer). A layerFromUpper stream brings
   * its own scan, so it is not parsed a second time in JS; any other stream
   * is scanned.
   */
  async storeAndUnpack(tarStream: Readable, parentDiffIds: string[]): Promise<{ digest: string }> {
    const key = `extract-commit-${randomBytes(8).toString('hex')}`;
    await this.sn.prepare(key, parentDiffIds.length ? chainIds(parentDiffIds).at(-1) : undefined);
    let stored: { digest: string; created: boolean } | undefined;
    try {
      const t = tee(tarStream);
      const known = tarStream instanceof UpperTarFilter ? () => tarStream.scan : undefined;
      const write = this.images.content.write(t.a).then((b) => { stored = b; return b; });
      const [blob, scan] = await t.both(write, applyLayerStream(t.b, this.sn.dir(key), known));
      // An uncompressed layer's digest is its diff ID.
      const chainId = chainIds([...parentDiffIds, blob.digest]).at(-1)!;
      if (this.sn.stat(chainId)) await this.sn.remove(key);
      else await this.sn.commit(chainId, key, scan.size);
      return blob;
    } catch (err) {
      if (this.sn.stat(key)) await this.sn.remove(key).catch(() => undefined);
      // A blob this call created for a layer that never became an image is an orphan.
      if (stored?.created) await this.images.content.delete(stored.digest).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The container's changes as a new layer over `parentDiffIds`: the blob in
   * the content store and the snapshot under its chain ID, as storeAndUnpack
   * leaves them, but made by native tools side by side instead of through
   * Node. commit and the builder's RUN steps use it. `mountTargets` are the
   * runtime's mount points (the ones it had to create stay out, see
   * runtimePlaceholders); `keep` can refuse non-directories by layer path
   * and size.
   *
   *   const { digest } = await rootfs.storeContainerLayer(id, img.layers.map((l) => l.diffId), { mountTargets: ['/etc/hosts'] });
   */
  async storeContainerLayer(containerId: string, parentDiffIds: string[], opts: { mountTargets?: string[]; keep?: (name: string, size: number) => boolean } = {}): Promise<{ digest: string }> {
    this.need(containerId);
    const key = keyOf(containerId);
    const upper = this.sn.dir(key);
    const skip = await runtimePlaceholders(upper, this.sn.lowerDirs(key), opts.mountTargets ?? []);
    return this.storeUpperLayer(upper, skip, parentDiffIds, opts.keep);
  }

  /**
   * The blob and the snapshot are made at once, each by native tools: when
   * nothing needs rewriting (no whiteout, no opaque dir) tar writes the layer
   * file, else the UpperTarFilter stream does; openssl hashes it while it
   * is synced. The
   * snapshot is a `cp -a` of the upper dir, cleaned of what the layer leaves
   * out. A failure of either side removes the other's work: no snapshot and
   * no blob of ours stay behind (a blob that was already there is kept).
   */
  private async storeUpperLayer(upper: string, skip: Set<string>, parentDiffIds: string[], keep?: (name: string, size: number) => boolean): Promise<{ digest: string }> {
    const lap = laps();
    const key = `extract-commit-${randomBytes(8).toString('hex')}`;
    let stored: { digest: string; created: boolean } | undefined;
    try {
      // The scan (getfattr, a walk) and the snapshot's metadata write overlap.
      const [scan] = await settleBoth(scanUpper(upper, { skip, keep }), this.sn.prepare(key, parentDiffIds.length ? chainIds(parentDiffIds).at(-1) : undefined));
      lap('scan');
      let size = 0;
      let blobP: Promise<{ digest: string; created: boolean }>;
      let snapP: Promise<void>;
      if (!scan) {
        // No getfattr: the header-rewriting stream for the blob, tar-to-tar for the snapshot.
        const names = (await fs.readdir(upper)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        const layer = layerFromUpper(upper, { skip, keep });
        blobP = this.images.content.write(layer).then((b) => { size = layer.scan.size; return b; });
        snapP = copyUpperTree(upper, this.sn.dir(key), names, skip);
      } else {
        size = scan.size;
        // Either way openssl hashes the file afterwards, not Node on the way.
        const fill = scan.needsRewrite
          ? async (tmp: string) => { await pipeline(layerFromUpper(upper, { skip: scan.skip }), createWriteStream(tmp)); return sha256OfFileSynced(tmp); }
          : (tmp: string) => writeLayerTarOfEntries(upper, scan.names, scan.skip, tmp, { bigRecords: scan.size >= 16 << 20 });
        blobP = this.images.content.writeFile((tmp) => fill(tmp).then((d) => { lap('tar+hash'); return d; }));
        snapP = copyUpperSnapshot(upper, this.sn.dir(key), scan).then(() => lap('snapshot'));
      }
      const [blob] = await settleBoth(blobP.then((b) => { stored = b; lap('blob'); return b; }), snapP);
      // An uncompressed layer's digest is its diff ID.
      const chainId = chainIds([...parentDiffIds, blob.digest]).at(-1)!;
      if (this.sn.stat(chainId)) await this.sn.remove(key);
      else await this.sn.commit(chainId, key, size);
      lap('commit snapshot');
      log.debug('images', 'layer of an upper dir stored', { ...lap.report(), native: scan ? !scan.needsRewrite : false });
      return blob;
    } catch (err) {
      if (this.sn.stat(key)) await this.sn.remove(key).catch(() => undefined);
      if (stored?.created) await this.images.content.delete(stored.digest).catch(() => undefined);
      throw err;
    }
  }

  private need(containerId: string): void {
    if (!this.sn.stat(keyOf(containerId))) throw new NotFound(`No such container: ${containerId}`);
  }
}


/** Elapsed milliseconds per step, for the debug log of a commit. */
function laps(): ((step: string) => void) & { report(): Record<string, number> } {
  const start = performance.now();
  const marks: Record<string, number> = {};
  const lap = (step: string) => { marks[step] = Math.round(performance.now() - start); };
  return Object.assign(lap, { report: () => ({ ...marks, total: Math.round(performance.now() - start) }) });
}
