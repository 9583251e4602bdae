import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, statusText } from './view.js';
import { initialState, type ContainerRecord } from './record.js';

function rec(state: Partial<ContainerRecord['State']>): ContainerRecord {
  return { State: { ...initialState(), ...state } } as ContainerRecord;
}

test('human durations read as docker ps prints them', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(17_000), '17 seconds');
  assert.equal(humanDuration(61_000), 'About a minute');
  assert.equal(humanDuration(4 * 60_000), '4 minutes');
  assert.equal(humanDuration(3 * 3_600_000), '3 hours');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
});

test('status text covers created, up, paused and exited', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  assert.equal(statusText(rec({}), now), 'Created');
  assert.equal(statusText(rec({ Running: true, Status: 'running', StartedAt: '2026-01-01T00:09:44Z' }), now), 'Up 16 seconds');
  assert.equal(statusText(rec({ Running: true, Paused: true, Status: 'paused', StartedAt: '2026-01-01T00:09:44Z' }), now), 'Up 16 seconds (Paused)');
  assert.equal(statusText(rec({ Status: 'exited', ExitCode: 3, FinishedAt: '2026-01-01T00:06:00Z' }), now), 'Exited (3) 4 minutes ago');
});
