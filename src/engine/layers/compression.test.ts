import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GunzipDigest } from './compression.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Feeds `gz` in pieces of `step` bytes from one reused buffer, as a socket reader does. */
function digestOf(gz: Buffer, step: number): string {
  const d = new GunzipDigest();
  const reused = Buffer.alloc(step);
  for (let off = 0; off < gz.length; off += step) {
    const n = gz.copy(reused, 0, off, off + step);
    d.update(reused.subarray(0, n));
    reused.fill(0xaa); // whatever the digest kept of the chunk is now garbage
  }
  return d.digest();
}

test('GunzipDigest: this Node still has what it drives', () => {
  assert.equal(GunzipDigest.supported(), true);
});

test('GunzipDigest hashes what the stream inflates to, whatever the chunking, over many output buffers', () => {
  // Compressible and not: more than one 1 MiB output buffer per input chunk.
  const plain = Buffer.concat([randomBytes(3 << 20), Buffer.alloc(5 << 20, 'berth '), randomBytes(1000)]);
  const gz = gzipSync(plain, { level: 1 });
  for (const step of [1 << 20, 65536, 4093]) assert.equal(digestOf(gz, step), sha(plain), `step ${step}`);
  // Members concatenated in one blob inflate in sequence, as gunzip does.
  const a = randomBytes(70_000);
  const b = Buffer.from('second member');
  assert.equal(digestOf(Buffer.concat([gzipSync(a), gzipSync(b)]), 1000), sha(Buffer.concat([a, b])));
  assert.equal(digestOf(gzipSync(Buffer.alloc(0)), 7), sha(Buffer.alloc(0)));
});

test('GunzipDigest refuses a truncated, corrupted or non-gzip stream, only when asked for the digest', () => {
  const gz = gzipSync(randomBytes(200_000));
  assert.throws(() => digestOf(gz.subarray(0, gz.length - 100), 4096), (e: any) => e.status === 400 && /invalid archive: gzip: unexpected end of file/.test(e.message));
  const flipped = Buffer.from(gz);
  flipped[flipped.length - 6] ^= 0xff; // the CRC
  assert.throws(() => digestOf(flipped, 4096), /invalid archive: gzip: incorrect data check/);
  assert.throws(() => digestOf(Buffer.concat([gz, Buffer.from('trailing junk')]), 4096), /invalid archive: gzip/);
  // update never throws: the caller checks the blob's own digest first.
  const d = new GunzipDigest();
  d.update(Buffer.from('not gzip at all'));
  d.update(Buffer.from('more'));
  assert.throws(() => d.digest(), /invalid archive: gzip/);
  const closed = new GunzipDigest();
  closed.close();
  assert.throws(() => closed.update(gz), /after close/);
});
