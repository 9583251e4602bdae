import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { copyEntriesWhole, createTarOfEntries, listOverlayXattrs, removeXattrs } from './host-tools.js';
import { UpperTarFilter } from './upper-tar.js';

/**
 * Turns an overlay upper dir into an OCI layer tar, the reverse of applyLayer:
 * a 0/0 character device `a/b` becomes the empty file `a/.wh.b`, a directory
 * with `trusted.overlay.opaque=y` is followed by `dir/.wh..wh..opq`; overlay's
 * own xattrs never leak into the layer.
 *
 * Paths in `skip` (relative, as from `runtimePlaceholders`) are left out.
 *
 *   await cs.write(layerFromUpper(sn.dir('container-abc')));
 *
 * `keep` can drop entries (by layer path and size), e.g. the empty files runc
 * made as bind-mount targets, which are plumbing rather than content. The
 * returned stream's `scan` (complete at its end) describes the layer, so
 * storeAndUnpack need not parse it again.
 */
export function layerFromUpper(upperDir: string, opts: { skip?: Set<string>; keep?: (name: string, size: number) => boolean } = {}): UpperTarFilter {
  const filter = new UpperTarFilter(opts);
  (async () => {
    // Top-level names given one by one keep `./` and the root itself out of the layer.
    const names = (await fs.readdir(upperDir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const { stream, done } = createTarOfEntries(upperDir, names);
    stream.on('error', (err) => filter.destroy(err));
    filter.on('close', () => stream.destroy());
    // Ending the filter waits for tar's exit status: a failed tar must not look like a short layer.
    stream.pipe(filter, { end: false });
    await Promise.all([done, new Promise<void>((resolve) => stream.on('end', resolve))]);
    filter.end();
  })().catch((err) => filter.destroy(err));
  return filter;
}

/** What an upper dir holds that decides how it becomes a layer (see scanUpper). */
export interface UpperScan {
  /** Top-level entries, byte-sorted, as layer tars list them. */
  names: string[];
  /** A 0/0 character device (overlay whiteout) or an opaque dir is there: the layer needs UpperTarFilter's header rewriting. */
  needsRewrite: boolean;
  /** `trusted.overlay.*` xattrs other than `opaque`, by relative path: overlay's bookkeeping, kept out of layers and snapshots. */
  bookkeeping: Map<string, string[]>;
  /** Bytes of regular files left in the layer (hard links once): Docker's layer size. */
  size: number;
  /** Relative paths to leave out: the given `skip`, sockets and the non-directories `keep` refused. */
  skip: Set<string>;
}

/**
 * Looks at an upper dir's metadata (never file contents) to tell whether its
 * layer can be written by tar alone: no whiteout device, no opaque dir.
 * Undefined when the xattrs cannot be read (getfattr missing) or a name does
 * not survive the round trip through getfattr's output; callers then take the
 * UpperTarFilter path, which handles everything.
 *
 *   const scan = await scanUpper(upper, { skip });
 *   if (scan && !scan.needsRewrite) await writeLayerTarOfEntries(upper, scan.names, scan.skip, file);
 */
export async function scanUpper(upperDir: string, opts: { skip?: Set<string>; keep?: (name: string, size: number) => boolean } = {}): Promise<UpperScan | undefined> {
  const xattrsP = listOverlayXattrs(upperDir);
  const skip = new Set(opts.skip ?? []);
  const seen = new Set<string>();
  let needsRewrite = false;
  let size = 0;
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(path.join(upperDir, rel), { withFileTypes: true });
    await Promise.all(entries.map(async (e) => {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip.has(r)) return;
      if (e.isDirectory()) return walk(r);
      // tar leaves sockets out of a layer; the snapshot copy must too.
      if (e.isSocket()) { skip.add(r); return; }
      const st = await fs.lstat(path.join(upperDir, r));
      if (st.isCharacterDevice() && st.rdev === 0) needsRewrite = true;
      const bytes = st.isFile() ? st.size : 0;
      if (opts.keep && !opts.keep(r, bytes)) { skip.add(r); return; }
      if (st.nlink > 1) {
        if (seen.has(String(st.ino))) return;
        seen.add(String(st.ino));
      }
      size += bytes;
    }));
  };
  // The walk's error (e.g. ENOENT) wins over getfattr's report of the same problem.
  const [listed, walked] = await Promise.allSettled([xattrsP, walk('')]);
  if (walked.status === 'rejected') throw walked.reason;
  if (listed.status === 'rejected') throw listed.reason;
  const xattrs = listed.value;
  if (!xattrs) return undefined;
  const bookkeeping = new Map<string, string[]>();
  for (const [rel, names] of xattrs) {
    if (rel.includes('\uFFFD')) return undefined;
    if (rel === '' || [...skip].some((s) => rel === s || rel.startsWith(s + '/'))) continue;
    if (names.includes(`trusted.overlay.opaque`)) needsRewrite = true;
    const others = names.filter((n) => n !== 'trusted.overlay.opaque');
    if (others.length) bookkeeping.set(rel, others);
  }
  const names = (await fs.readdir(upperDir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return { names, needsRewrite, bookkeeping, size, skip };
}

/**
 * Makes `dst` (an empty snapshot dir) what unpacking the upper dir's layer
 * gives, overlay-shaped: `cp -a` of the entries (the kernel copies the
 * bodies), then the skipped paths and overlay's bookkeeping xattrs are taken
 * out again, and the directories that lost a skipped child get their mtimes
 * back. Whiteout devices and opaque xattrs stay as they are.
 *
 *   const scan = await scanUpper(upper, { skip });
 *   await copyUpperSnapshot(upper, sn.dir(key), scan!);
 */
export async function copyUpperSnapshot(upperDir: string, dst: string, scan: UpperScan): Promise<void> {
  await copyEntriesWhole(upperDir, dst, scan.names.filter((n) => !scan.skip.has(n)));
  const touched = new Set<string>();
  for (const rel of scan.skip) {
    if (!rel.includes('/')) continue;
    await fs.rm(path.join(dst, rel), { recursive: true, force: true });
    touched.add(path.posix.dirname(rel));
  }
  if (scan.bookkeeping.size) await removeXattrs(dst, scan.bookkeeping);
  for (const dir of touched) {
    const st = await fs.lstat(path.join(upperDir, dir)).catch(() => undefined);
    const copy = await fs.lstat(path.join(dst, dir)).catch(() => undefined);
    if (st && copy) await fs.utimes(path.join(dst, dir), st.atimeMs / 1000, st.mtimeMs / 1000);
  }
}

/** One line of `docker diff`: Kind 0 = changed, 1 = added, 2 = deleted. */
export interface Change { Path: string; Kind: 0 | 1 | 2 }

/**
 * The changes an upper dir makes over its lower dirs, as `docker diff` lists
 * them: whiteouts are deletions, entries present below are changes, the rest
 * additions. Sorted by path.
 */
export async function upperChanges(upperDir: string, lowerDirs: string[]): Promise<Change[]> {
  const out: Change[] = [];
  const existsBelow = async (rel: string) => {
    for (const l of lowerDirs) if (await fs.lstat(path.join(l, rel)).then(() => true, () => false)) return true;
    return false;
  };
  const walk = async (rel: string) => {
    const entries = await fs.readdir(path.join(upperDir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(upperDir, r);
      if (e.isCharacterDevice()) {
        const st = await fs.lstat(full);
        if (st.rdev === 0) { out.push({ Path: '/' + r, Kind: 2 }); continue; }
      }
      out.push({ Path: '/' + r, Kind: (await existsBelow(r)) ? 0 : 1 });
      if (e.isDirectory()) await walk(r);
    }
  };
  await walk('');
  out.sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0));
  return out;
}

/**
 * The entries of an upper dir that only exist because the runtime needed a
 * mount target (`/etc/hosts`, a volume's mountpoint, a bind target) the image
 * did not have, plus the directories created or copied up solely to hold
 * them. Docker keeps these out of a committed layer and of `diff`; so do we. Paths are relative
 * (`etc/hosts`), as tar entries are named.
 *
 *   const skip = await runtimePlaceholders(upper, lowers, ['/etc/hosts', '/data']);
 *   layerFromUpper(upper, { skip });
 */
export async function runtimePlaceholders(upperDir: string, lowerDirs: string[], targets: string[]): Promise<Set<string>> {
  const skip = new Set<string>();
  const inLower = async (rel: string) => {
    for (const l of lowerDirs) if (await fs.lstat(path.join(l, rel)).then(() => true, () => false)) return true;
    return false;
  };
  // Everything below `rel` in the upper dir is itself skipped (an empty mountpoint qualifies).
  const onlySkippedBelow = async (rel: string) => {
    const st = await fs.lstat(path.join(upperDir, rel)).catch(() => undefined);
    if (!st) return false;
    if (!st.isDirectory()) return true;
    const names = await fs.readdir(path.join(upperDir, rel));
    return names.every((n) => skip.has(`${rel}/${n}`));
  };
  const rels = [...new Set(targets.map((t) => path.posix.normalize(t).replace(/^\/+|\/+$/g, '')).filter(Boolean))];
  // Deepest first, so a parent is judged after its children.
  rels.sort((a, b) => b.split('/').length - a.split('/').length);
  for (const rel of rels) {
    if (await inLower(rel) || !(await onlySkippedBelow(rel))) continue;
    skip.add(rel);
    // Parents made for it go too; a parent the image had is only copied up (its times
    // changed), so it goes as well unless the container put something else in it.
    for (let dir = path.posix.dirname(rel); dir !== '.'; dir = path.posix.dirname(dir)) {
      if (skip.has(dir) || !(await onlySkippedBelow(dir))) break;
      skip.add(dir);
    }
  }
  return skip;
}
