import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Duplex } from 'node:stream';
import { ApiComposeEngine, demux, splitRef, type EngineApi } from './api-engine.js';

/** A daemon stand-in on a temp unix socket: records requests and answers from `routes`. */
async function fakeDaemon(routes: Record<string, (req: http.IncomingMessage, body: string, res: http.ServerResponse) => void>) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-compose-api-'));
  const socketPath = join(dir, 'd.sock');
  const seen: { method: string; url: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body });
      const key = `${req.method} ${new URL(req.url!, 'http://x').pathname}`;
      const h = routes[key];
      if (!h) { res.statusCode = 404; res.end(JSON.stringify({ message: `no route ${key}` })); return; }
      h(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  after(() => { server.close(); rmSync(dir, { recursive: true, force: true }); });

  // A minimal EngineApi client, shaped like src/client's EngineClient.
  const send = (method: string, path: string, opts: { query?: Record<string, unknown>; body?: unknown } = {}) => new Promise<http.IncomingMessage>((resolve, reject) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== null) q.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    const req = http.request({ socketPath, method, path: `${path}${q.size ? `?${q}` : ''}` }, async (res) => {
      if ((res.statusCode ?? 500) >= 400) {
        let text = '';
        for await (const c of res) text += c;
        reject(Object.assign(new Error(JSON.parse(text).message), { status: res.statusCode }));
      } else resolve(res);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.end(JSON.stringify(opts.body)); else req.end();
  });
  const api: EngineApi = {
    async json(method, path, opts) {
      const res = await send(method, path, opts);
      let text = '';
      for await (const c of res) text += c;
      return text ? JSON.parse(text) : undefined;
    },
    request: (method, path, opts) => send(method, path, opts),
    async hijack(): Promise<{ socket: Duplex; head: Buffer }> { throw new Error('not used here'); },
  };
  return { api, seen };
}

function frame(stream: 1 | 2, text: string): Buffer {
  const data = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}

test('list and create map onto the Engine API paths, queries and bodies', async () => {
  const { api, seen } = await fakeDaemon({
    'GET /containers/json': (_q, _b, res) => res.end('[]'),
    'POST /containers/create': (_q, _b, res) => { res.statusCode = 201; res.end('{"Id":"abc"}'); },
    'DELETE /containers/abc': (_q, _b, res) => { res.statusCode = 204; res.end(); },
  });
  const engine = new ApiComposeEngine(api);
  assert.deepEqual(await engine.listContainers({ label: ['com.docker.compose.project=app'] }, true), []);
  assert.deepEqual(await engine.createContainer('app-web-1', { Image: 'x', HostConfig: {} }), { Id: 'abc' });
  await engine.removeContainer('abc', { v: true, force: true });
  assert.equal(seen[0].url, `/containers/json?all=1&filters=${encodeURIComponent('{"label":["com.docker.compose.project=app"]}')}`);
  assert.equal(seen[1].url, '/containers/create?name=app-web-1');
  assert.deepEqual(JSON.parse(seen[1].body), { Image: 'x', HostConfig: {} });
  assert.equal(seen[2].url, '/containers/abc?v=1&force=1');
});

test('logs are demultiplexed and split into lines, whatever the chunking', async () => {
  const payload = Buffer.concat([frame(1, 'hel'), frame(1, 'lo\nwor'), frame(2, 'oops\n'), frame(1, 'ld\n')]);
  const { api } = await fakeDaemon({
    'GET /containers/c1/json': (_q, _b, res) => res.end('{"Id":"c1","Config":{"Tty":false}}'),
    'GET /containers/c1/logs': (_q, _b, res) => {
      // Dribble the bytes so frames straddle chunks.
      let i = 0;
      const tick = () => { if (i >= payload.length) return void res.end(); res.write(payload.subarray(i, i + 5)); i += 5; setImmediate(tick); };
      tick();
    },
  });
  const lines = [];
  for await (const l of new ApiComposeEngine(api).logs('c1', {})) lines.push(`${l.stream}:${l.text}`);
  assert.deepEqual(lines, ['stdout:hello\n', 'stderr:oops\n', 'stdout:world\n']);
});

test('a missing image is undefined; an in-band pull error fails the pull', async () => {
  const { api } = await fakeDaemon({
    'POST /images/create': (_q, _b, res) => res.end('{"status":"Pulling from library/x"}\n{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n'),
  });
  const engine = new ApiComposeEngine(api);
  assert.equal(await engine.inspectImage('nothere'), undefined);
  await assert.rejects(engine.pullImage('x:1'), /manifest unknown/);
});

test('demux and image reference splitting', async () => {
  const out = [];
  for await (const f of demux(Readable.from([Buffer.concat([frame(2, 'e'), frame(1, 'o')])]))) out.push(`${f.stream}=${f.data}`);
  assert.deepEqual(out, ['stderr=e', 'stdout=o']);
  assert.deepEqual(splitRef('localhost:5000/app:1.2'), ['localhost:5000/app', '1.2']);
  assert.deepEqual(splitRef('localhost:5000/app'), ['localhost:5000/app', undefined]);
  assert.deepEqual(splitRef('busybox'), ['busybox', undefined]);
});
