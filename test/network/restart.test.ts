import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import { networkInstance } from '../../src/daemon/network-port.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// Published ports across daemon restarts: containers outlive the daemon
// (conmon), so their ports must keep answering while it is down and after
// it comes back (kill -9 and a clean stop), on 127.0.0.1 and on the host's
// own address; removing the container then frees the port and its rules.

let d: TestDaemon;
let table: string;
let hostAddr: string;

before(async () => {
  d = await startTestDaemon();
  table = `berth-${networkInstance(d.dataRoot).instance}`;
  // The address the host would use towards the outside: a route lookup, no traffic.
  hostAddr = (JSON.parse(execFileSync('ip', ['-json', 'route', 'get', '192.0.2.1'], { encoding: 'utf8' })) as { prefsrc: string }[])[0].prefsrc;
});
after(async () => {
  d?.berth(['rm', '-f', 'brst-web']);
  await d?.cleanup();
});

function get(host: string, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/passwd', agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The httpd answers (retrying briefly: the server may still be starting). */
async function answers(host: string, port: number): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 30; i++) {
    try {
      const r = await get(host, port);
      if (r.status === 200 && r.body.startsWith('root:x:0:0:')) return;
      last = new Error(`status ${r.status}`);
    } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${host}:${port} did not answer: ${last}`);
}

function nftTable(): string {
  return execFileSync('nft', ['list', 'table', 'ip', table], { encoding: 'utf8' });
}

async function stopCleanly(): Promise<void> {
  d.proc.kill('SIGTERM');
  await new Promise((r) => d.proc.once('exit', r));
}

test('a published port answers through kill -9 and a clean stop of the daemon, and is freed by rm', { timeout: 180_000 }, async () => {
  const r = d.berth(['run', '-d', '--name', 'brst-web', '-p', '80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  assert.equal(r.code, 0, r.stderr);
  const port = Number((await d.api('GET', '/containers/brst-web/json')).body.NetworkSettings.Ports['80/tcp'][0].HostPort);
  assert.ok(port > 0);
  await answers('127.0.0.1', port);
  await answers(hostAddr, port);

  await d.crash();
  // With the daemon gone the kernel's DNAT still carries the traffic.
  await answers('127.0.0.1', port);
  await d.restart();
  await answers('127.0.0.1', port);
  await answers(hostAddr, port);
  const inspect = (await d.api('GET', '/containers/brst-web/json')).body;
  assert.equal(inspect.State.Running, true);
  assert.equal(inspect.NetworkSettings.Ports['80/tcp'][0].HostPort, String(port));
  assert.match(d.berth(['port', 'brst-web']).stdout, new RegExp(`80/tcp -> 0\\.0\\.0\\.0:${port}`));

  await stopCleanly();
  await d.restart();
  await answers('127.0.0.1', port);
  await answers(hostAddr, port);
  // After a restart the port is held again: another process cannot take it.
  await assert.rejects(listenOn(port), /EADDRINUSE/);
  assert.match(nftTable(), new RegExp(`\\b${port} : \\d+\\.\\d+\\.\\d+\\.\\d+ \\. 80\\b`));

  assert.equal(d.berth(['rm', '-f', 'brst-web']).code, 0);
  assert.doesNotMatch(nftTable(), new RegExp(`\\b${port} : `));
  await assert.rejects(get('127.0.0.1', port), /ECONNREFUSED/);
  await assert.rejects(get(hostAddr, port), /ECONNREFUSED/);
  const srv = await listenOn(port);
  srv.close();
});

function listenOn(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(port, '0.0.0.0', () => resolve(s));
  });
}
