import { closeSync, constants, fchmodSync, fchownSync, futimesSync, lstatSync, mkdirSync, openSync, promises as fs, unlinkSync, writevSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { InvalidArgument } from '../../common/errors.js';
import { makeSpecialFile } from './mknod.js';
import type { FileHandle } from 'node:fs/promises';
import { openChildDir, openDirBeneath, openDirNoFollow, type DirHandle } from './dirfd.js';
import { hostPathOf, resolveInContainer, type ContainerFs, type ResolvedPath } from './resolve.js';
import { PathNotFound, absoluteCtrPath } from './stat.js';

export interface WriteArchiveOptions {
  /** Refuse to replace a directory with a non-directory or the reverse (`noOverwriteDirNonDir=1`). */
  noOverwriteDirNonDir?: boolean;
  /** `copyUIDGID=1`: own every entry by this user (the container's `User`) instead of the tar's ids. */
  chown?: { uid: number; gid: number };
  /** The container runs with `--read-only`: only its writable volumes may be written. */
  readonlyRootfs?: boolean;
}

/** Go's %q, near enough for paths. */
const q = (s: string) => JSON.stringify(s);

/**
 * Extracts a tar (plain or gzip) into a directory of a container for `PUT
 * /containers/{id}/archive`. The destination and the parent of every entry
 * are resolved in the container's scope — a symlink such as `/tmp/evil -> /`
 * or `-> /etc` leads to the container's `/` or `/etc`, never the host's — and
 * the entry itself is created without following a symlink at its name, so
 * nothing can be written outside the container's root and mounts. `..`
 * names, symlinks climbing out of the destination and hard links to outside
 * it are refused with Docker's messages.
 *
 *   await writeArchive(cfs, '/tmp', req, { noOverwriteDirNonDir: true });
 */
export async function writeArchive(cfs: ContainerFs, p: string, input: Readable, opts: WriteArchiveOptions = {}): Promise<void> {
  const abs = absoluteCtrPath(p);
  const dest = await resolveInContainer(cfs, abs, true);
  let st;
  try {
    st = await fs.lstat(dest.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new PathNotFound(abs);
    throw err;
  }
  if (!st.isDirectory()) throw new InvalidArgument('extraction point is not a directory');
  checkWritable(dest, opts);

  const ex = tar.extract();
  const source = await decompressed(input);
  source.on('error', (err) => ex.destroy(err));
  source.pipe(ex as any);
  const x = new Extractor(cfs, dest, opts);
  try {
    for await (const entry of ex) await x.entry(entry as unknown as TarEntry);
    await x.finish();
  } catch (err) {
    await x.abort();
    ex.destroy();
    input.resume();
    throw err;
  }
}

function checkWritable(r: ResolvedPath, opts: WriteArchiveOptions): void {
  if (r.mount && !r.mount.RW) throw new InvalidArgument('mounted volume is marked read-only');
  if (!r.mount && opts.readonlyRootfs) throw new InvalidArgument('container rootfs is marked read-only');
}

/**
 * Docker's DecompressStream for the formats a client sends here: gzip or plain
 * tar. The first chunk is peeked and put back, so a plain tar (what `cp`
 * sends) is parsed straight from the request, with no stream in between.
 */
async function decompressed(input: Readable): Promise<Readable> {
  const head = await peek(input);
  if (!head || head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return input;
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  return input.pipe(gunzip);
}

/** The stream's first chunk, left in the stream (undefined when it is empty). */
function peek(input: Readable): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error, chunk?: Buffer) => {
      input.off('readable', onReadable).off('end', onEnd).off('error', done);
      if (err) reject(err);
      else resolve(chunk);
    };
    const onReadable = () => {
      const chunk = input.read() as Buffer | null;
      if (chunk === null) return;
      input.unshift(chunk);
      done(undefined, chunk);
    };
    const onEnd = () => done();
    input.on('readable', onReadable).once('end', onEnd).once('error', done);
  });
}

type TarEntry = AsyncIterable<Buffer> & { header: tar.Header; resume(): void };

class Extractor {
  /** Open parent directories by container path; dropped whenever an entry replaces something. */
  private parents = new Map<string, { r: ResolvedPath; dir: DirHandle }>();
  private dirTimes: { ctr: string; mtime: Date }[] = [];

  constructor(private cfs: ContainerFs, private dest: ResolvedPath, private opts: WriteArchiveOptions) {}

  async entry(e: TarEntry): Promise<void> {
    const h = e.header;
    try {
      await this.create(e, h);
    } finally {
      e.resume();
    }
  }

