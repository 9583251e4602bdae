import { createReadStream } from 'node:fs';
import { PassThrough, Readable, Transform } from 'node:stream';
import { constants as zlibConstants, createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { createHash } from 'node:crypto';
import { decompressXz } from './host-tools.js';
import { BerthError, InvalidArgument } from '../../common/errors.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

/** Recognises a compressed stream by its first bytes, as docker's archive package does. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  return 'none';
}

/**
 * Turns a possibly compressed stream into the plain bytes, sniffing the format
 * from the first bytes. bzip2 is refused (no layer uses it any more).
 */
export function decompressStream(input: Readable, onDetected?: (kind: Compression) => void): Readable {
  const out = new PassThrough();
  const fail = (err: unknown) => out.destroy(err instanceof BerthError ? err : new InvalidArgument(`invalid archive: ${(err as Error).message}`));
  (async () => {
    const it = input[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let size = 0;
    let ended = false;
    while (size < 6) {
      const r = await it.next();
      if (r.done) { ended = true; break; }
      head.push(r.value);
      size += r.value.length;
    }
    const first = Buffer.concat(head);
    async function* all() {
      yield first;
      while (!ended) {
        const r = await it.next();
        if (r.done) return;
        yield r.value as Buffer;
      }
    }
    const kind = detectCompression(first);
    if (kind === 'bzip2') throw new Error('bzip2 compressed archives are not supported');
    onDetected?.(kind);
    const src = Readable.from(all(), { objectMode: false });
    // Not pipeline(): it would fail `out` with the raw codec error before we can name it.
    src.on('error', fail);
    let plain: Readable = src;
    if (kind === 'gzip') plain = src.pipe(createGunzip());
    else if (kind === 'zstd') plain = src.pipe(zstdTransform());
    else if (kind === 'xz') plain = decompressXz(src);
    if (plain !== src) plain.on('error', fail);
    plain.pipe(out);
  })().catch(fail);
  return out;
}

function zstdTransform(): Transform {
  let t: Transform;
  const d = new Decompress((chunk) => { t.push(Buffer.from(chunk)); });
  t = new Transform({
    transform(chunk: Buffer, _e, cb) {
      try { d.push(chunk); cb(); } catch (err) { cb(err as Error); }
    },
    flush(cb) {
      try { d.push(new Uint8Array(0), true); cb(); } catch (err) { cb(err as Error); }
    },
  });
  return t;
}

/** A stored (maybe compressed) tar file as plain tar bytes. */
export function openPlainTar(file: string): Readable {
  return decompressStream(createReadStream(file));
}

/** What GunzipDigest uses of a zlib object: its native handle and the state array its writes fill. */
interface ZlibInternals {
  _handle?: { writeSync?: (...args: unknown[]) => void; onerror?: (...args: unknown[]) => void };
  _writeState?: Uint32Array;
}

/**
 * The sha256 of what a gzip stream inflates to (a layer's diff ID), fed the
 * compressed chunks as they arrive and inflating them synchronously into one
 * reused 1 MiB buffer: about 25 ms of inflate and 55 ms of hashing for the
 * 86 MiB of the bench's ten layers, against a second decompressor and
 * openssl on the host (~0.5 s of CPU per pull) or zlib's stream API (fresh
 * output buffers; 215 ms of its bookkeeping per pull on the main thread).
 * Node has no public incremental synchronous inflate, so this drives the
 * zlib object's own handle as zlib's *Sync functions do; `supported()` says
 * whether this Node still has it (else hash the tar elsewhere). Members
 * concatenated in one blob inflate in sequence, as gunzip does.
 *
 *   const d = new GunzipDigest();
 *   for await (const c of blob) d.update(c);   // c may be reused afterwards
 *   const diffId = d.digest();                 // throws for a truncated or corrupt stream
 */
export class GunzipDigest {
  private static shared: Buffer | undefined;
  private readonly zlib = createGunzip() as unknown as ZlibInternals & ReturnType<typeof createGunzip>;
  private readonly hash = createHash('sha256');
  private failure: string | undefined;
  private closed = false;

  static supported(): boolean {
    const z = createGunzip() as unknown as ZlibInternals & ReturnType<typeof createGunzip>;
    const ok = typeof z._handle?.writeSync === 'function' && z._writeState instanceof Uint32Array && typeof z._handle?.onerror === 'function';
    z.close();
    return ok;
  }

  constructor() {
    const h = this.zlib._handle!;
    const report = h.onerror!;
    // Errors come back through the handle's callback, synchronously within writeSync.
    h.onerror = (message: unknown, ...rest: unknown[]) => {
      this.failure = String(message);
      report.call(h, message, ...rest);
    };
    this.zlib.on('error', () => { /* recorded above */ });
  }

  /**
   * Inflates and hashes a chunk. Data that is no gzip is reported by digest,
   * not here: a blob corrupted on the way is the content store's digest
   * mismatch first, and the caller checks that before asking for the digest.
   */
  update(chunk: Buffer): void {
    if (this.failure) return;
    this.run(chunk, zlibConstants.Z_NO_FLUSH);
  }

  /** `sha256:<hex>` of everything inflated; throws InvalidArgument for data that is no gzip or did not end. */
  digest(): string {
    try {
      this.run(Buffer.alloc(0), zlibConstants.Z_FINISH);
      return `sha256:${this.hash.digest('hex')}`;
    } finally {
      this.close();
    }
  }

  /** Frees zlib's memory (digest does; for a transfer that failed). */
  close(): void {
    this.closed = true;
    this.zlib.close();
  }

  private run(chunk: Buffer, flush: number): void {
    if (this.failure) throw this.invalid();
    if (this.closed) throw new Error('GunzipDigest used after close');
    const out = (GunzipDigest.shared ??= Buffer.allocUnsafeSlow(1 << 20));
    const state = this.zlib._writeState!;
    const handle = this.zlib._handle!;
    let inOff = 0;
    let inLen = chunk.length;
    for (;;) {
      handle.writeSync!(flush, chunk, inOff, inLen, out, 0, out.length);
      if (this.failure) {
        if (flush === zlibConstants.Z_FINISH) throw this.invalid();
        return;
      }
      const [availOut, availIn] = state;
      if (availOut < out.length) this.hash.update(out.subarray(0, out.length - availOut));
      inOff += inLen - availIn;
      inLen = availIn;
      // A full output buffer may hide more output: go on until zlib leaves room.
      if (availOut !== 0) return;
    }
  }

  private invalid(): InvalidArgument {
    return new InvalidArgument(`invalid archive: gzip: ${this.failure}`);
  }
}
