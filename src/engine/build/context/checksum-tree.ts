/**
 * The checksum walk itself, synchronous on purpose: on these machines an
 * async fs call costs ~0.2 ms of thread-pool round trip, so 10,000 files took
 * seconds; plain syscalls take a fraction of that. The daemon runs this in a
 * worker thread (checksum-worker.ts) so its event loop never blocks.
 * Checksums are Docker's (docker-sum.ts says how they are made).
 *
 *   hashTree('/ctx/src', { root: '/ctx' })
 *   // { sums: Map { '/ctx/src' → 'ab12…' (its dir: sum), '/ctx/src/a.txt' → '…', … }, links: [['src/l', 'a.txt']] }
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { secureJoinSync } from '../../../common/securejoin.js';
import { IgnoreRules } from './dockerignore.js';
import { entrySum, listSum, type EntryMeta } from './docker-sum.js';

export interface TreeOptions {
  /** The context root: checksums name entries by their path relative to it. */
  root: string;
  /** .dockerignore patterns hiding paths (relative to `root`) from the digest. */
  ignore?: string[];
  /** File digests already computed (e.g. while receiving), by absolute path. */
  known?: Record<string, string>;
}

export interface TreeSums {
  /**
   * By absolute path: a file's sum, a directory's `dir:` sum (over itself and
   * everything below), a symlink's as what it leads to, or its own sum when
   * it leads nowhere in the context.
   */
  sums: Map<string, string>;
  /**
   * Every symlink met, as [path relative to root, target]: Docker's sums
   * follow links, so a link pointed elsewhere at an equal file would not
   * change them; the build cache key adds these.
   */
  links: [string, string][];
}

const BUF_SIZE = 1 << 20;

/** Checksums of `abs` and everything below it. */
export function hashTree(abs: string, opts: TreeOptions): TreeSums {
  const sums = new Map<string, string>();
  const links: [string, string][] = [];
  const rules = opts.ignore?.length ? new IgnoreRules(opts.ignore) : undefined;
  const root = opts.root;
  const relOf = (p: string) => (p === root ? '' : p.startsWith(root + '/') ? p.slice(root.length + 1) : p.replace(/^\/+/, ''));
  const hidden = (p: string) => !!rules && rules.excludes(relOf(p));
  const buf = Buffer.allocUnsafe(BUF_SIZE);
  /** Sums of single entries (a directory's own header), by absolute path: the pieces of dir: sums. */
  const own = new Map<string, string>();

  const meta = (p: string, st: Stats, kind: EntryMeta['kind']): EntryMeta => ({ rel: relOf(p), kind, mode: st.mode, uid: st.uid, gid: st.gid, size: st.size, rdev: st.rdev });
  const kindOf = (st: Stats): EntryMeta['kind'] =>
    st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'fifo';
  const fileSum = (p: string): string => {
    const known = opts.known?.[p];
    if (known) return known;
    // O_NOFOLLOW: the entry was a regular file when listed; never hash through a swapped-in link.
    const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const h = entrySum(meta(p, fstatSync(fd), 'file'));
      for (;;) {
        const n = readSync(fd, buf, 0, BUF_SIZE, null);
        if (n <= 0) break;
        h.update(buf.subarray(0, n));
      }
      return h.digest('hex');
    } finally {
      closeSync(fd);
    }
  };
  /** The sum of one entry, not of what is below it; undefined for a link that leads nowhere. */
  const entry = (p: string, st: Stats): string | undefined => {
    let sum = own.get(p);
    if (sum !== undefined) return sum;
    if (st.isSymbolicLink()) {
      const target = secureJoinSync(root, relOf(p));
      const tst = lstatSafe(target);
      if (!tst || tst.isSymbolicLink()) return undefined;
      sum = entry(target, tst);
    } else {
      sum = st.isFile() ? fileSum(p) : entrySum(meta(p, st, kindOf(st))).digest('hex');
    }
    if (sum !== undefined) own.set(p, sum);
    return sum;
  };
  /** Walks a directory: records every path's sum and returns the own sums of all it holds. */
  const walkDir = (p: string): string[] => {
    const below: string[] = [];
    const names = readdirSync(p).sort();
    for (const name of names) {
      const child = join(p, name);
      if (hidden(child)) continue;
      const st = lstatSync(child);
      if (st.isSymbolicLink()) links.push([relOf(child), readlinkSync(child)]);
      const sum = entry(child, st);
      if (st.isDirectory()) {
        const inner = walkDir(child);
        sums.set(child, listSum([sum!, ...inner].sort()));
        below.push(sum!);
        for (const x of inner) below.push(x); // no spread: a big tree would overflow the call's arguments
      } else if (sum !== undefined) {
        sums.set(child, sum);
        below.push(sum);
      } else {
        sums.set(child, danglingSum(child));
      }
    }
    return below;
  };

  const st = lstatSync(abs);
  if (st.isDirectory()) {
    const inner = walkDir(abs);
    // The context root itself is not one of its entries.
    sums.set(abs, listSum((abs === root ? inner : [entry(abs, st)!, ...inner]).sort()));
  } else {
    if (st.isSymbolicLink()) links.push([relOf(abs), readlinkSync(abs)]);
    sums.set(abs, entry(abs, st) ?? danglingSum(abs));
  }
  return { sums, links };
}

function lstatSafe(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** A link that leads nowhere in the context: Docker has no sum for it; this one covers its target text. */
function danglingSum(p: string): string {
  return listSum(['symlink', readlinkSync(p)]);
}
