import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DaemonError } from './errors.js';
import { fetchBody, sendBody, type BodySink, type RawHead } from './raw-body.js';

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

/** A Node HTTP server (as berthd is) on a temporary unix socket. */
async function withHttpServer(handler: http.RequestListener, fn: (sock: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-rawbody-'));
  const sock = path.join(dir, 's');
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(sock, r));
  try { await fn(sock); } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Writes `total` bytes of a counting pattern through one reused buffer, waiting for each chunk to leave before refilling it. */
async function writePattern(sink: BodySink, total: number, chunk = 300_001): Promise<void> {
  const buf = Buffer.alloc(chunk);
  for (let off = 0; off < total; off += chunk) {
    const n = Math.min(chunk, total - off);
    for (let i = 0; i < n; i++) buf[i] = (off + i) % 251;
    await new Promise<void>((resolve, reject) => sink.write(buf.subarray(0, n), (err) => (err ? reject(err) : resolve())));
  }
}

test('sendBody: a large body written through one reused buffer arrives byte for byte, and the answer is read', () => {
  const total = 5 * 1024 * 1024 + 17;
  let received: Buffer | undefined;
  let headers: http.IncomingHttpHeaders = {};
  return withHttpServer(async (req, res) => {
    headers = req.headers;
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    received = Buffer.concat(parts);
    res.writeHead(200, { 'Content-Length': '2' });
    res.end('ok');
  }, async (sock) => {
    const body: Buffer[] = [];
    const head = await sendBody({ socketPath: sock }, 'PUT', '/up?x=1', { 'Content-Type': 'application/x-tar' },
      (sink) => writePattern(sink, total), () => undefined, (c) => body.push(Buffer.from(c)));
    assert.equal(head.status, 200);
    assert.equal(Buffer.concat(body).toString(), 'ok');
    assert.equal(headers['transfer-encoding'], 'chunked');
    assert.equal(headers['content-type'], 'application/x-tar');
    assert.equal(received!.length, total);
    for (let i = 0; i < total; i += 4099) assert.equal(received![i], i % 251, `byte ${i}`);
  });
});

test('sendBody: a daemon refusing before reading the body is reported in its words, not as a broken pipe', async () => {
  // A server in its own process (as berthd is), answering at once and leaving the body
  // unread, as berthd does for a missing container: in one process the race never shows.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bt-rawbody-'));
  const sock = path.join(dir, 's');
  const server = spawn(process.execPath, ['-e', `
    const http = require('node:http');
    http.createServer((req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'No such container: nosuch' }));
    }).listen(process.argv[1], () => process.stdout.write('up'));`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve, reject) => { server.stdout!.once('data', resolve); server.once('exit', reject); });
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        sendBody({ socketPath: sock }, 'PUT', '/up', {}, (sink) => writePattern(sink, 64 << 20, 1 << 20), () => undefined, () => undefined),
        (err: unknown) => err instanceof DaemonError && err.status === 404 && err.message.includes('No such container: nosuch'));
    }
  } finally {
    server.kill();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('sendBody: an error from the writer aborts the request with that error', () => withHttpServer(async (req, res) => {
  req.resume();
  req.on('end', () => res.end());
}, async (sock) => {
  await assert.rejects(
    sendBody({ socketPath: sock }, 'PUT', '/up', {}, async (sink) => {
      await writePattern(sink, 1 << 20);
      throw new Error('/src/file: file shrank while being copied');
    }, () => undefined, () => undefined),
    /file shrank/);
}));
