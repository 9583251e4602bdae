/**
 * A build context: the files a build may COPY/ADD, the Dockerfile it reads,
 * and checksums of sources for the cache. It comes from a `/build` request
 * body (tar, gzip tar, or a bare Dockerfile) or from a local directory.
 *
 *   const ctx = await contextFromTar(req, { tmpRoot: '/var/lib/berth/tmp' });
 *   try {
 *     const text = await ctx.readDockerfile('Dockerfile');
 *     ctx.hideBuildFiles('Dockerfile');                    // before any COPY
 *     const srcs = await ctx.resolve(['src/', '*.json'], '/app/', 'COPY');
 *     const key = await ctx.sourcesDigest(srcs);           // into the step's cache key
 *   } finally {
 *     await ctx.close();
 *   }
 *
 * The client side (`berth build PATH` packing a directory into a tar) lives
 * in context/send.ts; the pieces are re-exported here.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFound } from '../../common/errors.js';
import { IgnoreRules, readIgnoreFile } from './context/dockerignore.js';
import { receiveContext, type Received } from './context/receive.js';
import { SourceHasher, sourcesDigest } from './context/checksum.js';
import { DEFAULT_MEMORY_LIMITS, type MemTree } from './context/memory.js';
import { resolveInRoot, resolveSources, type CopySource, type SourceFs } from './context/sources.js';
import { loadIgnoreRules } from './context/send.js';

export { IgnoreRules, readIgnoreFile } from './context/dockerignore.js';
export { packContext, walkContext, loadIgnoreRules, humanSize, sendingContextLine } from './context/send.js';
export { resolveSources, copyTargets, goMatch, containsWildcards, type CopySource, type CopyTarget } from './context/sources.js';
export { SourceHasher, sourcesDigest } from './context/checksum.js';
export { archiveKind, type ArchiveKind } from './context/archive.js';

export interface BuildContext {
  /** The directory holding the context's files. */
  readonly root: string;
  /** How the context arrived (for tar bodies). */
  readonly received?: Received;
  /** Reads the Dockerfile at a context-relative path. */
  readDockerfile(path: string): Promise<string>;
  /**
   * Hides `.dockerignore` and the Dockerfile from COPY when .dockerignore
   * excludes them: they were only sent so the daemon could read them.
   */
  hideBuildFiles(dockerfile: string): Promise<void>;
  /**
   * Resolves one COPY/ADD's sources (throws Docker's "file not found" errors).
   * `others` counts the step's heredoc and URL sources for the
   * "several sources need a directory/" rule.
   */
  resolve(sources: string[], dest: string, cmd: 'COPY' | 'ADD', others?: number): Promise<CopySource[]>;
  /** One checksum for resolved sources, each path hashed once per context. */
  sourcesDigest(sources: CopySource[]): Promise<string>;
  /** Digest of a single source (file or tree). */
  digest(source: CopySource): Promise<string>;
  /**
   * Makes sure the files are on disk under `root` (a small context is held
   * in memory until a step needs its bytes). Call before reading `abs` paths.
   */
  materialize(): Promise<void>;
  /** Removes what the context created on disk (a received tar's directory). */
  close(): Promise<void>;
}

class DirContext implements BuildContext {
  private hasher: SourceHasher;
  private hiddenFiles = new Set<string>();

  constructor(
    readonly root: string, private ignore: IgnoreRules | undefined, private readonly owned: boolean,
    readonly received?: Received, private readonly known?: Map<string, string>,
  ) {
    this.hasher = new SourceHasher({ ignore, root, known });
  }

  async readDockerfile(path: string): Promise<string> {
    const rel = posix.normalize(path).replace(/^(\.\/|\/)+/, '');
    const abs = await resolveInRoot(this.root, rel);
    try {
      if (abs === undefined) throw new Error('missing');
      return await readFile(abs, 'utf8');
    } catch {
      throw new NotFound(`Cannot locate specified Dockerfile: ${path}`);
    }
  }

