import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { sendFile } from './send-file.js';

test('sendFile: whole file, ranges across buffer boundaries, and a client leaving mid-body', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-sendfile-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  // Larger than loopback socket buffers can hold, so a client leaving mid-body is noticed.
  const data = randomBytes((24 << 20) + 12345);
  const file = path.join(dir, 'blob');
  await fs.writeFile(file, data);
  const outcomes: Array<'ok' | 'failed'> = [];
  const server = http.createServer((req, res) => {
    const [start, end] = (req.headers['x-range'] as string | undefined)?.split('-').map(Number) ?? [0, data.length - 1];
    res.writeHead(200, { 'Content-Length': end - start + 1 });
    sendFile(file, res, start, end).then(() => outcomes.push('ok'), () => { outcomes.push('failed'); res.destroy(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const get = async (range?: string) => Buffer.from(await (await fetch(url, { headers: range ? { 'x-range': range } : {} })).arrayBuffer());
  assert.ok((await get()).equals(data), 'whole file');
  assert.ok((await get(`${(1 << 20) - 7}-${(2 << 20) + 9}`)).equals(data.subarray((1 << 20) - 7, (2 << 20) + 10)), 'range over two buffer edges');
  assert.ok((await get('5-5')).equals(data.subarray(5, 6)), 'one byte');
  // A client that reads a little and hangs up: the send fails, the server carries on.
  await new Promise<void>((resolve) => {
    const req = http.get(url, (res) => { res.once('data', () => { req.destroy(); resolve(); }); });
    req.on('error', () => undefined);
  });
  for (let i = 0; i < 100 && outcomes.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(outcomes, ['ok', 'ok', 'ok', 'failed']);
  assert.ok((await get()).equals(data), 'still serving afterwards');
});
