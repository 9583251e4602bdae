import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { InvalidArgument, NotFound } from '../../common/errors.js';
import { syncDir } from '../../common/atomic-file.js';

/** A blob's identity: `sha256:<hex>` and its length in bytes. */
export interface BlobInfo {
  digest: string;
  size: number;
}

const digestPattern = /^sha256:[a-f0-9]{64}$/;

/** Throws InvalidArgument unless `d` is a `sha256:<64 hex>` digest. */
export function checkDigest(d: string): void {
  if (!digestPattern.test(d)) throw new InvalidArgument(`invalid digest: ${JSON.stringify(d)}`);
}

/**
 * ContentStore keeps immutable blobs (layers as received, image configs,
 * manifests) addressed by their sha256 digest under `<root>/content/sha256/<hex>`.
 * A blob becomes visible only once fully written and verified, so readers never
 * see a torn or mislabeled blob, and a crash leaves at most a stray temp file
 * in `<root>/content/ingest` (cleared on open).
 *
 *   const cs = await ContentStore.open('/var/lib/berth');
 *   const { digest } = await cs.write(Readable.from([Buffer.from('{}')]));
 *   const cfg = await cs.readBuffer(digest);
 */
export class ContentStore {
  private constructor(private readonly blobDir: string, private readonly ingestDir: string) {}

  static async open(root: string): Promise<ContentStore> {
    const blobDir = path.join(root, 'content', 'sha256');
    const ingestDir = path.join(root, 'content', 'ingest');
    await fs.mkdir(blobDir, { recursive: true });
    await fs.rm(ingestDir, { recursive: true, force: true });
    await fs.mkdir(ingestDir, { recursive: true });
    return new ContentStore(blobDir, ingestDir);
  }

  /** The file holding a blob; callers hand it to programs that want a path (tar). */
  path(digest: string): string {
    checkDigest(digest);
    return path.join(this.blobDir, digest.slice('sha256:'.length));
  }

  /** Size of a stored blob; NotFound when absent. */
  async info(digest: string): Promise<BlobInfo> {
    try {
      const st = await fs.stat(this.path(digest));
      return { digest, size: st.size };
    } catch (err: any) {
      if (err?.code === 'ENOENT') throw new NotFound(`content ${digest}: not found`);
      throw err;
    }
  }

  async has(digest: string): Promise<boolean> {
    return fs.access(this.path(digest)).then(() => true, () => false);
  }

  /** Streams a blob; NotFound when absent. */
  async read(digest: string): Promise<Readable> {
    await this.info(digest);
    return createReadStream(this.path(digest));
  }

  async readBuffer(digest: string): Promise<Buffer> {
    await this.info(digest);
    return fs.readFile(this.path(digest));
  }

  /**
   * Stores a stream as a blob and returns its digest and size. With `expected`,
   * a blob whose digest or size differs is refused (InvalidArgument) and never
   * becomes visible. Writing a blob that already exists is a cheap no-op rename.
   */
  async write(src: Readable, expected?: Partial<BlobInfo>): Promise<BlobInfo & { created: boolean }> {
    if (expected?.digest) checkDigest(expected.digest);
    const tmp = path.join(this.ingestDir, randomBytes(8).toString('hex'));
    const hash = createHash('sha256');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        if (expected?.size !== undefined && size > expected.size) {
          cb(new InvalidArgument(`blob larger than the expected ${expected.size} bytes`));
          return;
        }
        cb(null, chunk);
      },
    });
    try {
      const out = createWriteStream(tmp, { mode: 0o644 });
      await pipeline(src, counter, out);
      const fh = await fs.open(tmp, 'r');
      try { await fh.sync(); } finally { await fh.close(); }
      const digest = 'sha256:' + hash.digest('hex');
      if (expected?.digest && expected.digest !== digest) {
        throw new InvalidArgument(`digest mismatch: expected ${expected.digest}, got ${digest}`);
      }
      if (expected?.size !== undefined && expected.size !== size) {
        throw new InvalidArgument(`size mismatch for ${digest}: expected ${expected.size}, got ${size}`);
      }
      const created = !(await this.has(digest));
      await fs.rename(tmp, this.path(digest));
      await syncDir(this.blobDir);
      return { digest, size, created };
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  /**
   * Stores a blob that a native tool writes straight to disk, no bytes through
   * Node: `fill` writes the temp path it is given (the file exists, empty) and
   * returns the digest it computed from the file itself (see
   * writeLayerTarOfEntries, sha256OfFileSynced). Same guarantees as write:
   * visible only once complete and synced (cheap when `fill` synced already),
   * never under a malformed name.
   *
   *   await cs.writeFile((tmp) => writeLayerTarOfEntries(upper, names, skip, tmp));
   */
  async writeFile(fill: (tmp: string) => Promise<string>): Promise<BlobInfo & { created: boolean }> {
    const tmp = path.join(this.ingestDir, randomBytes(8).toString('hex'));
    const fh = await fs.open(tmp, 'wx', 0o644);
    try {
      const digest = await fill(tmp);
      checkDigest(digest);
      await fh.datasync();
      const { size } = await fh.stat();
      const created = !(await this.has(digest));
      await fs.rename(tmp, this.path(digest));
      await syncDir(this.blobDir);
      return { digest, size, created };
    } finally {
      await fh.close();
      await fs.rm(tmp, { force: true });
    }
  }

  async writeBuffer(buf: Buffer | string, expected?: Partial<BlobInfo>): Promise<BlobInfo & { created: boolean }> {
    return this.write(Readable.from([Buffer.from(buf)]), expected);
  }

  /** Removes a blob; absent blobs are fine (delete is idempotent). */
  async delete(digest: string): Promise<void> {
    await fs.rm(this.path(digest), { force: true });
  }

  /** Every stored blob. */
  async *walk(): AsyncGenerator<BlobInfo> {
    for (const name of await fs.readdir(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const st = await fs.stat(path.join(this.blobDir, name)).catch(() => undefined);
      if (st) yield { digest: `sha256:${name}`, size: st.size };
    }
  }
}
