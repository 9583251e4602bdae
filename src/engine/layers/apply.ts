import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Transform, finished, type Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { InvalidArgument } from '../../common/errors.js';
import * as tar from 'tar-stream';
import { openPlainTar } from './compression.js';
import { extractLayerFile, extractTarFile, extractTarStream, type LayerCompression } from './host-tools.js';
import type { ListedMember } from './tar-listing.js';
import { LayerScanner, scanLayerTar, type DirHeader, type LayerScan } from './tar-check.js';

/** The xattr overlayfs reads to hide a directory's lower contents. */
export const opaqueXattr = 'trusted.overlay.opaque';

/**
 * Unpacks an OCI layer (plain or compressed tar file) into an empty snapshot
 * directory, translating OCI whiteouts to overlay's: `a/.wh.b` becomes a 0/0
 * character device `a/b`, `a/.wh..wh..opq` becomes `trusted.overlay.opaque=y`
 * on `a`. The archive is checked whole before anything is written; a hostile
 * one throws InvalidArgument and leaves `dir` untouched.
 *
 *   const { size } = await applyLayer(cs.path(digest), sn.dir('extract-1'));
 */
export async function applyLayer(archive: string, dir: string, expectedDiffId?: string): Promise<LayerScan & { diffId: string }> {
  const hash = createHash('sha256');
  const plain = openPlainTar(archive);
  const hashed = plain.pipe(new Transform({ transform(chunk, _e, cb) { hash.update(chunk); cb(null, chunk); } }));
  plain.on('error', (err) => hashed.destroy(err));
  const scan = await scanLayerTar(hashed);
  // tar-stream stops at the end-of-archive marker; hash any trailing padding too.
  for await (const chunk of hashed) void chunk;
  const diffId = 'sha256:' + hash.digest('hex');
  if (expectedDiffId && expectedDiffId !== diffId) {
    throw new InvalidArgument(`layer content does not match its diff ID: expected ${expectedDiffId}, got ${diffId}`);
  }
  await extractTarFile(archive, dir);
  if (scan.markers.length > 0) await translateWhiteouts(dir, scan);
  return { ...scan, diffId };
}

/**
 * Unpacks a layer the engine produced itself (a commit's diff) from its tar
 * stream, scanning and extracting in the same pass, so a commit does not read
 * its blob back twice after storing it. The scan still refuses hostile paths;
 * there is no diff ID to check against (the caller hashes the same stream).
 * `scanned` skips the scan for a stream that describes itself (an
 * UpperTarFilter made from a real directory): it is read once the stream ends.
 *
 *   const [blob, scan] = await Promise.all([cs.write(toStore), applyLayerStream(toDisk, dir)]);
 */
export async function applyLayerStream(input: Readable, dir: string, scanned?: () => LayerScan): Promise<LayerScan> {
  let scan: LayerScan;
  if (scanned) {
    await extractTarStream(input, dir);
    scan = scanned();
  } else {
    const toScan = new PassThrough();
    const toTar = new PassThrough();
    // Also when the input is destroyed without an error (a caller stopping it):
    // a tee side left open would keep tar waiting on stdin for ever.
    finished(input, (err) => { if (err) { toScan.destroy(err); toTar.destroy(err); } });
    input.pipe(toScan);
    input.pipe(toTar);
    const scanning = (async () => {
      const s = await scanLayerTar(toScan);
      // The scan stops at the end-of-archive marker; keep draining so the tee never stalls.
      for await (const chunk of toScan) void chunk;
      return s;
    })();
    [scan] = await Promise.all([scanning, extractTarStream(toTar, dir)]);
  }
  if (scan.markers.length > 0) await translateWhiteouts(dir, scan);
  return scan;
}

