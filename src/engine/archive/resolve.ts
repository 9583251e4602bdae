import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { MountPoint } from '../volumes/mounts.js';

/**
 * A container's filesystem as the daemon sees it: the mounted root (the
 * overlay's merged directory) plus the container's mounts, whose content lives
 * in host directories of their own. Paths under a bind mount or volume are read
 * and written there, never in the overlay underneath, as Docker does.
 *
 *   const cfs = { rootfs: '/var/lib/berth/…/merged', mounts: rec.Mounts };
 *   await resolveInContainer(cfs, '/data/x', true)  // { host: '/var/lib/berth/volumes/v/_data/x', … }
 */
export interface ContainerFs {
  rootfs: string;
  mounts: MountPoint[];
}

export interface ResolvedPath {
  /** The path inside the container after following symlinks: absolute, clean. */
  ctr: string;
  /** Where that lives on the host. */
  host: string;
  /** The trusted host directory holding it (rootfs or mount source) and the path below it. */
  base: string;
  rel: string;
  /** The mount holding it, if any (undefined: the container's own rootfs). */
  mount?: MountPoint;
}

/** Cleans a container path into an absolute one with no `.`/`..` left. */
export function cleanCtrPath(p: string): string {
  return path.posix.normalize('/' + p).replace(/\/+$/, '') || '/';
}

/** The mount whose destination holds `ctr` (longest match), if any. */
export function mountFor(cfs: ContainerFs, ctr: string): MountPoint | undefined {
  let best: MountPoint | undefined;
  for (const m of cfs.mounts) {
    if (m.Type === 'tmpfs') continue; // lives only in the container's mount namespace
    const d = m.Destination;
    if ((ctr === d || ctr.startsWith(d + '/')) && (!best || d.length > best.Destination.length)) best = m;
  }
  return best;
}

/**
 * Host path of a clean container path, without following any symlink: `base`
 * is the trusted host directory it lies in (the rootfs or a mount's source)
 * and `rel` the part below it that the container controls.
 */
export function hostPathOf(cfs: ContainerFs, ctr: string): { host: string; base: string; rel: string; mount?: MountPoint } {
  const m = mountFor(cfs, ctr);
  if (!m) return { host: path.join(cfs.rootfs, ctr), base: cfs.rootfs, rel: ctr.slice(1) };
  const base = m.Subpath ? path.join(m.Source, path.posix.normalize('/' + m.Subpath)) : m.Source;
  const rel = ctr.slice(m.Destination.length).replace(/^\/+/, '');
  return { host: path.join(base, rel), base, rel, mount: m };
}

/**
 * Resolves a container path to a host path following symlinks the way the
 * container would see them: absolute targets restart from the container's root
 * (not the host's), `..` never climbs above `/`, and crossing a mount
 * destination moves into that mount's host directory. With `followLast`
 * false a final symlink is returned as itself (Docker's GET/HEAD rule).
 * Components that do not exist are kept as written.
 */
export async function resolveInContainer(cfs: ContainerFs, unsafe: string, followLast: boolean): Promise<ResolvedPath> {
  const parts = unsafe.split('/').filter((p) => p && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    if (parts.length === 0 && !followLast) {
      resolved.push(part);
      break;
    }
    const ctr = '/' + [...resolved, part].join('/');
    let st;
    try {
      st = await fs.lstat(hostPathOf(cfs, ctr).host);
    } catch {
      resolved.push(part);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > 255) throw new Error(`too many levels of symbolic links resolving ${unsafe}`);
      const target = await fs.readlink(hostPathOf(cfs, ctr).host);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter((p) => p && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  const ctr = '/' + resolved.join('/');
  return { ctr, ...hostPathOf(cfs, ctr) };
}
