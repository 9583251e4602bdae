/**
 * What the build executor needs from the rest of the engine, and nothing
 * more: look up an image, run a command in a throwaway container, turn a
 * container's changes or a ready-made tar into a layer, write an image
 * config, mount an image read-only, tag. The executor never sees the image,
 * container or snapshot services themselves.
 *
 *   const engine = new ServiceBuildEngine(images, containers, rootfs);
 *   const base = engine.image('busybox');                      // { id, config }
 *   const run = await engine.run({ imageId: base.id, argv: ['/bin/sh', '-c', 'echo hi'], env: [] }, (b) => out.write(b));
 *   const id = await engine.commitContainer(run.containerId, base.id, { config, createdBy: '/bin/sh -c echo hi' });
 *   await engine.removeContainer(run.containerId);
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerService } from '../containers/service.js';
import type { CacheSourceStore } from './cache-from.js';
import type { ContainerConfig, HostConfig } from '../containers/types.js';
import { hostPlatform } from '../images/import.js';
import { parseRepoTag } from '../images/reference.js';
import type { ContainerRootfs } from '../images/rootfs.js';
import type { ImageService } from '../images/service.js';
import { mediaTypes, type HistoryEntry, type ImageConfig } from '../images/types.js';

/** What a new image records besides its layers. */
export interface ImageMeta {
  config: ContainerConfig;
  /** History text (`/bin/sh -c #(nop)  ENV A=1`). */
  createdBy: string;
  author?: string;
}

export interface RunRequest {
  /** Image the container starts from (an ID). */
  imageId: string;
  argv: string[];
  env: string[];
  user?: string;
  workingDir?: string;
  /** `--network`, `--add-host`, `--shm-size` of the build. */
  networkMode?: string;
  extraHosts?: string[];
  shmSize?: number;
  /** Bind mounts (`/host:/ctr:ro`), e.g. the directory holding a heredoc script. */
  binds?: string[];
  /** Called once the container exists, before it starts (` ---> Running in …`). */
  onCreated?: (containerId: string) => void;
}

/** CacheSourceStore (cache-from.ts) is part of it: image lookups, parents, restoring a cached row. */
export interface BuildEngine extends CacheSourceStore {
  /** A local image by reference or ID; throws NotFound `No such image: x`. */
  image(ref: string): { id: string; config: ImageConfig };
  /** Does the image still exist (a cache entry may point at a deleted one)? */
  exists(id: string): boolean;
  /**
   * Creates a container that never starts, as the legacy builder does for a
   * metadata step (` ---> Running in …`); remove it with removeContainer.
   */
  createContainer(req: RunRequest): Promise<string>;
  /** Runs `argv` in a new container, streaming its output; resolves when it exits. */
  run(req: RunRequest, out: (chunk: Buffer) => void): Promise<{ containerId: string; exitCode: number }>;
  /** A new image: `parent` plus one layer holding what the container changed. */
  commitContainer(containerId: string, parent: string | undefined, meta: ImageMeta): Promise<string>;
  removeContainer(containerId: string): Promise<void>;
  /**
   * A new image: `parent` plus `layer` (a plain tar) as its top layer. With
   * `madeHere` (a tar the builder wrote itself, such as COPY makes) the layer
   * is unpacked while it is stored, in one pass.
   */
  addLayer(parent: string | undefined, layer: Readable, meta: ImageMeta, madeHere?: boolean): Promise<string>;
  /** A new image: `parent`'s layers, a new config and one history row with no layer. */
  commitConfig(parent: string | undefined, meta: ImageMeta): Promise<string>;
  /** Mounts an image's filesystem read-only while `fn` runs (undefined: an empty root). */
  withRootfs<T>(imageId: string | undefined, fn: (dir: string) => Promise<T>): Promise<T>;
  /** Points each `name[:tag]` at the image. */
  tag(imageId: string, refs: string[]): Promise<void>;
}

