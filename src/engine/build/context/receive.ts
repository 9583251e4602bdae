/**
 * The daemon side of a build context: the `/build` request body is a tar
 * (plain or gzip) or, for `docker build - < Dockerfile` style clients, just a
 * Dockerfile. Extraction never writes outside the target directory: no
 * absolute or `..` paths, nothing written through a symlink, hardlinks only
 * to files already extracted.
 *
 *   await receiveContext(req, '/var/lib/berth/tmp/ctx-123');  // { kind: 'tar', files: 42, bytes: 2560 }
 */
import { createWriteStream } from 'node:fs';
import { chmodSync, closeSync, fchmodSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, utimesSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { InvalidArgument } from '../../../common/errors.js';
import { entrySum } from './docker-sum.js';
import { MemTree, type MemoryLimits } from './memory.js';

/** Files above this size are streamed to disk instead of buffered. */
const LARGE_FILE = 4 << 20;

export interface Received {
  kind: 'tar' | 'dockerfile' | 'empty';
  /** Entries written. */
  files: number;
  /** Bytes of the request body read. */
  bytes: number;
  /** The context, when it was small and plain enough to stay in memory (nothing is on disk then). */
  tree?: MemTree;
}

/** Reads the first bytes of a stream and gives back a stream that still yields them. */
async function peek(body: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    chunks.push(b);
    len += b.length;
  }
  const head = Buffer.concat(chunks);
  const stream = Readable.from((async function* () {
    if (head.length) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  })());
  return { head, stream };
}

