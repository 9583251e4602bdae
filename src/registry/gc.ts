/**
 * Garbage collection: deletes blobs no manifest revision of any repository
 * references, the repository links to them, and uploads abandoned for more
 * than a day. Like the distribution registry's `garbage-collect`, run it while
 * the server is stopped or read-only: a push racing the sweep could lose a
 * blob uploaded but not yet named by a manifest.
 *
 *   const r = await collectGarbage('/var/lib/berth-registry')
 *   // { blobsDeleted: 3, bytesFreed: 7340032, uploadsDeleted: 1, kept: 12 }
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isDigest, isIndexType } from '../engine/distribution/oci.js';
import { BlobStore } from './blob-store.js';
import { Layout } from './layout.js';
import { ManifestStore } from './manifest-store.js';

export interface GcResult {
  manifestsDeleted: number;
  blobsDeleted: number;
  bytesFreed: number;
  uploadsDeleted: number;
  kept: number;
}

export interface GcOptions {
  dryRun?: boolean;
  /**
   * Also drop manifests no tag reaches (directly, through an index, or as a
   * referrer of a reached manifest), as the Go registry's `--delete-untagged`.
   */
  deleteUntagged?: boolean;
  /** Uploads older than this are removed (default one day). */
  uploadMaxAgeMs?: number;
}

export async function collectGarbage(root: string, opts: GcOptions = {}): Promise<GcResult> {
  const layout = new Layout(root);
  const blobs = new BlobStore(layout);
  const manifests = new ManifestStore(layout, blobs);
  const marked = new Set<string>();
  const repos = await manifests.repositories();
  // `repo@digest` of revisions dropped this run (still on disk in a dry run).
  const dropped = new Set<string>();
  if (opts.deleteUntagged) {
    for (const repo of repos) {
      for (const digest of await untagged(manifests, blobs, repo)) {
        if (!opts.dryRun) await manifests.delete(repo, digest);
        dropped.add(`${repo}@${digest}`);
      }
    }
  }
  for (const repo of repos) {
    for (const digest of await manifests.revisions(repo)) {
      if (dropped.has(`${repo}@${digest}`)) continue;
      marked.add(digest);
      let m: any;
      try {
        m = JSON.parse((await blobs.read(digest)).toString('utf8'));
      } catch {
        continue; // a revision whose blob is gone references nothing we can keep
      }
      if (isIndexType(m.mediaType) || Array.isArray(m.manifests)) continue; // children are revisions themselves
      for (const d of [m.config, ...(m.layers ?? [])]) if (isDigest(d?.digest)) marked.add(d.digest);
    }
  }

  const result: GcResult = { manifestsDeleted: dropped.size, blobsDeleted: 0, bytesFreed: 0, uploadsDeleted: 0, kept: 0 };
  const swept = new Set<string>();
  for (const alg of await fs.readdir(layout.blobsDir).catch(() => [] as string[])) {
    for (const prefix of await fs.readdir(path.join(layout.blobsDir, alg))) {
      for (const hex of await fs.readdir(path.join(layout.blobsDir, alg, prefix))) {
        const digest = `${alg}:${hex}`;
        if (!isDigest(digest)) continue;
        if (marked.has(digest)) {
          result.kept++;
          continue;
        }
        const file = layout.blob(digest);
        const st = await fs.stat(file);
        if (!opts.dryRun) await fs.rm(file, { force: true });
        swept.add(digest);
        result.blobsDeleted++;
        result.bytesFreed += st.size;
      }
    }
  }
  if (!opts.dryRun) {
    for (const repo of repos) for (const digest of swept) await blobs.unlink(repo, digest);
  }

  const maxAge = opts.uploadMaxAgeMs ?? 24 * 3600 * 1000;
  for (const uuid of await fs.readdir(layout.uploadsDir).catch(() => [] as string[])) {
    const dir = layout.upload(uuid);
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st || Date.now() - st.mtimeMs < maxAge) continue;
    if (!opts.dryRun) await fs.rm(dir, { recursive: true, force: true });
    result.uploadsDeleted++;
  }
  return result;
}

/** Manifest revisions of a repository that no tag reaches. */
async function untagged(manifests: ManifestStore, blobs: BlobStore, repo: string): Promise<string[]> {
  const revisions = await manifests.revisions(repo);
  const parsed = new Map<string, any>();
  for (const d of revisions) {
    try { parsed.set(d, JSON.parse((await blobs.read(d)).toString('utf8'))); } catch { parsed.set(d, {}); }
  }
  const reached = new Set<string>();
  const queue: string[] = [];
  for (const tag of await manifests.tags(repo)) queue.push(await manifests.resolve(repo, tag));
  for (let grew = true; grew;) {
    while (queue.length) {
      const d = queue.pop()!;
      if (reached.has(d)) continue;
      reached.add(d);
      for (const child of parsed.get(d)?.manifests ?? []) if (isDigest(child?.digest)) queue.push(child.digest);
    }
    // Referrers (signatures, SBOMs) live as long as their subject.
    grew = false;
    for (const [d, m] of parsed) {
      if (!reached.has(d) && reached.has(m?.subject?.digest)) {
        queue.push(d);
        grew = true;
      }
    }
  }
  return revisions.filter((d) => !reached.has(d));
}
