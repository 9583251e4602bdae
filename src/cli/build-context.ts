import { createReadStream, promises as fs } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import * as tar from 'tar-stream';

// The package is CommonJS whose types declare an ES default export.
const ignore = ((dockerignore as any).default ?? dockerignore) as typeof import('@balena/dockerignore').default;
type Ignore = ReturnType<typeof ignore>;

/**
 * The build context as the docker CLI sends it: the directory as a tar with
 * owner 0:0, `.dockerignore` applied (the Dockerfile and .dockerignore are sent
 * regardless), and a Dockerfile from outside the context (or stdin) added
 * under a generated name.
 *
 *   const ctx = await contextTar('.', { dockerfile: 'Dockerfile' });
 *   client.request('POST', '/build', { query: { dockerfile: ctx.dockerfile }, body: ctx.stream });
 */
export interface BuildContext {
  stream: Readable;
  /** The `dockerfile` query value: a path inside the tar. */
  dockerfile: string;
}

export async function contextTar(dir: string, opts: { dockerfile?: string; dockerfileText?: string }): Promise<BuildContext> {
  const root = resolve(dir);
  const st = await fs.stat(root).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`unable to prepare context: path "${dir}" not found`);

  let dockerfile = 'Dockerfile';
  let extra: { name: string; data: Buffer } | undefined;
  if (opts.dockerfileText !== undefined) {
    extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data: Buffer.from(opts.dockerfileText) };
    dockerfile = extra.name;
  } else if (opts.dockerfile) {
    const abs = resolve(opts.dockerfile);
    const rel = relative(root, abs);
    if (rel.startsWith('..') || rel === '') {
      const data = await fs.readFile(abs).catch(() => { throw new Error(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`); });
      extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, data };
      dockerfile = extra.name;
    } else dockerfile = rel.split(sep).join('/');
  }
  if (!extra) {
    await fs.stat(join(root, dockerfile)).catch(() => {
      throw new Error(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${join(root, dockerfile)}: no such file or directory`);
    });
  }

  const patterns = (await fs.readFile(join(root, '.dockerignore'), 'utf8').catch(() => ''))
    .split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const ig = ignore().add([...patterns, `!${dockerfile}`, '!.dockerignore']);
  const hasExceptions = patterns.some((p) => p.startsWith('!'));

  const pack = tar.pack();
  void (async () => {
    try {
      await walk(pack, root, '', ig, hasExceptions);
      if (extra) await addEntry(pack, { name: extra.name, type: 'file', size: extra.data.length, mode: 0o644, mtime: new Date(), uid: 0, gid: 0 }, extra.data);
      pack.finalize();
    } catch (e) {
      pack.destroy(e as Error);
    }
  })();
  return { stream: pack as unknown as Readable, dockerfile };
}

async function walk(pack: tar.Pack, root: string, rel: string, ig: Ignore, hasExceptions: boolean): Promise<void> {
  const names = (await fs.readdir(join(root, rel))).sort();
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    const full = join(root, path);
    const st = await fs.lstat(full);
    const ignored = ig.ignores(path);
    const base = { name: path, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
    if (st.isDirectory()) {
      // An ignored directory may still hold re-included files ("!dir/keep").
      if (ignored && !hasExceptions) continue;
      if (!ignored) await addEntry(pack, { ...base, name: `${path}/`, type: 'directory' });
      await walk(pack, root, path, ig, hasExceptions);
    } else if (ignored) {
      continue;
    } else if (st.isSymbolicLink()) {
      await addEntry(pack, { ...base, type: 'symlink', linkname: await fs.readlink(full) });
    } else if (st.isFile()) {
      await addFile(pack, { ...base, type: 'file', size: st.size }, full);
    }
  }
}

function addEntry(pack: tar.Pack, header: Partial<tar.Header>, data?: Buffer): Promise<void> {
  return new Promise((res, rej) => { pack.entry(header as tar.Header, data ?? Buffer.alloc(0), (err) => (err ? rej(err) : res())); });
}

function addFile(pack: tar.Pack, header: Partial<tar.Header>, path: string): Promise<void> {
  return new Promise((res, rej) => {
    const entry = pack.entry(header as tar.Header, (err) => (err ? rej(err) : res()));
    const src = createReadStream(path);
    src.on('error', rej);
    src.pipe(entry);
  });
}
