import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Resolves `p` inside the container root `root` the way the container itself
 * would see it: every symlink on the way is read and interpreted relative to
 * `root` (an absolute link target starts at `root`, `..` stops at `root`), so
 * the answer is always a path under `root`, never a way out of it.
 *
 *   await resolveInRoot('/var/lib/berth/rootfs/abc', '/etc/passwd')
 *   // → '/var/lib/berth/rootfs/abc/etc/passwd', even if etc/passwd is a
 *   //   symlink to ../../../etc/shadow: the link is followed inside the root
 *
 * Components that do not exist are appended as they are. The result can go
 * stale if the tree changes afterwards; callers only read from it.
 */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  const pending = splitPath(p);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.' || part === '') continue;
    if (part === '..') { done.pop(); continue; }
    const full = path.join(root, ...done, part);
    let target: string | undefined;
    try {
      const st = await fs.lstat(full);
      if (st.isSymbolicLink()) target = await fs.readlink(full);
    } catch (err: any) {
      if (err?.code !== 'ENOENT' && err?.code !== 'ENOTDIR') throw err;
    }
    if (target === undefined) { done.push(part); continue; }
    if (++links > 255) throw Object.assign(new Error(`too many levels of symbolic links: ${p}`), { code: 'ELOOP' });
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...splitPath(target));
  }
  return path.join(root, ...done);
}

/** Reads a file of the container, or returns undefined when it is missing. */
export async function readFileInRoot(root: string, p: string): Promise<string | undefined> {
  const real = await resolveInRoot(root, p);
  try {
    return await fs.readFile(real, 'utf8');
  } catch (err: any) {
    if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR' || err?.code === 'EISDIR') return undefined;
    throw err;
  }
}

function splitPath(p: string): string[] {
  return p.split('/').filter((s) => s.length > 0);
}
