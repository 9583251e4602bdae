import * as net from 'node:net';
import { BodyDecoder, parseHead, type RawHead } from '../common/http-framing.js';
import { DaemonError } from './errors.js';

export type { RawHead };

/** Where the daemon listens, as EngineClient keeps it. */
export type RawTarget = { socketPath: string } | { host: string; port: number };

const READ_BUFFER = 1 << 20;

/**
 * Sends a bodiless request and hands the response body to `onData` as it
 * arrives, read from the socket into one reused 1 MiB buffer: `onData` must
 * be done with a chunk when it returns. Node's HTTP client reads into a fresh
 * 64 KiB buffer per read and emits each through streams; for 100 MiB that was
 * 0.43 s of CPU against 0.13 s here (page faults of fresh memory dominate on
 * these VMs). For the big downloads of a CLI command (`cp` out of a
 * container), where the receiving side would otherwise slow the daemon down.
 *
 * `onHead` runs once the head is in, before any body byte; what it or
 * `onData` throws aborts the request and rejects. An error status (>= 400)
 * rejects with the daemon's message as a DaemonError, as EngineClient does.
 *
 *   await fetchBody({ socketPath: '/run/berth.sock' }, 'GET', '/v1.45/containers/c/archive?path=%2Fetc', {},
 *     (head) => console.log(head.headers['x-docker-container-path-stat']),
 *     (chunk) => extractor.push(chunk));
 */
export function fetchBody(target: RawTarget, method: string, path: string, headers: Record<string, string>,
  onHead: (head: RawHead) => void, onData: (chunk: Buffer) => void): Promise<RawHead> {
  return exchange(target, method, path, headers, onHead, onData);
}

/**
 * Where `sendBody`'s writer puts the request body. Each write goes out as one
 * HTTP chunk; `done` runs once the socket has handed the bytes to the kernel,
 * so the writer may reuse the buffer then (it is not copied). A socket
 * (`node:stream` Writable) has the same shape, so a writer can serve both.
 */
export interface BodySink {
  write(chunk: Buffer, done: (err?: Error | null) => void): boolean;
  /** True while the socket holds more than it wants: wait for a `done` before writing more. */
  readonly writableNeedDrain: boolean;
}

/**
 * Sends a request whose body `writeBody` writes into a BodySink (chunked, on
 * a raw socket), then reads the answer as fetchBody does. For the large
 * uploads of a CLI command (`cp` into a container): Node's HTTP client took
 * ~185 ms of CPU to send 100 MiB against ~100 ms here, and the CLI shares the
 * machine's cores with the daemon it is sending to.
 *
 * An answer that comes before the body is sent (the daemon refusing the
 * request) wins over the write error its closed connection causes; an error
 * from `writeBody` itself aborts the request and rejects with that error.
 *
 *   await sendBody(target, 'PUT', '/v1.45/containers/c/archive?path=%2Ftmp', { 'Content-Type': 'application/x-tar' },
 *     (sink) => writeHostPath('/src/big', sink, { reuseBuffers: true }), () => {}, () => {});
 */
export function sendBody(target: RawTarget, method: string, path: string, headers: Record<string, string>,
  writeBody: (sink: BodySink) => Promise<unknown>, onHead: (head: RawHead) => void, onData: (chunk: Buffer) => void): Promise<RawHead> {
  return exchange(target, method, path, { ...headers, 'Transfer-Encoding': 'chunked' }, onHead, onData, writeBody);
}

function exchange(target: RawTarget, method: string, path: string, headers: Record<string, string>,
  onHead: (head: RawHead) => void, onData: (chunk: Buffer) => void, writeBody?: (sink: BodySink) => Promise<unknown>): Promise<RawHead> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafeSlow(READ_BUFFER);
    let head: RawHead | undefined;
    let headBytes: Buffer[] = [];
    let decoder: BodyDecoder | undefined;
    let errorBody: Buffer[] | undefined;
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else if (errorBody) reject(daemonError(head!, Buffer.concat(errorBody)));
      else resolve(head!);
    };
    const body = (chunk: Buffer) => {
      if (errorBody) errorBody.push(Buffer.from(chunk));
      else onData(chunk);
    };
    const socket = net.connect({
      ...('socketPath' in target ? { path: target.socketPath } : { host: target.host, port: target.port }),
      onread: {
        buffer,
        callback: (n: number, buf: Uint8Array) => {
          if (settled) return false;
          try {
            let chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
            if (!head) {
              headBytes.push(Buffer.from(chunk));
              const all = Buffer.concat(headBytes);
              const end = all.indexOf('\r\n\r\n');
              if (end < 0) {
                if (all.length > 64 << 10) throw new Error('the daemon sent a response head over 64 KiB');
                return true;
              }
              head = parseHead(all.subarray(0, end).toString('latin1'), 'the daemon');
              headBytes = [];
              decoder = new BodyDecoder(head, 'the daemon', method);
              if (head.status >= 400) errorBody = [];
              else onHead(head);
              chunk = all.subarray(end + 4);
            }
            if (decoder!.feed(chunk, body)) finish();
          } catch (e) {
            finish(e);
            return false;
          }
          return true;
        },
      },
    } as net.NetConnectOpts);
    socket.on('connect', () => {
      // An upload stays keep-alive: a daemon refusing it early (no such container) then
      // answers and reads the rest of the body, where after `Connection: close` it would
      // close the socket under our writes, often before we had read its answer.
      const connection = writeBody ? [] : ['Connection: close'];
      const lines = [`${method} ${path} HTTP/1.1`, 'Host: berth', ...connection, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (!writeBody) return;
      writeBody(chunkedSink(socket)).then(() => {
        if (!settled) socket.write('0\r\n\r\n');
      }, (err) => {
        // A write that failed because the daemon answered and closed: let the answer be read first.
        if (socket.destroyed || isConnectionLoss(err)) setImmediate(() => finish(head ? undefined : err));
        else finish(err);
      });
    });
    socket.on('end', () => {
      if (!head) finish(new Error('the daemon closed the connection before answering'));
      else if (decoder!.untilClose) finish();
      else finish(new Error('the daemon closed the connection in the middle of the answer'));
    });
    socket.on('error', (e) => {
      // Writing into a connection the daemon closed after answering: the answer, if read, decides.
      if (isConnectionLoss(e)) setImmediate(() => finish(head ? undefined : e));
      else finish(e);
    });
  });
}

/** Frames each write as one HTTP chunk: size line, data, CRLF, in a single writev. */
function chunkedSink(socket: net.Socket): BodySink {
  return {
    write(chunk, done) {
      if (chunk.length === 0) { process.nextTick(done); return true; }
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      const ok = socket.write('\r\n', done);
      socket.uncork();
      return ok;
    },
    get writableNeedDrain() { return socket.writableNeedDrain; },
  };
}

function isConnectionLoss(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

function daemonError(head: RawHead, body: Buffer): DaemonError {
  const text = body.toString('utf8');
  let message = text.trim();
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch { /* plain-text error body */ }
  return new DaemonError(head.status, message || String(head.status));
}
