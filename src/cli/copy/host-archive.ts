import { constants, promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import * as tar from 'tar-stream';
import { padding, tarEnd, tarHeader } from './tar-header.js';

/**
 * The host side of `berth cp`: a host path as the tar the archive API takes
 * (`PUT /containers/{id}/archive`), and a tar from `GET .../archive`
 * unpacked under a host directory. The tar comes from the container, so it is
 * not trusted: no entry lands outside `dir`, none is written through a
 * symlink, and links pointing out of `dir` are refused.
 *
 *   const tarIn = packHostPath('/src/dir', 'renamed');       // entries renamed/…
 *   await extractToHost(res, '/dst', { rename: { from: 'a', to: 'b' } });
 */
export function packHostPath(srcPath: string, rebaseName?: string): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  // A PassThrough keeps what it is given, so this path reads into fresh buffers.
  writeHostPath(srcPath, out, { rebaseName, reuseBuffers: false }).then(() => out.end(), (err) => out.destroy(err));
  return out;
}

const chunkSize = 256 << 10;

/**
 * Writes the tar of a host path straight into `out` (the PUT request) and
 * resolves with the bytes written; the caller ends `out`. With `reuseBuffers`
 * file data goes through two buffers used in turn, each reused only once
 * `out` has handed the previous bytes to the kernel: a fresh buffer per read
 * cost more in page faults than the copy itself (100 MiB: ~350 ms of system
 * time against ~80). Only for a sink that is done with a chunk when its write
 * callback runs (a socket, a file); not for a PassThrough.
 *
 *   const n = await writeHostPath('/src/dir', req, { rebaseName: 'renamed', reuseBuffers: true });
 */
