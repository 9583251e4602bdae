import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Conflict, NotFound } from '../../common/errors.js';
import { readJson, writeJsonAtomic } from '../../common/atomic-file.js';
import { isMountPoint, mountBind, mountBindReadonly, mountOverlay, unmount } from './host-tools.js';

export type SnapshotKind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  key: string;
  kind: SnapshotKind;
  parent?: string;
  /** Bytes of file content the layer added (set by whoever fills it). */
  size?: number;
  created: string;
}

interface Record extends SnapshotInfo { id: string; link: string }

/** How to mount a snapshot: what `mount -t overlay` (or a bind) needs. */
export interface MountSpec {
  type: 'overlay' | 'bind';
  /** Lower dirs as short paths relative to `cwd`, top-most first. */
  lowerdirs: string[];
  upperdir?: string;
  workdir?: string;
  /** Directory the mount must be issued from so relative lowerdirs resolve. */
  cwd: string;
  /** For bind mounts: the directory to bind. */
  source?: string;
  readonly: boolean;
}

/**
 * How a metadata change is written. `durable: false` skips the fsyncs (the
 * record is still replaced atomically, so a crashed daemon finds the old or
 * the new one): for a batch of changes the caller seals with one sync()
 * before anything durable refers to them. Each fsync here waited 70-150 ms
 * for ext4's journal while a pull was writing layers.
 */
export interface SaveOptions { durable?: boolean }

/**
 * Snapshotter keeps filesystem layers as overlay directories, in the shape of
 * containerd's snapshotter: an *active* snapshot is writable (its `fs` is the
 * overlay upper dir), *committing* it freezes it under a name other snapshots
 * can use as parent, a *view* is a read-only stack. Every snapshot gets a short
 * link under `<root>/overlay/l/` so a 100-layer lowerdir list fits the
 * one-page limit on mount options.
 *
 *   await sn.prepare('extract-1', parentChainId);   // empty upper over parent
 *   await extractTarFile(blob, sn.dir('extract-1'));
 *   await sn.commit(chainId, 'extract-1');
 *   await sn.prepare('container-abc', chainId);
 *   await sn.mount('container-abc', target);
 */
