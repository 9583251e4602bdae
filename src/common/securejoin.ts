import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Resolves `unsafe` (a path as seen inside a container) to a host path under
 * `root`, following symlinks the way the container would — an absolute
 * link target is taken relative to `root`, `..` never climbs above it — so a
 * hostile symlink in an image or container cannot point us outside `root`.
 * Components that do not exist are appended as they are.
 *
 *   await secureJoin('/var/lib/berth/…/merged', '/etc/passwd')
 */
export async function secureJoin(root: string, unsafe: string): Promise<string> {
  const parts = unsafe.split('/').filter((p) => p && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, part);
    let st;
    try {
      st = await fs.lstat(candidate);
    } catch {
      resolved.push(part);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > 255) throw new Error(`too many levels of symbolic links resolving ${unsafe}`);
      const target = await fs.readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter((p) => p && p !== '.'));
      continue;
    }
    resolved.push(part);
  }
  return path.join(root, ...resolved);
}
