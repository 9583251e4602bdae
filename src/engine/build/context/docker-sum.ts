/**
 * Source checksums in the format of Docker's legacy builder, so the history
 * text of a COPY/ADD (`COPY file:<sum> in /dst `, `dir:`, `multi:`) is the
 * one `docker build` writes for the same context, and `--cache-from` an
 * image Docker built matches its COPY steps too.
 *
 * An entry's sum is sha256 over a tarsum v1 header of it followed by a
 * regular file's bytes. The header is the concatenation of `key + value`
 * for name (the path relative to the context root; a directory's ends in
 * `/`), mode (permission, set-id and sticky bits, in decimal), uid, gid, size
 * (0 but for regular files), typeflag (tar's: `0` file, `5` directory, `3`/`4`
 * devices, `6` fifo), linkname, uname and gname (empty: dockerd looks no
 * names up there), devmajor, devminor; no mtime, so a fresh checkout hits.
 * A symlink is summed as what it points to inside the context (Docker
 * follows it there); one that leads nowhere is left out of directory lists.
 * A directory source is `dir:` + sha256 of the sorted sums of itself and
 * everything below it joined by `,` (the context root itself is not listed);
 * several sources are `multi:` + sha256 of their `file:`/`dir:` strings,
 * in source order. Worked out against Docker 20.10 (test fixtures hold what
 * it wrote).
 *
 *   entrySum({ rel: 'a.txt', kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 6 }).update(data).digest('hex')
 *   listSum(['e3b0…', '5d41…'])   // a directory's sum from its entries' sums
 */
import { createHash, type Hash } from 'node:crypto';

export interface EntryMeta {
  /** Path relative to the context root, without a leading or trailing `/`. */
  rel: string;
  kind: 'file' | 'dir' | 'char' | 'block' | 'fifo';
  /** st_mode; only the low 12 bits count. */
  mode: number;
  uid: number;
  gid: number;
  /** A regular file's size. */
  size?: number;
  /** st_rdev of a device. */
  rdev?: number;
}

const TYPEFLAG: Record<EntryMeta['kind'], string> = { file: '0', dir: '5', char: '3', block: '4', fifo: '6' };

/**
 * The hash of an entry after its header: feed a regular file's bytes, then
 * `.digest('hex')`; for anything else digest it straight away.
 */
export function entrySum(e: EntryMeta): Hash {
  const dev = e.kind === 'char' || e.kind === 'block';
  const rdev = e.rdev ?? 0;
  const fields: [string, string | number][] = [
    ['name', e.kind === 'dir' ? `${e.rel}/` : e.rel],
    ['mode', e.mode & 0o7777],
    ['uid', e.uid],
    ['gid', e.gid],
    ['size', e.kind === 'file' ? e.size ?? 0 : 0],
    ['typeflag', TYPEFLAG[e.kind]],
    ['linkname', ''],
    ['uname', ''],
    ['gname', ''],
    // Linux's dev_t split, as Go's unix.Major/Minor do it.
    ['devmajor', dev ? ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff) : 0],
    ['devminor', dev ? (rdev & 0xff) | ((rdev >>> 12) & ~0xff) : 0],
  ];
  return createHash('sha256').update(fields.map(([k, v]) => `${k}${v}`).join(''));
}

/** sha256 of sums joined by `,`: a directory's sum (sort them first) or a `multi:` one (source order). */
export function listSum(sums: readonly string[]): string {
  return createHash('sha256').update(sums.join(',')).digest('hex');
}

/** The history text's source part of a COPY/ADD: `file:…`, `dir:…` or `multi:…`. */
export function historySources(sources: readonly { isDir: boolean; sum: string }[]): string {
  const one = (s: { isDir: boolean; sum: string }) => `${s.isDir ? 'dir' : 'file'}:${s.sum}`;
  if (sources.length === 1) return one(sources[0]!);
  return `multi:${listSum(sources.map(one))}`;
}
