import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { createTarStream, unmount } from '../../src/engine/layers/host-tools.js';

/** A tar entry for makeTar: a header plus optional content and pax records (xattrs). */
export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  body?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  mtime?: Date;
  pax?: Record<string, string>;
}

/** Builds a tar archive in memory (fixed mtimes, so equal entries give equal bytes). */
export async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => { for await (const c of pack as unknown as Readable) chunks.push(c as Buffer); })();
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    await new Promise<void>((resolve, reject) => pack.entry({
      name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0,
      mtime: e.mtime ?? new Date(1_700_000_000_000), size: (e.type ?? 'file') === 'file' ? body.length : 0, linkname: e.linkname,
      devmajor: e.devmajor, devminor: e.devminor, pax: e.pax,
    } as any, (e.type ?? 'file') === 'file' ? body : Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export function sha256(buf: Buffer): string {
  return 'sha256:' + createHash('sha256').update(buf).digest('hex');
}

/** A temp data root; `cleanup` unmounts whatever is mounted below it, then deletes it. */
export async function tempRoot(prefix = 'berth-img-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    dir,
    cleanup: async () => {
      const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
      const mine = info.split('\n').map((l) => l.split(' ')[4]).filter((m) => m && (m === dir || m.startsWith(dir + '/')));
      for (const m of mine.sort((a, b) => b.length - a.length)) await unmount(m).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Describes a directory tree as GNU tar sees it (type, mode, owner, mtime,
 * link target, device numbers, xattrs, content hash), one line per entry, so
 * two trees can be compared exactly.
 */
export async function describeTree(dir: string): Promise<string[]> {
  const { stream, done } = createTarStream(dir);
  const ex = tar.extract();
  stream.pipe(ex);
  const out: string[] = [];
  for await (const entry of ex) {
    const h: any = entry.header;
    const hash = createHash('sha256');
    for await (const c of entry) hash.update(c as Buffer);
    // The root of an unpacked layer is made by us, not by the tar: its mtime is when.
    if (h.name === './' && h.type === 'directory') h.mtime = undefined;
    const xattrs = Object.entries(h.pax ?? {}).filter(([k]) => k.startsWith('SCHILY.xattr.')).map(([k, v]) => `${k}=${v}`).sort().join(',');
    out.push([h.name.replace(/\/$/, ''), h.type, (h.mode ?? 0).toString(8), h.uid, h.gid, h.mtime?.getTime(), h.linkname ?? '', h.devmajor ?? '', h.devminor ?? '', xattrs, h.type === 'file' ? hash.digest('hex').slice(0, 16) : ''].join(' '));
  }
  await done;
  return out;
}
