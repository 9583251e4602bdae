import * as http from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { ConnectionError, DaemonError, StreamError } from './errors.js';
import { fetchBody, sendBody, type BodySink, type RawHead } from './raw-body.js';
import { compareVersions } from '../common/version.js';

/** The newest Engine API version this client speaks; older daemons are met at their version. */
export const CLIENT_API_VERSION = '1.45';
/** Assumed when a daemon's `/_ping` carries no `Api-Version` header (as Docker's client does). */
export const FALLBACK_API_VERSION = '1.24';
export const DEFAULT_HOST = 'unix:///run/berth.sock';

export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** A JSON-serialisable body, or raw bytes/stream (then set `contentType`). */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A hijacked connection: the raw socket after `101 Switching Protocols`. */
export interface Hijacked {
  socket: Socket;
  /** Bytes that arrived together with the 101 answer, before any socket read. */
  head: Buffer;
}

/**
 * A client of the Docker Engine API over a unix socket or TCP, the way the
 * docker CLI is one. The first call negotiates the API version with `/_ping`
 * and prefixes every path with `/vX.Y`. Error answers become `DaemonError`
 * carrying the daemon's message; an unreachable daemon becomes `ConnectionError`.
 *
 *   const c = new EngineClient('unix:///run/berth.sock');
 *   const list = await c.json<any[]>('GET', '/containers/json', { query: { all: 1 } });
 *   const { socket } = await c.hijack('POST', `/containers/${id}/attach`, { query: { stream: 1, stdout: 1 } });
 */
export class EngineClient {
  readonly host: string;
  private readonly target: { socketPath: string } | { host: string; port: number };
  private version: string | undefined;
  private negotiating: Promise<string> | undefined;
  private readonly agent: http.Agent;

  constructor(host: string = DEFAULT_HOST, opts: { version?: string } = {}) {
    this.host = host;
    this.target = parseHost(host);
    this.version = opts.version;
    this.agent = new http.Agent({ keepAlive: true });
  }

  /** `-H`, then `BERTH_HOST`, then `DOCKER_HOST`, then the default socket. */
  static hostFromEnv(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
    return flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
  }

  /** The API version in use, negotiating it on first call. */
  async apiVersion(): Promise<string> {
    if (this.version) return this.version;
    this.negotiating ??= this.ping().then((p) => {
      const server = p.apiVersion ?? FALLBACK_API_VERSION;
      this.version = compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
      return this.version;
    });
    return this.negotiating;
  }

  /** `GET /_ping` (unversioned): the daemon's headers say its API version and OS. */
  async ping(): Promise<{ apiVersion?: string; osType?: string; builderVersion?: string }> {
    const res = await this.send('GET', '/_ping', {});
    await drain(res);
    return {
      apiVersion: header(res, 'api-version'),
      osType: header(res, 'ostype'),
      builderVersion: header(res, 'builder-version'),
    };
  }

  /** Sends a request and resolves with the response once its headers arrive; error statuses throw. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    const v = await this.apiVersion();
    const res = await this.send(method, `/v${v}${path}`, opts);
    if ((res.statusCode ?? 500) >= 400) throw await errorFrom(res);
    return res;
  }

  /**
   * A bodiless request whose (large) answer goes to `onData` chunk by chunk
   * from one reused buffer, without Node's HTTP client (see raw-body.ts):
   * `onData` must be done with each chunk when it returns.
   */
  async download(method: string, path: string, opts: { query?: Query }, onHead: (head: RawHead) => void, onData: (chunk: Buffer) => void): Promise<RawHead> {
    const v = await this.apiVersion();
    return fetchBody(this.target, method, `/v${v}${path}${queryString(opts.query)}`, {}, onHead, onData)
      .catch((err) => { throw this.wrapConnectError(err); });
  }

  /**
   * A request whose (large) body `writeBody` writes chunk by chunk on a raw
   * socket (see raw-body.ts sendBody), knowing when each chunk has left so
   * it can reuse its buffers; the answer is read as `download` reads it.
   */
  async upload(method: string, path: string, opts: { query?: Query; contentType: string },
    writeBody: (sink: BodySink) => Promise<unknown>, onData: (chunk: Buffer) => void = () => {}): Promise<RawHead> {
    const v = await this.apiVersion();
    return sendBody(this.target, method, `/v${v}${path}${queryString(opts.query)}`, { 'Content-Type': opts.contentType }, writeBody, () => {}, onData)
      .catch((err) => { throw this.wrapConnectError(err); });
  }