  private async create(e: TarEntry, h: tar.Header): Promise<void> {
    // A name climbing out ("../x") normalizes with a leading ".." only when it was relative.
    if (path.posix.normalize(h.name).split('/')[0] === '..') throw new InvalidArgument(`${q(h.name)} is outside of ${q(this.dest.ctr)}`);
    const rel = path.posix.normalize('/' + h.name).replace(/^\/+/, '').replace(/\/+$/, '');
    if (rel === '' || rel === '.') return; // the destination itself: Docker leaves it as it is
    if (this.parents.size >= 256) await this.dropParents(); // bound the descriptors held
    const ctr = join(this.dest.ctr, rel);
    const parent = await this.parent(path.posix.dirname(ctr));
    checkWritable(parent.r, this.opts);
    const name = path.posix.basename(ctr);
    const entryCtr = join(parent.r.ctr, name);
    const where = hostPathOf(this.cfs, entryCtr);
    checkWritable({ ctr: entryCtr, ...where }, this.opts);
    const uid = this.opts.chown?.uid ?? h.uid ?? 0;
    const gid = this.opts.chown?.gid ?? h.gid ?? 0;
    const mode = (h.mode ?? 0o644) & 0o7777;
    if (where.rel === '') {
      // The entry is a mount point itself (a `data/` entry over a volume at /data): only a directory fits there.
      if (h.type !== 'directory') throw new InvalidArgument(`cannot overwrite directory ${q(entryCtr)} with non-directory ${q(this.dest.ctr)}`);
      setDirAttrs(where.host, uid, gid, mode);
      this.dirTimes.push({ ctr: entryCtr, mtime: h.mtime ?? new Date() });
      return;
    }
    // From here on every operation goes through the held parent directory.
    const at = parent.dir.at(name);

    let existing: Stats | undefined;
    try {
      existing = lstatSync(at);
    } catch {
      existing = undefined;
    }
    if (existing) {
      const isDir = h.type === 'directory';
      if (this.opts.noOverwriteDirNonDir && existing.isDirectory() && !isDir) throw new InvalidArgument(`cannot overwrite directory ${q(ctr)} with non-directory ${q(this.dest.ctr)}`);
      if (this.opts.noOverwriteDirNonDir && !existing.isDirectory() && isDir) throw new InvalidArgument(`cannot overwrite non-directory ${q(ctr)} with directory ${q(this.dest.ctr)}`);
      if (existing.isDirectory() && !isDir) {
        await fs.rm(at, { recursive: true, force: true });
      } else if (!existing.isDirectory()) {
        unlinkSync(at);
      }
      // Cached parents resolved through a replaced directory or symlink are stale now.
      if ((existing.isDirectory() && !isDir) || existing.isSymbolicLink()) await this.dropParents(parent);
    }

    const t = h.mtime ?? new Date();
    switch (h.type) {
      case 'directory':
        if (!existing?.isDirectory()) mkdirSync(at, { mode: 0o700 });
        setDirAttrs(at, uid, gid, mode);
        this.dirTimes.push({ ctr: entryCtr, mtime: t });
        return;
      case 'file':
      case 'contiguous-file': {
        if (h.size <= 256 << 10) {
          // Small files: gather the content, then a few synchronous syscalls (microseconds each)
          // instead of a thread-pool round trip per call, which made small-file trees crawl.
          const chunks: Buffer[] = [];
          for await (const chunk of e) chunks.push(chunk);
          const fd = openSync(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
          try {
            if (chunks.length) writevSync(fd, chunks);
            fchownSync(fd, uid, gid);
            fchmodSync(fd, mode);
            futimesSync(fd, t, t);
          } finally {
            closeSync(fd);
          }
          return;
        }
        const fh = await fs.open(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          // Tar chunks are small (tens of KiB): gather them into larger writes.
          let batch: Buffer[] = [];
          let size = 0;
          for await (const chunk of e) {
            batch.push(chunk);
            size += chunk.length;
            if (size >= 1 << 20) {
              await fh.writev(batch);
              batch = [];
              size = 0;
            }
          }
          if (batch.length) await fh.writev(batch);
          // On the descriptor, so nothing swapped in at the name can be chowned or chmodded instead.
          await fh.chown(uid, gid);
          await fh.chmod(mode);
          await fh.utimes(t, t);
        } finally {
          await fh.close();
        }
        return;
      }
      case 'symlink': {
        // Docker's rule: a link resolved beside its entry must stay under the destination.
        const target = path.posix.join(path.posix.dirname(ctr), h.linkname);
        if (!h.linkname.startsWith('/') && !within(this.dest.ctr, target)) throw new InvalidArgument(`invalid symlink ${q(ctr)} -> ${q(h.linkname)}`);
        await fs.symlink(h.linkname, at);
        await fs.lchown(at, uid, gid);
        await fs.lutimes(at, t, t).catch(() => undefined);
        await this.dropParents(parent);
        return;
      }
      case 'link': {
        if (path.posix.normalize(h.linkname).split('/')[0] === '..') throw new InvalidArgument(`invalid hardlink ${q(ctr)} -> ${q(h.linkname)}`);
        const targetCtr = join(this.dest.ctr, path.posix.normalize('/' + h.linkname).slice(1));
        const tparent = await this.parent(path.posix.dirname(targetCtr));
        // link(2) does not follow a symlink at the source name; a hard link shares its target's owner, mode and times.
        await fs.link(tparent.dir.at(path.posix.basename(targetCtr)), at);
        return;
      }
      case 'fifo':
      case 'character-device':
      case 'block-device': {
        await makeSpecialFile(at, h.type, h.devmajor, h.devminor);
        await fs.lchown(at, uid, gid);
        // No lchmod on Linux: check it is still what we made before chmod follows the name.
        const st = await fs.lstat(at);
        if (!st.isSymbolicLink()) await fs.chmod(at, mode);
        await fs.utimes(at, t, t).catch(() => undefined);
        return;
      }
      default:
        return; // pax/gnu metadata entries are consumed by the parser; anything else is skipped as Docker does
    }
  }

  /** Resolves, creates if missing (0755 like Docker's MkdirAll) and holds open the parent directory of an entry. */
  private async parent(ctrDir: string): Promise<{ r: ResolvedPath; dir: DirHandle }> {
    const hit = this.parents.get(ctrDir);
    if (hit) return hit;
    const r = await resolveInContainer(this.cfs, ctrDir, true);
    const st = await fs.lstat(r.host).catch(() => undefined);
    if (!st) {
      checkWritable(r, this.opts);
      await this.mkdirAll(r);
    } else if (!st.isDirectory()) {
      throw new InvalidArgument(`cannot extract into ${q(ctrDir)}: not a directory`);
    }
    const got = { r, dir: await openDirBeneath(r.base, r.rel) };
    this.parents.set(ctrDir, got);
    return got;
  }

  /** Creates the missing tail of a resolved path, one component at a time beneath its trusted base. */
  private async mkdirAll(r: ResolvedPath): Promise<void> {
    const parts = r.rel.split('/').filter(Boolean);
    let dir = await openDirBeneath(r.base, '');
    try {
      for (const part of parts) {
        await fs.mkdir(dir.at(part), { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'EEXIST') throw err; });
        const next = await openChildDir(dir, part);
        await dir.close();
        dir = next;
      }
    } finally {
      await dir.close();
    }
  }