function isTar(head: Buffer): boolean {
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/**
 * Extracts a context body into `dir` (which must exist and be empty). When
 * `digests` is given, it receives each regular file's checksum by absolute
 * path, computed while writing (see checksum-tree.ts for the format). With
 * `memory`, a context within those limits is held in memory instead (the
 * result's `tree`) and `dir` stays empty until the tree is materialised.
 */
export async function receiveContext(body: Readable, dir: string, digests?: Map<string, string>, memory?: MemoryLimits): Promise<Received> {
  let bytes = 0;
  const counted = Readable.from((async function* () {
    for await (const c of body) {
      const b = Buffer.isBuffer(c) ? c : Buffer.from(c);
      bytes += b.length;
      yield b;
    }
  })());
  let { head, stream } = await peek(counted, 512);
  if (head.length === 0) return { kind: 'empty', files: 0, bytes };
  if (head[0] === 0x1f && head[1] === 0x8b) {
    ({ head, stream } = await peek(stream.pipe(createGunzip()), 512));
    if (!isTar(head)) throw new InvalidArgument('build context is gzip-compressed but not a tar archive');
  } else if (head.subarray(0, 3).toString('latin1') === 'BZh' || head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw new InvalidArgument('build context compression not supported (use an uncompressed or gzip tar)');
  } else if (!isTar(head)) {
    // Not an archive: the body is the Dockerfile itself.
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    await writeFile(join(dir, 'Dockerfile'), Buffer.concat(chunks), { mode: 0o644 });
    return { kind: 'dockerfile', files: 1, bytes };
  }
  const { files, tree } = await extractTar(completeTar(stream), dir, digests, memory);
  return { kind: 'tar', files, bytes, ...(tree ? { tree } : {}) };
}

/**
 * The docker CLI's context for a `-f` outside the context (the Dockerfile
 * appended under `.dockerfile.<random>`) ends right after the last file's
 * bytes: no padding to the 512-byte block, no end-of-archive blocks. Docker's
 * daemon reads it anyway, so we complete the archive with zero blocks.
 */
function completeTar(stream: Readable): Readable {
  return Readable.from((async function* () {
    let n = 0;
    for await (const c of stream) {
      n += (c as Buffer).length;
      yield c as Buffer;
    }
    yield Buffer.alloc((512 - (n % 512)) % 512 + 1024);
  })());
}

/** `./a//b/` → `a/b`, `/` → ``; throws for paths that leave the root. */
export function safeRelPath(name: string): string {
  const rel = posix.normalize(name.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) throw new InvalidArgument(`invalid path in build context: ${name}`);
  return rel === '.' ? '' : rel;
}

/**
 * Writes entries with plain syscalls: an async fs call costs ~0.2 ms of
 * thread-pool round trip here, which made 10,000 small files take seconds.
 * Each entry is still its own turn of the event loop, so other requests
 * interleave; only large files are streamed asynchronously.
 *
 *   const w = new DiskWriter('/ctx', digests);
 *   for await (const entry of extract) await w.write(entry.header, entry);
 *   w.finish();   // directory modes and times
 */
export class DiskWriter {
  private readonly symlinks = new Set<string>();
  private readonly seen = new Set<string>();
  private readonly made = new Set<string>();
  private readonly dirTimes: { path: string; mode: number; mtime: Date }[] = [];
  private readonly myUid = process.getuid?.() ?? 0;
  private readonly myGid = process.getgid?.() ?? 0;
  private readonly umask = process.umask();
  /** Entries written. */
  count = 0;

  constructor(private readonly dir: string, private readonly digests?: Map<string, string>) {}

  /** Only root can give files away; otherwise everything stays ours, as with rootless Docker. */
  owner(h: Header): [number, number] {
    return this.myUid === 0 ? [h.uid ?? 0, h.gid ?? 0] : [this.myUid, this.myGid];
  }

  private throughLink(rel: string): boolean {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) if (this.symlinks.has(parts.slice(0, i).join('/'))) return true;
    return false;
  }

  /** Writes one entry; `data` yields a file's bytes (drained for other types). */
  async write(h: Header, data: AsyncIterable<unknown> & { resume?: () => void }): Promise<void> {
    const drain = async () => { if (data.resume) data.resume(); else for await (const _ of data) { /* nothing to keep */ } };
    const { dir, symlinks, seen, made, digests } = this;
    const rel = safeRelPath(h.name);
    if (rel === '') return drain();
    if (this.throughLink(rel)) throw new InvalidArgument(`invalid path in build context: ${h.name} (through a symlink)`);
    const path = join(dir, rel);
    const parent = posix.dirname(rel);
    if (parent !== '.' && !made.has(parent)) {
      mkdirSync(join(dir, parent), { recursive: true });
      made.add(parent);
    }
    if (seen.has(rel) && (h.type !== 'directory' || symlinks.has(rel))) {
      // A later entry for the same path replaces the earlier one, as tar does.
      rmSync(path, { recursive: true, force: true });
      symlinks.delete(rel);
      made.delete(rel);
    }
    seen.add(rel);
    const mode = h.mode & 0o7777;
    switch (h.type) {
      case 'directory':
        mkdirSync(path, { recursive: true });
        made.add(rel);
        this.dirTimes.push({ path, mode, mtime: h.mtime });
        await drain();
        break;
      case 'file':
      case 'contiguous-file': {
        // Hashed on the way through, so checksums need not read the file again.
        const [uid, gid] = this.owner(h);
        const hash = entrySum({ rel, kind: 'file', mode, uid, gid, size: h.size });
        if (h.size > LARGE_FILE) {
          await pipeline(data, async function* (src: AsyncIterable<unknown>) {
            for await (const c of src) {
              hash.update(c as Buffer);
              yield c as Buffer;
            }
          }, createWriteStream(path, { mode }));
          chmodSync(path, mode);
          utimesSync(path, h.mtime, h.mtime);
        } else {
          const chunks: Buffer[] = [];
          for await (const c of data) chunks.push(c as Buffer);
          const fd = openSync(path, 'w', mode);
          try {
            const buf = Buffer.concat(chunks);
            hash.update(buf);
            for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
            if ((mode & ~this.umask) !== mode) fchmodSync(fd, mode);
            futimesSync(fd, h.mtime, h.mtime);
          } finally {
            closeSync(fd);
          }
        }
        digests?.set(path, hash.digest('hex'));
        break;
      }
      case 'symlink':
        symlinkSync(h.linkname!, path);
        symlinks.add(rel);
        lutimesSync(path, h.mtime, h.mtime);
        await drain();
        break;
      case 'link': {
        const target = safeRelPath(h.linkname!);
        if (target === '' || this.throughLink(target) || !seen.has(target)) {
          throw new InvalidArgument(`invalid hardlink in build context: ${h.name} -> ${h.linkname}`);
        }
        try {
          linkSync(join(dir, target), path);
        } catch {
          throw new InvalidArgument(`invalid hardlink in build context: ${h.name} -> ${h.linkname}`);
        }
        // No known sum: a sum covers the file's own path (docker-sum.ts), so the checksum walk reads it.
        await drain();
        break;
      }
      default:
        // Devices, fifos: a build context has no use for them.
        return drain();
    }
    const [uid, gid] = this.owner(h);
    if (uid !== this.myUid || gid !== this.myGid) lchownSync(path, uid, gid);
    this.count++;
  }

  /** Directory modes and times last: writing children changes them, and a read-only directory would block its children. */
  finish(): void {
    for (const d of this.dirTimes.reverse()) {
      chmodSync(d.path, d.mode);
      utimesSync(d.path, d.mtime, d.mtime);
    }
    this.dirTimes.length = 0;
  }
}

/**
 * Extracts the tar into `dir`; or, given `memory` and while the context stays
 * small and plain (files and directories only), keeps it in memory and
 * writes nothing: a fully cached rebuild then never touches the disk.
 */
async function extractTar(stream: Readable, dir: string, digests?: Map<string, string>, memory?: MemoryLimits): Promise<{ files: number; tree?: MemTree }> {
  const w = new DiskWriter(dir, digests);
  let tree = memory ? new MemTree(dir, w) : undefined;
  const ex = tar.extract();
  const work = (async () => {
    for await (const entry of ex) {
      const h: Header = entry.header;
      if (tree) {
        if (tree.fits(h, memory!)) {
          const chunks: Buffer[] = [];
          for await (const c of entry) chunks.push(c as Buffer);
          tree.add(h, Buffer.concat(chunks));
          continue;
        }
        // Too big or not plain: everything so far goes to disk, and the rest after it.
        await tree.materialize();
        tree = undefined;
      }
      await w.write(h, entry);
    }
  })();
  work.catch((e) => ex.destroy(e));
  await Promise.all([pipeline(stream, ex as unknown as NodeJS.WritableStream), work]);
  if (tree) return { files: tree.size, tree };
  w.finish();
  return { files: w.count };
}
