/**
 * COPY/ADD without a container: the files go straight into a layer tar that
 * the image store takes as it takes a pulled layer. This is what makes COPY
 * cheap (no container, no overlay mount of the result, one pass over the
 * sources).
 *
 *   const layer = copyLayer({
 *     targets: copyTargets(await ctx.resolve(['app/'], '/srv/', 'COPY'), '/srv/'),
 *     inline: [], dest: '/srv/', parentRoot, owner: { uid: 0, gid: 0 },
 *   });
 *   await engine.addLayer(parentId, layer, meta);
 *
 * Ownership: root unless `--chown`; modes kept unless `--chmod`. Parent
 * directories missing from the image are created 0755 (owned by the
 * `--chown` user, as the legacy builder does). ADD unpacks local tar archives
 * (plain, gzip, bzip2, xz) into the destination, keeping their ownership.
 */
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import tar from 'tar-stream';
type Headers = Partial<import('tar-stream').Header> & { name: string };
import { InvalidArgument } from '../../common/errors.js';
import { decompressStream } from '../layers/compression.js';
import { archiveKind } from './context/archive.js';
import { resolveInRoot, type CopyTarget } from './context/sources.js';
import type { InlineSource } from './dockerfile/instructions.js';

export interface CopyLayerOptions {
  targets: CopyTarget[];
  /** Heredoc sources (`COPY <<EOF /dst`). */
  inline: InlineSource[];
  /** The instruction's destination (absolute; a trailing `/` means a directory). */
  dest: string;
  /** The parent image's filesystem, mounted read-only: which directories exist already. */
  parentRoot: string;
  owner?: { uid: number; gid: number };
  /** `--chmod` as a number. */
  mode?: number;
  /** Directories to create if missing (WORKDIR). */
  dirs?: string[];
  /** ADD: unpack local archives. */
  unpackArchives?: boolean;
}

/**
 * Streams the layer; errors (an unreadable source) end the stream with that
 * error. `size()` counts the file bytes written so far (all of them once the
 * stream has ended).
 */
export function copyLayer(opts: CopyLayerOptions): Readable & { size(): number } {
  const pack = tar.pack();
  const out = new PassThrough();
  (pack as unknown as Readable).pipe(out);
  const writer = new LayerWriter(pack, opts);
  writer.write().then(
    () => pack.finalize(),
    (err) => out.destroy(err),
  );
  return Object.assign(out, { size: () => writer.bytes });
}

/** Files up to this size are read in one synchronous call. */
const SMALL_FILE = 1 << 20;

const strip = (p: string) => p.replace(/^\/+/, '').replace(/\/+$/, '');

class LayerWriter {
  /** Directories already in the layer or in the parent image. */
  private dirs = new Set<string>(['']);
  /** File bytes written, as a layer's unpacked size counts them. */
  bytes = 0;
  private readonly uid: number;
  private readonly gid: number;

  constructor(private pack: tar.Pack, private opts: CopyLayerOptions) {
    this.uid = opts.owner?.uid ?? 0;
    this.gid = opts.owner?.gid ?? 0;
  }

  async write(): Promise<void> {
    const { opts } = this;
    for (const d of opts.dirs ?? []) await this.ensureDir(await this.real(strip(d)));
    for (const t of opts.targets) {
      let dest = await this.real(strip(t.dest));
      if (t.src.isDir) {
        await this.ensureDir(dest);
        await this.copyTree(t.src.abs, dest);
        continue;
      }
      if (opts.unpackArchives && (await archiveKind(t.src.abs))) {
        // An archive unpacks into the destination itself, with or without a trailing slash.
        const into = await this.real(strip(opts.dest));
        await this.ensureDir(into);
        await this.unpack(t.src.abs, into);
        continue;
      }
      if (t.intoIfDir && (await this.isDirInParent(dest))) dest = posix.join(dest, posix.basename(t.src.abs));
      await this.ensureDir(posix.dirname(dest) === '.' ? '' : posix.dirname(dest));
      await this.copyEntry(t.src.abs, dest);
    }
    for (const f of opts.inline) {
      const intoDir = opts.dest.endsWith('/') || opts.inline.length + opts.targets.length > 1 || (await this.isDirInParent(strip(opts.dest)));
      const dest = await this.real(intoDir ? posix.join(strip(opts.dest), f.name) : strip(opts.dest));
      await this.ensureDir(posix.dirname(dest) === '.' ? '' : posix.dirname(dest));
      const data = Buffer.from(f.data);
      await this.entry({ name: dest, type: 'file', size: data.length, mode: opts.mode ?? 0o644, uid: this.uid, gid: this.gid, mtime: new Date() }, data);
    }
  }

  /**
   * `rel` with the symlinks of its existing part resolved in the image, so
   * COPY into `/bin/` of an image where `/bin -> usr/bin` lands in usr/bin
   * instead of shadowing the link with a directory.
   */
  private async real(rel: string): Promise<string> {
    const parts = rel.split('/').filter(Boolean);
    for (let i = parts.length; i > 0; i--) {
      const hit = await resolveInRoot(this.opts.parentRoot, parts.slice(0, i).join('/')).catch(() => undefined);
      if (hit === undefined) continue;
      const base = relative(this.opts.parentRoot, hit);
      return [base, ...parts.slice(i)].filter(Boolean).join('/');
    }
    return rel;
  }