  async hideBuildFiles(dockerfile: string): Promise<void> {
    const rules = this.ignore ?? (await loadIgnoreRules(this.root));
    const df = posix.normalize(dockerfile).replace(/^(\.\/|\/)+/, '');
    for (const f of ['.dockerignore', df]) if (rules.excludes(f)) this.hiddenFiles.add(f);
    if (this.hiddenFiles.size) {
      const extra = [...this.hiddenFiles].map((f) => '/' + f);
      this.ignore = new IgnoreRules([...(this.ignore?.patterns ?? []), ...extra]);
      await this.hasher.close();
      this.hasher = new SourceHasher({ ignore: this.ignore, root: this.root, known: this.known });
    }
  }

  resolve(sources: string[], dest: string, cmd: 'COPY' | 'ADD', others = 0): Promise<CopySource[]> {
    return resolveSources(this.root, sources, { cmd, dest, ignore: this.ignore, others });
  }

  digest(source: CopySource): Promise<string> {
    return this.hasher.digest(source.abs);
  }

  async sourcesDigest(sources: CopySource[]): Promise<string> {
    const digests = await Promise.all(sources.map((s) => this.digest(s)));
    return sourcesDigest(sources.map((s, i) => ({ rel: s.rel, digest: digests[i], links: this.hasher.links(s.abs) })));
  }

  async materialize(): Promise<void> {
    // Already on disk.
  }

  async close(): Promise<void> {
    await this.hasher.close();
    if (this.owned) await rm(this.root, { recursive: true, force: true });
  }
}

/** A received context held in memory (context/memory.ts); same answers as DirContext would give. */
class MemContext implements BuildContext {
  private ignore: IgnoreRules | undefined;
  private readonly fs: SourceFs;

  constructor(readonly root: string, private readonly tree: MemTree, readonly received: Received) {
    this.fs = tree.sourceFs();
  }

  private rel(path: string): string {
    return posix.normalize(path).replace(/^(\.\/|\/)+/, '');
  }

  async readDockerfile(path: string): Promise<string> {
    const data = this.tree.read(this.rel(path));
    if (!data) throw new NotFound(`Cannot locate specified Dockerfile: ${path}`);
    return data.toString('utf8');
  }

  async hideBuildFiles(dockerfile: string): Promise<void> {
    const text = this.tree.read('.dockerignore');
    const rules = new IgnoreRules(text ? readIgnoreFile(text.toString('utf8')) : []);
    const hidden = ['.dockerignore', this.rel(dockerfile)].filter((f) => rules.excludes(f));
    if (hidden.length) {
      this.ignore = new IgnoreRules(hidden.map((f) => '/' + f));
      this.tree.resetDigests();
    }
  }

  resolve(sources: string[], dest: string, cmd: 'COPY' | 'ADD', others = 0): Promise<CopySource[]> {
    return resolveSources(this.root, sources, { cmd, dest, ignore: this.ignore, others, fs: this.fs });
  }

  async digest(source: CopySource): Promise<string> {
    const rel = source.abs === this.root ? '' : source.abs.slice(this.root.length + 1);
    const ignore = this.ignore;
    return this.tree.digest(rel, ignore ? (p) => ignore.excludes(p) : () => false);
  }

  async sourcesDigest(sources: CopySource[]): Promise<string> {
    const digests = await Promise.all(sources.map((s) => this.digest(s)));
    return sourcesDigest(sources.map((s, i) => ({ rel: s.rel, digest: digests[i] })));
  }

  materialize(): Promise<void> {
    return this.tree.materialize(true);
  }

  async close(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * Receives a `/build` body into a fresh directory under `tmpRoot` (or, when
 * small and plain, into memory; `memory: false` forces the disk). The
 * client already applied .dockerignore, so nothing else is filtered.
 */
export async function contextFromTar(body: Readable, opts: { tmpRoot: string; memory?: boolean }): Promise<BuildContext> {
  const dir = await mkdtemp(join(opts.tmpRoot, 'build-ctx-'));
  try {
    const known = new Map<string, string>();
    const received = await receiveContext(body, dir, known, opts.memory === false ? undefined : DEFAULT_MEMORY_LIMITS);
    if (received.tree) return new MemContext(dir, received.tree, received);
    return new DirContext(dir, undefined, true, received, known);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Uses a directory in place, hiding what its .dockerignore excludes. */
export async function contextFromDirectory(dir: string): Promise<BuildContext> {
  const rules = await loadIgnoreRules(dir);
  return new DirContext(dir, rules.patterns.length ? rules : undefined, false);
}
