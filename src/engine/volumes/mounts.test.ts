import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseMountRequests, parseVolumesFrom } from './mounts.js';

test('-v forms: bind with options, named volume, anonymous', () => {
  assert.deepEqual(
    { ...parseBind('/srv/data:/data:ro') },
    { Type: 'bind', Source: '/srv/data', Destination: '/data', Mode: 'ro', RW: false, Propagation: 'rprivate', CreateHostPath: true },
  );
  const named = parseBind('dbdata:/var/lib/mysql');
  assert.equal(named.Type, 'volume');
  assert.equal(named.Name, 'dbdata');
  assert.equal(named.RW, true);
  const anon = parseBind('/var/lib/mysql');
  assert.equal(anon.Anonymous, true);
  assert.throws(() => parseBind('a:b:c:d'), /invalid volume specification/);
  assert.throws(() => parseBind('/x:/y:bogus'), /invalid mode: bogus/);
  assert.throws(() => parseBind('./rel:/y'), /absolute path/);
});

test('requests combine binds, mounts, tmpfs and image volumes without duplicates', () => {
  const reqs = parseMountRequests(
    { Volumes: { '/var/lib/mysql': {}, '/data': {} } },
    { Binds: ['/tmp/x:/data'], Tmpfs: { '/run': 'size=64m' }, Mounts: [{ Type: 'volume', Source: 'v1', Target: '/v1', VolumeOptions: { NoCopy: true } }] },
  );
  assert.deepEqual(reqs.map((r) => [r.Type, r.Destination]), [['bind', '/data'], ['volume', '/v1'], ['tmpfs', '/run'], ['volume', '/var/lib/mysql']]);
  assert.equal(reqs[1].NoCopy, true);
  assert.deepEqual(reqs[2].TmpfsOptions, ['size=64m']);
  assert.throws(() => parseMountRequests({}, { Binds: ['/a:/x', 'v:/x'] }), /Duplicate mount point: \/x/);
  assert.throws(() => parseMountRequests({}, { Binds: ['/a:relative'] }), /must be absolute/);
});

test('--volumes-from mode suffix', () => {
  assert.deepEqual(parseVolumesFrom('dbdata'), { ref: 'dbdata' });
  assert.deepEqual(parseVolumesFrom('dbdata:ro'), { ref: 'dbdata', mode: 'ro' });
  assert.throws(() => parseVolumesFrom('dbdata:xx'), /invalid mode/);
});