  private async isDirInParent(rel: string): Promise<boolean> {
    if (this.dirs.has(rel)) return true;
    const st = await lstat(join(this.opts.parentRoot, rel)).catch(() => undefined);
    return !!st?.isDirectory();
  }

  /** Emits `rel` and its missing ancestors as directories. */
  private async ensureDir(rel: string): Promise<void> {
    if (rel === '' || rel === '.' || this.dirs.has(rel)) return;
    await this.ensureDir(posix.dirname(rel) === '.' ? '' : posix.dirname(rel));
    if (!(await this.isDirInParent(rel))) {
      await this.entry({ name: rel + '/', type: 'directory', mode: 0o755, uid: this.uid, gid: this.gid, mtime: new Date() });
    }
    this.dirs.add(rel);
  }

  private async copyTree(absDir: string, dest: string): Promise<void> {
    for (const name of readdirSync(absDir).sort()) {
      const abs = join(absDir, name);
      const rel = dest ? `${dest}/${name}` : name;
      const st = await this.copyEntry(abs, rel);
      if (st.isDirectory()) {
        this.dirs.add(rel);
        await this.copyTree(abs, rel);
      }
    }
  }

  /** One file, directory (without contents) or symlink of the source, as `rel` in the layer. */
  private async copyEntry(abs: string, rel: string) {
    // Plain syscalls for metadata and small files: an async fs call costs a thread-pool round
    // trip (~0.2 ms here), which made a 10,000-file COPY take many seconds. Big files stream.
    const st = lstatSync(abs);
    const mode = this.opts.mode ?? st.mode & 0o7777;
    const h: Headers = { name: rel, mode, uid: this.uid, gid: this.gid, mtime: st.mtime };
    if (st.isDirectory()) await this.entry({ ...h, name: rel + '/', type: 'directory' });
    else if (st.isSymbolicLink()) await this.entry({ ...h, type: 'symlink', linkname: readlinkSync(abs) });
    else if (st.isFile() && st.size <= SMALL_FILE) {
      const data = readFileSync(abs);
      await this.entry({ ...h, type: 'file', size: data.length }, data);
    } else if (st.isFile()) await this.entry({ ...h, type: 'file', size: st.size }, createReadStream(abs));
    // Sockets, fifos and devices in a context are skipped, as Docker's tar of the context never has them.
    return st;
  }

  /** ADD of a local archive: its entries, rebased under `dest`. */
  private async unpack(abs: string, dest: string): Promise<void> {
    const ex = tar.extract();
    const plain = decompressStream(createReadStream(abs));
    plain.on('error', (e) => ex.destroy(e));
    plain.pipe(ex);
    const under = (p: string) => {
      const clean = posix.normalize('/' + p).slice(1).replace(/\/+$/, '');
      return dest ? (clean ? `${dest}/${clean}` : dest) : clean;
    };
    for await (const e of ex) {
      const h = e.header;
      const name = under(h.name);
      if (name === '' || h.name.split('/').includes('..')) { e.resume(); continue; }
      await this.ensureDir(posix.dirname(name) === '.' ? '' : posix.dirname(name));
      const base = { name, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime };
      if (h.type === 'directory') {
        e.resume();
        await this.entry({ ...base, name: name + '/', type: 'directory' });
        this.dirs.add(name);
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        await this.entry({ ...base, type: 'file', size: h.size }, e as unknown as Readable);
      } else if (h.type === 'symlink') {
        e.resume();
        await this.entry({ ...base, type: 'symlink', linkname: h.linkname });
      } else if (h.type === 'link') {
        e.resume();
        await this.entry({ ...base, type: 'link', linkname: under(h.linkname ?? '') });
      } else {
        e.resume();
      }
    }
  }

  private entry(h: Headers, body?: Buffer | Readable): Promise<void> {
    if (h.type === 'file') this.bytes += h.size ?? 0;
    return new Promise((resolve, reject) => {
      if (body === undefined || Buffer.isBuffer(body)) {
        this.pack.entry(h as import('tar-stream').Header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
        return;
      }
      const w = this.pack.entry(h as import('tar-stream').Header, (err) => (err ? reject(err) : resolve()));
      body.on('error', (err) => { w.destroy(err); reject(err); });
      body.pipe(w as unknown as NodeJS.WritableStream);
    });
  }
}

/**
 * `--chown=user:group` to numeric IDs, names looked up in the image's
 * /etc/passwd and /etc/group. A user alone means the group of the same name
 * (or the same number), as the legacy builder reads it.
 */
export async function resolveChown(spec: string, root: string, readFile: (p: string) => Promise<string>): Promise<{ uid: number; gid: number }> {
  const [user, group = user] = spec.split(':');
  const lookup = async (file: string, name: string, what: string): Promise<number> => {
    if (/^\d+$/.test(name)) return Number(name);
    const text = await readFile(join(root, 'etc', file)).catch(() => '');
    for (const line of text.split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f.length > 2 && /^\d+$/.test(f[2])) return Number(f[2]);
    }
    throw new InvalidArgument(`unable to convert uid/gid chown string to host mapping: can't find ${what} for ${what === 'uid' ? 'user' : 'group'} ${name}: no such ${what === 'uid' ? 'user' : 'group'} in /etc/${file}`);
  };
  if (!user) throw new InvalidArgument(`invalid chown string: ${spec}`);
  return { uid: await lookup('passwd', user, 'uid'), gid: await lookup('group', group, 'gid') };
}
