import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseBytes, parseDuration } from './units.js';
import { parsePorts, parseVolume, shellSplit, listOrMap } from './syntax.js';

test('durations read and print as Go does', () => {
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseDuration('500ms'), 500e6);
  assert.equal(parseDuration(10), 10e9);
  assert.equal(parseDuration('soon'), undefined);
  assert.equal(parseDuration('10x'), undefined);
  assert.equal(formatDuration(90e9), '1m30s');
  assert.equal(formatDuration(3600e9), '1h0m0s');
  assert.equal(formatDuration(1.5e9), '1.5s');
  assert.equal(formatDuration(250e6), '250ms');
  assert.equal(formatDuration(0), '0s');
});

test('sizes in bytes', () => {
  assert.equal(parseBytes('512m'), 512 * 1024 ** 2);
  assert.equal(parseBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(parseBytes('100kb'), 102400);
  assert.equal(parseBytes(2048), 2048);
  assert.equal(parseBytes('lots'), undefined);
  assert.equal(parseBytes('-1'), undefined);
});

test('port short syntax edge cases', () => {
  assert.deepEqual(parsePorts('8000-8002:80'), [{ mode: 'ingress', target: 80, protocol: 'tcp', published: '8000-8002' }]);
  assert.throws(() => parsePorts('80/http'), /invalid proto: http/);
  assert.throws(() => parsePorts('8000-8001:80-82'), /invalid ranges/);
  assert.throws(() => parsePorts('99999'), /invalid port range/);
  assert.throws(() => parsePorts('a:b'), /invalid port format/);
});

test('volume short syntax edge cases', () => {
  assert.deepEqual(parseVolume('./x:/y:ro,rshared', '/p'), { type: 'bind', source: '/p/x', target: '/y', read_only: true, bind: { create_host_path: true, propagation: 'rshared' } });
  assert.throws(() => parseVolume('a:/b:bogus', '/p'), /invalid mode: bogus/);
  assert.throws(() => parseVolume(':/b', '/p'), /empty section between colons/);
});

test('command strings split as a shell would, without expanding', () => {
  assert.deepEqual(shellSplit(`sh -c 'echo "$HOME" && ls'`), ['sh', '-c', 'echo "$HOME" && ls']);
  assert.deepEqual(shellSplit('a\\ b "c \\"d\\"" \'\''), ['a b', 'c "d"', '']);
  assert.throws(() => shellSplit('echo "open'), /unterminated quote/);
});

test('lists and maps of KEY=VALUE', () => {
  assert.deepEqual(listOrMap(['A=1', 'B', 'C=x=y']), { A: '1', B: null, C: 'x=y' });
  assert.deepEqual(listOrMap({ A: 1, B: null, C: false }), { A: '1', B: null, C: 'false' });
});
