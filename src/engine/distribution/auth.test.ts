import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseChallenge } from './auth.js';

it('parses WWW-Authenticate challenges', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/php:pull"'), {
    scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/php:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.deepEqual(parseChallenge('Bearer realm=https://x/t, service=svc, error="insufficient_scope"'), {
    scheme: 'bearer', params: { realm: 'https://x/t', service: 'svc', error: 'insufficient_scope' },
  });
  assert.equal(parseChallenge(undefined), undefined);
});
