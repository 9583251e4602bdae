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

test('a stopped container shows the networks it will join; disconnected from its NetworkMode network it starts without it', async () => {
  after(() => { d.berth(['rm', '-f', 'cs-prim']); });
  assert.equal(d.berth(['network', 'create', 'cs-net3']).code, 0);
  after(async () => { await d.api('DELETE', '/networks/cs-net3'); });
  let r = d.berth(['create', '--name', 'cs-prim', 'busybox', 'sleep', '1000']);
  assert.equal(r.code, 0, r.stderr);
  // Before it ever ran, inspect lists the default bridge with no address (as Docker does).
  assert.deepEqual(await networksOf('cs-prim'), ['bridge']);
  assert.equal((await d.api('GET', '/containers/cs-prim/json')).body.NetworkSettings.Networks.bridge.IPAddress, '');

  r = d.berth(['network', 'disconnect', 'bridge', 'cs-prim']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await networksOf('cs-prim'), []);
  // Disconnecting again names what is wrong.
  r = d.berth(['network', 'disconnect', 'bridge', 'cs-prim']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /is not connected to network bridge/);

  assert.equal(d.berth(['start', 'cs-prim']).code, 0);
  assert.deepEqual(await networksOf('cs-prim'), []);
  assert.equal((await d.api('GET', '/containers/cs-prim/json')).body.HostConfig.NetworkMode, 'default');
  const links = d.berth(['exec', 'cs-prim', 'ls', '/sys/class/net']).stdout.split(/\s+/).filter(Boolean);
  assert.deepEqual(links, ['lo']);

  // Connected to another network while stopped, it starts on that one alone.
  assert.equal(d.berth(['stop', '-t', '0', 'cs-prim']).code, 0);
  r = d.berth(['network', 'connect', 'cs-net3', 'cs-prim']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(d.berth(['start', 'cs-prim']).code, 0);
  assert.deepEqual(await networksOf('cs-prim'), ['cs-net3']);

  // Reconnecting the NetworkMode network brings it back at the next start.
  assert.equal(d.berth(['stop', '-t', '0', 'cs-prim']).code, 0);
  assert.equal(d.berth(['network', 'connect', 'bridge', 'cs-prim']).code, 0);
  assert.deepEqual(await networksOf('cs-prim'), ['bridge', 'cs-net3']);
  assert.equal(d.berth(['start', 'cs-prim']).code, 0);
  assert.deepEqual(await networksOf('cs-prim'), ['bridge', 'cs-net3']);
});
