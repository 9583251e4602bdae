/**
 * Blobs and uploads on disk. An upload is written under `uploads/`, hashed as
 * it is written, and only renamed into `blobs/` once its digest matches, so a
 * reader never sees a blob that is partial or wrong.
 *
 *   const id = await blobs.startUpload('library/app')
 *   await blobs.append('library/app', id, req)             // PATCH, hashing as it writes
 *   await blobs.commit('library/app', id, 'sha256:…')      // verify, rename, link
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDir } from '../common/atomic-file.js';
import { parseDigest } from '../engine/distribution/oci.js';
import { RegistryError } from './errors.js';
import type { Layout } from './layout.js';

interface UploadState {
  hash: Hash;
  size: number;
  busy: boolean;
}

export class BlobStore {
  /** Running hashes of uploads in progress; rebuilt from the file after a restart. */
  private uploads = new Map<string, UploadState>();

  constructor(private readonly layout: Layout) {}

  /** Size of a stored blob, or undefined. Any repository may hold it. */
  async stat(digest: string): Promise<number | undefined> {
    try {
      return (await fs.stat(this.layout.blob(digest))).size;
    } catch (err: any) {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Size of a blob if the repository links it (pushed or mounted there). */
  async statInRepo(repo: string, digest: string): Promise<number | undefined> {
    if (!(await exists(this.layout.layerLink(repo, digest)))) return undefined;
    return this.stat(digest);
  }

  /** The file holding a stored blob (blob GETs stream it with sendFile). */
  path(digest: string): string {
    return this.layout.blob(digest);
  }

  async read(digest: string): Promise<Buffer> {
    return fs.readFile(this.layout.blob(digest));
  }

  async link(repo: string, digest: string): Promise<void> {
    const file = this.layout.layerLink(repo, digest);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, '');
  }

  /** Removes the repository's link to a blob; false when it had none. */
  async unlink(repo: string, digest: string): Promise<boolean> {
    try {
      await fs.unlink(this.layout.layerLink(repo, digest));
      return true;
    } catch (err: any) {
      if (err.code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Stores bytes held in memory (manifests) under their digest. */
  async putBytes(digest: string, data: Uint8Array): Promise<void> {
    if ((await this.stat(digest)) !== undefined) return;
    const dir = path.join(this.layout.uploadsDir, randomUUID());
    await fs.mkdir(dir, { recursive: true });
    try {
      const fh = await fs.open(path.join(dir, 'data'), 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.publish(path.join(dir, 'data'), digest);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  async startUpload(repo: string): Promise<string> {
    const uuid = randomUUID();
    const dir = this.layout.upload(uuid);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'data'), '');
    await fs.writeFile(path.join(dir, 'repo'), repo);
    this.uploads.set(uuid, { hash: createHash('sha256'), size: 0, busy: false });
    return uuid;
  }

  /** Bytes received so far for an upload; throws BLOB_UPLOAD_UNKNOWN. */
  async uploadSize(repo: string, uuid: string): Promise<number> {
    return (await this.state(repo, uuid)).size;
  }

  /**
   * Appends a request body to an upload. `start`, from a `Content-Range`
   * header, must equal the bytes already received. A body that fails half way
   * is cut off again so the upload stays as it was before the request.
   */
  async append(repo: string, uuid: string, body: Readable, start?: number): Promise<number> {
    const st = await this.state(repo, uuid);
    if (st.busy) throw new RegistryError('BLOB_UPLOAD_INVALID', undefined, 'upload is already receiving data');
    if (start !== undefined && start !== st.size) {
      throw new RegistryError('RANGE_INVALID', { expected: st.size, got: start });
    }
    st.busy = true;
    const before = st.size;
    const saved = st.hash.copy();
    const file = path.join(this.layout.upload(uuid), 'data');
    try {
      await pipeline(body, async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) {
          st.hash.update(chunk);
          st.size += chunk.length;
          yield chunk;
        }
      }, createWriteStream(file, { flags: 'a' }));
      return st.size;
    } catch (err) {
      st.hash = saved;
      st.size = before;
      await fs.truncate(file, before).catch(() => {});
      throw err;
    } finally {
      st.busy = false;
    }
  }

  /**
   * Finishes an upload: the content must hash to `digest`, then it is synced
   * and renamed into place and linked into the repository.
   */
  async commit(repo: string, uuid: string, digest: string): Promise<number> {
    const st = await this.state(repo, uuid);
    if (st.busy) throw new RegistryError('BLOB_UPLOAD_INVALID', undefined, 'upload is still receiving data');
    const { algorithm, hex } = parseDigest(digest);
    const file = path.join(this.layout.upload(uuid), 'data');
    const actual = algorithm === 'sha256' ? st.hash.copy().digest('hex') : await hashFile(file, algorithm);
    if (actual !== hex) {
      throw new RegistryError('DIGEST_INVALID', { expected: digest, actual: `${algorithm}:${actual}` });
    }
    const fh = await fs.open(file, 'r+');
    try { await fh.sync(); } finally { await fh.close(); }
    await this.publish(file, digest);
    await this.link(repo, digest);
    await this.cancel(repo, uuid);
    return st.size;
  }

  async cancel(repo: string, uuid: string): Promise<void> {
    await this.state(repo, uuid);
    this.uploads.delete(uuid);
    await fs.rm(this.layout.upload(uuid), { recursive: true, force: true });
  }

  /** Renames a verified, synced file to the blob's place (no-op if already there). */
  private async publish(file: string, digest: string): Promise<void> {
    const target = this.layout.blob(digest);
    if ((await this.stat(digest)) !== undefined) return;
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(file, target);
    await syncDir(path.dirname(target));
  }

  private async state(repo: string, uuid: string): Promise<UploadState> {
    if (!/^[0-9a-f-]{36}$/.test(uuid)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid });
    let st = this.uploads.get(uuid);
    const dir = this.layout.upload(uuid);
    let owner: string;
    try {
      owner = await fs.readFile(path.join(dir, 'repo'), 'utf8');
    } catch {
      this.uploads.delete(uuid);
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid });
    }
    if (owner !== repo) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', { uuid });
    if (!st) {
      // The server restarted during the upload: resume from the bytes on disk.
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of createReadStream(path.join(dir, 'data'))) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      st = { hash, size, busy: false };
      this.uploads.set(uuid, st);
    }
    return st;
  }
}

async function hashFile(file: string, algorithm: string): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
