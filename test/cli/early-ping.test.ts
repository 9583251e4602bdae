import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDaemon, reply, runBerth } from './fake-daemon.js';
import { preScan } from '../../src/cli/commands/index.js';

/**
 * `berth` sends its `/_ping` while it still loads the command's code (see
 * CliContext.negotiateEarly): it must go to the host the command line names,
 * happen once, and never where the command does not talk to the daemon.
 */
function daemon(): FakeDaemon {
  return new FakeDaemon((req, res) => {
    if (req.path === '/_ping') return void res!.writeHead(200, { 'Api-Version': '1.43' }).end('OK');
    if (req.path === '/containers/json') return reply(res, 200, []);
    reply(res, 404, { message: 'page not found' });
  });
}

test('preScan reads -H in each spelling and knows which commands reach the daemon', () => {
  assert.deepEqual(preScan(['-H', 'unix:///a.sock', 'run', '--rm', 'busybox']), { host: 'unix:///a.sock', daemonCommand: true });
  assert.deepEqual(preScan(['--host=tcp://1.2.3.4:2375', 'ps']), { host: 'tcp://1.2.3.4:2375', daemonCommand: true });
  assert.deepEqual(preScan(['-Hunix:///b.sock', '-D', 'container', 'ls']), { host: 'unix:///b.sock', daemonCommand: true });
  assert.deepEqual(preScan(['-l', 'debug', 'ps', '-H', 'x']), { host: undefined, daemonCommand: true }, 'options after the command are its own');
  assert.equal(preScan(['run', '--help']).daemonCommand, false);
  assert.equal(preScan(['logout']).daemonCommand, false);
  assert.equal(preScan(['compose', 'up']).daemonCommand, false);
  assert.equal(preScan(['nosuchcommand']).daemonCommand, false);
  assert.equal(preScan([]).daemonCommand, false);
});

test('one /_ping, to the -H host, not to BERTH_HOST; none for --help or with a pinned API version', async () => {
  const named = daemon();
  const fromEnv = daemon();
  await named.listen();
  await fromEnv.listen();
  try {
    const r = await runBerth(null, ['--host=' + named.host, 'ps', '-q'], undefined, { BERTH_HOST: fromEnv.host });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(named.seen.map((s) => s.path), ['/_ping', '/containers/json']);
    assert.deepEqual(named.versions, ['1.43']);
    assert.equal(fromEnv.seen.length, 0);

    const help = await runBerth(null, ['ps', '--help'], undefined, { BERTH_HOST: fromEnv.host });
    assert.equal(help.code, 0, help.stderr);
    const pinned = await runBerth(null, ['ps'], undefined, { BERTH_HOST: fromEnv.host, DOCKER_API_VERSION: '1.41' });
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.deepEqual(fromEnv.seen.map((s) => s.path), ['/containers/json']);
    assert.deepEqual(fromEnv.versions, ['1.41']);
  } finally {
    await named.close();
    await fromEnv.close();
  }
});

test('a daemon that is down still gives the connection error, once, from the command', async () => {
  const r = await runBerth('unix:///nonexistent/bcli-early.sock', ['ps']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.match(/Cannot connect to the Berth daemon at unix:\/\/\/nonexistent\/bcli-early.sock/g)?.length, 1, r.stderr);
});