/**
 * Unpacks a layer blob (plain or compressed tar), open as the file
 * descriptor `blob` on its verified bytes, into the fresh, empty snapshot
 * directory `dir` by host programs (see extractLayerFile; `diffId: false`
 * when the caller takes the diff ID itself), then checks GNU tar's listing
 * of what it wrote member by member as scanLayerTar checks headers, and
 * translates whiteouts. Extraction runs ahead of the checks, so a hostile
 * blob is refused after tar (which writes nothing outside `dir`: it skips
 * `..` members, strips leading `/`, and defers symlinks pointing outside)
 * wrote into `dir`: the caller throws `dir` away.
 *
 *   const { size, tarDigest } = await applyLayerBlob(fh.fd, sn.dir(key), 'gzip');
 */
export async function applyLayerBlob(blob: number, dir: string, compression: LayerCompression, opts: { diffId?: boolean } = {}): Promise<LayerScan & { tarDigest?: string }> {
  return checkExtracted(dir, await extractLayerFile(blob, dir, compression, opts));
}

/** Checks what tar listed as extracted (throws for a hostile member) and turns OCI whiteouts into overlay's. */
async function checkExtracted(dir: string, { members, tarDigest }: { members: ListedMember[]; tarDigest?: string }): Promise<LayerScan & { tarDigest?: string }> {
  const scanner = new LayerScanner();
  for (const m of members) scanner.add(m);
  if (scanner.scan.markers.length > 0) await translateWhiteouts(dir, scanner.scan);
  return { ...scanner.scan, tarDigest };
}

/**
 * Turns the OCI whiteout markers a layer unpacked into `dir` into overlay's
 * whiteouts (see applyLayer). Directories the archive gave no header for
 * keep the metadata they had before their markers were removed.
 */
export async function translateWhiteouts(dir: string, scan: LayerScan): Promise<void> {
  const parents = new Set<string>();
  for (const m of scan.markers) parents.add(path.posix.dirname(m) === '.' ? '' : path.posix.dirname(m));
  // Stat before removing markers: removing them changes the directories' mtimes.
  const headers = new Map<string, DirHeader>();
  for (const p of parents) if (p !== '') headers.set(p, scan.dirs.get(p) ?? (await statHeader(path.join(dir, p))));
  for (const m of scan.markers) await fs.rm(path.join(dir, m), { force: true });
  // Node can neither mknod nor set trusted.* xattrs, GNU tar can: feed it a
  // small archive holding the device nodes and the directories re-stated with
  // their original metadata (removing markers touched their mtimes).
  const pack = tar.pack();
  const opaque = new Set(scan.opaqueDirs);
  const entries: Promise<void>[] = [];
  const add = (h: any) => new Promise<void>((resolve, reject) => {
    pack.entry(h, (err) => (err ? reject(err) : resolve()));
  });
  const done = extractTarStream(pack as unknown as Readable, dir);
  for (const w of scan.whiteouts) {
    entries.push(add({ name: w, type: 'character-device', devmajor: 0, devminor: 0, mode: 0, uid: 0, gid: 0, mtime: new Date(0), size: 0 }));
  }
  for (const [p, h] of headers) {
    const pax: Record<string, string> = {};
    for (const [k, v] of Object.entries(h.pax ?? {})) if (k.startsWith('SCHILY.xattr.')) pax[k] = v;
    if (opaque.has(p)) pax[`SCHILY.xattr.${opaqueXattr}`] = 'y';
    entries.push(add({ name: p, type: 'directory', mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, pax: Object.keys(pax).length ? pax : undefined } as any));
  }
  await Promise.all(entries);
  pack.finalize();
  await done;
  if (opaque.has('')) await markRootOpaque(dir);
}

async function statHeader(p: string): Promise<DirHeader> {
  const st = await fs.stat(p);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
}

/** An opaque marker at the layer root: the root itself must carry the xattr. */
async function markRootOpaque(dir: string): Promise<void> {
  const st = await fs.stat(dir);
  const pack = tar.pack();
  const done = extractTarStream(pack as unknown as Readable, dir);
  pack.entry({ name: '.', type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, pax: { [`SCHILY.xattr.${opaqueXattr}`]: 'y' } } as any);
  pack.finalize();
  await done;
}
