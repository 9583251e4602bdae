import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StdcopyDemuxer, encodeFrame, STDOUT, STDERR } from './stdcopy.js';

test('frames have an 8-byte header: stream, three zero bytes, big-endian size', () => {
  const f = encodeFrame(STDERR, 'hi\n');
  assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 3]);
  assert.equal(f.subarray(8).toString(), 'hi\n');
});

test('demuxer splits streams across arbitrary chunk boundaries', () => {
  const big = Buffer.alloc(70_000, 'x');
  const wire = Buffer.concat([encodeFrame(STDOUT, 'out1\n'), encodeFrame(STDERR, 'err1\n'), encodeFrame(STDOUT, big), encodeFrame(STDOUT, '')]);
  for (const size of [1, 3, 7, 8, 9, 1000, wire.length]) {
    const got: { s: number; d: string }[] = [];
    const d = new StdcopyDemuxer((s, p) => got.push({ s, d: p.toString() }));
    for (let i = 0; i < wire.length; i += size) d.push(wire.subarray(i, i + size));
    assert.equal(d.buffered, 0);
    assert.deepEqual(got.map((g) => g.s), [1, 2, 1, 1]);
    assert.equal(got[0].d, 'out1\n');
    assert.equal(got[1].d, 'err1\n');
    assert.equal(got[2].d.length, 70_000);
    assert.equal(got[3].d, '');
  }
});

test('an unknown stream type is rejected, a truncated frame stays buffered', () => {
  const d = new StdcopyDemuxer(() => undefined);
  d.push(encodeFrame(STDOUT, 'abcdef').subarray(0, 10));
  assert.equal(d.buffered, 10);
  const bad = new StdcopyDemuxer(() => undefined);
  assert.throws(() => bad.push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 1, 65])), /Unrecognized input header: 9/);
});

test('a coalescing demuxer joins runs of one stream and keeps the order across streams', () => {
  const frames = ['a\n', 'b\n', 'c\n'].map((s) => encodeFrame(STDOUT, s));
  const wire = Buffer.concat([...frames, encodeFrame(STDERR, 'e1\n'), encodeFrame(STDERR, 'e2\n'), encodeFrame(STDOUT, 'd\n')]);
  for (const size of [1, 5, 13, wire.length]) {
    const got: { s: number; d: string }[] = [];
    const d = new StdcopyDemuxer((s, p) => got.push({ s, d: p.toString() }), { coalesce: true });
    for (let i = 0; i < wire.length; i += size) d.push(wire.subarray(i, i + size));
    // Whatever the chunking, each stream's bytes arrive in order and never interleave wrongly.
    const joined = (n: number) => got.filter((g) => g.s === n).map((g) => g.d).join('');
    assert.equal(joined(1), 'a\nb\nc\nd\n');
    assert.equal(joined(2), 'e1\ne2\n');
    assert.deepEqual(got.map((g) => g.s).filter((s, i, a) => s !== a[i - 1]), [1, 2, 1]);
    if (size === wire.length) assert.equal(got.length, 3, 'one payload per run within a chunk');
  }
});
