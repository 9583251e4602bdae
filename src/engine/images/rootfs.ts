import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { NotFound } from '../../common/errors.js';
import type { ContainerConfig } from '../containers/types.js';
import { layerFromUpper, runtimePlaceholders, upperChanges, type Change } from '../layers/diff.js';
import { applyLayerStream } from '../layers/apply.js';
import { copyUpperTree, createTarStream, isMountPoint } from '../layers/host-tools.js';
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

  /** The container's changes as a layer tar (the builder commits these itself). */
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
    const key = keyOf(containerId);
    const skip = await runtimePlaceholders(this.sn.dir(key), this.sn.lowerDirs(key), opts.mountTargets ?? []);
    const ref = opts.repoTag ? parseRepoTag(opts.repoTag) : undefined;
    const base = this.images.resolve(opts.imageId);
    const baseConfig = this.images.config(base.id);
    const layer = await this.storeAndCopy(this.sn.dir(key), skip, base.layers.map((l) => l.diffId));
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
    const cfg = await this.images.content.writeBuffer(JSON.stringify(config));
    const rec = await this.images.createImage(cfg.digest, [...base.layers.map((l) => ({ digest: l.digest, mediaType: l.mediaType })), { digest: layer.digest, mediaType: mediaTypes.ociLayer }], { parent: base.id, names: ref ? [ref] : [] });
    return rec;
  }

  /**
   * Stores a layer tar in the content store and unpacks it into the snapshot
   * its chain ID names, from the one stream: createImage then finds the layer
   * unpacked instead of reading the blob back to scan and extract it. Only
   * for tars the engine made itself (a container's diff): commit and the
   * builder's RUN steps. A layerFromUpper stream brings its own scan, so it
   * is not parsed a second time in JS; any other stream is scanned.
   */
  async storeAndUnpack(tarStream: Readable, parentDiffIds: string[]): Promise<{ digest: string }> {
    const key = `extract-commit-${randomBytes(8).toString('hex')}`;
    await this.sn.prepare(key, parentDiffIds.length ? chainIds(parentDiffIds).at(-1) : undefined);
    try {
      const t = tee(tarStream);
      const known = tarStream instanceof UpperTarFilter ? () => tarStream.scan : undefined;
      const [blob, scan] = await t.both(this.images.content.write(t.a), applyLayerStream(t.b, this.sn.dir(key), known));
      // An uncompressed layer's digest is its diff ID.
      const chainId = chainIds([...parentDiffIds, blob.digest]).at(-1)!;
      if (this.sn.stat(chainId)) await this.sn.remove(key);
      else await this.sn.commit(chainId, key, scan.size);
      return blob;
    } catch (err) {
      if (this.sn.stat(key)) await this.sn.remove(key).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Commit's variant of storeAndUnpack: the blob is the layerFromUpper tar
   * while the snapshot is copied from the upper dir by tar-to-tar in the
   * kernel, not fed back through Node to a second tar (that pipe write was
   * the daemon's largest CPU cost in a commit). Both leave out `skip`.
   */
  private async storeAndCopy(upper: string, skip: Set<string>, parentDiffIds: string[]): Promise<{ digest: string }> {
    const key = `extract-commit-${randomBytes(8).toString('hex')}`;
    await this.sn.prepare(key, parentDiffIds.length ? chainIds(parentDiffIds).at(-1) : undefined);
    try {
      const names = (await fs.readdir(upper)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const layer = layerFromUpper(upper, { skip });
      const [blob] = await settleBoth(this.images.content.write(layer), copyUpperTree(upper, this.sn.dir(key), names, skip));
      // An uncompressed layer's digest is its diff ID.
      const chainId = chainIds([...parentDiffIds, blob.digest]).at(-1)!;
      if (this.sn.stat(chainId)) await this.sn.remove(key);
      else await this.sn.commit(chainId, key, layer.scan.size);
      return blob;
    } catch (err) {
      if (this.sn.stat(key)) await this.sn.remove(key).catch(() => undefined);
      throw err;
    }
  }

  private need(containerId: string): void {
    if (!this.sn.stat(keyOf(containerId))) throw new NotFound(`No such container: ${containerId}`);
  }
}

