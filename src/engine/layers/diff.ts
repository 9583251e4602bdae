import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { createTarStream } from './host-tools.js';
import { opaqueXattr } from './apply.js';
import { opaqueMarker, whiteoutPrefix } from './tar-check.js';

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
 * made as bind-mount targets, which are plumbing rather than content.
 */
export function layerFromUpper(upperDir: string, opts: { skip?: Set<string>; keep?: (name: string, size: number) => boolean } = {}): Readable {
  const out = new PassThrough();
  const { stream, done } = createTarStream(upperDir);
  const ex = tar.extract();
  const pack = tar.pack();
  (pack as unknown as Readable).pipe(out);
  const add = (h: any, body?: Buffer | Readable) => new Promise<void>((resolve, reject) => {
    if (body === undefined || Buffer.isBuffer(body)) {
      pack.entry(h, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    } else {
      const w = pack.entry(h, (err) => (err ? reject(err) : resolve()));
      body.pipe(w as any);
    }
  });
  (async () => {
    stream.pipe(ex);
    for await (const entry of ex) {
      const h: any = { ...entry.header };
      const name = h.name.replace(/^\.\/?/, '').replace(/\/$/, '');
      if (name === '' || opts.skip?.has(name)) { entry.resume(); continue; }
      if (opts.keep && h.type !== 'directory' && !opts.keep(name, h.size ?? 0)) { entry.resume(); continue; }
      const pax: Record<string, string> = {};
      let opaque = false;
      for (const [k, v] of Object.entries((h.pax ?? {}) as Record<string, string>)) {
        if (k === `SCHILY.xattr.${opaqueXattr}`) opaque = v === 'y';
        else if (k.startsWith('SCHILY.xattr.') && !k.startsWith('SCHILY.xattr.trusted.overlay.')) pax[k] = v;
      }
      const clean = { name: h.type === 'directory' ? name + '/' : name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, size: h.size,
        linkname: h.linkname ? h.linkname.replace(/^\.\//, '') : h.linkname, devmajor: h.devmajor, devminor: h.devminor,
        pax: Object.keys(pax).length ? pax : undefined };
      if (h.type === 'character-device' && h.devmajor === 0 && h.devminor === 0) {
        const dir = path.posix.dirname(name);
        const wh = (dir === '.' ? '' : dir + '/') + whiteoutPrefix + path.posix.basename(name);
        entry.resume();
        await add({ name: wh, type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: h.mtime, size: 0 });
        continue;
      }
      if (h.type === 'file' || h.type === 'contiguous-file') await add({ ...clean, type: 'file' }, entry as unknown as Readable);
      else { entry.resume(); await add({ ...clean, size: 0 }); }
      if (opaque && h.type === 'directory') {
        await add({ name: `${name}/${opaqueMarker}`, type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: h.mtime, size: 0 });
      }
    }
    await done;
    pack.finalize();
  })().catch((err) => { stream.destroy(); out.destroy(err); });
  return out;
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
