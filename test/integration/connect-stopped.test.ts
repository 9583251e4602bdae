import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// `network connect`/`disconnect` of a container that is not running take
// effect at its next start, as Docker does (docker-compose 1.29 connects
// every created container before starting it).
let d: TestDaemon;
before(async () => { d = await startTestDaemon(); });
after(async () => {
  d?.berth(['rm', '-f', 'cs-ctr']);
  await d?.api('DELETE', '/networks/cs-net1');
  await d?.api('DELETE', '/networks/cs-net2');
  await d?.cleanup();
});

const networksOf = async (name: string) => Object.keys((await d.api('GET', `/containers/${name}/json`)).body.NetworkSettings.Networks ?? {}).sort();

test('a created container joins networks connected before its start; a disconnect before a restart leaves it out', async () => {
  for (const n of ['cs-net1', 'cs-net2']) assert.equal(d.berth(['network', 'create', n]).code, 0);
  let r = d.berth(['create', '--name', 'cs-ctr', '--network', 'cs-net1', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
  r = d.berth(['network', 'connect', '--alias', 'second', 'cs-net2', 'cs-ctr']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(d.berth(['start', 'cs-ctr']).code, 0);
  assert.deepEqual(await networksOf('cs-ctr'), ['cs-net1', 'cs-net2']);
  const aliases = (await d.api('GET', '/containers/cs-ctr/json')).body.NetworkSettings.Networks['cs-net2'].Aliases;
  assert.ok(aliases.includes('second'), JSON.stringify(aliases));

  assert.equal(d.berth(['stop', '-t', '0', 'cs-ctr']).code, 0);
  r = d.berth(['network', 'disconnect', 'cs-net2', 'cs-ctr']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(d.berth(['start', 'cs-ctr']).code, 0);
  assert.deepEqual(await networksOf('cs-ctr'), ['cs-net1']);
});
