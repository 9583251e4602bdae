import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frame, STDERR } from './streams.js';
import { parseDetachKeys, logTimestamp } from './routes/stdio.js';

test('stdcopy frames carry stream number and big-endian size', () => {
  const f = frame(STDERR, Buffer.from('hello'));
  assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 5]);
  assert.equal(f.subarray(8).toString(), 'hello');
});

test('detach keys parse like docker --detach-keys', () => {
  assert.deepEqual([...parseDetachKeys(null)], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [1, 120]);
  assert.throws(() => parseDetachKeys('ctrl-aa'), /Invalid detach keys/);
});

test('log timestamps have nanosecond precision like Docker', () => {
  assert.equal(logTimestamp('2026-01-02T03:04:05.678+00:00'), '2026-01-02T03:04:05.678000000Z');
  assert.equal(logTimestamp('2026-01-02T05:04:05.123456789+02:00'), '2026-01-02T03:04:05.123456789Z');
});
