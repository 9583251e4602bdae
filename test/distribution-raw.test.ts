// Blob downloads read off the socket into a reused buffer (RegistryClient.blobChunks
// over raw-get.ts): exact bytes whatever the framing, resume after a cut,
// redirects, errors, and no bytes kept by a content store that refuses them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RegistryClient } from '../src/engine/distribution/client.js';
import { ContentStore } from '../src/engine/content/store.js';
import { startProxy } from './helpers/proxy.js';
import { blob, type Blob, startRegistry, type TestRegistry } from './helpers/registry.js';

const fast = { attempts: 3, baseDelayMs: 5 };

/** Everything a source pushes, copied (its chunks are views into a reused buffer). */
async function collect(source: ReturnType<RegistryClient['blobChunks']>): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Buffer[] = [];
  await source((c) => { parts.push(Buffer.from(c)); });
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

/** A raw TCP server that answers every request with `answer(socket)`. */
async function rawServer(answer: (s: Socket) => void): Promise<{ host: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let req = '';
    s.on('data', (d) => {
      if (req === '' && d[0] === 0x16) { s.destroy(); return; } // a TLS hello: no https here
      req += d.toString('latin1');
      if (!req.includes('\r\n\r\n')) return;
      // The /v2/ probe is answered properly, so the blob GET meets the garbage.
      if (req.startsWith('GET /v2/ ')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      else answer(s);
      req = '';
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

describe('blob downloads read into a reused buffer', () => {
  let reg: TestRegistry;
  const cleanups: (() => Promise<unknown>)[] = [];
  let big: Blob;
  const client = () => {
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', retry: fast });
    cleanups.push(() => c.close());
    return c;
  };
  before(async () => {
    reg = await startRegistry();
    // Over 1 MiB: more than one read buffer's worth, so the buffer is reused.
    big = blob(randomBytes(3 << 20));
    await client().pushBlob({ domain: reg.host, path: 'raw/big' }, big, () => Readable.from([big.bytes]));
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await reg.stop();
  });

  it('delivers exactly the blob, Content-Length or chunked', async () => {
    const direct = await collect(client().blobChunks({ domain: reg.host, path: 'raw/big' }, big));
    assert.ok(direct.bytes.equals(big.bytes));
    assert.ok(direct.chunks > 3, 'delivered in several reads');
    // The same bytes re-sent chunked, in odd pieces.
    const chunked = await startProxy(reg.url, (req, res) => {
      if (!req.url!.includes('/blobs/')) return false;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      let off = 0;
      const step = () => {
        if (off >= big.size) { res.end(); return; }
        const n = 1 + ((off * 7919) % 300_000);
        res.write(big.bytes.subarray(off, off + n), step);
        off += n;
      };
      step();
      return true;
    });
    cleanups.push(() => chunked.stop());
    assert.ok((await collect(client().blobChunks({ domain: chunked.host, path: 'raw/big' }, big))).bytes.equals(big.bytes));
  });

  it('resumes a transfer cut mid-body with Range, whether or not the server honours it', async () => {
    for (const honourRange of [true, false]) {
      const ranges: (string | undefined)[] = [];
      const proxy = await startProxy(reg.url, (req, res) => {
        if (!req.url!.includes('/blobs/') || req.method !== 'GET') return false;
        ranges.push(req.headers.range);
        if (ranges.length === 1) {
          res.writeHead(200, { 'Content-Length': big.size, 'Content-Type': 'application/octet-stream' });
          res.write(big.bytes.subarray(0, 1_500_000), () => setTimeout(() => req.socket.destroy(), 20));
          return true;
        }
        if (!honourRange) delete req.headers.range;
        return false;
      });
      cleanups.push(() => proxy.stop());
      const got = await collect(client().blobChunks({ domain: proxy.host, path: 'raw/big' }, big));
      assert.ok(got.bytes.equals(big.bytes), `honourRange=${honourRange}`);
      assert.equal(ranges.length, 2);
      assert.equal(ranges[0], undefined);
      assert.ok(Number(/^bytes=(\d+)-$/.exec(ranges[1]!)![1]) > 0, 'resumed past the start');
    }
  });

  it('fails once the retries of a body that keeps being cut run out', async () => {
    let gets = 0;
    const proxy = await startProxy(reg.url, (req, res) => {
      if (!req.url!.includes('/blobs/')) return false;
      gets++;
      res.writeHead(200, { 'Content-Length': big.size });
      res.write(big.bytes.subarray(0, 1000), () => setTimeout(() => req.socket.destroy(), 10));
      return true;
    });
    cleanups.push(() => proxy.stop());
    await assert.rejects(collect(client().blobChunks({ domain: proxy.host, path: 'raw/big' }, big)), /closed the connection before the end of the body/);
    assert.equal(gets, fast.attempts);
  });

  it('follows a redirect to storage elsewhere, without the credentials', async () => {
    const seen: (string | undefined)[] = [];
    const storage = await startProxy(reg.url, (req) => { seen.push(req.headers.authorization); return false; });
    cleanups.push(() => storage.stop());
    const front = await startProxy(reg.url, (req, res) => {
      if (!req.url!.includes('/blobs/')) return false;
      res.writeHead(307, { Location: `${storage.url}${req.url}` }).end();
      return true;
    });
    cleanups.push(() => front.stop());
    const c = new RegistryClient({ certsDir: '/nonexistent', dockerConfigDir: '/nonexistent', retry: fast, credentials: () => ({ username: 'u', password: 'p' }) });
    cleanups.push(() => c.close());
    assert.ok((await collect(c.blobChunks({ domain: front.host, path: 'raw/big' }, big))).bytes.equals(big.bytes));
    assert.deepEqual(seen, [undefined]);
  });

  it('reports a missing blob as NotFound and malformed framing as an error', async () => {
    await assert.rejects(collect(client().blobChunks({ domain: reg.host, path: 'raw/big' }, blob('absent'))), { name: 'NotFound' });
    for (const [answer, why] of [
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', /malformed chunked answer/],
      ['HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nabc', /malformed Content-Length/],
      ['SSH-2.0-OpenSSH\r\n\r\n', /not an HTTP answer/],
    ] as const) {
      const bad = await rawServer((s) => s.end(answer));
      cleanups.push(() => bad.stop());
      await assert.rejects(collect(client().blobChunks({ domain: bad.host, path: 'raw/big' }, big)), why);
    }
  });

  it('a sink that fails stops the transfer without a retry; a store refuses wrong bytes and keeps nothing', async () => {
    let gets = 0;
    const proxy = await startProxy(reg.url, (req) => { if (req.url!.includes('/blobs/')) gets++; return false; });
    cleanups.push(() => proxy.stop());
    const c = client();
    await assert.rejects(c.blobChunks({ domain: proxy.host, path: 'raw/big' }, big)(() => { throw new Error('disk full'); }), /disk full/);
    assert.equal(gets, 1);
    const dir = await mkdtemp(path.join(tmpdir(), 'bt-raw-cs-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const cs = await ContentStore.open(dir);
    const wrong = { digest: blob('something else').digest, size: big.size };
    await assert.rejects(cs.writeFrom(c.blobChunks({ domain: reg.host, path: 'raw/big' }, big), wrong), /digest mismatch/);
    await assert.rejects(cs.writeFrom(c.blobChunks({ domain: reg.host, path: 'raw/big' }, big), { ...big, size: big.size - 1 }), /larger than the expected/);
    const stored: string[] = [];
    for await (const b of cs.walk()) stored.push(b.digest);
    assert.deepEqual(stored, []);
    const ok = await cs.writeFrom(c.blobChunks({ domain: reg.host, path: 'raw/big' }, big), big);
    assert.equal(ok.digest, big.digest);
  });
});
