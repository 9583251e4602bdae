/**
 * The client side of `berth build PATH`: walk the directory, drop what
 * .dockerignore excludes (but keep the Dockerfile and .dockerignore), and
 * stream a tar with owner 0:0 as the docker CLI sends it.
 *
 *   const { stream, files } = await packContext('/src/app', { dockerfile: 'Dockerfile' });
 *   stream.pipe(request);                       // POST /build
 *   process.stderr.write(sendingContextLine(bytesSent) + '\n');
 */
import { readFile } from 'node:fs/promises';
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { Header, Pack } from 'tar-stream';

type Headers = Partial<Header> & { name: string };

/** Files up to this size are read whole; larger ones are streamed. */
const SMALL_FILE = 1 << 20;
import { IgnoreRules, readIgnoreFile } from './dockerignore.js';

export interface PackOptions {
  /** Dockerfile path relative to the context (kept even if ignored). Default `Dockerfile`. */
  dockerfile?: string;
  /** Extra files to add at the root, e.g. a Dockerfile read from stdin. */
  extra?: { name: string; data: Buffer | string }[];
}

export interface PackedContext {
  /** The tar stream; errors while walking surface as stream errors. */
  stream: Readable;
  /** Context-relative paths included, in tar order (directories end with `/`). */
  files: string[];
}

/** Reads `.dockerignore` at the root of `dir`, if any. */
export async function loadIgnoreRules(dir: string): Promise<IgnoreRules> {
  try {
    return new IgnoreRules(readIgnoreFile(await readFile(join(dir, '.dockerignore'), 'utf8')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new IgnoreRules([]);
    throw e;
  }
}

interface Entry { rel: string; st: Stats }

/**
 * Lists what the context will contain, sorted like a directory walk. The
 * walk is synchronous: this runs in the CLI, and per-file async calls cost
 * far more than the syscalls themselves here.
 */
export async function walkContext(dir: string, rules: IgnoreRules): Promise<Entry[]> {
  const out: Entry[] = [];
  const walk = (relDir: string): void => {
    const names = readdirSync(join(dir, relDir)).sort();
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const st = lstatSync(join(dir, rel));
      const excluded = rules.excludes(rel);
      if (st.isDirectory()) {
        if (!excluded) out.push({ rel, st });
        // An excluded directory may still hold re-included (`!`) paths.
        if (!excluded || rules.hasExceptions) walk(rel);
      } else if (!excluded) {
        out.push({ rel, st });
      }
    }
  };
  walk('');
  return out;
}

/** Packs `dir` as a build context tar. */
export async function packContext(dir: string, opts: PackOptions = {}): Promise<PackedContext> {
  const rules = (await loadIgnoreRules(dir)).keepingBuildFiles(opts.dockerfile ?? 'Dockerfile');
  const entries = await walkContext(dir, rules);
  const pack = tar.pack();
  const files = entries.map((e) => (e.st.isDirectory() ? e.rel + '/' : e.rel));
  void (async () => {
    const seenInodes = new Map<string, string>();
    for (const { rel, st } of entries) {
      const base = { name: rel, mode: st.mode & 0o7777, uid: 0, gid: 0, uname: '', gname: '', mtime: st.mtime };
      if (st.isDirectory()) {
        await entry(pack, { ...base, type: 'directory' });
      } else if (st.isSymbolicLink()) {
        await entry(pack, { ...base, type: 'symlink', linkname: readlinkSync(join(dir, rel)) });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? seenInodes.get(key) : undefined;
        if (first) {
          await entry(pack, { ...base, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) seenInodes.set(key, rel);
        const header: Headers = { ...base, type: 'file', size: st.size };
        if (st.size <= SMALL_FILE) await entry(pack, header, readFileSync(join(dir, rel)));
        else await fileEntry(pack, header, join(dir, rel));
      }
      // Sockets, fifos and devices have no place in a build context; Docker skips them too.
    }
    for (const x of opts.extra ?? []) {
      const data = Buffer.isBuffer(x.data) ? x.data : Buffer.from(x.data);
      await entry(pack, { name: x.name, mode: 0o600, uid: 0, gid: 0, mtime: new Date(), type: 'file', size: data.length }, data);
    }
    pack.finalize();
  })().catch((e) => pack.destroy(e as Error));
  return { stream: pack as unknown as Readable, files };
}

function entry(pack: Pack, header: Headers, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
  });
}

function fileEntry(pack: Pack, header: Headers, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    const src = createReadStream(path);
    src.on('error', (e) => {
      sink.destroy(e);
      reject(e);
    });
    src.pipe(sink as unknown as NodeJS.WritableStream);
  });
}

/** Docker's units.HumanSize: decimal units, 4 significant digits (`2.56kB`, `18.83MB`). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(4))}${units[i]}`;
}

/** `Sending build context to Docker daemon  2.56kB` exactly as the docker CLI pads it. */
export function sendingContextLine(bytes: number): string {
  return `Sending build context to Docker daemon ${humanSize(bytes).padStart(8)}`;
}
