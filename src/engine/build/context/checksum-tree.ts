/**
 * The checksum walk itself, synchronous on purpose: on these machines an
 * async fs call costs ~0.2 ms of thread-pool round trip, so 10,000 files took
 * seconds; plain syscalls take a fraction of that. The daemon runs this in a
 * worker thread (checksum-worker.ts) so its event loop never blocks.
 *
 *   hashTree('/ctx/src')  // Map { '/ctx/src' → 'ab12…', '/ctx/src/a.txt' → '…', … }
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { IgnoreRules } from './dockerignore.js';

export interface TreeOptions {
  /** .dockerignore patterns hiding paths (relative to `root`) from the digest. */
  ignore?: string[];
  root?: string;
  /** File digests already computed (e.g. while receiving), by absolute path. */
  known?: Record<string, string>;
}

/** A regular file's digest starts with its metadata; feed the content, then `.digest('hex')`. */
export function fileDigest(mode: number, uid: number, gid: number, size: number): Hash {
  return createHash('sha256').update(`file\0${mode & 0o7777}\0${uid}\0${gid}\0${size}\0`);
}

const BUF_SIZE = 1 << 20;

/** Digests of `abs` and everything below it, by absolute path. */
export function hashTree(abs: string, opts: TreeOptions = {}): Map<string, string> {
  const out = new Map<string, string>();
  const rules = opts.ignore?.length ? new IgnoreRules(opts.ignore) : undefined;
  const root = opts.root;
  const hidden = (p: string) => !!rules && !!root && p.startsWith(root + '/') && rules.excludes(p.slice(root.length + 1));
  const buf = Buffer.allocUnsafe(BUF_SIZE);

  const meta = (st: Stats) => `${st.mode & 0o7777}\0${st.uid}\0${st.gid}\0`;
  const file = (p: string): string => {
    // O_NOFOLLOW: the entry was a regular file when listed; never hash through a swapped-in link.
    const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      const h = fileDigest(st.mode, st.uid, st.gid, st.size);
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
  const visit = (p: string, st: Stats | undefined, kind: 'dir' | 'file' | 'symlink' | 'other'): string => {
    let d: string;
    if (kind === 'file') d = opts.known?.[p] ?? file(p);
    else {
      st ??= lstatSync(p);
      if (kind === 'symlink') d = sha(`symlink\0${meta(st)}${readlinkSync(p)}`);
      else if (kind === 'other') d = sha(`special\0${meta(st)}${st.rdev}`);
      else {
        const h = createHash('sha256').update(`dir\0${meta(st)}`);
        const entries = readdirSync(p, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const e of entries) {
          const child = join(p, e.name);
          if (hidden(child)) continue;
          const k = e.isDirectory() ? 'dir' : e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : 'other';
          h.update(`${e.name}\0${visit(child, undefined, k)}\0`);
        }
        d = h.digest('hex');
      }
    }
    out.set(p, d);
    return d;
  };
  const st = lstatSync(abs);
  visit(abs, st, st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other');
  return out;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