export async function writeHostPath(srcPath: string, out: Writable, opts: { rebaseName?: string; reuseBuffers?: boolean } = {}): Promise<number> {
  const { dir, base } = splitPathDirEntry(srcPath);
  const top = opts.rebaseName ?? base;
  const bufs = [Buffer.allocUnsafeSlow(chunkSize), Buffer.allocUnsafeSlow(chunkSize)];
  const inflight: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  let slot = 0;
  let written = 0;
  let failed: Error | undefined;
  const put = (chunk: Buffer): Promise<void> => {
    if (failed) throw failed;
    written += chunk.length;
    return new Promise((resolve) => out.write(chunk, (err) => { if (err) failed ??= err; resolve(); }));
  };
  const putSmall = async (chunk: Buffer) => {
    const p = put(chunk);
    // Headers are fresh buffers: wait only when the sink wants us to.
    if (out.writableNeedDrain) await p;
  };
  const sendFile = async (abs: string, size: number) => {
    const fh = await fs.open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      let pos = 0;
      while (pos < size) {
        await inflight[slot];
        const buf = opts.reuseBuffers ? bufs[slot] : Buffer.allocUnsafe(chunkSize);
        const { bytesRead } = await fh.read(buf, 0, Math.min(chunkSize, size - pos), pos);
        if (bytesRead === 0) throw new Error(`${abs}: file shrank while being copied`);
        pos += bytesRead;
        inflight[slot] = put(buf.subarray(0, bytesRead));
        slot ^= 1;
      }
    } finally {
      await fh.close();
    }
    if (padding(size)) await putSmall(Buffer.alloc(padding(size)));
  };
  // Hard links are recorded as links to the first name seen with that inode, as tar does.
  const seen = new Map<string, string>();
  const add = async (abs: string, name: string): Promise<void> => {
    const st = await fs.lstat(abs);
    const common = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      await putSmall(tarHeader({ ...common, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' }));
      const children = (await fs.readdir(abs)).sort();
      for (const c of children) await add(path.join(abs, c), name === '.' ? `./${c}` : `${name.replace(/\/$/, '')}/${c}`);
      return;
    }
    const key = `${st.dev}:${st.ino}`;
    if (st.nlink > 1) {
      const first = seen.get(key);
      if (first !== undefined) return putSmall(tarHeader({ ...common, type: 'link', linkname: first }));
      seen.set(key, name);
    }
    if (st.isSymbolicLink()) return putSmall(tarHeader({ ...common, type: 'symlink', linkname: await fs.readlink(abs) }));
    if (st.isFile()) {
      await putSmall(tarHeader({ ...common, type: 'file', size: st.size }));
      return sendFile(abs, st.size);
    }
    if (st.isFIFO()) return putSmall(tarHeader({ ...common, type: 'fifo' }));
    // Sockets and device nodes are skipped, as Docker's archiver does for sockets.
  };
  await add(path.join(dir, base), top);
  await put(tarEnd);
  await Promise.all(inflight);
  if (failed) throw failed;
  return written;
}

/** Docker's SplitPathDirEntry: `a/b/` → (`a`, `b`); `a/b/.` → (`a/b`, `.`). */
export function splitPathDirEntry(p: string): { dir: string; base: string } {
  let cleaned = p;
  const dotEnd = /(^|\/)\.$/.test(p);
  cleaned = path.normalize(p);
  if (dotEnd) return { dir: cleaned, base: '.' };
  if (cleaned.length > 1) cleaned = cleaned.replace(/\/+$/, '');
  return { dir: path.dirname(cleaned), base: path.basename(cleaned) || '/' };
}

export interface ExtractOptions {
  /** Keep the archive's owners (`cp -a`); otherwise files belong to whoever runs `berth cp`. */
  preserveOwner?: boolean;
  /** Rename the top entry (copying `a` to a new name `b`). */
  rename?: { from: string; to: string };
}

/** Unpacks a tar under `dir`, refusing anything that would land outside it. */
export async function extractToHost(input: Readable, dir: string, opts: ExtractOptions = {}): Promise<void> {
  const root = path.resolve(dir);
  const ex = tar.extract();
  const dirs: { at: string; mode: number; mtime: Date; uid: number; gid: number }[] = [];
  const relOf = (name: string): string => {
    let rel = path.posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
    if (rel === '.') rel = '';
    if (opts.rename) {
      const { from, to } = opts.rename;
      // A directory's content (`dir/.`, entries `./a`) renamed lands under the new name.
      if (from === '.' || from === '/') rel = rel ? `${to}/${rel}` : to;
      else if (rel === from) rel = to;
      else if (rel.startsWith(`${from}/`)) rel = `${to}${rel.slice(from.length)}`;
    }
    if (rel === '..' || rel.startsWith('../')) throw new Error(`invalid archive entry ${JSON.stringify(name)}: outside the destination`);
    return rel;
  };
  const feeding = pipeline(input, ex);
  // Awaited on success; on a refused entry the loop's error is the one to report.
  feeding.catch(() => undefined);
  try {
    for await (const e of ex) {
      const h = e.header;
      const rel = relOf(h.name);
      const at = rel === '' ? root : path.join(root, rel);
      await refuseSymlinkParents(root, rel);
      const existing = await fs.lstat(at).catch(() => undefined);
      const isDir = h.type === 'directory';
      if (existing?.isDirectory() && !isDir) throw new Error(`cannot overwrite directory "${at}" with non-directory "${h.name}"`);
      if (existing && !existing.isDirectory() && isDir) throw new Error(`cannot overwrite non-directory "${at}" with directory "${h.name}"`);
      if (existing && !isDir) await fs.unlink(at);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date();
      const uid = h.uid ?? 0;
      const gid = h.gid ?? 0;
      switch (h.type) {
        case 'directory':
          if (!existing) await fs.mkdir(at, { mode: 0o700 });
          dirs.push({ at, mode, mtime, uid, gid });
          e.resume();
          break;
        case 'file':
        case 'contiguous-file': {
          const fh = await fs.open(at, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
          try {
            // Entries arrive in socket-sized chunks (64 KiB): gather them into 1 MiB writes, and
            // keep reading while they go (a few MiB ahead) so the daemon's stream never waits on the disk.
            let batch: Buffer[] = [];
            let size = 0;
            let queued = 0;
            let writing: Promise<void> = Promise.resolve();
            const flush = () => {
              const [b, n] = [batch, size];
              batch = [];
              size = 0;
              queued += n;
              writing = writing.then(() => writeAll(fh, b, n, at)).then(() => { queued -= n; });
              writing.catch(() => undefined); // reported where it is awaited
            };
            for await (const chunk of e) {
              batch.push(chunk as Buffer);
              size += (chunk as Buffer).length;
              if (size >= 1 << 20) flush();
              if (queued >= 8 << 20) await writing;
            }
            if (batch.length) flush();
            await writing;
            if (opts.preserveOwner) await fh.chown(uid, gid);
            await fh.chmod(mode);
            await fh.utimes(mtime, mtime);
          } finally {
            await fh.close();
          }
          break;
        }
        case 'symlink':
          e.resume();
          await fs.symlink(h.linkname ?? '', at);
          if (opts.preserveOwner) await fs.lchown(at, uid, gid);
          await fs.lutimes(at, mtime, mtime);
          break;
        case 'link': {
          e.resume();
          const target = relOf(h.linkname ?? '');
          await refuseSymlinkParents(root, target);
          await fs.link(path.join(root, target), at);
          break;
        }
        default:
          // Devices, fifos: a client cannot always make them; Docker's client skips what it cannot.
          e.resume();
      }
    }
    await feeding;
  } catch (err) {
    input.destroy();
    ex.destroy();
    throw err;
  }
  // Directories last and deepest first, so writing their content does not change their times.
  for (const d of dirs.reverse()) {
    if (opts.preserveOwner) await fs.lchown(d.at, d.uid, d.gid);
    await fs.chmod(d.at, d.mode);
    await fs.utimes(d.at, d.mtime, d.mtime);
  }
}

async function writeAll(fh: fs.FileHandle, batch: Buffer[], size: number, at: string): Promise<void> {
  const { bytesWritten } = await fh.writev(batch);
  if (bytesWritten !== size) throw new Error(`short write to ${at} (${bytesWritten} of ${size} bytes): disk full?`);
}

/** Throws if any directory between `root` and `rel` is a symlink (it could lead anywhere). */
async function refuseSymlinkParents(root: string, rel: string): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const p of parts) {
    cur = path.join(cur, p);
    const st: Stats | undefined = await fs.lstat(cur).catch(() => undefined);
    if (!st) throw new Error(`invalid archive entry ${rel}: ${cur}: no such directory`);
    if (st.isSymbolicLink()) throw new Error(`invalid archive entry ${rel}: ${cur} is a symbolic link`);
    if (!st.isDirectory()) throw new Error(`invalid archive entry ${rel}: ${cur} is not a directory`);
  }
}
