import { promises as fs, type BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgument, NotFound } from '../../common/errors.js';
import { resolveInContainer, type ContainerFs } from './resolve.js';

/** The stat Docker sends base64-encoded in `X-Docker-Container-Path-Stat`. */
export interface PathStat {
  name: string;
  size: number;
  /** Go `os.FileMode` bits: permission bits plus type bits in the high word. */
  mode: number;
  /** RFC 3339 with nanoseconds, as Go marshals a time.Time. */
  mtime: string;
  /** For a symlink: the container path it finally resolves to. */
  linkTarget: string;
}

/** A path the archive API was asked about does not exist; the route names the container. */
export class PathNotFound extends NotFound {
  constructor(readonly ctrPath: string) {
    super(`Could not find the file ${ctrPath} in container`);
  }
}

// Go's os.FileMode type bits (io/fs).
const ModeDir = 2 ** 31;
const ModeSymlink = 2 ** 27;
const ModeDevice = 2 ** 26;
const ModeNamedPipe = 2 ** 25;
const ModeSocket = 2 ** 24;
const ModeSetuid = 2 ** 23;
const ModeSetgid = 2 ** 22;
const ModeCharDevice = 2 ** 21;
const ModeSticky = 2 ** 20;

/** Converts a Unix st_mode into Go's FileMode numbering (what the docker CLI decodes). */
export function goFileMode(stMode: number): number {
  let m = stMode & 0o777;
  switch (stMode & 0o170000) {
    case 0o040000: m += ModeDir; break;
    case 0o120000: m += ModeSymlink; break;
    case 0o060000: m += ModeDevice; break;
    case 0o020000: m += ModeDevice + ModeCharDevice; break;
    case 0o010000: m += ModeNamedPipe; break;
    case 0o140000: m += ModeSocket; break;
  }
  if (stMode & 0o4000) m += ModeSetuid;
  if (stMode & 0o2000) m += ModeSetgid;
  if (stMode & 0o1000) m += ModeSticky;
  return m;
}

/** Go's time.Time JSON form: RFC 3339, nanoseconds with trailing zeros dropped, UTC as `Z`. */
export function goTime(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : '.' + frac.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${f}Z`;
}

/** Docker's `PreserveTrailingDotOrSeparator`: clean `p` as an absolute path but keep a trailing `/` or `/.`. */
export function absoluteCtrPath(p: string): string {
  let clean = path.posix.normalize('/' + p);
  if (clean.length > 1) clean = clean.replace(/\/+$/, '');
  if ((p.endsWith('/.') || p === '.') && clean !== '/') return clean + '/.';
  if (p.endsWith('/') && clean !== '/') return clean + '/';
  return clean;
}

/** Go's filepath.Base: trailing slashes dropped, `/` for the root. */
export function goBase(p: string): string {
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

/**
 * Resolves `p` the way Docker's archive GET/HEAD does: every directory
 * component is followed (in the container's scope), the last one is not —
 * unless the path ends in `/` or `/.`, which asks for the directory itself.
 */
export async function resolveForRead(cfs: ContainerFs, p: string) {
  const abs = absoluteCtrPath(p);
  const cut = abs.lastIndexOf('/');
  const dir = abs.slice(0, cut + 1);
  const base = abs.slice(cut + 1);
  const follow = base === '' || base === '.';
  const r = await resolveInContainer(cfs, follow ? dir : abs, follow);
  let st: BigIntStats;
  try {
    st = await fs.lstat(r.host, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') throw new PathNotFound(abs);
    throw err;
  }
  // `file/` or `file/.` names a directory that is not one (lstat of `file/` fails the same way).
  if (follow && !st.isDirectory()) throw new InvalidArgument(`lstat ${abs}: not a directory`);
  return { abs, resolved: r, st };
}

/**
 * The stat of a container path for `HEAD /containers/{id}/archive` (and the
 * header of GET). A symlink is described as itself, with `linkTarget` the
 * container path it ends at.
 *
 *   await statPath(cfs, '/etc/hostname')  // { name: 'hostname', size: 13, mode: 420, … }
 */
export async function statPath(cfs: ContainerFs, p: string): Promise<PathStat> {
  const { abs, st } = await resolveForRead(cfs, p);
  let linkTarget = '';
  if (st.isSymbolicLink()) linkTarget = (await resolveInContainer(cfs, abs, true)).ctr;
  return { name: goBase(abs), size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: goTime(st.mtimeNs), linkTarget };
}

/** The `X-Docker-Container-Path-Stat` header value. */
export function encodePathStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}
