import assert from 'node:assert/strict';
import { it } from 'node:test';
import { familiarName, formatReference, parseReference } from './reference.js';

it('normalises references as Docker does', () => {
  const cases: [string, string][] = [
    ['php', 'docker.io/library/php:latest'],
    ['my_user/my_image', 'docker.io/my_user/my_image:latest'],
    ['host:8000/my_image', 'host:8000/my_image:latest'],
    ['localhost/app:1.0', 'localhost/app:1.0'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['ghcr.io/a/b/c:v-1.2_x', 'ghcr.io/a/b/c:v-1.2_x'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    [`name@sha256:${'a'.repeat(64)}`, `docker.io/library/name@sha256:${'a'.repeat(64)}`],
    [`name:tag@sha256:${'b'.repeat(64)}`, `docker.io/library/name:tag@sha256:${'b'.repeat(64)}`],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
  assert.equal(familiarName(parseReference('php')), 'php');
  assert.equal(familiarName(parseReference('localhost:5000/x/y')), 'localhost:5000/x/y');
});

it('rejects invalid references with Docker messages', () => {
  for (const bad of ['', 'a b', 'name:', ':tag', 'UPPER:x/y', 'a//b', 'name@sha256:abc', '-x', 'x/-y', 'name:' + 't'.repeat(129)]) {
    assert.throws(() => parseReference(bad), /^InvalidArgument: invalid reference format/, JSON.stringify(bad));
  }
  assert.throws(() => parseReference('Upper'), { message: 'invalid reference format: repository name must be lowercase' });
  assert.throws(() => parseReference('host:5000/MyImage'), { message: 'invalid reference format: repository name must be lowercase' });
});