export class Snapshotter {
  private records = new Map<string, Record>();
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly root: string) {}

  static async open(dataRoot: string): Promise<Snapshotter> {
    const root = path.join(dataRoot, 'overlay');
    await fs.mkdir(path.join(root, 'snapshots'), { recursive: true });
    await fs.mkdir(path.join(root, 'l'), { recursive: true });
    const sn = new Snapshotter(root);
    const saved = await readJson<{ snapshots: Record[] }>(path.join(root, 'snapshots.json'));
    for (const r of saved?.snapshots ?? []) sn.records.set(r.key, r);
    await sn.collectOrphans();
    return sn;
  }

  /** Serialises metadata changes so concurrent callers never lose an update. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** True while a change was saved without fsync (see SaveOptions): sync() owes a durable save. */
  private unsynced = false;

  private async save(opts: SaveOptions = {}): Promise<void> {
    const durable = opts.durable ?? true;
    await writeJsonAtomic(path.join(this.root, 'snapshots.json'), { snapshots: [...this.records.values()] }, { durable });
    this.unsynced = !durable;
  }

  /** Makes every change saved so far with `durable: false` survive a power loss. */
  sync(): Promise<void> {
    return this.locked(async () => { if (this.unsynced) await this.save(); });
  }

  /** Directories left by a crash between mkdir and the metadata write. */
  private async collectOrphans(): Promise<void> {
    const known = new Set([...this.records.values()].map((r) => r.id));
    for (const id of await fs.readdir(path.join(this.root, 'snapshots'))) {
      if (known.has(id)) continue;
      const merged = path.join(this.root, 'snapshots', id, 'merged');
      if (await isMountPoint(merged).catch(() => false)) continue;
      await fs.rm(path.join(this.root, 'snapshots', id), { recursive: true, force: true });
    }
    const links = new Set([...this.records.values()].map((r) => r.link));
    for (const l of await fs.readdir(path.join(this.root, 'l'))) {
      if (!links.has(l)) await fs.rm(path.join(this.root, 'l', l), { force: true });
    }
  }

  private get(key: string): Record {
    const r = this.records.get(key);
    if (!r) throw new NotFound(`snapshot ${key} does not exist`);
    return r;
  }

  stat(key: string): SnapshotInfo | undefined {
    const r = this.records.get(key);
    return r && { key: r.key, kind: r.kind, parent: r.parent, size: r.size, created: r.created };
  }

  list(): SnapshotInfo[] {
    return [...this.records.keys()].map((k) => this.stat(k)!);
  }

  /** The writable directory of an active snapshot (the overlay upper dir). */
  dir(key: string): string {
    return path.join(this.root, 'snapshots', this.get(key).id, 'fs');
  }

  /** Where `mount` puts the snapshot's merged view. */
  mountPoint(key: string): string {
    return path.join(this.root, 'snapshots', this.get(key).id, 'merged');
  }

  /** Lower dirs of a chain ending at `key`, top-most first, as paths relative to the root. */
  private lowers(key: string | undefined): string[] {
    const out: string[] = [];
    for (let k = key; k !== undefined; k = this.get(k).parent) out.push(`l/${this.get(k).link}`);
    return out;
  }

  /** Creates a writable snapshot on top of committed `parent` (or empty). */
  prepare(key: string, parent?: string, opts?: SaveOptions): Promise<MountSpec> {
    return this.create(key, 'active', parent, opts);
  }

  /** Creates a read-only snapshot of committed `parent`. */
  view(key: string, parent: string): Promise<MountSpec> {
    return this.create(key, 'view', parent);
  }

  private create(key: string, kind: SnapshotKind, parent?: string, opts?: SaveOptions): Promise<MountSpec> {
    return this.locked(async () => {
      if (this.records.has(key)) throw new Conflict(`snapshot ${key} already exists`);
      if (parent !== undefined && this.get(parent).kind !== 'committed') throw new Conflict(`snapshot ${parent} is not committed`);
      const id = randomBytes(16).toString('hex');
      const link = randomLink();
      const dir = path.join(this.root, 'snapshots', id);
      await fs.mkdir(path.join(dir, 'fs'), { recursive: true, mode: 0o755 });
      await fs.mkdir(path.join(dir, 'work'), { mode: 0o700 });
      await fs.mkdir(path.join(dir, 'merged'), { mode: 0o700 });
      await fs.symlink(`../snapshots/${id}/fs`, path.join(this.root, 'l', link));
      this.records.set(key, { key, id, link, kind, parent, created: new Date().toISOString() });
      await this.save(opts);
      return this.mounts(key);
    });
  }

  /**
   * Freezes active snapshot `key` under the name `name`; returns its info.
   * `parent` stacks a snapshot prepared without one onto committed `parent`
   * as it freezes: layers of one image are extracted side by side, each into
   * its own directory, and only chained in order here.
   */
  commit(name: string, key: string, size?: number, parent?: string, opts?: SaveOptions): Promise<SnapshotInfo> {
    return this.locked(async () => {
      const r = this.get(key);
      if (r.kind !== 'active') throw new Conflict(`snapshot ${key} is not active`);
      if (this.records.has(name)) throw new Conflict(`snapshot ${name} already exists`);
      if (parent !== undefined) {
        if (r.parent !== undefined) throw new Conflict(`snapshot ${key} already has parent ${r.parent}`);
        if (this.get(parent).kind !== 'committed') throw new Conflict(`snapshot ${parent} is not committed`);
      }
      this.records.delete(key);
      this.records.set(name, { ...r, key: name, kind: 'committed', size, ...(parent !== undefined ? { parent } : {}) });
      await fs.rm(path.join(this.root, 'snapshots', r.id, 'work'), { recursive: true, force: true });
      await this.save(opts);
      return this.stat(name)!;
    });
  }

  /** Deletes a snapshot (unmounting it first). Conflict while others build on it. */
  remove(key: string): Promise<void> {
    return this.locked(async () => {
      const r = this.get(key);
      const child = [...this.records.values()].find((c) => c.parent === key);
      if (child) throw new Conflict(`snapshot ${key} is the parent of ${child.key}`);
      const dir = path.join(this.root, 'snapshots', r.id);
      await unmount(path.join(dir, 'merged'));
      this.records.delete(key);
      await this.save();
      await fs.rm(path.join(this.root, 'l', r.link), { force: true });
      await fs.rm(dir, { recursive: true, force: true });
    });
  }

  /** What to mount to see snapshot `key`. */
  mounts(key: string): MountSpec {
    const r = this.get(key);
    const base = path.join(this.root, 'snapshots', r.id);
    if (r.kind === 'view') {
      const lowers = this.lowers(r.parent);
      if (lowers.length === 1) return { type: 'bind', lowerdirs: [], source: this.dir(r.parent!), cwd: this.root, readonly: true };
      return { type: 'overlay', lowerdirs: lowers, cwd: this.root, readonly: true };
    }
    if (r.kind === 'committed') return { type: 'bind', lowerdirs: [], source: path.join(base, 'fs'), cwd: this.root, readonly: true };
    const lowers = this.lowers(r.parent);
    if (lowers.length === 0) return { type: 'bind', lowerdirs: [], source: path.join(base, 'fs'), cwd: this.root, readonly: false };
    return { type: 'overlay', lowerdirs: lowers, upperdir: path.join(base, 'fs'), workdir: path.join(base, 'work'), cwd: this.root, readonly: false };
  }

  /** The directories below `key` (its parents' fs dirs), top-most first. */
  lowerDirs(key: string): string[] {
    const out: string[] = [];
    for (let k = this.get(key).parent; k !== undefined; k = this.get(k).parent) out.push(this.dir(k));
    return out;
  }

  /** Mounts snapshot `key` at its mount point (idempotent) and returns the path. */
  async mount(key: string): Promise<string> {
    const target = this.mountPoint(key);
    const m = this.mounts(key);
    if (await mountedHere(target, m.type)) return target;
    await fs.mkdir(target, { recursive: true });
    if (m.type === 'overlay') await mountOverlay(target, { lowerdirs: m.lowerdirs, upperdir: m.upperdir, workdir: m.workdir, cwd: m.cwd });
    else if (m.readonly) await mountBindReadonly(m.source!, target);
    else await mountOverlayless(m.source!, target);
    return target;
  }

  async unmount(key: string): Promise<void> {
    await unmount(this.mountPoint(key));
  }
}

/**
 * Whether `target` already has the snapshot mounted. An overlay has a device
 * of its own, so comparing two stats answers for it; reading mountinfo (which
 * grows with every running container) is left for binds, which share their
 * source's device.
 */
async function mountedHere(target: string, type: MountSpec['type']): Promise<boolean> {
  const [t, parent] = await Promise.all([fs.stat(target).catch(() => undefined), fs.stat(path.dirname(target)).catch(() => undefined)]);
  if (!t || !parent) return false;
  if (t.dev !== parent.dev) return true;
  return type === 'overlay' ? false : isMountPoint(target);
}

/** An active snapshot without parents is a plain directory: bind it read-write. */
async function mountOverlayless(source: string, target: string): Promise<void> {
  await mountBind(source, target);
}

const linkAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function randomLink(): string {
  const b = randomBytes(26);
  let s = '';
  for (const x of b) s += linkAlphabet[x % linkAlphabet.length];
  return s;
}
