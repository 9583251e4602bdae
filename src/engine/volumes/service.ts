import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { InvalidArgument } from '../../common/errors.js';
import { secureJoin } from '../../common/securejoin.js';
import { log } from '../../common/log.js';
import type { SpecMount } from '../containers/ports.js';
import type { ContainerRecord } from '../containers/record.js';
import type { ContainerConfig, HostConfig } from '../containers/types.js';
import { matchLabel, type Filters } from '../containers/filters.js';
import { parseMountRequests, parseVolumesFrom, prepareBindSource, type MountPoint } from './mounts.js';
import { anonymousLabel, type Volume, type VolumeStore } from './store.js';

/**
 * Volumes and container mounts. At create it turns `-v`, `--mount`,
 * `--tmpfs`, image VOLUMEs and `--volumes-from` into concrete mount points
 * (creating named and anonymous volumes); at start it produces the OCI spec
 * mounts, first copying the image's content into a new volume as Docker does.
 *
 *   rec.Mounts = await volumes.resolveForContainer(config, hostConfig);
 *   spec.mounts.push(...await volumes.specMounts(rec.Mounts, rootfs));
 */
export class VolumeService {
  constructor(readonly store: VolumeStore, private containers: () => ContainerRecord[], private findContainer: (ref: string) => ContainerRecord) {}

  async resolveForContainer(config: ContainerConfig, host: HostConfig): Promise<MountPoint[]> {
    const requests = parseMountRequests(config, host);
    const taken = new Set(requests.filter((r) => !r.Anonymous || !config.Volumes?.[r.Destination]).map((r) => r.Destination));
    // --volumes-from: the other container's mounts, unless this one mounts something explicit there.
    const inherited: MountPoint[] = [];
    for (const spec of host.VolumesFrom ?? []) {
      const { ref, mode } = parseVolumesFrom(spec);
      const other = this.findContainer(ref);
      for (const m of (other.Mounts ?? []) as unknown as MountPoint[]) {
        if (taken.has(m.Destination)) continue;
        taken.add(m.Destination);
        inherited.push({ ...m, RW: mode ? mode === 'rw' : m.RW, Mode: mode ?? m.Mode });
      }
    }
    const out: MountPoint[] = [];
    const created: Volume[] = [];
    try {
      for (const r of requests) {
        if (r.Anonymous && inherited.some((m) => m.Destination === r.Destination)) continue;
        if (r.Type !== 'volume') {
          out.push(r);
          continue;
        }
        const existed = r.Name ? this.store.find(r.Name) : undefined;
        const v = existed ?? (await this.store.create(r.Name ? { Name: r.Name } : {}));
        if (!existed) created.push(v);
        const { Anonymous: _a, ...m } = r;
        out.push({ ...m, Name: v.Name, Source: v.Mountpoint });
      }
    } catch (err) {
      // Nothing half made: drop the volumes this request created.
      for (const v of created) await this.store.remove(v.Name, [], true).catch(() => undefined);
      throw err;
    }
    return [...out, ...inherited];
  }

