import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidParent } from './cache-from.js';
import type { HistoryEntry, ImageConfig } from '../images/types.js';

const d = (n: number) => 'sha256:' + String(n).repeat(64).slice(0, 64);
const row = (by: string, empty = false): HistoryEntry => ({ created: '2026-01-01T00:00:00Z', created_by: by, ...(empty ? { empty_layer: true } : {}) });
const img = (history: HistoryEntry[], diffIds: string[]): ImageConfig => ({ architecture: 'amd64', os: 'linux', history, rootfs: { type: 'layers', diff_ids: diffIds } });

test('a cache source must extend the parent: its history and layers start with the parent\'s', () => {
  const base = img([row('base')], [d(1)]);
  const source = img([row('base'), row('ENV A=1', true), row('RUN x')], [d(1), d(2)]);
  assert.ok(isValidParent(source, base));
  assert.ok(isValidParent(source, undefined), 'scratch prefixes anything');
  assert.ok(isValidParent(source, img([], [])), 'an empty image counts as scratch');
  assert.ok(!isValidParent(source, img([row('other')], [d(1)])), 'a different history row');
  assert.ok(!isValidParent(source, img([row('base')], [d(9)])), 'a different layer');
  assert.ok(!isValidParent(source, source), 'the parent must be strictly shorter');
  assert.ok(!isValidParent(img([], []), base), 'a source without history serves nothing');
  const later = img([{ ...row('base'), created: '2026-02-02T00:00:00Z' }], [d(1)]);
  assert.ok(!isValidParent(source, later), 'rows compare whole, creation time included');
});
