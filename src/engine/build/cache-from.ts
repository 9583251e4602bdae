/**
 * `--cache-from`: images (say, loaded from another machine) whose history
 * stands in for the local build cache, matched as Docker's legacy builder
 * matches them. A step on top of `parent` is a hit in a source image when
 * the parent's history and layers are a prefix of the source's, and the
 * source's next history row was made by the same instruction (its
 * `created_by` equals the step's). When that row is the source's last, the
 * source itself is the result; otherwise an image is made of the parent plus
 * that row (and its layer, which the source already holds). Once a source
 * has been followed, the rest of the stage sticks to it.
 *
 * While sources are given, a local cache hit counts only if it is an
 * ancestor of one of them, so a build with --cache-from never drifts onto
 * unrelated local history.
 *
 *   const from = new CacheFromSources(engine, ['app:latest']);
 *   from.reset();                                        // at each FROM
 *   await from.lookup(parentId, step.createdBy, step.config)  // 'sha256:…' or undefined
 */
import type { ContainerConfig } from '../containers/types.js';
import type { HistoryEntry, ImageConfig } from '../images/types.js';

/** What matching needs from the image store. */
export interface CacheSourceStore {
  /** An image by reference or ID; throws when there is none. */
  image(ref: string): { id: string; config: ImageConfig };
  /** The image `id` was built on (its parent record), if known. */
  parentOf(id: string): string | undefined;
  /** A new image: `parent` plus row `index` of `source`'s history (and that row's layer, if it has one). */
  restoreFromCache(parent: string | undefined, source: string, index: number, config: ContainerConfig): Promise<string>;
}

interface Source { id: string; config: ImageConfig }

export class CacheFromSources {
  private readonly all: Source[] = [];
  private current: Source[] = [];
  private readonly given: boolean;

  constructor(private readonly store: CacheSourceStore, refs: string[]) {
    this.given = refs.length > 0;
    for (const ref of refs) {
      try {
        this.all.push(store.image(ref));
      } catch {
        // Docker skips a cache source it cannot find (a first build has none yet).
      }
    }
    this.current = this.all;
  }

  /**
   * Were any sources given? Then local hits must agree with them; as in
   * Docker, naming only images that do not exist leaves no usable cache.
   */
  get active(): boolean {
    return this.given;
  }

  /** A new stage starts: every source is a candidate again. */
  reset(): void {
    this.current = this.all;
  }

  /** May a local cache hit be used? Only when it lies on some source's parent chain. */
  acceptsLocal(id: string): boolean {
    return this.current.some((s) => this.isAncestor(s.id, id));
  }

  /** The image that step `createdBy` on `parent` would make, from a source; undefined on a miss. */
  async lookup(parent: string | undefined, createdBy: string, config: ContainerConfig): Promise<string | undefined> {
    const parentConfig = parent ? this.store.image(parent).config : undefined;
    const at = parentConfig?.history?.length ?? 0;
    for (const source of this.current) {
      const history = source.config.history ?? [];
      if (!isValidParent(source.config, parentConfig) || history[at]?.created_by !== createdBy) continue;
      if (at === history.length - 1) return source.id;
      const id = await this.store.restoreFromCache(parent, source.id, at, config);
      this.current = [source];
      return id;
    }
    return undefined;
  }

  private isAncestor(of: string, id: string): boolean {
    const seen = new Set<string>();
    for (let p: string | undefined = of; p && !seen.has(p); p = this.store.parentOf(p)) {
      if (p === id) return true;
      seen.add(p);
    }
    return false;
  }
}

const sameRow = (a: HistoryEntry, b: HistoryEntry) =>
  a.created === b.created && a.created_by === b.created_by && (a.author ?? '') === (b.author ?? '')
  && (a.comment ?? '') === (b.comment ?? '') && !!a.empty_layer === !!b.empty_layer;

/** Is `parent` (history and layers) a strict prefix of `img`? An empty parent (scratch) prefixes anything. */
export function isValidParent(img: ImageConfig, parent: ImageConfig | undefined): boolean {
  const history = img.history ?? [];
  if (history.length === 0) return false;
  const ph = parent?.history ?? [];
  const pd = parent?.rootfs?.diff_ids ?? [];
  if (!parent || (ph.length === 0 && pd.length === 0)) return true;
  const diffIds = img.rootfs?.diff_ids ?? [];
  if (ph.length >= history.length || pd.length > diffIds.length) return false;
  return ph.every((h, i) => sameRow(h, history[i])) && pd.every((d, i) => d === diffIds[i]);
}
