import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandLine, mergeImageConfig, parseSignal, validateCreate } from './create.js';

test('user Cmd replaces the image Cmd and keeps the image Entrypoint', () => {
  const m = mergeImageConfig({ Image: 'x', Cmd: ['--help'] }, { Entrypoint: ['mailcatcher'], Cmd: ['-f'] });
  assert.deepEqual(commandLine(m), ['mailcatcher', '--help']);
});

test('an explicit entrypoint discards the image Cmd', () => {
  const m = mergeImageConfig({ Image: 'x', Entrypoint: ['sh'] }, { Entrypoint: ['a'], Cmd: ['b'] });
  assert.deepEqual(commandLine(m), ['sh']);
});

test('--entrypoint "" clears the image entrypoint', () => {
  const m = mergeImageConfig({ Image: 'x', Entrypoint: [''], Cmd: ['ls'] }, { Entrypoint: ['a'], Cmd: ['b'] });
  assert.deepEqual(commandLine(m), ['ls']);
});

test('environment merges by key with user values winning', () => {
  const m = mergeImageConfig({ Image: 'x', Env: ['A=user', 'C=3'] }, { Env: ['PATH=/bin', 'A=image'] });
  assert.deepEqual(m.Env, ['PATH=/bin', 'A=user', 'C=3']);
});

test('signals parse in every form Docker accepts', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('SIGNOPE'), undefined);
  assert.equal(parseSignal('0'), undefined);
});

test('create validation refuses --rm with a restart policy and bad policies', () => {
  assert.throws(() => validateCreate({}, { AutoRemove: true, RestartPolicy: { Name: 'always' } }), /cannot specify both --restart and --rm/);
  assert.throws(() => validateCreate({}, { RestartPolicy: { Name: 'sometimes' as any } }), /invalid restart policy/);
  assert.throws(() => validateCreate({}, { RestartPolicy: { Name: 'always', MaximumRetryCount: 3 } }), /only be used with 'on-failure'/);
  assert.throws(() => validateCreate({}, { Memory: 1024 }), /Minimum memory limit/);
  assert.doesNotThrow(() => validateCreate({}, { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }));
});
