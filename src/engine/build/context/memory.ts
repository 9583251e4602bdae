/**
 * A small, plain build context (files and directories, no links) kept in
 * memory as it arrives: the Dockerfile, .dockerignore, COPY source lookups
 * and checksums are all answered from memory, and the files reach the disk
 * only when a step actually copies them. A fully cached rebuild therefore
 * writes and deletes nothing. Checksums equal what checksum-tree.ts computes
 * over the same files extracted, so the cache does not care where a context
 * was held.
 *
 *   const tree = new MemTree('/ctx', writer);   // writer: the DiskWriter it would extract with
 *   if (tree.fits(header, limits)) tree.add(header, data);
 *   tree.digest('src', () => false);            // hex sha256, as hashTree('/ctx/src')
 *   await tree.materialize(true);               // now the files are in /ctx
 */
import { join } from 'node:path';
import type { Header } from 'tar-stream';
import { entrySum, listSum } from './docker-sum.js';
import type { DiskWriter } from './receive.js';
import type { SourceFs } from './sources.js';

export interface MemoryLimits {
  /** File bytes held in memory at most. */
  maxBytes: number;
  /** Tar entries held at most. */
  maxEntries: number;
}

/** Contexts up to this size stay in memory (the seed's and the bench's are a few kB). */
export const DEFAULT_MEMORY_LIMITS: MemoryLimits = { maxBytes: 8 << 20, maxEntries: 2000 };

interface Node {
  dir: boolean;
  /** A parent no tar entry named: made as mkdir -p would make it. */
  implicit?: boolean;
  mode: number;
  uid: number;
  gid: number;
  data?: Buffer;
  digest?: string;
  children?: Set<string>;
}

const errno = (code: string, p: string) => Object.assign(new Error(`${code}: ${p}`), { code });
const statOf = (n: Node) => ({ isDirectory: () => n.dir, isSymbolicLink: () => false, isFile: () => !n.dir });

export class MemTree {
  private readonly nodes = new Map<string, Node>();
  private readonly entries: { h: Header; data: Buffer }[] = [];
  private readonly dirDigests = new Map<string, string>();
  private bytes = 0;
  private materialized?: Promise<void>;
  private readonly myUid = process.getuid?.() ?? 0;
  private readonly myGid = process.getgid?.() ?? 0;
  private readonly dirMode = 0o777 & ~process.umask();

  constructor(readonly root: string, private readonly writer: DiskWriter) {
    // The root is the mkdtemp'd directory: 0700 and ours, as hashTree sees it.
    this.nodes.set('', { dir: true, mode: 0o700, uid: this.myUid, gid: this.myGid, children: new Set() });
  }

  /** Entries held. */
  get size(): number {
    return this.entries.length;
  }

  /** Can this entry be held in memory? (Links, duplicates and anything large go to disk.) */
  fits(h: Header, limits: MemoryLimits): boolean {
    const dir = h.type === 'directory';
    if (!dir && h.type !== 'file' && h.type !== 'contiguous-file') return false;
    const rel = cleanRel(h.name);
    if (rel === undefined) return false;
    // `./` names the root, which the disk writer skips too.
    if (rel === '') return dir;
    const existing = this.nodes.get(rel);
    if (existing && !(existing.implicit && dir)) return false;
    // A path under something that is a file: let the disk writer report it.
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (this.nodes.get(parts.slice(0, i).join('/'))?.dir === false) return false;
    return this.bytes + (h.size ?? 0) <= limits.maxBytes && this.entries.length < limits.maxEntries;
  }

  add(h: Header, data: Buffer): void {
    this.entries.push({ h, data });
    this.bytes += data.length;
    const rel = cleanRel(h.name)!;
    if (rel === '') return;
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!this.nodes.has(p)) {
        this.nodes.set(p, { dir: true, implicit: true, mode: this.dirMode, uid: this.myUid, gid: this.myGid, children: new Set() });
        this.nodes.get(parts.slice(0, i - 1).join('/'))!.children!.add(parts[i - 1]);
      }
    }
    const [uid, gid] = this.writer.owner(h);
    const mode = h.mode! & 0o7777;
    if (h.type === 'directory') {
      const old = this.nodes.get(rel);
      this.nodes.set(rel, { dir: true, mode, uid, gid, children: old?.children ?? new Set() });
    } else {
      this.nodes.set(rel, { dir: false, mode, uid, gid, data, digest: entrySum({ rel, kind: 'file', mode, uid, gid, size: data.length }).update(data).digest('hex') });
    }
    this.nodes.get(parts.slice(0, -1).join('/'))!.children!.add(parts[parts.length - 1]);
  }

  /** A file's bytes, or undefined when `rel` is not a file. */
  read(rel: string): Buffer | undefined {
    const n = this.nodes.get(rel);
    return n && !n.dir ? n.data : undefined;
  }

  /** The checksum hashTree would give the path; `hidden` skips children (by context-relative path). */
  digest(rel: string, hidden: (rel: string) => boolean): string {
    const n = this.nodes.get(rel);
    if (!n) throw errno('ENOENT', join(this.root, rel));
    if (!n.dir) return n.digest!;
    const memo = this.dirDigests.get(rel);
    if (memo) return memo;
    const sums: string[] = [];
    // The context root itself is not one of its entries (docker-sum.ts).
    if (rel !== '') sums.push(this.ownSum(rel, n));
    this.collect(rel, n, hidden, sums);
    const d = listSum(sums.sort());
    this.dirDigests.set(rel, d);
    return d;
  }

  /** The own sums of everything below directory `rel`. */
  private collect(rel: string, n: Node, hidden: (rel: string) => boolean, into: string[]): void {
    for (const name of n.children!) {
      const child = rel ? `${rel}/${name}` : name;
      if (hidden(child)) continue;
      const c = this.nodes.get(child)!;
      into.push(c.dir ? this.ownSum(child, c) : c.digest!);
      if (c.dir) this.collect(child, c, hidden, into);
    }
  }

  private ownSum(rel: string, n: Node): string {
    return entrySum({ rel, kind: 'dir', mode: n.mode, uid: n.uid, gid: n.gid }).digest('hex');
  }

  /** Forgets directory checksums (the hidden set changed). */
  resetDigests(): void {
    this.dirDigests.clear();
  }

  /** Source resolution over the tree; paths are absolute under `root`. */
  sourceFs(): SourceFs {
    const node = (abs: string) => {
      const rel = abs === this.root ? '' : abs.startsWith(this.root + '/') ? abs.slice(this.root.length + 1) : undefined;
      const n = rel === undefined ? undefined : this.nodes.get(rel);
      if (!n) throw errno('ENOENT', abs);
      return n;
    };
    return {
      lstat: async (abs) => statOf(node(abs)),
      stat: async (abs) => statOf(node(abs)),
      readlink: async (abs) => { throw errno('EINVAL', abs); },
      readdir: async (abs) => {
        const n = node(abs);
        if (!n.dir) throw errno('ENOTDIR', abs);
        return [...n.children!];
      },
    };
  }

  /** Writes every entry to disk, once; `final` also sets directory modes and times (nothing more will come). */
  materialize(final = false): Promise<void> {
    this.materialized ??= (async () => {
      for (const e of this.entries) await this.writer.write(e.h, (async function* () { yield e.data; })());
      if (final) this.writer.finish();
    })();
    return this.materialized;
  }
}

/** The entry's path relative to the root, as the disk writer would take it; undefined when it would refuse it. */
function cleanRel(name: string): string | undefined {
  const rel = join('/', name).slice(1).replace(/\/+$/, '');
  if (name.split('/').includes('..')) return undefined;
  return rel;
}