  /** A request whose answer is JSON (or empty: resolves `undefined`). */
  async json<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = (await readAll(res)).toString('utf8');
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /**
   * Reads a JSON-lines progress stream (pull, load, import, events), yielding each
   * message; an in-band `error`/`errorDetail` throws `StreamError`.
   */
  async *jsonLines<T = any>(res: Readable): AsyncGenerator<T> {
    let buf = '';
    for await (const chunk of res) {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) yield checkMessage<T>(JSON.parse(line));
      }
    }
    if (buf.trim()) yield checkMessage<T>(JSON.parse(buf));
  }

  /**
   * Upgrades the connection (`Connection: Upgrade`, `Upgrade: tcp`) as attach and
   * exec start do, resolving with the raw socket after `101 Switching Protocols`.
   * An error status rejects with the daemon's message; a daemon that does not
   * upgrade at all is reported rather than half-served.
   */
  async hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Hijacked> {
    const v = await this.apiVersion();
    const body = encodeBody(opts);
    return new Promise<Hijacked>((resolve, reject) => {
      const req = http.request({
        ...this.target,
        method,
        path: `/v${v}${path}${queryString(opts.query)}`,
        agent: false,
        ...noServerName,
        headers: { Host: 'berth', Connection: 'Upgrade', Upgrade: 'tcp', ...body.headers, ...opts.headers },
      });
      req.on('upgrade', (_res, socket, head) => {
        // Node leaves an upgraded socket flowing with no data listener: pause it
        // so output (and EOF) that arrives before the caller starts pumping —
        // a container that ran `true` before start returned — is kept, not lost.
        socket.pause();
        socket.setNoDelay?.(true);
        resolve({ socket: socket as Socket, head });
      });
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) >= 400) return void errorFrom(res).then(reject, reject);
        res.destroy();
        reject(new Error(`the daemon answered ${res.statusCode} instead of upgrading the connection for ${method} ${path}`));
      });
      req.on('error', (err) => reject(this.wrapConnectError(err)));
      if (body.data !== undefined) req.end(body.data);
      else req.end();
    });
  }

  /** Releases pooled connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const body = encodeBody(opts);
    return new Promise((resolve, reject) => {
      const req = http.request({
        ...this.target,
        agent: this.agent,
        ...noServerName,
        method,
        path: `${path}${queryString(opts.query)}`,
        headers: { Host: 'berth', ...body.headers, ...opts.headers },
      }, resolve);
      req.on('error', (err) => reject(this.wrapConnectError(err)));
      if (body.stream) {
        body.stream.on('error', (e) => req.destroy(e));
        body.stream.pipe(req);
      } else req.end(body.data);
    });
  }

  private wrapConnectError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES' || code === 'EHOSTUNREACH') return new ConnectionError(this.host, err);
    return err;
  }
}

/**
 * An empty TLS server name for every request. Node's http agent otherwise
 * works one out from the Host header for each request (a TLS concern; these
 * are plain HTTP), and its first `net.isIPv6` call compiles a regex that cost
 * 9-11 ms of every CLI command here.
 */
const noServerName = { servername: '' } as http.RequestOptions;

function parseHost(host: string): { socketPath: string } | { host: string; port: number } {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  const m = /^(?:tcp|http):\/\/\[?([^\]/]*?)\]?(?::(\d+))?\/?$/.exec(host);
  if (m) return { host: m[1] || '127.0.0.1', port: Number(m[2] ?? 2375) };
  throw new Error(`unable to parse docker host \`${host}\``);
}

function encodeBody(opts: RequestOptions): { data?: Buffer; stream?: Readable; headers: Record<string, string> } {
  const b = opts.body;
  if (b === undefined) return { headers: {} };
  // Any readable stream: tar-stream's packs are streamx streams, not node's Readable.
  if (b instanceof Readable || typeof (b as { pipe?: unknown }).pipe === 'function') return { stream: b as Readable, headers: { 'Content-Type': opts.contentType ?? 'application/x-tar', 'Transfer-Encoding': 'chunked' } };
  if (Buffer.isBuffer(b)) return { data: b, headers: { 'Content-Type': opts.contentType ?? 'application/octet-stream', 'Content-Length': String(b.length) } };
  const data = Buffer.from(JSON.stringify(b));
  return { data, headers: { 'Content-Type': 'application/json', 'Content-Length': String(data.length) } };
}

/** Query strings as Docker reads them: booleans as 1/0, arrays as repeated keys, empty values dropped. */
export function queryString(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else if (typeof v === 'boolean') p.append(k, v ? '1' : '0');
    else p.append(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(parts);
}

async function drain(r: Readable): Promise<void> {
  for await (const _ of r) { /* discard */ }
}

async function errorFrom(res: http.IncomingMessage): Promise<DaemonError> {
  const text = (await readAll(res)).toString('utf8');
  let message = text.trim();
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch { /* plain-text error body */ }
  if (!message) message = `${res.statusCode} ${res.statusMessage ?? ''}`.trim();
  return new DaemonError(res.statusCode ?? 500, message);
}

function checkMessage<T>(m: any): T {
  if (m && (m.error || m.errorDetail)) throw new StreamError(m.errorDetail?.message ?? m.error, m.errorDetail?.code);
  return m as T;
}

export { compareVersions };
