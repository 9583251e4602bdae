import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DaemonError } from './errors.js';
import { fetchBody, type RawHead } from './raw-body.js';

/** A server on a temporary unix socket whose handler answers with raw bytes. */
async function withServer(handler: (socket: net.Socket, request: string) => void, fn: (sock: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-rawbody-'));
  const sock = path.join(dir, 's');
  const server = net.createServer((s) => {
    let req = '';
    s.on('data', (d) => {
      req += d.toString();
      if (req.includes('\r\n\r\n')) handler(s, req);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(sock, r));
  try { await fn(sock); } finally {
    await new Promise((r) => server.close(r));
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Writes `parts` one by one with a pause between, so the client sees them split. */
function dribble(s: net.Socket, parts: (string | Buffer)[], end = true): void {
  let i = 0;
  const next = () => {
    if (i === parts.length) { if (end) s.end(); return; }
    s.write(parts[i++]);
    setTimeout(next, 2);
  };
  next();
}

async function collect(sock: string): Promise<{ head: RawHead; body: Buffer }> {
  const chunks: Buffer[] = [];
  let seen: RawHead | undefined;
  const head = await fetchBody({ socketPath: sock }, 'GET', '/x', {}, (h) => { seen = h; }, (c) => chunks.push(Buffer.from(c)));
  assert.equal(seen, head);
  return { head, body: Buffer.concat(chunks) };
}

test('a chunked body split anywhere, with extensions and trailers, arrives whole', () => withServer((s) => {
  const payload = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Docker-Container-Path-Stat: abc\r\n\r\n' +
    '5;ext=1\r\nhello\r\n' + '1\r\n \r\n' + 'b\r\nworld again\r\n' + '0\r\nTrailer: x\r\n\r\n';
  dribble(s, payload.match(/[\s\S]{1,3}/g)!, false); // the server keeps the connection open: the terminator ends it
}, async (sock) => {
  const { head, body } = await collect(sock);
  assert.equal(head.status, 200);
  assert.equal(head.headers['x-docker-container-path-stat'], 'abc');
  assert.equal(body.toString(), 'hello world again');
}));

test('Content-Length and close-delimited bodies', async () => {
  await withServer((s) => dribble(s, ['HTTP/1.1 200 OK\r\nContent-Length: 6\r\n', '\r\nabc', 'def'], false), async (sock) => {
    assert.equal((await collect(sock)).body.toString(), 'abcdef');
  });
  await withServer((s) => dribble(s, ['HTTP/1.1 200 OK\r\n\r\nuntil', ' close']), async (sock) => {
    assert.equal((await collect(sock)).body.toString(), 'until close');
  });
});

test('an error status rejects with the daemon\'s message; a cut body and a broken chunk are errors', async () => {
  await withServer((s) => s.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 35\r\n\r\n{"message":"No such container: x"}\n'), async (sock) => {
    await assert.rejects(collect(sock), (e: unknown) => e instanceof DaemonError && e.status === 404 && e.message === 'No such container: x');
  });
  await withServer((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'), async (sock) => {
    await assert.rejects(collect(sock), /in the middle of the answer/);
  });
  await withServer((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), async (sock) => {
    await assert.rejects(collect(sock), /malformed chunked answer/);
  });
});

test('an onData that throws aborts the download with its error', () => withServer((s) => dribble(s, ['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab', 'cd'], false), async (sock) => {
  await assert.rejects(fetchBody({ socketPath: sock }, 'GET', '/x', {}, () => undefined, () => { throw new Error('disk full'); }), /disk full/);
}));

test('against Node\'s own HTTP server (chunked, big body)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-rawbody-'));
  const sock = path.join(dir, 's');
  const block = Buffer.alloc(3 << 20, 9);
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    res.write(block.subarray(0, 1234));
    res.end(block.subarray(1234));
  });
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const { body } = await collect(sock);
    assert.equal(body.length, block.length);
    assert.ok(body.equals(block));
  } finally {
    await new Promise((r) => server.close(r));
    await fs.rm(dir, { recursive: true, force: true });
  }
});
