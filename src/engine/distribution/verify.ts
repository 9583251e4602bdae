/**
 * Stream helpers for transfers: a pass-through that checks size and digest as
 * bytes go by, and a counting semaphore for parallel transfer limits.
 *
 *   pipeline(res, verifier({ digest, size }), file)   // fails instead of finishing on a mismatch
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { BerthError } from '../../common/errors.js';
import { parseDigest } from './oci.js';

export class DigestMismatch extends BerthError {}

/** Errors the stream if the content exceeds `size` or does not hash to `digest` at its end. */
export function verifier(want: { digest: string; size?: number }): Transform {
  const { algorithm, hex } = parseDigest(want.digest);
  const hash = createHash(algorithm);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (want.size !== undefined && want.size >= 0 && seen > want.size) {
        cb(new DigestMismatch(`${want.digest}: more than the ${want.size} bytes announced`));
        return;
      }
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (want.size !== undefined && want.size >= 0 && seen !== want.size) {
        cb(new DigestMismatch(`${want.digest}: got ${seen} of ${want.size} bytes`));
        return;
      }
      const got = hash.digest('hex');
      if (got !== hex) cb(new DigestMismatch(`digest mismatch: expected ${want.digest}, got ${algorithm}:${got}`));
      else cb();
    },
  });
}

/** At most `limit` holders at once; others wait in order. */
export class Semaphore {
  private active = 0;
  private waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new BerthError(`concurrency limit must be at least 1, got ${limit}`);
  }

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }
}
