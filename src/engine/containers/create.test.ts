import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkContainerName, commandLine, mergeImageConfig, newContainerRecord, parseSignal, validateCreate } from './create.js';
import type { ContainerRecord } from './record.js';

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

test('container names: Docker\'s rule and texts for an invalid name and one already held', () => {
  assert.throws(() => checkContainerName('bad name', undefined), /Invalid container name \(bad name\), only \[a-zA-Z0-9\]/);
  const owner = { Id: 'f'.repeat(64) } as ContainerRecord;
  assert.throws(() => checkContainerName('web', owner), new RegExp(`The container name "/web" is already in use by container "${owner.Id}"`));
  assert.throws(() => checkContainerName('/web', owner), /The container name "\/web" is already in use/);
  checkContainerName('web_1.a-b', undefined);
});

test('a new record: name with one slash, hostname from the ID (host mode: the machine\'s), files in its dir', () => {
  const rec = newContainerRecord({ id: 'a'.repeat(64), name: 'web', config: { Image: 'busybox', Cmd: ['sh'] }, hostConfig: {}, imageId: 'sha256:x', argv: ['sh', '-c', 'true'], dir: '/d' });
  assert.equal(rec.Name, '/web');
  assert.equal(rec.Config.Hostname, 'a'.repeat(12));
  assert.deepEqual([rec.Path, rec.Args], ['sh', ['-c', 'true']]);
  assert.equal(rec.LogPath, `/d/${'a'.repeat(64)}-json.log`);
  assert.equal(rec.State.Status, 'created');
  assert.equal(rec.NetworkingConfig, undefined);
  const host = newContainerRecord({ id: 'b'.repeat(64), name: '/h', config: {}, hostConfig: { NetworkMode: 'host' }, imageId: 'x', argv: ['true'], dir: '/d' });
  assert.equal(host.Name, '/h');
  assert.notEqual(host.Config.Hostname, 'b'.repeat(12));
});
