import type { Readable } from 'node:stream';
import type { ContainerConfig } from '../containers/types.js';
import { decompressStream } from '../layers/compression.js';
import { applyChanges } from './changes.js';
import { parseRepoTag, type Reference } from './reference.js';
import type { ImageService } from './service.js';
import { mediaTypes, type ImageConfig, type ImageRecord } from './types.js';

/** The platform images made here claim (`x64` → `amd64`, as Go names it). */
export function hostPlatform(): { architecture: string; os: string } {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return { architecture: arch[process.arch] ?? process.arch, os: 'linux' };
}

export interface ImportOptions {
  /** `repo[:tag]` to name the image, as `docker import file repo:tag`. */
  repoTag?: string;
  /** Dockerfile-style config changes (`CMD ["sh"]`, `ENV A=1`…). */
  changes?: string[];
  /** Commit message; defaults to `Imported from <source>`. */
  message?: string;
  /** Where the tar came from (`-` or a URL), for the default message. */
  source?: string;
  /** Fixed creation time, so built-in images get the same ID everywhere. */
  created?: string;
}

/**
 * `docker import`: makes a one-layer image from a root filesystem tar (plain,
 * gzip, xz or zstd). The tar is stored uncompressed, so its digest is the
 * layer's diff ID. A bad tar or bad change leaves nothing behind.
 *
 *   const img = await importRootfs(images, fs.createReadStream('rootfs.tar'), { repoTag: 'deb:12', changes: ['CMD ["bash"]'] });
 */
export async function importRootfs(svc: ImageService, tarStream: Readable, opts: ImportOptions = {}): Promise<ImageRecord> {
  // Validate what can be validated before reading a possibly large body.
  const ref: Reference | undefined = opts.repoTag ? parseRepoTag(opts.repoTag) : undefined;
  const config: ContainerConfig = applyChanges({}, opts.changes ?? []);
  const layer = await svc.content.write(decompressStream(tarStream));
  const created = opts.created ?? new Date().toISOString();
  const message = opts.message ?? `Imported from ${opts.source ?? '-'}`;
  const imageConfig: ImageConfig = {
    ...hostPlatform(),
    config,
    created,
    ...(message ? { comment: message } : {}),
    history: [{ created, ...(message ? { comment: message } : {}) }],
    rootfs: { type: 'layers', diff_ids: [layer.digest] },
  };
  const cfg = await svc.content.writeBuffer(JSON.stringify(imageConfig));
  try {
    return await svc.createImage(cfg.digest, [{ digest: layer.digest, mediaType: mediaTypes.ociLayer }], { names: ref ? [ref] : [] });
  } catch (err) {
    if (!svc.get(cfg.digest)) {
      if (layer.created && !svc.all().some((r) => r.layers.some((l) => l.digest === layer.digest))) await svc.content.delete(layer.digest);
      if (cfg.created) await svc.content.delete(cfg.digest);
    }
    throw err;
  }
}
