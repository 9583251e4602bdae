import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

const openDirFlags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * An open directory that later operations address through
 * `/proc/self/fd/N/<name>`: Node has no openat(2), and this is the same thing.
 * Because it is held open, a running container swapping one of its ancestors
 * for a symlink after we resolved the path cannot redirect us (the race of
 * CVE-2018-15664).
 *
 *   const d = await openDirBeneath(rootfs, 'etc/ssh');
 *   await fs.writeFile(d.at('sshd_config'), …); await d.close();
 */
export interface DirHandle {
  /** A path naming `name` inside this directory, `name` a single component. */
  at(name: string): string;
  close(): Promise<void>;
}

/**
 * Opens `base/rel` one component at a time with O_NOFOLLOW|O_DIRECTORY, so
 * every component is checked to be a real directory at the moment it is
 * entered. `base` is trusted (the rootfs or a mount source); a symlink
 * anywhere in `rel` fails with ELOOP/ENOTDIR instead of being followed.
 */
export async function openDirBeneath(base: string, rel: string): Promise<DirHandle> {
  let fh = await fs.open(base, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const part of rel.split('/').filter(Boolean)) {
      if (part === '..' || part === '.') throw new Error(`unexpected path component ${part} in ${rel}`);
      const next = await fs.open(`/proc/self/fd/${fh.fd}/${part}`, openDirFlags);
      await fh.close();
      fh = next;
    }
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
  return handle(fh);
}

/** Opens `name` inside `parent` as a directory, refusing a symlink there. */
export async function openChildDir(parent: DirHandle, name: string): Promise<DirHandle> {
  return handle(await fs.open(parent.at(name), openDirFlags));
}

function handle(fh: FileHandle): DirHandle {
  return {
    at: (name: string) => `/proc/self/fd/${fh.fd}/${name}`,
    close: () => fh.close(),
  };
}

/** Opens an existing directory itself without following a symlink at its name (for fchown/fchmod/futimes). */
export function openDirNoFollow(p: string): Promise<FileHandle> {
  return fs.open(p, openDirFlags);
}
