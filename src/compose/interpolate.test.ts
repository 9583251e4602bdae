import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolate, InterpolationError } from './interpolate.js';
import { parseDotenv } from './dotenv.js';

const env = { SET: 'value', EMPTY: '' };

test('plain and braced variables', () => {
  assert.equal(interpolate('$SET/${SET}', env), 'value/value');
  assert.equal(interpolate('a $UNSET b', env), 'a  b');
  assert.equal(interpolate('$SET_x', env), '');
  assert.equal(interpolate('${SET}_x', env), 'value_x');
});

test('defaults distinguish unset from empty with and without colon', () => {
  assert.equal(interpolate('${UNSET:-d}', env), 'd');
  assert.equal(interpolate('${EMPTY:-d}', env), 'd');
  assert.equal(interpolate('${EMPTY-d}', env), '');
  assert.equal(interpolate('${UNSET-d}', env), 'd');
  assert.equal(interpolate('${SET:-d}', env), 'value');
});

test('alternatives', () => {
  assert.equal(interpolate('${SET:+alt}', env), 'alt');
  assert.equal(interpolate('${EMPTY:+alt}', env), '');
  assert.equal(interpolate('${EMPTY+alt}', env), 'alt');
  assert.equal(interpolate('${UNSET+alt}', env), '');
});

test('nested defaults and escaped dollars', () => {
  assert.equal(interpolate('${UNSET:-${SET}-x}', env), 'value-x');
  assert.equal(interpolate('$$SET and $${SET}', env), '$SET and ${SET}');
  assert.equal(interpolate('cost: 5$$', env), 'cost: 5$');
});

test('required variables fail with compose\'s message', () => {
  assert.throws(() => interpolate('${UNSET:?please set it}', env), new InterpolationError('required variable UNSET is missing a value: please set it'));
  assert.throws(() => interpolate('${EMPTY:?}', env), /^InterpolationError: required variable EMPTY is missing a value$/);
  assert.equal(interpolate('${EMPTY?x}', env), '');
  assert.throws(() => interpolate('${UNSET?gone}', env), /required variable UNSET is missing a value: gone/);
});

test('malformed substitutions are refused', () => {
  assert.throws(() => interpolate('${', env), /invalid interpolation format/);
  assert.throws(() => interpolate('${SET', env), /invalid interpolation format/);
  assert.throws(() => interpolate('$-x', env), /invalid interpolation format/);
  assert.throws(() => interpolate('${SET!x}', env), /invalid interpolation format/);
});

test('.env files: quotes, export, comments, references', () => {
  const out = parseDotenv([
    '# comment', 'export A=1', "B='${A} literal'", 'C="line\\nbreak ${A}"', 'D=plain value # trailing', 'E=${A}2', 'F=', ' G = spaced ',
  ].join('\n'));
  assert.deepEqual(out, { A: '1', B: '${A} literal', C: 'line\nbreak 1', D: 'plain value', E: '12', F: '', G: 'spaced' });
  assert.throws(() => parseDotenv('BAD KEY=1', {}, 'x.env'), /x.env:1: unexpected character/);
});
