import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachWatcher, parseDetachKeys } from './streams.js';

test('detach keys parse like Docker: ctrl-<x> and single characters', () => {
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [0x10, 0x11]);
  assert.deepEqual(parseDetachKeys('ctrl-a,x,ctrl-@,ctrl-['), [1, 0x78, 0, 27]);
  assert.throws(() => parseDetachKeys('ctrl-p,bogus'), /Invalid detach keys \(bogus\) provided/);
});

test('the detach sequence is swallowed; broken prefixes are passed on', () => {
  const w = new DetachWatcher([0x10, 0x11]);
  assert.deepEqual(w.feed(Buffer.from('ab')), { forward: Buffer.from('ab'), detach: false });
  // A lone Ctrl-P is held until we know it is not the start of the sequence.
  assert.deepEqual(w.feed(Buffer.from([0x10])), { forward: Buffer.alloc(0), detach: false });
  assert.deepEqual(w.feed(Buffer.from('c')), { forward: Buffer.from([0x10, 0x63]), detach: false });
  // Ctrl-P Ctrl-P Ctrl-Q: the first Ctrl-P goes through, the pair detaches.
  const r = w.feed(Buffer.from([0x78, 0x10, 0x10, 0x11, 0x79]));
  assert.deepEqual(r, { forward: Buffer.from([0x78, 0x10]), detach: true });
  // The sequence split across reads still detaches.
  const w2 = new DetachWatcher([0x10, 0x11]);
  assert.equal(w2.feed(Buffer.from([0x41, 0x10])).detach, false);
  assert.deepEqual(w2.feed(Buffer.from([0x11])), { forward: Buffer.alloc(0), detach: true });
});
