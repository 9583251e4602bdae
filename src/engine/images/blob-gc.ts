import { promises as fs } from 'node:fs';
import type { ContentStore } from '../content/store.js';

/**
 * How long a blob no image references is kept before `image prune` may take
 * it. Blobs of an interrupted or failed pull stay verified in the content
 * store so a retry resumes from them instead of downloading again; they go at
 * the first prune at least this long after they were stored (a blob's mtime is
 * when it was last verified, since every write renames a fresh file into
 * place). The grace also covers writers that store blobs before the image
 * naming them exists (import, commit, load, a long build), which hold no lease.
 */
export const unreferencedBlobGraceMs = 60 * 60 * 1000;

/**
 * Leases on blobs an operation in progress needs but no image references yet
 * (a pull's config and layers): the blob GC never removes a held blob.
 *
 *   const release = leases.hold([configDigest, ...layerDigests]);
 *   try { … } finally { release(); }
 */
export class BlobLeases {
  private held = new Map<string, number>();

  hold(digests: string[]): () => void {
    for (const d of digests) this.held.set(d, (this.held.get(d) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const d of digests) {
        const n = (this.held.get(d) ?? 1) - 1;
        if (n > 0) this.held.set(d, n); else this.held.delete(d);
      }
    };
  }

  has(digest: string): boolean { return this.held.has(digest); }
}

/**
 * Removes blobs that nothing references, no lease holds, and that were stored
 * more than `graceMs` ago. Returns the digests removed and their bytes.
 */
export async function collectBlobs(content: ContentStore, referenced: Set<string>, leases: BlobLeases, graceMs: number): Promise<{ removed: string[]; bytes: number }> {
  const removed: string[] = [];
  let bytes = 0;
  const cutoff = Date.now() - graceMs;
  for await (const b of content.walk()) {
    if (referenced.has(b.digest) || leases.has(b.digest)) continue;
    const st = await fs.stat(content.path(b.digest)).catch(() => undefined);
    if (!st || st.mtimeMs > cutoff) continue;
    // Checked again just before deleting: a pull may have taken a lease meanwhile.
    if (leases.has(b.digest)) continue;
    await content.delete(b.digest);
    removed.push(b.digest);
    bytes += b.size;
  }
  return { removed, bytes };
}
