import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument, NotFound } from '../../common/errors.js';
import { readJson, writeJsonAtomic } from '../../common/atomic-file.js';

/** A volume as `GET /volumes/{name}` shows it. */
export interface Volume {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: 'local';
  /** Set once the image content at the first mount path was copied in (Docker's copy-up). */
  Initialized?: boolean;
}

export const anonymousLabel = 'com.docker.volume.anonymous';
const validVolumeName = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * Local volumes: a directory per volume under `<data-root>/volumes/<name>/_data`
 * with its metadata beside it in `volume.json` (written atomically).
 *
 *   const v = await volumes.create({ Name: 'dbdata' });
 *   v.Mountpoint   // /var/lib/berth/volumes/dbdata/_data
 */
export class VolumeStore {
  private byName = new Map<string, Volume>();

  constructor(readonly root: string) {}

  async load(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o701 });
    for (const name of await fs.readdir(this.root)) {
      const v = await readJson<Volume>(path.join(this.root, name, 'volume.json')).catch(() => undefined);
      if (v) this.byName.set(v.Name, v);
    }
  }

  all(): Volume[] {
    return [...this.byName.values()];
  }

  find(name: string): Volume | undefined {
    return this.byName.get(name);
  }

  get(name: string): Volume {
    const v = this.byName.get(name);
    if (!v) throw new NotFound(`get ${name}: no such volume`);
    return v;
  }

  /** Creates a volume; creating an existing name returns it unchanged, as Docker does. */
  async create(req: { Name?: string; Labels?: Record<string, string>; DriverOpts?: Record<string, string>; Driver?: string } = {}): Promise<Volume> {
    if (req.Driver && req.Driver !== 'local') throw new NotFound(`error looking up volume plugin ${req.Driver}: plugin "${req.Driver}" not found`);
    const anonymous = !req.Name;
    const name = req.Name || randomBytes(32).toString('hex');
    if (!validVolumeName.test(name)) {
      throw new InvalidArgument(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    }
    const existing = this.byName.get(name);
    if (existing) return existing;
    for (const k of Object.keys(req.DriverOpts ?? {})) {
      if (!['type', 'device', 'o'].includes(k)) throw new InvalidArgument(`invalid option key: "${k}"`);
    }
    const dir = path.join(this.root, name);
    const v: Volume = {
      Name: name, Driver: 'local', Mountpoint: path.join(dir, '_data'), CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Labels: { ...(req.Labels ?? {}), ...(anonymous ? { [anonymousLabel]: '' } : {}) }, Options: req.DriverOpts ?? {}, Scope: 'local',
    };
    await fs.mkdir(v.Mountpoint, { recursive: true, mode: 0o755 });
    await writeJsonAtomic(path.join(dir, 'volume.json'), v);
    this.byName.set(name, v);
    return v;
  }

  async markInitialized(v: Volume): Promise<void> {
    v.Initialized = true;
    await writeJsonAtomic(path.join(this.root, v.Name, 'volume.json'), v);
  }

  /** Deletes a volume; `usedBy` lists the containers that still reference it. */
  async remove(name: string, usedBy: string[], force = false): Promise<void> {
    const v = this.byName.get(name);
    if (!v) {
      if (force) return;
      throw new NotFound(`get ${name}: no such volume`);
    }
    if (usedBy.length > 0) throw new Conflict(`remove ${name}: volume is in use - [${usedBy.join(', ')}]`);
    this.byName.delete(name);
    const dir = path.join(this.root, name);
    // Drop the metadata first so a crash mid-delete never resurrects a half volume.
    await fs.rm(path.join(dir, 'volume.json'), { force: true });
    await fs.rm(dir, { recursive: true, force: true });
  }

  async size(v: Volume): Promise<number> {
    return dirSize(v.Mountpoint);
  }
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += (await fs.lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
