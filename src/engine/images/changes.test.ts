import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from './changes.js';

test('changes: Dockerfile forms as docker import -c takes them', () => {
  const c = applyChanges({ Env: ['PATH=/bin', 'A=old'] }, [
    'CMD echo hi', 'ENTRYPOINT ["/init"]', "ENV A=new B='x y'", 'ENV C spaced value', 'label "a b"=c', 'VOLUME ["/v1", "/v2"]', 'EXPOSE 8080/UDP',
  ]);
  assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(c.Entrypoint, ['/init']);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=new', 'B=x y', 'C=spaced value']);
  assert.deepEqual(c.Labels, { 'a b': 'c' });
  assert.deepEqual(c.Volumes, { '/v1': {}, '/v2': {} });
  assert.deepEqual(c.ExposedPorts, { '8080/udp': {} });
  assert.throws(() => applyChanges({}, ['RUN apt-get update']), /RUN is not a valid change command/);
  assert.throws(() => applyChanges({}, ['EXPOSE http']), /invalid containerPort: http/);
  assert.throws(() => applyChanges({}, ['WORKDIR']), /WORKDIR requires at least one argument/);
  assert.throws(() => applyChanges({}, ['ENV A="unterminated']), /unmatched quote/);
});