/** Files runc creates as bind-mount targets in the container's upper dir; not part of a RUN's layer. */
const MOUNT_TARGETS = new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf', '.dockerenv']);

/** The container config and host config of a build step's container. */
function containerSpec(req: RunRequest): [ContainerConfig, HostConfig] {
  const config: ContainerConfig = {
    Image: req.imageId, Cmd: req.argv, Entrypoint: [''], Env: req.env, User: req.user ?? '', WorkingDir: req.workingDir ?? '',
    Healthcheck: { Test: ['NONE'] }, AttachStdout: true, AttachStderr: true,
  };
  const host: HostConfig = {};
  if (req.networkMode && req.networkMode !== 'default') host.NetworkMode = req.networkMode;
  if (req.extraHosts?.length) host.ExtraHosts = req.extraHosts;
  if (req.shmSize) host.ShmSize = req.shmSize;
  if (req.binds?.length) host.Binds = req.binds;
  return [config, host];
}

/** The BuildEngine over the daemon's own services. */
export class ServiceBuildEngine implements BuildEngine {
  constructor(private images: ImageService, private containers: ContainerService, private rootfs: ContainerRootfs, private tmpRoot = tmpdir()) {}

  image(ref: string): { id: string; config: ImageConfig } {
    const rec = this.images.resolve(ref);
    return { id: rec.id, config: this.images.config(rec.id) };
  }

  exists(id: string): boolean {
    return this.images.get(id) !== undefined;
  }

  async createContainer(req: RunRequest): Promise<string> {
    const { Id } = await this.containers.create(...containerSpec(req));
    req.onCreated?.(Id);
    return Id;
  }

