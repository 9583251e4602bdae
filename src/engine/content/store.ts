import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { InvalidArgument, NotFound } from '../../common/errors.js';
import { syncDir } from '../../common/atomic-file.js';

/** A blob's identity: `sha256:<hex>` and its length in bytes. */
export interface BlobInfo {
  digest: string;
  size: number;
}

/** A blob being written; see ContentStore.ingest. */
export interface BlobWriter {
  /**
   * Hashes and copies a chunk before it returns (the caller may reuse the
   * chunk's memory then); a promise asks the caller to wait before the next
   * one, and rejects past the expected size or when writing failed.
   */
  write(chunk: Buffer): Promise<void> | undefined;
  /**
   * Writes out what is buffered (no fsync) and checks digest and size, so
   * the bytes can be used before the slower commit; rejects like commit.
   */
  verify(): Promise<BlobInfo>;
  /**
   * A read-only handle on the verified bytes (after verify), valid whatever
   * happens to the blob's name later (commit renames it); the caller closes it.
   */
  open(): Promise<FileHandle>;
  /** Flushes, fsyncs, checks digest and size (unless verify did), and makes the blob visible. */
  commit(): Promise<BlobInfo & { created: boolean }>;
  /** Drops what was written (any failure elsewhere). */
  abort(): Promise<void>;
}

/**
 * Bytes pushed one chunk at a time to `sink`: a chunk is only valid during
 * the call (a source may reuse its memory, see distribution/raw-get.ts), and
 * a promise returned by `sink` holds the next chunk until it settles.
 * Resolves after the last chunk; rejects when the source fails or `sink`
 * throws or rejects (the source then stops).
 *
 *   await source((chunk) => writer.write(chunk));
 */
export type ChunkSource = (sink: ChunkSink) => Promise<void>;
export type ChunkSink = (chunk: Buffer) => Promise<void> | undefined | void;

