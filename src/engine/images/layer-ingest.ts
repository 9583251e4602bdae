import { Conflict, InvalidArgument } from '../../common/errors.js';
import type { BlobInfo, ChunkSource, ContentStore } from '../content/store.js';
import { applyLayerBlob } from '../layers/apply.js';
import { detectCompression, GunzipDigest, type Compression } from '../layers/compression.js';
import type { Snapshotter } from '../layers/overlay.js';
import { randomBytes } from 'node:crypto';

/** A layer blob arriving from elsewhere (a registry), with what its manifest and config promise. */
export interface IncomingLayer {
  /** The blob's bytes as received (gzip, zstd or plain tar); chunksOf(stream) for a stream. */
  body: ChunkSource;
  /** Digest and size of the blob as the manifest names it. */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar, from the image config. */
  diffId: string;
  /** Called with the count of blob bytes received so far (progress bars). */
  onBytes?: (received: number) => void;
}

/**
 * Stores a layer blob and unpacks it into `dir`, the daemon touching each
 * blob byte once: each chunk is hashed and written to the content store
 * (which verifies digest and size before the blob becomes visible) and, for
 * gzip, inflated into GunzipDigest for the diff ID. Once the digest checked,
 * host programs unpack the verified file (applyLayerBlob) while commit syncs
 * it, so the daemon never writes the tar into a pipe; a diff ID known by then
 * (plain tar: its digest; gzip: GunzipDigest) that does not match refuses
 * the layer before anything is unpacked, zstd and xz take theirs on the host.
 * Resolves only when both succeeded and the diff ID matched; on any failure
 * every process has exited and the blob's temp file is gone before it
 * rejects, so the caller can remove `dir`'s snapshot without racing a
 * writer. A blob that verified but does not unpack, or contradicts its diff
 * ID, is deleted again (unless it was already stored), so a lying image
 * leaves nothing behind; a transfer cut short never stored one.
 *
 * `dir` must be a fresh, empty snapshot directory: extraction runs ahead of
 * the member checks (see applyLayerBlob), so for a hostile archive the
 * caller throws the directory away.
 *
 *   const { size } = await storeAndUnpackLayer(images.content, { body: chunksOf(res), digest, size, diffId }, sn.dir(key));
 *   await sn.commit(chainId, key, size, parentChainId);
 */
export async function storeAndUnpackLayer(content: ContentStore, layer: IncomingLayer, dir: string): Promise<{ size: number; created: boolean }> {
  const blob = content.ingest({ digest: layer.digest, size: layer.size });
  let kind: Compression | undefined;
  // The diff ID of a gzip blob, taken as it arrives (cheaper than on the host).
  let gunzipped: GunzipDigest | undefined;
  const decide = (first: Buffer) => {
    const k = detectCompression(first);
    if (k === 'bzip2') throw new InvalidArgument('invalid archive: bzip2 compressed archives are not supported');
    kind = k;
    if (k === 'gzip' && gunzipSupported) {
      gunzipped = new GunzipDigest();
      gunzipped.update(first);
    }
  };
  const mismatch = (got: string) => new InvalidArgument(`layer content does not match its diff ID: expected ${layer.diffId}, got ${got}`);
  let stored: (BlobInfo & { created: boolean }) | undefined;
  try {
    // The first bytes name the compression; hold copies until there are enough.
    let head: Buffer[] = [];
    let headLen = 0;
    let seen = 0;
    await layer.body((chunk) => {
      seen += chunk.length;
      layer.onBytes?.(seen);
      if (kind === undefined) {
        head.push(Buffer.from(chunk));
        headLen += chunk.length;
        if (headLen >= 6) { decide(Buffer.concat(head)); head = []; }
      } else gunzipped?.update(chunk);
      return blob.write(chunk);
    });
    if (kind === undefined) decide(Buffer.concat(head));
    const { digest } = await blob.verify();
    // A plain tar is its own diff ID (its digest was just checked); a lying blob is refused before anything is unpacked.
    const known = kind === 'none' ? digest : gunzipped?.digest();
    if (known && known !== layer.diffId) throw mismatch(known);
    // Unpack as soon as the bytes verified, while commit fsyncs them.
    const fh = await blob.open();
    const unpacked = applyLayerBlob(fh.fd, dir, kind as unknown as Exclude<Compression, 'bzip2'>, { diffId: !known }).finally(() => fh.close());
    const [b, u] = await Promise.allSettled([blob.commit(), unpacked]);
    if (b.status === 'rejected') throw b.reason;
    stored = b.value;
    if (u.status === 'rejected') throw u.reason;
    const diffId = known ?? u.value.tarDigest!;
    if (diffId !== layer.diffId) throw mismatch(diffId);
    return { size: u.value.size, created: stored.created };
  } catch (err) {
    gunzipped?.close();
    await blob.abort();
    // The bytes matched their digest but are no usable layer (a hostile or broken tar, a wrong diff ID): nothing of them stays.
    if (stored?.created) await content.delete(layer.digest).catch(() => undefined);
    throw err;
  }
}

const gunzipSupported = GunzipDigest.supported();

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
      if (typeof src !== 'string') await content.writeFrom(src.body, { digest: src.digest, size: src.size });
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
    // Not synced: after a power loss an unrecorded extraction is an orphan directory that open() removes.
    await sn.prepare(key, undefined, { durable: false });
    try {
      const { size } = await storeAndUnpackLayer(content, src, sn.dir(key));
      onUnpack?.(i, 'start');
      await below;
      try {
        if (sn.stat(chain[i])) await sn.remove(key);
        else await sn.commit(chain[i], key, size, chain[i - 1], { durable: false });
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
  // One fsync for all the commits above, before an image record can name them.
  await sn.sync();
}
