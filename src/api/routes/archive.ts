import { pipeline } from 'node:stream/promises';
import { InvalidArgument, NotFound } from '../../common/errors.js';
import { readArchive } from '../../engine/archive/read.js';
import type { ContainerFs } from '../../engine/archive/resolve.js';
import { encodePathStat, PathNotFound, statPath } from '../../engine/archive/stat.js';
import { lookupUser } from '../../engine/archive/user.js';
import { writeArchive } from '../../engine/archive/write.js';
import type { MountPoint } from '../../engine/volumes/mounts.js';
import type { ApiContext, Router } from '../router.js';

/** A container's filesystem held mounted for one archive request. */
export interface MountedContainerFs {
  rootfs: string;
  mounts: MountPoint[];
  /** Container `User`, for `copyUIDGID=1`. */
  user?: string;
  /** HostConfig.ReadonlyRootfs. */
  readonlyRootfs?: boolean;
  /** Called once the request is done with the filesystem (e.g. unmount a stopped container's rootfs). */
  release(): Promise<void> | void;
}

export interface ArchiveRouteDeps {
  /** Mounts (or finds mounted) the container's rootfs; throws NotFound `No such container: x`. */
  rootfsOf(ref: string): Promise<MountedContainerFs>;
}

const statHeader = 'X-Docker-Container-Path-Stat';

/**
 * `GET`, `HEAD` and `PUT /containers/{id}/archive`: what `docker cp` uses in
 * both directions (and `docker cp -a`, `-L` through HEAD then GET).
 */
export function registerArchiveRoutes(r: Router, deps: ArchiveRouteDeps): void {
  r.head('/containers/:id/archive', (c) => withFs(c, deps, async (cfs, p) => {
    const s = await statPath(cfs, p);
    c.res.writeHead(200, { [statHeader]: encodePathStat(s), 'Content-Type': 'application/json' });
    c.res.end();
  }));

  r.get('/containers/:id/archive', (c) => withFs(c, deps, async (cfs, p) => {
    const { header, tar } = await readArchive(cfs, p);
    c.res.writeHead(200, { [statHeader]: header, 'Content-Type': 'application/x-tar' });
    await pipeline(tar, c.res);
  }));

  r.put('/containers/:id/archive', (c) => withFs(c, deps, async (cfs, p, held) => {
    // As Docker: `cp -a` owns files by the container's User; with no User the archive's own ids stay.
    const chown = c.flag('copyUIDGID') && held.user ? await lookupUser(cfs, held.user) : undefined;
    await writeArchive(cfs, p, c.req, { noOverwriteDirNonDir: c.flag('noOverwriteDirNonDir'), chown, readonlyRootfs: held.readonlyRootfs });
    c.empty(200);
  }));
}

async function withFs(c: ApiContext, deps: ArchiveRouteDeps, fn: (cfs: ContainerFs, path: string, held: MountedContainerFs) => Promise<void>): Promise<void> {
  const p = c.query.get('path');
  if (!p) throw new InvalidArgument('bad parameter: path cannot be empty');
  const held = await deps.rootfsOf(c.params.id);
  try {
    await fn({ rootfs: held.rootfs, mounts: held.mounts }, p, held);
  } catch (err) {
    if (err instanceof PathNotFound) throw new NotFound(`Could not find the file ${err.ctrPath} in container ${c.params.id}`);
    throw err;
  } finally {
    await held.release();
  }
}
