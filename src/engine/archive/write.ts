import { constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { InvalidArgument } from '../../common/errors.js';
import { makeSpecialFile } from './mknod.js';
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
    ex.destroy();
    input.resume();
    throw err;
  }
}

function checkWritable(r: ResolvedPath, opts: WriteArchiveOptions): void {
  if (r.mount && !r.mount.RW) throw new InvalidArgument('mounted volume is marked read-only');
  if (!r.mount && opts.readonlyRootfs) throw new InvalidArgument('container rootfs is marked read-only');
}

/** Docker's DecompressStream for the formats a client sends here: gzip or plain tar. */
async function decompressed(input: Readable): Promise<Readable> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  async function* all() {
    if (!first.done) yield first.value as Buffer;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      yield n.value as Buffer;
    }
  }
  const plain = Readable.from(all(), { objectMode: false });
  const head = first.done ? undefined : (first.value as Buffer);
  if (!head || head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return plain;
  const gunzip = createGunzip();
  plain.on('error', (err) => gunzip.destroy(err));
  return plain.pipe(gunzip);
}

type TarEntry = AsyncIterable<Buffer> & { header: tar.Header; resume(): void };

class Extractor {
  /** Resolved parent directories by container path; dropped whenever an entry replaces something. */
  private parents = new Map<string, ResolvedPath>();
  private dirTimes: { host: string; mtime: Date }[] = [];

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
    const rel = path.posix.normalize('/' + h.name.replace(/^(\.\/)+/, '')).replace(/^\/+/, '').replace(/\/+$/, '');
    // A name climbing out ("../x") normalizes with a leading ".." only when it was relative.
    if (path.posix.normalize(h.name).split('/')[0] === '..') throw new InvalidArgument(`${q(h.name)} is outside of ${q(this.dest.ctr)}`);
    if (rel === '' || rel === '.') return; // the destination itself: Docker leaves it as it is
    const ctr = join(this.dest.ctr, rel);
    const parent = await this.parent(path.posix.dirname(ctr));
    checkWritable(parent, this.opts);
    // The entry may itself be a mount point (a `data/` entry over a volume at /data).
    const entry = join(parent.ctr, path.posix.basename(ctr));
    const { host, mount } = hostPathOf(this.cfs, entry);
    checkWritable({ ctr: entry, host, mount }, this.opts);

    const existing = await fs.lstat(host).catch(() => undefined);
    if (existing) {
      const isDir = h.type === 'directory';
      if (this.opts.noOverwriteDirNonDir && existing.isDirectory() && !isDir) throw new InvalidArgument(`cannot overwrite directory ${q(ctr)} with non-directory ${q(this.dest.ctr)}`);
      if (this.opts.noOverwriteDirNonDir && !existing.isDirectory() && isDir) throw new InvalidArgument(`cannot overwrite non-directory ${q(ctr)} with directory ${q(this.dest.ctr)}`);
      if (!(existing.isDirectory() && isDir)) {
        await fs.rm(host, { recursive: true, force: true });
        this.parents.clear();
      }
    }

    const uid = this.opts.chown?.uid ?? h.uid ?? 0;
    const gid = this.opts.chown?.gid ?? h.gid ?? 0;
    const mode = (h.mode ?? 0o644) & 0o7777;
    switch (h.type) {
      case 'directory':
        if (!existing?.isDirectory()) await fs.mkdir(host, { mode: 0o700 });
        this.dirTimes.push({ host, mtime: h.mtime ?? new Date() });
        break;
      case 'file':
      case 'contiguous-file': {
        const fd = await fs.open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          // Tar chunks are small (tens of KiB): gather them into larger writes.
          let batch: Buffer[] = [];
          let size = 0;
          for await (const chunk of e) {
            batch.push(chunk);
            size += chunk.length;
            if (size >= 1 << 20) {
              await fd.writev(batch);
              batch = [];
              size = 0;
            }
          }
          if (batch.length) await fd.writev(batch);
        } finally {
          await fd.close();
        }
        break;
      }
      case 'symlink': {
        // Docker's rule: a link resolved beside its entry must stay under the destination.
        const target = path.posix.join(path.posix.dirname(ctr), h.linkname);
        if (!h.linkname.startsWith('/') && !within(this.dest.ctr, target)) throw new InvalidArgument(`invalid symlink ${q(ctr)} -> ${q(h.linkname)}`);
        await fs.symlink(h.linkname, host);
        this.parents.clear();
        await fs.lchown(host, uid, gid);
        const t = h.mtime ?? new Date();
        await fs.lutimes(host, t, t).catch(() => undefined);
        return;
      }
      case 'link': {
        if (path.posix.normalize(h.linkname).split('/')[0] === '..') throw new InvalidArgument(`invalid hardlink ${q(ctr)} -> ${q(h.linkname)}`);
        const targetCtr = join(this.dest.ctr, path.posix.normalize('/' + h.linkname).slice(1));
        const tparent = await this.parent(path.posix.dirname(targetCtr));
        await fs.link(path.join(tparent.host, path.posix.basename(targetCtr)), host);
        return; // a hard link shares its target's inode: owner, mode and times are the target's
      }
      case 'fifo':
      case 'character-device':
      case 'block-device':
        await makeSpecialFile(host, h.type, h.devmajor, h.devminor);
        break;
      default:
        return; // pax/gnu metadata entries are consumed by the parser; anything else is skipped as Docker does
    }
    await fs.lchown(host, uid, gid);
    await fs.chmod(host, mode);
    if (h.type !== 'directory') {
      const t = h.mtime ?? new Date();
      await fs.utimes(host, t, t);
    }
  }

  /** Resolves (and creates, 0755 like Docker's MkdirAll) the parent directory of an entry. */
  private async parent(ctrDir: string): Promise<ResolvedPath> {
    const hit = this.parents.get(ctrDir);
    if (hit) return hit;
    const r = await resolveInContainer(this.cfs, ctrDir, true);
    const st = await fs.lstat(r.host).catch(() => undefined);
    if (!st) {
      checkWritable(r, this.opts);
      await fs.mkdir(r.host, { recursive: true, mode: 0o755 });
    } else if (!st.isDirectory()) {
      throw new InvalidArgument(`cannot extract into ${q(ctrDir)}: not a directory`);
    }
    this.parents.set(ctrDir, r);
    return r;
  }

  /** Directory times last: writing into a directory changes its mtime. */
  async finish(): Promise<void> {
    for (const d of this.dirTimes.reverse()) await fs.utimes(d.host, d.mtime, d.mtime).catch(() => undefined);
  }
}

function join(dir: string, rel: string): string {
  return dir === '/' ? '/' + rel : dir + '/' + rel;
}

function within(dir: string, p: string): boolean {
  return dir === '/' || p === dir || p.startsWith(dir + '/');
}
