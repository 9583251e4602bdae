/**
 * One HTTP/1.1 request over a plain TCP connection whose response body is
 * read from the socket into one reused 1 MiB buffer and handed on as views
 * into it, for blob downloads from plain-http registries (the loopback and
 * `--insecure-registry` ones). Node's HTTP client reads every 64 KiB into
 * freshly allocated memory and emits it through streams; on these VMs the
 * page faults of that memory made the receive path the daemon's largest
 * cost in a pull (socketOnData ~190 ms of a 10-layer pull's main thread,
 * ~1 s under load, plus the GC of the chunks). No TLS, no keep-alive (a
 * connection per blob is cheap next to a blob), no redirects: Transport
 * decides what comes here and follows Location itself.
 *
 *   const res = await rawRequest(new URL('http://127.0.0.1:5000/v2/app/blobs/sha256:…'), 'GET', { Range: 'bytes=100-' });
 *   if (res.status !== 206) res.close();
 *   else await res.pump((chunk) => writer.write(chunk));   // chunk is valid only during the call
 */
import * as net from 'node:net';
import { BodyDecoder, headEnd, parseHead, type RawHead } from '../../common/http-framing.js';
import type { ChunkSink } from '../content/store.js';

export interface RawResponse extends RawHead {
  /**
   * Pushes the body to `sink` as it arrives (see ChunkSource: a chunk is a
   * view into the reused read buffer, valid only during the call; a returned
   * promise holds further reads). Resolves at the end of the body; rejects
   * when the connection fails, the body is cut short (code ECONNRESET, so it
   * is retried and resumed), the framing is wrong, or `sink` fails.
   */
  pump(sink: ChunkSink): Promise<void>;
  /** Drops the connection without reading the rest of the body. */
  close(): void;
}

const readBufferSize = 1 << 20;
const maxHead = 64 << 10;
/** Read buffers of finished requests, for the next: a fresh one costs 256 page faults. */
const spare: Buffer[] = [];
const maxSpare = 4;

/** A connection cut before the body's end: retryable, as a reset is. */
function cutShort(): Error {
  return Object.assign(new Error('the registry closed the connection before the end of the body'), { code: 'ECONNRESET' });
}

export function rawRequest(url: URL, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<RawResponse> {
  if (url.protocol !== 'http:') throw new Error(`rawRequest speaks plain http only, not ${url.protocol}`);
  return new Promise<RawResponse>((resolveHead, rejectHead) => {
    const buffer = spare.pop() ?? Buffer.allocUnsafeSlow(readBufferSize);
    let headBytes: Buffer | undefined = Buffer.alloc(0);
    let decoder: BodyDecoder | undefined;
    /** Body bytes that arrived before pump was called (copies). */
    let early: Buffer[] = [];
    let sink: ChunkSink | undefined;
    let finish: ((err?: unknown) => void) | undefined;
    let closed = false;
    let bodyComplete = false;
    let outcome: { err?: unknown } | undefined;

    const close = (result: { err?: unknown }) => {
      if (closed) return;
      closed = true;
      outcome = result;
      socket.destroy();
      // No read can land in the buffer once the socket is destroyed.
      if (spare.length < maxSpare) spare.push(buffer);
      if (!decoder) rejectHead(result.err ?? new Error('the registry closed the connection before answering'));
      finish?.(result.err);
    };
    /** Feeds body bytes to the sink; returns what the sink asks to wait for. */
    const deliver = (chunk: Buffer): Promise<unknown> | undefined => {
      const waits: Promise<unknown>[] = [];
      const complete = decoder!.feed(chunk, (payload) => {
        const p = sink!(payload);
        if (p) waits.push(p);
      });
      if (complete) {
        // Nothing more to read: what the socket says from now on (its end) is no failure.
        bodyComplete = true;
        socket.destroy();
        const all = waits.length ? Promise.all(waits) : undefined;
        if (all) all.then(() => close({}), (err) => close({ err }));
        else close({});
        return undefined;
      }
      return waits.length ? Promise.all(waits) : undefined;
    };
    const hold = (p: Promise<unknown>) => {
      socket.pause();
      p.then(() => { if (!closed) socket.resume(); }, (err) => close({ err }));
    };

    const socket = net.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 80),
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          if (closed) return false;
          try {
            let chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
            if (!decoder) {
              const all = Buffer.concat([headBytes!, chunk]);
              const end = headEnd(all);
              if (end < 0) {
                if (all.length > maxHead) throw new Error('the registry sent a response head over 64 KiB');
                headBytes = all;
                return true;
              }
              headBytes = undefined;
              const head = parseHead(all.subarray(0, end).toString('latin1'), 'the registry');
              decoder = new BodyDecoder(head, 'the registry', method);
              resolveHead({ ...head, pump, close: () => close({ err: new Error('closed') }) });
              chunk = all.subarray(end);
              if (method === 'HEAD' || decoder.remaining === 0) { close({}); return false; }
            }
            if (!chunk.length) return true;
            if (!sink) {
              // Nobody reads yet: keep a copy and wait for pump.
              early.push(Buffer.from(chunk));
              socket.pause();
              return false;
            }
            const wait = deliver(chunk);
            if (wait) { hold(wait); return false; }
            return true;
          } catch (err) {
            close({ err });
            return false;
          }
        },
      },
    } as net.NetConnectOpts);
    socket.setNoDelay(true);
    socket.on('connect', () => {
      const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('end', () => {
      if (bodyComplete) return;
      if (decoder?.untilClose) close({});
      else close({ err: decoder ? cutShort() : new Error('the registry closed the connection before answering') });
    });
    socket.on('error', (err) => { if (!bodyComplete) close({ err }); });

    function pump(s: ChunkSink): Promise<void> {
      if (sink) return Promise.reject(new Error('the body is already being read'));
      return new Promise<void>((resolve, reject) => {
        finish = (err) => (err ? reject(err) : resolve());
        sink = s;
        if (outcome && early.length === 0) { finish(outcome.err); return; }
        // What arrived before pump, then the socket again.
        (async () => {
          for (const c of early) {
            const wait = deliver(c);
            if (wait) await wait;
          }
          early = [];
          if (!closed) socket.resume();
          else if (outcome) finish!(outcome.err);
        })().catch((err) => close({ err }));
      });
    }
  });
}

/** The body of a (small, error) response, at most `limit` bytes kept. */
export async function rawText(res: RawResponse, limit = 64 << 10): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  await res.pump((c) => {
    if (n < limit) { parts.push(Buffer.from(c.subarray(0, limit - n))); n += c.length; }
  }).catch(() => undefined);
  return Buffer.concat(parts);
}
