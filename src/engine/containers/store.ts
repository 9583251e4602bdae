import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { NotFound, InvalidArgument } from '../../common/errors.js';
import { readJson, writeJsonAtomic } from '../../common/atomic-file.js';
import { log } from '../../common/log.js';
import type { ContainerRecord } from './record.js';

/**
 * Container records on disk with an in-memory index by ID and name. Each
 * record is one JSON file written atomically, so a `kill -9` of the daemon at
 * any instant leaves every record either old or new.
 *
 *   const c = store.find('web');          // by name, full or short ID
 *   c.State.Status = 'running'; await store.save(c);
 */
export class ContainerStore {
  private byId = new Map<string, ContainerRecord>();

  constructor(readonly root: string) {}

  async load(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true, mode: 0o710 });
    for (const id of await fs.readdir(this.root)) {
      try {
        const rec = await readJson<ContainerRecord>(path.join(this.root, id, 'record.json'));
        if (rec) this.byId.set(rec.Id, rec);
      } catch (err) {
        log.warn('containers', `skipping unreadable record ${id}`, { error: String(err) });
      }
    }
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  /** Looks up by exact ID, exact name, then unique ID prefix, as Docker does. */
  find(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const name = ref.startsWith('/') ? ref : '/' + ref;
    for (const c of this.byId.values()) if (c.Name === name) return c;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = [...this.byId.values()].filter((c) => c.Id.startsWith(ref));
    if (matches.length > 1) throw new InvalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    return matches[0];
  }

  get(ref: string): ContainerRecord {
    const c = this.find(ref);
    if (!c) throw new NotFound(`No such container: ${ref}`);
    return c;
  }

  nameOwner(name: string): ContainerRecord | undefined {
    const n = name.startsWith('/') ? name : '/' + name;
    for (const c of this.byId.values()) if (c.Name === n) return c;
    return undefined;
  }

  /** Writes the record atomically; `durable: false` skips the fsyncs (see saveState for when that is right). */
  async save(rec: ContainerRecord, opts: { durable?: boolean } = {}): Promise<void> {
    await fs.mkdir(this.dir(rec.Id), { recursive: true, mode: 0o710 });
    await writeJsonAtomic(path.join(this.dir(rec.Id), 'record.json'), rec, opts);
    this.byId.set(rec.Id, rec);
  }

  /**
   * Saves a change of run state (started, exited, removing) of a record
   * already on disk. Still atomic, but not fsynced: after a power loss the
   * daemon rebuilds run state from the runtime anyway, and two fsyncs cost
   * ~10 ms on every start and exit.
   */
  async saveState(rec: ContainerRecord): Promise<void> {
    if (!this.byId.has(rec.Id)) return this.save(rec);
    await writeJsonAtomic(path.join(this.dir(rec.Id), 'record.json'), rec, { durable: false });
  }

  /**
   * Drops the record from the index (its name and ID are free from now on)
   * but leaves its files, so a removal cut short by a crash is finished on
   * the next start; `delete` removes the files.
   */
  forget(id: string): void {
    this.byId.delete(id);
  }

  /** Forgets the record and deletes its directory (logs included). */
  async delete(id: string): Promise<void> {
    this.byId.delete(id);
    // Remove the record file first: if we die mid-way, no half container reappears.
    await fs.rm(path.join(this.dir(id), 'record.json'), { force: true });
    await fs.rm(this.dir(id), { recursive: true, force: true });
  }
}
