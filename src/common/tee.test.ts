import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { tee } from './tee.js';

const drain = async (r: Readable) => { let n = 0; for await (const c of r) n += (c as Buffer).length; return n; };

test('both consumers see every byte', async () => {
  const t = tee(Readable.from([Buffer.alloc(100), Buffer.alloc(50)]));
  assert.deepEqual(await t.both(drain(t.a), drain(t.b)), [150, 150]);
});

test('when one consumer fails the other is stopped with that error, and the error comes after both settled', async () => {
  // An endless input: without the stop, the healthy side would wait for ever.
  const input = new Readable({ read() { this.push(Buffer.alloc(1024)); } });
  const t = tee(input);
  let otherSettled = false;
  const failing = (async () => { for await (const _ of t.a) throw new Error('disk full'); })();
  const other = drain(t.b).finally(() => { otherSettled = true; });
  await assert.rejects(t.both(failing, other), /disk full/);
  assert.equal(otherSettled, true);
  assert.equal(input.destroyed, true);
  assert.equal(t.b.destroyed, true);
});

test('an error on the input reaches both consumers', async () => {
  const input = new Readable({ read() {} });
  const t = tee(input);
  const p = t.both(drain(t.a), drain(t.b));
  input.destroy(new Error('connection reset'));
  await assert.rejects(p, /connection reset/);
});