  /** OCI mounts for a starting container; fills new volumes from the image first. */
  async specMounts(mounts: MountPoint[], rootfs: string): Promise<SpecMount[]> {
    const out: SpecMount[] = [];
    for (const m of mounts) {
      switch (m.Type) {
        case 'bind':
          await prepareBindSource(m);
          out.push({ destination: m.Destination, source: m.Source, type: 'bind', options: ['rbind', m.RW ? 'rw' : 'ro', m.Propagation || 'rprivate'] });
          break;
        case 'volume': {
          const v = m.Name ? this.store.find(m.Name) : undefined;
          if (!v) throw new InvalidArgument(`volume ${m.Name} is missing; it may have been removed`);
          if (!v.Initialized) {
            if (!m.NoCopy) await copyImageContent(rootfs, m.Destination, v.Mountpoint);
            await this.store.markInitialized(v);
          }
          let source = v.Mountpoint;
          if (m.Subpath) {
            source = await secureJoin(v.Mountpoint, m.Subpath);
            await fs.stat(source).catch(() => { throw new InvalidArgument(`cannot access path ${source}: no such file or directory (volume-subpath ${m.Subpath})`); });
          }
          out.push({ destination: m.Destination, source, type: 'bind', options: ['rbind', m.RW ? 'rw' : 'ro', 'rprivate'] });
          break;
        }
        case 'tmpfs':
          out.push({ destination: m.Destination, source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...(m.TmpfsOptions ?? []), m.RW ? 'rw' : 'ro'] });
          break;
      }
    }
    return out;
  }

  /** Removes the anonymous volumes of a removed container that no other container uses. */
  async releaseAnonymous(mounts: MountPoint[], exceptContainer: string): Promise<void> {
    for (const m of mounts) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const v = this.store.find(m.Name);
      if (!v || !(anonymousLabel in v.Labels)) continue;
      if (this.usersOf(v.Name).some((id) => id !== exceptContainer)) continue;
      await this.store.remove(v.Name, []).catch((err) => log.warn('volumes', 'could not remove anonymous volume', { name: v.Name, error: String(err) }));
    }
  }

  usersOf(name: string): string[] {
    return this.containers().filter((c) => ((c.Mounts ?? []) as unknown as MountPoint[]).some((m) => m.Type === 'volume' && m.Name === name)).map((c) => c.Id);
  }

  // ---- the /volumes API --------------------------------------------------

  view(v: Volume, withUsage = false): Record<string, unknown> {
    const { Initialized: _i, ...rest } = v;
    return withUsage ? { ...rest, UsageData: { Size: -1, RefCount: this.usersOf(v.Name).length } } : rest;
  }

  list(f: Filters): Volume[] {
    for (const k of Object.keys(f)) if (!['dangling', 'label', 'name', 'driver'].includes(k)) throw new InvalidArgument(`invalid filter '${k}'`);
    return this.store.all().filter((v) => {
      if (f.dangling?.length) {
        const want = ['true', '1'].includes(f.dangling[0]);
        if ((this.usersOf(v.Name).length === 0) !== want) return false;
      }
      if (f.name && !f.name.some((n) => v.Name.includes(n))) return false;
      if (f.driver && !f.driver.includes(v.Driver)) return false;
      if (f.label && !f.label.every((l) => matchLabel(v.Labels, l))) return false;
      return true;
    });
  }

  async remove(name: string, force = false): Promise<void> {
    await this.store.remove(name, this.usersOf(name), force);
  }

  /** Removes unused volumes: anonymous ones only, unless `all` (API ≥ 1.42 semantics). */
  async prune(f: Filters, all: boolean): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    const wantAll = all || (f.all ?? []).some((v) => v === 'true' || v === '1');
    for (const v of this.store.all()) {
      if (this.usersOf(v.Name).length > 0) continue;
      if (!wantAll && !(anonymousLabel in v.Labels)) continue;
      if (f.label && !f.label.every((l) => matchLabel(v.Labels, l))) continue;
      reclaimed += await this.store.size(v);
      await this.store.remove(v.Name, []);
      deleted.push(v.Name);
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
  }
}

/**
 * Docker's copy-up: a new volume mounted where the image has files starts
 * with a copy of them (ownership and modes kept). This module is the only
 * caller of `cp` for it.
 */
async function copyImageContent(rootfs: string, destination: string, volumeDir: string): Promise<void> {
  const src = await secureJoin(rootfs, destination);
  const st = await fs.stat(src).catch(() => undefined);
  if (!st?.isDirectory()) return;
  if ((await fs.readdir(volumeDir)).length > 0) return;
  // The volume's root takes the image directory's owner and mode too.
  await fs.chown(volumeDir, st.uid, st.gid);
  await fs.chmod(volumeDir, st.mode & 0o7777);
  if ((await fs.readdir(src)).length === 0) return;
  await new Promise<void>((resolve, reject) => {
    const p = spawn('cp', ['-a', '--', src + '/.', volumeDir + '/'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`copying image content into volume failed: ${err.trim()}`))));
  });
}
