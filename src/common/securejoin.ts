import { promises as fs, lstatSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';

/**
 * What a path component on the host is: missing (`null`), not a symlink
 * (`undefined`), or a symlink to the returned target.
 */
type LinkInfo = string | null | undefined;

/**
 * The walk shared by secureJoin and secureJoinSync: yields each candidate
 * host path and takes back what it is, so the same rules drive sync and
 * async file system calls.
 */
function* joinSteps(root: string, unsafe: string): Generator<string, string, LinkInfo> {
  const parts = unsafe.split('/').filter((p) => p && p !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const target = yield path.join(root, ...resolved, part);
    if (typeof target === 'string') {
      if (++links > 255) throw new Error(`too many levels of symbolic links resolving ${unsafe}`);
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/').filter((p) => p && p !== '.'));
      continue;
    }
    // A component that does not exist is appended as it is.
    resolved.push(part);
  }
  return path.join(root, ...resolved);
}

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
  const walk = joinSteps(root, unsafe);
  let step = walk.next();
  while (!step.done) {
    let info: LinkInfo;
    try {
      info = (await fs.lstat(step.value)).isSymbolicLink() ? await fs.readlink(step.value) : undefined;
    } catch {
      info = null;
    }
    step = walk.next(info);
  }
  return step.value;
}

/** secureJoin with synchronous calls, for code that already runs off the event loop (a worker thread). */
export function secureJoinSync(root: string, unsafe: string): string {
  const walk = joinSteps(root, unsafe);
  let step = walk.next();
  while (!step.done) {
    let info: LinkInfo;
    try {
      info = lstatSync(step.value).isSymbolicLink() ? readlinkSync(step.value) : undefined;
    } catch {
      info = null;
    }
    step = walk.next(info);
  }
  return step.value;
}