  async run(req: RunRequest, out: (chunk: Buffer) => void): Promise<{ containerId: string; exitCode: number }> {
    const { Id } = await this.containers.create(...containerSpec(req));
    req.onCreated?.(Id);
    const session = this.containers.attach(Id, { stdin: false });
    // A failed start rejects the pending attach; nobody else would handle that rejection.
    session.catch(() => undefined);
    const exited = this.containers.wait(Id, 'next-exit');
    try {
      await this.containers.start(Id);
    } catch (err) {
      await this.containers.remove(Id, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
    const s = await session;
    const ends: Promise<void>[] = [];
    for (const stream of [s?.stdout, s?.stderr]) {
      if (!stream) continue;
      stream.on('data', (b: Buffer) => out(b));
      ends.push(new Promise((resolve) => { stream.once('end', resolve); stream.once('close', resolve); stream.once('error', () => resolve()); }));
    }
    const exitCode = await exited;
    // Output still in flight when the process exits; never wait forever for it.
    await Promise.race([Promise.all(ends), new Promise((r) => setTimeout(r, 2000))]);
    s?.close();
    return { containerId: Id, exitCode };
  }

  async commitContainer(containerId: string, parent: string | undefined, meta: ImageMeta): Promise<string> {
    const base = parent ? this.images.resolve(parent) : undefined;
    const keep = (name: string, size: number) => !(MOUNT_TARGETS.has(name) && size === 0);
    const blob = await this.rootfs.storeContainerLayer(containerId, base ? base.layers.map((l) => l.diffId) : [], { keep });
    return this.writeImage(parent, meta, { digest: blob.digest });
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.containers.remove(containerId, { force: true, volumes: true });
  }

  async addLayer(parent: string | undefined, layer: Readable, meta: ImageMeta, madeHere?: boolean): Promise<string> {
    if (!madeHere) {
      const blob = await this.images.content.write(layer);
      return this.writeImage(parent, meta, { digest: blob.digest });
    }
    // Store the blob and fill the snapshot from the same stream: createImage then finds the
    // layer unpacked under its chain ID and skips reading the blob back twice (scan, extract).
    const base = parent ? this.images.resolve(parent) : undefined;
    const { digest } = await this.rootfs.storeAndUnpack(layer, base ? base.layers.map((l) => l.diffId) : []);
    return this.writeImage(parent, meta, { digest });
  }

  commitConfig(parent: string | undefined, meta: ImageMeta): Promise<string> {
    return this.writeImage(parent, meta);
  }

  private async writeImage(parent: string | undefined, meta: ImageMeta, layer?: { digest: string }): Promise<string> {
    const base = parent ? this.images.resolve(parent) : undefined;
    const baseConfig: Partial<ImageConfig> = base ? this.images.config(base.id) : {};
    const created = new Date().toISOString();
    const entry: HistoryEntry = { created, created_by: meta.createdBy, ...(meta.author ? { author: meta.author } : {}), ...(layer ? {} : { empty_layer: true }) };
    const config: ImageConfig = {
      ...hostPlatform(),
      ...(baseConfig.architecture ? { architecture: baseConfig.architecture, os: baseConfig.os ?? 'linux' } : {}),
      config: meta.config,
      created,
      ...(meta.author ? { author: meta.author } : {}),
      history: [...(baseConfig.history ?? []), entry],
      rootfs: { type: 'layers', diff_ids: [...(baseConfig.rootfs?.diff_ids ?? []), ...(layer ? [layer.digest] : [])] },
    };
    const cfg = await this.images.content.writeBuffer(JSON.stringify(config));
    const layers = (base?.layers ?? []).map((l) => ({ digest: l.digest, mediaType: l.mediaType }));
    if (layer) layers.push({ digest: layer.digest, mediaType: mediaTypes.ociLayer });
    const rec = await this.images.createImage(cfg.digest, layers, { parent: base?.id });
    return rec.id;
  }

  parentOf(id: string): string | undefined {
    return this.images.get(id)?.parent;
  }

  async restoreFromCache(parent: string | undefined, source: string, index: number, config: ContainerConfig): Promise<string> {
    const src = this.images.resolve(source);
    const srcConfig = this.images.config(src.id);
    const base = parent ? this.images.resolve(parent) : undefined;
    const baseConfig: Partial<ImageConfig> = base ? this.images.config(base.id) : {};
    const row = srcConfig.history![index];
    // The source's layers are the parent's plus one per non-empty row: take as many as this row needs.
    const count = (base?.layers.length ?? 0) + (row.empty_layer ? 0 : 1);
    // Everything comes from the source, the creation time included, so restoring twice gives the same image.
    const image: ImageConfig = {
      architecture: srcConfig.architecture, os: srcConfig.os, ...(srcConfig.variant ? { variant: srcConfig.variant } : {}),
      config, created: row.created, ...(srcConfig.author ? { author: srcConfig.author } : {}),
      history: [...(baseConfig.history ?? []), row],
      rootfs: { type: 'layers', diff_ids: srcConfig.rootfs.diff_ids.slice(0, count) },
    };
    const cfg = await this.images.content.writeBuffer(JSON.stringify(image));
    const rec = await this.images.createImage(cfg.digest, src.layers.slice(0, count).map((l) => ({ digest: l.digest, mediaType: l.mediaType })), { parent: base?.id });
    return rec.id;
  }

  async withRootfs<T>(imageId: string | undefined, fn: (dir: string) => Promise<T>): Promise<T> {
    const rec = imageId ? this.images.resolve(imageId) : undefined;
    const chain = rec ? this.images.chainIdsOf(rec) : [];
    if (chain.length === 0) {
      const dir = await mkdtemp(join(this.tmpRoot, 'berth-build-empty-'));
      try {
        return await fn(dir);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    const sn = this.images.snapshots;
    const key = `build-view-${randomBytes(8).toString('hex')}`;
    await sn.view(key, chain[chain.length - 1]);
    try {
      return await fn(await sn.mount(key));
    } finally {
      await sn.remove(key).catch(() => undefined);
    }
  }

  async tag(imageId: string, refs: string[]): Promise<void> {
    for (const r of refs) await this.images.tag(imageId, parseRepoTag(r));
  }
}
