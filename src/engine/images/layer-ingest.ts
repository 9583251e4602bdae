import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { Conflict, InvalidArgument } from '../../common/errors.js';
import { tee } from '../../common/tee.js';
import type { ContentStore } from '../content/store.js';
import { applyLayerStream } from '../layers/apply.js';
import { decompressStream } from '../layers/compression.js';
import type { Snapshotter } from '../layers/overlay.js';
import { randomBytes } from 'node:crypto';

/** A layer blob arriving from elsewhere (a registry), with what its manifest and config promise. */
export interface IncomingLayer {
  /** The blob's bytes as received (gzip, zstd or plain tar). */
  stream: Readable;
  /** Digest and size of the blob as the manifest names it. */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar, from the image config. */
  diffId: string;
  /** Called with the count of blob bytes received so far (progress bars). */
  onBytes?: (received: number) => void;
}

/**
 * Stores a layer blob and unpacks it into `dir` from one pass over the bytes:
 * the stream is teed into the content store (which verifies digest and size
 * before the blob becomes visible) and into decompress → diff-ID hash → tar
 * extraction. Resolves only when both sides succeeded and the diff ID matched;
 * on any failure both sides are stopped and have settled before it rejects,
 * so the caller can remove `dir`'s snapshot without racing a writer. A blob
 * that verified but does not unpack, or contradicts its diff ID, is deleted
 * again (unless it was already stored), so a lying image leaves nothing
 * behind; a transfer cut short never stored one.
 *
 * `dir` must be a fresh, empty snapshot directory: extraction starts before
 * the scan has seen the whole archive, so a hostile archive is refused by the
 * scan (and GNU tar's own refusal of `..` members and its deferred creation
 * of escaping symlinks) and the caller throws the directory away.
 *
 *   const { size } = await storeAndUnpackLayer(images.content, { stream: body, digest, size, diffId }, sn.dir(key));
 *   await sn.commit(chainId, key, size, parentChainId);
 */
export async function storeAndUnpackLayer(content: ContentStore, layer: IncomingLayer, dir: string): Promise<{ size: number; created: boolean }> {
  const { stream } = layer;
  let seen = 0;
  stream.on('data', (chunk: Buffer) => { seen += chunk.length; layer.onBytes?.(seen); });
  const t = tee(stream, 1 << 20);
  // For a plain tar whose digest is its diff ID, the store's check already proves the diff ID.
  let plainKind = true;
  const plain = decompressStream(t.b, (kind) => { plainKind = kind === 'none'; });
  const diffHash = createHash('sha256');
  const skipHash = layer.digest === layer.diffId;
  const hashed = plain.pipe(new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _e, cb) { if (!skipHash || !plainKind) diffHash.update(chunk); cb(null, chunk); },
  }));
  plain.on('error', (err) => hashed.destroy(err));
  const stored = content.write(t.a, { digest: layer.digest, size: layer.size });
  const unpacked = applyLayerStream(hashed, dir);
  let storedHere = false;
  void stored.then((b) => { storedHere = b.created; }, () => undefined);
  let blob, scan;
  try {
    [blob, scan] = await t.both(stored, unpacked, [hashed]);
  } catch (err) {
    // The bytes matched their digest but are no usable layer (a hostile or broken tar): nothing of them stays.
    if (storedHere) await content.delete(layer.digest).catch(() => undefined);
    throw err;
  }
  const diffId = skipHash && plainKind ? layer.digest : `sha256:${diffHash.digest('hex')}`;
  if (diffId !== layer.diffId) {
    if (blob.created) await content.delete(layer.digest).catch(() => undefined);
    throw new InvalidArgument(`layer content does not match its diff ID: expected ${layer.diffId}, got ${diffId}`);
  }
  return { size: scan.size, created: blob.created };
}

/** Where a layer to unpack comes from: the digest of a blob already stored, or one arriving now. */
export type LayerSource = string | IncomingLayer;

export interface UnpackDeps {
  content: ContentStore;
  snapshots: Snapshotter;
  /** Unpacks a stored blob into the snapshot `chainId` on top of `parent` (the slower, two-pass path). */
  unpackStored(blob: string, index: number): Promise<number>;
}

/**
 * Unpacks the layers of one image, each as soon as its source is ready and
 * side by side: a streamed layer is extracted into a parentless snapshot of
 * its own while it downloads, and only the commit under its chain ID waits
 * for the layer below (overlay needs the chain, extraction does not). Every
 * layer settles before this rejects, so no extraction outlives a failed pull;
 * layers that did commit stay (the caller's GC decides).
 */
export async function unpackLayers(deps: UnpackDeps, diffIds: string[], chain: string[], source: (index: number) => Promise<LayerSource>, onUnpack?: (index: number, phase: 'exists' | 'start' | 'done') => void): Promise<void> {
  const { snapshots: sn, content } = deps;
  const done: Promise<void>[] = [];
  const one = async (i: number): Promise<void> => {
    const below = i > 0 ? done[i - 1] : Promise.resolve();
    const src = await source(i);
    if (sn.stat(chain[i])) {
      // Unpacked already (by another image): a streamed blob is still stored for push and save.
      if (typeof src !== 'string') await content.write(src.stream, { digest: src.digest, size: src.size });
      await below;
      onUnpack?.(i, 'exists');
      return;
    }
    if (typeof src === 'string') {
      await below;
      onUnpack?.(i, 'start');
      await deps.unpackStored(src, i);
      onUnpack?.(i, 'done');
      return;
    }
    const key = `extract-${randomBytes(8).toString('hex')}`;
    await sn.prepare(key);
    try {
      const { size } = await storeAndUnpackLayer(content, src, sn.dir(key));
      onUnpack?.(i, 'start');
      await below;
      try {
        if (sn.stat(chain[i])) await sn.remove(key);
        else await sn.commit(chain[i], key, size, chain[i - 1]);
      } catch (err) {
        // Another pull of the same layer committed first: use theirs.
        if (!(err instanceof Conflict) || !sn.stat(chain[i])) throw err;
        await sn.remove(key);
      }
      onUnpack?.(i, 'done');
    } catch (err) {
      if (sn.stat(key)) await sn.remove(key).catch(() => undefined);
      throw err;
    }
  };
  for (let i = 0; i < chain.length; i++) done.push(one(i));
  const settled = await Promise.allSettled(done);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