/** A stream as a ChunkSource (its chunks are its own; it is destroyed when the sink fails). */
export function chunksOf(stream: Readable): ChunkSource {
  return async (sink) => {
    try {
      for await (const c of stream) {
        const p = sink(Buffer.isBuffer(c) ? c : Buffer.from(c));
        if (p) await p;
      }
    } catch (err) {
      stream.destroy();
      throw err;
    }
  };
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
    const w = this.ingest(expected);
    try {
      for await (const chunk of src) await w.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      return await w.commit();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  /** As write, for bytes pushed by a ChunkSource. */
  async writeFrom(source: ChunkSource, expected?: Partial<BlobInfo>): Promise<BlobInfo & { created: boolean }> {
    const w = this.ingest(expected);
    try {
      await source((chunk) => w.write(chunk));
      return await w.commit();
    } catch (err) {
      await w.abort();
      throw err;
    }
  }

  /**
   * A blob written chunk by chunk, for callers that hand the same bytes to
   * something else as well (a pull unpacking a layer as it arrives). Nothing
   * is visible until `commit` has checked digest and size.
   *
   *   const w = cs.ingest({ digest, size });
   *   for await (const c of body) await w.write(c);
   *   const { created } = await w.commit();   // or, on any failure: await w.abort()
   */
  ingest(expected?: Partial<BlobInfo>): BlobWriter {
    if (expected?.digest) checkDigest(expected.digest);
    const tmp = path.join(this.ingestDir, randomBytes(8).toString('hex'));
    const hash = createHash('sha256');
    const file = new FileWriter(tmp);
    let size = 0;
    let checked: Promise<BlobInfo> | undefined;
    const writer: BlobWriter = {
      write: (chunk) => {
        size += chunk.length;
        if (expected?.size !== undefined && size > expected.size) {
          return Promise.reject(new InvalidArgument(`blob larger than the expected ${expected.size} bytes`));
        }
        hash.update(chunk);
        return file.write(chunk);
      },
      verify: () => {
        checked ??= (async () => {
          await file.drain();
          const digest = 'sha256:' + hash.digest('hex');
          if (expected?.digest && expected.digest !== digest) {
            throw new InvalidArgument(`digest mismatch: expected ${expected.digest}, got ${digest}`);
          }
          if (expected?.size !== undefined && expected.size !== size) {
            throw new InvalidArgument(`size mismatch for ${digest}: expected ${expected.size}, got ${size}`);
          }
          return { digest, size };
        })();
        return checked;
      },
      open: async () => {
        if (!checked) throw new Error('BlobWriter.open before verify');
        await checked;
        return fs.open(tmp, 'r');
      },
      commit: async () => {
        try {
          checked ??= writer.verify();
          const { digest } = await checked;
          await file.close();
          const created = !(await this.has(digest));
          await fs.rename(tmp, this.path(digest));
          await syncDir(this.blobDir);
          return { digest, size, created };
        } finally {
          await fs.rm(tmp, { force: true });
        }
      },
      abort: async () => {
        await file.close(false).catch(() => undefined);
        await fs.rm(tmp, { force: true });
      },
    };
    return writer;
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

const bufferSize = 1 << 20;

/**
 * Buffers of closed writers, for the next ones: on this VM touching a fresh
 * page costs a fault (a 10-layer pull took ~37k of them, half its system
 * time), and a new pair per blob was 2 MiB of them per layer. Up to three
 * downloads' pairs are kept (6 MiB).
 */
const spareBuffers: Buffer[] = [];
const maxSpareBuffers = 6;

/**
 * Writes a file through reused 1 MiB buffers, one filling while the others
 * are written off the main thread. Incoming chunks are copied before write
 * returns, so a caller may hand a view into a buffer it reuses (a socket's
 * read buffer) and its chunks can die young: queueing them instead kept
 * 200 MiB of network buffers alive long enough to reach the old generation,
 * and with the daemon's small young generation that cost a full GC every few
 * MiB. Copying never waits: a filled buffer goes out and the next free one
 * (or a spare) takes over; write's promise is backpressure only, asking the
 * caller to wait while two buffers are in flight.
 */
class FileWriter {
  private fh: Promise<FileHandle>;
  // Taken on first use (most blobs written are small configs and manifests).
  private cur: Buffer | undefined;
  private free: Buffer[] = [];
  private pending: Promise<void>[] = [];
  private owned: Buffer[] = [];
  private fill = 0;
  private position = 0;
  private failed: unknown;

  constructor(file: string) {
    this.fh = fs.open(file, 'wx', 0o644);
    this.fh.catch(() => undefined);
  }

  /** Copies `chunk`; resolves when the writer can take more, undefined when it can now. */
  write(chunk: Buffer): Promise<void> | undefined {
    if (this.failed) return Promise.reject(this.failed);
    let off = 0;
    while (off < chunk.length) {
      this.cur ??= this.take();
      const n = chunk.copy(this.cur, this.fill, off);
      this.fill += n;
      off += n;
      if (this.fill === bufferSize) this.flush();
    }
    return this.pending.length >= 2 ? this.pending[0].then(() => undefined) : undefined;
  }

  private take(): Buffer {
    const b = this.free.pop() ?? spareBuffers.pop() ?? Buffer.allocUnsafe(bufferSize);
    if (!this.owned.includes(b)) this.owned.push(b);
    return b;
  }

  /** Sends the current buffer to the file; it is free again once written. */
  private flush(): void {
    const buf = this.cur!;
    const p = this.writeAt(buf, this.fill, this.position);
    this.pending.push(p);
    const settle = (err?: unknown) => {
      this.pending.splice(this.pending.indexOf(p), 1);
      this.free.push(buf);
      if (err !== undefined) this.failed ??= err;
    };
    p.then(() => settle(), (err) => settle(err ?? new Error('write failed')));
    this.position += this.fill;
    this.cur = undefined;
    this.fill = 0;
  }

  /** Writes what is buffered and waits for every write (no fsync). */
  async drain(): Promise<void> {
    if (this.fill > 0) this.flush();
    await Promise.all(this.pending);
    if (this.failed) throw this.failed;
  }

  /** Writes what is left and closes the file, fsynced unless `keep` is false (it will be deleted). */
  async close(keep = true): Promise<void> {
    const fh = await this.fh;
    try {
      if (keep) await this.drain();
      if (keep) await fh.sync();
    } finally {
      await fh.close();
      // Only once no write reads them any more; they only ever go out with explicit lengths.
      await Promise.allSettled(this.pending);
      for (const b of this.owned) if (spareBuffers.length < maxSpareBuffers) spareBuffers.push(b);
      this.owned = [];
      this.free = [];
      this.cur = undefined;
    }
  }

  private async writeAt(buf: Buffer, length: number, position: number): Promise<void> {
    const fh = await this.fh;
    for (let done = 0; done < length;) {
      const { bytesWritten } = await fh.write(buf, done, length - done, position + done);
      done += bytesWritten;
    }
  }
}