  /** Forgets cached parents (a path below them may now be a symlink), keeping `keep` — the directory just written in. */
  private async dropParents(keep?: { r: ResolvedPath; dir: DirHandle }): Promise<void> {
    for (const [k, p] of this.parents) {
      if (p === keep) continue;
      await p.dir.close().catch(() => undefined);
      this.parents.delete(k);
    }
  }

  /** Directory times last (writing into a directory changes its mtime), each reopened without following links. */
  async finish(): Promise<void> {
    await this.dropParents();
    for (const d of this.dirTimes.reverse()) {
      try {
        const r = hostPathOf(this.cfs, d.ctr);
        const parentRel = path.posix.dirname(r.rel);
        const fh = r.rel === '' ? await openDirNoFollow(r.host) : await openAndRun(r.base, parentRel === '.' ? '' : parentRel, path.posix.basename(r.rel));
        try { await fh.utimes(d.mtime, d.mtime); } finally { await fh.close(); }
      } catch {
        // Removed or replaced by a later entry: nothing to stamp.
      }
    }
  }

  async abort(): Promise<void> {
    await this.dropParents();
  }

}

async function openAndRun(base: string, rel: string, name: string): Promise<FileHandle> {
  const d = await openDirBeneath(base, rel);
  try {
    return await openDirNoFollow(d.at(name));
  } finally {
    await d.close();
  }
}

/** Owner and mode of a directory, set through a descriptor opened without following a symlink. */
function setDirAttrs(p: string, uid: number, gid: number, mode: number): void {
  const fd = openSync(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchownSync(fd, uid, gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

function join(dir: string, rel: string): string {
  return dir === '/' ? '/' + rel : dir + '/' + rel;
}

function within(dir: string, p: string): boolean {
  return dir === '/' || p === dir || p.startsWith(dir + '/');
}
