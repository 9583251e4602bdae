import { PassThrough, type Readable } from 'node:stream';
import { settleBoth } from './settle.js';

/**
 * One stream read by two consumers (a layer written to the content store and
 * extracted at the same time), and the failure rule that keeps such a tee
 * from stalling: when either consumer fails, every stream of the tee is
 * destroyed WITH that error (a stream destroyed quietly can leave the other
 * side, e.g. tar on a pipe, waiting for an end that never comes), and the
 * error is thrown only once both consumers have settled, so cleanup never
 * races a half-done write.
 *
 *   const t = tee(body);
 *   const [blob, scan] = await t.both(store.write(t.a), applyLayerStream(t.b, dir));
 */
export interface Tee {
  a: PassThrough;
  b: PassThrough;
  both<A, B>(first: Promise<A>, second: Promise<B>, alsoStop?: Readable[]): Promise<[A, B]>;
}

export function tee(input: Readable, highWaterMark?: number): Tee {
  const opts = highWaterMark ? { highWaterMark } : {};
  const a = new PassThrough(opts);
  const b = new PassThrough(opts);
  input.on('error', (err) => { a.destroy(err); b.destroy(err); });
  input.pipe(a);
  input.pipe(b);
  return {
    a, b,
    both(first, second, alsoStop = []) {
      const fail = (err: unknown) => {
        for (const s of [input, a, b, ...alsoStop]) s.destroy(err as Error);
        throw err;
      };
      return settleBoth(first.catch(fail), second.catch(fail));
    },
  };
}
