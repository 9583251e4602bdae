import { closeSync, constants, createReadStream, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, type BigIntStats } from 'node:fs';
import { openDirBeneath } from './dirfd.js';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { log } from '../../common/log.js';
import { errorMessage } from '../../common/errors.js';
import { hostPathOf, type ContainerFs } from './resolve.js';
import { encodePathStat, goBase, resolveForRead, statPath, type PathStat } from './stat.js';

/**
 * A tar of a file or directory in a container, for `GET
 * /containers/{id}/archive`, with the stat that goes in its header. Entries are
 * named as Docker names them: the requested base name (`foo`, `foo/a`), `./a`
 * for a path ending in `/.` (the directory's content), `/a` for the root. A
 * symlink at the end of the path is archived as the link (`cp -L` is the
 * client's business); directories under it are walked across mount points,
 * so a volume's content appears where the container sees it.
 *
 *   const { stat, tar } = await readArchive(cfs, '/etc/.');
 *   res.setHeader('X-Docker-Container-Path-Stat', encodePathStat(stat));
 *   await pipeline(tar, res);
 */
export async function readArchive(cfs: ContainerFs, p: string): Promise<{ stat: PathStat; header: string; tar: Readable }> {
  const stat = await statPath(cfs, p);
  const { abs, resolved } = await resolveForRead(cfs, p);
  const rebase = goBase(abs);
  const pack = tar.pack();
  const walker = new TarWalker(cfs, pack);
  void (async () => {
    // The top entry is reached through its parent held open (or is a trusted mount root itself).
    const parent = resolved.rel === '' ? undefined : await openDirBeneath(resolved.base, path.posix.dirname(resolved.rel).replace(/^\.$/, ''));
    try {
      const at = parent ? parent.at(path.posix.basename(resolved.rel)) : resolved.base;
      await walker.add(resolved.ctr, rebase === '/' ? '' : rebase, at);
    } finally {
      await parent?.close();
    }
  })()
    .then(() => pack.finalize())
    .catch((err) => {
      log.warn('archive', 'tar of container path failed', { path: abs, error: errorMessage(err) });
      pack.destroy(err);
    });
  return { stat, header: encodePathStat(stat), tar: pack as unknown as Readable };
}

const noFollow = constants.O_RDONLY | constants.O_NOFOLLOW;

/**
 * Walks a tree through directory descriptors: each directory is opened with
 * O_NOFOLLOW from its parent's descriptor (`/proc/self/fd/N/name`), files
 * likewise, so a running container swapping a directory for a symlink to the
 * host mid-walk makes the open fail instead of archiving host files.
 * Syscalls are synchronous on purpose: each takes microseconds locally, and a
 * thread-pool round trip per file made small-file trees ten times slower than tar.
 */
class TarWalker {
  /** First name written for each multiply-linked inode, so later ones become hard links. */
  private inodes = new Map<string, string>();
  constructor(private cfs: ContainerFs, private pack: tar.Pack) {}

  /** Archives the object at `at` (a descriptor-relative or trusted path) as container path `ctr`, tar name `name`. */
  async add(ctr: string, name: string, at: string): Promise<void> {
    let st: BigIntStats;
    try {
      st = lstatSync(at, { bigint: true });
    } catch {
      return; // gone while walking (a running container), as tar would skip it
    }
    const base = { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), mtime: new Date(Number(st.mtimeMs)) };
    if (st.isDirectory()) {
      let fd: number;
      try {
        fd = openSync(at, noFollow | constants.O_DIRECTORY);
      } catch {
        return; // replaced by something else since the lstat
      }
      try {
        await this.entry({ ...base, name: (name || '') + '/', type: 'directory' });
        const dir = `/proc/self/fd/${fd}`;
        for (const child of this.children(ctr, dir)) {
          const childCtr = ctr === '/' ? '/' + child : ctr + '/' + child;
          const where = hostPathOf(this.cfs, childCtr);
          // A mount point is entered at its trusted host directory, not through the rootfs underneath.
          await this.add(childCtr, `${name}/${child}`, where.rel === '' ? where.base : `${dir}/${child}`);
        }
      } finally {
        closeSync(fd);
      }
      return;
    }
    if (st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.inodes.get(key);
      if (first !== undefined) {
        await this.entry({ ...base, name, type: 'link', linkname: first });
        return;
      }
      this.inodes.set(key, name);
    }
    if (st.isSymbolicLink()) {
      await this.entry({ ...base, name, type: 'symlink', linkname: readlinkSync(at) });
    } else if (st.isFile()) {
      const size = Number(st.size);
      let fd: number;
      try {
        fd = openSync(at, noFollow);
      } catch {
        return;
      }
      if (size <= 256 << 10) {
        // Small files in one read: a stream per file costs more than the file (and a 1 MiB buffer each).
        let data: Buffer;
        try {
          data = readFileSync(fd);
        } finally {
          closeSync(fd);
        }
        if (data.length !== size) throw new Error(`${name} changed size while being archived`);
        await new Promise<void>((resolve, reject) => this.pack.entry({ ...base, name, type: 'file', size }, data, (err) => (err ? reject(err) : resolve())));
      } else {
        const sink = this.pack.entry({ ...base, name, type: 'file', size });
        await pipeline(createReadStream('', { fd, highWaterMark: 1 << 20 }), sink as any);
      }
    } else if (st.isFIFO()) {
      await this.entry({ ...base, name, type: 'fifo' });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      await this.entry({ ...base, name, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
    }
    // Sockets are not archived (tar cannot hold them), as in Docker.
  }

  /** Directory entries in lexical order (filepath.Walk's), plus mount points the host directory may lack. */
  private children(ctr: string, dir: string): string[] {
    let listed: string[] = [];
    try {
      listed = readdirSync(dir);
    } catch {
      // unreadable or gone: archived as an empty directory
    }
    const names = new Set(listed);
    for (const m of this.cfs.mounts) {
      if (m.Type !== 'tmpfs' && path.posix.dirname(m.Destination) === ctr) names.add(path.posix.basename(m.Destination));
    }
    return [...names].sort();
  }

  private entry(h: Partial<tar.Header> & { name: string }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry(h, (err) => (err ? reject(err) : resolve()));
    });
  }
}

/** Linux's dev_t split (glibc's major()/minor()). */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}
