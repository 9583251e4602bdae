/**
 * The build cache on disk: step cache key (cache-key.ts) → the image the step
 * produced. Entries are only hints: the executor checks the image still
 * exists before it reuses one, so deleting images needs no cache upkeep.
 *
 *   const cache = await BuildCache.open('/var/lib/berth/build');
 *   cache.get(key)                 // 'sha256:…' or undefined
 *   await cache.set(key, imageId);
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../../common/atomic-file.js';

export class BuildCache {
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(private file: string, private entries: Map<string, string>) {}

  static async open(dir: string): Promise<BuildCache> {
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'cache.json');
    const saved = await readJson<{ entries: Record<string, string> }>(file);
    return new BuildCache(file, new Map(Object.entries(saved?.entries ?? {})));
  }

  get(key: string): string | undefined {
    return this.entries.get(key);
  }

  /** Records a step result; writes are serialised so concurrent builds never lose one. */
  set(key: string, imageId: string): Promise<void> {
    this.entries.set(key, imageId);
    return this.save();
  }

  private save(): Promise<void> {
    // Not fsynced: entries are hints (checked against the image store before use), so a power
    // cut that loses the newest ones costs a rebuild of those steps, never a wrong image.
    const next = this.writing.then(() => writeJsonAtomic(this.file, { entries: Object.fromEntries(this.entries) }, { durable: false }));
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Forgets entries whose image is gone (keeps the file from growing forever). */
  async prune(exists: (id: string) => boolean): Promise<void> {
    let changed = false;
    for (const [k, id] of this.entries) if (!exists(id)) { this.entries.delete(k); changed = true; }
    if (changed) await this.save();
  }
}
