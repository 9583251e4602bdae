/**
 * Cache checksums of COPY/ADD sources: a file's digest covers its content,
 * permission bits and owner; a directory's covers its own metadata and every
 * child's name and digest; a symlink's covers its target. Modification times
 * are left out (as Docker does), so a fresh checkout still hits the cache.
 * Each path is hashed once per hasher, by streaming, several files at a time.
 *
 *   const h = new SourceHasher();
 *   await h.digest('/ctx/src')   // 'e3b0c442…' (hex sha256)
 *   sourcesDigest(await Promise.all(srcs.map(async (s) => ({ rel: s.rel, digest: await h.digest(s.abs) }))))
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { IgnoreRules } from './dockerignore.js';

/** Files up to this size are read in one go; larger ones are streamed. */
const WHOLE_READ_LIMIT = 1 << 20;
const CONCURRENCY = 16;

export interface HasherOptions {
  /** Skip children .dockerignore hides (a directory context); needs `root`. */
  ignore?: IgnoreRules;
  /** The directory `ignore` paths are relative to. */
  root?: string;
}

export class SourceHasher {
  private readonly memo = new Map<string, Promise<string>>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Files read so far (for measurements and tests). */
  filesHashed = 0;
  bytesHashed = 0;

  constructor(private readonly opts: HasherOptions = {}) {}

  /** Hex sha256 of a file, symlink or directory tree at `abs`. */
  digest(abs: string): Promise<string> {
    let p = this.memo.get(abs);
    if (!p) {
      p = this.compute(abs);
      this.memo.set(abs, p);
    }
    return p;
  }

  private async compute(abs: string): Promise<string> {
    const st = await lstat(abs);
    const meta = `${st.mode & 0o7777}\0${st.uid}\0${st.gid}\0`;
    if (st.isSymbolicLink()) return sha(`symlink\0${meta}${await readlink(abs)}`);
    if (st.isDirectory()) {
      const names = (await readdir(abs)).sort();
      const kept = names.filter((n) => !this.hidden(join(abs, n)));
      const digests = await Promise.all(kept.map((n) => this.digest(join(abs, n))));
      const h = createHash('sha256').update(`dir\0${meta}`);
      kept.forEach((n, i) => h.update(`${n}\0${digests[i]}\0`));
      return h.digest('hex');
    }
    if (!st.isFile()) return sha(`special\0${meta}${st.rdev}`);
    await this.slot();
    try {
      const h = createHash('sha256').update(`file\0${meta}${st.size}\0`);
      if (st.size <= WHOLE_READ_LIMIT) {
        h.update(await readFile(abs));
      } else {
        for await (const chunk of createReadStream(abs, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
      }
      this.filesHashed++;
      this.bytesHashed += st.size;
      return h.digest('hex');
    } finally {
      this.release();
    }
  }

  private hidden(abs: string): boolean {
    const { ignore, root } = this.opts;
    if (!ignore || !root || !abs.startsWith(root + '/')) return false;
    return ignore.excludes(abs.slice(root.length + 1));
  }

  private async slot(): Promise<void> {
    if (this.active < CONCURRENCY) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** One digest for all sources of a step: each source's relative name and digest, in order. */
export function sourcesDigest(sources: { rel: string; digest: string }[]): string {
  const h = createHash('sha256');
  for (const s of sources) h.update(`${s.rel}\0${s.digest}\0`);
  return h.digest('hex');
}
