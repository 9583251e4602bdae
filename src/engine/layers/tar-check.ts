import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { InvalidArgument } from '../../common/errors.js';

/** What a layer tar holds beyond plain files: the OCI whiteout markers. */
export interface LayerScan {
  /** Bytes of file content (Docker's notion of a layer's size). */
  size: number;
  /** Paths hidden by this layer (`a/.wh.b` → `a/b`). */
  whiteouts: string[];
  /** Directories whose lower contents this layer hides (`a/.wh..wh..opq` → `a`). */
  opaqueDirs: string[];
  /** The marker files themselves, to delete once extracted. */
  markers: string[];
  /** Header of each directory entry, to restore its metadata after fix-ups. */
  dirs: Map<string, DirHeader>;
}

export interface DirHeader { mode: number; uid: number; gid: number; mtime: Date; pax?: Record<string, string> }

export const whiteoutPrefix = '.wh.';
export const opaqueMarker = '.wh..wh..opq';

/**
 * Normalises a tar member name to a clean relative path (`./a//b/` → `a/b`,
 * `/etc/x` → `etc/x`, `.` → ``), or throws when it climbs out with `..`.
 */
export function cleanMemberPath(name: string): string {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw new InvalidArgument(`invalid tar header: path ${JSON.stringify(name)} escapes the extraction root`);
    parts.push(p);
  }
  return parts.join('/');
}

const allowedTypes = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);

/** A member's header as far as the checks need it (tar-stream's names for types). */
export interface MemberHeader {
  name: string;
  type?: string | null;
  linkname?: string | null;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  pax?: Record<string, string> | null;
}

/**
 * Judges a layer's members one at a time, in archive order, and gathers its
 * whiteouts: no `..`, nothing beneath a symlink the archive itself made (so a
 * later member cannot be written through it to outside the root), hardlinks
 * only to regular members seen earlier. `add` throws InvalidArgument for a
 * hostile member. Fed by scanLayerTar (headers parsed in Node) or by GNU tar's
 * own listing of what it extracted (tar-listing.ts).
 *
 *   const s = new LayerScanner();
 *   for (const m of members) s.add(m);
 *   translate(s.scan);
 */
export class LayerScanner {
  readonly scan: LayerScan = { size: 0, whiteouts: [], opaqueDirs: [], markers: [], dirs: new Map() };
  private symlinks = new Set<string>();
  private linkable = new Set<string>();

  add(h: MemberHeader): void {
    const { scan } = this;
    const type = h.type ?? 'file';
    if (!allowedTypes.has(type)) throw new InvalidArgument(`invalid tar header: unsupported entry type ${JSON.stringify(type)} for ${JSON.stringify(h.name)}`);
    const p = cleanMemberPath(h.name);
    const via = p && this.underSymlink(p);
    if (via) throw new InvalidArgument(`invalid tar header: ${JSON.stringify(h.name)} would be written through symlink ${JSON.stringify(via)}`);
    if (type === 'link') {
      const target = cleanMemberPath(h.linkname ?? '');
      if (!this.linkable.has(target)) throw new InvalidArgument(`invalid tar header: hardlink ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which is not an earlier file in the archive`);
    }
    this.symlinks.delete(p);
    this.linkable.delete(p);
    if (type === 'symlink') this.symlinks.add(p);
    else if (type === 'directory') {
      if (h.mode !== undefined) scan.dirs.set(p, { mode: h.mode, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime ?? new Date(0), pax: h.pax ?? undefined });
    } else this.linkable.add(p);
    if (type === 'file' || type === 'contiguous-file') scan.size += h.size ?? 0;
    const slash = p.lastIndexOf('/');
    const base = p.slice(slash + 1);
    const dir = slash < 0 ? '' : p.slice(0, slash);
    if (base === opaqueMarker) {
      scan.opaqueDirs.push(dir);
      scan.markers.push(p);
    } else if (base.startsWith(whiteoutPrefix)) {
      scan.markers.push(p);
      // `.wh..wh.*` other than the opaque marker are aufs bookkeeping: drop them.
      if (!base.startsWith(whiteoutPrefix + whiteoutPrefix)) {
        const hidden = base.slice(whiteoutPrefix.length);
        if (hidden === '' || hidden === '.' || hidden === '..') throw new InvalidArgument(`invalid whiteout ${JSON.stringify(h.name)}`);
        scan.whiteouts.push(dir ? `${dir}/${hidden}` : hidden);
      }
    }
  }

  private underSymlink(p: string): string | undefined {
    if (this.symlinks.size === 0) return undefined;
    for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) {
      const prefix = p.slice(0, i);
      if (this.symlinks.has(prefix)) return prefix;
    }
    return undefined;
  }
}

/**
 * Reads a plain tar stream through to the end and checks every member (see
 * LayerScanner) before anything is written. Throws InvalidArgument for a
 * hostile or corrupt archive; otherwise returns its whiteouts.
 *
 *   const scan = await scanLayerTar(openPlainTar(blobPath));
 */
export async function scanLayerTar(input: Readable): Promise<LayerScan> {
  const scanner = new LayerScanner();
  const ex = tar.extract();
  try {
    const done = (async () => {
      for await (const entry of ex) {
        const h = entry.header;
        scanner.add({ ...h, mode: h.type === 'directory' ? h.mode ?? 0o755 : h.mode, pax: (h as any).pax ?? undefined });
        entry.resume();
      }
    })();
    input.on('error', (err) => ex.destroy(err));
    input.pipe(ex);
    await done;
  } catch (err) {
    input.destroy();
    if (err instanceof InvalidArgument) throw err;
    throw new InvalidArgument(`invalid tar archive: ${(err as Error).message}`);
  }
  return scanner.scan;
}
