import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, bytesSize, humanDuration, humanSize, parseGoDuration, parseTimestamp, rfc3339NanoFixed } from './human.js';

test('human durations follow go-units', () => {
  const s = 1000;
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1 * s), '1 second');
  assert.equal(humanDuration(17 * s), '17 seconds');
  assert.equal(humanDuration(59 * s), '59 seconds');
  assert.equal(humanDuration(60 * s), 'About a minute');
  assert.equal(humanDuration(119 * s), 'About a minute');
  assert.equal(humanDuration(4 * 60 * s), '4 minutes');
  assert.equal(humanDuration(59 * 60 * s), '59 minutes');
  assert.equal(humanDuration(60 * 60 * s), 'About an hour');
  assert.equal(humanDuration(90 * 60 * s), '2 hours');
  assert.equal(humanDuration(47 * 3600 * s), '47 hours');
  assert.equal(humanDuration(3 * 24 * 3600 * s), '3 days');
  assert.equal(humanDuration(20 * 24 * 3600 * s), '2 weeks');
  assert.equal(humanDuration(90 * 24 * 3600 * s), '3 months');
  assert.equal(humanDuration(3 * 365 * 24 * 3600 * s), '3 years');
  assert.equal(ago(1000, 1017_000), '17 seconds ago');
});

test('human sizes: decimal with three significant digits, binary for memory', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1000), '1kB');
  assert.equal(humanSize(1240), '1.24kB');
  assert.equal(humanSize(4_261_412), '4.26MB');
  assert.equal(humanSize(1_983_488), '1.98MB');
  assert.equal(humanSize(72_800_000), '72.8MB');
  assert.equal(humanSize(1_500_000_000), '1.5GB');
  assert.equal(bytesSize(4_123_456_789), '3.84GiB');
});

test('--since/--until accept durations, RFC3339 and unix timestamps', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(parseTimestamp('1700000000', now), '1700000000');
  assert.equal(parseTimestamp('1700000000.5', now), '1700000000.5');
  assert.equal(parseTimestamp('10m', now), `${now / 1000 - 600}.000000000`);
  assert.equal(parseTimestamp('1h30m', now), `${now / 1000 - 5400}.000000000`);
  assert.equal(parseTimestamp('2026-01-01T11:00:00Z', now), String(now / 1000 - 3600));
  assert.equal(parseTimestamp('2026-01-01T11:00:00.25Z', now), `${now / 1000 - 3600}.250000000`);
  assert.equal(parseTimestamp('2026-01-01T13:00:00+02:00', now), String(now / 1000 - 3600));
  assert.throws(() => parseTimestamp('yesterday', now), /failed to parse value as time or duration: "yesterday"/);
  assert.equal(parseGoDuration('300ms'), 300);
  assert.equal(parseGoDuration('abc'), undefined);
});

test('event timestamps carry nine fractional digits', () => {
  const t = rfc3339NanoFixed(1_700_000_000_000_000_123n);
  assert.match(t, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000000123(Z|[+-]\d{2}:\d{2})$/);
});
