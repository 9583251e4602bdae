import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient, queryString } from './engine-client.js';
import { ConnectionError, DaemonError, StreamError } from './errors.js';

/** Serves `handler` on a temp unix socket for the duration of `fn`. */
async function withServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void, fn: (host: string, paths: string[]) => Promise<void>, onUpgrade?: (req: http.IncomingMessage, s: Socket) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
  const paths: string[] = [];
  const server = http.createServer((req, res) => { paths.push(`${req.method} ${req.url}`); handler(req, res); });
  if (onUpgrade) server.on('upgrade', (req, s: Socket) => { paths.push(`UPGRADE ${req.url}`); onUpgrade(req, s); });
  const sock = join(dir, 's.sock');
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    await fn(`unix://${sock}`, paths);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
}

test('negotiates down to an older daemon and up to our maximum only', async () => {
  for (const [announced, expected] of [['1.41', '1.41'], ['1.50', '1.45'], [undefined, '1.24']] as const) {
    await withServer((req, res) => {
      const h: Record<string, string> = { 'Content-Type': 'application/json' };
      if (announced) h['Api-Version'] = announced;
      res.writeHead(200, h).end(req.url === '/_ping' ? 'OK' : '{"ok":true}');
    }, async (host, paths) => {
      const c = new EngineClient(host);
      assert.deepEqual(await c.json('GET', '/info'), { ok: true });
      assert.deepEqual(paths, ['GET /_ping', `GET /v${expected}/info`]);
      c.close();
    });
  }
});

test('error answers become DaemonError with the daemon message; stream errors throw', async () => {
  await withServer((req, res) => {
    if (req.url === '/_ping') return void res.writeHead(200, { 'Api-Version': '1.41' }).end('OK');
    if (req.url?.includes('/pull')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"status":"Pulling"}\n');
      return void res.end('{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n');
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No such container: x"}');
  }, async (host) => {
    const c = new EngineClient(host);
    await assert.rejects(c.json('GET', '/containers/x/json'), (e: unknown) => e instanceof DaemonError && e.status === 404 && e.display === 'Error response from daemon: No such container: x');
    const seen: unknown[] = [];
    await assert.rejects((async () => { for await (const m of c.jsonLines(await c.request('POST', '/pull'))) seen.push(m); })(), (e: unknown) => e instanceof StreamError && e.message === 'manifest unknown');
    assert.deepEqual(seen, [{ status: 'Pulling' }]);
    c.close();
  });
});

test('hijack upgrades the connection and carries bytes both ways with half-close', async () => {
  await withServer((req, res) => res.writeHead(200, { 'Api-Version': '1.41' }).end('OK'), async (host, paths) => {
    const c = new EngineClient(host);
    const h = await c.hijack('POST', '/containers/x/attach', { query: { stream: true, stdin: true } });
    h.socket.end('ping');
    let got = h.head.toString();
    for await (const chunk of h.socket) got += chunk.toString();
    assert.equal(got, 'echo:ping');
    assert.ok(paths.includes('UPGRADE /v1.41/containers/x/attach?stream=1&stdin=1'));
    c.close();
  }, (req, s) => {
    assert.equal(req.headers.upgrade, 'tcp');
    s.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    let input = '';
    s.on('data', (d) => { input += d; });
    s.on('end', () => s.end(`echo:${input}`));
  });
});

test('unreachable daemon is a ConnectionError naming the host', async () => {
  const c = new EngineClient('unix:///nonexistent/dir/berth.sock');
  await assert.rejects(c.ping(), (e: unknown) => e instanceof ConnectionError && e.message === 'Cannot connect to the Berth daemon at unix:///nonexistent/dir/berth.sock. Is the daemon running?');
});

test('host resolution order and query encoding', () => {
  assert.equal(EngineClient.hostFromEnv('tcp://1.2.3.4:2375', { BERTH_HOST: 'unix:///a', DOCKER_HOST: 'unix:///b' }), 'tcp://1.2.3.4:2375');
  assert.equal(EngineClient.hostFromEnv(undefined, { BERTH_HOST: 'unix:///a', DOCKER_HOST: 'unix:///b' }), 'unix:///a');
  assert.equal(EngineClient.hostFromEnv(undefined, { DOCKER_HOST: 'unix:///b' }), 'unix:///b');
  assert.equal(EngineClient.hostFromEnv(undefined, {}), 'unix:///run/berth.sock');
  assert.equal(queryString({ a: true, b: false, c: undefined, names: ['x', 'y:1'], f: '{"k":1}' }), '?a=1&b=0&names=x&names=y%3A1&f=%7B%22k%22%3A1%7D');
  assert.throws(() => new EngineClient('ftp://nope'), /unable to parse docker host/);
});
