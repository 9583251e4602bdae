/**
 * Cache checksums of COPY/ADD sources, in Docker's format (docker-sum.ts):
 * a file's covers its path in the context, content, permission bits and
 * owner; a directory's covers every entry below it. Modification times are
 * left out (as Docker does), so a fresh checkout still hits the cache. The
 * build cache key also takes the symlink targets met (Docker's sums follow
 * links). Each path is hashed once per hasher, in a worker thread
 * (checksum-tree.ts says why the walk is synchronous there).
 *
 *   const h = new SourceHasher({ root: '/ctx' });
 *   await h.digest('/ctx/src')   // 'e3b0c442…' (hex sha256)
 *   sourcesDigest(await Promise.all(srcs.map(async (s) => ({ rel: s.rel, digest: await h.digest(s.abs), links: h.links(s.abs) }))))
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { IgnoreRules } from './dockerignore.js';
import type { TreeOptions } from './checksum-tree.js';

export interface HasherOptions {
  /** The context root: sums name entries by their path relative to it, and `ignore` paths are relative to it. */
  root: string;
  /** Skip children .dockerignore hides (a directory context). */
  ignore?: IgnoreRules;
  /** File digests already known (computed while receiving), by absolute path. */
  known?: Map<string, string>;
}

type Reply = { id: number; entries?: [string, string][]; links?: [string, string][]; error?: { message: string; code?: string } };

/**
 * One checksum thread per process, shared by every hasher: starting a worker
 * costs 50-200 ms, more than hashing a small context. It holds the process
 * open only while a walk is in flight.
 */
const pool = {
  worker: undefined as Worker | undefined,
  nextId: 0,
  waiting: new Map<number, (r: Reply) => void>(),

  run(abs: string, opts: TreeOptions): Promise<Reply> {
    return new Promise<Reply>((resolve) => {
      const w = this.thread();
      if (this.waiting.size === 0) w.ref();
      const id = this.nextId++;
      this.waiting.set(id, resolve);
      w.postMessage({ id, abs, opts });
    });
  },

  thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./checksum-worker.js', import.meta.url));
    w.on('message', (r: Reply) => {
      const cb = this.waiting.get(r.id);
      this.waiting.delete(r.id);
      if (this.waiting.size === 0) w.unref();
      cb?.(r);
    });
    const failAll = (e: Error) => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, cb] of this.waiting) cb({ id, error: { message: `checksum worker failed: ${e.message}` } });
      this.waiting.clear();
    };
    w.on('error', failAll);
    w.on('exit', (code) => failAll(new Error(`exited with code ${code}`)));
    // After the listeners: attaching 'message' refs the worker again.
    w.unref();
    this.worker = w;
    return w;
  },
};

export class SourceHasher {
  private readonly done = new Map<string, string>();
  private readonly pending = new Map<string, Promise<string>>();
  /** Symlinks met, by path relative to the root → target. */
  private readonly linkTargets = new Map<string, string>();
  /** Tree walks started (each path is hashed at most once per walk). */
  walks = 0;

  constructor(private readonly opts: HasherOptions) {}

  /** Hex sha256 of a file, symlink or directory tree at `abs`. */
  digest(abs: string): Promise<string> {
    const hit = this.done.get(abs);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.pending.get(abs);
    if (!p) {
      p = this.walk(abs).finally(() => this.pending.delete(abs));
      this.pending.set(abs, p);
    }
    return p;
  }

  /** Symlinks at or below `abs` (hashed already) as [path relative to the root, target], sorted. */
  links(abs: string): [string, string][] {
    const rel = abs === this.opts.root ? '' : abs.slice(this.opts.root.length + 1);
    return [...this.linkTargets].filter(([p]) => rel === '' || p === rel || p.startsWith(rel + '/')).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Forgets what was hashed. (The shared thread stays, idle and unreferenced.) */
  async close(): Promise<void> {
    this.done.clear();
    this.linkTargets.clear();
  }

  private async walk(abs: string): Promise<string> {
    this.walks++;
    let known: Record<string, string> | undefined;
    if (this.opts.known?.size) {
      known = {};
      for (const [k, v] of this.opts.known) if (k === abs || k.startsWith(abs + '/')) known[k] = v;
    }
    const reply = await pool.run(abs, { ignore: this.opts.ignore?.patterns, root: this.opts.root, known });
    if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    for (const [k, v] of reply.entries!) this.done.set(k, v);
    for (const [k, v] of reply.links ?? []) this.linkTargets.set(k, v);
    return this.done.get(abs)!;
  }
}

/** One digest for all sources of a step: each source's relative name, digest and symlinks, in order. */
export function sourcesDigest(sources: { rel: string; digest: string; links?: [string, string][] }[]): string {
  const h = createHash('sha256');
  for (const s of sources) {
    h.update(`${s.rel}\0${s.digest}\0`);
    for (const [p, target] of s.links ?? []) h.update(`link\0${p}\0${target}\0`);
  }
  return h.digest('hex');
}
